// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * faithd's in-kernel relay (faithd --datapath sockmap).
 *
 *   socks    every socket of every relayed pair, keyed by socket cookie:
 *            the redirect targets.  No program is attached to it.
 *   active   the sockets whose incoming bytes are relayed now; the verdict
 *            program is attached here.  faithd takes a socket out of it to
 *            stop reading from it (flow control: its receive queue then
 *            fills and TCP closes the sender's window) and puts it back.
 *   dirs     per socket (its cookie): the peer's cookie and the bytes
 *            redirected to it so far.
 *
 * faithd_verdict runs for every skb a socket in `active` receives and
 * redirects it to the send side of the peer (egress): the kernel's psock
 * backlog writes it into the peer's send queue; userspace never sees it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "../src/faithd/sockmap_maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, FAITHD_SM_MAX_SOCKS);
	__type(key, __u64);
	__type(value, __u64);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, FAITHD_SM_MAX_SOCKS);
	__type(key, __u64);
	__type(value, __u64);
} active SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FAITHD_SM_MAX_SOCKS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct faithd_sm_dir);
} dirs SEC(".maps");

SEC("sk_skb/stream_verdict")
int faithd_verdict(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	struct faithd_sm_dir *d = bpf_map_lookup_elem(&dirs, &cookie);

	/* Not (or no longer) a relayed socket: keep the bytes on it. */
	if (!d)
		return SK_PASS;
	/* A FIN without data comes as an empty skb; redirected, the psock
	 * backlog would take its 0-byte send for a broken pipe (EPIPE). */
	if (!skb->len)
		return SK_DROP;
	/* One socket's skbs are handled one at a time (under its lock). */
	d->sent += skb->len;
	return bpf_sk_redirect_hash(skb, &socks, &d->peer, 0);
}

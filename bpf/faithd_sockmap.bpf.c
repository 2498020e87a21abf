// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * faithd's in-kernel relay (faithd --datapath sockmap).
 *
 *   socks    every socket of every relayed pair, keyed by socket cookie:
 *            the verdict program is attached here, and it is the map of
 *            redirect targets.  A socket stays in it for its whole life.
 *   dirs     per socket (its cookie): the peer's cookie, the bytes
 *            redirected to the peer and the bytes passed (kept on the
 *            socket).  Written here only.
 *   ctl      per socket: faithd's word, hold and the passed bytes it has
 *            moved to the peer itself.  Written by faithd only.
 *
 * faithd_verdict runs for every skb a socket receives and redirects it to
 * the send side of the peer (egress): the kernel's psock backlog writes it
 * into the peer's send queue; userspace never sees it.
 *
 * Flow control without leaving the map: the kernel puts no limit on the
 * psock backlog, and taking a socket out of the map to stop reading it can
 * strand an skb the kernel is handling at that moment.  Instead faithd sets
 * `hold`, and the program passes the skb: it is queued on the socket itself
 * and charged to its receive buffer, so TCP closes the sender's window.
 * faithd later reads those bytes and writes them to the peer, after every
 * redirected byte reached the peer's send queue.  Bytes are redirected
 * again only once every passed byte was moved (passed == consumed), so the
 * two paths never overtake each other.  One socket's skbs are handled one
 * at a time (under its lock), so `passed` and `sent` need no atomics.
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
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FAITHD_SM_MAX_SOCKS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct faithd_sm_dir);
} dirs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FAITHD_SM_MAX_SOCKS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct faithd_sm_ctl);
} ctl SEC(".maps");

SEC("sk_skb/stream_verdict")
int faithd_verdict(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	struct faithd_sm_dir *d = bpf_map_lookup_elem(&dirs, &cookie);
	struct faithd_sm_ctl *c;

	/* Not (or no longer) a relayed socket: keep the bytes on it. */
	if (!d)
		return SK_PASS;
	/* A FIN without data comes as an empty skb; redirected, the psock
	 * backlog would take its 0-byte send for a broken pipe (EPIPE). */
	if (!skb->len)
		return SK_DROP;
	c = bpf_map_lookup_elem(&ctl, &cookie);
	if (!c || c->hold || c->consumed != d->passed) {
		d->passed += skb->len;
		return SK_PASS;
	}
	d->sent += skb->len;
	return bpf_sk_redirect_hash(skb, &socks, &d->peer, 0);
}

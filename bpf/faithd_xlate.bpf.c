// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * faithd's translating relay (faithd --datapath translate).
 *
 * Once faithd has relayed the first bytes of a connection, it drains the
 * two sockets and hands the connection to this program, attached at TC
 * ingress (tcx) on the router's interfaces: from then on a segment of the
 * IPv6 client is rewritten into the segment the relay's IPv4 socket would
 * have sent the server, and the other way round, and sent straight out of
 * the router.  Both TCP connections stay as they were at the hand-off,
 * frozen (TCP_REPAIR) in faithd; their peers go on talking to each other
 * through the rewriting:
 *
 *   addresses and ports   those of the other connection (IPv6 <-> IPv4)
 *   sequence, ACK, SACK   shifted by the difference of the two connections'
 *                         sequence numbers at the hand-off
 *   window                rescaled from the sender's scale to the scale the
 *                         receiver expects of the relay
 *   timestamps            TSval shifted into the clock the receiver expects,
 *                         TSecr back into its own
 *
 * An ICMPv6 Packet Too Big about a translated segment on its way to the
 * client becomes the ICMPv4 "fragmentation needed" the server would have
 * got about its own segment, and the other way round, so that path MTU
 * discovery goes on across the hand-off.
 *
 * Segments of other connections go on (TCX_NEXT) to faith's classifier.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/icmpv6.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "../src/faithd/xlate_maps.h"
#include "../src/faithd/xlate_seq.h"
#include "ipv6_ext.h"

#define AF_INET		2
#define AF_INET6	10
#define TCX_NEXT	(-1)
#define PACKET_HOST	0
#define TCP_HDR_MAX	60
#define IP_DF		0x4000
#define OUT_TTL		64
/* Options walked at most: 40 bytes of them, one at a time at worst. */
#define MAX_OPTS	40

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FAITHD_XL_MAX_FLOWS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct faithd_xl_key);
	__type(value, struct faithd_xl_flow);
} flows SEC(".maps");

/* Connections with entries in `flows`, kept by faithd: while there are
 * none, other traffic costs one load. */
__u32 nconns;

/* A TCP header, as a copy to edit: words for bpf_csum_diff(); 64 bytes,
 * so that an offset masked with 63 stays inside. */
struct tcp_copy {
	__u32 w[16];
};

/* The options of a TCP header: offsets in it, 0 when absent. */
struct tcp_opts {
	__u32 ts;		/* the timestamps option */
	__u32 sack;		/* the SACK option... */
	__u32 sack_len;		/* ...and its length */
	__u32 ws;		/* window scale (SYNs) */
	__u32 mss;		/* maximum segment size (SYNs) */
};

static __always_inline __u8 *byte_at(struct tcp_copy *t, __u32 off)
{
	/* Keep the mask: the compiler may know it is not needed, the
	 * verifier does not. */
	asm volatile("" : "+r"(off));
	return (__u8 *)t->w + (off & 63);
}

/* A 32-bit field at any offset (options are not aligned), host order. */
static __always_inline __u32 get32(struct tcp_copy *t, __u32 off)
{
	if (off > TCP_HDR_MAX - 4)
		return 0;
	return (__u32)*byte_at(t, off) << 24 | (__u32)*byte_at(t, off + 1) << 16 |
	       (__u32)*byte_at(t, off + 2) << 8 | *byte_at(t, off + 3);
}

static __always_inline void put32(struct tcp_copy *t, __u32 off, __u32 v)
{
	if (off > TCP_HDR_MAX - 4)
		return;
	*byte_at(t, off) = v >> 24;
	*byte_at(t, off + 1) = v >> 16;
	*byte_at(t, off + 2) = v >> 8;
	*byte_at(t, off + 3) = v;
}

static __always_inline void add32(struct tcp_copy *t, __u32 off, __u32 delta)
{
	put32(t, off, get32(t, off) + delta);
}

/*
 * A segment as it came in: its TCP header (hlen bytes at l4, l4_len bytes
 * of TCP in all), its addresses (addrs_len bytes: IPv6's 32, IPv4's 8) and
 * traffic class.  translate() is a function of its own (not inlined): its
 * stack is not the main program's, which leaves room for the SYN path's.
 */
struct segment {
	struct tcp_copy old;
	__u32 addrs[8];
	__u32 addrs_len;
	__u32 l4;
	__u32 hlen;
	__u32 l4_len;
	__u8 tos;
};

struct opt_walk {
	struct tcp_copy *t;
	__u32 hlen;
	__u32 off;
	struct tcp_opts *o;
};

/* One option (bpf_loop callback: the verifier checks it once, not once
 * per possible layout): 1 ends the walk. */
static long opt_step(__u32 i, struct opt_walk *w)
{
	__u32 off = w->off, kind, len;

	(void)i;
	if (off + 1 >= w->hlen || off >= TCP_HDR_MAX - 1)
		return 1;
	kind = *byte_at(w->t, off);
	if (kind == 0)
		return 1;
	if (kind == 1) {
		w->off = off + 1;
		return 0;
	}
	len = *byte_at(w->t, off + 1);
	if (len < 2 || off + len > w->hlen)
		return 1;
	if (kind == 8 && len == 10)
		w->o->ts = off;
	else if (kind == 5 && len >= 10)
		w->o->sack = off, w->o->sack_len = len;
	else if (kind == 3 && len == 3)
		w->o->ws = off;
	else if (kind == 2 && len == 4)
		w->o->mss = off;
	w->off = off + len;
	return 0;
}

static __always_inline void find_opts(struct tcp_copy *t, __u32 hlen, struct tcp_opts *o)
{
	struct opt_walk w = { .t = t, .hlen = hlen, .off = sizeof(struct tcphdr), .o = o };

	if (hlen > sizeof(struct tcphdr))
		bpf_loop(MAX_OPTS, opt_step, &w, 0);
}

/* The window field sent on: from the sender's scale to the one the
 * receiver expects of the relay. */
static __always_inline __u32 out_window(const struct faithd_xl_flow *f, const struct tcphdr *th)
{
	__u32 win = ((__u32)bpf_ntohs(th->window) << (f->win_in_shift & 15)) >>
		    (f->win_out_shift & 15);

	/* Rounded down, but an open window never announced as closed. */
	if (!win && th->window)
		win = 1;
	return win > 0xffff ? 0xffff : win;
}

/* Rewrite the copy of the header into the segment the receiver expects. */
static __always_inline void translate_tcp(struct tcp_copy *t, const struct faithd_xl_flow *f,
					  const struct tcp_opts *o)
{
	struct tcphdr *th = (struct tcphdr *)t->w;

	th->source = f->sport;
	th->dest = f->dport;
	th->seq = bpf_htonl(bpf_ntohl(th->seq) + f->seq_delta);
	if (th->ack)
		th->ack_seq = bpf_htonl(bpf_ntohl(th->ack_seq) + f->ack_delta);
	th->window = bpf_htons(out_window(f, th));
	if (th->syn && o->mss && f->mss_max) {
		__u32 mss = get32(t, o->mss) & 0xffff;

		if (mss > f->mss_max)
			put32(t, o->mss, (get32(t, o->mss) & 0xffff0000) | f->mss_max);
	}
	if (o->ts) {
		add32(t, o->ts + 2, f->tsval_delta);
		if (get32(t, o->ts + 6))
			add32(t, o->ts + 6, f->tsecr_delta);
	}
	if (o->sack) {
#pragma unroll
		for (__u32 e = 0; e < 8; e++)	/* four blocks, two edges each */
			if (2 + 4 * (e + 1) <= o->sack_len)
				add32(t, o->sack + 2 + 4 * e, f->ack_delta);
	}
}

#include "faithd_xlate_out.h"

/*
 * Translate the segment (its TCP header copied in old, hlen bytes at l4,
 * l4_len bytes of TCP in all) and send it on.  The checksum: the header's
 * changes, then the pseudo header's (addresses).  For CHECKSUM_PARTIAL skbs
 * (GSO from a local sender) the helpers change only the latter, as they
 * must; for CHECKSUM_COMPLETE ones skb->csum needs no change for the
 * header (the checksum field makes up for it), the pseudo header's change
 * is applied to it.
 */
static __noinline int translate(struct __sk_buff *skb, struct faithd_xl_flow *f,
				struct segment *seg)
{
	struct tcp_copy *old = &seg->old, t = seg->old;
	__u32 l4 = seg->l4, hlen = seg->hlen, l4_len = seg->l4_len;
	__u32 *old_addrs = seg->addrs, old_addrs_len = seg->addrs_len;
	__u8 tos = seg->tos;
	struct tcp_opts o = {};
	__s64 diff;
	__u32 l3_hlen = f->out_v4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	__u32 new_l4 = ETH_HLEN + l3_hlen;

	find_opts(old, hlen, &o);
	translate_tcp(&t, f, &o);
	if (hlen < sizeof(struct tcphdr) || hlen > TCP_HDR_MAX)
		return TC_ACT_SHOT;
	diff = bpf_csum_diff(old->w, hlen, t.w, hlen, 0);
	if (diff < 0 || bpf_skb_store_bytes(skb, l4, t.w, hlen, 0) ||
	    bpf_l4_csum_replace(skb, l4 + offsetof(struct tcphdr, check), 0, diff, 0))
		return TC_ACT_SHOT;
	if (bpf_skb_change_proto(skb, bpf_htons(f->out_v4 ? ETH_P_IP : ETH_P_IPV6), 0) ||
	    write_l3(skb, f, l4_len, tos))
		return TC_ACT_SHOT;
	/* The new addresses summed where they are, in the entry (saddr and
	 * daddr side by side): no copy on the stack, which forward() needs. */
	if (f->out_v4) {
		diff = bpf_csum_diff(old_addrs, old_addrs_len, &f->saddr[3], 4, 0);
		if (diff >= 0)
			diff = bpf_csum_diff(NULL, 0, &f->daddr[3], 4, (__wsum)diff);
	} else {
		diff = bpf_csum_diff(old_addrs, old_addrs_len, f->saddr, 32, 0);
	}
	if (diff < 0 || bpf_l4_csum_replace(skb, new_l4 + offsetof(struct tcphdr, check), 0,
					    diff, BPF_F_PSEUDO_HDR))
		return TC_ACT_SHOT;
	return forward(skb, f, 1);
}

#include "faithd_xlate_track.h"
#include "faithd_xlate_syn.h"
#include "faithd_xlate_limits.h"
#include "faithd_xlate_syn_open.h"
#include "faithd_xlate_syn_state.h"
#include "faithd_xlate_icmp.h"

/*
 * A segment of a connection not (or no longer) translated both ways: data,
 * FIN or SYN would move its frozen or draining socket on, so it is dropped
 * (the sender repeats it, to the other peer once translation runs); ACKs
 * and resets are the socket's.
 */
static __always_inline int held(const struct tcphdr *th, __u32 payload)
{
	if (th->syn || th->fin || (payload && !th->rst))
		return TC_ACT_SHOT;
	return TCX_NEXT;
}

/*
 * WATCH or HOLD (old: the segment's TCP header, hlen bytes, with payload
 * bytes after it): note where it came in and its timestamp, for faithd's
 * hand-off.  A function of its own: the main program's stack stays small.
 */
static __noinline int watch(struct __sk_buff *skb, struct faithd_xl_flow *f,
			    struct tcp_copy *old, __u32 hlen, __u32 payload)
{
	const struct tcphdr *th = (const struct tcphdr *)old->w;
	struct tcp_opts o = {};

	/* Plain stores: one direction's segments, faithd reads them. */
	f->ifindex = skb->ingress_ifindex;
	f->flags |= FAITHD_XL_SEEN;
	find_opts(old, hlen, &o);
	if (o.ts && th->ack) {
		f->tsval = get32(old, o.ts + 2);
		f->tsval_seq = bpf_ntohl(th->seq);
		f->tsval_ack = bpf_ntohl(th->ack_seq);
		f->tsval_ns = bpf_ktime_get_ns();
		f->flags |= FAITHD_XL_SEEN_TS;
	}
	if (f->state == FAITHD_XL_WATCH)
		return TCX_NEXT;
	return held(th, payload);
}

/*
 * A segment of a handed-off connection that the program cannot translate
 * (IP options, fragments, IPv6 extension headers, a length it cannot
 * read): the frozen socket would take it and drop it, and its sender
 * repeat it in vain.  One the receiver could accept (its sequence number
 * within a window of the receiver's ACK point) is flagged for faithd,
 * which ends the connection: a reset beats a stall.  A blind forger's,
 * almost surely outside, is not; neither reaches the socket.
 */
static __always_inline int stray(const struct faithd_xl_key *key, __u32 seq)
{
	struct faithd_xl_flow *f = bpf_map_lookup_elem(&flows, key), *p;
	__u32 wnd;

	if (!f || f->state != FAITHD_XL_ACTIVE)
		return TCX_NEXT;	/* not handed off: the socket's */
	p = bpf_map_lookup_elem(&flows, &f->peer);
	if (!p)
		return TC_ACT_SHOT;
	wnd = p->wnd_end - p->ack_last;
	if (!xl_after(p->ack_last - wnd, seq) && !xl_after(seq, p->wnd_end))
		__sync_fetch_and_or(&f->flags, FAITHD_XL_STRAY);
	return TC_ACT_SHOT;
}

/* The key and sequence number of the TCP header at off, into stray(). */
static __always_inline int stray_at(struct __sk_buff *skb, struct faithd_xl_key *key, __u32 off)
{
	__be32 head[2];		/* ports and sequence number: 8 bytes */

	/* Fewer: a tiny first fragment (RFC 1858), its TCP header in the
	 * next one, which the stack would reassemble for the socket. */
	if (bpf_skb_load_bytes(skb, off, head, sizeof(head)))
		return TC_ACT_SHOT;
	key->sport = ((__be16 *)head)[0];
	key->dport = ((__be16 *)head)[1];
	return stray(key, bpf_ntohl(head[1]));
}

/* IPv6 with extension headers: TCP behind them, not a later fragment. */
static __noinline int stray6(struct __sk_buff *skb, struct faithd_xl_key *key)
{
	void *data, *end;
	struct ipv6hdr *ip6;
	struct cursor c;
	int later_frag;

	if ((void *)(long)skb->data_end - (void *)(long)skb->data < PULL_LEN)
		bpf_skb_pull_data(skb, skb->len < PULL_LEN ? skb->len : PULL_LEN);
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	ip6 = data + ETH_HLEN;
	if ((void *)(ip6 + 1) > end)
		return TCX_NEXT;
	c.pos = ip6 + 1;
	c.end = end;
	if (skip_ext_hdrs(&c, ip6->nexthdr, &later_frag) != IPPROTO_TCP || later_frag)
		return TCX_NEXT;
	return stray_at(skb, key, c.pos - data);
}

SEC("tc")
int faithd_xlate(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct faithd_xl_key key = {};
	struct faithd_xl_flow *f, *peer;
	struct segment s = {};
	struct tcphdr *th;
	__u32 payload, ack;
	int taken;

	/* A VLAN-tagged frame at its parent interface: the VLAN device's own
	 * link sees it next, untagged, and sends the translation out tagged.
	 * VLAN 0 (priority only) has no such device: the stack takes it as
	 * untagged, and so does the program. */
	if ((!nconns && !syn_active) || (skb->vlan_present && (skb->vlan_tci & 0x0fff)) ||
	    (void *)(eth + 1) > end)
		return TCX_NEXT;
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return TCX_NEXT;
		__builtin_memcpy(key.saddr, &ip6->saddr, 16);
		__builtin_memcpy(key.daddr, &ip6->daddr, 16);
		if (ip6->nexthdr == IPPROTO_ICMPV6)
			return ptb_to_server(skb);
		if (ip6->nexthdr != IPPROTO_TCP)
			return stray6(skb, &key);
		__builtin_memcpy(s.addrs, &ip6->saddr, 32);
		s.addrs_len = 32;
		s.l4 = ETH_HLEN + sizeof(*ip6);
		s.l4_len = bpf_ntohs(ip6->payload_len);
		s.tos = ip6->priority << 4 | ip6->flow_lbl[0] >> 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end)
			return TCX_NEXT;
		if (ip->protocol == IPPROTO_ICMP)
			return icmp4_to_client(skb);
		if (ip->protocol != IPPROTO_TCP)
			return TCX_NEXT;
		key.saddr[2] = key.daddr[2] = bpf_htonl(0xffff);
		key.saddr[3] = s.addrs[0] = ip->saddr;
		key.daddr[3] = s.addrs[1] = ip->daddr;
		/* Options, fragments (the first has the ports), a length of 0
		 * (BIG TCP): not translated.  Later fragments and malformed
		 * headers: the first fragment decides, the stack drops. */
		if (ip->ihl < 5 || (ip->frag_off & bpf_htons(0x1fff)))
			return TCX_NEXT;
		if (ip->ihl != 5 || (ip->frag_off & bpf_htons(0x2000)) ||
		    (!ip->tot_len && skb->len > 0xffff))
			return stray_at(skb, &key, ETH_HLEN + ip->ihl * 4);
		if (bpf_ntohs(ip->tot_len) < sizeof(*ip))
			return TCX_NEXT;
		s.addrs_len = 8;
		s.l4 = ETH_HLEN + sizeof(*ip);
		s.l4_len = bpf_ntohs(ip->tot_len) - sizeof(*ip);
		s.tos = ip->tos;
	} else {
		return TCX_NEXT;
	}
	th = data + s.l4;
	if ((void *)(th + 1) > end)
		return TCX_NEXT;
	key.sport = th->source;
	key.dport = th->dest;
	f = bpf_map_lookup_elem(&flows, &key);
	if (!f) {
		/* --translate-after syn: a client's SYN opens a connection; a
		 * well-formed one, for this host, without data (TCP Fast Open
		 * and the like go to the sockets). */
		if (!syn_take || s.addrs_len != 32 || !th->syn || th->ack || th->rst || th->fin ||
		    skb->pkt_type != PACKET_HOST || s.l4_len != th->doff * 4 ||
		    s.l4_len < sizeof(*th) || s.l4 + s.l4_len > skb->len)
			return TCX_NEXT;
		taken = syn_open(skb, &key, s.l4, th->doff * 4);
		if (taken)
			return taken;
		f = bpf_map_lookup_elem(&flows, &key);
		if (!f)
			return TC_ACT_SHOT;
		/* Helpers were called: the packet pointers are new (IPv6). */
		th = (void *)(long)skb->data + ETH_HLEN + sizeof(struct ipv6hdr);
		if ((void *)(th + 1) > (void *)(long)skb->data_end)
			return TC_ACT_SHOT;
	}

	/* An IPv6 length of 0: a BIG TCP jumbogram, not for translation.
	 * Shorter than the header or than the frame says: malformed, the
	 * stack drops it. */
	if (!s.l4_len && s.addrs_len == 32)
		return stray(&key, bpf_ntohl(th->seq));
	s.hlen = th->doff * 4;
	if (s.hlen < sizeof(*th) || s.hlen > TCP_HDR_MAX || s.l4_len < s.hlen ||
	    s.l4 + s.l4_len > skb->len || bpf_skb_load_bytes(skb, s.l4, s.old.w, s.hlen))
		return TCX_NEXT;
	payload = s.l4_len - s.hlen;

	if (f->state == FAITHD_XL_SYN) {
		taken = syn_step(&key, f, &s.old, s.hlen);
		if (taken)
			return taken;
		return translate(skb, f, &s);
	}
	if (f->state != FAITHD_XL_ACTIVE)
		return watch(skb, f, &s.old, s.hlen, payload);
	/*
	 * ACTIVE: every segment is translated, a SYN too: the frozen socket
	 * must get none.  (A peer that lost the connection and opens it again
	 * on the same ports gets the other's challenge ACK, RFC 5961, and its
	 * reset at the right point ends both.)  Its numbers are checked
	 * against the other direction's.  faithd turns the two entries on
	 * (and forgets them) one after the other: for the moment in between,
	 * this one is held as before, so that nothing goes on uncounted.
	 */
	peer = bpf_map_lookup_elem(&flows, &f->peer);
	if (!peer || peer->state != FAITHD_XL_ACTIVE)
		return held(th, payload);
	/* A client's new SYN on the ports of one the program opened that was
	 * ending (its last ACK lost, say): the old one is over. */
	if ((f->flags & FAITHD_XL_FROM_SYN) && th->syn && !th->ack && f->out_v4 &&
	    syn_over(f, peer, bpf_ntohl(th->seq)))
		return syn_reopen(&key, f, peer);
	/* Receivers drop data and FINs without an ACK they would take. */
	ack = bpf_ntohl(th->ack_seq) + f->ack_delta;
	taken = th->ack && ack_ok(f, ack, sent_end(peer));
	/* Half-open (the client's entry: HALF) until the client acknowledges
	 * the server's SYN-ACK exactly, the one ACK a server in SYN-RECEIVED
	 * takes: a forged source, which knows its own numbers but not the
	 * server's, moves nothing, and faithd's sweep takes it after the
	 * connect timeout. */
	if (f->flags & FAITHD_XL_HALF) {
		taken = taken && ack == peer->seq_end;
		if (taken)
			syn_half_done(f);
	}
	if (taken && track(f, peer, th, payload, out_window(f, th) << (f->win_out_shift & 15), ack))
		f->last_ns = bpf_ktime_get_ns();
	if (th->rst || th->fin)
		note_end(f, peer, th, payload, taken);
	/* Opened for a SYN: the program ends it (a function of its own: only
	 * segments after a FIN or reset pay for the call). */
	if ((f->flags & FAITHD_XL_FROM_SYN) &&
	    ((f->flags | peer->flags) & (FAITHD_XL_SEEN_FIN | FAITHD_XL_SEEN_RST)))
		syn_maybe_end(&key, f, peer);
	return translate(skb, f, &s);
}

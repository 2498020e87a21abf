// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * faith datapath: capture IPv6 TCP addressed to faith prefixes.
 *
 *   faith_tc        TC ingress: classify, apply the keepfaith gate, mark
 *                   captured packets for the fwmark rule (local delivery).
 *                   The TC programs return TC_ACT_UNSPEC: later filters on
 *                   the interface still run, and the packet goes on.
 *   faith_xdp       XDP: the same classifier; leaves its verdict in the XDP
 *                   metadata so that faith_tc_meta only has to apply it.
 *   faith_tc_meta   TC ingress companion of faith_xdp.
 *   faith_lookup    sk_lookup: give connections to faith addresses to the
 *                   relay socket registered for the port (or all ports).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "../src/maps.h"
#include "ipv6_ext.h"

#define AF_INET6	10
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, FAITH_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct faith_prefix_key);
	__type(value, struct faith_prefix_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} prefixes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, FAITH_MAX_RELAYS);
	__type(key, __u32);	/* destination port, FAITH_RELAY_ALL_PORTS */
	__type(value, __u64);	/* socket cookie (fd on update) */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} relays SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct faith_control);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} control SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct faith_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

/*
 * The prefix index (see src/maps.h) is global data, not a map looked up:
 * the datapath reads it in place, with no helper calls and so no register
 * spills around them.  libbpf makes .bss (both halves, 4 MiB), .data (the
 * meta) and .data.pstart (the /32 filters) one-element mmapable arrays,
 * which faith-loader pins.
 */
struct faith_pindex_meta pindex_meta SEC(".data") = {};
struct faith_pindex_bucket pindex[2][FAITH_PINDEX_BUCKETS];
/* The /32 filter of each half: a map of its own (.bss is full). */
struct faith_pindex_start pindex_start[2] SEC(".data.pstart");

/* The block tables below the /32 filter, one element per half.  A map, not
 * global data: zeroed .data would make the object a MiB bigger. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct faith_pindex_blocks);
} pindex_blocks SEC(".maps");

/* Interfaces faith-loader attached to; userspace bookkeeping only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);	/* ifindex */
	__type(value, struct faith_iface);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ifaces SEC(".maps");

static __always_inline struct faith_stats *stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&stats, &zero);
}

static __always_inline struct faith_control *control_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&control, &zero);
}

/* The slow path, for tables the index cannot hold.  w0, w1: the address. */
static __always_inline int in_faith_trie(__u64 w0, __u64 w1)
{
	struct faith_prefix_key key = { .prefixlen = 128 };
	__u32 *dst = (__u32 *)key.addr;	/* 4-byte aligned only */

	dst[0] = (__u32)w0;	/* memory order: the low half first */
	dst[1] = (__u32)(w0 >> 32);
	dst[2] = (__u32)w1;
	dst[3] = (__u32)(w1 >> 32);
	return bpf_map_lookup_elem(&prefixes, &key) != NULL;
}

/*
 * The start word (src/maps.h) of the address w0:w1 in half active: the
 * /32 filter's, then down the block tables while it names one.
 */
static __always_inline __u32 start_word(__u32 active, __u64 w0, __u64 w1)
{
	__u32 word = pindex_start[active].node[faith_pindex_filter_bit(faith_pindex_top32(w0))];
	const struct faith_pindex_blocks *blocks;

	if (likely(!(word & FAITH_PINDEX_BLOCK)))
		return word;
	blocks = bpf_map_lookup_elem(&pindex_blocks, &active);
	if (!blocks)
		return 0;
#pragma unroll
	for (int i = 4; i < 12; i++) {
		__u32 t = word & ~FAITH_PINDEX_BLOCK;

		if (t >= FAITH_PINDEX_BLOCKS)
			return 0;
		word = blocks->block[t].next[faith_pindex_byte(w0, w1, i)];
		if (!(word & FAITH_PINDEX_BLOCK))
			return word;
	}
	return 0;	/* never written so: a damaged index */
}

#define KEY_EQ(x, k)	(!(((x) ^ (k)) << FAITH_PINDEX_KEY_SHIFT))

/*
 * Look for the key k0:k1 in the bucket at s (8 words).  Returns 1 for a
 * prefix, 2 + the node to probe next for a marker; if not found 0, or -1
 * in a first bucket whose overflow flag says to look in the second.  A
 * slot's second word matches when it differs from k1 in its top 9 bits
 * (rope and overflow flag) at most.
 */
static __always_inline int bucket_find(const __u64 *s, __u64 k0, __u64 k1)
{
	__u64 hit;

	if (s[0] == k0 && KEY_EQ(s[1], k1))
		hit = s[1];
	else if (s[2] == k0 && KEY_EQ(s[3], k1))
		hit = s[3];
	else if (s[4] == k0 && KEY_EQ(s[5], k1))
		hit = s[5];
	else if (s[6] == k0 && KEY_EQ(s[7], k1))
		hit = s[7];
	else
		return (__s64)s[1] < 0 ? -1 : 0;	/* OVERFLOW_LEN: bit 63 */
	return ((hit >> (32 + FAITH_PINDEX_ROPE_SHIFT)) & 0xff) + 1;
}

/*
 * Is the address w0:w1 (bytes 0..7 and 8..15, as loaded) inside a faith
 * prefix?  A binary search on the lengths, see src/maps.h.
 */
static __always_inline int in_faith_words(__u64 w0, __u64 w1)
{
	__u32 active = pindex_meta.active & 1;
	const struct faith_pindex_half *half = &pindex_meta.half[active];
	const __u64 *tbl = (const __u64 *)pindex[active];
	__u32 n = 0;

	if (unlikely(half->nlens > FAITH_PINDEX_LENS))
		return in_faith_trie(w0, w1);
	if (unlikely(!half->nlens))
		return 0;
	if (half->filtered) {
		n = start_word(active, w0, w1);
		if (!n--)
			return 0;
		if (n >= FAITH_PINDEX_NODES)
			return 0;	/* never written so: a damaged index */
	}
#pragma unroll
	for (int i = 0; i < FAITH_PINDEX_DEPTH; i++) {
		const struct faith_pindex_node *nd = &half->node[n];
		__u64 k0 = w0 & nd->mask0, k1 = (w1 & nd->mask1) | nd->tag;
		__u32 h = faith_pindex_hash(k0, k1);
		int r = bucket_find(tbl + faith_pindex_bucket1(h) * 8, k0, k1);

		if (unlikely(r < 0)) {
			r = bucket_find(tbl + faith_pindex_bucket2(h) * 8, k0, k1);
			r = r < 0 ? 0 : r;
		}
		if (r == 1)
			return 1;
		n = r ? r - 2 : nd->left;
		if (n >= FAITH_PINDEX_NODES)
			return 0;
	}
	return 0;
}

static __always_inline int in_faith_prefix(const struct in6_addr *addr)
{
	const __u64 *w = (const __u64 *)addr->in6_u.u6_addr32;

	return in_faith_words(w[0], w[1]);
}

static __always_inline int icmp6_is_error(__u8 type)
{
	return type == ICMPV6_DEST_UNREACH || type == ICMPV6_PKT_TOOBIG ||
	       type == ICMPV6_TIME_EXCEED || type == ICMPV6_PARAMPROB;
}

/* The ICMPv6 error at the cursor quotes IPv6 TCP sent from a faith address. */
static __always_inline enum faith_verdict classify_icmp6(struct cursor *c)
{
	struct icmp6hdr *icmp = c->pos;
	struct ipv6hdr *inner;
	int proto, later_frag;

	if ((void *)(icmp + 1) > c->end)
		return FAITH_MALFORMED;
	if (!icmp6_is_error(icmp->icmp6_type))
		return FAITH_PASS;
	inner = (void *)(icmp + 1);
	if ((void *)(inner + 1) > c->end)
		return FAITH_MALFORMED;
	c->pos = inner + 1;
	proto = skip_ext_hdrs(c, inner->nexthdr, &later_frag);
	if (proto < 0)
		return FAITH_MALFORMED;
	if (proto != IPPROTO_TCP)
		return FAITH_PASS;
	/* tcp_v6_err() needs the ports and sequence number: 8 bytes. */
	if (!later_frag && c->pos + 8 > c->end)
		return FAITH_MALFORMED;
	return in_faith_prefix(&inner->saddr) ? FAITH_ICMP : FAITH_PASS;
}

/*
 * The classifier shared by TC and XDP.  data..end is the packet's linear
 * part starting at the Ethernet header; pkt_len its full length.
 */
static __always_inline enum faith_verdict classify(void *data, void *end,
						   __u32 pkt_len)
{
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct cursor c = { .pos = ip6 + 1, .end = end };
	enum faith_verdict verdict;
	int proto, later_frag;

	/* h_proto as one 16-bit load (struct ethhdr is packed: byte loads). */
	if ((void *)(eth + 1) > end ||
	    *(__be16 *)((__u8 *)data + 12) != bpf_htons(ETH_P_IPV6))
		return FAITH_PASS;
	if ((void *)(ip6 + 1) > end || ip6->version != 6)
		return FAITH_MALFORMED;
	/* payload_len 0 is a jumbogram or BIG TCP aggregate: trust the skb. */
	if (ip6->payload_len &&
	    sizeof(*eth) + sizeof(*ip6) + bpf_ntohs(ip6->payload_len) > pkt_len)
		return FAITH_MALFORMED;

	/* The common case first: TCP right after the IPv6 header. */
	if (likely(ip6->nexthdr == IPPROTO_TCP)) {
		if ((void *)(ip6 + 1) + sizeof(struct tcphdr) > end)
			return FAITH_MALFORMED;
		return in_faith_prefix(&ip6->daddr) ? FAITH_TCP : FAITH_PASS;
	}
	proto = skip_ext_hdrs(&c, ip6->nexthdr, &later_frag);
	if (proto < 0)
		return FAITH_MALFORMED;
	if (proto == IPPROTO_TCP) {
		if (!later_frag && c.pos + sizeof(struct tcphdr) > end)
			return FAITH_MALFORMED;
		verdict = FAITH_TCP;
	} else if (proto == IPPROTO_ICMPV6 && !later_frag) {
		verdict = classify_icmp6(&c);
		if (verdict != FAITH_ICMP)
			return verdict;
	} else {
		return FAITH_PASS;
	}
	return in_faith_prefix(&ip6->daddr) ? verdict : FAITH_PASS;
}

/*
 * Count the verdict and apply the keepfaith gate: FAITH_PASS when closed.
 * Otherwise *ctlp is the control block, for the mark.
 */
static __always_inline enum faith_verdict account(enum faith_verdict verdict,
						  struct faith_control **ctlp)
{
	struct faith_stats *st = stats_get();
	struct faith_control *ctl;

	if (unlikely(!st))
		return FAITH_PASS;
	st->packets++;
	if (verdict == FAITH_PASS)
		return FAITH_PASS;
	if (unlikely(verdict == FAITH_MALFORMED)) {
		st->malformed++;
		return FAITH_PASS;
	}
	ctl = control_get();
	if (unlikely(!ctl || !ctl->keepfaith)) {
		st->gated_off++;
		return FAITH_PASS;
	}
	if (verdict == FAITH_TCP)
		st->tcp_captured++;
	else
		st->icmp_captured++;
	*ctlp = ctl;
	return verdict;
}

static __always_inline enum faith_verdict classify_skb(struct __sk_buff *skb)
{
	enum faith_verdict verdict;

	/* Headers outside the linear area: pull them in and look again.  A
	 * loop, not two inlined copies of the classifier: half the code. */
#pragma nounroll
	for (int pulled = 0;; pulled = 1) {
		verdict = classify((void *)(long)skb->data,
				   (void *)(long)skb->data_end, skb->len);
		if (verdict != FAITH_MALFORMED || pulled ||
		    skb->data_end - skb->data >= skb->len ||
		    skb->data_end - skb->data >= PULL_LEN)
			return verdict;
		bpf_skb_pull_data(skb, skb->len < PULL_LEN ? skb->len : PULL_LEN);
	}
}

SEC("tc")
int faith_tc(struct __sk_buff *skb)
{
	struct faith_control *ctl;

	if (account(classify_skb(skb), &ctl) != FAITH_PASS)
		skb->mark = ctl->mark;
	return TC_ACT_UNSPEC;
}

SEC("xdp")
int faith_xdp(struct xdp_md *xdp)
{
	void *data = (void *)(long)xdp->data;
	void *end = (void *)(long)xdp->data_end;
	struct faith_control *ctl;
	struct faith_meta *meta;
	enum faith_verdict verdict;

	/* Without BPF_F_XDP_HAS_FRAGS every frame is one buffer: data..end is
	 * all of it (and bpf_xdp_get_buff_len() would need Linux 5.18). */
	verdict = classify(data, end, end - data);
	verdict = account(verdict, &ctl);
	if (verdict == FAITH_PASS)
		return XDP_PASS;
	/* Only captured packets carry metadata: the TC side does nothing else. */
	if (bpf_xdp_adjust_meta(xdp, -(int)sizeof(*meta)))
		return XDP_PASS;
	meta = (void *)(long)xdp->data_meta;
	if ((void *)(meta + 1) > (void *)(long)xdp->data)
		return XDP_PASS;
	meta->verdict = verdict;
	meta->magic = FAITH_META_MAGIC;
	return XDP_PASS;
}

SEC("tc")
int faith_tc_meta(struct __sk_buff *skb)
{
	struct faith_meta *meta = (void *)(long)skb->data_meta;
	struct faith_control *ctl;

	if ((void *)(meta + 1) > (void *)(long)skb->data ||
	    meta->magic != FAITH_META_MAGIC)
		return TC_ACT_UNSPEC;
	ctl = control_get();
	if (ctl)
		skb->mark = ctl->mark;
	return TC_ACT_UNSPEC;
}

SEC("sk_lookup")
int faith_lookup(struct bpf_sk_lookup *ctx)
{
	__u32 port = ctx->local_port, all = FAITH_RELAY_ALL_PORTS;
	struct faith_control *ctl;
	struct faith_stats *st;
	struct bpf_sock *sk;
	long err;

	if (ctx->family != AF_INET6 || ctx->protocol != IPPROTO_TCP)
		return SK_PASS;
	if (!in_faith_words(faith_pindex_w0(ctx->local_ip6[0], ctx->local_ip6[1]),
			    faith_pindex_w1(ctx->local_ip6[2], ctx->local_ip6[3])))
		return SK_PASS;
	ctl = control_get();
	if (!ctl || !ctl->keepfaith)
		return SK_PASS;

	st = stats_get();
	sk = bpf_map_lookup_elem(&relays, &port);
	if (!sk)
		sk = bpf_map_lookup_elem(&relays, &all);
	if (!sk)
		goto drop;
	err = bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	if (err)
		goto drop;
	if (st)
		st->assigned++;
	return SK_PASS;
drop:
	/* Never let the router's own listeners take a faith connection. */
	if (st)
		st->no_relay++;
	return SK_DROP;
}

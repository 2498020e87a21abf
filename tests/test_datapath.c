// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the BPF datapath (bpf/faith.bpf.c) with BPF_PROG_TEST_RUN:
 * crafted packets through faith_tc and faith_xdp (one table, both modes),
 * every truncation of a few captured packets, faith_tc_meta without
 * metadata, and faith_lookup with real relay sockets in the relays map.
 *
 * Nothing is pinned: the maps' pin paths are cleared before loading, so the
 * test never touches /sys/fs/bpf.  Needs root (prints a skip line if not).
 *
 *   make build/test_datapath && build/test_datapath
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "faith.skel.h"
#include "maps.h"
#include "pindex.h"
#include "prefix.h"
#include "testlib.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define MARK		0xfa17
#define PKT_MAX		512
#define IP6_OFF		ETH_HLEN		/* outer IPv6 header */
#define L4_OFF		(ETH_HLEN + 40)		/* right after it */

/* Addresses: faith prefixes are 64:ff9b::/96 and 2001:db8:100::/48. */
#define FAITH_A		"64:ff9b::c000:201"	/* 192.0.2.1 */
#define FAITH_B		"2001:db8:100:5::1"
#define CLIENT		"2001:db8:ffff::c"
#define OTHER		"2001:db8:ffff::1"
#define NEAR_48		"2001:db8:101::1"	/* just past the /48 */
#define NEAR_96		"64:ff9b::1:c000:201"	/* just past the /96 */

static const char *const faith_prefixes[] = {
	"64:ff9b::/96", "2001:db8:100::/48",
};

static struct faith_bpf *skel;
static int ncpus;

/* ---- packet building ---------------------------------------------------- */

struct pkt {
	uint8_t b[PKT_MAX];
	size_t len;
};

static uint8_t *put(struct pkt *p, size_t n)
{
	uint8_t *h = p->b + p->len;

	if (p->len + n > PKT_MAX)
		abort();
	memset(h, 0, n);
	p->len += n;
	return h;
}

static void put16(uint8_t *h, uint16_t v)
{
	h[0] = v >> 8;
	h[1] = v & 0xff;
}

static void put_in6(uint8_t *h, const char *text)
{
	if (inet_pton(AF_INET6, text, h) != 1)
		abort();
}

static void put_eth(struct pkt *p, uint16_t type)
{
	uint8_t *h = put(p, ETH_HLEN);

	memcpy(h, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02", 12);
	put16(h + 12, type);
}

/* Returns the header's offset, for set_plen(). */
static size_t put_ip6(struct pkt *p, uint8_t nexthdr, const char *src,
		      const char *dst)
{
	size_t off = p->len;
	uint8_t *h = put(p, 40);

	h[0] = 0x60;
	h[6] = nexthdr;
	h[7] = 64;
	put_in6(h + 8, src);
	put_in6(h + 24, dst);
	return off;
}

static void set_plen(struct pkt *p, size_t ip6_off)
{
	put16(p->b + ip6_off + 4, p->len - ip6_off - 40);
}

/*
 * Extension headers of different sizes to exercise the length arithmetic:
 * hop-by-hop 8 bytes and destination options 16 (one PadN option each),
 * routing 24 (a segment routing header, one segment, none left).
 */
static void put_ext(struct pkt *p, uint8_t type, uint8_t nexthdr)
{
	size_t len = type == IPPROTO_HOPOPTS ? 8 :
		     type == IPPROTO_DSTOPTS ? 16 : 24;
	uint8_t *h = put(p, len);

	h[0] = nexthdr;
	h[1] = len / 8 - 1;
	if (type == IPPROTO_ROUTING) {
		h[2] = 4;		/* SRH */
		put_in6(h + 8, CLIENT);
	} else {
		h[2] = 1;		/* PadN */
		h[3] = len - 4;
	}
}

static void put_frag(struct pkt *p, uint8_t nexthdr, uint16_t off, bool more)
{
	uint8_t *h = put(p, 8);

	h[0] = nexthdr;
	put16(h + 2, (uint16_t)(off << 3 | more));
	memcpy(h + 4, "\x12\x34\x56\x78", 4);
}

/* The first len bytes (0: all 20) of a TCP SYN to port 443. */
static void put_tcp(struct pkt *p, size_t len)
{
	uint8_t h[20] = { 0 };

	put16(h, 40000);
	put16(h + 2, 443);
	memcpy(h + 4, "\x11\x22\x33\x44", 4);
	h[12] = 5 << 4;
	h[13] = 0x02;
	put16(h + 14, 64240);
	len = len ? len : sizeof(h);
	memcpy(put(p, len), h, len);
}

static void put_udp(struct pkt *p)
{
	uint8_t *h = put(p, 8);

	put16(h, 40000);
	put16(h + 2, 53);
	put16(h + 4, 8);
}

static void put_icmp6(struct pkt *p, uint8_t type)
{
	uint8_t *h = put(p, 8);

	h[0] = type;
	if (type == 2)			/* packet too big: the MTU */
		put16(h + 6, 1280);
	else if (type == 128 || type == 129)
		put16(h + 4, 0x1234);	/* echo identifier */
}

/* One IPv6 packet: header, extension headers, upper-layer header. */
struct l3 {
	const char *src, *dst;	/* NULL: the defaults of the caller */
	uint8_t ext[8];		/* extension header types, in order */
	int n_ext;
	uint16_t frag_off;	/* of fragment headers, in 8-byte units */
	bool frag_more;
	uint8_t l4;		/* upper-layer protocol */
	uint8_t l4_len;		/* TCP: bytes of the header, 0: all */
	uint8_t icmp_type;
};

struct spec {
	uint16_t ethertype;	/* 0: IPv6 */
	uint8_t version;	/* 0: 6 */
	bool zero_plen;		/* payload_len 0, as jumbograms / BIG TCP */
	uint8_t pad;		/* bytes past payload_len (Ethernet padding) */
	struct l3 ip;
	struct l3 quote;	/* what an ICMPv6 error quotes */
};

static void put_l3(struct pkt *p, const struct l3 *ip, const struct l3 *quote,
		   const char *src, const char *dst);

static void put_upper(struct pkt *p, const struct l3 *ip,
		      const struct l3 *quote)
{
	switch (ip->l4) {
	case IPPROTO_TCP:
		put_tcp(p, ip->l4_len);
		break;
	case IPPROTO_UDP:
		put_udp(p);
		break;
	case IPPROTO_ICMPV6:
		put_icmp6(p, ip->icmp_type);
		if (quote && ip->icmp_type < 128)
			put_l3(p, quote, NULL, FAITH_A, CLIENT);
		break;
	}
}

static void put_l3(struct pkt *p, const struct l3 *ip, const struct l3 *quote,
		   const char *src, const char *dst)
{
	size_t off;
	int i;

	off = put_ip6(p, ip->n_ext ? ip->ext[0] : ip->l4,
		      ip->src ? ip->src : src, ip->dst ? ip->dst : dst);
	for (i = 0; i < ip->n_ext; i++) {
		uint8_t next = i + 1 < ip->n_ext ? ip->ext[i + 1] : ip->l4;

		if (ip->ext[i] != IPPROTO_FRAGMENT) {
			put_ext(p, ip->ext[i], next);
			continue;
		}
		put_frag(p, next, ip->frag_off, ip->frag_more);
		if (ip->frag_off) {	/* later fragment: just data */
			memset(put(p, 16), 0xaa, 16);
			set_plen(p, off);
			return;
		}
	}
	put_upper(p, ip, quote);
	set_plen(p, off);
}

static void put_ipv4_tcp(struct pkt *p)
{
	uint8_t *h = put(p, 20);

	h[0] = 0x45;
	put16(h + 2, 40);
	h[8] = 64;
	h[9] = IPPROTO_TCP;
	memcpy(h + 12, "\xc6\x33\x64\x01\xc0\x00\x02\x01", 8);
	put_tcp(p, 0);
}

static void put_arp(struct pkt *p)
{
	uint8_t *h = put(p, 28);

	memcpy(h, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);	/* request */
	memcpy(h + 14, "\xc6\x33\x64\x01", 4);
	memcpy(h + 24, "\xc0\x00\x02\x01", 4);
}

static void build(struct pkt *p, const struct spec *s)
{
	uint16_t type = s->ethertype ? s->ethertype : ETH_P_IPV6;

	p->len = 0;
	put_eth(p, type);
	if (type == ETH_P_IP) {
		put_ipv4_tcp(p);
		return;
	}
	if (type == ETH_P_ARP) {
		put_arp(p);
		return;
	}
	put_l3(p, &s->ip, &s->quote, CLIENT, FAITH_A);
	if (s->version)
		p->b[IP6_OFF] = (uint8_t)(s->version << 4);
	if (s->zero_plen)
		put16(p->b + IP6_OFF + 4, 0);
	if (s->pad)
		memset(put(p, s->pad), 0, s->pad);
}

/* ---- maps --------------------------------------------------------------- */

static int set_control(uint32_t keepfaith, uint32_t mark)
{
	struct faith_control ctl = { .keepfaith = keepfaith, .mark = mark };
	uint32_t zero = 0;

	return bpf_map__update_elem(skel->maps.control, &zero, sizeof(zero),
				    &ctl, sizeof(ctl), BPF_ANY);
}

static void stats_reset(void)
{
	struct faith_stats zeros[ncpus];
	uint32_t zero = 0;

	memset(zeros, 0, sizeof(zeros));
	if (bpf_map__update_elem(skel->maps.stats, &zero, sizeof(zero),
				 zeros, sizeof(zeros), BPF_ANY))
		abort();
}

/* The per-CPU counters, summed. */
static struct faith_stats stats_sum(void)
{
	struct faith_stats per_cpu[ncpus], sum = { 0 };
	uint32_t zero = 0;
	int i;

	memset(per_cpu, 0, sizeof(per_cpu));	/* quiets valgrind */
	if (bpf_map__lookup_elem(skel->maps.stats, &zero, sizeof(zero),
				 per_cpu, sizeof(per_cpu), 0))
		abort();
	for (i = 0; i < ncpus; i++) {
		sum.packets += per_cpu[i].packets;
		sum.tcp_captured += per_cpu[i].tcp_captured;
		sum.icmp_captured += per_cpu[i].icmp_captured;
		sum.gated_off += per_cpu[i].gated_off;
		sum.assigned += per_cpu[i].assigned;
		sum.no_relay += per_cpu[i].no_relay;
		sum.malformed += per_cpu[i].malformed;
	}
	return sum;
}

static void stats_print(const char *what, const struct faith_stats *s)
{
	tl_diag("%s stats: packets %llu tcp %llu icmp %llu gated_off %llu "
		"assigned %llu no_relay %llu malformed %llu", what,
		s->packets, s->tcp_captured, s->icmp_captured, s->gated_off,
		s->assigned, s->no_relay, s->malformed);
}

/* ---- running the packet programs ---------------------------------------- */

enum mode { TC, XDP };
static const char *const mode_name[] = { "tc", "xdp" };
/* How the datapath finds prefixes in this pass: "index" or "trie". */
static const char *lookup_label = "index";

struct outcome {
	int err;		/* of BPF_PROG_TEST_RUN, -errno */
	bool pass;		/* TC_ACT_OK/UNSPEC, XDP_PASS */
	bool captured;		/* tc: mark set; xdp: metadata added */
	bool intact;		/* data as sent; xdp: metadata well formed */
	uint32_t mark;
	struct faith_meta meta;
	struct faith_stats st;
};

static struct outcome run_tc_prog(struct bpf_program *prog,
				  const struct pkt *p)
{
	struct __sk_buff ctx = { 0 };
	struct outcome o = { 0 };
	uint8_t out[PKT_MAX] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = p->b, .data_size_in = p->len,
		.data_out = out, .data_size_out = sizeof(out),
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		.ctx_out = &ctx, .ctx_size_out = sizeof(ctx),
		.repeat = 1);

	stats_reset();
	o.err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	o.st = stats_sum();
	if (o.err)
		return o;
	o.pass = (int)opts.retval == TC_ACT_OK ||
		 (int)opts.retval == TC_ACT_UNSPEC;
	o.mark = ctx.mark;
	o.captured = ctx.mark != 0;
	o.intact = opts.data_size_out == p->len &&
		   !memcmp(out, p->b, p->len);
	return o;
}

static struct outcome run_xdp(const struct pkt *p)
{
	uint8_t out[PKT_MAX + 64] = { 0 };
	struct outcome o = { 0 };
	size_t meta = sizeof(o.meta);
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = p->b, .data_size_in = p->len,
		.data_out = out, .data_size_out = sizeof(out),
		.repeat = 1);

	stats_reset();
	o.err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.faith_xdp),
				       &opts);
	o.st = stats_sum();
	if (o.err)
		return o;
	o.pass = opts.retval == XDP_PASS;
	/* Since 5.18 data_out starts at data_meta: metadata comes first. */
	o.captured = opts.data_size_out == p->len + meta;
	if (o.captured) {
		memcpy(&o.meta, out, meta);
		o.intact = !memcmp(out + meta, p->b, p->len) &&
			   o.meta.magic == FAITH_META_MAGIC &&
			   (o.meta.verdict == FAITH_TCP ||
			    o.meta.verdict == FAITH_ICMP);
	} else {
		o.intact = opts.data_size_out == p->len &&
			   !memcmp(out, p->b, p->len);
	}
	return o;
}

static struct outcome run_mode(enum mode mode, const struct pkt *p)
{
	return mode == TC ? run_tc_prog(skel->progs.faith_tc, p) : run_xdp(p);
}

/* What the counters must say after one packet classified as v. */
static struct faith_stats want_stats(enum faith_verdict v, bool gated)
{
	struct faith_stats s = { .packets = 1 };

	if (v == FAITH_MALFORMED)
		s.malformed = 1;
	else if (v != FAITH_PASS && gated)
		s.gated_off = 1;
	else if (v == FAITH_TCP)
		s.tcp_captured = 1;
	else if (v == FAITH_ICMP)
		s.icmp_captured = 1;
	return s;
}

/* ---- the table ---------------------------------------------------------- */

#define HBH	IPPROTO_HOPOPTS
#define RT	IPPROTO_ROUTING
#define DST	IPPROTO_DSTOPTS
#define FRAG	IPPROTO_FRAGMENT
#define EXT(...) .ext = { __VA_ARGS__ }, \
		 .n_ext = sizeof((uint8_t[]){ __VA_ARGS__ })
#define TCP	.l4 = IPPROTO_TCP
#define UDP	.l4 = IPPROTO_UDP
#define ICMP(t)	.l4 = IPPROTO_ICMPV6, .icmp_type = (t)

struct pkt_case {
	const char *name;
	enum faith_verdict verdict;	/* classifier verdict */
	bool gated;			/* run with keepfaith 0 */
	struct spec spec;
};

#define PKT(n, v, ...)	{ .name = (n), .verdict = (v), .spec = { __VA_ARGS__ } }
#define GATED(n, v, ...) \
	{ .name = (n), .verdict = (v), .gated = true, .spec = { __VA_ARGS__ } }

static const struct pkt_case pkt_cases[] = {
	/* TCP to a faith prefix: captured. */
	PKT("TCP to 64:ff9b::/96", FAITH_TCP, .ip = { TCP }),
	PKT("TCP to 2001:db8:100::/48", FAITH_TCP,
	    .ip = { .dst = FAITH_B, TCP }),
	PKT("TCP behind hop-by-hop", FAITH_TCP, .ip = { EXT(HBH), TCP }),
	PKT("TCP behind routing", FAITH_TCP, .ip = { EXT(RT), TCP }),
	PKT("TCP behind destination options", FAITH_TCP,
	    .ip = { EXT(DST), TCP }),
	PKT("TCP behind HBH,DST,RT,DST", FAITH_TCP,
	    .ip = { EXT(HBH, DST, RT, DST), TCP }),
	PKT("TCP behind HBH,DST,RT,FRAG,DST (RFC 8200 order)", FAITH_TCP,
	    .ip = { EXT(HBH, DST, RT, FRAG, DST), TCP }),
	PKT("TCP behind 6 extension headers (MAX_EXT_HDRS = 6)", FAITH_TCP,
	    .ip = { EXT(HBH, DST, RT, DST, DST, DST), TCP }),
	PKT("TCP behind 7 extension headers: too long", FAITH_MALFORMED,
	    .ip = { EXT(HBH, DST, RT, DST, DST, DST, DST), TCP }),
	PKT("TCP first fragment (offset 0, MF)", FAITH_TCP,
	    .ip = { EXT(FRAG), .frag_more = true, TCP }),
	PKT("TCP atomic fragment (offset 0, no MF)", FAITH_TCP,
	    .ip = { EXT(FRAG), TCP }),
	PKT("TCP later fragment (offset 185, MF)", FAITH_TCP,
	    .ip = { EXT(FRAG), .frag_off = 185, .frag_more = true, TCP }),
	PKT("TCP last fragment behind hop-by-hop", FAITH_TCP,
	    .ip = { EXT(HBH, FRAG), .frag_off = 370, TCP }),
	PKT("TCP first fragment, DST in the fragmentable part", FAITH_TCP,
	    .ip = { EXT(FRAG, DST), .frag_more = true, TCP }),
	PKT("TCP later fragment, DST in the fragmentable part", FAITH_TCP,
	    .ip = { EXT(FRAG, DST), .frag_off = 185, TCP }),
	PKT("TCP, payload_len 0 (jumbo/BIG TCP): trust the skb", FAITH_TCP,
	    .zero_plen = true, .ip = { TCP }),
	PKT("TCP with Ethernet padding past payload_len", FAITH_TCP,
	    .pad = 6, .ip = { TCP }),
	PKT("TCP from a faith address to elsewhere", FAITH_PASS,
	    .ip = { .src = FAITH_A, .dst = OTHER, TCP }),

	/* ICMPv6 errors about faith connections: captured. */
	PKT("ICMPv6 destination unreachable quoting faith TCP", FAITH_ICMP,
	    .ip = { ICMP(1) }, .quote = { TCP }),
	PKT("ICMPv6 packet too big quoting faith TCP", FAITH_ICMP,
	    .ip = { ICMP(2) }, .quote = { TCP }),
	PKT("ICMPv6 time exceeded quoting faith TCP", FAITH_ICMP,
	    .ip = { ICMP(3) }, .quote = { TCP }),
	PKT("ICMPv6 parameter problem quoting faith TCP", FAITH_ICMP,
	    .ip = { ICMP(4) }, .quote = { TCP }),
	PKT("ICMPv6 error to 2001:db8:100::/48 quoting its TCP", FAITH_ICMP,
	    .ip = { .dst = FAITH_B, ICMP(1) },
	    .quote = { .src = FAITH_B, TCP }),
	PKT("ICMPv6 error behind hop-by-hop", FAITH_ICMP,
	    .ip = { EXT(HBH), ICMP(1) }, .quote = { TCP }),
	PKT("ICMPv6 error quoting TCP behind DST,RT", FAITH_ICMP,
	    .ip = { ICMP(1) }, .quote = { EXT(DST, RT), TCP }),
	PKT("ICMPv6 error quoting 8 bytes of TCP", FAITH_ICMP,
	    .ip = { ICMP(2) }, .quote = { TCP, .l4_len = 8 }),
	PKT("ICMPv6 error quoting a later TCP fragment", FAITH_ICMP,
	    .ip = { ICMP(3) }, .quote = { EXT(FRAG), .frag_off = 100, TCP }),

	/* Not ours. */
	PKT("UDP to a faith address", FAITH_PASS, .ip = { UDP }),
	PKT("UDP later fragment to a faith address", FAITH_PASS,
	    .ip = { EXT(FRAG), .frag_off = 185, UDP }),
	PKT("no next header (59) to a faith address", FAITH_PASS,
	    .ip = { EXT(DST), .l4 = IPPROTO_NONE }),
	PKT("ICMPv6 echo request to a faith address", FAITH_PASS,
	    .ip = { ICMP(128) }),
	PKT("ICMPv6 echo reply to a faith address", FAITH_PASS,
	    .ip = { ICMP(129) }),
	PKT("ICMPv6 error quoting TCP from a non-faith source", FAITH_PASS,
	    .ip = { ICMP(1) }, .quote = { .src = OTHER, TCP }),
	PKT("ICMPv6 error quoting UDP from a faith source", FAITH_PASS,
	    .ip = { ICMP(1) }, .quote = { UDP }),
	PKT("ICMPv6 error quoting faith TCP, sent elsewhere", FAITH_PASS,
	    .ip = { .dst = OTHER, ICMP(1) }, .quote = { TCP }),
	PKT("ICMPv6 error, later fragment", FAITH_PASS,
	    .ip = { EXT(FRAG), .frag_off = 185, ICMP(1) }),
	PKT("IPv4 TCP", FAITH_PASS, .ethertype = ETH_P_IP),
	PKT("ARP", FAITH_PASS, .ethertype = ETH_P_ARP),
	PKT("TCP to 2001:db8:ffff::1", FAITH_PASS,
	    .ip = { .dst = OTHER, TCP }),
	PKT("TCP to 2001:db8:101::1 (past the /48)", FAITH_PASS,
	    .ip = { .dst = NEAR_48, TCP }),
	PKT("TCP to 64:ff9b::1:c000:201 (past the /96)", FAITH_PASS,
	    .ip = { .dst = NEAR_96, TCP }),

	/* Malformed: never captured, counted. */
	PKT("IPv6 ethertype, IP version 4", FAITH_MALFORMED,
	    .version = 4, .ip = { TCP }),
	PKT("ICMPv6 error quoting 4 bytes of TCP", FAITH_MALFORMED,
	    .ip = { ICMP(1) }, .quote = { TCP, .l4_len = 4 }),

	/* The keepfaith gate. */
	GATED("keepfaith 0: TCP to a faith address", FAITH_TCP,
	      .ip = { TCP }),
	GATED("keepfaith 0: ICMPv6 error about faith TCP", FAITH_ICMP,
	      .ip = { ICMP(1) }, .quote = { TCP }),
	GATED("keepfaith 0: UDP", FAITH_PASS, .ip = { UDP }),
};

static bool stats_eq(const struct faith_stats *a, const struct faith_stats *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static void test_pkt_case(const struct pkt_case *c, enum mode mode)
{
	bool capture = (c->verdict == FAITH_TCP || c->verdict == FAITH_ICMP) &&
		       !c->gated;
	struct faith_stats want = want_stats(c->verdict, c->gated);
	struct outcome o;
	struct pkt p;
	bool ok;

	build(&p, &c->spec);
	set_control(!c->gated, MARK);
	o = run_mode(mode, &p);
	ok = !o.err && o.pass && o.intact && o.captured == capture &&
	     stats_eq(&o.st, &want);
	if (ok && capture && mode == TC)
		ok = o.mark == MARK;
	if (ok && capture && mode == XDP)
		ok = o.meta.verdict == c->verdict;
	if (tl_check(ok, "%s %s: %s", lookup_label, mode_name[mode], c->name))
		return;
	tl_diag("err %d pass %d intact %d captured %d (want %d) mark %#x "
		"meta %#x/%u", o.err, o.pass, o.intact, o.captured, capture,
		o.mark, o.meta.magic, o.meta.verdict);
	stats_print("got", &o.st);
	stats_print("want", &want);
}

/* ---- truncation --------------------------------------------------------- */

/* Captured when whole; the uncut packet is exactly as long as it must be. */
static const struct pkt_case trunc_cases[] = {
	PKT("TCP", FAITH_TCP, .ip = { TCP }),
	PKT("TCP behind HBH,DST,RT", FAITH_TCP,
	    .ip = { EXT(HBH, DST, RT), TCP }),
	PKT("ICMPv6 error quoting 8 bytes of TCP behind DST", FAITH_ICMP,
	    .ip = { ICMP(1) }, .quote = { EXT(DST), TCP, .l4_len = 8 }),
};

/*
 * Cut p to len bytes.  With fix_plen, payload_len is made to match what is
 * left, so that the header walk (not the length check) has to notice.
 */
static void truncate_pkt(struct pkt *p, size_t len, bool fix_plen)
{
	p->len = len;
	if (fix_plen && len >= L4_OFF)
		set_plen(p, IP6_OFF);
}

/*
 * The shortest packet BPF_PROG_TEST_RUN takes: ETH_HLEN, and for skb
 * programs (6.x) a whole IPv6 header after an IPv6 ethertype.  Shorter ones
 * are refused with EINVAL; XDP still classifies 14..53-byte IPv6 frames.
 */
static size_t min_run_len(enum mode mode)
{
	return mode == TC ? L4_OFF : ETH_HLEN;
}

/* One truncated packet: refused by the kernel, or passed unmarked. */
static bool trunc_one(enum mode mode, const struct pkt *p, char *why,
		      size_t why_len)
{
	struct faith_stats want = want_stats(FAITH_MALFORMED, false);
	struct outcome o = run_mode(mode, p);

	if (p->len < min_run_len(mode)) {
		if (o.err == -EINVAL || (!o.err && o.pass && !o.captured &&
					 (p->len < ETH_HLEN ||
					  stats_eq(&o.st, &want))))
			return true;
		snprintf(why, why_len, "len %zu: err %d captured %d",
			 p->len, o.err, o.captured);
		return false;
	}
	if (!o.err && o.pass && o.intact && !o.captured &&
	    stats_eq(&o.st, &want))
		return true;
	snprintf(why, why_len, "len %zu: err %d pass %d captured %d "
		 "malformed %llu packets %llu", p->len, o.err, o.pass,
		 o.captured, o.st.malformed, o.st.packets);
	return false;
}

static void test_truncation(int i, enum mode mode, bool fix_plen)
{
	struct pkt full, p;
	char why[160] = "";
	size_t len, bad = 0;

	build(&full, &trunc_cases[i].spec);
	set_control(1, MARK);
	for (len = 0; len < full.len; len++) {
		p = full;
		truncate_pkt(&p, len, fix_plen);
		if (!trunc_one(mode, &p, bad ? NULL : why, bad ? 0 : sizeof(why)))
			bad++;
	}
	if (!tl_check(!bad, "%s: %s cut at every length 0..%zu (%s): never "
		      "captured, malformed counted from %zu bytes",
		      mode_name[mode], trunc_cases[i].name, full.len - 1,
		      fix_plen ? "payload_len fixed up" : "payload_len kept",
		      min_run_len(mode)))
		tl_diag("%zu lengths wrong, first: %s", bad, why);
}

static void test_untruncated(int i, enum mode mode)
{
	struct pkt p;
	struct outcome o;

	build(&p, &trunc_cases[i].spec);
	set_control(1, MARK);
	o = run_mode(mode, &p);
	tl_check(!o.err && o.captured, "%s: %s uncut (%zu bytes) is captured",
		 mode_name[mode], trunc_cases[i].name, p.len);
}

/* ---- faith_tc: the mark itself; faith_tc_meta --------------------------- */

static void test_tc_mark(void)
{
	const struct spec tcp = { .ip = { TCP } };
	struct outcome o;
	struct pkt p;

	build(&p, &tcp);
	set_control(1, 0xdeadbeef);
	o = run_tc_prog(skel->progs.faith_tc, &p);
	tl_check(!o.err && o.mark == 0xdeadbeef,
		 "tc: captured packet gets control.mark (0xdeadbeef)");
	set_control(1, MARK);
}

/*
 * BPF_PROG_TEST_RUN cannot give an skb XDP metadata, so only the no-metadata
 * path of faith_tc_meta is covered here; the XDP -> TC hand-off is covered
 * end to end (XDP and TC attached to a veth pair) by the e2e tests.
 */
static void test_tc_meta(void)
{
	const struct spec tcp = { .ip = { TCP } };
	struct faith_stats none = { 0 };
	struct outcome o;
	struct pkt p;

	build(&p, &tcp);
	set_control(1, MARK);
	o = run_tc_prog(skel->progs.faith_tc_meta, &p);
	tl_check(!o.err && o.pass && o.mark == 0 && stats_eq(&o.st, &none),
		 "tc_meta: faith TCP without metadata: pass, mark 0, no stats");
}

/* ---- faith_lookup ------------------------------------------------------- */

enum relay { R_NONE = 0, R_PORT = 1, R_ALL = 2 };
#define RELAY_PORT	443

static int relay_fd[3] = { -1, -1, -1 };	/* by enum relay */
static uint64_t relay_cookie[3];

static int listen_v6(void)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int one = 1, fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static uint64_t cookie_of(int fd)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);

	getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len);
	return cookie;
}

/* Make the relays map hold exactly the relays in `want`. */
static int relays_set(int want)
{
	static const uint32_t key[3] = { 0, RELAY_PORT, FAITH_RELAY_ALL_PORTS };
	int r, err = 0;

	for (r = R_PORT; r <= R_ALL; r++) {
		uint64_t fd = (uint64_t)relay_fd[r];

		if (want & r)
			err = err ? err : bpf_map__update_elem(
				skel->maps.relays, &key[r], sizeof(key[r]),
				&fd, sizeof(fd), BPF_ANY);
		else
			bpf_map__delete_elem(skel->maps.relays, &key[r],
					     sizeof(key[r]), 0);
	}
	return err;
}

struct lookup_case {
	const char *name;
	int family, protocol;
	const char *local;	/* destination address */
	uint16_t port;		/* destination port */
	int relays;		/* in the map */
	bool gated;
	int ret;		/* SK_PASS / SK_DROP */
	int chosen;		/* enum relay */
};

static const struct lookup_case lookup_cases[] = {
	{ "port relay for its port", AF_INET6, IPPROTO_TCP, FAITH_A,
	  RELAY_PORT, R_PORT | R_ALL, false, SK_PASS, R_PORT },
	{ "all-ports relay for another port", AF_INET6, IPPROTO_TCP, FAITH_A,
	  80, R_PORT | R_ALL, false, SK_PASS, R_ALL },
	{ "only the all-ports relay", AF_INET6, IPPROTO_TCP, FAITH_B,
	  RELAY_PORT, R_ALL, false, SK_PASS, R_ALL },
	{ "port relay, other port, no all-ports relay: drop", AF_INET6,
	  IPPROTO_TCP, FAITH_A, 80, R_PORT, false, SK_DROP, R_NONE },
	{ "no relay: drop", AF_INET6, IPPROTO_TCP, FAITH_A, RELAY_PORT,
	  R_NONE, false, SK_DROP, R_NONE },
	{ "destination not in a prefix: not ours", AF_INET6, IPPROTO_TCP,
	  OTHER, RELAY_PORT, R_PORT | R_ALL, false, SK_PASS, R_NONE },
	{ "destination past the /96: not ours", AF_INET6, IPPROTO_TCP,
	  NEAR_96, RELAY_PORT, R_PORT | R_ALL, false, SK_PASS, R_NONE },
	{ "keepfaith 0: not ours", AF_INET6, IPPROTO_TCP, FAITH_A, RELAY_PORT,
	  R_PORT | R_ALL, true, SK_PASS, R_NONE },
	{ "keepfaith 0, no relay: not dropped", AF_INET6, IPPROTO_TCP, FAITH_A,
	  RELAY_PORT, R_NONE, true, SK_PASS, R_NONE },
	{ "UDP: not ours", AF_INET6, IPPROTO_UDP, FAITH_A, RELAY_PORT,
	  R_PORT | R_ALL, false, SK_PASS, R_NONE },
	{ "AF_INET: not ours", AF_INET, IPPROTO_TCP, "192.0.2.1", RELAY_PORT,
	  R_PORT | R_ALL, false, SK_PASS, R_NONE },
};

static int run_lookup(int family, int protocol, const char *local,
		      uint16_t port, int *ret, uint64_t *cookie)
{
	struct bpf_sk_lookup ctx = {
		.family = family, .protocol = protocol,
		.local_port = port, .remote_port = htons(40000),
	};
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		.ctx_out = &ctx, .ctx_size_out = sizeof(ctx),
		.repeat = 1);
	int err;

	if (family == AF_INET6) {
		inet_pton(AF_INET6, local, ctx.local_ip6);
		inet_pton(AF_INET6, CLIENT, ctx.remote_ip6);
	} else {
		inet_pton(AF_INET, local, &ctx.local_ip4);
		inet_pton(AF_INET, "198.51.100.1", &ctx.remote_ip4);
	}
	stats_reset();
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.faith_lookup),
				     &opts);
	*ret = (int)opts.retval;
	*cookie = ctx.cookie;
	return err;
}

static void test_lookup_case(const struct lookup_case *c)
{
	struct faith_stats want = { 0 }, got;
	uint64_t cookie = 0, want_cookie = relay_cookie[c->chosen];
	int err, ret = -1;

	if (c->chosen)
		want.assigned = 1;
	else if (c->ret == SK_DROP)
		want.no_relay = 1;
	set_control(!c->gated, MARK);
	err = relays_set(c->relays);
	if (!err)
		err = run_lookup(c->family, c->protocol, c->local, c->port,
				 &ret, &cookie);
	got = stats_sum();
	if (tl_check(!err && ret == c->ret && cookie == want_cookie &&
		     stats_eq(&got, &want), "%s sk_lookup: %s", lookup_label, c->name))
		return;
	tl_diag("err %d ret %d (want %d) cookie %#llx (want %#llx)", err, ret,
		c->ret, (unsigned long long)cookie,
		(unsigned long long)want_cookie);
	stats_print("got", &got);
}

/* Closing a relay removes it from the map: its connections are dropped. */
static void test_lookup_closed(void)
{
	uint32_t port = RELAY_PORT;
	uint64_t value = 0, cookie = 0;
	int err, ret = -1;

	set_control(1, MARK);
	relays_set(R_PORT);
	err = bpf_map__lookup_elem(skel->maps.relays, &port, sizeof(port),
				   &value, sizeof(value), 0);
	tl_check(!err && value == relay_cookie[R_PORT],
		 "relays map: lookup gives the relay's socket cookie");
	close(relay_fd[R_PORT]);
	relay_fd[R_PORT] = -1;
	err = bpf_map__lookup_elem(skel->maps.relays, &port, sizeof(port),
				   &value, sizeof(value), 0);
	tl_check(err == -ENOENT, "relays map: closed relay is gone (%d)", err);
	err = run_lookup(AF_INET6, IPPROTO_TCP, FAITH_A, RELAY_PORT, &ret,
			 &cookie);
	tl_check(!err && ret == SK_DROP && cookie == 0 &&
		 stats_sum().no_relay == 1,
		 "sk_lookup: relay closed: drop, no_relay counted");
}

static void test_lookup(void)
{
	size_t i;
	int r;

	for (r = R_PORT; r <= R_ALL; r++) {
		relay_fd[r] = listen_v6();
		relay_cookie[r] = relay_fd[r] < 0 ? 0 : cookie_of(relay_fd[r]);
	}
	if (!tl_check(relay_fd[R_PORT] >= 0 && relay_fd[R_ALL] >= 0 &&
		      relay_cookie[R_PORT] && relay_cookie[R_ALL],
		      "two [::1] listeners with socket cookies"))
		goto out;
	for (i = 0; i < ARRAY_SIZE(lookup_cases); i++)
		test_lookup_case(&lookup_cases[i]);
	test_lookup_closed();
out:
	relays_set(R_NONE);
	for (r = R_PORT; r <= R_ALL; r++)
		if (relay_fd[r] >= 0)
			close(relay_fd[r]);
}

/* ---- setup -------------------------------------------------------------- */

static int add_prefix(const char *text)
{
	struct faith_prefix_value value = { 0 };
	struct faith_prefix_key key;
	char why[128];
	int err;

	err = faith_prefix_parse(text, &key, why, sizeof(why));
	if (err) {
		printf("# %s\n", why);
		return err;
	}
	return bpf_map__update_elem(skel->maps.prefixes, &key, sizeof(key),
				    &value, sizeof(value), BPF_NOEXIST);
}

/* Derive the datapath's prefix index from the trie, as faith-loader does. */
static int rebuild_index(__u32 *nlens)
{
	int meta = bpf_map__fd(skel->maps.pindex_meta);
	int err = faith_pindex_rebuild(bpf_map__fd(skel->maps.prefixes),
				       bpf_map__fd(skel->maps.pindex), meta);

	return err ? err : faith_pindex_nlens(meta, nlens);
}

/*
 * Seven distinct lengths are more than the index serves: the datapath then
 * asks the LPM trie.  The extra prefixes lie in 3fff::/20, away from every
 * address the cases use.
 */
static void switch_to_trie(void)
{
	static const char *const extra[] = {
		"3fff:100::/24", "3fff:200::/28", "3fff:300::/32", "3fff:400::/36",
		"3fff:500::/40",
	};
	__u32 nlens = 0;
	int err = 0;

	for (size_t i = 0; !err && i < ARRAY_SIZE(extra); i++)
		err = add_prefix(extra[i]);
	if (!err)
		err = rebuild_index(&nlens);
	tl_check(!err && nlens == FAITH_PINDEX_TRIE,
		 "7 distinct prefix lengths: the datapath falls back to the trie (%d, %u)",
		 err, nlens);
	lookup_label = "trie";
}

/* Is a TCP SYN to addr captured by the TC classifier (gate open)? */
static int lookup_captures(const struct in6_addr *addr)
{
	char text[INET6_ADDRSTRLEN];
	struct spec sp = { .ip = { .l4 = IPPROTO_TCP } };
	struct outcome o;
	struct pkt p;

	inet_ntop(AF_INET6, addr, text, sizeof(text));
	sp.ip.dst = text;
	build(&p, &sp);
	set_control(1, MARK);
	o = run_mode(TC, &p);
	return !o.err && o.captured;
}

/*
 * A big table in the index: 100,000 /96 prefixes, one length.  Addresses
 * inside sampled prefixes are captured, neighbours outside are not.
 */
static void test_big_index(void)
{
	struct faith_prefix_value value = { 0 };
	struct faith_prefix_key key = { .prefixlen = 96 };
	int fd = bpf_map__fd(skel->maps.prefixes), err = 0, bad = 0;
	const __u32 n = 100000;
	__u32 nlens = 0, i;

	for (i = 0; !err && i < n; i++) {
		/* 2001:db8:5:X:Y::/96 */
		key.addr[0] = 0x20; key.addr[1] = 0x01; key.addr[2] = 0x0d;
		key.addr[3] = 0xb8; key.addr[5] = 0x05;
		key.addr[6] = (__u8)(i >> 24); key.addr[7] = (__u8)(i >> 16);
		key.addr[8] = (__u8)(i >> 8); key.addr[9] = (__u8)i;
		err = bpf_map_update_elem(fd, &key, &value, BPF_NOEXIST);
	}
	if (!err)
		err = rebuild_index(&nlens);
	if (!tl_check(!err && nlens == 2, "100,000 /96 prefixes in the index (%d, %u lengths)",
		      err, nlens))
		return;
	for (i = 0; i < n; i += 997) {
		struct in6_addr in, out;

		memcpy(&in, key.addr, 16);
		in.s6_addr[6] = (__u8)(i >> 24); in.s6_addr[7] = (__u8)(i >> 16);
		in.s6_addr[8] = (__u8)(i >> 8); in.s6_addr[9] = (__u8)i;
		in.s6_addr[12] = 192; in.s6_addr[15] = (__u8)i;
		out = in;
		out.s6_addr[11] = 1;	/* past the /96 */
		bad += !lookup_captures(&in) + lookup_captures(&out);
	}
	tl_check(!bad, "sampled addresses inside are captured, outside not (%d wrong)", bad);
}

static int setup(void)
{
	__u32 nlens = 0;
	struct bpf_map *map;
	size_t i;
	int err;

	ncpus = libbpf_num_possible_cpus();
	skel = faith_bpf__open();
	if (!tl_check(skel && ncpus > 0, "open the BPF object"))
		return -1;
	bpf_object__for_each_map(map, skel->obj)	/* never pin */
		bpf_map__set_pin_path(map, NULL);
	err = faith_bpf__load(skel);
	if (!tl_check(!err, "load the BPF object, unpinned maps")) {
		tl_diag("%d (%s)", err, strerror(-err));
		return -1;
	}
	for (i = 0; !err && i < ARRAY_SIZE(faith_prefixes); i++)
		err = add_prefix(faith_prefixes[i]);
	if (!err)
		err = rebuild_index(&nlens);
	if (!tl_check(!err && nlens == 2, "prefixes 64:ff9b::/96, 2001:db8:100::/48, indexed"))
		return -1;
	return 0;
}

int main(void)
{
	size_t i;
	int m;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		tl_skip("test_datapath: needs root (BPF_PROG_TEST_RUN)");
		return tl_report();
	}
	if (setup())
		goto out;

	/* The same tables through the prefix index, then through the trie. */
	for (int pass = 0; pass < 2; pass++) {
		if (pass)
			switch_to_trie();
		for (m = TC; m <= XDP; m++) {
			printf("# %s %s: packet table\n", lookup_label, mode_name[m]);
			for (i = 0; i < ARRAY_SIZE(pkt_cases); i++)
				test_pkt_case(&pkt_cases[i], m);
		}
		printf("# %s sk_lookup\n", lookup_label);
		test_lookup();
		if (!pass) {
			printf("# a big table\n");
			test_big_index();
		}
	}
	test_tc_mark();
	test_tc_meta();

	printf("# truncated packets\n");
	for (m = TC; m <= XDP; m++)
		for (i = 0; i < ARRAY_SIZE(trunc_cases); i++) {
			test_untruncated(i, m);
			test_truncation(i, m, false);
			test_truncation(i, m, true);
		}

out:
	faith_bpf__destroy(skel);
	return tl_report();
}

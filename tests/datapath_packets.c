// SPDX-License-Identifier: BSD-2-Clause
/*
 * faith_tc and faith_xdp on crafted packets: one table of packets and their
 * verdicts, run in both modes; a few captured packets cut at every length;
 * the mark faith_tc sets; faith_tc_meta without metadata.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>

#include "datapath.h"

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
	if (dp_check(ok, "%s %s: %s", lookup_label, mode_name[mode], c->name))
		return;
	dp_diag("err %d pass %d intact %d captured %d (want %d) mark %#x "
		"meta %#x/%u", o.err, o.pass, o.intact, o.captured, capture,
		o.mark, o.meta.magic, o.meta.verdict);
	stats_print("got", &o.st);
	stats_print("want", &want);
}

void test_pkt_table(enum mode mode)
{
	size_t i;

	printf("# %s %s: packet table\n", lookup_label, mode_name[mode]);
	for (i = 0; i < ARRAY_SIZE(pkt_cases); i++)
		test_pkt_case(&pkt_cases[i], mode);
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
		pkt_set_plen(p, IP6_OFF);
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
	if (!dp_check(!bad, "%s: %s cut at every length 0..%zu (%s): never "
		      "captured, malformed counted from %zu bytes",
		      mode_name[mode], trunc_cases[i].name, full.len - 1,
		      fix_plen ? "payload_len fixed up" : "payload_len kept",
		      min_run_len(mode)))
		dp_diag("%zu lengths wrong, first: %s", bad, why);
}

static void test_untruncated(int i, enum mode mode)
{
	struct pkt p;
	struct outcome o;

	build(&p, &trunc_cases[i].spec);
	set_control(1, MARK);
	o = run_mode(mode, &p);
	dp_check(!o.err && o.captured, "%s: %s uncut (%zu bytes) is captured",
		 mode_name[mode], trunc_cases[i].name, p.len);
}

void test_truncated(void)
{
	size_t i;
	int m;

	printf("# truncated packets\n");
	for (m = TC; m <= XDP; m++)
		for (i = 0; i < ARRAY_SIZE(trunc_cases); i++) {
			test_untruncated(i, m);
			test_truncation(i, m, false);
			test_truncation(i, m, true);
		}
}

/* ---- faith_tc: the mark itself; faith_tc_meta --------------------------- */

void test_tc_mark(void)
{
	const struct spec tcp = { .ip = { TCP } };
	struct outcome o;
	struct pkt p;

	build(&p, &tcp);
	set_control(1, 0xdeadbeef);
	o = run_tc_prog(skel->progs.faith_tc, &p);
	dp_check(!o.err && o.mark == 0xdeadbeef,
		 "tc: captured packet gets control.mark (0xdeadbeef)");
	set_control(1, MARK);
}

/*
 * BPF_PROG_TEST_RUN cannot give an skb XDP metadata, so only the no-metadata
 * path of faith_tc_meta is covered here; the XDP -> TC hand-off is covered
 * end to end (XDP and TC attached to a veth pair) by the e2e tests.
 */
void test_tc_meta(void)
{
	const struct spec tcp = { .ip = { TCP } };
	struct faith_stats none = { 0 };
	struct outcome o;
	struct pkt p;

	build(&p, &tcp);
	set_control(1, MARK);
	o = run_tc_prog(skel->progs.faith_tc_meta, &p);
	dp_check(!o.err && o.pass && o.mark == 0 && stats_eq(&o.st, &none),
		 "tc_meta: faith TCP without metadata: pass, mark 0, no stats");
}


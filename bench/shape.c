// SPDX-License-Identifier: BSD-2-Clause
/*
 * One shape of prefix set: generate its prefixes, load N of them, build the
 * packets and cases, check and time every case (the shape's table), then
 * the same TC cases at each prefix count of the sweep.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_ether.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "bench.h"

/* Counts above FAITH_MAX_PREFIXES are left out. */
const uint32_t sweep_counts[N_SWEEP] = { 1, 100, 1000, 10000, 100000 };
/* The sweep's rounds and runs: fewer than the main tables'. */
#define SWEEP_MAX_ROUNDS	9
#define SWEEP_REPEAT_DIV	2

uint32_t sweep_rounds(const struct options *o)
{
	return o->rounds < SWEEP_MAX_ROUNDS ? o->rounds : SWEEP_MAX_ROUNDS;
}

uint32_t sweep_repeat(const struct options *o)
{
	return o->repeat / SWEEP_REPEAT_DIV ? o->repeat / SWEEP_REPEAT_DIV : 1;
}

bool misses_target(const struct result *r)
{
	return !r->skip && !r->baseline && r->delta > TARGET_NS;
}

/* ---- packets ------------------------------------------------------------- */

#define TCP_DPORT	80
#define TCP_SEQ		0x12345678
#define UDP_DPORT	53
#define UDP_PAYLOAD	32
#define IP4_SRC		0xc0000201	/* 192.0.2.1 */
#define IP4_DST		0xc0000202	/* 192.0.2.2 */

/* Every IPv6 packet comes from 2001:db8:aaaa::1. */
static const uint8_t ip6_src[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0xaa, 0xaa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
};

struct packets {
	struct pkt nomatch, far, match, gen, udp, ipv4;
};

static void build_ip6_tcp(struct pkt *p, const uint8_t dst[16])
{
	size_t ip6;

	p->len = 0;
	pkt_put_eth(p, pkt_mac2, pkt_mac1, ETH_P_IPV6);
	ip6 = pkt_put_ip6(p, IPPROTO_TCP, ip6_src, dst);
	pkt_put_tcp_syn(p, TCP_DPORT, TCP_SEQ, 0);
	pkt_set_plen(p, ip6);
}

static void build_ip6_udp(struct pkt *p, const uint8_t dst[16])
{
	size_t ip6;

	p->len = 0;
	pkt_put_eth(p, pkt_mac2, pkt_mac1, ETH_P_IPV6);
	ip6 = pkt_put_ip6(p, IPPROTO_UDP, ip6_src, dst);
	pkt_put_udp(p, UDP_DPORT, UDP_PAYLOAD);
	pkt_set_plen(p, ip6);
}

static void build_ip4_tcp(struct pkt *p)
{
	size_t ip4;

	p->len = 0;
	pkt_put_eth(p, pkt_mac2, pkt_mac1, ETH_P_IP);
	ip4 = pkt_put_ip4(p, IPPROTO_TCP, IP4_SRC, IP4_DST);
	pkt_put_tcp_syn(p, TCP_DPORT, TCP_SEQ, 0);
	pkt_set_ip4_len(p, ip4);
}

/* gen and nomatch are placeholders until aim_cases() knows the prefixes. */
static void build_packets(struct packets *p, const struct bench *b)
{
	build_ip6_tcp(&p->nomatch, b->near_dst);
	build_ip6_tcp(&p->far, b->far_dst);
	build_ip6_tcp(&p->match, b->match_dst);
	build_ip6_udp(&p->udp, b->match_dst);
	build_ip4_tcp(&p->ipv4);
	build_ip6_tcp(&p->gen, b->near_dst);
}

/* ---- cases --------------------------------------------------------------- */

static void init_cases(struct bench_case *cases, const struct bench *b,
		       const struct packets *p)
{
#define CASE(i, n, k, fd, pk, base, exp) do {				\
	snprintf(cases[i].name, sizeof(cases[i].name), "%s", (n));	\
	cases[i].kind = (k);						\
	cases[i].prog_fd = (fd);					\
	cases[i].pkt = (pk);						\
	cases[i].baseline = (base);					\
	cases[i].expect = (exp);					\
	cases[i].skip = cases[i].bad = false;				\
} while (0)
	CASE(C_EMPTY_TC, "empty TC program", KIND_TC, b->empty_tc_fd,
	     &p->match, -1, EXPECT_NONE);
	CASE(C_NOMATCH, "", /* aim_cases() names it */
	     KIND_TC, b->tc_fd, &p->nomatch, C_EMPTY_TC, EXPECT_PASS);
	CASE(C_NOMATCH_FAR, "TC: IPv6 TCP, no match, other /32 (" FAR_DST ")",
	     KIND_TC, b->tc_fd, &p->far, C_EMPTY_TC, EXPECT_PASS);
	CASE(C_MATCH, "TC: IPv6 TCP SYN to " MATCH_DST " port 80, captured + marked",
	     KIND_TC, b->tc_fd, &p->match, C_EMPTY_TC, EXPECT_CAPTURE);
	CASE(C_GEN, "", KIND_TC, b->tc_fd, &p->gen, C_EMPTY_TC,
	     EXPECT_CAPTURE);
	CASE(C_UDP, "TC: IPv6 UDP to " MATCH_DST " (not TCP: no lookup)",
	     KIND_TC, b->tc_fd, &p->udp, C_EMPTY_TC, EXPECT_PASS);
	CASE(C_IPV4, "TC: IPv4 TCP", KIND_TC, b->tc_fd, &p->ipv4,
	     C_EMPTY_TC, EXPECT_PASS);
	CASE(C_EMPTY_XDP, "empty XDP program (behind the metadata-reset wrapper)",
	     KIND_XDP, b->empty_xdp_wrap_fd, &p->match, -1, EXPECT_NONE);
	CASE(C_XDP_MATCH, "XDP: IPv6 TCP SYN to " MATCH_DST ", captured (metadata written)",
	     KIND_XDP, b->xdp_wrap_fd, &p->match, C_EMPTY_XDP,
	     EXPECT_CAPTURE);
	CASE(C_XDP_NOMATCH, "",
	     KIND_XDP, b->xdp_wrap_fd, &p->nomatch, C_EMPTY_XDP, EXPECT_PASS);
#undef CASE
}

/* "the longest search: 1 probe, 2 block tables", or the trie's. */
static void search_text(const struct lookup *l, const struct aim_pick *p,
			char *buf, size_t len)
{
	if (!lookup_is_index(l)) {
		snprintf(buf, len, "a long trie walk");
		return;
	}
	snprintf(buf, len, "the longest search: %d probe%s, %d block table%s",
		 p->probes, p->probes == 1 ? "" : "s", p->steps,
		 p->steps == 1 ? "" : "s");
}

/*
 * Aim the "match generated" case at the loaded prefix aim_match() picks,
 * and the "no match, same /32" cases at aim_miss()'s address: which depends
 * on the index, so it is redone after every set_count().  Returns the
 * generated prefix's length, 0 if there is none (that case is skipped).
 */
static uint32_t aim_cases(const struct bench *b, const struct faith_prefix_key *keys,
			  struct bench_case *cases, struct packets *pk)
{
	char text[64], addr[INET6_ADDRSTRLEN];
	struct aim_pick p;
	bool found = aim_match(b, keys, &p);
	uint32_t gen_len = found ? p.len : 0;

	search_text(&b->lookup, &p, text, sizeof(text));
	snprintf(cases[C_GEN].name, sizeof(cases[C_GEN].name),
		 "TC: IPv6 TCP SYN into a generated /%u (%s), captured + marked",
		 p.len, text);
	if (!found)
		snprintf(cases[C_GEN].name, sizeof(cases[C_GEN].name),
			 "TC: IPv6 TCP SYN into a generated prefix, captured + marked");
	cases[C_GEN].skip = !found;
	if (found)
		build_ip6_tcp(&pk->gen, p.addr);

	aim_miss(b, keys, &p);
	build_ip6_tcp(&pk->nomatch, p.addr);
	inet_ntop(AF_INET6, p.addr, addr, sizeof(addr));
	search_text(&b->lookup, &p, text, sizeof(text));
	snprintf(cases[C_NOMATCH].name, sizeof(cases[C_NOMATCH].name),
		 "TC: IPv6 TCP, no match, same /32 (%s, %s)", addr, text);
	snprintf(cases[C_XDP_NOMATCH].name, sizeof(cases[C_XDP_NOMATCH].name),
		 "XDP: IPv6 TCP, no match, same /32 (%s, %s)", addr, text);
	return gen_len;
}

/* ---- one shape ----------------------------------------------------------- */

/* What the runs of one shape work on. */
struct shape_work {
	struct bench *b;
	enum shape s;
	struct shape_run *sr;
	struct faith_prefix_key *keys;
	uint32_t gen_count;		/* keys generated: the most loaded */
	struct bench_case cases[N_CASES];
	struct packets pkts;
};

/* Enough prefixes for the shape's table and, if it will run, the sweep. */
static uint32_t count_to_generate(const struct options *o)
{
	uint32_t count = o->prefixes;

	if (o->scaling == SCALING_NEVER)
		return count;
	for (size_t i = 0; i < N_SWEEP; i++)
		if (sweep_counts[i] <= FAITH_MAX_PREFIXES &&
		    sweep_counts[i] > count)
			count = sweep_counts[i];
	return count;
}

static void warn_lookup(const struct shape_work *w)
{
	char text[128];

	if (w->b->lookup.nlens == shapes[w->s].want_nlens)
		return;
	lookup_text(&w->b->lookup, text, sizeof(text));
	fprintf(stderr, "bench_datapath: WARNING: %s: the datapath uses %s\n",
		shapes[w->s].title, text);
}

/* The shape's table: every case, with o->prefixes prefixes loaded. */
static int run_table(struct shape_work *w)
{
	struct bench *b = w->b;
	const struct options *o = &b->o;
	struct shape_run *sr = w->sr;
	int n_cases = o->xdp ? N_CASES : C_EMPTY_XDP, err;
	char what[96];

	err = set_count(b, w->keys, o->prefixes);
	if (err)
		return err;
	sr->lookup = b->lookup;
	warn_lookup(w);
	build_packets(&w->pkts, b);
	init_cases(w->cases, b, &w->pkts);
	sr->gen_len = aim_cases(b, w->keys, w->cases, &w->pkts);
	if (o->xdp && !b->probe.done)
		probe_meta(b, &w->pkts.match);
	for (int i = 0; i < n_cases; i++)
		verify(&w->cases[i], b->mark);
	snprintf(what, sizeof(what), "%s, %u prefixes", shapes[w->s].id,
		 o->prefixes);
	err = run_rounds(w->cases, n_cases, o->rounds, o->repeat, what);
	if (err)
		return err;
	for (int i = 0; i < N_CASES; i++) {
		sr->res[i] = i < n_cases ? summarize(w->cases, i, o->rounds) :
					   (struct result){ .skip = true };
		memcpy(sr->names[i], w->cases[i].name, sizeof(sr->names[i]));
	}
	sr->done = true;
	return 0;
}

/* The row of the shape's own prefix count: its table, with more rounds. */
static void copy_table_row(const struct shape_run *sr, struct sweep_row *row)
{
	row->lookup = sr->lookup;
	row->gen_len = sr->gen_len;
	memcpy(row->res, sr->res, sizeof(row->res));
	for (int i = 0; i < N_SWEEP_CASES; i++)
		row->bad |= row->res[i].bad;
}

/* One row of the sweep: the TC cases with `count` prefixes loaded. */
static int run_sweep_row(struct shape_work *w, struct sweep_row *row)
{
	struct bench *b = w->b;
	uint32_t rounds = sweep_rounds(&b->o);
	char what[96];
	int err;

	err = set_count(b, w->keys, row->count);
	if (err)
		return err;
	row->lookup = b->lookup;
	row->gen_len = aim_cases(b, w->keys, w->cases, &w->pkts);
	for (int i = 0; i < N_SWEEP_CASES; i++)
		row->bad |= !verify(&w->cases[i], b->mark);
	snprintf(what, sizeof(what), "%s, %u prefixes", shapes[w->s].id,
		 row->count);
	err = run_rounds(w->cases, N_SWEEP_CASES, rounds,
			 sweep_repeat(&b->o), what);
	if (err)
		return err;
	for (int i = 0; i < N_SWEEP_CASES; i++)
		row->res[i] = summarize(w->cases, i, rounds);
	return 0;
}

static bool wants_sweep(const struct options *o, const struct shape_run *sr)
{
	bool swept = o->scaling == SCALING_ALWAYS;

	if (o->scaling == SCALING_AUTO)
		for (int i = C_NOMATCH; i <= C_GEN; i++)
			swept |= misses_target(&sr->res[i]);
	return swept;
}

static int run_sweep(struct shape_work *w)
{
	const struct options *o = &w->b->o;
	struct shape_run *sr = w->sr;
	int err;

	sr->swept = wants_sweep(o, sr);
	for (size_t k = 0; k < N_SWEEP && sr->swept; k++) {
		struct sweep_row *row = &sr->rows[sr->n_rows];

		if (sweep_counts[k] > w->gen_count)
			continue;
		row->count = sweep_counts[k];
		if (row->count == o->prefixes) {
			copy_table_row(sr, row);
		} else {
			err = run_sweep_row(w, row);
			if (err)
				return err;
		}
		sr->n_rows++;
	}
	return 0;
}

/* One shape: its table, then its sweep; the trie is left empty. */
int run_shape(struct bench *b, enum shape s, struct shape_run *sr)
{
	const struct options *o = &b->o;
	struct shape_work w = { .b = b, .s = s, .sr = sr };
	uint8_t avoid[2][16];
	uint32_t *ns;
	int err = -ENOMEM;

	memcpy(avoid[0], b->near_dst, 16);
	memcpy(avoid[1], b->far_dst, 16);
	w.gen_count = count_to_generate(o);
	fprintf(stderr, "bench_datapath: %s: generating and loading %u prefixes\n",
		shapes[s].title, o->prefixes);
	w.keys = gen_prefixes(s, w.gen_count, (const uint8_t (*)[16])avoid, 2);
	ns = calloc((size_t)N_CASES * o->rounds, sizeof(*ns));
	if (!w.keys || !ns) {
		fprintf(stderr, "bench_datapath: out of memory\n");
		goto out;
	}
	for (int i = 0; i < N_CASES; i++)
		w.cases[i].ns = ns + (size_t)i * o->rounds;
	err = run_table(&w);
	if (!err)
		err = run_sweep(&w);
	if (!err)
		err = set_count(b, w.keys, 0);
out:
	free(ns);
	free(w.keys);
	return err;
}

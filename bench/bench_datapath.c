// SPDX-License-Identifier: BSD-2-Clause
/*
 * bench_datapath: nanoseconds per packet of the faith classifier.
 *
 * Loads bpf/faith.bpf.o (no map pinned) and, for each of three shapes of
 * prefix set, fills the `prefixes` LPM trie with N prefixes (64:ff9b::/96
 * included), rebuilds the prefix index from it as faith-loader does after
 * every change, opens the keepfaith gate, and times faith_tc and faith_xdp
 * with BPF_PROG_TEST_RUN beside empty programs.  Cases are interleaved in
 * rounds; the tables give per-case medians over the rounds.  See
 * bench/README.md for how to read the output.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/utsname.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "maps.h"
#include "pindex.h"
#include "prefix.h"
#include "util.h"
#include "faith.skel.h"
#include "empty.skel.h"

#define TARGET_NS		15.0
#define DEFAULT_PREFIXES	10000
#define DEFAULT_ROUNDS		15
#define DEFAULT_REPEAT		1000000
#define GEN_SEED		0x6661697468ULL	/* "faith" */
/* A destination inside 2001:db8::/32, which holds about half of the
 * generated prefixes, but in none of them. */
#define NEAR_DST		"2001:db8:ffff::1"
/* A destination in none of the generated prefixes' /32s (a public DNS
 * server): its trie walk leaves the populated subtrees near the root. */
#define FAR_DST			"2001:4860:4860::8888"
#define MATCH_DST		"64:ff9b::c000:202"

/* Prefix counts of the scaling sweep (capped at FAITH_MAX_PREFIXES). */
static const uint32_t sweep_counts[] = { 1, 100, 1000, 10000, 100000 };
#define N_SWEEP		(sizeof(sweep_counts) / sizeof(sweep_counts[0]))
/* The sweep's rounds and runs: fewer than the main tables'. */
#define SWEEP_MAX_ROUNDS	9
#define SWEEP_REPEAT_DIV	2

/* ------------------------------------------------------------------ */
/* Test packets                                                        */

#define ETH_HDR		14
#define IP6_HDR		40
#define IP4_HDR		20
#define TCP_HDR		20
#define UDP_HDR		8
#define UDP_PAYLOAD	32

struct packet {
	uint8_t data[128];
	uint32_t len;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint8_t *put_eth(struct packet *pkt, uint16_t ethertype)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };

	memset(pkt, 0, sizeof(*pkt));
	memcpy(pkt->data, dst, 6);
	memcpy(pkt->data + 6, src, 6);
	put16(pkt->data + 12, ethertype);
	return pkt->data + ETH_HDR;
}

/* A TCP SYN, no options, checksum left zero (nothing checks it). */
static void put_tcp_syn(uint8_t *p, uint16_t dport)
{
	put16(p, 40000);		/* source port */
	put16(p + 2, dport);
	put32(p + 4, 0x12345678);	/* sequence number */
	p[12] = (TCP_HDR / 4) << 4;	/* data offset */
	p[13] = 0x02;			/* SYN */
	put16(p + 14, 64240);		/* window */
}

static uint8_t *put_ip6(struct packet *pkt, uint8_t nexthdr,
			uint16_t payload_len, const uint8_t dst[16])
{
	static const uint8_t src[16] = {
		0x20, 0x01, 0x0d, 0xb8, 0xaa, 0xaa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
	};
	uint8_t *ip6 = put_eth(pkt, 0x86dd);

	ip6[0] = 0x60;			/* version 6 */
	put16(ip6 + 4, payload_len);
	ip6[6] = nexthdr;
	ip6[7] = 64;			/* hop limit */
	memcpy(ip6 + 8, src, 16);
	memcpy(ip6 + 24, dst, 16);
	pkt->len = ETH_HDR + IP6_HDR + payload_len;
	return ip6 + IP6_HDR;
}

static void build_ip6_tcp(struct packet *pkt, const uint8_t dst[16])
{
	put_tcp_syn(put_ip6(pkt, 6, TCP_HDR, dst), 80);
}

static void build_ip6_udp(struct packet *pkt, const uint8_t dst[16])
{
	uint8_t *udp = put_ip6(pkt, 17, UDP_HDR + UDP_PAYLOAD, dst);

	put16(udp, 40000);
	put16(udp + 2, 53);
	put16(udp + 4, UDP_HDR + UDP_PAYLOAD);
}

static void build_ip4_tcp(struct packet *pkt)
{
	uint8_t *ip = put_eth(pkt, 0x0800);

	ip[0] = 0x45;			/* version 4, 20-byte header */
	put16(ip + 2, IP4_HDR + TCP_HDR);
	ip[8] = 64;			/* TTL */
	ip[9] = 6;			/* TCP */
	put32(ip + 12, 0xc0000201);	/* 192.0.2.1 */
	put32(ip + 16, 0xc0000202);	/* 192.0.2.2 */
	put_tcp_syn(ip + IP4_HDR, 80);
	pkt->len = ETH_HDR + IP4_HDR + TCP_HDR;
}

static void addr_parse(const char *text, uint8_t addr[16])
{
	if (inet_pton(AF_INET6, text, addr) != 1)
		abort();
}

/* ------------------------------------------------------------------ */
/* Prefix sets                                                         */

/*
 * The shapes of prefix set measured.  What decides the datapath's cost is
 * the number of distinct prefix lengths: the index takes one hash probe per
 * length, up to FAITH_PINDEX_LENS lengths; beyond, the datapath walks the
 * LPM trie.
 */
enum shape { SHAPE_ONE, SHAPE_RFC6052, SHAPE_MANY, N_SHAPES };

static const struct shape_desc {
	const char *id;		/* name for --shapes */
	const char *title;
	const char *prefixes;	/* what the generated prefixes are */
	uint32_t want_nlens;	/* the lookup the datapath should use */
} shapes[N_SHAPES] = {
	[SHAPE_ONE] = {
		"one", "(a) one length: all /96",
		"all /96: 2001:db8:XXXX:YYYY:ZZZZ::/96 and 3fff:0XXX:XXXX:XXXX:XXXX::/96 "
		"(per-customer network-specific prefixes, the common deployment)",
		1,
	},
	[SHAPE_RFC6052] = {
		"rfc6052", "(b) RFC 6052 lengths: /32 /40 /48 /56 /64 /96",
		"the six RFC 6052 lengths drawn uniformly (/32s in 3fff::/20 only), "
		"inside 2001:db8::/32 and 3fff::/20",
		6,
	},
	[SHAPE_MANY] = {
		"65", "(c) 65 lengths: /32../96",
		"every length /32../96 drawn uniformly (/32s in 3fff::/20 only), "
		"inside 2001:db8::/32 and 3fff::/20",
		FAITH_PINDEX_TRIE,
	},
};

static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static bool key_covers(const struct faith_prefix_key *key,
		       const uint8_t addr[16])
{
	uint32_t bytes = key->prefixlen / 8, rest = key->prefixlen % 8;

	if (memcmp(key->addr, addr, bytes))
		return false;
	if (!rest)
		return true;
	return ((key->addr[bytes] ^ addr[bytes]) >> (8 - rest)) == 0;
}

/* Open-addressing set of keys, to keep the generated prefixes distinct. */
struct key_set {
	const struct faith_prefix_key **slot;
	size_t mask;
};

static uint64_t key_hash(const struct faith_prefix_key *key)
{
	const uint8_t *p = (const uint8_t *)key;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < sizeof(*key); i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* Insert key; false if an equal key is already there. */
static bool key_set_add(struct key_set *set, const struct faith_prefix_key *key)
{
	size_t i = key_hash(key) & set->mask;

	while (set->slot[i]) {
		if (!memcmp(set->slot[i], key, sizeof(*key)))
			return false;
		i = (i + 1) & set->mask;
	}
	set->slot[i] = key;
	return true;
}

/* One random prefix of the shape, in 2001:db8::/32 or 3fff::/20. */
static void random_prefix(uint64_t *rng, enum shape shape,
			  struct faith_prefix_key *key)
{
	static const uint32_t rfc6052[] = { 32, 40, 48, 56, 64, 96 };
	uint64_t bits[2] = { rng_next(rng), rng_next(rng) };
	uint32_t len, fixed, random_end;

	switch (shape) {
	case SHAPE_ONE:
		len = 96;
		break;
	case SHAPE_RFC6052:
		len = rfc6052[rng_next(rng) % 6];
		break;
	default:
		len = 32 + (uint32_t)(rng_next(rng) % 65);
		break;
	}
	memset(key, 0, sizeof(*key));
	/* A /32 in 2001:db8::/32 would be that /32 itself. */
	if (len > 32 && (rng_next(rng) & 1)) {
		static const uint8_t doc[4] = { 0x20, 0x01, 0x0d, 0xb8 };

		memcpy(key->addr, doc, 4);	/* 2001:db8::/32 */
		fixed = 32;
	} else {
		key->addr[0] = 0x3f;		/* 3fff::/20 (RFC 9637) */
		key->addr[1] = 0xff;
		fixed = 20;
	}
	/* Shape (a): 2001:db8:XXXX:YYYY:ZZZZ::/96, the last 16 bits zero. */
	random_end = shape == SHAPE_ONE ? 80 : len;
	for (uint32_t b = fixed; b < random_end; b++)
		if ((bits[b / 64] >> (b % 64)) & 1)
			key->addr[b / 8] |= (uint8_t)(0x80 >> (b % 8));
	key->prefixlen = len;
}

/*
 * keys[0] = 64:ff9b::/96, then count - 1 distinct random prefixes of the
 * shape, each accepted by faith_prefix_parse and none covering any address
 * in avoid.  Deterministic: the first k keys are the same whatever count is.
 */
static struct faith_prefix_key *gen_prefixes(enum shape shape, uint32_t count,
					     const uint8_t (*avoid)[16],
					     size_t n_avoid)
{
	struct faith_prefix_key *keys = calloc(count, sizeof(*keys));
	struct key_set set = { 0 };
	uint64_t rng = GEN_SEED;
	size_t cap = 16;
	char why[128];

	while (cap < 2 * (size_t)count)
		cap *= 2;
	set.slot = calloc(cap, sizeof(*set.slot));
	set.mask = cap - 1;
	if (!keys || !set.slot) {
		free(keys);
		free(set.slot);
		return NULL;
	}
	if (faith_prefix_parse("64:ff9b::/96", &keys[0], why, sizeof(why)))
		abort();
	key_set_add(&set, &keys[0]);
	for (uint32_t n = 1; n < count;) {
		struct faith_prefix_key *key = &keys[n], check;
		char text[FAITH_PREFIX_STRLEN];
		bool bad = false;

		random_prefix(&rng, shape, key);
		for (size_t i = 0; i < n_avoid && !bad; i++)
			bad = key_covers(key, avoid[i]);
		if (bad)
			continue;
		faith_prefix_format(key, text, sizeof(text));
		if (faith_prefix_parse(text, &check, why, sizeof(why)) ||
		    memcmp(&check, key, sizeof(check)))
			continue;
		if (key_set_add(&set, key))
			n++;
	}
	free(set.slot);
	return keys;
}

/* ------------------------------------------------------------------ */
/* Programs and cases                                                  */

enum kind { KIND_TC, KIND_XDP };

enum expect {
	EXPECT_NONE,		/* baseline: nothing to check */
	EXPECT_PASS,		/* not captured: no mark, no metadata */
	EXPECT_CAPTURE,		/* captured: mark / XDP metadata */
};

struct bench_case {
	char name[160];
	enum kind kind;
	int prog_fd;
	const struct packet *pkt;
	int baseline;		/* index of its empty program, -1 if it is one */
	enum expect expect;
	bool skip;		/* not applicable in this run */
	bool bad;		/* did not behave as expected */
	uint32_t *ns;		/* per round, kernel-reported average ns */
};

struct result {
	double median, delta;
	uint32_t min;
	bool skip, bad, baseline;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_dbl(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median and minimum of a case, and the median of its per-round
 * differences from its baseline (paired: same round, same conditions). */
static struct result summarize(const struct bench_case *cases, int i,
			       uint32_t rounds)
{
	const struct bench_case *c = &cases[i];
	uint32_t *sorted;
	double *d;
	struct result res = {
		.skip = c->skip, .bad = c->bad, .baseline = c->baseline < 0,
	};

	if (c->skip)
		return res;
	sorted = calloc(rounds, sizeof(*sorted));
	d = calloc(rounds, sizeof(*d));
	if (!sorted || !d)
		abort();
	memcpy(sorted, c->ns, rounds * sizeof(*sorted));
	qsort(sorted, rounds, sizeof(*sorted), cmp_u32);
	res.min = sorted[0];
	for (uint32_t r = 0; r < rounds; r++)
		d[r] = sorted[r];
	res.median = median_dbl(d, rounds);
	if (c->baseline >= 0) {
		for (uint32_t r = 0; r < rounds; r++)
			d[r] = (double)c->ns[r] - cases[c->baseline].ns[r];
		res.delta = median_dbl(d, rounds);
	}
	free(sorted);
	free(d);
	return res;
}

static int test_run(int fd, const struct packet *pkt, uint32_t repeat,
		    uint32_t *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = pkt->data,
		.data_size_in = pkt->len,
		.repeat = repeat,
	);
	int err = bpf_prog_test_run_opts(fd, &opts);

	if (err)
		return -errno;
	*ns = opts.duration;
	return 0;
}

/*
 * One XDP test run of `repeat` runs, starting without metadata: its return
 * value, the metadata it leaves (xdp_md.data after the run is the metadata
 * length; data_out starts with the metadata) and their length.
 */
static int xdp_run_meta(int fd, const struct packet *pkt, uint32_t repeat,
			uint32_t *retval, struct faith_meta *meta,
			uint32_t *meta_len)
{
	struct xdp_md in = { .data_end = pkt->len }, ctx = { 0 };
	uint8_t out[512];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = pkt->data,
		.data_size_in = pkt->len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.ctx_in = &in,
		.ctx_size_in = sizeof(in),
		.ctx_out = &ctx,
		.ctx_size_out = sizeof(ctx),
		.repeat = repeat,
	);

	if (bpf_prog_test_run_opts(fd, &opts))
		return -errno;
	*retval = opts.retval;
	*meta_len = ctx.data;
	memset(meta, 0, sizeof(*meta));
	/* The metadata written last sits right before the packet. */
	if (ctx.data >= sizeof(*meta) && ctx.data <= sizeof(out))
		memcpy(meta, out + ctx.data - sizeof(*meta), sizeof(*meta));
	return 0;
}

/* Run a case once with a context and check what the program did. */
static bool verify(struct bench_case *c, uint32_t mark)
{
	int err;

	c->bad = false;
	if (c->expect == EXPECT_NONE || c->skip)
		return true;
	if (c->kind == KIND_TC) {
		struct __sk_buff in = { 0 }, ctx = { 0 };
		uint32_t want = c->expect == EXPECT_CAPTURE ? mark : 0;
		uint8_t out[256];
		LIBBPF_OPTS(bpf_test_run_opts, opts,
			.data_in = c->pkt->data,
			.data_size_in = c->pkt->len,
			.data_out = out,
			.data_size_out = sizeof(out),
			.ctx_in = &in,
			.ctx_size_in = sizeof(in),
			.ctx_out = &ctx,
			.ctx_size_out = sizeof(ctx),
			.repeat = 1,
		);

		err = bpf_prog_test_run_opts(c->prog_fd, &opts) ? -errno : 0;
		if (!err && ctx.mark == want)
			return true;
		fprintf(stderr, "bench_datapath: WARNING: %s: %s%s (mark 0x%x, wanted 0x%x)\n",
			c->name, err ? "test run failed: " : "unexpected verdict",
			err ? strerror(-err) : "", ctx.mark, want);
	} else {
		struct faith_meta meta;
		uint32_t retval = 0, meta_len = 0;
		bool captured;

		err = xdp_run_meta(c->prog_fd, c->pkt, 1, &retval, &meta,
				   &meta_len);
		captured = meta_len == sizeof(meta) &&
			   meta.magic == FAITH_META_MAGIC &&
			   meta.verdict == FAITH_TCP;
		if (!err && retval == XDP_PASS &&
		    captured == (c->expect == EXPECT_CAPTURE))
			return true;
		fprintf(stderr, "bench_datapath: WARNING: %s: %s%s (retval %u, metadata %s)\n",
			c->name, err ? "test run failed: " : "unexpected verdict",
			err ? strerror(-err) : "", retval,
			captured ? "present" : "absent");
	}
	c->bad = true;
	return false;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * rounds x every case once, each BPF_PROG_TEST_RUN with `repeat` runs.
 * The starting case rotates from round to round so that no case always
 * runs right after another.
 */
static int run_rounds(struct bench_case *cases, int n, uint32_t rounds,
		      uint32_t repeat, const char *what)
{
	uint32_t warm = repeat / 20 ? repeat / 20 : 1, dummy;
	int err;

	for (int i = 0; i < n; i++) {
		if (cases[i].skip)
			continue;
		err = test_run(cases[i].prog_fd, cases[i].pkt, warm, &dummy);
		if (err)
			goto fail;
	}
	fprintf(stderr, "bench_datapath: %s: %u rounds ", what, rounds);
	for (uint32_t r = 0; r < rounds; r++) {
		fputc('.', stderr);
		for (int k = 0; k < n; k++) {
			int i = (int)((k + r) % (uint32_t)n);

			if (cases[i].skip)
				continue;
			err = test_run(cases[i].prog_fd, cases[i].pkt, repeat,
				       &cases[i].ns[r]);
			if (err) {
				fputc('\n', stderr);
				goto fail;
			}
		}
	}
	fputc('\n', stderr);
	return 0;
fail:
	fprintf(stderr, "bench_datapath: BPF_PROG_TEST_RUN failed: %s\n",
		strerror(-err));
	return err;
}

/* An empty XDP program, for the XDP baseline: r0 = XDP_PASS; exit. */
static int load_empty_xdp(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	/* Same attach type as libbpf gives SEC("xdp"): tail calls need it. */
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		.expected_attach_type = BPF_XDP,
	);
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "empty_xdp", "Dual BSD/GPL",
			       insns, sizeof(insns) / sizeof(insns[0]), &opts);

	return fd < 0 ? -errno : fd;
}

/*
 * The XDP cases' front program.  BPF_PROG_TEST_RUN (without live frames)
 * runs an XDP program `repeat` times on one xdp_buff and restores nothing in
 * between, so the 8 bytes faith_xdp reserves with bpf_xdp_adjust_meta() pile
 * up until the helper refuses and faith_xdp returns early.  This wrapper
 * gives the metadata back, bpf_xdp_adjust_meta(ctx, data - data_meta), and
 * tail-calls progs[index]: every run starts as on a real receive.  The XDP
 * baseline goes through the same wrapper into the empty XDP program, so the
 * deltas leave the wrapper out.
 *
 *	r6 = r1
 *	r2 = ctx->data
 *	r3 = ctx->data_meta
 *	r2 -= r3			(pointer difference: needs CAP_PERFMON)
 *	call bpf_xdp_adjust_meta	(r1 = ctx, r2 = metadata length)
 *	r1 = r6
 *	r2 = &progs
 *	r3 = index
 *	call bpf_tail_call
 *	r0 = XDP_ABORTED		(the tail call failed)
 *	exit
 */
static int load_xdp_wrapper(int progs_fd, uint32_t index)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_6,
		  .src_reg = BPF_REG_1 },
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_REG_1, .off = offsetof(struct xdp_md, data) },
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_3,
		  .src_reg = BPF_REG_1,
		  .off = offsetof(struct xdp_md, data_meta) },
		{ .code = BPF_ALU64 | BPF_SUB | BPF_X, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_REG_3 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_xdp_adjust_meta },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_REG_6 },
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = progs_fd },
		{ .imm = 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3,
		  .imm = (int32_t)index },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_tail_call },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_ABORTED },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		.expected_attach_type = BPF_XDP,
	);
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "bench_xdp_wrap",
			       "Dual BSD/GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), &opts);

	return fd < 0 ? -errno : fd;
}

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* ------------------------------------------------------------------ */
/* Options                                                             */

enum scaling { SCALING_AUTO, SCALING_ALWAYS, SCALING_NEVER };

struct options {
	uint32_t prefixes, rounds, repeat;
	const char *markdown;
	int cpu;		/* -1: no pinning, -2: where we start */
	enum scaling scaling;
	bool xdp;
	bool shape[N_SHAPES];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_datapath [options]\n"
		"  --prefixes N     prefixes per shape, 64:ff9b::/96 included (default %u, max %u)\n"
		"  --rounds R       rounds; each runs every case once (default %u)\n"
		"  --repeat N       BPF_PROG_TEST_RUN repeat per case and round (default %u)\n"
		"  --shapes LIST    prefix-set shapes, comma-separated: one (all /96),\n"
		"                   rfc6052 (/32 /40 /48 /56 /64 /96), 65 (/32../96); or all (default)\n"
		"  --markdown FILE  also write the report to FILE (e.g. bench/datapath.md)\n"
		"  --cpu C          pin to CPU C (default: the CPU it starts on; 'none': no pinning)\n"
		"  --scaling WHEN   prefix-count sweep 1..100000 per shape: always (default), never,\n"
		"                   auto (only for shapes where a TC match or no-match case misses)\n"
		"  --no-xdp         skip the XDP cases\n"
		"Needs root (CAP_BPF + CAP_NET_ADMIN + CAP_PERFMON).  Pins nothing under /sys/fs/bpf.\n",
		DEFAULT_PREFIXES, FAITH_MAX_PREFIXES, DEFAULT_ROUNDS,
		DEFAULT_REPEAT);
}

static bool parse_shapes(const char *text, bool out[N_SHAPES])
{
	char *copy = strdup(text), *save = NULL, *tok;
	bool ok = copy != NULL, any = false;

	memset(out, 0, N_SHAPES * sizeof(out[0]));
	for (tok = ok ? strtok_r(copy, ",", &save) : NULL; tok && ok;
	     tok = strtok_r(NULL, ",", &save)) {
		bool found = false;

		for (int s = 0; s < N_SHAPES; s++)
			if (!strcmp(tok, "all") || !strcmp(tok, shapes[s].id))
				found = out[s] = true;
		ok = found;
		any |= found;
	}
	free(copy);
	return ok && any;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "prefixes", required_argument, NULL, 'p' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "shapes", required_argument, NULL, 'S' },
		{ "markdown", required_argument, NULL, 'm' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "scaling", required_argument, NULL, 's' },
		{ "no-xdp", no_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t v;
	int opt, idx = 0;

	*o = (struct options){
		.prefixes = DEFAULT_PREFIXES, .rounds = DEFAULT_ROUNDS,
		.repeat = DEFAULT_REPEAT, .cpu = -2,
		.scaling = SCALING_ALWAYS, .xdp = true,
	};
	for (int s = 0; s < N_SHAPES; s++)
		o->shape[s] = true;
	while ((opt = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
		switch (opt) {
		case 'p':
			if (!parse_u32(optarg, FAITH_MAX_PREFIXES, &v) || !v)
				goto bad;
			o->prefixes = v;
			break;
		case 'r':
			if (!parse_u32(optarg, 1000, &v) || !v)
				goto bad;
			o->rounds = v;
			break;
		case 'n':
			if (!parse_u32(optarg, UINT32_MAX, &v) || !v)
				goto bad;
			o->repeat = v;
			break;
		case 'S':
			if (!parse_shapes(optarg, o->shape))
				goto bad;
			break;
		case 'm':
			o->markdown = optarg;
			break;
		case 'c':
			if (!strcmp(optarg, "none"))
				o->cpu = -1;
			else if (parse_u32(optarg, CPU_SETSIZE - 1, &v))
				o->cpu = (int)v;
			else
				goto bad;
			break;
		case 's':
			if (!strcmp(optarg, "auto"))
				o->scaling = SCALING_AUTO;
			else if (!strcmp(optarg, "always"))
				o->scaling = SCALING_ALWAYS;
			else if (!strcmp(optarg, "never"))
				o->scaling = SCALING_NEVER;
			else
				goto bad;
			break;
		case 'X':
			o->xdp = false;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bench_datapath: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "bench_datapath: bad value '%s' for --%s\n", optarg,
		longopts[idx].name);
	usage(stderr);
	return -1;
}

/* ------------------------------------------------------------------ */
/* The benchmark                                                       */

/* TC cases first; C_EMPTY_TC..C_UDP are also the scaling sweep's cases. */
enum {
	C_EMPTY_TC, C_NOMATCH, C_NOMATCH_FAR, C_MATCH, C_GEN, C_UDP, C_IPV4,
	C_EMPTY_XDP, C_XDP_MATCH, C_XDP_NOMATCH, N_CASES
};
#define N_SWEEP_CASES	(C_UDP + 1)

/* What the datapath looks addresses up in, after the last rebuild. */
struct lookup {
	uint32_t nlens;		/* FAITH_PINDEX_TRIE: the trie */
	uint32_t lens[FAITH_PINDEX_LENS];	/* in probe order */
	double rebuild_ms;	/* faith_pindex_rebuild() took */
};

struct sweep_row {
	uint32_t count;
	struct lookup lookup;
	uint32_t gen_len;	/* 0: no generated prefix loaded */
	struct result res[N_SWEEP_CASES];
	bool bad;
};

struct shape_run {
	bool done, swept;
	struct lookup lookup;
	uint32_t gen_len;
	struct result res[N_CASES];
	char names[N_CASES][160];
	size_t n_rows;
	struct sweep_row rows[N_SWEEP];
};

/* bpf_xdp_adjust_meta() under a repeated XDP test run. */
struct meta_probe {
	bool done;
	uint32_t runs;		/* runs in the test run */
	uint32_t direct_len;	/* metadata bytes faith_xdp alone leaves */
	uint32_t wrapped_len;	/* ... behind the wrapper */
	bool wrapped_ok;	/* and that metadata holds the TCP verdict */
};

struct bench {
	struct options o;
	struct faith_bpf *skel;
	int prefixes_fd, pindex_fd, meta_fd;
	int tc_fd, empty_tc_fd, xdp_fd;
	int xdp_wrap_fd, empty_xdp_wrap_fd;	/* -1 without XDP */
	uint32_t mark;
	uint32_t loaded;	/* the current keys[0..loaded) are in the trie */
	struct lookup lookup;
	uint8_t near_dst[16], far_dst[16], match_dst[16];
	struct meta_probe probe;
};

/*
 * Make the trie hold keys[0..count) (keys: the set loaded so far), then
 * rebuild the index from it as faith-loader does, and note the lookup the
 * datapath now uses.
 */
static int set_count(struct bench *b, const struct faith_prefix_key *keys,
		     uint32_t count)
{
	struct faith_prefix_value val = { 0 };
	struct faith_pindex_meta meta;
	const struct faith_pindex_half *half;
	char text[FAITH_PREFIX_STRLEN];
	uint32_t zero = 0;
	double t;
	int err;

	for (; b->loaded > count; b->loaded--)
		if (bpf_map_delete_elem(b->prefixes_fd, &keys[b->loaded - 1])) {
			err = -errno;
			faith_prefix_format(&keys[b->loaded - 1], text, sizeof(text));
			fprintf(stderr, "bench_datapath: removing prefix %s: %s\n",
				text, strerror(-err));
			return err;
		}
	for (; b->loaded < count; b->loaded++)
		if (bpf_map_update_elem(b->prefixes_fd, &keys[b->loaded], &val,
					BPF_ANY)) {
			err = -errno;
			faith_prefix_format(&keys[b->loaded], text, sizeof(text));
			fprintf(stderr, "bench_datapath: adding prefix %s: %s\n",
				text, strerror(-err));
			return err;
		}
	t = now_s();
	err = faith_pindex_rebuild(b->prefixes_fd, b->pindex_fd, b->meta_fd);
	if (err) {
		fprintf(stderr, "bench_datapath: rebuilding the prefix index: %s\n",
			strerror(-err));
		return err;
	}
	b->lookup.rebuild_ms = (now_s() - t) * 1e3;
	if (bpf_map_lookup_elem(b->meta_fd, &zero, &meta)) {
		err = -errno;
		fprintf(stderr, "bench_datapath: reading pindex_meta: %s\n",
			strerror(-err));
		return err;
	}
	half = &meta.half[meta.active & 1];
	b->lookup.nlens = half->nlens;
	memset(b->lookup.lens, 0, sizeof(b->lookup.lens));
	for (uint32_t i = 0; i < half->nlens && i < FAITH_PINDEX_LENS; i++)
		b->lookup.lens[i] = half->len[i].prefixlen;
	return 0;
}

static bool lookup_is_index(const struct lookup *l)
{
	return l->nlens <= FAITH_PINDEX_LENS;
}

static void lookup_text(const struct lookup *l, char *buf, size_t len)
{
	int n;

	if (l->nlens == FAITH_PINDEX_TRIE) {
		snprintf(buf, len, "LPM trie (more than %d lengths)",
			 FAITH_PINDEX_LENS);
		return;
	}
	if (!lookup_is_index(l)) {
		snprintf(buf, len, "unknown (pindex_meta nlens %u)", l->nlens);
		return;
	}
	n = snprintf(buf, len, "index, %u length%s%s", l->nlens,
		     l->nlens == 1 ? "" : "s",
		     l->nlens > 1 ? " (probe order" : l->nlens ? " (" : "");
	for (uint32_t i = 0; i < l->nlens && n > 0 && (size_t)n < len; i++)
		n += snprintf(buf + n, len - (size_t)n, "%s/%u",
			      i || l->nlens > 1 ? " " : "", l->lens[i]);
	if (l->nlens && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ")");
}

/* The generated prefix the "match generated" case aims at: one of the
 * length the index probes last (the slowest match), or with the trie a
 * /96 (the longest walk).  0 if there is none. */
static uint32_t pick_target(const struct faith_prefix_key *keys,
			    uint32_t loaded, const struct lookup *l)
{
	uint32_t len = 96;

	if (lookup_is_index(l) && l->nlens)
		len = l->lens[l->nlens - 1];
	for (uint32_t i = 1; i < loaded; i++)
		if (keys[i].prefixlen == len)
			return i;
	return 0;
}

/* An address inside key: its first 96 bits, then 192.0.2.2. */
static void target_addr(const struct faith_prefix_key *key, uint8_t out[16])
{
	static const uint8_t low[4] = { 0xc0, 0x00, 0x02, 0x02 };

	memcpy(out, key->addr, 16);
	memcpy(out + 12, low, 4);
}

struct packets {
	struct packet nomatch, far, match, gen, udp, ipv4;
};

static void set_gen_case(struct bench_case *c, const struct lookup *l,
			 uint32_t gen_len)
{
	if (!gen_len) {
		snprintf(c->name, sizeof(c->name),
			 "TC: IPv6 TCP SYN into a generated prefix, captured + marked");
		c->skip = true;
		return;
	}
	snprintf(c->name, sizeof(c->name),
		 "TC: IPv6 TCP SYN into a generated /%u (%s), captured + marked",
		 gen_len, lookup_is_index(l) ? "the length probed last" :
					       "a long trie walk");
	c->skip = false;
}

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
	CASE(C_NOMATCH, "TC: IPv6 TCP, no match, same /32 (" NEAR_DST ")",
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
	CASE(C_XDP_NOMATCH, "XDP: IPv6 TCP, no match, same /32 (" NEAR_DST ")",
	     KIND_XDP, b->xdp_wrap_fd, &p->nomatch, C_EMPTY_XDP, EXPECT_PASS);
#undef CASE
}

/* What a repeated XDP test run does to faith_xdp's metadata, with and
 * without the wrapper. */
static void probe_meta(struct bench *b, const struct packet *match)
{
	struct meta_probe *mp = &b->probe;
	struct faith_meta meta;
	uint32_t retval = 0;

	mp->runs = 256;
	if (xdp_run_meta(b->xdp_fd, match, mp->runs, &retval, &meta,
			 &mp->direct_len) ||
	    xdp_run_meta(b->xdp_wrap_fd, match, mp->runs, &retval, &meta,
			 &mp->wrapped_len))
		return;
	mp->wrapped_ok = retval == XDP_PASS &&
			 mp->wrapped_len == sizeof(meta) &&
			 meta.magic == FAITH_META_MAGIC &&
			 meta.verdict == FAITH_TCP;
	mp->done = true;
}

static bool misses_target(const struct result *r)
{
	return !r->skip && !r->baseline && r->delta > TARGET_NS;
}

/* One shape: its table, then its sweep. */
static int run_shape(struct bench *b, enum shape s, struct shape_run *sr)
{
	const struct options *o = &b->o;
	uint8_t avoid[2][16];
	struct bench_case cases[N_CASES] = { 0 };
	uint32_t *ns = NULL, gen_count = o->prefixes, idx;
	int n_cases = o->xdp ? N_CASES : C_EMPTY_XDP, err = -ENOMEM;
	struct faith_prefix_key *keys = NULL;
	struct packets p;
	char what[96];

	memcpy(avoid[0], b->near_dst, 16);
	memcpy(avoid[1], b->far_dst, 16);
	if (o->scaling != SCALING_NEVER)
		for (size_t i = 0; i < N_SWEEP; i++)
			if (sweep_counts[i] <= FAITH_MAX_PREFIXES &&
			    sweep_counts[i] > gen_count)
				gen_count = sweep_counts[i];
	fprintf(stderr, "bench_datapath: %s: generating and loading %u prefixes\n",
		shapes[s].title, o->prefixes);
	keys = gen_prefixes(s, gen_count, (const uint8_t (*)[16])avoid, 2);
	ns = calloc((size_t)N_CASES * o->rounds, sizeof(*ns));
	if (!keys || !ns) {
		fprintf(stderr, "bench_datapath: out of memory\n");
		goto out;
	}
	err = set_count(b, keys, o->prefixes);
	if (err)
		goto out;
	sr->lookup = b->lookup;
	if (b->lookup.nlens != shapes[s].want_nlens) {
		char text[128];

		lookup_text(&b->lookup, text, sizeof(text));
		fprintf(stderr, "bench_datapath: WARNING: %s: the datapath uses %s\n",
			shapes[s].title, text);
	}

	build_ip6_tcp(&p.nomatch, b->near_dst);
	build_ip6_tcp(&p.far, b->far_dst);
	build_ip6_tcp(&p.match, b->match_dst);
	build_ip6_udp(&p.udp, b->match_dst);
	build_ip4_tcp(&p.ipv4);
	build_ip6_tcp(&p.gen, b->near_dst);
	init_cases(cases, b, &p);
	for (int i = 0; i < N_CASES; i++)
		cases[i].ns = ns + (size_t)i * o->rounds;
	idx = pick_target(keys, b->loaded, &b->lookup);
	if (idx) {
		uint8_t dst[16];

		target_addr(&keys[idx], dst);
		build_ip6_tcp(&p.gen, dst);
	}
	sr->gen_len = idx ? keys[idx].prefixlen : 0;
	set_gen_case(&cases[C_GEN], &b->lookup, sr->gen_len);

	if (o->xdp && !b->probe.done)
		probe_meta(b, &p.match);
	for (int i = 0; i < n_cases; i++)
		verify(&cases[i], b->mark);
	snprintf(what, sizeof(what), "%s, %u prefixes", shapes[s].id,
		 o->prefixes);
	err = run_rounds(cases, n_cases, o->rounds, o->repeat, what);
	if (err)
		goto out;
	for (int i = 0; i < N_CASES; i++) {
		sr->res[i] = i < n_cases ? summarize(cases, i, o->rounds) :
					   (struct result){ .skip = true };
		memcpy(sr->names[i], cases[i].name, sizeof(sr->names[i]));
	}
	sr->done = true;

	sr->swept = o->scaling == SCALING_ALWAYS;
	if (o->scaling == SCALING_AUTO)
		for (int i = C_NOMATCH; i <= C_GEN; i++)
			sr->swept |= misses_target(&sr->res[i]);
	for (size_t k = 0; k < N_SWEEP && sr->swept; k++) {
		struct sweep_row *row = &sr->rows[sr->n_rows];
		uint32_t count = sweep_counts[k];
		uint32_t rounds = o->rounds < SWEEP_MAX_ROUNDS ?
				  o->rounds : SWEEP_MAX_ROUNDS;
		uint32_t repeat = o->repeat / SWEEP_REPEAT_DIV ?
				  o->repeat / SWEEP_REPEAT_DIV : 1;

		if (count > gen_count)
			continue;
		row->count = count;
		if (count == o->prefixes) {
			/* The shape's own table: more rounds already. */
			row->lookup = sr->lookup;
			row->gen_len = sr->gen_len;
			memcpy(row->res, sr->res, sizeof(row->res));
			for (int i = 0; i < N_SWEEP_CASES; i++)
				row->bad |= row->res[i].bad;
			sr->n_rows++;
			continue;
		}
		err = set_count(b, keys, count);
		if (err)
			goto out;
		row->lookup = b->lookup;
		idx = pick_target(keys, b->loaded, &b->lookup);
		if (idx) {
			uint8_t dst[16];

			target_addr(&keys[idx], dst);
			build_ip6_tcp(&p.gen, dst);
		}
		row->gen_len = idx ? keys[idx].prefixlen : 0;
		set_gen_case(&cases[C_GEN], &b->lookup, row->gen_len);
		for (int i = 0; i < N_SWEEP_CASES; i++)
			row->bad |= !verify(&cases[i], b->mark);
		snprintf(what, sizeof(what), "%s, %u prefixes", shapes[s].id,
			 count);
		err = run_rounds(cases, N_SWEEP_CASES, rounds, repeat, what);
		if (err)
			goto out;
		for (int i = 0; i < N_SWEEP_CASES; i++)
			row->res[i] = summarize(cases, i, rounds);
		sr->n_rows++;
	}
	err = set_count(b, keys, 0);
out:
	free(ns);
	free(keys);
	return err;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

static void print_header(FILE *f, const struct bench *b, int cpu)
{
	const struct options *o = &b->o;
	struct utsname u;
	char model[256] = "unknown", line[512];
	FILE *ci = fopen("/proc/cpuinfo", "r");

	while (ci && fgets(line, sizeof(line), ci)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(model, sizeof(model), "%s", colon + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (ci)
		fclose(ci);
	if (uname(&u))
		memset(&u, 0, sizeof(u));
	fprintf(f, "# faith datapath: ns per packet (BPF_PROG_TEST_RUN)\n\n");
	fprintf(f, "- kernel: %s %s (%s)\n", u.sysname, u.release, u.machine);
	fprintf(f, "- CPU: %s, %ld online; ", model, sysconf(_SC_NPROCESSORS_ONLN));
	if (cpu >= 0)
		fprintf(f, "benchmark pinned to CPU %d\n", cpu);
	else
		fprintf(f, "not pinned\n");
	fprintf(f, "- prefixes: %u per shape in the `prefixes` LPM trie (64:ff9b::/96 + %u generated), the prefix index rebuilt from it after every change, as faith-loader does\n",
		o->prefixes, o->prefixes - 1);
	fprintf(f, "- control: keepfaith=1, mark=0x%x\n", b->mark);
	fprintf(f, "- rounds: %u, repeat: %u runs per case and round; the cases alternate within each round\n",
		o->rounds, o->repeat);
	fprintf(f, "- median/min: over the rounds of the kernel's average ns per run; delta: median over the rounds of (case - its empty program in the same round)\n");
	fprintf(f, "- target: at most %.0f ns above the empty program for a non-matching IPv6 packet, a matching TCP packet and an IPv4 packet\n",
		TARGET_NS);
	if (o->xdp)
		fprintf(f, "- XDP cases run behind a wrapper that clears the XDP metadata before tail-calling the program (see the end), the baseline too\n");
	fprintf(f, "\n");
}

/* "+4.2 yes", "+20.3 **NO**", "n/a". */
static void cell(FILE *f, const struct result *r)
{
	if (r->skip) {
		fprintf(f, " n/a |");
		return;
	}
	fprintf(f, " %+.1f %s%s |", r->delta,
		r->delta <= TARGET_NS ? "yes" : "**NO**",
		r->bad ? " (UNVERIFIED)" : "");
}

static const int summary_cols[] = {
	C_NOMATCH, C_NOMATCH_FAR, C_MATCH, C_GEN, C_UDP, C_IPV4,
	C_XDP_MATCH, C_XDP_NOMATCH,
};

static void print_summary(FILE *f, const struct shape_run *runs)
{
	fprintf(f, "## Summary: ns above the empty program, within %.0f ns?\n\n",
		TARGET_NS);
	fprintf(f, "| shape | datapath lookup | TC no match, same /32 | TC no match, other /32 | TC match 64:ff9b::/96 | TC match generated | TC UDP | TC IPv4 | XDP match | XDP no match |\n");
	fprintf(f, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int s = 0; s < N_SHAPES; s++) {
		char text[128];

		if (!runs[s].done)
			continue;
		lookup_text(&runs[s].lookup, text, sizeof(text));
		fprintf(f, "| %s | %s |", shapes[s].title, text);
		for (size_t k = 0; k < sizeof(summary_cols) / sizeof(summary_cols[0]); k++)
			cell(f, &runs[s].res[summary_cols[k]]);
		fprintf(f, "\n");
	}
	fprintf(f, "\n\"TC match generated\" aims at a generated prefix of the length the index probes last (the slowest match), or with the trie at a /96 (a long walk).\n\n");
}

static void print_shape(FILE *f, enum shape s, const struct shape_run *sr,
			const struct options *o, int *misses)
{
	char text[128];

	lookup_text(&sr->lookup, text, sizeof(text));
	fprintf(f, "## %s\n\n", shapes[s].title);
	fprintf(f, "- prefixes: %u: 64:ff9b::/96 and %s\n", o->prefixes,
		shapes[s].prefixes);
	fprintf(f, "- datapath lookup: %s%s; faith_pindex_rebuild() took %.1f ms\n\n",
		text, sr->lookup.nlens == shapes[s].want_nlens ? "" :
		" (**not the one this shape is meant to exercise**)",
		sr->lookup.rebuild_ms);
	fprintf(f, "| case | median ns/packet | min | delta vs empty program (ns) | within target (<= %.0f ns above empty)? |\n",
		TARGET_NS);
	fprintf(f, "|---|---:|---:|---:|---|\n");
	for (int i = 0; i < N_CASES; i++) {
		const struct result *r = &sr->res[i];

		if (i >= C_EMPTY_XDP && !o->xdp)
			break;
		if (r->skip) {
			fprintf(f, "| %s | n/a | n/a | n/a | n/a |\n", sr->names[i]);
			continue;
		}
		fprintf(f, "| %s%s | %.1f | %u | ", sr->names[i],
			r->bad ? " (UNVERIFIED: wrong verdict)" : "",
			r->median, r->min);
		if (r->baseline) {
			fprintf(f, "baseline | baseline |\n");
		} else if (r->delta <= TARGET_NS) {
			fprintf(f, "%+.1f | yes |\n", r->delta);
		} else {
			fprintf(f, "%+.1f | **NO: MISSED by %.1f ns** |\n",
				r->delta, r->delta - TARGET_NS);
			(*misses)++;
		}
	}
	fprintf(f, "\n");
}

static void print_sweep(FILE *f, const struct shape_run *runs,
			const struct options *o)
{
	uint32_t rounds = o->rounds < SWEEP_MAX_ROUNDS ? o->rounds :
			  SWEEP_MAX_ROUNDS;
	uint32_t repeat = o->repeat / SWEEP_REPEAT_DIV ?
			  o->repeat / SWEEP_REPEAT_DIV : 1;
	bool any = false;

	for (int s = 0; s < N_SHAPES; s++)
		any |= runs[s].swept;
	if (!any)
		return;
	fprintf(f, "## Cost against the number of prefixes (faith_tc)\n\n");
	fprintf(f, "Deltas in ns over the empty TC program (paired medians, %u rounds x %u runs; the %u-prefix rows are the tables above).\n",
		rounds, repeat, o->prefixes);
	fprintf(f, "UDP to a faith address runs the same parsing and accounting as TCP but no lookup,\n");
	fprintf(f, "so the last two columns are TCP delta - UDP delta: the lookup alone (no match), or\n");
	fprintf(f, "the lookup plus the capture (gate check, counters, mark).\n");
	for (int s = 0; s < N_SHAPES; s++) {
		const struct shape_run *sr = &runs[s];

		if (!sr->swept)
			continue;
		fprintf(f, "\n### %s\n\n", shapes[s].title);
		fprintf(f, "| prefixes | datapath lookup | empty TC (ns) | UDP: parse only | TCP no match, same /32 | TCP no match, other /32 | TCP match 64:ff9b::/96 | TCP match generated | lookup: no match, same /32 | lookup + capture: match generated |\n");
		fprintf(f, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
		for (size_t i = 0; i < sr->n_rows; i++) {
			const struct sweep_row *r = &sr->rows[i];
			const struct result *res = r->res;
			char text[128];

			lookup_text(&r->lookup, text, sizeof(text));
			fprintf(f, "| %u%s | %s | %.1f | %+.1f | %+.1f | %+.1f | %+.1f | ",
				r->count, r->bad ? " (UNVERIFIED)" : "", text,
				res[C_EMPTY_TC].median, res[C_UDP].delta,
				res[C_NOMATCH].delta, res[C_NOMATCH_FAR].delta,
				res[C_MATCH].delta);
			if (r->gen_len)
				fprintf(f, "%+.1f (/%u) | %+.1f | %+.1f |\n",
					res[C_GEN].delta, r->gen_len,
					res[C_NOMATCH].delta - res[C_UDP].delta,
					res[C_GEN].delta - res[C_UDP].delta);
			else
				fprintf(f, "n/a | %+.1f | n/a |\n",
					res[C_NOMATCH].delta - res[C_UDP].delta);
		}
	}
	fprintf(f, "\n");
}

static void print_probe(FILE *f, const struct meta_probe *mp)
{
	fprintf(f, "## XDP metadata under BPF_PROG_TEST_RUN\n\n");
	if (!mp->done) {
		fprintf(f, "The check could not run.\n\n");
		return;
	}
	fprintf(f, "Without live frames, BPF_PROG_TEST_RUN runs an XDP program `repeat` times on one\n");
	fprintf(f, "xdp_buff and restores nothing in between.  One test run of %u runs of faith_xdp\n",
		mp->runs);
	fprintf(f, "on the captured packet left %u bytes of metadata: bpf_xdp_adjust_meta() succeeded\n",
		mp->direct_len);
	fprintf(f, "%u times, then failed, and every later run returned before writing its verdict.\n",
		mp->direct_len / (uint32_t)sizeof(struct faith_meta));
	fprintf(f, "Behind the wrapper (bpf_xdp_adjust_meta(ctx, data - data_meta), then a tail call)\n");
	fprintf(f, "the same test run left %u bytes, %s: every run wrote its verdict, as on a real\n",
		mp->wrapped_len, mp->wrapped_ok ? "one faith_meta with the TCP verdict" :
		"**not the expected faith_meta**");
	fprintf(f, "receive path.  The XDP deltas compare wrapper + faith_xdp with wrapper + empty program.\n\n");
}

static int pin_cpu(int want)
{
	cpu_set_t set;
	int cpu = want == -2 ? sched_getcpu() : want;

	if (want == -1 || cpu < 0)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "bench_datapath: cannot pin to CPU %d: %s; not pinned\n",
			cpu, strerror(errno));
		return -1;
	}
	return cpu;
}

/* Load the faith object with every map's pin path cleared. */
static struct faith_bpf *load_unpinned(void)
{
	struct faith_bpf *skel = faith_bpf__open();
	struct bpf_map *map;
	int err;

	if (!skel) {
		fprintf(stderr, "bench_datapath: opening the faith BPF object: %s\n",
			strerror(errno));
		return NULL;
	}
	/* Nothing pinned, nothing reused: /sys/fs/bpf is left alone. */
	bpf_object__for_each_map(map, skel->obj)
		if ((err = bpf_map__set_pin_path(map, NULL))) {
			fprintf(stderr, "bench_datapath: unpinning map %s: %s\n",
				bpf_map__name(map), strerror(-err));
			goto fail;
		}
	if ((err = faith_bpf__load(skel))) {
		fprintf(stderr, "bench_datapath: loading the faith BPF object: %s%s\n",
			strerror(-err), err == -EPERM ? " (run as root)" : "");
		goto fail;
	}
	bpf_object__for_each_map(map, skel->obj)
		if (bpf_map__is_pinned(map)) {
			fprintf(stderr, "bench_datapath: map %s got pinned\n",
				bpf_map__name(map));
			goto fail;
		}
	return skel;
fail:
	faith_bpf__destroy(skel);
	return NULL;
}

/* The XDP programs: the wrapper into faith_xdp and into an empty one. */
static int load_xdp(struct bench *b, int *progs_fd, int *empty_xdp)
{
	uint32_t key;
	int err;

	*empty_xdp = load_empty_xdp();
	if (*empty_xdp < 0) {
		err = *empty_xdp;
		fprintf(stderr, "bench_datapath: loading the empty XDP program: %s\n",
			strerror(-err));
		return err;
	}
	*progs_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "bench_xdp_progs",
				   sizeof(uint32_t), sizeof(uint32_t), 2, NULL);
	if (*progs_fd < 0) {
		err = -errno;
		fprintf(stderr, "bench_datapath: creating the XDP prog array: %s\n",
			strerror(-err));
		return err;
	}
	b->empty_xdp_wrap_fd = load_xdp_wrapper(*progs_fd, 0);
	b->xdp_wrap_fd = load_xdp_wrapper(*progs_fd, 1);
	if (b->empty_xdp_wrap_fd < 0 || b->xdp_wrap_fd < 0) {
		err = b->xdp_wrap_fd < 0 ? b->xdp_wrap_fd : b->empty_xdp_wrap_fd;
		fprintf(stderr, "bench_datapath: loading the XDP wrapper: %s%s\n",
			strerror(-err), err == -EACCES ? " (needs CAP_PERFMON)" : "");
		return err;
	}
	key = 0;
	if (bpf_map_update_elem(*progs_fd, &key, empty_xdp, BPF_ANY))
		goto fail;
	key = 1;
	if (bpf_map_update_elem(*progs_fd, &key, &b->xdp_fd, BPF_ANY))
		goto fail;
	return 0;
fail:
	err = -errno;
	fprintf(stderr, "bench_datapath: filling the XDP prog array: %s\n",
		strerror(-err));
	return err;
}

int main(int argc, char **argv)
{
	static struct shape_run runs[N_SHAPES];
	struct faith_control ctl = {
		.keepfaith = 1, .mark = FAITH_DEFAULT_MARK,
		.table = FAITH_DEFAULT_TABLE, .rule_prio = FAITH_DEFAULT_RULE_PRIO,
	};
	struct bench b = {
		.xdp_wrap_fd = -1, .empty_xdp_wrap_fd = -1,
		.mark = FAITH_DEFAULT_MARK,
	};
	struct empty_bpf *empty = NULL;
	int progs_fd = -1, empty_xdp = -1, cpu, misses = 0, ret = 1;
	size_t report_len = 0;
	char *report = NULL;
	uint32_t zero = 0;
	FILE *md = NULL, *out;
	double t0 = now_s();

	if (parse_args(argc, argv, &b.o))
		return 2;
	/* Open the report file first: a bad path fails before the long run. */
	if (b.o.markdown && !(md = fopen(b.o.markdown, "w"))) {
		fprintf(stderr, "bench_datapath: writing %s: %s\n", b.o.markdown,
			strerror(errno));
		return 1;
	}
	libbpf_set_print(quiet_libbpf);
	cpu = pin_cpu(b.o.cpu);
	addr_parse(NEAR_DST, b.near_dst);
	addr_parse(FAR_DST, b.far_dst);
	addr_parse(MATCH_DST, b.match_dst);

	b.skel = load_unpinned();
	if (!b.skel)
		goto out;
	b.prefixes_fd = bpf_map__fd(b.skel->maps.prefixes);
	b.pindex_fd = bpf_map__fd(b.skel->maps.pindex);
	b.meta_fd = bpf_map__fd(b.skel->maps.pindex_meta);
	b.tc_fd = bpf_program__fd(b.skel->progs.faith_tc);
	b.xdp_fd = bpf_program__fd(b.skel->progs.faith_xdp);
	empty = empty_bpf__open_and_load();
	if (!empty) {
		fprintf(stderr, "bench_datapath: loading bench/empty.bpf.o: %s\n",
			strerror(errno));
		goto out;
	}
	b.empty_tc_fd = bpf_program__fd(empty->progs.empty_tc);
	if (b.o.xdp && load_xdp(&b, &progs_fd, &empty_xdp))
		goto out;
	if (bpf_map_update_elem(bpf_map__fd(b.skel->maps.control), &zero, &ctl,
				BPF_ANY)) {
		fprintf(stderr, "bench_datapath: setting keepfaith: %s\n",
			strerror(errno));
		goto out;
	}

	for (int s = 0; s < N_SHAPES; s++)
		if (b.o.shape[s] && run_shape(&b, (enum shape)s, &runs[s]))
			goto out;

	out = open_memstream(&report, &report_len);
	if (!out)
		goto out;
	print_header(out, &b, cpu);
	print_summary(out, runs);
	for (int s = 0; s < N_SHAPES; s++)
		if (runs[s].done)
			print_shape(out, (enum shape)s, &runs[s], &b.o, &misses);
	if (misses) {
		fprintf(out, "**TARGET MISSED** in %d case%s (more than %.0f ns above the empty program):\n",
			misses, misses == 1 ? "" : "s", TARGET_NS);
		for (int s = 0; s < N_SHAPES; s++)
			for (int i = 0; i < N_CASES && runs[s].done; i++)
				if (misses_target(&runs[s].res[i]))
					fprintf(out, "- %s, %s: %+.1f ns\n",
						shapes[s].title, runs[s].names[i],
						runs[s].res[i].delta);
	} else {
		fprintf(out, "All cases within %.0f ns of their empty program.\n",
			TARGET_NS);
	}
	fprintf(out, "\n");
	print_sweep(out, runs, &b.o);
	if (b.o.xdp)
		print_probe(out, &b.probe);
	fprintf(out, "Total run time: %.1f s.\n", now_s() - t0);
	fclose(out);

	fputs(report, stdout);
	fflush(stdout);
	ret = 0;
	if (md) {
		int bad = fputs(report, md) == EOF;

		bad |= fclose(md) != 0;
		md = NULL;
		if (bad) {
			fprintf(stderr, "bench_datapath: writing %s: %s\n",
				b.o.markdown, strerror(errno));
			ret = 1;
		}
	}
out:
	if (md)
		fclose(md);
	free(report);
	if (b.xdp_wrap_fd >= 0)
		close(b.xdp_wrap_fd);
	if (b.empty_xdp_wrap_fd >= 0)
		close(b.empty_xdp_wrap_fd);
	if (progs_fd >= 0)
		close(progs_fd);
	if (empty_xdp >= 0)
		close(empty_xdp);
	empty_bpf__destroy(empty);
	faith_bpf__destroy(b.skel);
	return ret;
}

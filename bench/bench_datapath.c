// SPDX-License-Identifier: BSD-2-Clause
/*
 * bench_datapath: nanoseconds per packet of the faith classifier.
 *
 * Loads bpf/faith.bpf.o (nothing pinned), fills the `prefixes` LPM trie with
 * N generated prefixes plus 64:ff9b::/96, opens the keepfaith gate, and times
 * faith_tc (and faith_xdp) with BPF_PROG_TEST_RUN beside empty programs.
 * Cases are interleaved in rounds; the table gives per-case medians over the
 * rounds.  See bench/README.md for how to read the output.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
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
#include "prefix.h"
#include "util.h"
#include "faith.skel.h"
#include "empty.skel.h"

#define TARGET_NS		15.0
#define DEFAULT_PREFIXES	10000
#define DEFAULT_ROUNDS		15
#define DEFAULT_REPEAT		1000000
#define GEN_SEED		0x6661697468ULL	/* "faith" */
/* A destination in none of the generated prefixes' /32s (a public DNS
 * server): its trie walk leaves the populated subtrees near the root. */
#define FAR_DST			"2001:4860:4860::8888"

/* Prefix counts of the scaling sweep (capped at FAITH_MAX_PREFIXES). */
static const uint32_t sweep_counts[] = { 1, 100, 1000, 10000, 100000 };
#define N_SWEEP		(sizeof(sweep_counts) / sizeof(sweep_counts[0]))

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
/* Prefix generation                                                   */

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

/* One random prefix of length /32../96 in 2001:db8::/32 or 3fff::/20. */
static void random_prefix(uint64_t *rng, struct faith_prefix_key *key)
{
	uint64_t bits[2] = { rng_next(rng), rng_next(rng) };
	uint32_t len = 32 + (uint32_t)(rng_next(rng) % 65), fixed;

	memset(key, 0, sizeof(*key));
	if (len > 32 && (rng_next(rng) & 1)) {
		static const uint8_t doc[4] = { 0x20, 0x01, 0x0d, 0xb8 };

		memcpy(key->addr, doc, 4);	/* 2001:db8::/32 */
		fixed = 32;
	} else {
		key->addr[0] = 0x3f;		/* 3fff::/20 (RFC 9637) */
		key->addr[1] = 0xff;
		fixed = 20;
	}
	for (uint32_t b = fixed; b < len; b++)
		if ((bits[b / 64] >> (b % 64)) & 1)
			key->addr[b / 8] |= (uint8_t)(0x80 >> (b % 8));
	key->prefixlen = len;
}

/*
 * keys[0] = 64:ff9b::/96, then count - 1 distinct random prefixes, each
 * accepted by faith_prefix_parse and none covering any address in avoid.
 * Deterministic: the first k keys are the same whatever count is.
 */
static struct faith_prefix_key *gen_prefixes(uint32_t count,
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

		random_prefix(&rng, key);
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
	const char *name;
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
	uint32_t *sorted = calloc(rounds, sizeof(*sorted));
	double *d = calloc(rounds, sizeof(*d));
	struct result res = { 0 };

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

/* Run a case once with a context and check what the program did. */
static bool verify(struct bench_case *c, uint32_t mark)
{
	uint8_t out[256];
	int err;

	if (c->expect == EXPECT_NONE || c->skip)
		return true;
	if (c->kind == KIND_TC) {
		struct __sk_buff in = { 0 }, ctx = { 0 };
		uint32_t want = c->expect == EXPECT_CAPTURE ? mark : 0;
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
		struct xdp_md in = { .data_end = c->pkt->len }, ctx = { 0 };
		struct faith_meta meta = { 0 };
		bool captured;
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
		/* ctx.data is the metadata length; data_out starts with it. */
		if (!err && ctx.data >= sizeof(meta))
			memcpy(&meta, out, sizeof(meta));
		captured = meta.magic == FAITH_META_MAGIC &&
			   meta.verdict == FAITH_TCP;
		if (!err && opts.retval == XDP_PASS &&
		    captured == (c->expect == EXPECT_CAPTURE))
			return true;
		fprintf(stderr, "bench_datapath: WARNING: %s: %s%s (retval %u, metadata %s)\n",
			c->name, err ? "test run failed: " : "unexpected verdict",
			err ? strerror(-err) : "", opts.retval,
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

/* ------------------------------------------------------------------ */
/* Maps                                                                */

static int load_prefixes(int fd, const struct faith_prefix_key *keys,
			 uint32_t from, uint32_t to)
{
	struct faith_prefix_value val = { 0 };

	for (uint32_t i = from; i < to; i++)
		if (bpf_map_update_elem(fd, &keys[i], &val, BPF_ANY)) {
			int err = -errno;
			char text[FAITH_PREFIX_STRLEN];

			faith_prefix_format(&keys[i], text, sizeof(text));
			fprintf(stderr, "bench_datapath: adding prefix %s: %s\n",
				text, strerror(-err));
			return err;
		}
	return 0;
}

static int unload_prefixes(int fd, const struct faith_prefix_key *keys,
			   uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to; i++)
		if (bpf_map_delete_elem(fd, &keys[i]))
			return -errno;
	return 0;
}

/* First /96 among keys[1..count), or 0: an address in it takes a long
 * matching walk down the trie. */
static uint32_t first_slash96(const struct faith_prefix_key *keys,
			      uint32_t count)
{
	for (uint32_t i = 1; i < count; i++)
		if (keys[i].prefixlen == 96)
			return i;
	return 0;
}

/* An empty XDP program, for the XDP baseline: r0 = XDP_PASS; exit. */
static int load_empty_xdp(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "empty_xdp", "Dual BSD/GPL",
			       insns, sizeof(insns) / sizeof(insns[0]), NULL);

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
/* Output                                                              */

static void print_table(FILE *f, const struct bench_case *cases, int n,
			uint32_t rounds, int *misses)
{
	fprintf(f, "| case | median ns/packet | min | delta vs empty program (ns) | within target (<= %.0f ns above empty)? |\n",
		TARGET_NS);
	fprintf(f, "|---|---:|---:|---:|---|\n");
	for (int i = 0; i < n; i++) {
		const struct bench_case *c = &cases[i];
		struct result res;

		if (c->skip) {
			fprintf(f, "| %s | n/a | n/a | n/a | n/a |\n", c->name);
			continue;
		}
		res = summarize(cases, i, rounds);
		fprintf(f, "| %s%s | %.1f | %u | ", c->name,
			c->bad ? " (UNVERIFIED: wrong verdict)" : "",
			res.median, res.min);
		if (c->baseline < 0) {
			fprintf(f, "baseline | baseline |\n");
		} else if (res.delta <= TARGET_NS) {
			fprintf(f, "%+.1f | yes |\n", res.delta);
		} else {
			fprintf(f, "%+.1f | **NO: MISSED by %.1f ns** |\n",
				res.delta, res.delta - TARGET_NS);
			(*misses)++;
		}
	}
}

/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_datapath [options]\n"
		"  --prefixes N     prefixes in the trie, 64:ff9b::/96 included (default %u, max %u)\n"
		"  --rounds R       rounds; each runs every case once (default %u)\n"
		"  --repeat N       BPF_PROG_TEST_RUN repeat per case and round (default %u)\n"
		"  --markdown FILE  also write the report to FILE (e.g. bench/datapath.md)\n"
		"  --cpu C          pin to CPU C (default: the CPU it starts on; 'none': no pinning)\n"
		"  --scaling WHEN   prefix-count sweep 1..100000: auto (when the TC match or\n"
		"                   no-match case misses the target; default), always, never\n"
		"  --no-xdp         skip the XDP cases\n"
		"Needs root (CAP_BPF + CAP_NET_ADMIN).  Pins nothing under /sys/fs/bpf.\n",
		DEFAULT_PREFIXES, FAITH_MAX_PREFIXES, DEFAULT_ROUNDS,
		DEFAULT_REPEAT);
}

enum scaling { SCALING_AUTO, SCALING_ALWAYS, SCALING_NEVER };

struct options {
	uint32_t prefixes, rounds, repeat;
	const char *markdown;
	int cpu;		/* -1: no pinning, -2: where we start */
	enum scaling scaling;
	bool xdp;
};

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "prefixes", required_argument, NULL, 'p' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' },
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
		.scaling = SCALING_AUTO, .xdp = true,
	};
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

/* Header lines: what was measured, where. */
static void print_header(FILE *f, const struct options *o, int cpu,
			 uint32_t generated_96)
{
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
	fprintf(f, "- prefixes in the `prefixes` LPM trie: %u (64:ff9b::/96 + %u generated, /32../96 in 2001:db8::/32 and 3fff::/20)\n",
		o->prefixes, o->prefixes - 1);
	fprintf(f, "- control: keepfaith=1, mark=0x%x\n", FAITH_DEFAULT_MARK);
	fprintf(f, "- rounds: %u, repeat: %u runs per case and round; the cases alternate within each round\n",
		o->rounds, o->repeat);
	fprintf(f, "- median/min: over the rounds of the kernel's average ns per run; delta: median over the rounds of (case - its empty program in the same round)\n");
	if (generated_96)
		fprintf(f, "- \"generated /96\": the first /96 among the generated prefixes, a long path in the trie\n");
	fprintf(f, "\n");
}

struct sweep_row {
	uint32_t count;
	double empty, udp, nomatch, far, match, deep;
	bool have_deep, bad;
};

static void print_sweep(FILE *f, const struct sweep_row *rows, size_t n,
			uint32_t rounds, uint32_t repeat)
{
	fprintf(f, "\n## Cost against the number of prefixes (faith_tc)\n\n");
	fprintf(f, "Deltas in ns over the empty TC program (paired medians, %u rounds x %u runs).\n",
		rounds, repeat);
	fprintf(f, "UDP to a faith address runs the same parsing and accounting as TCP but no trie\n");
	fprintf(f, "lookup, so the last two columns are TCP delta - UDP delta: the trie lookup (no\n");
	fprintf(f, "match), or the trie lookup plus the capture (gate check, counters, mark).\n\n");
	fprintf(f, "| prefixes | empty TC (ns) | UDP: parse only | TCP no match, same /32 | TCP no match, other /32 | TCP match 64:ff9b::/96 | TCP match generated /96 | lookup: no match, same /32 | lookup + capture: match /96 |\n");
	fprintf(f, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < n; i++) {
		const struct sweep_row *r = &rows[i];

		fprintf(f, "| %u%s | %.1f | %+.1f | %+.1f | %+.1f | %+.1f | ",
			r->count, r->bad ? " (UNVERIFIED)" : "", r->empty,
			r->udp, r->nomatch, r->far, r->match);
		if (r->have_deep)
			fprintf(f, "%+.1f | %+.1f | %+.1f |\n", r->deep,
				r->nomatch - r->udp, r->deep - r->udp);
		else
			fprintf(f, "n/a | %+.1f | n/a |\n", r->nomatch - r->udp);
	}
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

/* TC cases first; C_EMPTY_TC..C_UDP are also the scaling sweep's cases. */
enum {
	C_EMPTY_TC, C_NOMATCH, C_NOMATCH_FAR, C_MATCH, C_DEEP, C_UDP, C_IPV4,
	C_EMPTY_XDP, C_XDP_MATCH, C_XDP_NOMATCH, N_CASES
};
#define N_SWEEP_CASES	(C_UDP + 1)
#define SWEEP_MAX_ROUNDS 9

int main(int argc, char **argv)
{
	struct packet nomatch, far, match, deep, ipv4, udp;
	uint8_t nomatch_dst[2][16], match_dst[16], deep_dst[16];
	struct bench_case cases[N_CASES];
	uint32_t *cases_ns_owner[N_CASES] = { NULL };
	struct sweep_row rows[N_SWEEP];
	struct faith_prefix_key *keys = NULL;
	struct faith_bpf *skel = NULL;
	struct empty_bpf *empty = NULL;
	struct faith_control ctl = {
		.keepfaith = 1, .mark = FAITH_DEFAULT_MARK,
		.table = FAITH_DEFAULT_TABLE, .rule_prio = FAITH_DEFAULT_RULE_PRIO,
	};
	uint32_t gen_count, deep_idx, zero = 0, loaded = 0;
	int empty_xdp = -1, cpu, misses = 0, n_cases, err, ret = 1;
	size_t n_rows = 0, report_len = 0;
	char *report = NULL;
	struct options o;
	struct bpf_map *map;
	FILE *md = NULL;
	double t0 = now_s();
	bool sweep;
	FILE *out;

	if (parse_args(argc, argv, &o))
		return 2;
	/* Open the report file first: a bad path fails before the long run. */
	if (o.markdown && !(md = fopen(o.markdown, "w"))) {
		fprintf(stderr, "bench_datapath: writing %s: %s\n", o.markdown,
			strerror(errno));
		return 1;
	}
	libbpf_set_print(quiet_libbpf);
	cpu = pin_cpu(o.cpu);

	addr_parse("2001:db8:ffff::1", nomatch_dst[0]);
	addr_parse(FAR_DST, nomatch_dst[1]);
	addr_parse("64:ff9b::c000:202", match_dst);
	gen_count = o.prefixes;
	if (o.scaling != SCALING_NEVER) {
		for (size_t i = 0; i < N_SWEEP; i++)
			if (sweep_counts[i] <= FAITH_MAX_PREFIXES &&
			    sweep_counts[i] > gen_count)
				gen_count = sweep_counts[i];
	}
	keys = gen_prefixes(gen_count, nomatch_dst, 2);
	if (!keys) {
		fprintf(stderr, "bench_datapath: out of memory\n");
		goto out;
	}
	/* One /96 fixed for the whole run: the same trie path at every count. */
	deep_idx = first_slash96(keys, gen_count);
	if (deep_idx) {
		memcpy(deep_dst, keys[deep_idx].addr, 16);
		memcpy(deep_dst + 12, match_dst + 12, 4);
	}

	skel = faith_bpf__open();
	if (!skel) {
		fprintf(stderr, "bench_datapath: opening the faith BPF object: %s\n",
			strerror(errno));
		goto out;
	}
	/* Nothing pinned: /sys/fs/bpf is left alone. */
	bpf_object__for_each_map(map, skel->obj)
		if ((err = bpf_map__set_pin_path(map, NULL))) {
			fprintf(stderr, "bench_datapath: unpinning map %s: %s\n",
				bpf_map__name(map), strerror(-err));
			goto out;
		}
	if ((err = faith_bpf__load(skel))) {
		fprintf(stderr, "bench_datapath: loading the faith BPF object: %s%s\n",
			strerror(-err), err == -EPERM ? " (run as root)" : "");
		goto out;
	}
	empty = empty_bpf__open_and_load();
	if (!empty) {
		fprintf(stderr, "bench_datapath: loading bench/empty.bpf.o: %s\n",
			strerror(errno));
		goto out;
	}
	if (o.xdp && (empty_xdp = load_empty_xdp()) < 0) {
		fprintf(stderr, "bench_datapath: loading the empty XDP program: %s\n",
			strerror(-empty_xdp));
		goto out;
	}
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.control), &zero, &ctl,
				BPF_ANY)) {
		fprintf(stderr, "bench_datapath: setting keepfaith: %s\n",
			strerror(errno));
		goto out;
	}
	fprintf(stderr, "bench_datapath: loading %u prefixes\n", o.prefixes);
	if (load_prefixes(bpf_map__fd(skel->maps.prefixes), keys, 0, o.prefixes))
		goto out;
	loaded = o.prefixes;

	build_ip6_tcp(&nomatch, nomatch_dst[0]);
	build_ip6_tcp(&far, nomatch_dst[1]);
	build_ip6_tcp(&match, match_dst);
	build_ip6_tcp(&deep, deep_idx ? deep_dst : nomatch_dst[0]);
	build_ip4_tcp(&ipv4);
	build_ip6_udp(&udp, match_dst);

	{
		int tc = bpf_program__fd(skel->progs.faith_tc);
		int xdp = bpf_program__fd(skel->progs.faith_xdp);
		int etc = bpf_program__fd(empty->progs.empty_tc);
#define CASE(n, k, fd, p, base, exp) { .name = (n), .kind = (k), \
	.prog_fd = (fd), .pkt = (p), .baseline = (base), .expect = (exp) }
		const struct bench_case init[N_CASES] = {
			[C_EMPTY_TC] = CASE("empty TC program", KIND_TC, etc,
					    &match, -1, EXPECT_NONE),
			[C_NOMATCH] = CASE("TC: IPv6 TCP, no match (2001:db8:ffff::1)",
					   KIND_TC, tc, &nomatch, C_EMPTY_TC,
					   EXPECT_PASS),
			[C_NOMATCH_FAR] = CASE("TC: IPv6 TCP, no match, outside the prefixes' /32s (" FAR_DST ")",
					       KIND_TC, tc, &far, C_EMPTY_TC,
					       EXPECT_PASS),
			[C_MATCH] = CASE("TC: IPv6 TCP SYN to 64:ff9b::c000:202 port 80, captured + marked",
					 KIND_TC, tc, &match, C_EMPTY_TC,
					 EXPECT_CAPTURE),
			[C_DEEP] = CASE("TC: IPv6 TCP SYN into a generated /96, captured + marked",
					KIND_TC, tc, &deep, C_EMPTY_TC,
					EXPECT_CAPTURE),
			[C_UDP] = CASE("TC: IPv6 UDP to 64:ff9b::c000:202 (not TCP)",
				       KIND_TC, tc, &udp, C_EMPTY_TC,
				       EXPECT_PASS),
			[C_IPV4] = CASE("TC: IPv4 TCP", KIND_TC, tc, &ipv4,
					C_EMPTY_TC, EXPECT_PASS),
			[C_EMPTY_XDP] = CASE("empty XDP program", KIND_XDP,
					     empty_xdp, &match, -1,
					     EXPECT_NONE),
			[C_XDP_MATCH] = CASE("XDP: IPv6 TCP SYN to 64:ff9b::c000:202, captured",
					     KIND_XDP, xdp, &match,
					     C_EMPTY_XDP, EXPECT_CAPTURE),
			[C_XDP_NOMATCH] = CASE("XDP: IPv6 TCP, no match (2001:db8:ffff::1)",
					       KIND_XDP, xdp, &nomatch,
					       C_EMPTY_XDP, EXPECT_PASS),
		};
#undef CASE

		memcpy(cases, init, sizeof(cases));
	}
	n_cases = o.xdp ? N_CASES : C_EMPTY_XDP;
	for (int i = 0; i < n_cases; i++) {
		cases[i].ns = cases_ns_owner[i] =
			calloc(o.rounds, sizeof(uint32_t));
		if (!cases[i].ns)
			goto out;
	}
	cases[C_DEEP].skip = !deep_idx || deep_idx >= loaded;
	for (int i = 0; i < n_cases; i++)
		verify(&cases[i], ctl.mark);
	if (run_rounds(cases, n_cases, o.rounds, o.repeat, "cases"))
		goto out;

	out = open_memstream(&report, &report_len);
	if (!out)
		goto out;
	print_header(out, &o, cpu, cases[C_DEEP].skip ? 0 : deep_idx);
	print_table(out, cases, n_cases, o.rounds, &misses);
	fprintf(out, "\n");
	if (misses) {
		fprintf(out, "**TARGET MISSED** in %d case%s (more than %.0f ns above the empty program):\n",
			misses, misses == 1 ? "" : "s", TARGET_NS);
		for (int i = 0; i < n_cases; i++) {
			struct result res;

			if (cases[i].skip || cases[i].baseline < 0)
				continue;
			res = summarize(cases, i, o.rounds);
			if (res.delta > TARGET_NS)
				fprintf(out, "- %s: %+.1f ns\n", cases[i].name,
					res.delta);
		}
	} else {
		fprintf(out, "All cases within %.0f ns of their empty program.\n",
			TARGET_NS);
	}

	sweep = o.scaling == SCALING_ALWAYS;
	if (o.scaling == SCALING_AUTO)
		sweep = summarize(cases, C_NOMATCH, o.rounds).delta > TARGET_NS ||
			summarize(cases, C_MATCH, o.rounds).delta > TARGET_NS;
	if (sweep) {
		struct bench_case sc[N_SWEEP_CASES];
		int fd = bpf_map__fd(skel->maps.prefixes);
		uint32_t sweep_rounds = o.rounds < SWEEP_MAX_ROUNDS ?
					o.rounds : SWEEP_MAX_ROUNDS;

		/* Same packets and programs; only the trie changes. */
		memcpy(sc, cases, sizeof(sc));
		for (size_t s = 0; s < N_SWEEP; s++) {
			uint32_t count = sweep_counts[s];
			struct sweep_row *row = &rows[n_rows];
			char what[64];

			if (count > gen_count)
				continue;
			if (count < loaded)
				err = unload_prefixes(fd, keys, count, loaded);
			else
				err = load_prefixes(fd, keys, loaded, count);
			if (err) {
				fprintf(stderr, "bench_datapath: resizing the trie to %u: %s\n",
					count, strerror(-err));
				break;
			}
			loaded = count;
			sc[C_DEEP].skip = !deep_idx || deep_idx >= loaded;
			for (int i = 0; i < N_SWEEP_CASES; i++) {
				sc[i].bad = false;
				verify(&sc[i], ctl.mark);
			}
			snprintf(what, sizeof(what), "%u prefixes", count);
			if (run_rounds(sc, N_SWEEP_CASES, sweep_rounds, o.repeat,
				       what))
				break;
			row->count = count;
			row->empty = summarize(sc, C_EMPTY_TC, sweep_rounds).median;
			row->udp = summarize(sc, C_UDP, sweep_rounds).delta;
			row->nomatch = summarize(sc, C_NOMATCH, sweep_rounds).delta;
			row->far = summarize(sc, C_NOMATCH_FAR, sweep_rounds).delta;
			row->match = summarize(sc, C_MATCH, sweep_rounds).delta;
			row->have_deep = !sc[C_DEEP].skip;
			if (row->have_deep)
				row->deep = summarize(sc, C_DEEP, sweep_rounds).delta;
			row->bad = false;
			for (int i = 0; i < N_SWEEP_CASES; i++)
				row->bad |= sc[i].bad;
			n_rows++;
		}
		print_sweep(out, rows, n_rows, sweep_rounds, o.repeat);
	}
	fprintf(out, "\nTotal run time: %.1f s.\n", now_s() - t0);
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
				o.markdown, strerror(errno));
			ret = 1;
		}
	}
out:
	if (md)
		fclose(md);
	free(report);
	for (int i = 0; i < N_CASES; i++)
		free(cases_ns_owner[i]);
	if (empty_xdp >= 0)
		close(empty_xdp);
	empty_bpf__destroy(empty);
	faith_bpf__destroy(skel);
	free(keys);
	return ret;
}

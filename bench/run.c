// SPDX-License-Identifier: BSD-2-Clause
/*
 * Running the cases: BPF_PROG_TEST_RUN with `repeat` runs, interleaved in
 * rounds; checking beforehand that each case takes the path it is meant to
 * measure; the medians over the rounds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- test runs ----------------------------------------------------------- */

/* `repeat` runs of the program on pkt; *ns: the kernel's average per run. */
static int test_run(int fd, const struct pkt *pkt, uint32_t repeat,
		    uint32_t *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = pkt->b,
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
static int xdp_run_meta(int fd, const struct pkt *pkt, uint32_t repeat,
			uint32_t *retval, struct faith_meta *meta,
			uint32_t *meta_len)
{
	struct xdp_md in = { .data_end = pkt->len }, ctx = { 0 };
	uint8_t out[512];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = pkt->b,
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

/* ---- checking a case ----------------------------------------------------- */

/* A TC case: skb->mark is `mark` exactly when it should be captured. */
static bool verify_tc(const struct bench_case *c, uint32_t mark)
{
	struct __sk_buff in = { 0 }, ctx = { 0 };
	uint32_t want = c->expect == EXPECT_CAPTURE ? mark : 0;
	uint8_t out[256];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = c->pkt->b,
		.data_size_in = c->pkt->len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.ctx_in = &in,
		.ctx_size_in = sizeof(in),
		.ctx_out = &ctx,
		.ctx_size_out = sizeof(ctx),
		.repeat = 1,
	);
	int err = bpf_prog_test_run_opts(c->prog_fd, &opts) ? -errno : 0;

	if (!err && ctx.mark == want)
		return true;
	fprintf(stderr, "bench_datapath: WARNING: %s: %s%s (mark 0x%x, wanted 0x%x)\n",
		c->name, err ? "test run failed: " : "unexpected verdict",
		err ? strerror(-err) : "", ctx.mark, want);
	return false;
}

/* An XDP case: faith metadata with the TCP verdict exactly when captured. */
static bool verify_xdp(const struct bench_case *c)
{
	struct faith_meta meta;
	uint32_t retval = 0, meta_len = 0;
	bool captured;
	int err;

	err = xdp_run_meta(c->prog_fd, c->pkt, 1, &retval, &meta, &meta_len);
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
	return false;
}

/*
 * Run a case once with a context and check what the program did: a case
 * that takes the wrong path would time the wrong thing.  Flags it bad.
 */
bool verify(struct bench_case *c, uint32_t mark)
{
	c->bad = false;
	if (c->expect == EXPECT_NONE || c->skip)
		return true;
	if (c->kind == KIND_TC ? verify_tc(c, mark) : verify_xdp(c))
		return true;
	c->bad = true;
	return false;
}

/* What a repeated XDP test run does to faith_xdp's metadata, with and
 * without the wrapper. */
void probe_meta(struct bench *b, const struct pkt *match)
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

/* ---- timing -------------------------------------------------------------- */

/* A few runs of every case first, so that no case pays for cold caches. */
static int warm_up(struct bench_case *cases, int n, uint32_t repeat)
{
	uint32_t warm = repeat / 20 ? repeat / 20 : 1, dummy;
	int err;

	for (int i = 0; i < n; i++) {
		if (cases[i].skip)
			continue;
		err = test_run(cases[i].prog_fd, cases[i].pkt, warm, &dummy);
		if (err)
			return err;
	}
	return 0;
}

/* Round r: every case once, from case r % n on. */
static int run_round(struct bench_case *cases, int n, uint32_t r,
		     uint32_t repeat)
{
	int err;

	for (int k = 0; k < n; k++) {
		int i = (int)((k + r) % (uint32_t)n);

		if (cases[i].skip)
			continue;
		err = test_run(cases[i].prog_fd, cases[i].pkt, repeat,
			       &cases[i].ns[r]);
		if (err)
			return err;
	}
	return 0;
}

/*
 * rounds x every case once, each BPF_PROG_TEST_RUN with `repeat` runs.
 * The starting case rotates from round to round so that no case always
 * runs right after another.
 */
int run_rounds(struct bench_case *cases, int n, uint32_t rounds,
	       uint32_t repeat, const char *what)
{
	int err = warm_up(cases, n, repeat);

	if (err)
		goto fail;
	fprintf(stderr, "bench_datapath: %s: %u rounds ", what, rounds);
	for (uint32_t r = 0; r < rounds; r++) {
		fputc('.', stderr);
		err = run_round(cases, n, r, repeat);
		if (err) {
			fputc('\n', stderr);
			goto fail;
		}
	}
	fputc('\n', stderr);
	return 0;
fail:
	fprintf(stderr, "bench_datapath: BPF_PROG_TEST_RUN failed: %s\n",
		strerror(-err));
	return err;
}

/* ---- statistics ---------------------------------------------------------- */

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

static uint32_t min_u32(const uint32_t *v, uint32_t n)
{
	uint32_t m = v[0];

	for (uint32_t i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

/* Median and minimum of a case, the median of its per-round differences
 * from its baseline (paired: same round, same conditions), and the
 * difference of the two minima (each program in its quietest round). */
struct result summarize(const struct bench_case *cases, int i,
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
		res.quiet = (double)res.min - min_u32(cases[c->baseline].ns, rounds);
	}
	free(sorted);
	free(d);
	return res;
}

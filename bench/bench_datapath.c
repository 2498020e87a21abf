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
 * bench/README.md for how to read the output, bench.h for the other files.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* The CPU pinned to (want: a CPU, -2 the current one, -1 none), or -1. */
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

/* Write the report to md, then close md; 0 or -1 after a message. */
static int write_markdown(FILE *md, const char *path, const char *report)
{
	int bad = fputs(report, md) == EOF;

	bad |= fclose(md) != 0;
	if (!bad)
		return 0;
	fprintf(stderr, "bench_datapath: writing %s: %s\n", path,
		strerror(errno));
	return -1;
}

/*
 * The report to stdout and, if md, to the --markdown file (closed here).
 * Built in memory first, so that both get the same text.  0 or -1.
 */
static int write_report(const struct bench *b, const struct shape_run *runs,
			int cpu, double t0, FILE *md)
{
	size_t report_len = 0;
	char *report = NULL;
	FILE *out = open_memstream(&report, &report_len);
	int err = 0;

	if (!out) {
		if (md)
			fclose(md);
		return -1;
	}
	print_report(out, b, runs, cpu, t0);
	fclose(out);
	fputs(report, stdout);
	fflush(stdout);
	if (md)
		err = write_markdown(md, b->o.markdown, report);
	free(report);
	return err;
}

int main(int argc, char **argv)
{
	static struct shape_run runs[N_SHAPES];
	struct bench b = {
		.xdp_wrap_fd = -1, .empty_xdp_wrap_fd = -1,
		.xdp_progs_fd = -1, .empty_xdp_fd = -1,
		.mark = FAITH_DEFAULT_MARK,
	};
	int cpu, ret = 1;
	FILE *md = NULL;
	double t0 = now_s();

	if (parse_args(argc, argv, &b.o))
		return 2;
	/* Open the report file first: a bad path fails before the long run. */
	if (b.o.markdown && !(md = fopen(b.o.markdown, "w"))) {
		fprintf(stderr, "bench_datapath: writing %s: %s\n", b.o.markdown,
			strerror(errno));
		return 1;
	}
	cpu = pin_cpu(b.o.cpu);
	pkt_addr6(NEAR_DST, b.near_dst);
	pkt_addr6(FAR_DST, b.far_dst);
	pkt_addr6(MATCH_DST, b.match_dst);

	if (load_progs(&b))
		goto out;
	for (int s = 0; s < N_SHAPES; s++)
		if (b.o.shape[s] && run_shape(&b, (enum shape)s, &runs[s]))
			goto out;
	ret = write_report(&b, runs, cpu, t0, md) ? 1 : 0;
	md = NULL;
out:
	if (md)
		fclose(md);
	unload_progs(&b);
	aim_free(&b);
	return ret;
}

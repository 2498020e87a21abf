// SPDX-License-Identifier: BSD-2-Clause
/*
 * The report, in Markdown: the set-up, a summary across the shapes, each
 * shape's table, the cases that miss the target, the prefix-count sweep and
 * what the XDP metadata check found.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>

#include "bench.h"

/* The first "model name" of /proc/cpuinfo; model is left alone without. */
static void cpu_model(char *model, size_t len)
{
	FILE *ci = fopen("/proc/cpuinfo", "r");
	char line[512];

	while (ci && fgets(line, sizeof(line), ci)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(model, len, "%s", colon + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (ci)
		fclose(ci);
}

static void print_header(FILE *f, const struct bench *b, int cpu)
{
	const struct options *o = &b->o;
	struct utsname u;
	char model[256] = "unknown";

	cpu_model(model, sizeof(model));
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
	fprintf(f, "- median/min: over the rounds of the kernel's average ns per run; delta: median over the rounds of (case - its empty program in the same round); the target is judged on it\n");
	fprintf(f, "- delta of minima: the case's fastest round minus its empty program's fastest round: the cost on a quiet machine.  This VM shares its cores: in busy periods a co-tenant evicts the cache lines faith touches (index bucket, counters, code) and the medians rise by 3-8 ns while the empty program, which touches none, barely moves\n");
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
	fprintf(f, "\n\"TC match generated\" aims at the address inside a generated prefix, and \"no match, same /32\" at the address beside one (or 2001:db8:ffff::1), whose lookup costs the most by the index's own lookup in C (probes, then block reads); with the trie, at a /96 (a long walk) and 2001:db8:ffff::1.\n\n");
}

/* One row of a shape's table. */
static void print_case_row(FILE *f, const char *name, const struct result *r)
{
	if (r->skip) {
		fprintf(f, "| %s | n/a | n/a | n/a | n/a | n/a |\n", name);
		return;
	}
	fprintf(f, "| %s%s | %.1f | %u | ", name,
		r->bad ? " (UNVERIFIED: wrong verdict)" : "",
		r->median, r->min);
	if (r->baseline)
		fprintf(f, "baseline | baseline | baseline |\n");
	else if (r->delta <= TARGET_NS)
		fprintf(f, "%+.1f | %+.0f | yes |\n", r->delta, r->quiet);
	else
		fprintf(f, "%+.1f | %+.0f | **NO: MISSED by %.1f ns** |\n",
			r->delta, r->quiet, r->delta - TARGET_NS);
}

static void print_shape(FILE *f, enum shape s, const struct shape_run *sr,
			const struct options *o)
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
	fprintf(f, "| case | median ns/packet | min | delta vs empty program (ns) | delta of minima | within target (<= %.0f ns above empty)? |\n",
		TARGET_NS);
	fprintf(f, "|---|---:|---:|---:|---:|---|\n");
	for (int i = 0; i < N_CASES; i++) {
		if (i >= C_EMPTY_XDP && !o->xdp)
			break;
		print_case_row(f, sr->names[i], &sr->res[i]);
	}
	fprintf(f, "\n");
}

/* The cases more than TARGET_NS above their empty program, or that none is. */
static void print_misses(FILE *f, const struct shape_run *runs)
{
	int misses = 0;

	for (int s = 0; s < N_SHAPES; s++)
		for (int i = 0; i < N_CASES && runs[s].done; i++)
			misses += misses_target(&runs[s].res[i]);
	if (!misses) {
		fprintf(f, "All cases within %.0f ns of their empty program.\n\n",
			TARGET_NS);
		return;
	}
	fprintf(f, "**TARGET MISSED** in %d case%s (more than %.0f ns above the empty program):\n",
		misses, misses == 1 ? "" : "s", TARGET_NS);
	for (int s = 0; s < N_SHAPES; s++)
		for (int i = 0; i < N_CASES && runs[s].done; i++)
			if (misses_target(&runs[s].res[i]))
				fprintf(f, "- %s, %s: %+.1f ns\n",
					shapes[s].title, runs[s].names[i],
					runs[s].res[i].delta);
	fprintf(f, "\n");
}

static void print_sweep_row(FILE *f, const struct sweep_row *r)
{
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

static void print_sweep(FILE *f, const struct shape_run *runs,
			const struct options *o)
{
	bool any = false;

	for (int s = 0; s < N_SHAPES; s++)
		any |= runs[s].swept;
	if (!any)
		return;
	fprintf(f, "## Cost against the number of prefixes (faith_tc)\n\n");
	fprintf(f, "Deltas in ns over the empty TC program (paired medians, %u rounds x %u runs; the %u-prefix rows are the tables above).\n",
		sweep_rounds(o), sweep_repeat(o), o->prefixes);
	fprintf(f, "UDP to a faith address runs the same parsing and accounting as TCP but no lookup,\n");
	fprintf(f, "so the last two columns are TCP delta - UDP delta: the lookup alone (no match), or\n");
	fprintf(f, "the lookup plus the capture (gate check, counters, mark).\n");
	for (int s = 0; s < N_SHAPES; s++) {
		if (!runs[s].swept)
			continue;
		fprintf(f, "\n### %s\n\n", shapes[s].title);
		fprintf(f, "| prefixes | datapath lookup | empty TC (ns) | UDP: parse only | TCP no match, same /32 | TCP no match, other /32 | TCP match 64:ff9b::/96 | TCP match generated | lookup: no match, same /32 | lookup + capture: match generated |\n");
		fprintf(f, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
		for (size_t i = 0; i < runs[s].n_rows; i++)
			print_sweep_row(f, &runs[s].rows[i]);
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

/* The whole report, as it goes to stdout and --markdown. */
void print_report(FILE *f, const struct bench *b, const struct shape_run *runs,
		  int cpu, double t0)
{
	print_header(f, b, cpu);
	print_summary(f, runs);
	for (int s = 0; s < N_SHAPES; s++)
		if (runs[s].done)
			print_shape(f, (enum shape)s, &runs[s], &b->o);
	print_misses(f, runs);
	print_sweep(f, runs, &b->o);
	if (b->o.xdp)
		print_probe(f, &b->probe);
	fprintf(f, "Total run time: %.1f s.\n", now_s() - t0);
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * bench_datapath's command line: see usage() and bench/README.md.
 */
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "util.h"

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

static bool parse_scaling(const char *text, enum scaling *out)
{
	if (!strcmp(text, "auto"))
		*out = SCALING_AUTO;
	else if (!strcmp(text, "always"))
		*out = SCALING_ALWAYS;
	else if (!strcmp(text, "never"))
		*out = SCALING_NEVER;
	else
		return false;
	return true;
}

static bool parse_cpu(const char *text, int *cpu)
{
	uint32_t v;

	if (!strcmp(text, "none")) {
		*cpu = -1;
		return true;
	}
	if (!parse_u32(text, CPU_SETSIZE - 1, &v))
		return false;
	*cpu = (int)v;
	return true;
}

/* A count within 1..max. */
static bool parse_count(const char *text, uint32_t max, uint32_t *out)
{
	uint32_t v;

	if (!parse_u32(text, max, &v) || !v)
		return false;
	*out = v;
	return true;
}

/* One option (its getopt value) and its argument; false if the value is bad. */
static bool set_option(struct options *o, int opt, const char *arg)
{
	switch (opt) {
	case 'p':
		return parse_count(arg, FAITH_MAX_PREFIXES, &o->prefixes);
	case 'r':
		return parse_count(arg, 1000, &o->rounds);
	case 'n':
		return parse_count(arg, UINT32_MAX, &o->repeat);
	case 'S':
		return parse_shapes(arg, o->shape);
	case 'm':
		o->markdown = arg;
		return true;
	case 'c':
		return parse_cpu(arg, &o->cpu);
	case 's':
		return parse_scaling(arg, &o->scaling);
	case 'X':
		o->xdp = false;
		return true;
	}
	return false;
}

/* 0, or -1 after a message and the usage on stderr. --help exits. */
int parse_args(int argc, char **argv, struct options *o)
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
	int opt, idx = 0;

	*o = (struct options){
		.prefixes = DEFAULT_PREFIXES, .rounds = DEFAULT_ROUNDS,
		.repeat = DEFAULT_REPEAT, .cpu = -2,
		.scaling = SCALING_ALWAYS, .xdp = true,
	};
	for (int s = 0; s < N_SHAPES; s++)
		o->shape[s] = true;
	while ((opt = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			exit(0);
		}
		if (opt == '?') {	/* getopt_long said what is wrong */
			usage(stderr);
			return -1;
		}
		if (!set_option(o, opt, optarg)) {
			fprintf(stderr, "bench_datapath: bad value '%s' for --%s\n",
				optarg, longopts[idx].name);
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
}

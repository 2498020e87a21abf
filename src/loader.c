// SPDX-License-Identifier: BSD-2-Clause
/*
 * faith-loader: load the faith datapath, hook interfaces, manage prefixes,
 * the keepfaith gate and relay sockets.  One verb per invocation, in the
 * manner of xdp-loader and bpftool.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "maps.h"
#include "objects.h"
#include "util.h"

static const struct faith_verb *const verbs[] = {
	&verb_attach, &verb_detach, &verb_unload, &verb_route,
	&verb_keepfaith, &verb_relay, &verb_status,
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static void usage(FILE *out)
{
	fprintf(out, "Usage: faith-loader [OPTIONS] VERB [ARGS]\n\n"
		"Capture IPv6 TCP to faith prefixes into registered relay sockets.\n\n"
		"Verbs:\n");
	for (size_t i = 0; i < NVERBS; i++)
		fprintf(out, "  %s %s\n", verbs[i]->name, verbs[i]->synopsis);
	fprintf(out, "\nOptions (every verb):\n"
		"  -j, --json         JSON output\n"
		"  -v, --verbose      show libbpf's messages\n"
		"      --pin-dir DIR  pin directory (default $FAITH_PIN_DIR or %s)\n"
		"  -h, --help         this help; 'faith-loader VERB --help' for a verb\n",
		FAITH_DEFAULT_PIN_DIR);
}

int cli_parse(struct faith_cli *cli, const struct faith_verb *verb,
	      int argc, char **argv, const char *own_short,
	      const struct option *own_long, cli_opt_fn own, void *ctx)
{
	static const struct option common[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "pin-dir", required_argument, NULL, 'P' },
	};
	struct option longopts[32];
	char shortopts[64];
	size_t n = 0;
	int opt, ret;

	snprintf(shortopts, sizeof(shortopts), ":hjv%s", own_short ? own_short : "");
	for (; own_long && own_long[n].name && n < 24; n++)
		longopts[n] = own_long[n];
	memcpy(longopts + n, common, sizeof(common));
	memset(longopts + n + 4, 0, sizeof(longopts[0]));

	optind = 1;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			cli_usage(verb, stdout);
			return EXIT_OK;
		case 'j':
			cli->json = true;
			break;
		case 'v':
			cli->verbose = true;
			faith_libbpf_verbose(true);
			break;
		case 'P':
			cli->pin_dir = optarg;
			break;
		case ':':
			return cli_bad(verb, "option '%s' needs a value", argv[optind - 1]);
		case '?':
			return cli_bad(verb, "unknown option '%s'", argv[optind - 1]);
		default:
			ret = own ? own(opt, optarg, ctx) : EXIT_USAGE;
			if (ret)
				return ret;
		}
	}
	return CLI_CONTINUE;
}

void cli_usage(const struct faith_verb *verb, FILE *out)
{
	fprintf(out, "Usage: faith-loader %s %s\n\n%s\n"
		"Common options: -j/--json, -v/--verbose, --pin-dir DIR, -h/--help\n",
		verb->name, verb->synopsis, verb->help);
}

int cli_bad(const struct faith_verb *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "faith-loader %s: ", verb->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'faith-loader %s --help'.\n", verb->name);
	return EXIT_USAGE;
}

int cli_open(const struct faith_cli *cli, struct faith_objs *o)
{
	int err;

	faith_objs_init(o, cli->pin_dir);
	err = faith_objs_open(o);
	if (!err)
		return EXIT_OK;
	faith_objs_close(o);
	if (err == -ENOENT)
		faith_err("faith is not loaded in %s (run 'faith-loader attach IFACE')",
			  cli->pin_dir);
	else
		faith_err("cannot open %s: %s", cli->pin_dir, faith_strerror(err));
	return EXIT_FAIL;
}

int cli_load(const struct faith_cli *cli, struct faith_objs *o)
{
	faith_objs_init(o, cli->pin_dir);
	if (!faith_objs_load(o))
		return EXIT_OK;
	faith_objs_close(o);
	return EXIT_FAIL;
}

int main(int argc, char **argv)
{
	struct faith_cli cli = { .pin_dir = getenv("FAITH_PIN_DIR") };
	int i;

	if (!cli.pin_dir || !*cli.pin_dir)
		cli.pin_dir = FAITH_DEFAULT_PIN_DIR;
	/* Options before the verb apply to it, as after it. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			cli.json = true;
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			cli.verbose = true;
			faith_libbpf_verbose(true);
		} else if (!strcmp(argv[i], "--pin-dir") && i + 1 < argc) {
			cli.pin_dir = argv[++i];
		} else if (!strncmp(argv[i], "--pin-dir=", 10)) {
			cli.pin_dir = argv[i] + 10;
		} else {
			fprintf(stderr, "faith-loader: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t v = 0; v < NVERBS; v++)
		if (!strcmp(argv[i], verbs[v]->name))
			return verbs[v]->run(&cli, argc - i, argv + i);
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	fprintf(stderr, "faith-loader: unknown verb '%s'\n", argv[i]);
	usage(stderr);
	return EXIT_USAGE;
}

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
		fprintf(out, "  %s%s%s\n", verbs[i]->name,
			*verbs[i]->synopsis ? " " : "", verbs[i]->synopsis);
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
	fprintf(out, "Usage: faith-loader %s%s%s\n\n%s\n"
		"Common options: -j/--json, -v/--verbose, --pin-dir DIR, -h/--help\n",
		verb->name, *verb->synopsis ? " " : "", verb->synopsis, verb->help);
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

/* Say so when a pin directory holds only part of faith. */
bool cli_incomplete(const struct faith_cli *cli, const struct faith_objs *o)
{
	const char *missing = faith_objs_missing(o, false);

	if (missing)
		faith_err("faith in %s is incomplete (no '%s': left by another version of faith-loader?): 'faith-loader unload' removes it, then attach again",
			  cli->pin_dir, missing);
	return missing != NULL;
}

int cli_open(const struct faith_cli *cli, struct faith_objs *o)
{
	int err;

	faith_objs_init(o, cli->pin_dir);
	err = faith_objs_open(o);
	if (!err)
		return EXIT_OK;
	faith_objs_close(o);
	if (err == -ENOENT && cli_incomplete(cli, o))
		return EXIT_FAIL;
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

/* --pin-dir, or an abbreviation getopt_long takes for it: a value follows. */
static bool takes_value(const char *arg)
{
	size_t n = strlen(arg);

	return n >= 3 && !strncmp(arg, "--pin-dir", n);
}

/* Index of the verb: the first operand that is not --pin-dir's value. */
static int find_verb(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++)
		if (takes_value(argv[i]))
			i++;
	return i < argc ? i : argc;
}

/* No verb: was help asked for (-h, --help, or -h among grouped options)? */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (takes_value(argv[i]))
			i++;
		else if (!strcmp(argv[i], "--help") ||
			 (argv[i][0] == '-' && argv[i][1] != '-' && strchr(argv[i], 'h')))
			return true;
	}
	return false;
}

static const struct faith_verb *verb_named(const char *name)
{
	for (size_t v = 0; v < NVERBS; v++)
		if (!strcmp(name, verbs[v]->name))
			return verbs[v];
	return NULL;
}

/*
 * The verb's argv: its name, then the options given before it, then the
 * rest.  Its cli_parse() then treats options the same wherever they were
 * written (getopt permutes them out of the operands).
 */
static char **verb_argv(int argc, char **argv, int v)
{
	char **vargv = calloc((size_t)argc, sizeof(*vargv));
	int n = 0;

	if (!vargv)
		return NULL;
	vargv[n++] = argv[v];
	for (int i = 1; i < argc; i++)
		if (i != v)
			vargv[n++] = argv[i];
	return vargv;	/* argc - 1 entries and a NULL */
}

int main(int argc, char **argv)
{
	struct faith_cli cli = { .pin_dir = getenv("FAITH_PIN_DIR") };
	int v = find_verb(argc, argv), ret;
	const struct faith_verb *verb;
	char **vargv;

	if (!cli.pin_dir || !*cli.pin_dir)
		cli.pin_dir = FAITH_DEFAULT_PIN_DIR;
	if (v == argc || !strcmp(argv[v], "help")) {
		if (v < argc || wants_help(argc, argv)) {
			usage(stdout);
			return EXIT_OK;
		}
		if (argc > 1)
			fprintf(stderr, "faith-loader: missing verb\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	verb = verb_named(argv[v]);
	if (!verb) {
		fprintf(stderr, "faith-loader: unknown verb '%s'\n", argv[v]);
		usage(stderr);
		return EXIT_USAGE;
	}
	vargv = verb_argv(argc, argv, v);
	if (!vargv) {
		faith_err("out of memory");
		return EXIT_FAIL;
	}
	ret = verb->run(&cli, argc - 1, vargv);
	free(vargv);
	return ret;
}

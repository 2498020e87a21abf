/* SPDX-License-Identifier: BSD-2-Clause */
/* faith-loader's verbs and the options they all share. */
#ifndef FAITH_CLI_H
#define FAITH_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* Exit statuses. */
#define EXIT_OK		0
#define EXIT_FAIL	1	/* the operation failed */
#define EXIT_USAGE	2	/* bad command line */

struct faith_cli {
	const char *pin_dir;
	bool json;
	bool verbose;
};

struct faith_verb {
	const char *name;
	int (*run)(struct faith_cli *cli, int argc, char **argv);
	const char *synopsis;	/* after "faith-loader NAME " */
	const char *help;	/* what it does, its options */
};

/* cli_parse() result meaning "options parsed, carry on with optind". */
#define CLI_CONTINUE (-1)

/* A verb's own option: return 0, or an exit status (via cli_bad()). */
typedef int (*cli_opt_fn)(int opt, const char *arg, void *ctx);

/*
 * Parse a verb's options (getopt_long, GNU permutation): the common ones
 * (-h/--help, -j/--json, -v/--verbose, --pin-dir DIR) and the verb's own
 * (short letters in own_short, long ones in own_long, NULL-terminated, may
 * be NULL).  Returns CLI_CONTINUE with optind at the first operand, or the
 * exit status to leave with (after --help, or a bad option).
 */
int cli_parse(struct faith_cli *cli, const struct faith_verb *verb,
	      int argc, char **argv, const char *own_short,
	      const struct option *own_long, cli_opt_fn own, void *ctx);
void cli_usage(const struct faith_verb *verb, FILE *out);
/* Complain about the command line, point at --help: returns EXIT_USAGE. */
int cli_bad(const struct faith_verb *verb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct faith_objs;
/* Open the pinned datapath; if not loaded, say so: EXIT_FAIL. */
int cli_open(const struct faith_cli *cli, struct faith_objs *o);
/* Open it, loading it first if needed (write verbs). */
int cli_load(const struct faith_cli *cli, struct faith_objs *o);
/* Only part of faith is pinned: say so (true), else false. */
bool cli_incomplete(const struct faith_cli *cli, const struct faith_objs *o);

/* Listings shared by their verbs and `status`. */
int list_prefixes(const struct faith_cli *cli, const struct faith_objs *o,
		  const char *json_key);
int list_relays(const struct faith_cli *cli, const struct faith_objs *o,
		const char *json_key);

extern const struct faith_verb verb_attach, verb_detach, verb_unload,
	verb_route, verb_keepfaith, verb_relay, verb_status;

#endif /* FAITH_CLI_H */

// SPDX-License-Identifier: BSD-2-Clause
/*
 * faith-bytes: a byte-exact TCP traffic checker for faithd's end-to-end
 * tests.  The protocol, the output and the exit codes: faith-bytes.h.
 */
#include <stdio.h>
#include <string.h>

#include "faith-bytes.h"

static const char usage_text[] =
	"usage: faith-bytes serve ADDR PORT [PORT...]\n"
	"       faith-bytes send ADDR PORT UPLOAD DOWNLOAD [--half-close] [--timeout SEC]\n"
	"       faith-bytes hold ADDR PORT N [--timeout SEC]\n"
	"       faith-bytes probe ADDR PORT [--timeout SEC]\n"
	"send, hold and probe take --bind ADDR: the source address to use.\n"
	"ADDR is an IPv4 or IPv6 literal; SEC may be fractional (default 10).\n"
	"exit: 0 ok, 1 error, 2 usage, 3 reset or refused, 4 timeout,\n"
	"      5 data mismatch, 6 closed (probe)\n";

int usage(void)
{
	fputs(usage_text, stderr);
	return EX_USAGE;
}

int main(int argc, char **argv)
{
	rlim_t nofile = raise_nofile();

	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (!strcmp(argv[1], "send"))
		return cmd_send(argc - 1, argv + 1);
	if (!strcmp(argv[1], "hold"))
		return cmd_hold(argc - 1, argv + 1, nofile);
	if (!strcmp(argv[1], "probe"))
		return cmd_probe(argc - 1, argv + 1);
	return usage();
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * faith-bytes probe: connect, send nothing, and say what happens first.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "faith-bytes.h"

/* The first thing that happens on a fresh connection, sending nothing. */
static int probe_run(int fd, uint64_t start, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;
	ssize_t r;
	int wait;

	for (;;) {
		wait = ms_left(deadline);
		if (!wait || poll(&p, 1, wait) == 0) {
			report("timeout", start, NULL);
			return EX_TIMEOUT;
		}
		r = recv(fd, &c, 1, MSG_DONTWAIT);
		if (r > 0) {
			report("data", start, NULL);
			return EX_OK;
		}
		if (!r) {
			report("closed", start, NULL);
			return EX_CLOSED;
		}
		if (!would_block(errno))
			break;
	}
	if (errno == ECONNREFUSED || errno == ECONNRESET) {
		report(err_word(errno), start, NULL);
		return EX_RESET;
	}
	report(err_word(errno), start, "%s", strerror(errno));
	return err_exit(errno);
}

int cmd_probe(int argc, char **argv)
{
	struct opts o = { 0 };
	struct target t;
	uint16_t port;
	uint64_t start;
	int fd, err, rc;

	if (!parse_opts(argc, argv, OPT_TIMEOUT, &o) || o.npos != 2 ||
	    !parse_port(o.pos[1], &port) || !parse_addr(o.pos[0], port, &t))
		return usage();
	start = now_ms();
	err = connect_start(&t, &fd);
	if (err) {
		report(err_word(err), start, "%s", strerror(err));
		return err_exit(err);
	}
	rc = probe_run(fd, start, start + o.timeout_ms);
	close(fd);
	return rc;
}

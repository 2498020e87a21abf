// SPDX-License-Identifier: BSD-2-Clause
/*
 * faith-bytes hold: N connections established at once and held open until
 * stdin has a line or ends.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "faith-bytes.h"

enum hold_state { H_SENDING, H_WAIT_K, H_HELD, H_FAILED };

enum hold_fail { HF_REFUSED, HF_RESET, HF_TIMEOUT, HF_STATUS, HF_CLOSED, HF_OTHER, HF_NR };

static const char *const hold_fail_names[HF_NR] = {
	"refused", "reset", "timed out", "bad status", "closed", "other errors",
};

struct hold {
	int n, pending;
	struct pollfd *p;		/* p[i].fd < 0 once i is settled */
	int *fd;
	unsigned char *state, *off;
	unsigned int fails[HF_NR];
	int first_err;			/* errno of the first "other" failure */
};

static void hold_fail(struct hold *h, int i, enum hold_fail why, int err)
{
	if (why == HF_OTHER && !h->first_err)
		h->first_err = err;
	h->fails[why]++;
	h->state[i] = H_FAILED;
	h->p[i].fd = -1;
	h->pending--;
}

static void hold_fail_errno(struct hold *h, int i, int err)
{
	if (err == ECONNREFUSED)
		hold_fail(h, i, HF_REFUSED, err);
	else if (err == ECONNRESET || err == EPIPE)
		hold_fail(h, i, HF_RESET, err);
	else if (err == ETIMEDOUT)
		hold_fail(h, i, HF_TIMEOUT, err);
	else
		hold_fail(h, i, HF_OTHER, err);
}

static void hold_send(struct hold *h, int i, const unsigned char *hdr)
{
	ssize_t r = send(h->fd[i], hdr + h->off[i], FB_HDR_LEN - h->off[i],
			 MSG_DONTWAIT | MSG_NOSIGNAL);

	if (r < 0) {
		if (!would_block(errno))
			hold_fail_errno(h, i, errno);
		return;
	}
	h->off[i] += (unsigned char)r;
	if (h->off[i] == FB_HDR_LEN) {
		h->state[i] = H_WAIT_K;
		h->p[i].events = POLLIN;
	}
}

static void hold_recv(struct hold *h, int i)
{
	unsigned char status;
	ssize_t r = recv(h->fd[i], &status, 1, MSG_DONTWAIT);

	if (r < 0) {
		if (!would_block(errno))
			hold_fail_errno(h, i, errno);
	} else if (!r) {
		hold_fail(h, i, HF_CLOSED, 0);
	} else if (status != FB_STATUS_OK) {
		hold_fail(h, i, HF_STATUS, 0);
	} else {
		h->state[i] = H_HELD;
		h->p[i].fd = -1;
		h->pending--;
	}
}

/* Connect all at once, then poll them all until each is held or failed. */
static void hold_establish(struct hold *h, const struct target *t, uint64_t deadline)
{
	unsigned char hdr[FB_HDR_LEN];
	struct header hh = { .magic = FB_MAGIC, .flags = FB_HOLD };
	int i, err, wait;

	header_pack(&hh, hdr);
	h->pending = h->n;
	for (i = 0; i < h->n; i++) {
		err = connect_start(t, &h->fd[i]);
		h->p[i].fd = h->fd[i];
		h->p[i].events = POLLOUT;
		if (err)
			hold_fail_errno(h, i, err);
	}
	while (h->pending) {
		wait = ms_left(deadline);
		if (!wait || poll(h->p, (nfds_t)h->n, wait) <= 0)
			break;
		for (i = 0; i < h->n; i++) {
			if (h->p[i].fd < 0 || !h->p[i].revents)
				continue;
			if (h->state[i] == H_SENDING)
				hold_send(h, i, hdr);
			else
				hold_recv(h, i);
		}
	}
	for (i = 0; i < h->n; i++)
		if (h->state[i] == H_SENDING || h->state[i] == H_WAIT_K)
			hold_fail(h, i, HF_TIMEOUT, 0);
}

static unsigned int hold_failures(const struct hold *h)
{
	unsigned int sum = 0;
	int k;

	for (k = 0; k < HF_NR; k++)
		sum += h->fails[k];
	return sum;
}

/* "held K of N after T ms: 3 refused, 1 timed out"; the exit code goes by
 * the worst kind: reset or refused, then timeout, then bad status. */
static int hold_report_failure(const struct hold *h, uint64_t start)
{
	char word[64], msg[512];
	size_t len = 0;
	int k;

	msg[0] = '\0';
	for (k = 0; k < HF_NR; k++)
		if (h->fails[k] && len < sizeof(msg))
			len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s%u %s",
						len ? ", " : "", h->fails[k],
						hold_fail_names[k]);
	if (h->first_err && len < sizeof(msg))
		snprintf(msg + len, sizeof(msg) - len, " (%s)", strerror(h->first_err));
	snprintf(word, sizeof(word), "held %u of %d", h->n - hold_failures(h), h->n);
	report(word, start, "%s", msg);
	if (h->fails[HF_REFUSED] || h->fails[HF_RESET])
		return EX_RESET;
	if (h->fails[HF_TIMEOUT])
		return EX_TIMEOUT;
	if (h->fails[HF_STATUS])
		return EX_DATA;
	return EX_ERR;
}

/* Until stdin has a line or ends; then count what the far side dropped. */
static void hold_wait_release(struct hold *h)
{
	char c;
	ssize_t r;
	int i, dropped = 0;

	do
		r = read(STDIN_FILENO, &c, 1);
	while ((r == 1 && c != '\n') || (r < 0 && errno == EINTR));
	for (i = 0; i < h->n; i++) {
		r = recv(h->fd[i], &c, 1, MSG_DONTWAIT | MSG_PEEK);
		if (!r || (r < 0 && !would_block(errno)))
			dropped++;
	}
	printf("released %d", h->n);
	if (dropped)
		printf(", %d dropped while held", dropped);
	putchar('\n');
	fflush(stdout);
}

static bool hold_alloc(struct hold *h, int n)
{
	int i;

	h->n = n;
	h->p = calloc((size_t)n, sizeof(*h->p));
	h->fd = malloc((size_t)n * sizeof(*h->fd));
	h->state = calloc((size_t)n, 1);
	h->off = calloc((size_t)n, 1);
	if (!h->p || !h->fd || !h->state || !h->off)
		return false;
	for (i = 0; i < n; i++)
		h->fd[i] = -1;
	return true;
}

static void hold_free(struct hold *h)
{
	int i;

	for (i = 0; h->fd && i < h->n; i++)
		if (h->fd[i] >= 0)
			close(h->fd[i]);
	free(h->p);
	free(h->fd);
	free(h->state);
	free(h->off);
}

int cmd_hold(int argc, char **argv, rlim_t nofile)
{
	struct opts o = { 0 };
	struct hold h = { 0 };
	struct target t;
	uint16_t port;
	uint64_t n, start;
	int rc;

	if (!parse_opts(argc, argv, OPT_TIMEOUT, &o) || o.npos != 3 ||
	    !parse_port(o.pos[1], &port) || !parse_addr(o.pos[0], port, &t) ||
	    !parse_u64(o.pos[2], &n) || !n || n > MAX_HOLD)
		return usage();
	/* poll() refuses more descriptors than RLIMIT_NOFILE, so say so here. */
	if (n + 16 > nofile) {
		printf("held 0 of %llu: open file limit %llu is too low\n",
		       (unsigned long long)n, (unsigned long long)nofile);
		return EX_ERR;
	}
	if (!hold_alloc(&h, (int)n)) {
		hold_free(&h);
		return EX_ERR;
	}
	start = now_ms();
	hold_establish(&h, &t, start + o.timeout_ms);
	if (hold_failures(&h)) {
		rc = hold_report_failure(&h, start);
	} else {
		printf("held %d\n", h.n);
		fflush(stdout);
		hold_wait_release(&h);
		rc = EX_OK;
	}
	hold_free(&h);
	return rc;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * faith-bytes send: one connection, the upload sent and the status byte and
 * download verified at the same time, under one deadline.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "faith-bytes.h"

struct xfer {
	int fd;
	uint64_t start, deadline;
	bool half_close;
	struct header h;
	unsigned char hdr[FB_HDR_LEN];
	struct stream up, down;
	uint64_t sent;			/* header and upload bytes sent */
	uint64_t got;			/* status and download bytes received */
	unsigned char buf[CHUNK];
};

static int xfer_fail(struct xfer *x, const char *word, int code, const char *detail)
{
	unsigned long long sent = x->sent > FB_HDR_LEN ? x->sent - FB_HDR_LEN : 0;
	unsigned long long got = x->got ? x->got - 1 : 0;

	report(word, x->start, "%s (up=%llu/%llu down=%llu/%llu)", detail, sent,
	       (unsigned long long)x->h.upload, got, (unsigned long long)x->h.download);
	return code;
}

static int xfer_err(struct xfer *x, int err)
{
	return xfer_fail(x, err_word(err), err_exit(err), strerror(err));
}

static int xfer_send(struct xfer *x)
{
	uint64_t total = FB_HDR_LEN + x->h.upload;
	size_t n = 0, m;
	ssize_t r;

	if (x->sent < FB_HDR_LEN) {
		n = FB_HDR_LEN - (size_t)x->sent;
		memcpy(x->buf, x->hdr + x->sent, n);
	}
	m = total - x->sent - n < CHUNK - n ? total - x->sent - n : CHUNK - n;
	stream_fill(&x->up, x->sent + n - FB_HDR_LEN, x->buf + n, m);
	r = send(x->fd, x->buf, n + m, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (r < 0)
		return would_block(errno) ? STEP_MORE : xfer_err(x, errno);
	x->sent += (uint64_t)r;
	if (x->sent == total && x->half_close && shutdown(x->fd, SHUT_WR))
		return xfer_err(x, errno);
	return STEP_MORE;
}

static int xfer_eof(struct xfer *x)
{
	char msg[64];

	if (x->got == 1 + x->h.download) {
		printf("ok up=%llu down=%llu ms=%llu\n", (unsigned long long)x->h.upload,
		       (unsigned long long)x->h.download,
		       (unsigned long long)(now_ms() - x->start));
		fflush(stdout);
		return EX_OK;
	}
	snprintf(msg, sizeof(msg), "EOF %s", x->got ? "before the download ended"
						    : "before the status byte");
	return xfer_fail(x, "mismatch", EX_DATA, msg);
}

static int xfer_data(struct xfer *x, const unsigned char *p, size_t n)
{
	char msg[96];
	uint64_t left;
	size_t len, bad;

	if (!x->got) {
		x->got = 1;
		if (*p != FB_STATUS_OK) {
			snprintf(msg, sizeof(msg), "status 0x%02x '%c', not 'K'", *p,
				 *p >= 0x20 && *p < 0x7f ? *p : '?');
			return xfer_fail(x, "mismatch", EX_DATA, msg);
		}
		p++;
		n--;
	}
	left = x->h.download - (x->got - 1);
	len = n < left ? n : left;
	bad = stream_check(&x->down, x->got - 1, p, len);
	if (bad < len) {
		snprintf(msg, sizeof(msg), "download byte %llu differs",
			 (unsigned long long)(x->got - 1 + bad));
		x->got += bad;
		return xfer_fail(x, "mismatch", EX_DATA, msg);
	}
	x->got += len;
	if (len < n)
		return xfer_fail(x, "mismatch", EX_DATA, "more data than the download");
	return STEP_MORE;
}

static int xfer_recv(struct xfer *x)
{
	ssize_t r = recv(x->fd, x->buf, CHUNK, MSG_DONTWAIT);

	if (r < 0)
		return would_block(errno) ? STEP_MORE : xfer_err(x, errno);
	if (!r)
		return xfer_eof(x);
	return xfer_data(x, x->buf, (size_t)r);
}

/* Send and receive together, so that neither side's buffers fill up. */
static int xfer_run(struct xfer *x)
{
	struct pollfd p = { .fd = x->fd };
	int rc = STEP_MORE, wait;

	while (rc == STEP_MORE) {
		p.events = POLLIN | (x->sent < FB_HDR_LEN + x->h.upload ? POLLOUT : 0);
		wait = ms_left(x->deadline);
		if (!wait || poll(&p, 1, wait) == 0)
			return xfer_fail(x, "timeout", EX_TIMEOUT, "deadline passed");
		if ((p.events & POLLOUT) && (p.revents & (POLLOUT | POLLERR)))
			rc = xfer_send(x);
		if (rc == STEP_MORE && (p.revents & (POLLIN | POLLHUP | POLLERR)))
			rc = xfer_recv(x);
	}
	return rc;
}

int cmd_send(int argc, char **argv)
{
	struct opts o = { 0 };
	struct target t;
	struct xfer *x;
	uint16_t port;
	int rc, err;

	if (!parse_opts(argc, argv, OPT_HALF_CLOSE | OPT_TIMEOUT, &o) || o.npos != 4)
		return usage();
	x = calloc(1, sizeof(*x));
	if (!x)
		return EX_ERR;
	x->h.magic = FB_MAGIC;
	x->h.flags = o.half_close ? FB_HALF_CLOSE : 0;
	if (!parse_port(o.pos[1], &port) || !parse_addr(o.pos[0], port, &t) ||
	    !parse_u64(o.pos[2], &x->h.upload) || !parse_u64(o.pos[3], &x->h.download) ||
	    x->h.download == UINT64_MAX) {
		free(x);
		return usage();
	}
	header_pack(&x->h, x->hdr);
	x->up = stream_init(x->h.upload, 1);
	x->down = stream_init(x->h.download, 2);
	x->half_close = o.half_close;
	x->start = now_ms();
	x->deadline = x->start + o.timeout_ms;
	err = connect_start(&t, &x->fd);
	rc = err ? xfer_err(x, err) : xfer_run(x);
	if (x->fd >= 0)
		close(x->fd);
	free(x);
	return rc;
}

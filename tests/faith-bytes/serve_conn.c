// SPDX-License-Identifier: BSD-2-Clause
/*
 * faith-bytes serve: one connection, from its header through the verified
 * upload to the status byte, the download and the close.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve.h"

void conn_close(struct server *s, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	close(c->w.fd);
	free(c);
}

static void conn_log(struct conn *c, const char *what)
{
	fprintf(stderr, "faith-bytes: connection (up=%llu down=%llu flags=%u): %s\n",
		(unsigned long long)c->h.upload, (unsigned long long)c->h.download,
		c->h.flags, what);
}

/* After the upload (and, with half-close, the FIN) comes the answer. */
static void conn_upload_done(struct conn *c)
{
	c->state = (c->h.flags & FB_HALF_CLOSE) && !c->eof ? CS_EOF : CS_SEND;
}

static void conn_header(struct conn *c)
{
	header_unpack(&c->h, c->hdr);
	if (!header_valid(&c->h)) {
		conn_log(c, "bad header");
		c->bad = true;
		c->h.download = 0;
		c->state = CS_SEND;
		return;
	}
	c->up = stream_init(c->h.upload, 1);
	c->down = stream_init(c->h.download, 2);
	if (c->h.flags & FB_HOLD)
		c->state = CS_SEND;
	else if (c->h.upload)
		c->state = CS_UPLOAD;
	else
		conn_upload_done(c);
}

static void conn_verify(struct conn *c, const unsigned char *buf, size_t n)
{
	size_t bad = stream_check(&c->up, c->in, buf, n);

	if (bad < n && !c->bad) {
		fprintf(stderr, "faith-bytes: upload byte %llu of %llu differs\n",
			(unsigned long long)(c->in + bad), (unsigned long long)c->h.upload);
		c->bad = true;
	}
	c->in += n;
	if (c->in == c->h.upload)
		conn_upload_done(c);
}

/* Step results for connections: go on (STEP_MORE), wait for epoll, close. */
#define CSTEP_WAIT	0
#define CSTEP_CLOSE	(STEP_MORE - 1)

/* The client's FIN: where it is expected, or where it cuts things short. */
static int conn_eof(struct server *s, struct conn *c)
{
	c->eof = true;
	switch (c->state) {
	case CS_HEADER:
		s->st.aborted++;
		return CSTEP_CLOSE;
	case CS_UPLOAD:
		conn_log(c, "upload cut short by FIN");
		c->bad = true;
		c->state = CS_SEND;
		return STEP_MORE;
	case CS_EOF:
		c->state = CS_SEND;
		return STEP_MORE;
	default:
		return CSTEP_CLOSE;
	}
}

static size_t conn_read_len(const struct conn *c)
{
	if (c->state == CS_HEADER)
		return FB_HDR_LEN - c->hdr_len;
	if (c->state == CS_UPLOAD && c->h.upload - c->in < CHUNK)
		return c->h.upload - c->in;
	return CHUNK;
}

static int conn_read(struct server *s, struct conn *c)
{
	unsigned char *dst = c->state == CS_HEADER ? c->hdr + c->hdr_len : s->buf;
	ssize_t r = recv(c->w.fd, dst, conn_read_len(c), MSG_DONTWAIT);

	if (r < 0) {
		if (would_block(errno))
			return CSTEP_WAIT;
		s->st.aborted++;
		return CSTEP_CLOSE;
	}
	if (!r)
		return conn_eof(s, c);
	switch (c->state) {
	case CS_HEADER:
		c->hdr_len += (unsigned int)r;
		if (c->hdr_len == FB_HDR_LEN)
			conn_header(c);
		break;
	case CS_UPLOAD:
		conn_verify(c, s->buf, (size_t)r);
		break;
	case CS_EOF:
		if (!c->bad)
			conn_log(c, "data after the upload");
		c->bad = true;
		break;
	default:
		break;
	}
	return STEP_MORE;
}

/* Everything is sent: close, or shut down and wait for the client's close. */
static int conn_sent(struct server *s, struct conn *c)
{
	if ((c->h.flags & FB_HOLD) && !c->bad)
		s->st.held++;
	else if (c->bad)
		s->st.bad++;
	else
		s->st.ok++;
	c->state = CS_DRAIN;
	if (c->eof)
		return CSTEP_CLOSE;
	/* Hold keeps both directions open; otherwise FIN, then read till the
	 * client's FIN so that closing never finds unread data and resets. */
	if (!(c->h.flags & FB_HOLD) || c->bad)
		shutdown(c->w.fd, SHUT_WR);
	return STEP_MORE;
}

static int conn_write(struct server *s, struct conn *c)
{
	uint64_t total = 1 + c->h.download;
	size_t n = total - c->out < CHUNK ? total - c->out : CHUNK;
	size_t head = 0;
	ssize_t r;

	if (!c->out) {
		s->buf[0] = c->bad ? FB_STATUS_BAD : FB_STATUS_OK;
		head = 1;
	}
	stream_fill(&c->down, c->out + head - 1, s->buf + head, n - head);
	r = send(c->w.fd, s->buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (r < 0) {
		if (would_block(errno))
			return CSTEP_WAIT;
		s->st.aborted++;
		return CSTEP_CLOSE;
	}
	c->out += (uint64_t)r;
	return c->out == total ? conn_sent(s, c) : STEP_MORE;
}

static int conn_arm(struct server *s, struct conn *c)
{
	uint32_t want = c->state == CS_SEND ? EPOLLOUT : EPOLLIN;
	struct epoll_event ev = { .events = want, .data.ptr = &c->w };

	if (want == c->armed)
		return 0;
	c->armed = want;
	return epoll_ctl(s->ep, EPOLL_CTL_MOD, c->w.fd, &ev);
}

/* A few steps per event, so that one fast connection cannot starve others. */
void conn_event(struct server *s, struct conn *c)
{
	int rc = STEP_MORE, i;

	for (i = 0; i < 16 && rc == STEP_MORE; i++)
		rc = c->state == CS_SEND ? conn_write(s, c) : conn_read(s, c);
	if (rc == CSTEP_CLOSE || conn_arm(s, c))
		conn_close(s, c);
}

void conn_new(struct server *s, int fd)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return;
	}
	c->w.fd = fd;
	c->w.kind = W_CONN;
	c->armed = EPOLLIN;
	if (ep_add(s->ep, &c->w, EPOLLIN)) {
		close(fd);
		free(c);
		return;
	}
	c->next = s->conns;
	if (c->next)
		c->next->prev = c;
	s->conns = c;
	s->st.accepted++;
}

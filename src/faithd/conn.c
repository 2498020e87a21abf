// SPDX-License-Identifier: BSD-2-Clause
/*
 * One relayed connection: the IPv6 client accepted from a faith listener,
 * a non-blocking connect to the IPv4 host, then splice() both ways
 * through a pipe per busy direction.  A FIN is passed on with
 * shutdown(SHUT_WR) while the other direction keeps flowing; a reset is
 * passed on as a reset (SO_LINGER 0); refusals reset the client at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "faithd/connlimits.h"
#include "faithd/log.h"
#include "faithd/worker.h"

/* Bytes asked of one splice(), and splices per direction per wakeup (so
 * that one bulk transfer does not starve the worker's other connections). */
#define SPLICE_CHUNK	(1 << 20)
#define SPLICE_BURST	8
#define PIPE_SIZE	(256 << 10)
#define SPLICE_DRAINED	(32 << 10)

/* Close fd so that the peer gets a reset, not a FIN. */
static void close_reset(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static int pipe_get(struct worker *w, struct half *h)
{
	if (h->pipe[0] >= 0)
		return 0;
	if (w->npipes) {
		w->npipes--;
		h->pipe[0] = w->pipes[w->npipes][0];
		h->pipe[1] = w->pipes[w->npipes][1];
		return 0;
	}
	if (pipe2(h->pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	/* Fewer, larger splices; the default 64 KiB if it may not grow. */
	fcntl(h->pipe[1], F_SETPIPE_SZ, PIPE_SIZE);
	return 0;
}

/* Give back an empty pipe; a pipe with bytes left in it is closed. */
static void pipe_put(struct worker *w, struct half *h)
{
	if (h->pipe[0] < 0)
		return;
	if (!h->pending && w->npipes < PIPE_POOL_MAX) {
		w->pipes[w->npipes][0] = h->pipe[0];
		w->pipes[w->npipes][1] = h->pipe[1];
		w->npipes++;
	} else {
		close(h->pipe[0]);
		close(h->pipe[1]);
	}
	h->pipe[0] = h->pipe[1] = -1;
	h->pending = 0;
}

void pipes_drain(struct worker *w)
{
	while (w->npipes) {
		w->npipes--;
		close(w->pipes[w->npipes][0]);
		close(w->pipes[w->npipes][1]);
	}
}

static void log_conn(const struct conn *c, const char *how)
{
	char src[64], dst6[64], dst4[32];
	uint64_t ms = now_ms() - c->start_ms;

	sockaddr6_format(&c->t.src, src, sizeof(src));
	sockaddr6_format(&c->t.dst6, dst6, sizeof(dst6));
	sockaddr4_format(&c->t.dst4, dst4, sizeof(dst4));
	log_info("%s -> %s -> %s: %s; %llu bytes to server, %llu to client, %llu.%03llu s",
		 src, dst6, dst4, how,
		 (unsigned long long)c->dir[SIDE_CLIENT].bytes,
		 (unsigned long long)c->dir[SIDE_SERVER].bytes,
		 (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000));
}

/* End c: log how, close both sides (with a reset where asked), free it. */
void conn_finish(struct worker *w, struct conn *c, const char *how,
		 bool reset_client, bool reset_server)
{
	if (w->ctx->sockmap && (c->sm.on || c->poll_ms))
		sockmap_end(w, c);
	if (w->ctx->xlate)
		xlate_end(w, c, reset_client, reset_server);
	log_conn(c, how);
	list_unlink(c);
	for (int s = 0; s < 2; s++) {
		bool reset = s == SIDE_CLIENT ? reset_client : reset_server;

		/* No EPOLL_CTL_DEL: closing the only descriptor of a socket
		 * takes it out of the epoll set. */
		if (c->fd[s] >= 0) {
			if (reset)
				close_reset(c->fd[s]);
			else
				close(c->fd[s]);
		}
		pipe_put(w, &c->dir[s]);
	}
	/* Out of the program's map once the frozen sockets are gone: until
	 * then their peers' segments still went on translated. */
	if (w->ctx->xlate)
		xlate_forget(w, c);
	limits_release(w->ctx->limits, &c->t.src.sin6_addr, c->limit_ticket);
	if (!--w->nconns)
		pipes_drain(w);	/* idle again: hold no more than at start */
	/* Events for it may still be in the batch epoll_wait returned. */
	c->dead = true;
	c->next = w->graveyard;
	w->graveyard = c;
}

void conn_abort(struct worker *w, struct conn *c, const char *why)
{
	conn_finish(w, c, why, true, true);
}

int conn_watch(struct worker *w, struct conn *c, enum conn_side s, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = &c->ref[s] };
	int op = c->events[s] == UINT32_MAX ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;

	if (c->events[s] == ev)
		return 0;
	if (epoll_ctl(w->epfd, op, c->fd[s], &e) < 0)
		return -errno;
	c->events[s] = ev;
	return 0;
}

/* Refuse an accepted connection: the client gets a reset now. */
static void refuse(int fd, const struct faithd_target *t, const char *why)
{
	char src[64], dst6[64];

	sockaddr6_format(&t->src, src, sizeof(src));
	sockaddr6_format(&t->dst6, dst6, sizeof(dst6));
	log_info("%s -> %s: refused: %s", src, dst6, why);
	close_reset(fd);
}

/*
 * --datapath translate: the server's segments, once translated, are 20
 * bytes longer (IPv6): announce it an MSS no larger than the client takes,
 * so that they fit.  The client's MSS as announced: the current one plus
 * the timestamp option.
 */
static int client_mss(int client_fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(client_fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 || !ti.tcpi_snd_mss)
		return 0;
	return ti.tcpi_snd_mss + (ti.tcpi_options & TCPI_OPT_TIMESTAMPS ? 12 : 0);
}

static int upstream_connect(const struct faithd_target *t, int mss)
{
	struct sockaddr_in local = { .sin_family = AF_INET, .sin_addr = t->bind };
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (mss)
		setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss));
	if (t->has_bind && bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0)
		goto fail;
	if (connect(fd, (const struct sockaddr *)&t->dst4, sizeof(t->dst4)) < 0 &&
	    errno != EINPROGRESS)
		goto fail;
	return fd;
fail:
	one = -errno;
	close(fd);
	return one;
}

static struct conn *conn_new(int fd, const struct faithd_target *t)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->t = *t;
	c->fd[SIDE_CLIENT] = fd;
	c->fd[SIDE_SERVER] = -1;
	for (int s = 0; s < 2; s++) {
		c->events[s] = UINT32_MAX;	/* not in the epoll set yet */
		c->ref[s].kind = s == SIDE_CLIENT ? EV_CLIENT : EV_SERVER;
		c->ref[s].conn = c;
		c->dir[s].pipe[0] = c->dir[s].pipe[1] = -1;
	}
	c->start_ms = now_ms();
	return c;
}

int conn_start(struct worker *w, int fd, const struct sockaddr_in6 *peer)
{
	struct faithd_target t = { .src = *peer };
	char why[192];
	struct conn *c;
	unsigned ticket;
	int err;

	if (!policy_decide(w->ctx, fd, &t, why, sizeof(why)))
		return refuse(fd, &t, why), 0;
	err = limits_acquire(w->ctx->limits, &t.src.sin6_addr, &ticket);
	if (err)
		return refuse(fd, &t, err == -EUSERS ? "too many connections from this source" :
			      "too many connections"), 0;
	c = conn_new(fd, &t);
	if (!c) {
		limits_release(w->ctx->limits, &t.src.sin6_addr, ticket);
		return refuse(fd, &t, "out of memory"), -ENOMEM;
	}
	c->limit_ticket = ticket;
	w->nconns++;
	c->fd[SIDE_SERVER] = err = upstream_connect(&t, w->ctx->xlate ? client_mss(fd) : 0);
	if (err < 0) {
		snprintf(why, sizeof(why), "upstream connect failed: %s", strerror(-err));
		conn_abort(w, c, why);
		/* Out of descriptors: the caller stops accepting for a while. */
		return err == -EMFILE || err == -ENFILE || err == -ENOBUFS ? err : 0;
	}
	/* The client joins the epoll set once the upstream side is up: until
	 * then its bytes wait in its receive queue. */
	if (conn_watch(w, c, SIDE_SERVER, EPOLLOUT)) {
		conn_abort(w, c, "epoll_ctl failed");
		return -ENOMEM;
	}
	c->deadline_ms = c->start_ms + w->ctx->opts->connect_timeout_ms;
	list_append(&w->connecting, c);
	return 0;
}

/*
 * Pass a FIN on once every byte before it is delivered.  When the other
 * direction is over too, the connection is closed at once, and close()
 * sends the FIN: no shutdown() needed.
 */
static int pass_eof(struct worker *w, struct half *h, int dst, bool other_shut)
{
	if (!h->eof || h->pending || h->shut)
		return 0;
	pipe_put(w, h);
	if (!other_shut && shutdown(dst, SHUT_WR) < 0 && errno != ENOTCONN)
		return -errno;
	h->shut = true;
	return 0;
}

/*
 * Move bytes along direction d until it would block, for SPLICE_BURST
 * splices at most, or until a read got less than it asked for: the socket
 * was drained then, and level-triggered epoll says when more comes (no
 * splice just to hear EAGAIN).  -errno on failure.
 */
static int pump(struct worker *w, struct conn *c, enum conn_side d)
{
	struct half *h = &c->dir[d];
	int src = c->fd[d], dst = c->fd[!d];
	bool drained = false;
	ssize_t n;

	for (int i = 0; i < SPLICE_BURST && !h->shut; i++) {
		if (h->pending) {
			n = splice(h->pipe[0], NULL, dst, NULL, h->pending,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n < 0)
				return errno == EAGAIN ? 0 : -errno;
			h->pending -= n;
			h->bytes += n;
			continue;
		}
		if (h->eof || drained)
			break;
		if (pipe_get(w, h))
			return -EMFILE;
		n = splice(src, NULL, h->pipe[1], NULL, SPLICE_CHUNK,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n < 0) {
			if (errno != EAGAIN)
				return -errno;
			pipe_put(w, h);
			return 0;
		}
		if (n == 0)
			h->eof = true;
		/* A short read (a request, an answer): the socket had no
		 * more queued; bulk reads are larger and go on. */
		drained = n < SPLICE_DRAINED;
		h->pending += n;
	}
	/* An idle direction holds no pipe. */
	if (!h->pending)
		pipe_put(w, h);
	/* Also after a burst that ended on the FIN: nothing else would wake
	 * this direction up again (no byte to read or write is left). */
	return pass_eof(w, h, dst, c->dir[!d].shut);
}

/* The epoll interest that follows from the state of both directions. */
static int rewatch(struct worker *w, struct conn *c)
{
	uint32_t ev[2] = { 0, 0 };

	for (int d = 0; d < 2; d++) {
		const struct half *h = &c->dir[d];

		if (h->pending)
			ev[!d] |= EPOLLOUT;
		else if (!h->eof)
			ev[d] |= EPOLLIN;
	}
	if (conn_watch(w, c, SIDE_CLIENT, ev[0]) || conn_watch(w, c, SIDE_SERVER, ev[1]))
		return -errno;
	return 0;
}

static void touch(struct worker *w, struct conn *c)
{
	unsigned idle = w->ctx->opts->idle_timeout_s;
	uint64_t now;

	if (!idle)
		return;
	/* Re-queue at most once a second: deadlines stay in order, cheaply. */
	now = now_ms();
	if (now + idle * 1000ull - c->deadline_ms < 1000)
		return;
	list_unlink(c);
	c->deadline_ms = now + idle * 1000ull;
	list_append(&w->active, c);
}

/* Pump the directions in the mask dirs (bit d: direction d). */
static void relay(struct worker *w, struct conn *c, unsigned dirs)
{
	uint64_t before = c->dir[0].bytes + c->dir[1].bytes + c->dir[0].pending +
			  c->dir[1].pending;
	int err;

	for (int d = 0; d < 2; d++) {
		if (!(dirs & (1u << d)))
			continue;
		err = pump(w, c, d);
		if (!err)
			continue;
		/* Reading from d failed: d reset; writing to !d failed: !d did. */
		if (err == -ECONNRESET || err == -EPIPE || err == -ETIMEDOUT) {
			bool from_src = c->dir[d].pending == 0 && !c->dir[d].eof;

			conn_finish(w, c, (from_src ? d : !d) == SIDE_CLIENT ?
				    "reset by client" : "reset by server",
				    true, true);
			return;
		}
		return conn_abort(w, c, strerror(-err));
	}
	if (c->dir[0].shut && c->dir[1].shut)
		return conn_finish(w, c, "closed", false, false);
	if (rewatch(w, c))
		return conn_abort(w, c, "epoll_ctl failed");
	if (c->dir[0].bytes + c->dir[1].bytes + c->dir[0].pending +
	    c->dir[1].pending != before)
		touch(w, c);
	if (w->ctx->xlate && c->xl.phase == XL_OFF)
		xlate_maybe(w, c);
}

#define DIRS_BOTH	3u

void conn_splice(struct worker *w, struct conn *c)
{
	relay(w, c, DIRS_BOTH);
}

/* The directions an event on side's socket concerns: readable, its own;
 * writable, the one towards it; errors and hang-ups, both. */
static unsigned event_dirs(enum conn_side side, uint32_t events)
{
	unsigned dirs = 0;

	if (events & (EPOLLERR | EPOLLHUP))
		return DIRS_BOTH;
	if (events & EPOLLIN)
		dirs |= 1u << side;
	if (events & EPOLLOUT)
		dirs |= 1u << !side;
	return dirs;
}

static void connected(struct worker *w, struct conn *c, uint32_t events)
{
	char why[96];
	int err = 0;
	socklen_t len = sizeof(err);

	/* Writable without an error: connected, no need to ask. */
	if ((events & (EPOLLERR | EPOLLHUP)) &&
	    getsockopt(c->fd[SIDE_SERVER], SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (events & (EPOLLERR | EPOLLHUP) && !err)
		err = ECONNREFUSED;
	if (err) {
		snprintf(why, sizeof(why), "upstream connect failed: %s", strerror(err));
		return conn_abort(w, c, why);
	}
	c->connected = true;
	list_unlink(c);
	c->deadline_ms = now_ms() + w->ctx->opts->idle_timeout_s * 1000ull;
	list_append(&w->active, c);
	if (w->ctx->sockmap)
		return sockmap_relay(w, c);
	/* Most protocols have the client speak first: its bytes are likely
	 * queued already.  The server's side waits for epoll. */
	relay(w, c, 1u << SIDE_CLIENT);
}

void conn_event(struct worker *w, struct conn *c, enum conn_side side, uint32_t events)
{
	if (c->dead || (w->ctx->xlate && c->xl.phase == XL_ON))	/* frozen: the program relays */
		return;
	if (c->connected)
		return w->ctx->sockmap && c->sm.on ? sockmap_event(w, c) :
						     relay(w, c, event_dirs(side, events));
	/* Until then only the upstream socket is watched. */
	connected(w, c, events);
}

void conn_expire(struct worker *w, struct conn *c)
{
	/* The kernel moves the bytes: was it really idle? */
	if (c->connected && w->ctx->sockmap && c->sm.on && !sockmap_idle(w, c))
		return;
	if (c->connected && w->ctx->xlate && c->xl.phase == XL_ON && !xlate_idle(w, c))
		return;
	conn_abort(w, c, c->connected ? "idle timeout" : "upstream connect timed out");
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * faithd --datapath sockmap: relay in the kernel.  Once the upstream
 * connection is up, both sockets go into the BPF maps of
 * bpf/faithd_sockmap.bpf.c; its verdict program redirects every skb one
 * socket receives to the other's send side, and the bytes never reach
 * userspace.  The worker is left with what the kernel does not do:
 *
 *   FIN: the source socket saw its peer's FIN (POLLRDHUP).  The bytes
 *     before it may still sit in the psock backlog of the other socket
 *     (redirected, not yet in its send queue): shutdown(SHUT_WR) waits
 *     until every byte received is in the send queue, i.e. the source's
 *     tcpi_bytes_received == the bytes redirected + passed, and those ==
 *     the bytes written to the other socket (tcpi_bytes_acked + SIOCOUTQ,
 *     less their value at the start).
 *   Resets and errors: a reset (SO_LINGER 0) to the other side, as the
 *     splice relay does.
 *   Flow control: the kernel does not limit the psock backlog: a fast
 *     sender and a slow receiver would pile up redirected bytes without
 *     bound.  While more than SM_HIGH bytes of a direction are redirected
 *     and not yet acknowledged by the receiver, the worker sets `hold` for
 *     its source socket: the program then passes its skbs, which queue on
 *     the socket, charged to its receive buffer, and TCP closes the
 *     sender's window.  The socket never leaves the map: that would race
 *     with the skb the kernel is handling and could strand it.  The worker
 *     moves the passed bytes to the other socket itself (recv, send), but
 *     only once every redirected byte is in that socket's send queue
 *     (backlog 0); the program redirects again only once every passed byte
 *     was moved (see move()).  Below SM_LOW, hold is cleared.
 *   Idle timeout and the log line's byte counts: from TCP_INFO.
 *
 * Samples (TCP_INFO, SIOCOUTQ, the `dirs` counters, poll) are taken when
 * epoll reports something (EPOLLRDHUP, errors, and EPOLLOUT edges: the send
 * queue of a congested socket draining), and on a timer: every SM_FAST_MS
 * while a direction has bytes queued, backing off to SM_SLOW_MS when quiet.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "faithd/log.h"
#include "faithd/sockmap.h"
#include "faithd/sockmap_maps.h"
#include "faithd/worker.h"

#define SM_HIGH		(8u << 20)	/* stop reading a source above this... */
#define SM_LOW		(4u << 20)	/* ...until the direction is below this */
/* Passed bytes not yet moved, at most.  Most are charged to the source's
 * receive buffer, which bounds them; but while the source's own psock
 * backlog is not empty (bytes redirected to it, waiting for its send
 * window), the kernel queues passed skbs behind those, uncharged, and the
 * sender's window stays open.  Both ways congested at once (iperf3 --bidir)
 * reach tens of MiB for a moment; both peers sending and neither reading
 * grows without bound (about 150 MB/s here).  Such a connection is reset
 * at this many.  (Shrinking SO_RCVBUF did not slow it.) */
#define SM_PASSED_MAX	(256u << 20)
#define SM_URGENT_MS	1	/* passed bytes to move, or a FIN waiting */
#define SM_FAST_MS	4	/* bytes queued towards a receiver */
#define SM_SLOW_MS	1000	/* quiet: the most between two samples */
#define SM_COPY_BUF	(64u << 10)	/* the worker's buffer for passed bytes */
#define SM_COPY_BURST	32	/* reads and writes a sample, at most */

/* ---- the worker: samples ------------------------------------------------- */

struct sample {
	uint64_t rx[2];		/* bytes socket s received */
	uint64_t written[2];	/* bytes written to socket s's send side */
	uint64_t unacked[2];	/* of those, in its send queue (SIOCOUTQ) */
	uint64_t sent[2];	/* bytes taken from socket s: redirected, copied */
	uint64_t redirected[2];	/* of socket s's bytes: redirected by the program */
	uint64_t passed[2];	/* ...and passed (left on it for the worker) */
	bool rdhup[2];		/* socket s's peer sent FIN */
	int err[2];		/* socket s failed (reset, timeout) */
};

static int tcp_counts(int fd, uint64_t *rx, uint64_t *acked, uint64_t *outq)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int q = 0;

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    ioctl(fd, SIOCOUTQ, &q) < 0)
		return -errno;
	*rx = ti.tcpi_bytes_received;
	*acked = ti.tcpi_bytes_acked;
	*outq = q > 0 ? (uint64_t)q : 0;
	return 0;
}

static void sample(struct worker *w, struct conn *c, struct sample *m)
{
	struct pollfd p[2];
	uint64_t acked;

	memset(m, 0, sizeof(*m));
	for (int s = 0; s < 2; s++) {
		p[s].fd = c->fd[s];
		p[s].events = POLLRDHUP;
		if (tcp_counts(c->fd[s], &m->rx[s], &acked, &m->unacked[s]))
			m->err[s] = errno;
		/* base: acked + queued before any byte was relayed; after our
		 * shutdown() both count the FIN too. */
		m->written[s] = acked + m->unacked[s] - c->sm.dir[!s].base - c->sm.dir[!s].shut;
	}
	/* After what was written: a backlog (sent - written) is never
	 * under-estimated. */
	for (int s = 0; s < 2; s++) {
		struct faithd_sm_dir d;

		if (!bpf_map_lookup_elem(w->ctx->sockmap->dirs_fd, &c->sm.dir[s].cookie, &d)) {
			m->redirected[s] = d.sent;
			m->passed[s] = d.passed;
		}
		m->sent[s] = m->redirected[s] + c->sm.dir[s].copied;
	}
	if (poll(p, 2, 0) < 0)
		return;
	for (int s = 0; s < 2; s++) {
		int err = 0;
		socklen_t len = sizeof(err);

		m->rdhup[s] = p[s].revents & POLLRDHUP;
		if (p[s].revents & POLLERR)
			getsockopt(c->fd[s], SOL_SOCKET, SO_ERROR, &err, &len);
		/* Hung up without an error and without both FINs: closed under us. */
		if (!err && (p[s].revents & POLLHUP) && !(m->rdhup[s] && c->sm.dir[!s].shut))
			err = ECONNRESET;
		if (err)
			m->err[s] = err;
	}
}

/* ---- the relay ------------------------------------------------------------ */

static int map_add(int map_fd, uint64_t cookie, int fd)
{
	__u64 val = (__u64)fd;

	return bpf_map_update_elem(map_fd, &cookie, &val, BPF_ANY) < 0 ? -errno : 0;
}

/* Run the verdict over bytes that queued before the socket was in the map:
 * setting SO_RCVLOWAT signals the socket's data_ready. */
static void kick(int fd)
{
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
}

/* Tell the program (`ctl`) whether to hold direction d, and how many of
 * its passed bytes the worker has moved. */
static int publish(struct worker *w, struct conn *c, int d, bool hold)
{
	struct sm_dir *sd = &c->sm.dir[d];
	struct faithd_sm_ctl v = { .hold = hold, .consumed = sd->consumed };

	if (bpf_map_update_elem(w->ctx->sockmap->ctl_fd, &sd->cookie, &v, BPF_ANY) < 0)
		return -errno;
	if (hold != sd->hold)
		log_debug("fd %d: %s %u bytes queued to the %s: %s the %s's %s",
			  c->fd[d], hold ? "over" : "under", hold ? SM_HIGH : SM_LOW,
			  d == SIDE_CLIENT ? "server" : "client", hold ? "holding" : "moving",
			  d == SIDE_CLIENT ? "client" : "server", hold ? "bytes" : "held bytes");
	sd->hold = hold;
	sd->published = sd->consumed;
	return 0;
}

/* Redirected bytes of direction d not yet in fd[!d]'s send queue, counted
 * now: what fd[!d] was written first, then what was sent to it. */
static int backlog_now(struct worker *w, struct conn *c, int d, uint64_t *backlog)
{
	struct sm_dir *sd = &c->sm.dir[d];
	uint64_t rx, acked, outq, written;
	struct faithd_sm_dir v;

	if (tcp_counts(c->fd[!d], &rx, &acked, &outq) ||
	    bpf_map_lookup_elem(w->ctx->sockmap->dirs_fd, &sd->cookie, &v) < 0)
		return -errno;
	written = acked + outq - sd->base - c->sm.dir[!d].shut;
	*backlog = v.sent + sd->copied > written ? v.sent + sd->copied - written : 0;
	return 0;
}

/*
 * Move passed bytes of direction d (left on fd[d] by the program) to
 * fd[!d].  Two rules keep the bytes in order:
 *   - the worker writes only once every redirected byte is in fd[!d]'s
 *     send queue: the backlog is counted after the bytes were read, so it
 *     covers every skb redirected before them;
 *   - the program redirects only once `ctl` says every passed byte was
 *     written (consumed == passed), and consumed is published after the
 *     writes: until then it passes, so no redirect comes in between.
 * Returns false when the connection ended.
 */
static bool move(struct worker *w, struct conn *c, int d)
{
	struct sm_dir *sd = &c->sm.dir[d];
	bool checked = false;
	uint64_t backlog;

	for (int i = 0; i < SM_COPY_BURST; i++) {
		ssize_t n;

		if (!sd->buf_len) {
			if (!sd->buf && !(sd->buf = malloc(SM_COPY_BUF)))
				break;
			n = recv(c->fd[d], sd->buf, SM_COPY_BUF, MSG_DONTWAIT);
			if (n <= 0)
				break;	/* none yet (EAGAIN), the FIN, or an error */
			sd->buf_len = (size_t)n;
			sd->buf_off = 0;
		}
		if (!checked) {
			if (backlog_now(w, c, d, &backlog) || backlog)
				break;
			checked = true;
		}
		n = send(c->fd[!d], sd->buf + sd->buf_off, sd->buf_len - sd->buf_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			break;	/* full (EAGAIN), or an error the next sample sees */
		sd->buf_off += (size_t)n;
		sd->copied += (uint64_t)n;
		if (sd->buf_off < sd->buf_len)
			continue;
		sd->consumed += sd->buf_len;
		sd->buf_len = sd->buf_off = 0;
	}
	if (sd->consumed != sd->published && publish(w, c, d, sd->hold)) {
		conn_abort(w, c, "sockmap: updating the relay's maps failed");
		return false;
	}
	return true;
}

static void account(struct conn *c, const struct sample *m)
{
	c->dir[SIDE_CLIENT].bytes = m->written[SIDE_SERVER];
	c->dir[SIDE_SERVER].bytes = m->written[SIDE_CLIENT];
}

/* Direction d of check(): flow control, held bytes, the FIN.  Returns
 * true when the connection ended. */
static bool check_dir(struct worker *w, struct conn *c, const struct sample *m, int d,
		      bool *urgent, bool *queued)
{
	struct sm_dir *sd = &c->sm.dir[d];
	/* Redirected, not yet written to the other socket (psock backlog). */
	uint64_t backlog = m->sent[d] > m->written[!d] ? m->sent[d] - m->written[!d] : 0;
	uint64_t inflight = backlog + m->unacked[!d];
	/* Passed, not moved yet. */
	uint64_t pending = m->passed[d] > sd->consumed ? m->passed[d] - sd->consumed : 0;

	if (sd->hold != (sd->hold ? inflight >= SM_LOW : inflight > SM_HIGH) &&
	    publish(w, c, d, !sd->hold)) {
		conn_abort(w, c, "sockmap: updating the relay's maps failed");
		return true;
	}
	if (pending > SM_PASSED_MAX) {
		log_info("fd %d: over %u bytes from the %s held in the kernel while the "
			 "other way is stalled; resetting the connection (--datapath splice "
			 "has no such limit)", c->fd[d], SM_PASSED_MAX,
			 d == SIDE_CLIENT ? "client" : "server");
		conn_abort(w, c, "sockmap: too many bytes held");
		return true;
	}
	/* Held: the receiver is behind; what was passed waits too. */
	if ((pending || sd->buf_len) && !sd->hold) {
		if (!move(w, c, d))
			return true;
		pending = m->passed[d] > sd->consumed ? m->passed[d] - sd->consumed : 0;
	}
	if (pending || sd->buf_len) {
		sd->moving = true;
		*urgent = true;
	} else if (sd->moving && !sd->hold) {
		log_debug("fd %d: the %s's held bytes all moved: relaying in the kernel again",
			  c->fd[d], d == SIDE_CLIENT ? "client" : "server");
		sd->moving = false;
	}
	if (inflight > 0)
		*queued = true;
	if (sd->shut || !m->rdhup[d])
		return false;
	/* tcpi_bytes_received counts the FIN too; every passed byte moved,
	 * every redirected one in the send queue. */
	if (m->rx[d] != m->redirected[d] + m->passed[d] + 1 || pending || sd->buf_len ||
	    backlog) {
		*urgent = true;	/* bytes before the FIN still on their way */
		return false;
	}
	if (shutdown(c->fd[!d], SHUT_WR) < 0 && errno != ENOTCONN) {
		account(c, m);
		conn_finish(w, c, strerror(errno), true, true);
		return true;
	}
	sd->shut = true;
	return false;
}

/* Look at c now: errors, FINs, flow control; when to look again. */
static void check(struct worker *w, struct conn *c)
{
	uint64_t now = now_ms(), next, total;
	bool urgent = false, queued = false;
	struct sample m;

	sample(w, c, &m);
	c->sm.sampled_ms = now;
	for (int s = 0; s < 2; s++) {
		if (!m.err[s])
			continue;
		/* The socket that failed first is the one with the reset. */
		if (m.err[!s] == ECONNRESET && m.err[s] != ECONNRESET)
			s = !s;
		log_debug("sockmap: err %d/%d rdhup %d/%d rx %llu/%llu sent %llu/%llu wr %llu/%llu shut %d/%d",
			  m.err[0], m.err[1], m.rdhup[0], m.rdhup[1],
			  (unsigned long long)m.rx[0], (unsigned long long)m.rx[1],
			  (unsigned long long)m.sent[0], (unsigned long long)m.sent[1],
			  (unsigned long long)m.written[0], (unsigned long long)m.written[1],
			  c->sm.dir[0].shut, c->sm.dir[1].shut);
		account(c, &m);
		conn_finish(w, c, m.err[s] == ECONNRESET || m.err[s] == EPIPE ?
			    (s == SIDE_CLIENT ? "reset by client" : "reset by server") :
			    strerror(m.err[s]), true, true);
		return;
	}
	for (int d = 0; d < 2; d++)
		if (check_dir(w, c, &m, d, &urgent, &queued))
			return;	/* ended */
	account(c, &m);
	if (c->sm.dir[0].shut && c->sm.dir[1].shut) {
		conn_finish(w, c, "closed", false, false);
		return;
	}
	total = m.rx[0] + m.rx[1];
	if (total != c->sm.total) {
		c->sm.total = total;
		c->sm.changed_ms = now;
		c->sm.interval_ms = SM_FAST_MS;
	} else if (!queued && c->sm.interval_ms < SM_SLOW_MS) {
		c->sm.interval_ms *= 2;
	}
	next = urgent ? SM_URGENT_MS : queued ? SM_FAST_MS : c->sm.interval_ms;
	poll_at(w, c, now + next);
}

/*
 * Only established sockets go into a sockmap: one already had a FIN (or a
 * reset).  The splice relay takes the connection, unless the client's
 * socket went in and received bytes meanwhile: they are on its psock, which
 * taking it out of the map would drop.  Then, rather than lose them, the
 * connection is reset (a window of microseconds: the server's FIN between
 * the two updates).
 */
static void not_established(struct worker *w, struct conn *c)
{
	const struct faithd_sockmap *sm = w->ctx->sockmap;
	uint64_t passed = 0;

	for (int s = 0; s < 2; s++) {
		struct faithd_sm_dir d;

		bpf_map_delete_elem(sm->socks_fd, &c->sm.dir[s].cookie);
		if (!bpf_map_lookup_elem(sm->dirs_fd, &c->sm.dir[s].cookie, &d))
			passed += d.passed;
		bpf_map_delete_elem(sm->dirs_fd, &c->sm.dir[s].cookie);
		bpf_map_delete_elem(sm->ctl_fd, &c->sm.dir[s].cookie);
	}
	c->sm.on = false;
	if (passed)
		return conn_abort(w, c, "closed while entering the sockmap, with bytes in it");
	log_debug("fd %d: not established any more; relaying it with splice()",
		  c->fd[SIDE_CLIENT]);
	conn_splice(w, c);
}

void sockmap_relay(struct worker *w, struct conn *c)
{
	const struct faithd_sockmap *sm = w->ctx->sockmap;
	uint64_t rx, acked, outq;
	int err = 0;

	for (int s = 0; s < 2 && !err; s++) {
		socklen_t len = sizeof(c->sm.dir[s].cookie);

		if (getsockopt(c->fd[s], SOL_SOCKET, SO_COOKIE, &c->sm.dir[s].cookie, &len) < 0 ||
		    tcp_counts(c->fd[s], &rx, &acked, &outq))
			err = -errno;
		/* fd[s] is the destination of direction !s. */
		c->sm.dir[!s].base = acked + outq;
	}
	/* The counters first, held: until both sockets are in the map (the
	 * redirect targets), what one receives stays on it. */
	for (int s = 0; s < 2 && !err; s++) {
		struct faithd_sm_dir d = { .peer = c->sm.dir[!s].cookie };
		struct faithd_sm_ctl v = { .hold = 1 };

		if (bpf_map_update_elem(sm->dirs_fd, &c->sm.dir[s].cookie, &d, BPF_ANY) < 0 ||
		    bpf_map_update_elem(sm->ctl_fd, &c->sm.dir[s].cookie, &v, BPF_ANY) < 0)
			err = -errno;
	}
	c->sm.on = true;
	/* The client first: it is the one likely to have sent its FIN already
	 * (a request and a half-close while the upstream connect was under
	 * way), and then nothing is in the map yet. */
	for (int s = 0; s < 2 && !err; s++)
		err = map_add(sm->socks_fd, c->sm.dir[s].cookie, c->fd[s]);
	if (err == -EOPNOTSUPP)
		return not_established(w, c);
	for (int s = 0; s < 2 && !err; s++)
		err = publish(w, c, s, false);
	if (err) {
		char why[96];

		snprintf(why, sizeof(why), "adding the connection to the sockmap: %s",
			 strerror(-err));
		return conn_abort(w, c, why);
	}
	/* Bytes the client sent while the upstream connect was under way. */
	for (int s = 0; s < 2; s++)
		kick(c->fd[s]);
	c->sm.interval_ms = SM_FAST_MS;
	c->sm.changed_ms = now_ms();
	for (int s = 0; s < 2; s++)
		if (conn_watch(w, c, s, EPOLLRDHUP | EPOLLOUT | EPOLLET))
			return conn_abort(w, c, "epoll_ctl failed");
	check(w, c);
}

void sockmap_event(struct worker *w, struct conn *c)
{
	uint64_t now = now_ms();

	/* EPOLLOUT edges come often while a send queue drains: at most one
	 * sample a millisecond. */
	if (now - c->sm.sampled_ms >= 1)
		return check(w, c);
	if (!c->poll_ms || c->poll_ms > now + 1)
		poll_at(w, c, now + 1);
}

void sockmap_end(struct worker *w, struct conn *c)
{
	struct sample m;

	poll_unlink(w, c);
	for (int d = 0; d < 2; d++) {
		free(c->sm.dir[d].buf);
		c->sm.dir[d].buf = NULL;
	}
	if (!c->sm.on)
		return;
	sample(w, c, &m);
	account(c, &m);
	log_debug("fd %d: sockmap: redirected %llu + %llu bytes, moved by the worker "
		  "%llu + %llu (client to server + back)", c->fd[SIDE_CLIENT],
		  (unsigned long long)m.redirected[SIDE_CLIENT],
		  (unsigned long long)m.redirected[SIDE_SERVER],
		  (unsigned long long)c->sm.dir[SIDE_CLIENT].copied,
		  (unsigned long long)c->sm.dir[SIDE_SERVER].copied);
	/* Closing the sockets takes them out of socks. */
	for (int s = 0; s < 2; s++) {
		bpf_map_delete_elem(w->ctx->sockmap->dirs_fd, &c->sm.dir[s].cookie);
		bpf_map_delete_elem(w->ctx->sockmap->ctl_fd, &c->sm.dir[s].cookie);
	}
	c->sm.on = false;
}

/* Put c back in the active list in deadline order (from the tail: the
 * others are "now + the same constant", mostly earlier). */
static void requeue(struct worker *w, struct conn *c, uint64_t deadline)
{
	struct conn *after = w->active.tail;

	list_unlink(c);
	c->deadline_ms = deadline;
	while (after && after->deadline_ms > deadline)
		after = after->prev;
	c->list = &w->active;
	c->prev = after;
	c->next = after ? after->next : w->active.head;
	if (c->next)
		c->next->prev = c;
	else
		w->active.tail = c;
	if (after)
		after->next = c;
	else
		w->active.head = c;
}

bool sockmap_idle(struct worker *w, struct conn *c)
{
	uint64_t idle = w->ctx->opts->idle_timeout_s * 1000ull, now;

	if (!c->sm.on)
		return true;
	check(w, c);
	if (c->dead)
		return false;	/* ended on its own meanwhile */
	now = now_ms();
	if (c->sm.changed_ms + idle <= now)
		return true;
	requeue(w, c, c->sm.changed_ms + idle);
	return false;
}

uint64_t sockmap_timers(struct worker *w, uint64_t now)
{
	struct conn *c;

	while ((c = poll_due(w, now)))
		check(w, c);
	return poll_next_ms(w);
}

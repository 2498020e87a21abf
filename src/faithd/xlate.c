// SPDX-License-Identifier: BSD-2-Clause
/*
 * faithd --datapath translate: hand a busy connection to the kernel.
 *
 * A connection starts as a splice relay.  Once it has moved
 * --translate-after bytes, the worker hands it to the program of
 * bpf/faithd_xlate.bpf.c, which rewrites each segment of one peer into
 * the segment the relay would have sent the other (see there), so that
 * the bytes no longer cross the router's TCP stack twice.  The hand-off:
 *
 *   WATCH  both directions get an entry in `flows`; the program notes the
 *          last TSval of each peer while everything goes on as before.
 *   HOLD   the program drops the segments that carry data, FIN or SYN
 *          (their senders repeat them later), lets ACKs through, and the
 *          splice relay empties the sockets: nothing left to read, nothing
 *          unacknowledged to send.
 *   ON     both sockets frozen (TCP_REPAIR: they send nothing, and close
 *          without a FIN or reset), their sequence numbers and clocks read;
 *          the entries turn ACTIVE with the differences.  The sockets stay
 *          open, holding their ports, until the program has seen both FINs
 *          (and a second of quiet) or a reset, or the idle timeout.
 *
 * A connection that cannot be handed off (a FIN or error first, options
 * the two sides do not share, segments too large for the other side, no
 * quiet point within XL_HOLD_MS) stays a splice relay: XL_NEVER.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <bpf/bpf.h>

#include "faithd/log.h"
#include "faithd/worker.h"
#include "faithd/xlate.h"
#include "faithd/xlate_seq.h"

#define XL_WATCH_MS	1000	/* for a timestamp of each peer, at most */
#define XL_HOLD_MS	500	/* for the sockets to empty, at most */
#define XL_STEP_MS	1	/* between looks while watching or holding */
#define XL_ON_MS	500	/* between looks once handed off... */
#define XL_ON_BACKOFF	3	/* ...doubling up to XL_ON_MS << this */
#define XL_LINGER_MS	1000	/* quiet after both FINs before closing */
#define XL_TCP_ESTABLISHED	1	/* tcpi_state: include/net/tcp_states.h */

#ifndef TCP_REPAIR_OFF_NO_WP
#define TCP_REPAIR_OFF_NO_WP	-1
#endif

static int flows_fd(const struct worker *w)
{
	return w->ctx->xlate->flows_fd;
}

static void set_phase(struct conn *c, enum xl_phase phase)
{
	c->xl.phase = phase;
	c->xl.phase_ms = now_ms();
}

/* ---- addresses ----------------------------------------------------------- */

/* An address as the map holds it: IPv6, or IPv4-mapped. */
static void map_addr(const struct sockaddr_storage *ss, __u32 addr[4], __u16 *port)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		memcpy(addr, &s6->sin6_addr, 16);
		*port = s6->sin6_port;
		return;
	}
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

	addr[0] = addr[1] = 0;
	addr[2] = htonl(0xffff);
	addr[3] = s4->sin_addr.s_addr;
	*port = s4->sin_port;
}

/* The key of the segments fd's peer sends, and the addresses of the
 * segments fd sends (what a translated segment towards that peer carries). */
static int socket_addrs(int fd, struct faithd_xl_key *in, struct faithd_xl_flow *out_to_peer)
{
	struct sockaddr_storage local, peer;
	socklen_t llen = sizeof(local), plen = sizeof(peer);

	if (getsockname(fd, (struct sockaddr *)&local, &llen) < 0 ||
	    getpeername(fd, (struct sockaddr *)&peer, &plen) < 0)
		return -errno;
	memset(in, 0, sizeof(*in));
	map_addr(&peer, in->saddr, &in->sport);
	map_addr(&local, in->daddr, &in->dport);
	map_addr(&local, out_to_peer->saddr, &out_to_peer->sport);
	map_addr(&peer, out_to_peer->daddr, &out_to_peer->dport);
	out_to_peer->out_v4 = local.ss_family == AF_INET;
	return 0;
}

/* ---- socket state -------------------------------------------------------- */

static int tcp_info(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len) < 0 ? -errno : 0;
}

/* Nothing to read and nothing unacknowledged to send. */
static bool socket_quiet(int fd)
{
	int in = 0, out = 0;

	if (ioctl(fd, FIONREAD, &in) < 0 || ioctl(fd, SIOCOUTQ, &out) < 0)
		return false;
	return !in && !out;
}

static int repair(int fd, int mode)
{
	return setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &mode, sizeof(mode)) < 0 ? -errno : 0;
}

/* A frozen socket's next sequence number of queue q (TCP_RECV_QUEUE:
 * rcv_nxt, TCP_SEND_QUEUE: write_seq). */
static int queue_seq(int fd, int q, __u32 *seq)
{
	socklen_t len = sizeof(*seq);

	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) < 0 ||
	    getsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, seq, &len) < 0)
		return -errno;
	return 0;
}

/* Set a socket's (in repair, not yet connected) next sequence number of
 * queue q. */
static int set_queue_seq(int fd, int q, __u32 seq)
{
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &seq, sizeof(seq)) < 0)
		return -errno;
	return 0;
}

/* The TSval the socket would send now. */
static int socket_clock(int fd, __u32 *ts)
{
	socklen_t len = sizeof(*ts);

	return getsockopt(fd, IPPROTO_TCP, TCP_TIMESTAMP, ts, &len) < 0 ? -errno : 0;
}

/* ---- the hand-off -------------------------------------------------------- */

/* Once per connection whose entries xlate_maybe() added. */
static void forget_entries(struct worker *w, struct conn *c)
{
	for (int s = 0; s < 2; s++)
		bpf_map_delete_elem(flows_fd(w), &c->xl.key[s]);
	__atomic_fetch_sub(w->ctx->xlate->nconns, 1, __ATOMIC_RELAXED);
}

static void give_up(struct worker *w, struct conn *c, const char *why)
{
	log_debug("fd %d: not handed off: %s", c->fd[SIDE_CLIENT], why);
	if (c->xl.phase == XL_WATCH || c->xl.phase == XL_HOLD)
		forget_entries(w, c);
	poll_unlink(w, c);
	set_phase(c, XL_NEVER);
}

/*
 * Can segments go from one connection to the other as they are?  Both
 * use timestamps or neither (a peer that negotiated them may drop segments
 * without), and ECN or neither (else congestion marks would go unanswered).
 * The server's segments grow by 20 bytes (IPv6): they must fit what the
 * relay may send the client (its snd_mss; in payload bytes, as TCP_INFO's
 * MSS values are, the timestamp option left out), or the router would
 * drop them on the way out, where no ICMP error is made.  The server sends
 * at most what the relay announced it (advmss: the client's MSS, see
 * conn.c) and what its own path takes (about what it announced: snd_mss).
 * The client's segments shrink by 20 bytes: a smaller path on the server's
 * side says so with ICMP, which the program passes on to the client.
 */
static const char *compatible(const struct tcp_info *down, const struct tcp_info *up)
{
	unsigned server_max = up->tcpi_advmss < up->tcpi_snd_mss ?
			      up->tcpi_advmss : up->tcpi_snd_mss;

	if ((down->tcpi_options ^ up->tcpi_options) & TCPI_OPT_TIMESTAMPS)
		return "one side uses TCP timestamps, the other does not";
	if ((down->tcpi_options ^ up->tcpi_options) & TCPI_OPT_ECN)
		return "one side uses ECN, the other does not";
	if (server_max > down->tcpi_snd_mss)
		return "the server's segments are larger than the client takes";
	return NULL;
}

/* Start watching c, if it is due and can be handed off. */
void xlate_maybe(struct worker *w, struct conn *c)
{
	struct faithd_xl_flow v[2] = { { .state = 0 }, { .state = 0 } };
	struct tcp_info ti[2];
	const char *why;

	if (c->xl.phase != XL_OFF ||
	    c->dir[0].bytes + c->dir[1].bytes < w->ctx->opts->translate_after)
		return;
	if (w->npolls == w->polls_max)
		return give_up(w, c, "too many connections being looked at");
	if (c->dir[0].eof || c->dir[1].eof)
		return give_up(w, c, "half-closed");
	if (tcp_info(c->fd[SIDE_CLIENT], &ti[0]) || tcp_info(c->fd[SIDE_SERVER], &ti[1]))
		return give_up(w, c, "TCP_INFO failed");
	why = compatible(&ti[0], &ti[1]);
	if (why)
		return give_up(w, c, why);
	c->xl.ts = ti[0].tcpi_options & TCPI_OPT_TIMESTAMPS;
	/* v[s]: the entry for segments from side s, sent on to side !s. */
	for (int s = 0; s < 2; s++)
		if (socket_addrs(c->fd[s], &c->xl.key[s], &v[!s]))
			return give_up(w, c, "no socket address");
	for (int s = 0; s < 2; s++) {
		v[s].peer = c->xl.key[!s];
		v[s].owner = getpid();
		v[s].state = FAITHD_XL_WATCH;
	}
	/* Counted before the entries go in, uncounted after they are out: a
	 * worker that dies in between leaves the count high (the program
	 * only looks up more), never low (it would skip live connections). */
	__atomic_fetch_add(w->ctx->xlate->nconns, 1, __ATOMIC_RELAXED);
	for (int s = 0; s < 2; s++) {
		if (bpf_map_update_elem(flows_fd(w), &c->xl.key[s], &v[s], BPF_NOEXIST)) {
			int err = errno;

			if (s)
				bpf_map_delete_elem(flows_fd(w), &c->xl.key[0]);
			__atomic_fetch_sub(w->ctx->xlate->nconns, 1, __ATOMIC_RELAXED);
			return give_up(w, c, err == EEXIST ? "already in the flow map" :
				       "the flow map is full");
		}
	}
	set_phase(c, XL_WATCH);
	poll_at(w, c, now_ms() + XL_STEP_MS);
}

static int read_entry(struct worker *w, struct conn *c, int s, struct faithd_xl_flow *f)
{
	return bpf_map_lookup_elem(flows_fd(w), &c->xl.key[s], f) < 0 ? -errno : 0;
}

static int hold(struct worker *w, struct conn *c)
{
	for (int s = 0; s < 2; s++) {
		struct faithd_xl_flow f;

		if (read_entry(w, c, s, &f))
			return -errno;
		f.state = FAITHD_XL_HOLD;
		if (bpf_map_update_elem(flows_fd(w), &c->xl.key[s], &f, BPF_EXIST) < 0)
			return -errno;
	}
	return 0;
}

/* A frozen socket's windows (TCP_REPAIR_WINDOW). */
static int socket_window(int fd, struct tcp_repair_window *rw)
{
	socklen_t len = sizeof(*rw);

	return getsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, rw, &len) < 0 ? -errno : 0;
}

/* The entries' translation, from the two frozen sockets. */
static int translation(struct worker *w, struct conn *c, struct faithd_xl_flow f[2])
{
	__u32 rcv[2], snd[2], clock[2];
	struct tcp_repair_window rw[2];
	struct tcp_info ti[2];

	for (int s = 0; s < 2; s++) {
		if (queue_seq(c->fd[s], TCP_RECV_QUEUE, &rcv[s]) ||
		    queue_seq(c->fd[s], TCP_SEND_QUEUE, &snd[s]) ||
		    socket_window(c->fd[s], &rw[s]) ||
		    tcp_info(c->fd[s], &ti[s]) || read_entry(w, c, s, &f[s]))
			return -EIO;
		if (!f[s].ifindex ||
		    (c->xl.ts && (socket_clock(c->fd[s], &clock[s]) ||
				  !(f[s].flags & FAITHD_XL_SEEN_TS))))
			return -EAGAIN;
		if (c->xl.ts && !xl_ts_segment_fits(f[s].tsval_seq, f[s].tsval_ack, rcv[s],
						    snd[s], rw[s].rcv_wnd, rw[s].max_window))
			return -ESTALE;
		/* A FIN the relay has not read yet: FIONREAD leaves it out. */
		if (ti[s].tcpi_state != XL_TCP_ESTABLISHED)
			return -EBUSY;
	}
	for (int s = 0; s < 2; s++) {
		struct faithd_xl_flow *t = &f[s];	/* from side s to side o */
		int o = !s;

		/* Sequence numbers: s's next byte is the relay's next towards o. */
		t->seq_delta = snd[o] - rcv[s];
		t->ack_delta = rcv[o] - snd[s];
		t->win_in_shift = ti[s].tcpi_snd_wscale;
		t->win_out_shift = ti[o].tcpi_rcv_wscale;
		t->out_ifindex = f[o].ifindex;
		t->seq_end = t->nxt = rcv[s];
		t->bytes = 0;
		/* s has acknowledged all the relay sent it: o's every byte. */
		t->ack_last = rcv[o];
		/* The window o was last told: where o's data ends at most. */
		t->wnd_end = rw[o].rcv_wup + rw[o].rcv_wnd;
		t->fin_end = 0;
		t->flags = 0;
		/* Clocks: s's next TSval, shifted, is past the last the relay's
		 * socket sent o (PAWS); TSecr back into o's own clock. */
		if (c->xl.ts) {
			t->tsval_delta = clock[o] - f[s].tsval + 1;
			t->tsecr_delta = -(clock[s] - f[o].tsval + 1);
		}
		t->state = FAITHD_XL_ACTIVE;
	}
	return 0;
}

static void unfreeze(struct conn *c)
{
	for (int s = 0; s < 2; s++)
		repair(c->fd[s], TCP_REPAIR_OFF_NO_WP);
}

/* Both sockets quiet: freeze them and turn the entries on. */
static void hand_off(struct worker *w, struct conn *c)
{
	struct faithd_xl_flow f[2];
	int err;

	for (int s = 0; s < 2; s++) {
		if (repair(c->fd[s], 1)) {
			unfreeze(c);
			return give_up(w, c, "TCP_REPAIR failed");
		}
	}
	err = translation(w, c, f);
	if (!err && !(socket_quiet(c->fd[0]) && socket_quiet(c->fd[1])))
		err = -EBUSY;
	if (err) {
		unfreeze(c);
		return give_up(w, c, err == -EAGAIN ? "a peer sent nothing while watched" :
			       err == -EBUSY ? "bytes came in while freezing" :
			       err == -ESTALE ? "a timestamp's segment does not fit the "
						"connection (forged?)" :
			       "reading the sockets' state failed");
	}
	for (int s = 0; s < 2; s++) {
		if (bpf_map_update_elem(flows_fd(w), &c->xl.key[s], &f[s], BPF_EXIST) < 0) {
			/* One direction may run translated already: too late to
			 * go back to splice; end the connection. */
			poll_unlink(w, c);
			set_phase(c, XL_NEVER);
			forget_entries(w, c);
			return conn_abort(w, c, "the flow map failed during hand-off");
		}
	}
	/* The sockets get nothing any more: out of the epoll set (an empty
	 * interest set would still report errors and hang-ups). */
	for (int s = 0; s < 2; s++) {
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd[s], NULL);
		c->events[s] = UINT32_MAX;
	}
	set_phase(c, XL_ON);
	c->xl.quiet_polls = 0;
	poll_at(w, c, now_ms() + XL_ON_MS);
	log_debug("fd %d: handed off after %llu + %llu bytes", c->fd[SIDE_CLIENT],
		  (unsigned long long)c->dir[SIDE_CLIENT].bytes,
		  (unsigned long long)c->dir[SIDE_SERVER].bytes);
}

static void step_watch(struct worker *w, struct conn *c, uint64_t now)
{
	struct faithd_xl_flow f[2];

	if (read_entry(w, c, 0, &f[0]) || read_entry(w, c, 1, &f[1]))
		return give_up(w, c, "the flow map failed");
	if (!(f[0].flags & f[1].flags & FAITHD_XL_SEEN) ||
	    (c->xl.ts && !(f[0].flags & f[1].flags & FAITHD_XL_SEEN_TS))) {
		if (now - c->xl.phase_ms > XL_WATCH_MS)
			return give_up(w, c, "a peer sent nothing while watched");
		return poll_at(w, c, now + XL_STEP_MS);
	}
	if (hold(w, c))
		return give_up(w, c, "the flow map failed");
	set_phase(c, XL_HOLD);
	poll_at(w, c, now + XL_STEP_MS);
}

static void step_hold(struct worker *w, struct conn *c, uint64_t now)
{
	if (c->dir[0].eof || c->dir[1].eof)
		return give_up(w, c, "half-closed while holding");
	if (c->dir[0].pending || c->dir[1].pending ||
	    !socket_quiet(c->fd[0]) || !socket_quiet(c->fd[1])) {
		if (now - c->xl.phase_ms > XL_HOLD_MS) {
			give_up(w, c, "the sockets did not empty in time");
			return conn_splice(w, c);	/* the held segments come again */
		}
		return poll_at(w, c, now + XL_STEP_MS);
	}
	hand_off(w, c);
}

/* s's FIN, acknowledged by the other peer (exactly: a blind FIN and ACK
 * would have to guess the sequence numbers). */
static bool fin_acked(const struct faithd_xl_flow f[2], int s)
{
	return (f[s].flags & FAITHD_XL_SEEN_FIN) && f[!s].ack_last == f[s].fin_end;
}

/* The last segment either way (bpf_ktime_get_ns(): CLOCK_MONOTONIC, as
 * now_ms()), in ms; 0: none. */
static uint64_t last_ms(const struct faithd_xl_flow f[2])
{
	return (f[0].last_ns > f[1].last_ns ? f[0].last_ns : f[1].last_ns) / 1000000;
}

/*
 * Segments of the connection the program could not translate (IP options,
 * fragments, IPv6 extension headers), inside the receiver's window: it
 * dropped and flagged them, and their sender would repeat them in vain.
 * (Segments that reach the frozen sockets another way, an interface
 * without the program, are not counted: the sockets' counts grow as much
 * for one blind forged segment; see BUGS in faithd(8).)
 */
static bool strays(const struct faithd_xl_flow f[2])
{
	return (f[0].flags | f[1].flags) & FAITHD_XL_STRAY;
}

/*
 * Handed off: over once both FINs were acknowledged and it went quiet, or
 * at a reset; aborted if segments go astray.  Looks back off from XL_ON_MS
 * to XL_ON_MS << XL_ON_BACKOFF (4 s) while no FIN was seen: with many
 * connections handed off, they cost two map lookups each per 4 s.
 */
static void step_on(struct worker *w, struct conn *c, uint64_t now)
{
	struct faithd_xl_flow f[2];
	uint64_t next;

	if (read_entry(w, c, 0, &f[0]) || read_entry(w, c, 1, &f[1]))
		return conn_abort(w, c, "the flow map failed");
	if ((f[0].flags | f[1].flags) & FAITHD_XL_SEEN_RST)
		return conn_finish(w, c, f[SIDE_CLIENT].flags & FAITHD_XL_SEEN_RST ?
				   "reset by client" : "reset by server", false, false);
	if (fin_acked(f, 0) && fin_acked(f, 1) && last_ms(f) + XL_LINGER_MS <= now)
		return conn_finish(w, c, "closed", false, false);
	if (strays(f))
		return conn_abort(w, c, "segments the translation cannot carry (IP options, "
				  "fragments, IPv6 extension headers)");
	next = XL_ON_MS << (c->xl.quiet_polls < XL_ON_BACKOFF ? c->xl.quiet_polls :
							       XL_ON_BACKOFF);
	if ((f[0].flags | f[1].flags) & FAITHD_XL_SEEN_FIN)
		next = XL_ON_MS;	/* closing: linger XL_LINGER_MS, no more */
	c->xl.quiet_polls++;
	poll_at(w, c, now + next);
}

uint64_t xlate_timers(struct worker *w, uint64_t now)
{
	struct conn *c;

	/* Each step looks again later (> now), or ends c. */
	while ((c = poll_due(w, now))) {
		switch (c->xl.phase) {
		case XL_WATCH:
			step_watch(w, c, now);
			break;
		case XL_HOLD:
			step_hold(w, c, now);
			break;
		case XL_ON:
			step_on(w, c, now);
			break;
		default:
			break;
		}
	}
	return poll_next_ms(w);
}

/*
 * Reset side s's peer of a handed-off connection, now.  The frozen socket's
 * sequence numbers are those of the hand-off, far behind: a reset from it
 * would be outside the peer's window, ignored.  So it is closed (frozen:
 * silently), and a socket made in its place without a handshake
 * (TCP_REPAIR, as checkpoint/restore tools do) at the numbers the peer
 * expects now (from the entries: the other side's end of data in order,
 * shifted, and this side's) sends the reset.  Were they off, the peer's
 * challenge ACK (RFC 5961) would find no socket, and the stack's reset to
 * it is exact.
 */
static void reset_peer(struct conn *c, int s, const struct faithd_xl_flow f[2])
{
	const struct faithd_xl_flow *in = &f[s], *out = &f[!s];
	__u32 snd = (out->flags & FAITHD_XL_SEEN_FIN ? out->fin_end : out->nxt) +
		    out->seq_delta;
	__u32 rcv = in->flags & FAITHD_XL_SEEN_FIN ? in->fin_end : in->nxt;
	struct sockaddr_storage local, peer;
	socklen_t llen = sizeof(local), plen = sizeof(peer);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int one = 1, fd;

	if (getsockname(c->fd[s], (struct sockaddr *)&local, &llen) < 0 ||
	    getpeername(c->fd[s], (struct sockaddr *)&peer, &plen) < 0)
		return;
	close(c->fd[s]);
	c->fd[s] = -1;
	fd = socket(local.ss_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return;
	/* SO_REUSEADDR first: it would undo TCP_REPAIR's forced reuse of a
	 * port that another upstream connection shares.  FREEBIND: the client
	 * side's address is the faith address, not a local one. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    repair(fd, 1) ||
	    (local.ss_family == AF_INET6 ?
	     setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one)) :
	     setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one))) < 0 ||
	    bind(fd, (struct sockaddr *)&local, llen) < 0 ||
	    set_queue_seq(fd, TCP_SEND_QUEUE, snd) || set_queue_seq(fd, TCP_RECV_QUEUE, rcv) ||
	    connect(fd, (struct sockaddr *)&peer, plen) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0 ||
	    repair(fd, TCP_REPAIR_OFF_NO_WP))
		log_debug("fd %d: no reset to the %s: %s", c->fd[!s] >= 0 ? c->fd[!s] : fd,
			  s == SIDE_CLIENT ? "client" : "server", strerror(errno));
	close(fd);	/* SO_LINGER 0: the reset */
}

void xlate_end(struct worker *w, struct conn *c, bool reset_client, bool reset_server)
{
	const bool reset[2] = { [SIDE_CLIENT] = reset_client, [SIDE_SERVER] = reset_server };
	struct faithd_xl_flow f[2] = { { .state = 0 }, { .state = 0 } };

	poll_unlink(w, c);
	if (c->xl.phase != XL_ON)
		return;
	for (int s = 0; s < 2; s++)
		if (!read_entry(w, c, s, &f[s]))
			c->dir[s].bytes += f[s].bytes;
	if (!reset_client && !reset_server)
		return;
	/* Out of the map first: the peers' segments now find no socket
	 * (the stack resets them) or the frozen one, which takes them. */
	forget_entries(w, c);
	c->xl.phase = XL_NEVER;
	for (int s = 0; s < 2; s++)
		if (reset[s])
			reset_peer(c, s, f);
}

void xlate_forget(struct worker *w, struct conn *c)
{
	if (c->xl.phase == XL_WATCH || c->xl.phase == XL_HOLD || c->xl.phase == XL_ON)
		forget_entries(w, c);
	c->xl.phase = XL_NEVER;
}

bool xlate_idle(struct worker *w, struct conn *c)
{
	uint64_t idle_ms = w->ctx->opts->idle_timeout_s * 1000ull, last;
	struct faithd_xl_flow f[2] = { { .last_ns = 0 }, { .last_ns = 0 } };

	for (int s = 0; s < 2; s++)
		read_entry(w, c, s, &f[s]);
	last = last_ms(f);
	if (!last || last + idle_ms <= now_ms())
		return true;
	list_unlink(c);
	c->deadline_ms = last + idle_ms;
	list_append(&w->active, c);
	return false;
}

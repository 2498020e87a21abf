// SPDX-License-Identifier: BSD-2-Clause
/*
 * A worker: one epoll loop over its listening sockets (its member of each
 * service's SO_REUSEPORT group), its connections and a signalfd.
 *   SIGTERM/SIGINT: stop accepting (close the listeners: new connections to
 *     faith addresses then get a reset from the datapath), let open
 *     connections finish for the grace period, reset what is left, exit.
 *   SIGHUP: reload faithd.conf; a bad file keeps the rules in force.
 * Timeouts: two lists in deadline order (every deadline of a list is
 * "now + the same constant"), so the head is always the next to expire.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "faithd/conf.h"
#include "faithd/connlimits.h"
#include "faithd/log.h"
#include "faithd/worker.h"

#define ACCEPT_BURST	64
#define EMFILE_BACKOFF_MS 100
#define MAX_EVENTS	256

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

void list_append(struct conn_list *l, struct conn *c)
{
	c->list = l;
	c->next = NULL;
	c->prev = l->tail;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
}

void list_unlink(struct conn *c)
{
	struct conn_list *l = c->list;

	if (!l)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->list = NULL;
	c->prev = c->next = NULL;
}

static int listeners_watch(struct worker *w, bool on)
{
	struct faithd_opts *o = w->ctx->opts;

	for (unsigned i = 0; i < o->nservices; i++) {
		struct epoll_event e = { .events = on ? EPOLLIN : 0,
					 .data.ptr = &w->lref[i] };
		int fd = o->services[i].fd[w->ctx->worker];

		if (fd >= 0 && epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &e) < 0)
			return -errno;
	}
	w->accepting = on;
	return 0;
}

/* Out of descriptors or memory: leave the backlog waiting a while;
 * connections that end meanwhile free some. */
static void accept_pause(struct worker *w, const char *what, int err)
{
	log_warn("%s: %s: pausing accept for %d ms, with %u connections open",
		 what, strerror(err), EMFILE_BACKOFF_MS, w->nconns);
	listeners_watch(w, false);
	w->accept_resume_ms = now_ms() + EMFILE_BACKOFF_MS;
}

static void accept_some(struct worker *w, unsigned service)
{
	int lfd = w->ctx->opts->services[service].fd[w->ctx->worker];

	for (int i = 0; i < ACCEPT_BURST; i++) {
		struct sockaddr_in6 peer;
		socklen_t len = sizeof(peer);
		int fd, err;

		fd = accept4(lfd, (struct sockaddr *)&peer, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			err = conn_start(w, fd, &peer);
			if (err)
				return accept_pause(w, "relaying", -err);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM)
			return accept_pause(w, "accept", errno);
		if (errno != ECONNABORTED && errno != EINTR)
			return;	/* EAGAIN: drained */
	}
}

static void close_listeners(struct worker *w)
{
	struct faithd_opts *o = w->ctx->opts;

	for (unsigned i = 0; i < o->nservices; i++) {
		int *fd = &o->services[i].fd[w->ctx->worker];

		if (*fd >= 0) {
			close(*fd);
			*fd = -1;
		}
	}
	w->accepting = false;
}

static void reload(struct worker *w)
{
	struct faithd_conf *conf;

	if (faithd_load_conf(w->ctx->opts, &conf))
		return;	/* the error is logged; the old rules stay */
	faithd_conf_free(w->ctx->conf);
	w->ctx->conf = conf;
	log_info("configuration reloaded");
}

static void on_signal(struct worker *w)
{
	struct signalfd_siginfo si;

	while (read(w->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(w);
			continue;
		}
		if (w->stopping)
			continue;
		w->stopping = true;
		w->stop_deadline_ms = now_ms() + w->ctx->opts->grace_s * 1000ull;
		close_listeners(w);
		log_debug("stopping: %u connections to finish", w->nconns);
	}
}

/* Expire what is due; return the epoll_wait timeout until the next. */
static int timers(struct worker *w)
{
	uint64_t now = now_ms(), next = UINT64_MAX;
	struct conn_list *lists[2] = { &w->connecting, &w->active };

	for (int i = 0; i < 2; i++) {
		struct conn_list *l = lists[i];

		if (l == &w->active && !w->ctx->opts->idle_timeout_s)
			continue;
		while (l->head && l->head->deadline_ms <= now)
			conn_expire(w, l->head);
		if (l->head && l->head->deadline_ms < next)
			next = l->head->deadline_ms;
	}
	if (w->ctx->sockmap || w->ctx->xlate) {
		uint64_t t = w->ctx->sockmap ? sockmap_timers(w, now) : xlate_timers(w, now);

		now = now_ms();
		if (t < next)
			next = t;
	}
	if (!w->accepting && !w->stopping) {
		if (w->accept_resume_ms <= now)
			listeners_watch(w, true);
		else if (w->accept_resume_ms < next)
			next = w->accept_resume_ms;
	}
	if (w->stopping && w->stop_deadline_ms <= now) {
		while (w->active.head)
			conn_abort(w, w->active.head, "shutting down");
		while (w->connecting.head)
			conn_abort(w, w->connecting.head, "shutting down");
		return 0;	/* nothing left: back to the loop's test */
	} else if (w->stopping && w->stop_deadline_ms < next) {
		next = w->stop_deadline_ms;
	}
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : next - now > INT_MAX ? INT_MAX : (int)(next - now);
}

static void dispatch(struct worker *w, struct epoll_event *e)
{
	struct evref *r = e->data.ptr;

	switch (r->kind) {
	case EV_LISTENER:
		if (w->accepting)
			accept_some(w, r->index);
		break;
	case EV_SIGNAL:
		on_signal(w);
		break;
	case EV_CLIENT:
		conn_event(w, r->conn, SIDE_CLIENT, e->events);
		break;
	case EV_SERVER:
		conn_event(w, r->conn, SIDE_SERVER, e->events);
		break;
	}
}

static void bury(struct worker *w)
{
	while (w->graveyard) {
		struct conn *c = w->graveyard;

		w->graveyard = c->next;
		free(c);
	}
}

/*
 * --cpu-affinity auto: run on one CPU, the worker-th (modulo) of those
 * faithd may use, and ask the kernel (SO_INCOMING_CPU, which reuseport
 * selection honours since Linux 6.1) for the connections whose packets
 * that CPU handles: a connection's softirq work, its accept and its relay
 * then share a cache.  Failing that is no error: the worker runs unpinned.
 */
static void pin_to_cpu(struct worker *w)
{
	const struct faithd_opts *o = w->ctx->opts;
	unsigned nth, seen = 0;
	cpu_set_t allowed, one;
	int cpu;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) || !CPU_COUNT(&allowed))
		return;
	nth = w->ctx->worker % (unsigned)CPU_COUNT(&allowed);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &allowed) && seen++ == nth)
			break;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one)) {
		log_err("worker %u: pinning to CPU %d: %s", w->ctx->worker, cpu,
			strerror(errno));
		return;
	}
	for (unsigned i = 0; i < o->nservices; i++)
		if (setsockopt(o->services[i].fd[w->ctx->worker], SOL_SOCKET,
			       SO_INCOMING_CPU, &cpu, sizeof(cpu)))
			log_debug("worker %u: SO_INCOMING_CPU %d: %s",
				  w->ctx->worker, cpu, strerror(errno));
	log_debug("worker %u: on CPU %d", w->ctx->worker, cpu);
}

static int worker_setup(struct worker *w)
{
	struct faithd_opts *o = w->ctx->opts;
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = &w->sigref };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (w->epfd < 0 || w->sigfd < 0)
		return -errno;
	if ((w->ctx->sockmap || w->ctx->xlate) && polls_init(w))
		return -ENOMEM;
	w->sigref.kind = EV_SIGNAL;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->sigfd, &e) < 0)
		return -errno;
	for (unsigned i = 0; i < o->nservices; i++) {
		w->lref[i].kind = EV_LISTENER;
		w->lref[i].index = i;
		e.data.ptr = &w->lref[i];
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, o->services[i].fd[w->ctx->worker],
			      &e) < 0)
			return -errno;
	}
	if (o->cpu_affinity)
		pin_to_cpu(w);
	w->accepting = true;
	return 0;
}

static void worker_cleanup(struct worker *w)
{
	while (w->active.head)
		conn_abort(w, w->active.head, "shutting down");
	while (w->connecting.head)
		conn_abort(w, w->connecting.head, "shutting down");
	bury(w);
	close_listeners(w);
	pipes_drain(w);
	if (w->sigfd >= 0)
		close(w->sigfd);
	if (w->epfd >= 0)
		close(w->epfd);
	polls_free(w);
	limits_leave();
}

int faithd_worker(struct faithd_ctx *ctx)
{
	struct worker w = { .ctx = ctx, .epfd = -1, .sigfd = -1 };
	struct epoll_event ev[MAX_EVENTS];
	int err;

	log_batch(true);
	limits_join(ctx->limits, ctx->worker);
	err = worker_setup(&w);
	if (err) {
		log_err("worker %u: setting up its event loop: %s", ctx->worker,
			strerror(-err));
		worker_cleanup(&w);
		log_batch(false);
		return 1;
	}
	while (!w.stopping || w.nconns) {
		int timeout = timers(&w), n;

		/* Lines of this turn out before waiting. */
		log_flush();
		n = epoll_wait(w.epfd, ev, MAX_EVENTS, timeout);
		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++)
			dispatch(&w, &ev[i]);
		bury(&w);
	}
	worker_cleanup(&w);
	log_batch(false);
	return 0;
}

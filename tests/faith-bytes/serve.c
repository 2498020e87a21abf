// SPDX-License-Identifier: BSD-2-Clause
/*
 * faith-bytes serve: listeners on each port, SIGTERM/SIGINT through a
 * signalfd, one epoll loop over them and the connections (serve_conn.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve.h"

int ep_add(int ep, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(ep, EPOLL_CTL_ADD, w->fd, &ev);
}

static int listen_on(struct server *s, const char *addr, const char *port_arg)
{
	struct watch *l = &s->listeners[s->nlisteners];
	struct target t;
	uint16_t port;
	int one = 1;

	if (!parse_port(port_arg, &port) || !parse_addr(addr, port, &t)) {
		fprintf(stderr, "faith-bytes: bad address or port %s %s\n", addr, port_arg);
		return EX_USAGE;
	}
	l->kind = W_LISTEN;
	l->fd = socket(t.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0 ||
	    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l->fd, (struct sockaddr *)&t.sa, t.len) || listen(l->fd, 4096) ||
	    ep_add(s->ep, l, EPOLLIN)) {
		fprintf(stderr, "faith-bytes: listen on %s port %u: %s\n", addr, port,
			strerror(errno));
		if (l->fd >= 0)
			close(l->fd);
		return EX_ERR;
	}
	s->nlisteners++;
	return EX_OK;
}

/*
 * Out of descriptors, a level-triggered listener would spin: give the spare
 * one up to accept and drop the connection, then take it back.
 */
static bool accept_one(struct server *s, struct watch *l)
{
	int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd >= 0) {
		conn_new(s, fd);
		return true;
	}
	if ((errno == EMFILE || errno == ENFILE) && s->spare >= 0) {
		if (!s->st.dropped++)
			fprintf(stderr, "faith-bytes: accept: %s: dropping connections\n",
				strerror(errno));
		close(s->spare);
		fd = accept(l->fd, NULL, NULL);
		if (fd >= 0)
			close(fd);
		s->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	return false;
}

static void server_event(struct server *s, struct epoll_event *ev)
{
	struct watch *w = ev->data.ptr;
	struct signalfd_siginfo si;
	int i;

	switch (w->kind) {
	case W_LISTEN:
		for (i = 0; i < 64 && accept_one(s, w); i++)
			;
		break;
	case W_SIGNAL:
		if (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			s->stop = true;
		break;
	case W_CONN:
		conn_event(s, (struct conn *)((char *)w - offsetof(struct conn, w)));
		break;
	}
}

static int server_setup(struct server *s, const char *addr, int nports, char **ports)
{
	sigset_t set;
	int i, rc;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return EX_ERR;
	s->sig.kind = W_SIGNAL;
	s->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	s->listeners = calloc((size_t)nports, sizeof(*s->listeners));
	if (s->sig.fd < 0 || s->ep < 0 || !s->listeners || ep_add(s->ep, &s->sig, EPOLLIN)) {
		perror("faith-bytes: setup");
		return EX_ERR;
	}
	for (i = 0; i < nports; i++) {
		rc = listen_on(s, addr, ports[i]);
		if (rc)
			return rc;
	}
	return EX_OK;
}

static void server_teardown(struct server *s)
{
	int i;

	while (s->conns)
		conn_close(s, s->conns);
	for (i = 0; i < s->nlisteners; i++)
		close(s->listeners[i].fd);
	free(s->listeners);
	if (s->sig.fd >= 0)
		close(s->sig.fd);
	if (s->ep >= 0)
		close(s->ep);
	if (s->spare >= 0)
		close(s->spare);
}

static int server_run(struct server *s)
{
	struct epoll_event ev[64];
	int n, i;

	while (!s->stop) {
		n = epoll_wait(s->ep, ev, 64, -1);
		if (n < 0 && errno != EINTR) {
			perror("faith-bytes: epoll_wait");
			return EX_ERR;
		}
		for (i = 0; i < n; i++)
			server_event(s, &ev[i]);
	}
	return EX_OK;
}

int cmd_serve(int argc, char **argv)
{
	struct server *s;
	struct opts o = { 0 };
	int rc;

	if (!parse_opts(argc, argv, 0, &o) || o.npos < 2)
		return usage();
	s = calloc(1, sizeof(*s));
	if (!s)
		return EX_ERR;
	rc = server_setup(s, o.pos[0], o.npos - 1, o.pos + 1);
	if (!rc) {
		puts("ready");
		fflush(stdout);
		rc = server_run(s);
		fprintf(stderr, "faith-bytes: %llu connections: %llu ok, %llu bad, "
			"%llu held, %llu aborted, %llu dropped\n",
			(unsigned long long)s->st.accepted, (unsigned long long)s->st.ok,
			(unsigned long long)s->st.bad, (unsigned long long)s->st.held,
			(unsigned long long)s->st.aborted, (unsigned long long)s->st.dropped);
	}
	server_teardown(s);
	free(s);
	return rc;
}

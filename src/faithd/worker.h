/* SPDX-License-Identifier: BSD-2-Clause */
/* A worker's event loop state, shared by worker.c and conn.c. */
#ifndef FAITHD_WORKER_H
#define FAITHD_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "faithd/faithd.h"
#include "faithd/policy.h"
#include "faithd/xlate_maps.h"

/* What an epoll event points at. */
enum ev_kind { EV_LISTENER, EV_SIGNAL, EV_CLIENT, EV_SERVER };

struct evref {
	enum ev_kind kind;
	unsigned index;		/* EV_LISTENER: the service */
	struct conn *conn;	/* EV_CLIENT, EV_SERVER */
};

/* A doubly linked list of connections in deadline order. */
struct conn_list {
	struct conn *head, *tail;
};

/* Empty pipes kept for reuse: a splice relay needs one per busy direction. */
#define PIPE_POOL_MAX	256

struct worker {
	struct faithd_ctx *ctx;
	int epfd;
	int sigfd;
	struct evref sigref;
	struct evref lref[FAITHD_MAX_SERVICES];
	bool accepting;
	uint64_t accept_resume_ms;	/* after EMFILE: when to accept again */
	struct conn_list connecting;	/* by connect deadline */
	struct conn_list active;	/* by idle deadline */
	unsigned nconns;
	struct conn *graveyard;		/* ended in this batch of events */
	bool stopping;
	uint64_t stop_deadline_ms;
	int npipes;
	int pipes[PIPE_POOL_MAX][2];
	/* Connections the sockmap or translate data path looks at on a
	 * timer (a worker runs one data path): a min-heap by poll_ms, see
	 * polls.c. */
	struct conn **polls;
	size_t npolls, polls_max;
};

/* One direction of a relayed connection: bytes from fd[d] to fd[!d]. */
struct half {
	int pipe[2];		/* -1 when none is held */
	size_t pending;		/* bytes in the pipe, not yet written */
	uint64_t bytes;		/* delivered to the other side */
	bool eof;		/* the source sent FIN */
	bool shut;		/* FIN passed on: shutdown(SHUT_WR) done */
};

enum conn_side { SIDE_CLIENT = 0, SIDE_SERVER = 1 };

/* --datapath sockmap: direction d, bytes from fd[d] to fd[!d]. */
struct sm_dir {
	uint64_t cookie;	/* of fd[d]: its key in the maps */
	uint64_t base;		/* fd[!d]'s bytes acked + queued when relaying began */
	uint64_t copied;	/* bytes the worker wrote to fd[!d] itself */
	uint64_t consumed;	/* of the passed bytes, read and all written */
	uint64_t published;	/* consumed as `ctl` holds it */
	char *buf;		/* passed bytes read, not all written yet */
	size_t buf_len, buf_off;
	bool hold;		/* `ctl` says hold: fd[d]'s bytes are passed */
	bool moving;		/* passed bytes not all moved yet */
	bool shut;		/* its FIN passed on */
};

struct sm_conn {
	uint64_t sampled_ms;		/* last sample */
	uint64_t total;			/* bytes received both ways, last seen */
	uint64_t changed_ms;		/* when total last changed */
	uint32_t interval_ms;		/* between samples while quiet */
	bool on;			/* in the maps */
	struct sm_dir dir[2];
};

/* --datapath translate: where the hand-off of a connection stands. */
enum xl_phase {
	XL_OFF,		/* relayed by splice; may be handed off later */
	XL_WATCH,	/* entries in `flows`: the program notes timestamps */
	XL_HOLD,	/* data segments dropped: draining the sockets */
	XL_ON,		/* translated by the program; sockets frozen */
	XL_NEVER,	/* relayed by splice to the end */
};

struct xl_conn {
	uint64_t phase_ms;		/* when the phase began */
	enum xl_phase phase;
	bool ts;			/* both connections use timestamps */
	uint32_t quiet_polls;		/* ON: looks since the hand-off (back-off) */
	struct faithd_xl_key key[2];	/* segments from side s */
};

struct conn {
	struct conn *prev, *next;	/* in connecting or active */
	struct conn_list *list;
	uint64_t deadline_ms;
	uint64_t start_ms;
	int fd[2];			/* SIDE_CLIENT, SIDE_SERVER */
	uint32_t events[2];		/* the epoll interest set now */
	struct evref ref[2];
	struct half dir[2];		/* dir[SIDE_CLIENT]: client to server */
	/* A worker runs one data path: test it (w->ctx->sockmap, ->xlate)
	 * before reading either. */
	union {
		struct sm_conn sm;	/* --datapath sockmap only */
		struct xl_conn xl;	/* --datapath translate only */
	};
	uint32_t poll_slot;		/* 1 + its place in the worker's heap; 0: none */
	uint32_t limit_ticket;		/* its entry in the worker's ledger */
	uint64_t poll_ms;		/* next look; 0: not in the heap */
	bool connected;
	bool dead;			/* ended; freed after the batch */
	struct faithd_target t;
};

uint64_t now_ms(void);

/* conn.c */
/* 0, or -errno when out of descriptors or memory: pause accepting. */
int conn_start(struct worker *w, int fd, const struct sockaddr_in6 *peer);
void conn_event(struct worker *w, struct conn *c, enum conn_side side, uint32_t events);
void conn_expire(struct worker *w, struct conn *c);
void conn_abort(struct worker *w, struct conn *c, const char *why);
void conn_finish(struct worker *w, struct conn *c, const char *how,
		 bool reset_client, bool reset_server);
int conn_watch(struct worker *w, struct conn *c, enum conn_side s, uint32_t ev);
/* Relay c with splice() (connected; not, or no longer, in the sockmap). */
void conn_splice(struct worker *w, struct conn *c);
/* Close the pooled pipes. */
void pipes_drain(struct worker *w);

/* worker.c */
void list_append(struct conn_list *l, struct conn *c);
void list_unlink(struct conn *c);

/* polls.c: connections looked at on a timer. */
int polls_init(struct worker *w);
void polls_free(struct worker *w);
/* Look at c at when (ms), earlier or later than set before; until
 * poll_unlink() or poll_due(). */
void poll_at(struct worker *w, struct conn *c, uint64_t when);
void poll_unlink(struct worker *w, struct conn *c);
/* The first connection due at now, out of the heap (poll_ms 0); NULL if
 * none is. */
struct conn *poll_due(struct worker *w, uint64_t now);
/* When the next one is due; UINT64_MAX if none. */
uint64_t poll_next_ms(const struct worker *w);

/* sockmap.c: the in-kernel relay, once the upstream connection is up. */
void sockmap_relay(struct worker *w, struct conn *c);
void sockmap_event(struct worker *w, struct conn *c);
/* Before c is closed: its byte counts; out of the maps and the poll list. */
void sockmap_end(struct worker *w, struct conn *c);
/* At c's idle deadline: true if it was idle; else it is re-queued. */
bool sockmap_idle(struct worker *w, struct conn *c);
/* Sample what is due; the next sample's time, or UINT64_MAX. */
uint64_t sockmap_timers(struct worker *w, uint64_t now);

/* xlate.c: the hand-off to the translating program. */
/* After bytes moved: start a hand-off when it is due. */
void xlate_maybe(struct worker *w, struct conn *c);
/* Before c is logged and closed: its byte counts, out of the poll list;
 * where a side is to be reset, a handed-off connection's entries go now,
 * and its frozen socket is replaced by one that resets the peer (see
 * there). */
void xlate_end(struct worker *w, struct conn *c, bool reset_client, bool reset_server);
/* After its sockets are closed: its entries out of `flows`. */
void xlate_forget(struct worker *w, struct conn *c);
/* At c's idle deadline: true if it was idle; else it is re-queued. */
bool xlate_idle(struct worker *w, struct conn *c);
/* Look at what is due; the next look's time, or UINT64_MAX. */
uint64_t xlate_timers(struct worker *w, uint64_t now);

#endif /* FAITHD_WORKER_H */

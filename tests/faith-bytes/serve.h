/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What serve.c (listeners, signals, the loop) and serve_conn.c (one
 * connection's state machine) share.
 */
#ifndef FAITH_BYTES_SERVE_H
#define FAITH_BYTES_SERVE_H

#include <stdbool.h>
#include <stdint.h>

#include "faith-bytes.h"

enum watch_kind { W_LISTEN, W_SIGNAL, W_CONN };

/* What an epoll event points at: listeners, the signalfd, connections. */
struct watch {
	int fd;
	enum watch_kind kind;
};

enum conn_state {
	CS_HEADER,	/* reading the 24-byte header */
	CS_UPLOAD,	/* reading and verifying the upload */
	CS_EOF,		/* half-close: waiting for the client's FIN */
	CS_SEND,	/* sending status and download */
	CS_DRAIN,	/* done sending; reading until the client closes */
};

struct conn {
	struct watch w;
	struct conn *prev, *next;
	enum conn_state state;
	uint32_t armed;			/* epoll events registered */
	unsigned char hdr[FB_HDR_LEN];
	unsigned int hdr_len;
	struct header h;
	struct stream up, down;
	uint64_t in;			/* upload bytes verified */
	uint64_t out;			/* status and download bytes sent */
	bool bad;			/* status will be 'X' */
	bool eof;			/* client's FIN seen */
};

struct serve_stats {
	uint64_t accepted, ok, bad, held, aborted, dropped;
};

struct server {
	int ep;
	int spare;			/* kept free for EMFILE, see accept_one() */
	struct watch sig;
	struct watch *listeners;
	int nlisteners;
	struct conn *conns;
	struct serve_stats st;
	bool stop;
	unsigned char buf[CHUNK];
};

/* serve.c */
int ep_add(int ep, struct watch *w, uint32_t events);

/* serve_conn.c */
void conn_close(struct server *s, struct conn *c);
void conn_event(struct server *s, struct conn *c);
void conn_new(struct server *s, int fd);

#endif

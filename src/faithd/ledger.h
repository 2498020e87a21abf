/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Each worker's ledger of the connections it counted under -m and -M, in
 * memory shared with the master: when a worker dies, the master counts
 * them out (connlimits.c).
 */
#ifndef FAITHD_LEDGER_H
#define FAITHD_LEDGER_H

#include <stdbool.h>
#include <netinet/in.h>

/* A connection noted in no ledger. */
#define LEDGER_NONE	(~0u)
/* A worker's ledger holds at most this many connections. */
#define LEDGER_MAX	(1u << 20)

struct faithd_ledgers;

/* Shared memory, made before fork(): one ledger per worker, as large as
 * the connections a process can hold; reserved, a page taken when first
 * used.  NULL on failure. */
struct faithd_ledgers *ledgers_create(unsigned workers);
void ledgers_destroy(struct faithd_ledgers *g);
unsigned ledgers_count(const struct faithd_ledgers *g);

/* In worker `worker`, after fork(): ledger_note() and ledger_forget()
 * write its ledger from then on (g NULL: no ledger).  ledger_leave() at
 * its end. */
void ledger_join(struct faithd_ledgers *g, unsigned worker);
void ledger_leave(void);

/* Note a counted connection from src: its ticket (LEDGER_NONE: none). */
unsigned ledger_note(const struct in6_addr *src);
void ledger_forget(unsigned ticket);

/* Call fn for each connection worker's ledger holds, by its source; with
 * empty, take them out and give the pages back (the worker is gone).
 * How many. */
unsigned ledger_walk(struct faithd_ledgers *g, unsigned worker, bool empty,
		     void (*fn)(void *arg, const struct in6_addr *src), void *arg);

#endif /* FAITHD_LEDGER_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/* Connection limits shared by all workers: global and per source address. */
#ifndef FAITHD_CONNLIMITS_H
#define FAITHD_CONNLIMITS_H

#include <stdbool.h>
#include <netinet/in.h>

struct faithd_limits;

/* Shared memory, made before fork(); 0 means no limit; a ledger for each
 * of the workers (where there is a limit).  NULL on failure. */
struct faithd_limits *limits_create(unsigned max_conns, unsigned max_per_source,
				    unsigned workers);
void limits_destroy(struct faithd_limits *l);
/* False if there is a limit but no memory was left for the ledgers: a
 * dead worker's connections then stay counted. */
bool limits_have_ledgers(const struct faithd_limits *l);

/* In worker `worker`, after fork(): its connections go in its ledger.
 * limits_leave() at its end. */
void limits_join(struct faithd_limits *l, unsigned worker);
void limits_leave(void);

/* Count one more connection from src: 0 and its ticket (for
 * limits_release), -EMFILE (global limit reached), -EUSERS (this source's
 * limit reached) or -ENOSPC (too many sources). */
int limits_acquire(struct faithd_limits *l, const struct in6_addr *src, unsigned *ticket);
void limits_release(struct faithd_limits *l, const struct in6_addr *src, unsigned ticket);

/* In the master, once worker `worker` is gone: count out every connection
 * its ledger holds, before a new worker takes its place.  How many. */
unsigned limits_reclaim(struct faithd_limits *l, unsigned worker);

/* Count the connections (for the global limit) at total instead, memory
 * shared with the translate program, which counts its own there too (NULL:
 * back to faithd's own).  Before any connection is counted, and before the
 * workers are forked. */
void limits_share_total(struct faithd_limits *l, unsigned *total);

/* Count per source in the translate program's map instead, through its
 * `faithd_limit` program (prog_fd), which the program's own connections
 * count in too (-1: back to faithd's own table).  Before any connection
 * is counted. */
void limits_share_sources(struct faithd_limits *l, int prog_fd);

#endif /* FAITHD_CONNLIMITS_H */

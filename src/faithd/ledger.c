// SPDX-License-Identifier: BSD-2-Clause
/*
 * The workers' ledgers of counted connections.  One shared mapping, made
 * before the workers are forked: a page of header, then a ledger per
 * worker, each on pages of its own.  A ledger holds an entry per counted
 * connection (its source) and how far entries were ever used (top): the
 * master reads no further, and pages never used are never allocated.
 * Only its worker writes a ledger; the master reads it once the worker is
 * gone, and connlimits.c reads them all, under its lock, to rebuild its
 * table after a worker died holding that lock.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "faithd/ledger.h"

struct ledger_entry {
	struct in6_addr src;
	unsigned held;		/* 1: this connection is counted */
};

struct ledger {
	unsigned top;		/* entries [0, top) were used */
	unsigned pad[3];
	struct ledger_entry ent[];
};

struct faithd_ledgers {
	unsigned workers;
	unsigned cap;		/* entries per ledger */
	size_t page;
	size_t stride;		/* bytes per ledger, whole pages */
	size_t size;		/* of the mapping */
};

/* This process's own ledger (a worker's; none in the master) and the
 * entries it freed: the latest freed is used next, so that the entries
 * in use stay at the start. */
static struct ledger *own;
static unsigned own_cap;
static unsigned *spare, nspare, spare_cap;

/* As many connections as one process can hold: two descriptors each. */
static unsigned capacity(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_max == RLIM_INFINITY ||
	    rl.rlim_max / 2 > LEDGER_MAX)
		return LEDGER_MAX;
	return rl.rlim_max / 2 ? (unsigned)(rl.rlim_max / 2) : 1;
}

static struct ledger *ledger_of(const struct faithd_ledgers *g, unsigned worker)
{
	return (struct ledger *)((char *)g + g->page + worker * g->stride);
}

struct faithd_ledgers *ledgers_create(unsigned workers)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), cap = capacity(), stride, size;
	struct faithd_ledgers *g;

	stride = sizeof(struct ledger) + cap * sizeof(struct ledger_entry);
	stride = (stride + page - 1) / page * page;
	size = page + workers * stride;
	g = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (g == MAP_FAILED)
		return NULL;
	g->workers = workers;
	g->cap = (unsigned)cap;
	g->page = page;
	g->stride = stride;
	g->size = size;
	return g;
}

void ledgers_destroy(struct faithd_ledgers *g)
{
	if (g)
		munmap(g, g->size);
}

unsigned ledgers_count(const struct faithd_ledgers *g)
{
	return g ? g->workers : 0;
}

void ledger_join(struct faithd_ledgers *g, unsigned worker)
{
	if (!g || worker >= g->workers)
		return;
	own = ledger_of(g, worker);
	own_cap = g->cap;
}

void ledger_leave(void)
{
	free(spare);
	spare = NULL;
	nspare = spare_cap = 0;
	own = NULL;
}

unsigned ledger_note(const struct in6_addr *src)
{
	unsigned i;

	if (!own)
		return LEDGER_NONE;
	if (nspare)
		i = spare[--nspare];
	else if (own->top < own_cap)
		i = own->top;
	else	/* more connections than descriptors allow for */
		return LEDGER_NONE;
	own->ent[i].src = *src;
	__atomic_store_n(&own->ent[i].held, 1, __ATOMIC_RELEASE);
	if (i == own->top)
		__atomic_store_n(&own->top, i + 1, __ATOMIC_RELEASE);
	return i;
}

void ledger_forget(unsigned ticket)
{
	if (!own || ticket == LEDGER_NONE)
		return;
	__atomic_store_n(&own->ent[ticket].held, 0, __ATOMIC_RELEASE);
	if (nspare == spare_cap) {
		unsigned n = spare_cap ? 2 * spare_cap : 64;
		unsigned *more = realloc(spare, n * sizeof(*spare));

		if (!more)
			return;	/* not used again: later ones come from top */
		spare = more;
		spare_cap = n;
	}
	spare[nspare++] = ticket;
}

unsigned ledger_walk(struct faithd_ledgers *g, unsigned worker, bool empty,
		     void (*fn)(void *arg, const struct in6_addr *src), void *arg)
{
	struct ledger *l;
	unsigned n = 0, top;

	if (!g || worker >= g->workers)
		return 0;
	l = ledger_of(g, worker);
	top = __atomic_load_n(&l->top, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < top && i < g->cap; i++) {
		if (!__atomic_load_n(&l->ent[i].held, __ATOMIC_ACQUIRE))
			continue;
		/* Out before it is counted out: a walk cut short (the master
		 * killed) must not count it out again. */
		if (empty)
			__atomic_store_n(&l->ent[i].held, 0, __ATOMIC_RELEASE);
		fn(arg, &l->ent[i].src);
		n++;
	}
	if (empty) {
		l->top = 0;
		madvise(l, g->stride, MADV_REMOVE);	/* the pages back, if it can */
	}
	return n;
}

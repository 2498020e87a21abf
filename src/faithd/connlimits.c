// SPDX-License-Identifier: BSD-2-Clause
/*
 * Connection limits shared by all workers.  The counters live in an
 * anonymous shared mapping made before the workers are forked: a global
 * count and an open-addressing table (linear probing, backward-shift
 * deletion, so no tombstones) of per-source counts, under a spinlock that
 * is only held for a few instructions on accept and close.  Where the
 * translate program opens connections itself, the counts are shared with
 * it: the global one in its memory (limits_share_total), the per-source
 * ones in its map, changed through its `faithd_limit` program
 * (limits_share_sources); then the table here goes unused.
 *
 * Each worker also keeps a ledger of the counts it holds, one entry per
 * connection, in shared memory too: when a worker dies (a crash, the OOM
 * killer), the master gives them back (limits_reclaim).  Else they would
 * stay counted until faithd restarts, and with the program counting in
 * the same place, its connections would be refused too.  Only the worker
 * writes its ledger; the master reads it once the worker is gone.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "faithd/connlimits.h"
#include "faithd/xlate.h"
#include "faithd/xlate_maps.h"

#define SOURCE_BITS	17
#define SOURCE_SLOTS	(1u << SOURCE_BITS)

struct source_slot {
	struct in6_addr addr;
	unsigned count;		/* 0: empty */
};

/* A ledger: how far its entries were ever used (the master reads no
 * further: pages never touched stay unallocated), then the entries. */
struct ledger_entry {
	struct in6_addr src;
	unsigned held;		/* 1: this connection is counted */
};

struct ledger {
	unsigned top;
	unsigned pad[3];
	struct ledger_entry ent[];
};

struct faithd_limits {
	atomic_flag lock;
	unsigned own_total;
	unsigned *total;	/* own_total, or shared (limits_share_total) */
	int sources_fd;		/* the per-source counts' program, or -1 */
	unsigned max_conns;
	unsigned max_per_source;
	unsigned used;		/* slots in use */
	unsigned workers;
	unsigned ledger_cap;	/* entries per worker's ledger; 0: no ledgers */
	char *ledgers;		/* workers of them, ledger_size() apart */
	struct source_slot slot[];
};

/* This process's own ledger (a worker's; none in the master) and a stack
 * of its free entries: the latest freed is used next, so that the entries
 * in use stay at the start. */
static struct ledger *own;
static unsigned *own_free, own_nfree;

/* As many connections as one process can hold: two descriptors each. */
static unsigned ledger_capacity(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_max == RLIM_INFINITY ||
	    rl.rlim_max / 2 > LIMITS_LEDGER_MAX)
		return LIMITS_LEDGER_MAX;
	return rl.rlim_max / 2 ? (unsigned)(rl.rlim_max / 2) : 1;
}

static size_t ledger_size(unsigned cap)
{
	return sizeof(struct ledger) + (size_t)cap * sizeof(struct ledger_entry);
}

static struct ledger *ledger_of(const struct faithd_limits *l, unsigned worker)
{
	return (struct ledger *)(l->ledgers + worker * ledger_size(l->ledger_cap));
}

static size_t limits_size(unsigned max_per_source)
{
	size_t n = max_per_source ? SOURCE_SLOTS : 0;

	return sizeof(struct faithd_limits) + n * sizeof(struct source_slot);
}

struct faithd_limits *limits_create(unsigned max_conns, unsigned max_per_source,
				    unsigned workers)
{
	unsigned cap = max_conns || max_per_source ? ledger_capacity() : 0;
	struct faithd_limits *l;
	void *ledgers = NULL;

	if (cap) {
		/* Reserved, not committed: a page is taken when first used. */
		ledgers = mmap(NULL, workers * ledger_size(cap), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (ledgers == MAP_FAILED)
			return NULL;
	}
	l = mmap(NULL, limits_size(max_per_source), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (l == MAP_FAILED) {
		if (ledgers)
			munmap(ledgers, workers * ledger_size(cap));
		return NULL;
	}
	l->workers = workers;
	l->ledger_cap = cap;
	l->ledgers = ledgers;
	atomic_flag_clear(&l->lock);
	l->own_total = 0;
	l->total = &l->own_total;
	l->sources_fd = -1;
	l->max_conns = max_conns;
	l->max_per_source = max_per_source;
	l->used = 0;
	return l;
}

void limits_destroy(struct faithd_limits *l)
{
	if (!l)
		return;
	if (l->ledgers)
		munmap(l->ledgers, l->workers * ledger_size(l->ledger_cap));
	munmap(l, limits_size(l->max_per_source));
}

int limits_join(struct faithd_limits *l, unsigned worker)
{
	if (!l->ledgers || worker >= l->workers)
		return 0;
	own_free = malloc(l->ledger_cap * sizeof(*own_free));
	if (!own_free)
		return -ENOMEM;
	own = ledger_of(l, worker);
	own_nfree = l->ledger_cap;
	for (unsigned i = 0; i < l->ledger_cap; i++)
		own_free[i] = l->ledger_cap - 1 - i;	/* entry 0 on top */
	return 0;
}

void limits_leave(void)
{
	free(own_free);
	own_free = NULL;
	own = NULL;
}

/* Note a counted connection in this worker's ledger: its ticket. */
static unsigned ledger_note(const struct in6_addr *src)
{
	unsigned i;

	/* Full: more connections than descriptors allow for; uncounted
	 * here, it is only missed if the worker dies. */
	if (!own || !own_nfree)
		return LIMITS_NO_TICKET;
	i = own_free[--own_nfree];
	own->ent[i].src = *src;
	__atomic_store_n(&own->ent[i].held, 1, __ATOMIC_RELEASE);
	if (i >= own->top)
		__atomic_store_n(&own->top, i + 1, __ATOMIC_RELEASE);
	return i;
}

static void ledger_forget(unsigned ticket)
{
	if (!own || ticket == LIMITS_NO_TICKET)
		return;
	__atomic_store_n(&own->ent[ticket].held, 0, __ATOMIC_RELEASE);
	own_free[own_nfree++] = ticket;
}

static void lock(struct faithd_limits *l)
{
	while (atomic_flag_test_and_set_explicit(&l->lock, memory_order_acquire))
		;
}

static void unlock(struct faithd_limits *l)
{
	atomic_flag_clear_explicit(&l->lock, memory_order_release);
}

static unsigned source_hash(const struct in6_addr *a)
{
	uint64_t hi, lo;

	memcpy(&hi, a->s6_addr, 8);
	memcpy(&lo, a->s6_addr + 8, 8);
	return (unsigned)((hi * 0x9e3779b97f4a7c15ull ^ lo * 0xc2b2ae3d27d4eb4full)
			  >> (64 - SOURCE_BITS));
}

/* The slot holding src, or the empty slot where it would go. */
static struct source_slot *source_find(struct faithd_limits *l,
				       const struct in6_addr *src)
{
	unsigned i = source_hash(src);

	for (;; i = (i + 1) & (SOURCE_SLOTS - 1)) {
		struct source_slot *s = &l->slot[i];

		if (!s->count || !memcmp(&s->addr, src, sizeof(*src)))
			return s;
	}
}

/* Empty slot i, shifting later members of its run back (Knuth's R). */
static void source_remove(struct faithd_limits *l, unsigned i)
{
	unsigned j = i;

	for (;;) {
		unsigned home;

		l->slot[i].count = 0;
		do {
			j = (j + 1) & (SOURCE_SLOTS - 1);
			if (!l->slot[j].count)
				return;
			home = source_hash(&l->slot[j].addr);
			/* Stay if home lies cyclically in (i, j]. */
		} while (i <= j ? (i < home && home <= j) : (i < home || home <= j));
		l->slot[i] = l->slot[j];
		i = j;
	}
}

/* Count one more connection from src (limits_acquire, without the ledger). */
static int count_in(struct faithd_limits *l, const struct in6_addr *src)
{
	struct source_slot *s;
	int err = 0;

	/* Signed: a count that went below 0 for a moment (a shared one)
	 * must not read as huge. */
	if (l->max_conns &&
	    (int)__atomic_fetch_add(l->total, 1, __ATOMIC_SEQ_CST) >= (int)l->max_conns) {
		__atomic_fetch_sub(l->total, 1, __ATOMIC_SEQ_CST);
		return -EMFILE;
	}
	if (!l->max_conns)
		__atomic_fetch_add(l->total, 1, __ATOMIC_SEQ_CST);
	if (!l->max_per_source)
		return 0;
	if (l->sources_fd >= 0) {
		int r = xlate_limit_run(l->sources_fd, src, FAITHD_XL_LIMIT_ACQUIRE);

		err = r == FAITHD_XL_LIMIT_OK ? 0 : r == FAITHD_XL_LIMIT_SOURCE ? -EUSERS : -ENOSPC;
		if (err)
			__atomic_fetch_sub(l->total, 1, __ATOMIC_SEQ_CST);
		return err;
	}
	lock(l);
	s = source_find(l, src);
	if (s->count >= l->max_per_source)
		err = -EUSERS;
	else if (!s->count && l->used >= SOURCE_SLOTS / 2)
		err = -ENOSPC;	/* keep the table half empty: short probes */
	else if (!s->count++) {
		s->addr = *src;
		l->used++;
	}
	unlock(l);
	if (err)
		__atomic_fetch_sub(l->total, 1, __ATOMIC_SEQ_CST);
	return err;
}

int limits_acquire(struct faithd_limits *l, const struct in6_addr *src, unsigned *ticket)
{
	int err = count_in(l, src);

	*ticket = err ? LIMITS_NO_TICKET : ledger_note(src);
	return err;
}

/* Count a connection from src out (limits_release, without the ledger). */
static void count_out(struct faithd_limits *l, const struct in6_addr *src)
{
	struct source_slot *s;

	__atomic_fetch_sub(l->total, 1, __ATOMIC_SEQ_CST);
	if (!l->max_per_source)
		return;
	if (l->sources_fd >= 0) {
		/* Once more if the kernel failed it (memory): else the count
		 * would stay. */
		if (xlate_limit_run(l->sources_fd, src, FAITHD_XL_LIMIT_RELEASE) < 0)
			xlate_limit_run(l->sources_fd, src, FAITHD_XL_LIMIT_RELEASE);
		return;
	}
	lock(l);
	s = source_find(l, src);
	if (s->count && !--s->count) {
		source_remove(l, (unsigned)(s - l->slot));
		l->used--;
	}
	unlock(l);
}

/*
 * Out of the ledger first: a worker that dies between the two steps leaves
 * a count behind, rather than have the master count out a connection
 * twice (and so let one through beyond a limit).
 */
void limits_release(struct faithd_limits *l, const struct in6_addr *src, unsigned ticket)
{
	ledger_forget(ticket);
	count_out(l, src);
}

unsigned limits_reclaim(struct faithd_limits *l, unsigned worker)
{
	struct ledger *g;
	unsigned n = 0, top;

	if (!l->ledgers || worker >= l->workers)
		return 0;
	g = ledger_of(l, worker);
	top = __atomic_load_n(&g->top, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < top && i < l->ledger_cap; i++) {
		if (!__atomic_load_n(&g->ent[i].held, __ATOMIC_ACQUIRE))
			continue;
		count_out(l, &g->ent[i].src);
		g->ent[i].held = 0;
		n++;
	}
	g->top = 0;
	return n;
}

void limits_share_total(struct faithd_limits *l, unsigned *total)
{
	l->total = total ? total : &l->own_total;
}

void limits_share_sources(struct faithd_limits *l, int prog_fd)
{
	l->sources_fd = prog_fd;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * Connection limits shared by all workers.  The counters live in an
 * anonymous shared mapping made before the workers are forked: a global
 * count and an open-addressing table (linear probing, backward-shift
 * deletion, so no tombstones) of per-source counts, under a lock that is
 * only held for a few instructions on accept and close.  Where the
 * translate program opens connections itself, the counts are shared with
 * it: the global one in its memory (limits_share_total), the per-source
 * ones in its map, changed through its `faithd_limit` program
 * (limits_share_sources); then the table here goes unused.
 *
 * Each worker notes the connections it counted in its ledger (ledger.c):
 * when a worker dies (a crash, the OOM killer), the master counts them
 * out (limits_reclaim).  Else they would stay counted until faithd
 * restarts, and with the program counting in the same place, its
 * connections would be refused too.  The lock is robust: a worker that
 * dies holding it may leave the table half changed, and the next holder
 * rebuilds it from the ledgers, which change under the lock too.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "faithd/connlimits.h"
#include "faithd/ledger.h"
#include "faithd/xlate.h"
#include "faithd/xlate_maps.h"

#define SOURCE_BITS	17
#define SOURCE_SLOTS	(1u << SOURCE_BITS)

struct source_slot {
	struct in6_addr addr;
	unsigned count;		/* 0: empty */
};

struct faithd_limits {
	pthread_mutex_t lock;	/* of the table (robust, shared) */
	unsigned own_total;
	unsigned *total;	/* own_total, or shared (limits_share_total) */
	int sources_fd;		/* the per-source counts' program, or -1 */
	unsigned max_conns;
	unsigned max_per_source;
	unsigned used;		/* slots in use */
	struct faithd_ledgers *ledgers;	/* NULL: none (no limit, or no memory) */
	struct source_slot slot[];
};

static size_t limits_size(unsigned max_per_source)
{
	size_t n = max_per_source ? SOURCE_SLOTS : 0;

	return sizeof(struct faithd_limits) + n * sizeof(struct source_slot);
}

static int lock_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	int err;

	if (pthread_mutexattr_init(&a))
		return -ENOMEM;
	err = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) ||
	      pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) ||
	      pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return err ? -EINVAL : 0;
}

struct faithd_limits *limits_create(unsigned max_conns, unsigned max_per_source,
				    unsigned workers)
{
	struct faithd_limits *l;

	l = mmap(NULL, limits_size(max_per_source), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (l == MAP_FAILED)
		return NULL;
	if (lock_init(&l->lock)) {
		munmap(l, limits_size(max_per_source));
		return NULL;
	}
	l->own_total = 0;
	l->total = &l->own_total;
	l->sources_fd = -1;
	l->max_conns = max_conns;
	l->max_per_source = max_per_source;
	l->used = 0;
	/* Without (no memory to reserve), a dead worker's counts stay. */
	l->ledgers = max_conns || max_per_source ? ledgers_create(workers) : NULL;
	return l;
}

bool limits_have_ledgers(const struct faithd_limits *l)
{
	return l->ledgers || (!l->max_conns && !l->max_per_source);
}

void limits_destroy(struct faithd_limits *l)
{
	if (!l)
		return;
	ledgers_destroy(l->ledgers);
	pthread_mutex_destroy(&l->lock);
	munmap(l, limits_size(l->max_per_source));
}

void limits_join(struct faithd_limits *l, unsigned worker)
{
	ledger_join(l->ledgers, worker);
}

void limits_leave(void)
{
	ledger_leave();
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

/* One more from src, whatever the limit (a rebuild). */
static void table_add(struct faithd_limits *l, const struct in6_addr *src)
{
	struct source_slot *s = source_find(l, src);

	if (!s->count++) {
		s->addr = *src;
		l->used++;
	}
}

static void table_add_cb(void *l, const struct in6_addr *src)
{
	table_add(l, src);
}

/* Without ledgers: the slots that hold a count, hashed again (a slot
 * being moved when its mover died may count twice, or not at all). */
static void table_rehash(struct faithd_limits *l)
{
	size_t size = SOURCE_SLOTS * sizeof(l->slot[0]);
	struct source_slot *old = malloc(size);

	if (!old)
		return;
	memcpy(old, l->slot, size);
	memset(l->slot, 0, size);
	l->used = 0;
	for (unsigned i = 0; i < SOURCE_SLOTS; i++) {
		struct source_slot *s;

		if (!old[i].count)
			continue;
		s = source_find(l, &old[i].addr);
		if (!s->count) {
			*s = old[i];
			l->used++;
		}
	}
	free(old);
}

/*
 * The table again from the ledgers, which the lock kept in step with it;
 * and the total, where it is faithd's own (no one else counts in it, and
 * the holder may have died between it and its ledger).
 */
static void table_rebuild(struct faithd_limits *l)
{
	unsigned n = 0;

	if (!l->ledgers) {
		table_rehash(l);
		return;
	}
	memset(l->slot, 0, SOURCE_SLOTS * sizeof(l->slot[0]));
	l->used = 0;
	for (unsigned w = 0; w < ledgers_count(l->ledgers); w++)
		n += ledger_walk(l->ledgers, w, false, table_add_cb, l);
	if (l->total == &l->own_total)
		__atomic_store_n(&l->own_total, n, __ATOMIC_SEQ_CST);
}

static void lock(struct faithd_limits *l)
{
	/* Its holder died: the table may be half changed. */
	if (pthread_mutex_lock(&l->lock) == EOWNERDEAD) {
		table_rebuild(l);
		pthread_mutex_consistent(&l->lock);
	}
}

static void unlock(struct faithd_limits *l)
{
	pthread_mutex_unlock(&l->lock);
}

/* One more from src in the table, within the limit: 0, -EUSERS or -ENOSPC. */
static int table_in(struct faithd_limits *l, const struct in6_addr *src)
{
	struct source_slot *s = source_find(l, src);

	if (s->count >= l->max_per_source)
		return -EUSERS;
	if (!s->count && l->used >= SOURCE_SLOTS / 2)
		return -ENOSPC;	/* keep the table half empty: short probes */
	table_add(l, src);
	return 0;
}

static void table_out(struct faithd_limits *l, const struct in6_addr *src)
{
	struct source_slot *s = source_find(l, src);

	if (s->count && !--s->count) {
		source_remove(l, (unsigned)(s - l->slot));
		l->used--;
	}
}

/* Per source, in the program's map: 0, -EUSERS or -ENOSPC. */
static int program_in(struct faithd_limits *l, const struct in6_addr *src)
{
	int r = xlate_limit_run(l->sources_fd, src, FAITHD_XL_LIMIT_ACQUIRE);

	return r == FAITHD_XL_LIMIT_OK ? 0 : r == FAITHD_XL_LIMIT_SOURCE ? -EUSERS : -ENOSPC;
}

static void program_out(struct faithd_limits *l, const struct in6_addr *src)
{
	/* Once more if the kernel failed it (memory): else it would stay. */
	if (xlate_limit_run(l->sources_fd, src, FAITHD_XL_LIMIT_RELEASE) < 0)
		xlate_limit_run(l->sources_fd, src, FAITHD_XL_LIMIT_RELEASE);
}

/* The table's entries and the ledger's change together, under the lock. */
static bool in_table(const struct faithd_limits *l)
{
	return l->max_per_source && l->sources_fd < 0;
}

/* One more in the total, within -m: 0 or -EMFILE. */
static int total_in(struct faithd_limits *l)
{
	/* Signed: a count that went below 0 for a moment (a shared one)
	 * must not read as huge. */
	unsigned before = __atomic_fetch_add(l->total, 1, __ATOMIC_SEQ_CST);

	if (l->max_conns && (int)before >= (int)l->max_conns) {
		__atomic_fetch_sub(l->total, 1, __ATOMIC_SEQ_CST);
		return -EMFILE;
	}
	return 0;
}

static void total_out(struct faithd_limits *l)
{
	__atomic_fetch_sub(l->total, 1, __ATOMIC_SEQ_CST);
}

/* One more from src in the counts, within the limits: 0, -EMFILE,
 * -EUSERS or -ENOSPC. */
static int count_in(struct faithd_limits *l, const struct in6_addr *src)
{
	int err = total_in(l);

	if (err || !l->max_per_source)
		return err;
	err = in_table(l) ? table_in(l, src) : program_in(l, src);
	if (err)
		total_out(l);
	return err;
}

static void count_out(struct faithd_limits *l, const struct in6_addr *src)
{
	if (in_table(l))
		table_out(l, src);
	else if (l->max_per_source)
		program_out(l, src);
	total_out(l);
}

static void count_out_cb(void *l, const struct in6_addr *src)
{
	count_out(l, src);
}

/* With faithd's own table: the counts and the ledgers under the lock,
 * whose next holder puts right what a dead one left half done. */
static bool lock_table(struct faithd_limits *l)
{
	if (!in_table(l))
		return false;
	lock(l);
	return true;
}

/*
 * The counts first, then the ledger; on release the ledger first: a
 * worker that dies between the two steps leaves a count behind, rather
 * than have the master count a connection out twice (and so let one
 * through beyond a limit).
 */
int limits_acquire(struct faithd_limits *l, const struct in6_addr *src, unsigned *ticket)
{
	bool locked = lock_table(l);
	int err = count_in(l, src);

	*ticket = err ? LEDGER_NONE : ledger_note(src);
	if (locked)
		unlock(l);
	return err;
}

void limits_release(struct faithd_limits *l, const struct in6_addr *src, unsigned ticket)
{
	bool locked = lock_table(l);

	ledger_forget(ticket);
	count_out(l, src);
	if (locked)
		unlock(l);
}

unsigned limits_reclaim(struct faithd_limits *l, unsigned worker)
{
	bool locked;
	unsigned n;

	if (!l->ledgers)
		return 0;
	locked = lock_table(l);
	n = ledger_walk(l->ledgers, worker, true, count_out_cb, l);
	if (locked)
		unlock(l);
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

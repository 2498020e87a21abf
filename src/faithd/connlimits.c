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
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "faithd/connlimits.h"
#include "faithd/xlate.h"
#include "faithd/xlate_maps.h"

#define SOURCE_BITS	17
#define SOURCE_SLOTS	(1u << SOURCE_BITS)

struct source_slot {
	struct in6_addr addr;
	unsigned count;		/* 0: empty */
};

struct faithd_limits {
	atomic_flag lock;
	unsigned own_total;
	unsigned *total;	/* own_total, or shared (limits_share_total) */
	int sources_fd;		/* the per-source counts' program, or -1 */
	unsigned max_conns;
	unsigned max_per_source;
	unsigned used;		/* slots in use */
	struct source_slot slot[];
};

static size_t limits_size(unsigned max_per_source)
{
	size_t n = max_per_source ? SOURCE_SLOTS : 0;

	return sizeof(struct faithd_limits) + n * sizeof(struct source_slot);
}

struct faithd_limits *limits_create(unsigned max_conns, unsigned max_per_source)
{
	struct faithd_limits *l;

	l = mmap(NULL, limits_size(max_per_source), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (l == MAP_FAILED)
		return NULL;
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
	if (l)
		munmap(l, limits_size(l->max_per_source));
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

int limits_acquire(struct faithd_limits *l, const struct in6_addr *src)
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

void limits_release(struct faithd_limits *l, const struct in6_addr *src)
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

void limits_share_total(struct faithd_limits *l, unsigned *total)
{
	l->total = total ? total : &l->own_total;
}

void limits_share_sources(struct faithd_limits *l, int prog_fd)
{
	l->sources_fd = prog_fd;
}

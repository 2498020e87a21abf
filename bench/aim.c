// SPDX-License-Identifier: BSD-2-Clause
/*
 * Where the "longest search" cases aim: the loaded prefixes are indexed
 * once more in memory, as faith-loader indexes them for the datapath, and
 * faith_pindex_find() (the datapath's lookup in C) tells what each candidate
 * address costs: probes first, then block tables read.  The match case
 * takes the costliest address inside a generated prefix; the no-match case
 * the costliest just outside one (its last prefix bit flipped), or
 * NEAR_DST if that costs as much.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

struct aim_index {
	struct faith_pindex_half half;
	struct faith_pindex_start start;
	struct faith_pindex_bucket *table;
	struct faith_pindex_block *blocks;
	struct faith_prefix_key *keys;	/* the builder sorts its input */
	uint32_t cap;
};

void aim_free(struct bench *b)
{
	if (!b->aim)
		return;
	free(b->aim->table);
	free(b->aim->blocks);
	free(b->aim->keys);
	free(b->aim);
	b->aim = NULL;
}

/* Index keys[0..count) in memory; 0 or -ENOMEM. */
int aim_index(struct bench *b, const struct faith_prefix_key *keys, uint32_t count)
{
	struct aim_index *a = b->aim;

	if (!a) {
		a = b->aim = calloc(1, sizeof(*a));
		if (a) {
			a->table = calloc(FAITH_PINDEX_BUCKETS, sizeof(*a->table));
			a->blocks = calloc(FAITH_PINDEX_BLOCKS, sizeof(*a->blocks));
		}
		if (!a || !a->table || !a->blocks) {
			aim_free(b);
			return -ENOMEM;
		}
	}
	if (count > a->cap) {
		struct faith_prefix_key *more = realloc(a->keys, count * sizeof(*more));

		if (!more)
			return -ENOMEM;
		a->keys = more;
		a->cap = count;
	}
	memcpy(a->keys, keys, count * sizeof(*keys));
	faith_pindex_build(a->keys, count, FAITH_PINDEX_SLOTS, &a->half, a->table,
			   &a->start, a->blocks);
	return 0;
}

/* An address inside key: its first 96 bits, then 192.0.2.2. */
static void target_addr(const struct faith_prefix_key *key, uint8_t out[16])
{
	static const uint8_t low[4] = { 0xc0, 0x00, 0x02, 0x02 };

	memcpy(out, key->addr, 16);
	memcpy(out + 12, low, 4);
}

/* Look addr up in memory: its cost in *p; whether it is inside a prefix. */
static bool cost(const struct aim_index *a, const uint8_t addr[16],
		 struct aim_pick *p)
{
	int found = faith_pindex_find(&a->half, a->table, &a->start, a->blocks,
				      addr, &p->probes, &p->steps);

	memcpy(p->addr, addr, 16);
	return found == 1;
}

static bool costlier(const struct aim_pick *x, const struct aim_pick *y)
{
	return x->probes > y->probes ||
	       (x->probes == y->probes && x->steps > y->steps);
}

/* The datapath asks the trie (or nothing is indexed to aim by). */
static bool by_trie(const struct bench *b)
{
	return !lookup_is_index(&b->lookup) || !b->aim;
}

bool aim_match(const struct bench *b, const struct faith_prefix_key *keys,
	       struct aim_pick *best)
{
	struct aim_pick p;
	bool any = false;
	uint8_t addr[16];

	memset(best, 0, sizeof(*best));
	for (uint32_t i = 1; i < b->loaded; i++) {
		target_addr(&keys[i], addr);
		if (by_trie(b)) {
			/* The first /96: a long walk. */
			if (keys[i].prefixlen != 96)
				continue;
			memcpy(best->addr, addr, 16);
			best->len = 96;
			return true;
		}
		if (cost(b->aim, addr, &p) && (!any || costlier(&p, best))) {
			p.len = keys[i].prefixlen;
			*best = p;
			any = true;
		}
	}
	return any;
}

void aim_miss(const struct bench *b, const struct faith_prefix_key *keys,
	      struct aim_pick *best)
{
	struct aim_pick p;
	uint8_t addr[16];

	memset(best, 0, sizeof(*best));
	memcpy(best->addr, b->near_dst, 16);
	if (by_trie(b))
		return;
	cost(b->aim, b->near_dst, best);
	for (uint32_t i = 1; i < b->loaded; i++) {
		uint32_t bit = keys[i].prefixlen - 1;

		target_addr(&keys[i], addr);
		addr[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		if (!cost(b->aim, addr, &p) && costlier(&p, best))
			*best = p;
	}
}

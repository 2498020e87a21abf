// SPDX-License-Identifier: BSD-2-Clause
/*
 * Build one half of the prefix index (see src/maps.h) from a list of
 * prefixes, in memory: drop nested prefixes, lay the lengths out as a
 * balanced search tree, put prefixes and their markers in the cuckoo table.
 * faith_pindex_find() is the datapath's lookup in C, for the tests.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "maps.h"
#include "pindex.h"

/* Address bytes 0..11 of a key, masked to len bits. */
static void masked(const __u8 addr[16], __u32 len, __u8 out[12])
{
	memset(out, 0, 12);
	for (__u32 i = 0; i < 12 && i * 8 < len; i++)
		out[i] = len >= i * 8 + 8 ? addr[i] :
			 addr[i] & (__u8)(0xff << (8 - len % 8));
}

/* Address order, then shorter first: a prefix comes right before all the
 * prefixes nested in it. */
static int by_addr_len(const void *a, const void *b)
{
	const struct faith_prefix_key *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, 12);

	if (c)
		return c;
	return x->prefixlen < y->prefixlen ? -1 : x->prefixlen > y->prefixlen;
}

/* Does prefix outer hold prefix inner? */
static bool holds(const struct faith_prefix_key *outer,
		  const struct faith_prefix_key *inner)
{
	__u8 a[12], b[12];

	if (outer->prefixlen > inner->prefixlen)
		return false;
	masked(inner->addr, outer->prefixlen, a);
	masked(outer->addr, outer->prefixlen, b);
	return !memcmp(a, b, 12);
}

/* Clear a key's bits past its length.  faith-loader never writes others,
 * but the trie keeps whatever bpftool puts in it, and sorting must see a
 * prefix before those nested in it. */
static void canonical(struct faith_prefix_key *key)
{
	__u8 m[12];

	masked(key->addr, key->prefixlen, m);
	memcpy(key->addr, m, sizeof(m));
	memset(key->addr + sizeof(m), 0, sizeof(key->addr) - sizeof(m));
}

/* Sort keys[0..n) and keep only those no other prefix holds; the count. */
static size_t drop_nested(struct faith_prefix_key *keys, size_t n)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++)
		if (keys[i].prefixlen <= FAITH_MAX_PREFIXLEN)
			canonical(&keys[i]);
	qsort(keys, n, sizeof(*keys), by_addr_len);
	for (size_t i = 0; i < n; i++) {
		if (keys[i].prefixlen < 1 || keys[i].prefixlen > FAITH_MAX_PREFIXLEN)
			continue;
		/* Kept prefixes never overlap: only the last can hold this one. */
		if (kept && holds(&keys[kept - 1], &keys[i]))
			continue;
		keys[kept++] = keys[i];
	}
	return kept;
}

static void node_init(struct faith_pindex_node *nd, __u32 len)
{
	__u8 m[16] = {};
	__u32 w[3];

	for (__u32 bit = 0; bit < len; bit++)
		m[bit / 8] |= (__u8)(0x80 >> (bit % 8));
	memcpy(w, m, sizeof(w));
	memset(nd, 0, sizeof(*nd));
	nd->mask0 = faith_pindex_w0(w[0], w[1]);
	nd->mask1 = faith_pindex_w1(w[2], 0);
	nd->tag = faith_pindex_w1(0, len | FAITH_PINDEX_USED);
	nd->prefixlen = (__u8)len;
	nd->left = nd->right = FAITH_PINDEX_NONE;
}

/* The balanced tree of lens[lo..hi), nodes numbered in pre-order from *next;
 * returns its root, or FAITH_PINDEX_NONE if empty.  *depth: the deepest. */
static __u8 tree(struct faith_pindex_half *half, const __u32 *lens, int lo,
		 int hi, __u32 *next, __u32 level, __u32 *depth)
{
	/* The lower middle: the right side, where markers lead, is the
	 * bigger; a search that only misses takes the shortest way. */
	int mid = lo + (hi - lo - 1) / 2;
	__u32 self;

	if (lo >= hi)
		return FAITH_PINDEX_NONE;
	self = (*next)++;
	if (level > *depth)
		*depth = level;
	node_init(&half->node[self], lens[mid]);
	half->node[self].left = tree(half, lens, lo, mid, next, level + 1, depth);
	half->node[self].right = tree(half, lens, mid + 1, hi, next, level + 1, depth);
	return (__u8)self;
}

static __u32 slot_hash(const struct faith_pindex_slot *s)
{
	return faith_pindex_hash(faith_pindex_w0(s->addr[0], s->addr[1]),
				 faith_pindex_w1(s->addr[2],
						 s->prefixlen & ~FAITH_PINDEX_FLAGS));
}

static bool same_key(const struct faith_pindex_slot *a, const struct faith_pindex_slot *b)
{
	return !memcmp(a->addr, b->addr, sizeof(a->addr)) &&
	       !((a->prefixlen ^ b->prefixlen) & ~FAITH_PINDEX_FLAGS);
}

/* The slot holding s's key, or NULL. */
static const struct faith_pindex_slot *
table_find(const struct faith_pindex_bucket *table, const struct faith_pindex_slot *s)
{
	__u32 h = slot_hash(s), b[2] = { faith_pindex_bucket1(h), faith_pindex_bucket2(h) };

	for (int k = 0; k < 2; k++)
		for (int i = 0; i < FAITH_PINDEX_WAYS; i++)
			if (same_key(&table[b[k]].slot[i], s))
				return &table[b[k]].slot[i];
	return NULL;
}

/* Put s in a free way of bucket b; false if the bucket is full. */
static bool bucket_put(struct faith_pindex_bucket *b, const struct faith_pindex_slot *s)
{
	for (int i = 0; i < FAITH_PINDEX_WAYS; i++) {
		if (!b->slot[i].prefixlen) {
			b->slot[i] = *s;
			return true;
		}
	}
	return false;
}

/* Cuckoo insertion gives up after this many evictions: fall back to trie. */
#define MAX_KICKS 1000

/* Cuckoo insertion: when both buckets are full, evict and re-home. */
static bool insert(struct faith_pindex_bucket *table, struct faith_pindex_slot s)
{
	__u32 h = slot_hash(&s), b = faith_pindex_bucket1(h);

	if (bucket_put(&table[b], &s) ||
	    bucket_put(&table[faith_pindex_bucket2(h)], &s))
		return true;
	for (int kick = 0; kick < MAX_KICKS; kick++) {
		struct faith_pindex_slot victim;
		int way = kick % FAITH_PINDEX_WAYS;

		victim = table[b].slot[way];
		table[b].slot[way] = s;
		s = victim;
		h = slot_hash(&s);
		/* The victim goes to its other bucket. */
		b = faith_pindex_bucket1(h) == b ? faith_pindex_bucket2(h) :
						    faith_pindex_bucket1(h);
		if (bucket_put(&table[b], &s))
			return true;
	}
	return false;
}

/* Raise the overflow flag of every first bucket whose prefix lives in its
 * second: the datapath skips second buckets otherwise. */
static void flag_overflows(struct faith_pindex_bucket *table)
{
	for (__u32 b = 0; b < FAITH_PINDEX_BUCKETS; b++) {
		for (int i = 0; i < FAITH_PINDEX_WAYS; i++) {
			const struct faith_pindex_slot *s = &table[b].slot[i];
			__u32 first;

			if (!s->prefixlen)
				continue;
			first = faith_pindex_bucket1(slot_hash(s));
			if (first != b)
				table[first].slot[0].prefixlen |= FAITH_PINDEX_OVERFLOW_LEN;
		}
	}
}

/* key's entry at node nd: the prefix itself, or a marker (its rope is
 * set once all prefixes are in). */
static struct faith_pindex_slot entry(const struct faith_prefix_key *key,
				      const struct faith_pindex_node *nd)
{
	struct faith_pindex_slot s = { .prefixlen = nd->prefixlen | FAITH_PINDEX_USED };
	__u8 m[12];

	masked(key->addr, nd->prefixlen, m);
	memcpy(s.addr, m, sizeof(s.addr));
	return s;
}

/* The prefix at its node, and markers where its search path turns right. */
static bool add_prefix(struct faith_pindex_bucket *table, size_t *used,
		       size_t max_slots, const struct faith_pindex_half *half,
		       const struct faith_prefix_key *key)
{
	__u32 n = 0;

	while (n < half->nlens) {
		const struct faith_pindex_node *nd = &half->node[n];
		struct faith_pindex_slot s;

		if (nd->prefixlen > key->prefixlen) {
			n = nd->left;
			continue;
		}
		s = entry(key, nd);
		/* Markers are shared; a prefix never equals a marker (no
		 * prefix holds another) nor another prefix. */
		if (!table_find(table, &s)) {
			if (*used >= max_slots || !insert(table, s))
				return false;
			(*used)++;
		}
		if (nd->prefixlen == key->prefixlen)
			return true;
		n = nd->right;
	}
	return false;	/* its length is not in the tree: cannot happen */
}

/* Markers: the shortest and longest lengths of the prefixes leaving each,
 * by slot (bucket * WAYS + way); 0 for prefixes and empty slots. */
struct extent {
	__u8 min, max;
};

/* Note key's length in the extent of every marker on its path. */
static void extend_markers(const struct faith_pindex_bucket *table,
			   const struct faith_pindex_half *half,
			   const struct faith_prefix_key *key, struct extent *ext)
{
	__u32 n = 0;

	while (n < half->nlens) {
		const struct faith_pindex_node *nd = &half->node[n];
		struct faith_pindex_slot s;
		struct extent *e;

		if (nd->prefixlen > key->prefixlen) {
			n = nd->left;
			continue;
		}
		if (nd->prefixlen == key->prefixlen)
			return;
		s = entry(key, nd);
		e = &ext[table_find(table, &s) - &table[0].slot[0]];
		if (!e->min || key->prefixlen < e->min)
			e->min = (__u8)key->prefixlen;
		if (key->prefixlen > e->max)
			e->max = (__u8)key->prefixlen;
		n = nd->right;
	}
}

/*
 * The node a marker at length len sends the search to: the one of the
 * tree, below its node's right child, whose subtree holds every length in
 * e (a longer prefix of the address can only be one of those), or for a
 * single length, the childless copy of its node.
 */
static __u32 rope(const struct faith_pindex_half *half, const __u8 *node_of,
		  __u32 len, const struct extent *e)
{
	__u32 n = half->node[node_of[len]].right;

	if (e->min == e->max)
		return half->nlens + node_of[e->min];
	while (n < half->nlens) {
		const struct faith_pindex_node *nd = &half->node[n];

		if (e->max < nd->prefixlen)
			n = nd->left;
		else if (e->min > nd->prefixlen)
			n = nd->right;
		else
			break;
	}
	return n;
}

/* Every marker's rope; false without memory. */
static bool set_ropes(struct faith_pindex_bucket *table,
		      const struct faith_pindex_half *half,
		      const struct faith_prefix_key *keys, size_t n)
{
	struct extent *ext = calloc(FAITH_PINDEX_SLOTS, sizeof(*ext));
	__u8 node_of[FAITH_MAX_PREFIXLEN + 1] = {};

	if (!ext)
		return false;
	for (__u32 i = 0; i < half->nlens; i++)
		node_of[half->node[i].prefixlen] = (__u8)i;
	for (size_t i = 0; i < n; i++)
		extend_markers(table, half, &keys[i], ext);
	for (__u32 i = 0; i < FAITH_PINDEX_SLOTS; i++) {
		struct faith_pindex_slot *s = &table[0].slot[0] + i;
		__u32 next;

		if (!ext[i].min)
			continue;
		next = rope(half, node_of, s->prefixlen & 0xff, &ext[i]);
		s->prefixlen |= (next + 1) << FAITH_PINDEX_ROPE_SHIFT;
	}
	free(ext);
	return true;
}

int faith_pindex_build(struct faith_prefix_key *keys, size_t n, size_t max_slots,
		       struct faith_pindex_half *half, struct faith_pindex_bucket *table,
		       struct faith_pindex_start *start, struct faith_pindex_block *blocks)
{
	bool present[FAITH_MAX_PREFIXLEN + 1] = {};
	__u32 lens[FAITH_PINDEX_LENS], nlens = 0, next = 0, depth = 0;
	size_t used = 0;

	memset(half, 0, sizeof(*half));
	memset(table, 0, FAITH_PINDEX_BUCKETS * sizeof(*table));
	memset(start, 0, sizeof(*start));
	memset(blocks, 0, FAITH_PINDEX_BLOCKS * sizeof(*blocks));
	if (max_slots > FAITH_PINDEX_SLOTS)
		max_slots = FAITH_PINDEX_SLOTS;
	n = drop_nested(keys, n);
	for (size_t i = 0; i < n; i++)
		present[keys[i].prefixlen] = true;
	for (__u32 len = 1; len <= FAITH_MAX_PREFIXLEN; len++)
		if (present[len])
			lens[nlens++] = len;
	half->nlens = nlens;
	tree(half, lens, 0, (int)nlens, &next, 1, &depth);
	half->depth = depth;
	for (__u32 i = 0; i < nlens; i++) {
		half->node[nlens + i] = half->node[i];
		half->node[nlens + i].left = half->node[nlens + i].right = FAITH_PINDEX_NONE;
	}
	for (size_t i = 0; i < n; i++)
		if (!add_prefix(table, &used, max_slots, half, &keys[i]))
			goto full;
	if (!set_ropes(table, half, keys, n))
		goto full;
	flag_overflows(table);
	faith_pindex_set_start(half, keys, n, start, blocks);
	return (int)used;
full:
	memset(half, 0, sizeof(*half));
	memset(table, 0, FAITH_PINDEX_BUCKETS * sizeof(*table));
	half->nlens = FAITH_PINDEX_TRIE;
	return -1;
}

/* One probe, as the datapath makes it: 0 nothing, 1 a prefix, 2 + the
 * next node for a marker. */
static int probe(const struct faith_pindex_bucket *table, __u64 w0, __u64 w1)
{
	const __u64 flags = faith_pindex_w1(0, FAITH_PINDEX_FLAGS);
	__u32 h = faith_pindex_hash(w0, w1);
	__u32 b[2] = { faith_pindex_bucket1(h), faith_pindex_bucket2(h) };

	for (int k = 0; k < 2; k++) {
		const struct faith_pindex_bucket *bk = &table[b[k]];
		__u64 q[2 * FAITH_PINDEX_WAYS];

		memcpy(q, bk->slot, sizeof(q));
		for (int i = 0; i < FAITH_PINDEX_WAYS; i++)
			if (q[2 * i] == w0 && (q[2 * i + 1] & ~flags) == w1)
				return (int)((q[2 * i + 1] >> (32 + FAITH_PINDEX_ROPE_SHIFT)) & 0xff) + 1;
		if (!(q[1] & faith_pindex_w1(0, FAITH_PINDEX_OVERFLOW_LEN)))
			return 0;
	}
	return 0;
}

int faith_pindex_find(const struct faith_pindex_half *half,
		      const struct faith_pindex_bucket *table,
		      const struct faith_pindex_start *start,
		      const struct faith_pindex_block *blocks, const __u8 addr[16],
		      int *probes, int *steps)
{
	__u64 a[2];
	__u32 n = 0;

	memcpy(a, addr, sizeof(a));
	*probes = *steps = 0;
	if (half->nlens > FAITH_PINDEX_LENS)
		return -1;	/* the trie's */
	if (half->filtered) {
		n = faith_pindex_start_word(start, blocks, a[0], a[1], steps);
		if (!n--)
			return 0;
	}
	for (int i = 0; i < FAITH_PINDEX_DEPTH && n < 2 * half->nlens; i++) {
		const struct faith_pindex_node *nd = &half->node[n];
		int r = probe(table, a[0] & nd->mask0, (a[1] & nd->mask1) | nd->tag);

		(*probes)++;
		if (r == 1)
			return 1;
		n = r ? (__u32)r - 2 : nd->left;
	}
	return 0;
}

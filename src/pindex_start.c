// SPDX-License-Identifier: BSD-2-Clause
/*
 * Where a lookup in the prefix index starts (see src/maps.h): the /32
 * filter and, below a /32 whose prefixes have several lengths, block tables
 * that take the address a byte at a time until the prefixes left have one
 * length (one probe decides) or none (no probe at all).  Without them, such
 * a /32 costs a binary search on its lengths: up to 3 probes for the six
 * RFC 6052 lengths, 7 for all of /32../96.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "maps.h"
#include "pindex.h"

#define WORD_ROOT	1	/* 1 + node 0 */

struct start_build {
	__u16 leaf_word[FAITH_MAX_PREFIXLEN + 1];	/* 1 + leaf of a length */
	struct faith_pindex_block *blocks;
	__u32 used;					/* blocks handed out */
};

static bool one_length(const struct faith_prefix_key *keys, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (keys[i].prefixlen != keys[0].prefixlen)
			return false;
	return true;
}

/* The values of address byte depth / 8 that key covers: [*lo, *hi]. */
static void byte_span(const struct faith_prefix_key *key, __u32 depth,
		      __u32 *lo, __u32 *hi)
{
	__u32 free_bits = 0;

	if (key->prefixlen < depth + 8)
		free_bits = depth + 8 - key->prefixlen;
	*lo = key->addr[depth / 8] & (0xffu << free_bits) & 0xff;
	*hi = *lo | ((1u << free_bits) - 1);
}

/*
 * The start word of a block depth bits long holding keys[0..n) (sorted,
 * not nested, all longer than depth, n >= 1): a leaf when they have one
 * length, else a block table of the blocks 8 bits longer, else the root
 * (at /96, or when the tables are all in use).
 */
static __u16 start_word(struct start_build *sb, const struct faith_prefix_key *keys,
			size_t n, __u32 depth)
{
	struct faith_pindex_block *block;
	__u32 t;

	if (one_length(keys, n))
		return sb->leaf_word[keys[0].prefixlen];
	if (depth + 8 > FAITH_MAX_PREFIXLEN || sb->used >= FAITH_PINDEX_BLOCKS)
		return WORD_ROOT;
	t = sb->used++;
	block = &sb->blocks[t];
	/* A key shorter than the blocks covers several, alone (no nesting);
	 * longer keys in one block are neighbours in address order. */
	for (size_t i = 0, j; i < n; i = j) {
		__u32 lo, hi, next_lo, next_hi;
		__u16 word;

		byte_span(&keys[i], depth, &lo, &hi);
		for (j = i + 1; j < n; j++) {
			byte_span(&keys[j], depth, &next_lo, &next_hi);
			if (next_lo != lo)
				break;
		}
		word = start_word(sb, keys + i, j - i, depth + 8);
		for (__u32 v = lo; v <= hi; v++)
			block->next[v] = word;
	}
	return (__u16)(FAITH_PINDEX_BLOCK | t);
}

static __u32 top32_of(const struct faith_prefix_key *key)
{
	__u32 top32;

	memcpy(&top32, key->addr, sizeof(top32));
	return top32;
}

/* Keys from keys[i] on with keys[i]'s first 32 bits: their count. */
static size_t same_top32(const struct faith_prefix_key *keys, size_t n, size_t i)
{
	size_t j = i + 1;

	while (j < n && top32_of(&keys[j]) == top32_of(&keys[i]))
		j++;
	return j - i;
}

/*
 * Fill the filter and the block tables from keys[0..n) (sorted, not
 * nested) when none is shorter than /32; the block tables used.
 */
__u32 faith_pindex_set_start(struct faith_pindex_half *half,
			     const struct faith_prefix_key *keys, size_t n,
			     struct faith_pindex_start *start,
			     struct faith_pindex_block *blocks)
{
	struct start_build sb = { .blocks = blocks };
	__u8 *groups;	/* /32s with prefixes per filter slot, up to 2 */

	if (!n || keys[0].prefixlen < 32 || !half->nlens)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (keys[i].prefixlen < 32)
			return 0;
	groups = calloc(FAITH_PINDEX_FILTER_SLOTS, 1);
	if (!groups)
		return 0;	/* no filter: every search starts at the root */
	for (__u32 i = 0; i < half->nlens; i++)
		sb.leaf_word[half->node[i].prefixlen] = (__u16)(1 + half->nlens + i);
	for (size_t i = 0, len; i < n; i += len) {
		__u8 *g = &groups[faith_pindex_filter_bit(top32_of(&keys[i]))];

		len = same_top32(keys, n, i);
		*g += *g < 2;
	}
	for (size_t i = 0, len; i < n; i += len) {
		__u32 slot = faith_pindex_filter_bit(top32_of(&keys[i]));
		__u16 *at = &start->node[slot], want;

		len = same_top32(keys, n, i);
		if (groups[slot] == 1)
			want = start_word(&sb, keys + i, len, 32);
		else
			want = one_length(keys + i, len) ?
			       sb.leaf_word[keys[i].prefixlen] : WORD_ROOT;
		*at = !*at || *at == want ? want : WORD_ROOT;
	}
	free(groups);
	half->filtered = 1;
	half->blocks = sb.used;
	return sb.used;
}

/* The start word for the address w0:w1, as the datapath finds it. */
__u32 faith_pindex_start_word(const struct faith_pindex_start *start,
			      const struct faith_pindex_block *blocks,
			      __u64 w0, __u64 w1, int *steps)
{
	__u32 word = start->node[faith_pindex_filter_bit(faith_pindex_top32(w0))];

	*steps = 0;
	for (__u32 i = 4; i < 12 && (word & FAITH_PINDEX_BLOCK); i++) {
		__u32 t = word & ~FAITH_PINDEX_BLOCK;

		if (t >= FAITH_PINDEX_BLOCKS)
			return 0;
		word = blocks[t].next[faith_pindex_byte(w0, w1, i)];
		(*steps)++;
	}
	return word;
}

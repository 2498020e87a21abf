/* SPDX-License-Identifier: BSD-2-Clause */
/* The prefix index: derived from the `prefixes` trie after every change. */
#ifndef FAITH_PINDEX_H
#define FAITH_PINDEX_H

#include <stddef.h>
#include <linux/types.h>

#include "maps.h"

/* The maps of the index (src/maps.h), and the trie it is built from. */
struct faith_pindex_maps {
	int prefixes;		/* the `prefixes` LPM trie */
	int table;		/* `pindex`, .bss: both halves' buckets */
	int start;		/* `pindex_start`, .data.pstart: the /32 filters */
	int blocks;		/* `pindex_blocks`: block tables, a half each */
	int meta;		/* `pindex_meta`, .data: halves, active */
};

/*
 * Rebuild the idle half of the index from the `prefixes` trie and make the
 * datapath use it (flip `active`).  Returns 0 or a negative errno; on error
 * the active half is untouched.  A table that cannot be built (prefixes and
 * markers do not fit) is not an error: the datapath then uses the trie.
 */
int faith_pindex_rebuild(const struct faith_pindex_maps *m);
/* The same with the table limited to max_slots entries (for the tests). */
int faith_pindex_rebuild_max(const struct faith_pindex_maps *m, size_t max_slots);

/* Distinct prefix lengths the datapath indexes, or FAITH_PINDEX_TRIE. */
int faith_pindex_nlens(int meta_fd, __u32 *nlens);
/* The half the datapath uses. */
int faith_pindex_active(int meta_fd, struct faith_pindex_half *half);

/* Serialise prefix changes of concurrent faith-loaders: an fd, or -1. */
int faith_pindex_lock(const char *pin_dir);
void faith_pindex_unlock(int lock);

/* ---- src/pindex_build.c: the index in memory ----------------------------- */

/*
 * Fill half, table (FAITH_PINDEX_BUCKETS buckets), start and blocks
 * (FAITH_PINDEX_BLOCKS) from the n prefixes of keys (which it sorts, and
 * whose nested prefixes it drops).  Returns the slots used, prefixes and
 * markers, or -1 when they do not fit in max_slots or the cuckoo table:
 * half->nlens is then FAITH_PINDEX_TRIE.
 */
int faith_pindex_build(struct faith_prefix_key *keys, size_t n, size_t max_slots,
		       struct faith_pindex_half *half, struct faith_pindex_bucket *table,
		       struct faith_pindex_start *start, struct faith_pindex_block *blocks);

/* The datapath's lookup: is addr inside a prefix?  *probes: how many;
 * *steps: block tables read. */
int faith_pindex_find(const struct faith_pindex_half *half,
		      const struct faith_pindex_bucket *table,
		      const struct faith_pindex_start *start,
		      const struct faith_pindex_block *blocks, const __u8 addr[16],
		      int *probes, int *steps);

/* ---- src/pindex_start.c: where a lookup starts --------------------------- */

/* Fill start and blocks (zeroed) from the n sorted, not nested keys if
 * none is shorter than /32 (half->filtered); the block tables used. */
__u32 faith_pindex_set_start(struct faith_pindex_half *half,
			     const struct faith_prefix_key *keys, size_t n,
			     struct faith_pindex_start *start,
			     struct faith_pindex_block *blocks);
/* The start word of the address w0:w1; *steps: block tables read. */
__u32 faith_pindex_start_word(const struct faith_pindex_start *start,
			      const struct faith_pindex_block *blocks,
			      __u64 w0, __u64 w1, int *steps);

#endif /* FAITH_PINDEX_H */

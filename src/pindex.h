/* SPDX-License-Identifier: BSD-2-Clause */
/* The prefix index: derived from the `prefixes` trie after every change. */
#ifndef FAITH_PINDEX_H
#define FAITH_PINDEX_H

#include <stddef.h>
#include <linux/types.h>

#include "maps.h"

/*
 * Rebuild the idle half of the index (pindex_fd: the .bss map holding both
 * halves) from the `prefixes` trie and make the datapath use it (meta_fd:
 * the .data map).  Returns 0 or a negative errno; on error the active half
 * is untouched.  A table that cannot be built (prefixes and markers do not
 * fit) is not an error: the datapath then uses the trie.
 */
int faith_pindex_rebuild(int prefixes_fd, int pindex_fd, int meta_fd);
/* The same with the table limited to max_slots entries (for the tests). */
int faith_pindex_rebuild_max(int prefixes_fd, int pindex_fd, int meta_fd,
			     size_t max_slots);

/* Distinct prefix lengths the datapath indexes, or FAITH_PINDEX_TRIE. */
int faith_pindex_nlens(int meta_fd, __u32 *nlens);
/* The half the datapath uses. */
int faith_pindex_active(int meta_fd, struct faith_pindex_half *half);

/* Serialise prefix changes of concurrent faith-loaders: an fd, or -1. */
int faith_pindex_lock(const char *pin_dir);
void faith_pindex_unlock(int lock);

/* ---- src/pindex_build.c: the index in memory ----------------------------- */

/*
 * Fill half and table (FAITH_PINDEX_BUCKETS buckets) from the n prefixes of
 * keys (which it sorts, and whose nested prefixes it drops).  Returns the
 * slots used, prefixes and markers, or -1 when they do not fit in
 * max_slots or the cuckoo table: half->nlens is then FAITH_PINDEX_TRIE.
 */
int faith_pindex_build(struct faith_prefix_key *keys, size_t n, size_t max_slots,
		       struct faith_pindex_half *half, struct faith_pindex_bucket *table);

/* The datapath's lookup: is addr inside a prefix?  *probes: how many. */
int faith_pindex_find(const struct faith_pindex_half *half,
		      const struct faith_pindex_bucket *table, const __u8 addr[16],
		      int *probes);

#endif /* FAITH_PINDEX_H */

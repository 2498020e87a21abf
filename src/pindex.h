/* SPDX-License-Identifier: BSD-2-Clause */
/* The prefix index: derived from the `prefixes` trie after every change. */
#ifndef FAITH_PINDEX_H
#define FAITH_PINDEX_H

#include <linux/types.h>

/*
 * Rebuild the idle half of the index (pindex_fd: the .bss map holding both
 * halves) from the `prefixes` trie and make the datapath use it (meta_fd:
 * the .data map).  Returns 0 or a negative errno; on error the active half
 * is untouched.
 */
int faith_pindex_rebuild(int prefixes_fd, int pindex_fd, int meta_fd);

/* Distinct prefix lengths the datapath indexes, or FAITH_PINDEX_TRIE. */
int faith_pindex_nlens(int meta_fd, __u32 *nlens);

/* Serialise prefix changes of concurrent faith-loaders: an fd, or -1. */
int faith_pindex_lock(const char *pin_dir);
void faith_pindex_unlock(int lock);

#endif /* FAITH_PINDEX_H */

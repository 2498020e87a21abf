// SPDX-License-Identifier: BSD-2-Clause
/*
 * Rebuild the datapath's prefix index (see src/maps.h) from the LPM trie
 * (the building itself is src/pindex_build.c).  The whole idle half is
 * written in one batch, then `active` is flipped, so the datapath never
 * sees a half-built table.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "maps.h"
#include "pindex.h"

/* Every prefix in the trie; *n set to how many. */
static struct faith_prefix_key *read_prefixes(int fd, size_t *n)
{
	struct faith_prefix_key *keys, key, next;
	void *prev = NULL;

	keys = calloc(FAITH_MAX_PREFIXES, sizeof(*keys));
	if (!keys)
		return NULL;
	*n = 0;
	while (*n < FAITH_MAX_PREFIXES && !bpf_map_get_next_key(fd, prev, &next)) {
		keys[(*n)++] = next;
		key = next;
		prev = &key;
	}
	return keys;
}

/*
 * Both halves are one map element: write the idle half (len bytes at
 * data) in place through mmap, so the active half is never touched.
 * Without mmap (a map not created mmapable), rewrite the element with the
 * active half unchanged.
 */
static int write_half(int fd, __u32 idle, const void *data, size_t len)
{
	__u32 zero = 0;
	char *all;
	int err = 0;

	all = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (all != MAP_FAILED) {
		memcpy(all + idle * len, data, len);
		munmap(all, 2 * len);
		return 0;
	}
	all = malloc(2 * len);
	if (!all)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, all) == 0) {
		memcpy(all + idle * len, data, len);
		if (bpf_map_update_elem(fd, &zero, all, BPF_ANY))
			err = -errno;
	} else {
		err = -errno;
	}
	free(all);
	return err;
}

int faith_pindex_rebuild(const struct faith_pindex_maps *m)
{
	return faith_pindex_rebuild_max(m, FAITH_PINDEX_SLOTS);
}

int faith_pindex_rebuild_max(const struct faith_pindex_maps *m, size_t max_slots)
{
	struct faith_pindex_bucket *table = NULL;
	struct faith_pindex_start *start = NULL;
	struct faith_pindex_blocks *blocks = NULL;
	struct faith_pindex_meta meta;
	struct faith_prefix_key *keys;
	struct faith_pindex_half next = {};
	__u32 zero = 0, idle;
	size_t n = 0;
	int err;

	if (bpf_map_lookup_elem(m->meta, &zero, &meta))
		return -errno;
	idle = !(meta.active & 1);
	keys = read_prefixes(m->prefixes, &n);
	table = calloc(FAITH_PINDEX_BUCKETS, sizeof(*table));
	start = calloc(1, sizeof(*start));
	blocks = calloc(1, sizeof(*blocks));
	if (!keys || !table || !start || !blocks) {
		err = -ENOMEM;
		goto out;
	}
	/* On failure the datapath falls back to the trie (nlens
	 * FAITH_PINDEX_TRIE); the idle half is then empty. */
	faith_pindex_build(keys, n, max_slots, &next, table, start, blocks->block);
	err = write_half(m->table, idle, table, FAITH_PINDEX_BUCKETS * sizeof(*table));
	if (!err)
		err = write_half(m->start, idle, start, sizeof(*start));
	/* One element per half: the idle one is not read before the flip. */
	if (!err && bpf_map_update_elem(m->blocks, &idle, blocks, BPF_ANY))
		err = -errno;
	if (err)
		goto out;
	/* Two writes: the idle half's description, then the flip. */
	meta.half[idle] = next;
	if (bpf_map_update_elem(m->meta, &zero, &meta, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	meta.active = idle;
	if (bpf_map_update_elem(m->meta, &zero, &meta, BPF_ANY))
		err = -errno;
out:
	free(blocks);
	free(start);
	free(table);
	free(keys);
	return err;
}

int faith_pindex_nlens(int meta_fd, __u32 *nlens)
{
	struct faith_pindex_half half;
	int err = faith_pindex_active(meta_fd, &half);

	*nlens = half.nlens;
	return err;
}

int faith_pindex_active(int meta_fd, struct faith_pindex_half *half)
{
	struct faith_pindex_meta meta;
	__u32 zero = 0;

	memset(half, 0, sizeof(*half));
	if (bpf_map_lookup_elem(meta_fd, &zero, &meta))
		return -errno;
	*half = meta.half[meta.active & 1];
	return 0;
}

int faith_pindex_lock(const char *pin_dir)
{
	int fd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0 && flock(fd, LOCK_EX)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

void faith_pindex_unlock(int lock)
{
	if (lock >= 0)
		close(lock);	/* drops the flock */
}

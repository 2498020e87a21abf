// SPDX-License-Identifier: BSD-2-Clause
/*
 * Build the datapath's prefix index (see src/maps.h) from the LPM trie.
 * The whole idle half is written in one batch, then `active` is flipped, so
 * the datapath never sees a half-built table.
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

struct len_count {
	__u32 prefixlen;
	__u32 count;
};

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

/* Most common length first: a matching packet then usually hits at once. */
static int by_count(const void *a, const void *b)
{
	const struct len_count *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return (int)y->prefixlen - (int)x->prefixlen;
}

static void len_mask(__u32 prefixlen, __u32 mask[3])
{
	unsigned char bytes[12] = {};

	for (__u32 bit = 0; bit < prefixlen && bit < 96; bit++)
		bytes[bit / 8] |= (unsigned char)(0x80 >> (bit % 8));
	memcpy(mask, bytes, sizeof(bytes));
}

/* The distinct lengths into half; 0 if there are too many. */
static int collect_lengths(const struct faith_prefix_key *keys, size_t n,
			   struct faith_pindex_half *half)
{
	struct len_count lens[FAITH_MAX_PREFIXLEN + 1] = {};
	__u32 nlens = 0;

	for (size_t i = 0; i < n; i++) {
		lens[keys[i].prefixlen].prefixlen = keys[i].prefixlen;
		lens[keys[i].prefixlen].count++;
	}
	qsort(lens, FAITH_MAX_PREFIXLEN + 1, sizeof(lens[0]), by_count);
	for (; nlens <= FAITH_MAX_PREFIXLEN && lens[nlens].count; nlens++) {
		if (nlens == FAITH_PINDEX_LENS)
			return 0;
		half->len[nlens].prefixlen = lens[nlens].prefixlen;
		len_mask(lens[nlens].prefixlen, half->len[nlens].mask);
	}
	half->nlens = nlens;
	return 1;
}

/* Cuckoo insertion gives up after this many evictions: fall back to trie. */
#define MAX_KICKS 1000

static __u32 slot_hash(const struct faith_pindex_slot *s)
{
	return faith_pindex_hash(faith_pindex_w0(s->addr[0], s->addr[1]),
				 faith_pindex_w1(s->addr[2],
						 s->prefixlen & ~FAITH_PINDEX_OVERFLOW_LEN));
}

/* Raise the overflow flag of every first bucket whose prefix lives in its
 * second: the datapath skips second buckets otherwise. */
static void flag_overflows(struct faith_pindex_bucket *table)
{
	for (__u32 b = 0; b < FAITH_PINDEX_BUCKETS; b++) {
		for (int i = 0; i < FAITH_PINDEX_WAYS; i++) {
			const struct faith_pindex_slot *s = &table[b].slot[i];
			__u32 first;

			if (!(s->prefixlen & ~FAITH_PINDEX_OVERFLOW_LEN))
				continue;
			first = faith_pindex_bucket1(slot_hash(s));
			if (first != b)
				table[first].slot[0].prefixlen |= FAITH_PINDEX_OVERFLOW_LEN;
		}
	}
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

static bool fill_table(const struct faith_prefix_key *keys, size_t n,
		       struct faith_pindex_bucket *table)
{
	for (size_t i = 0; i < n; i++) {
		struct faith_pindex_slot s = { .prefixlen = keys[i].prefixlen };

		memcpy(s.addr, keys[i].addr, sizeof(s.addr));
		if (!insert(table, s))
			return false;
	}
	flag_overflows(table);
	return true;
}

/*
 * Both halves are one map element: write the idle half in place through
 * mmap, so the active half is never touched.  Without mmap (a map not
 * created mmapable), rewrite the element with the active half unchanged.
 */
static int write_half(int fd, __u32 idle, const struct faith_pindex_bucket *table)
{
	const size_t half = FAITH_PINDEX_BUCKETS * sizeof(*table);
	struct faith_pindex_bucket *all;
	__u32 zero = 0;
	int err = 0;

	all = mmap(NULL, 2 * half, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (all != MAP_FAILED) {
		memcpy(all + idle * FAITH_PINDEX_BUCKETS, table, half);
		munmap(all, 2 * half);
		return 0;
	}
	all = malloc(2 * half);
	if (!all)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, all) == 0) {
		memcpy(all + idle * FAITH_PINDEX_BUCKETS, table, half);
		if (bpf_map_update_elem(fd, &zero, all, BPF_ANY))
			err = -errno;
	} else {
		err = -errno;
	}
	free(all);
	return err;
}

int faith_pindex_rebuild(int prefixes_fd, int pindex_fd, int meta_fd)
{
	struct faith_pindex_bucket *table = NULL;
	struct faith_pindex_meta meta;
	struct faith_prefix_key *keys;
	struct faith_pindex_half next = {};
	__u32 zero = 0, idle;
	size_t n = 0;
	int err;

	if (bpf_map_lookup_elem(meta_fd, &zero, &meta))
		return -errno;
	idle = !(meta.active & 1);
	keys = read_prefixes(prefixes_fd, &n);
	table = calloc(FAITH_PINDEX_BUCKETS, sizeof(*table));
	if (!keys || !table) {
		err = -ENOMEM;
		goto out;
	}
	if (!collect_lengths(keys, n, &next) || !fill_table(keys, n, table)) {
		/* The datapath falls back to the trie; the idle half stays empty. */
		memset(&next, 0, sizeof(next));
		memset(table, 0, FAITH_PINDEX_BUCKETS * sizeof(*table));
		next.nlens = FAITH_PINDEX_TRIE;
	}
	err = write_half(pindex_fd, idle, table);
	if (err)
		goto out;
	/* Two writes: the idle half's description, then the flip. */
	meta.half[idle] = next;
	if (bpf_map_update_elem(meta_fd, &zero, &meta, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	meta.active = idle;
	if (bpf_map_update_elem(meta_fd, &zero, &meta, BPF_ANY))
		err = -errno;
out:
	free(table);
	free(keys);
	return err;
}

int faith_pindex_nlens(int meta_fd, __u32 *nlens)
{
	struct faith_pindex_meta meta;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(meta_fd, &zero, &meta))
		return -errno;
	*nlens = meta.half[meta.active & 1].nlens;
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

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * faithd_xlate.bpf.c, continued: faithd's connection limits, where the
 * program opens connections itself (--translate-after syn).  -m: one count
 * in the program's .bss, which faithd's workers share (mapped before they
 * fork).  -M: a count per client address in `xl_sources`, changed only by
 * BPF code, so that every change is atomic: by the TC program for its
 * connections, and by the syscall program `faithd_limit` for faithd's
 * workers and its sweep, which run it (BPF_PROG_TEST_RUN through the fd
 * they inherit; no capability needed since Linux 6.5).
 */
#ifndef FAITHD_XLATE_LIMITS_H
#define FAITHD_XLATE_LIMITS_H

__u32 syn_max_conns;		/* -m (0: none) */
__u32 conns_total;		/* the program's connections and the workers' */
__u32 syn_max_per_source;	/* -M (0: none) */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FAITHD_XL_MAX_SOURCES);
	__type(key, struct in6_addr);
	__type(value, struct faithd_xl_source);
} xl_sources SEC(".maps");

/* Signed: a count never reads as huge. */
static __always_inline int conn_acquire(void)
{
	if (!syn_max_conns)
		return 0;
	if ((__s32)__sync_fetch_and_add(&conns_total, 1) < (__s32)syn_max_conns)
		return 0;
	__sync_fetch_and_add(&conns_total, -1);
	return -1;
}

static __always_inline void conn_release(void)
{
	if (syn_max_conns)
		__sync_fetch_and_add(&conns_total, -1);
}

/*
 * A source's entry is one 64-bit word: a tag of its address (high half)
 * and its count (low half), changed only by compare-and-swap.  The tag:
 * the kernel may give an entry just deleted to another address at once,
 * and a CPU still holding it must not count there.  The last release
 * marks the count DEAD before it deletes the entry: no one counts in it
 * after that (they look again, and make a new one once it is gone).
 */
#define SOURCE_DEAD	0xffffffffu
#define SOURCE_TRIES	8

static __always_inline __u64 source_tag(const __u32 *a)
{
	return (__u64)((a[0] ^ a[1] * 0x9e3779b1u ^ a[2] * 0x85ebca6bu ^ a[3] * 0xc2b2ae35u) | 1)
	       << 32;
}

/* One more connection from src: FAITHD_XL_LIMIT_OK, _SOURCE (at -M) or
 * _FULL (no room, or lost every race). */
static __always_inline int source_acquire(const void *src)
{
	__u64 tag = source_tag(src);
	struct faithd_xl_source one = { tag | 1 }, *v;

	if (!syn_max_per_source)
		return FAITHD_XL_LIMIT_OK;
	for (int i = 0; i < SOURCE_TRIES; i++) {
		__u64 w;

		v = bpf_map_lookup_elem(&xl_sources, src);
		if (!v) {
			if (!bpf_map_update_elem(&xl_sources, src, &one, BPF_NOEXIST))
				return FAITHD_XL_LIMIT_OK;
			continue;	/* another CPU made it, or no room */
		}
		w = v->word;
		if ((w & ~0xffffffffull) != tag || (__u32)w == SOURCE_DEAD)
			continue;	/* reused, or going: look again */
		if ((__u32)w >= syn_max_per_source)
			return FAITHD_XL_LIMIT_SOURCE;
		if (__sync_val_compare_and_swap(&v->word, w, w + 1) == w)
			return FAITHD_XL_LIMIT_OK;
	}
	return FAITHD_XL_LIMIT_FULL;
}

/* One connection fewer from src; its entry goes with its last. */
static __always_inline void source_release(const void *src)
{
	__u64 tag = source_tag(src);
	struct faithd_xl_source *v;

	if (!syn_max_per_source)
		return;
	for (int i = 0; i < SOURCE_TRIES; i++) {
		__u64 w;

		v = bpf_map_lookup_elem(&xl_sources, src);
		if (!v)
			return;
		w = v->word;
		if ((w & ~0xffffffffull) != tag || (__u32)w == SOURCE_DEAD || !(__u32)w)
			continue;
		if ((__u32)w == 1) {
			if (__sync_val_compare_and_swap(&v->word, w, tag | SOURCE_DEAD) == w) {
				bpf_map_delete_elem(&xl_sources, src);
				return;
			}
		} else if (__sync_val_compare_and_swap(&v->word, w, w - 1) == w) {
			return;
		}
	}
}

/* Both limits, for a connection of the program's from src: 0, or the
 * SYN goes to faithd's sockets (which refuse it, and log it). */
static __always_inline int syn_limits_acquire(const void *src)
{
	if (conn_acquire())
		return -1;
	if (source_acquire(src) == FAITHD_XL_LIMIT_OK)
		return 0;
	conn_release();
	return -1;
}

static __always_inline void syn_limits_release(const void *src)
{
	conn_release();
	source_release(src);
}

/* faithd's workers and sweep: -M for the connections of faithd's sockets
 * and for those faithd forgets.  The result in the return value. */
SEC("syscall")
int faithd_limit(struct faithd_xl_limit_args *a)
{
	struct in6_addr src;

	__builtin_memcpy(&src, a->addr, sizeof(src));
	if (a->op == FAITHD_XL_LIMIT_RELEASE) {
		source_release(&src);
		return FAITHD_XL_LIMIT_OK;
	}
	return source_acquire(&src);
}

#endif /* FAITHD_XLATE_LIMITS_H */

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
 * One more connection from src: FAITHD_XL_LIMIT_OK, _SOURCE (at -M) or
 * _FULL (no room, or lost races).  A count that reached 0 may be being
 * deleted: one who finds 0 there backs off and looks again.
 */
static __always_inline int source_acquire(const void *src)
{
	struct faithd_xl_source one = { 1 }, *v;

	if (!syn_max_per_source)
		return FAITHD_XL_LIMIT_OK;
	for (int i = 0; i < 4; i++) {
		__s32 old;

		v = bpf_map_lookup_elem(&xl_sources, src);
		if (!v) {
			if (!bpf_map_update_elem(&xl_sources, src, &one, BPF_NOEXIST))
				return FAITHD_XL_LIMIT_OK;
			continue;	/* another CPU made it, or no room */
		}
		old = __sync_fetch_and_add(&v->count, 1);
		if (old > 0 && old < (__s32)syn_max_per_source)
			return FAITHD_XL_LIMIT_OK;
		__sync_fetch_and_add(&v->count, -1);
		if (old > 0)
			return FAITHD_XL_LIMIT_SOURCE;
	}
	return FAITHD_XL_LIMIT_FULL;
}

/* One connection fewer from src; its entry goes with its last. */
static __always_inline void source_release(const void *src)
{
	struct faithd_xl_source *v;

	if (!syn_max_per_source)
		return;
	v = bpf_map_lookup_elem(&xl_sources, src);
	if (v && __sync_fetch_and_add(&v->count, -1) == 1)
		bpf_map_delete_elem(&xl_sources, src);
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

// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of `faithd_forget`, the syscall program through which
 * faithd's sweep forgets the connections the translating program opened
 * from a SYN (bpf/faithd_xlate_syn_state.h), with BPF_PROG_TEST_RUN and
 * the test's own entries in `flows`:
 *
 *   - a connection goes, both entries, only if it is still the one the
 *     sweep's snapshot saw (opened at the same time) and the program is
 *     not ending it (ENDED since the snapshot); it is counted out of -m
 *     and -M once;
 *   - a server's entry left alone goes only if it is still as seen, and
 *     still alone.
 *
 *   make build/test_xlate_forget && build/test_xlate_forget
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "xlate_prog.h"

#define SYN_NS	123456789ull	/* when the test's connection was opened */

static int forget(const struct faithd_xl_forget_args *a)
{
	struct faithd_xl_forget_args in = *a;
	LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = &in, .ctx_size_in = sizeof(in));

	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.faithd_forget), &run))
		return -1;
	return (int)run.retval;
}

static bool present(const struct faithd_xl_key *k)
{
	struct faithd_xl_flow f;

	return !bpf_map__lookup_elem(skel->maps.flows, k, sizeof(*k), &f, sizeof(f), 0);
}

/* One more connection from the client under -M (the workers' way in). */
static void source_acquire(void)
{
	struct faithd_xl_limit_args a = { .op = FAITHD_XL_LIMIT_ACQUIRE };
	LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = &a, .ctx_size_in = sizeof(a));

	memcpy(a.addr, key_c.saddr, sizeof(a.addr));
	bpf_prog_test_run_opts(bpf_program__fd(skel->progs.faithd_limit), &run);
}

static bool source_counted(void)
{
	struct faithd_xl_source v;

	return !bpf_map__lookup_elem(skel->maps.xl_sources, key_c.saddr, 16, &v, sizeof(v), 0);
}

/* The test's connection as the program opens one from a SYN, counted
 * under -m 10 and -M 10; flags_c: more flags on the client's entry. */
static void open_conn(__u32 flags_c)
{
	struct faithd_xl_flow c = flow_c, s = flow_s;

	c.flags = FAITHD_XL_FROM_SYN | flags_c;
	s.flags = FAITHD_XL_FROM_SYN;
	c.tsval_ns = s.tsval_ns = SYN_NS;
	put_flow(&key_c, &c);
	put_flow(&key_s, &s);
	skel->bss->syn_max_conns = skel->bss->syn_max_per_source = 10;
	skel->bss->conns_total = 1;
	if (!source_counted())
		source_acquire();
}

static void test_conn(void)
{
	struct faithd_xl_forget_args a = { .key = key_c, .tsval_ns = SYN_NS };
	int r;

	open_conn(0);
	r = forget(&a);
	tl_check(r == 1 && !present(&key_c) && !present(&key_s),
		 "a connection as the snapshot saw it: both entries forgotten (%d)", r);
	tl_check(skel->bss->conns_total == 0 && !source_counted(),
		 "... and counted out of -m (%u left) and -M", skel->bss->conns_total);
	r = forget(&a);
	tl_check(r == 0 && skel->bss->conns_total == 0,
		 "forgotten again: nothing there, nothing counted out (%d)", r);

	open_conn(0);
	a.tsval_ns = SYN_NS + 1;
	r = forget(&a);
	tl_check(r == 0 && present(&key_c) && present(&key_s) && skel->bss->conns_total == 1,
		 "another connection on the same ports since the snapshot: kept (%d)", r);
	a.tsval_ns = SYN_NS;

	open_conn(FAITHD_XL_ENDED);
	r = forget(&a);
	tl_check(r == 0 && present(&key_c) && present(&key_s) && skel->bss->conns_total == 1,
		 "ENDED since the snapshot (the program is ending it): left to the program (%d)",
		 r);

	a.ended = 1;
	r = forget(&a);
	tl_check(r == 1 && !present(&key_c) && !present(&key_s) && skel->bss->conns_total == 0,
		 "ENDED in the snapshot too (a stale mark no one acts on): forgotten (%d)", r);
	a.ended = 0;

	open_conn(0);
	a.key = key_s;
	r = forget(&a);
	tl_check(r == 0 && present(&key_c) && present(&key_s),
		 "asked with the server's key: nothing forgotten (%d)", r);
	a.key = key_c;

	reset_flows();	/* a handed-off connection: faithd's worker owns it */
	r = forget(&a);
	tl_check(r == 0 && present(&key_c) && present(&key_s),
		 "a connection faithd's worker handed off: not the sweep's (%d)", r);
}

static void test_orphan(void)
{
	struct faithd_xl_forget_args a = {
		.key = key_s, .peer = key_c, .last_ns = 777, .op = FAITHD_XL_FORGET_ORPHAN,
	};
	struct faithd_xl_flow s = flow_s;
	int r;

	s.flags = FAITHD_XL_FROM_SYN;
	s.last_ns = 778;
	put_flow(&key_s, &s);
	r = forget(&a);
	tl_check(r == 0 && present(&key_s), "a server's entry that moved since: kept (%d)", r);
	s.last_ns = 777;
	s.peer.sport ^= 1;
	put_flow(&key_s, &s);
	r = forget(&a);
	tl_check(r == 0 && present(&key_s),
		 "a server's entry of another client by now: kept (%d)", r);
	s.peer = key_c;
	put_flow(&key_s, &s);
	put_flow(&key_c, &flow_c);
	r = forget(&a);
	tl_check(r == 0 && present(&key_s),
		 "a server's entry as seen, but its client's is back: kept (%d)", r);
	bpf_map__delete_elem(skel->maps.flows, &key_c, sizeof(key_c), 0);
	s.flags = 0;
	put_flow(&key_s, &s);
	r = forget(&a);
	tl_check(r == 0 && present(&key_s),
		 "a server's entry as seen, not opened from a SYN: kept (%d)", r);
	s.flags = FAITHD_XL_FROM_SYN;
	put_flow(&key_s, &s);
	r = forget(&a);
	tl_check(r == 1 && !present(&key_s), "a server's entry as seen: forgotten (%d)", r);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		tl_skip("test_xlate_forget: needs root (BPF_PROG_TEST_RUN)");
		return tl_report();
	}
	if (!tl_check(xlate_prog_load(), "faithd_xlate loads"))
		return tl_report();
	test_conn();
	test_orphan();
	xlate_prog_unload();
	return tl_report();
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * The programs the benchmark runs: faith's, loaded unpinned with the
 * keepfaith gate open; the empty TC program (bench/empty.bpf.c); for XDP an
 * empty program and the metadata-reset wrapper in front of both.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"
#include "empty.skel.h"

/* An empty XDP program, for the XDP baseline: r0 = XDP_PASS; exit. */
static int load_empty_xdp(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	/* Same attach type as libbpf gives SEC("xdp"): tail calls need it. */
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		.expected_attach_type = BPF_XDP,
	);
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "empty_xdp", "Dual BSD/GPL",
			       insns, sizeof(insns) / sizeof(insns[0]), &opts);

	return fd < 0 ? -errno : fd;
}

/*
 * The XDP cases' front program.  BPF_PROG_TEST_RUN (without live frames)
 * runs an XDP program `repeat` times on one xdp_buff and restores nothing in
 * between, so the 8 bytes faith_xdp reserves with bpf_xdp_adjust_meta() pile
 * up until the helper refuses and faith_xdp returns early.  This wrapper
 * gives the metadata back, bpf_xdp_adjust_meta(ctx, data - data_meta), and
 * tail-calls progs[index]: every run starts as on a real receive.  The XDP
 * baseline goes through the same wrapper into the empty XDP program, so the
 * deltas leave the wrapper out.
 *
 *	r6 = r1
 *	r2 = ctx->data
 *	r3 = ctx->data_meta
 *	r2 -= r3			(pointer difference: needs CAP_PERFMON)
 *	call bpf_xdp_adjust_meta	(r1 = ctx, r2 = metadata length)
 *	r1 = r6
 *	r2 = &progs
 *	r3 = index
 *	call bpf_tail_call
 *	r0 = XDP_ABORTED		(the tail call failed)
 *	exit
 */
static int load_xdp_wrapper(int progs_fd, uint32_t index)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_6,
		  .src_reg = BPF_REG_1 },
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_REG_1, .off = offsetof(struct xdp_md, data) },
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_3,
		  .src_reg = BPF_REG_1,
		  .off = offsetof(struct xdp_md, data_meta) },
		{ .code = BPF_ALU64 | BPF_SUB | BPF_X, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_REG_3 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_xdp_adjust_meta },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_REG_6 },
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = progs_fd },
		{ .imm = 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3,
		  .imm = (int32_t)index },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_tail_call },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_ABORTED },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		.expected_attach_type = BPF_XDP,
	);
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "bench_xdp_wrap",
			       "Dual BSD/GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), &opts);

	return fd < 0 ? -errno : fd;
}

/* libbpf's info and debug lines would drown the progress on stderr. */
static int quiet_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Load the faith object with every map's pin path cleared. */
static struct faith_bpf *load_unpinned(void)
{
	struct faith_bpf *skel = faith_bpf__open();
	struct bpf_map *map;
	int err;

	if (!skel) {
		fprintf(stderr, "bench_datapath: opening the faith BPF object: %s\n",
			strerror(errno));
		return NULL;
	}
	/* Nothing pinned, nothing reused: /sys/fs/bpf is left alone. */
	bpf_object__for_each_map(map, skel->obj)
		if ((err = bpf_map__set_pin_path(map, NULL))) {
			fprintf(stderr, "bench_datapath: unpinning map %s: %s\n",
				bpf_map__name(map), strerror(-err));
			goto fail;
		}
	if ((err = faith_bpf__load(skel))) {
		fprintf(stderr, "bench_datapath: loading the faith BPF object: %s%s\n",
			strerror(-err), err == -EPERM ? " (run as root)" : "");
		goto fail;
	}
	bpf_object__for_each_map(map, skel->obj)
		if (bpf_map__is_pinned(map)) {
			fprintf(stderr, "bench_datapath: map %s got pinned\n",
				bpf_map__name(map));
			goto fail;
		}
	return skel;
fail:
	faith_bpf__destroy(skel);
	return NULL;
}

/* The XDP programs: the wrapper into faith_xdp and into an empty one. */
static int load_xdp(struct bench *b)
{
	uint32_t key;
	int err;

	b->empty_xdp_fd = load_empty_xdp();
	if (b->empty_xdp_fd < 0) {
		err = b->empty_xdp_fd;
		fprintf(stderr, "bench_datapath: loading the empty XDP program: %s\n",
			strerror(-err));
		return err;
	}
	b->xdp_progs_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY,
					 "bench_xdp_progs", sizeof(uint32_t),
					 sizeof(uint32_t), 2, NULL);
	if (b->xdp_progs_fd < 0) {
		err = -errno;
		fprintf(stderr, "bench_datapath: creating the XDP prog array: %s\n",
			strerror(-err));
		return err;
	}
	b->empty_xdp_wrap_fd = load_xdp_wrapper(b->xdp_progs_fd, 0);
	b->xdp_wrap_fd = load_xdp_wrapper(b->xdp_progs_fd, 1);
	if (b->empty_xdp_wrap_fd < 0 || b->xdp_wrap_fd < 0) {
		err = b->xdp_wrap_fd < 0 ? b->xdp_wrap_fd : b->empty_xdp_wrap_fd;
		fprintf(stderr, "bench_datapath: loading the XDP wrapper: %s%s\n",
			strerror(-err), err == -EACCES ? " (needs CAP_PERFMON)" : "");
		return err;
	}
	key = 0;
	if (bpf_map_update_elem(b->xdp_progs_fd, &key, &b->empty_xdp_fd,
				BPF_ANY))
		goto fail;
	key = 1;
	if (bpf_map_update_elem(b->xdp_progs_fd, &key, &b->xdp_fd, BPF_ANY))
		goto fail;
	return 0;
fail:
	err = -errno;
	fprintf(stderr, "bench_datapath: filling the XDP prog array: %s\n",
		strerror(-err));
	return err;
}

/* keepfaith=1 and the default mark: matching TCP is captured and marked. */
static int open_gate(struct bench *b)
{
	struct faith_control ctl = {
		.keepfaith = 1, .mark = b->mark,
		.table = FAITH_DEFAULT_TABLE, .rule_prio = FAITH_DEFAULT_RULE_PRIO,
	};
	uint32_t zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(b->skel->maps.control), &zero,
				&ctl, BPF_ANY)) {
		fprintf(stderr, "bench_datapath: setting keepfaith: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Everything the cases run, and the maps set_count() fills; 0 or -1. */
int load_progs(struct bench *b)
{
	libbpf_set_print(quiet_libbpf);
	b->skel = load_unpinned();
	if (!b->skel)
		return -1;
	b->prefixes_fd = bpf_map__fd(b->skel->maps.prefixes);
	b->meta_fd = bpf_map__fd(b->skel->maps.data);
	b->index = (struct faith_pindex_maps){
		.prefixes = b->prefixes_fd,
		.table = bpf_map__fd(b->skel->maps.bss),
		.start = bpf_map__fd(b->skel->maps.data_pstart),
		.blocks = bpf_map__fd(b->skel->maps.pindex_blocks),
		.meta = b->meta_fd,
	};
	b->tc_fd = bpf_program__fd(b->skel->progs.faith_tc);
	b->xdp_fd = bpf_program__fd(b->skel->progs.faith_xdp);
	b->empty = empty_bpf__open_and_load();
	if (!b->empty) {
		fprintf(stderr, "bench_datapath: loading bench/empty.bpf.o: %s\n",
			strerror(errno));
		return -1;
	}
	b->empty_tc_fd = bpf_program__fd(b->empty->progs.empty_tc);
	if (b->o.xdp && load_xdp(b))
		return -1;
	return open_gate(b);
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Whatever load_progs() got to load, also after it failed. */
void unload_progs(struct bench *b)
{
	close_fd(b->xdp_wrap_fd);
	close_fd(b->empty_xdp_wrap_fd);
	close_fd(b->xdp_progs_fd);
	close_fd(b->empty_xdp_fd);
	empty_bpf__destroy(b->empty);
	faith_bpf__destroy(b->skel);
}

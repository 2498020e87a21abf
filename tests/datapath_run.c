// SPDX-License-Identifier: BSD-2-Clause
/*
 * The loaded faith object under test: its control and stats maps, and one
 * BPF_PROG_TEST_RUN of faith_tc or faith_xdp on a packet, with what it did
 * to the packet, the mark or metadata, and the counters.
 */
#include <linux/pkt_cls.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath.h"

struct faith_bpf *skel;
int ncpus;
const char *lookup_label = "index";
const char *const mode_name[] = { "tc", "xdp" };

int set_control(uint32_t keepfaith, uint32_t mark)
{
	struct faith_control ctl = { .keepfaith = keepfaith, .mark = mark };
	uint32_t zero = 0;

	return bpf_map__update_elem(skel->maps.control, &zero, sizeof(zero),
				    &ctl, sizeof(ctl), BPF_ANY);
}

void stats_reset(void)
{
	struct faith_stats zeros[ncpus];
	uint32_t zero = 0;

	memset(zeros, 0, sizeof(zeros));
	if (bpf_map__update_elem(skel->maps.stats, &zero, sizeof(zero),
				 zeros, sizeof(zeros), BPF_ANY))
		abort();
}

/* The per-CPU counters, summed. */
struct faith_stats stats_sum(void)
{
	struct faith_stats per_cpu[ncpus], sum = { 0 };
	uint32_t zero = 0;
	int i;

	memset(per_cpu, 0, sizeof(per_cpu));	/* quiets valgrind */
	if (bpf_map__lookup_elem(skel->maps.stats, &zero, sizeof(zero),
				 per_cpu, sizeof(per_cpu), 0))
		abort();
	for (i = 0; i < ncpus; i++) {
		sum.packets += per_cpu[i].packets;
		sum.tcp_captured += per_cpu[i].tcp_captured;
		sum.icmp_captured += per_cpu[i].icmp_captured;
		sum.gated_off += per_cpu[i].gated_off;
		sum.assigned += per_cpu[i].assigned;
		sum.no_relay += per_cpu[i].no_relay;
		sum.malformed += per_cpu[i].malformed;
	}
	return sum;
}

bool stats_eq(const struct faith_stats *a, const struct faith_stats *b)
{
	return !memcmp(a, b, sizeof(*a));
}

void stats_print(const char *what, const struct faith_stats *s)
{
	dp_diag("%s stats: packets %llu tcp %llu icmp %llu gated_off %llu "
		"assigned %llu no_relay %llu malformed %llu", what,
		s->packets, s->tcp_captured, s->icmp_captured, s->gated_off,
		s->assigned, s->no_relay, s->malformed);
}

/* What the counters must say after one packet classified as v. */
struct faith_stats want_stats(enum faith_verdict v, bool gated)
{
	struct faith_stats s = { .packets = 1 };

	if (v == FAITH_MALFORMED)
		s.malformed = 1;
	else if (v != FAITH_PASS && gated)
		s.gated_off = 1;
	else if (v == FAITH_TCP)
		s.tcp_captured = 1;
	else if (v == FAITH_ICMP)
		s.icmp_captured = 1;
	return s;
}

struct outcome run_tc_prog(struct bpf_program *prog, const struct pkt *p)
{
	struct __sk_buff ctx = { 0 };
	struct outcome o = { 0 };
	uint8_t out[PKT_MAX] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = p->b, .data_size_in = p->len,
		.data_out = out, .data_size_out = sizeof(out),
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		.ctx_out = &ctx, .ctx_size_out = sizeof(ctx),
		.repeat = 1);

	stats_reset();
	o.err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	o.st = stats_sum();
	if (o.err)
		return o;
	o.pass = (int)opts.retval == TC_ACT_OK ||
		 (int)opts.retval == TC_ACT_UNSPEC;
	o.mark = ctx.mark;
	o.captured = ctx.mark != 0;
	o.intact = opts.data_size_out == p->len &&
		   !memcmp(out, p->b, p->len);
	return o;
}

static struct outcome run_xdp(const struct pkt *p)
{
	uint8_t out[PKT_MAX + 64] = { 0 };
	struct outcome o = { 0 };
	size_t meta = sizeof(o.meta);
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = p->b, .data_size_in = p->len,
		.data_out = out, .data_size_out = sizeof(out),
		.repeat = 1);

	stats_reset();
	o.err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.faith_xdp),
				       &opts);
	o.st = stats_sum();
	if (o.err)
		return o;
	o.pass = opts.retval == XDP_PASS;
	/* Since 5.18 data_out starts at data_meta: metadata comes first. */
	o.captured = opts.data_size_out == p->len + meta;
	if (o.captured) {
		memcpy(&o.meta, out, meta);
		o.intact = !memcmp(out + meta, p->b, p->len) &&
			   o.meta.magic == FAITH_META_MAGIC &&
			   (o.meta.verdict == FAITH_TCP ||
			    o.meta.verdict == FAITH_ICMP);
	} else {
		o.intact = opts.data_size_out == p->len &&
			   !memcmp(out, p->b, p->len);
	}
	return o;
}

struct outcome run_mode(enum mode mode, const struct pkt *p)
{
	return mode == TC ? run_tc_prog(skel->progs.faith_tc, p) : run_xdp(p);
}

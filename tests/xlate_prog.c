// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_xlate's and test_xlate_guard's program under test: see xlate_prog.h.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "testlib.h"
#include "xlate_prog.h"

struct faithd_xlate_bpf *skel;
struct faithd_xl_key key_c, key_s;
struct faithd_xl_flow flow_c, flow_s;
struct pkt frame;

void put_flow(const struct faithd_xl_key *k, const struct faithd_xl_flow *f)
{
	if (bpf_map__update_elem(skel->maps.flows, k, sizeof(*k), f, sizeof(*f), BPF_ANY))
		abort();
}

struct faithd_xl_flow get_flow(const struct faithd_xl_key *k)
{
	struct faithd_xl_flow f;

	if (bpf_map__lookup_elem(skel->maps.flows, k, sizeof(*k), &f, sizeof(f), 0))
		abort();
	return f;
}

void reset_flows(void)
{
	put_flow(&key_c, &flow_c);
	put_flow(&key_s, &flow_s);
}

static void mapped4(__u32 a[4], uint32_t v4)
{
	a[0] = a[1] = 0;
	a[2] = htonl(0xffff);
	a[3] = htonl(v4);
}

/*
 * The entries are consistent as translation() makes them: each entry's
 * ack_delta is the other's -seq_delta, its tsecr_delta the other's
 * -tsval_delta; each has acknowledged all the other sent (ack_last is the
 * other's seq_end) and announced a window of 64 KiB beyond it (wnd_end).
 * The client's data ends just before its sequence numbers wrap.
 */
static void init_flows(void)
{
	pkt_addr6(CLIENT6, (uint8_t *)key_c.saddr);
	pkt_addr6(FAITH6, (uint8_t *)key_c.daddr);
	key_c.sport = htons(CPORT);
	key_c.dport = htons(SPORT);
	mapped4(key_s.saddr, SERVER4);
	mapped4(key_s.daddr, ROUTER4);
	key_s.sport = htons(SPORT);
	key_s.dport = htons(UPORT);

	flow_c = (struct faithd_xl_flow){
		.peer = key_s, .owner = 1, .state = FAITHD_XL_ACTIVE, .out_v4 = 1,
		.sport = htons(UPORT), .dport = htons(SPORT), .out_ifindex = IFINDEX_IN,
		.seq_delta = 0x30000005, .ack_delta = 0xf0000000, .tsval_delta = 2000,
		.tsecr_delta = -1000u, .seq_end = 0xffffffc0, .nxt = 0xffffffc0, .ack_last = 0x2000,
		.wnd_end = 0x12000,
	};
	mapped4(flow_c.saddr, ROUTER4);
	mapped4(flow_c.daddr, SERVER4);
	flow_s = (struct faithd_xl_flow){
		.peer = key_c, .owner = 1, .state = FAITHD_XL_ACTIVE, .out_v4 = 0,
		.sport = htons(SPORT), .dport = htons(CPORT), .out_ifindex = IFINDEX_IN,
		.seq_delta = 0x10000000, .ack_delta = 0xcffffffb, .tsval_delta = 1000,
		.tsecr_delta = -2000u, .seq_end = 0x2000, .nxt = 0x2000, .ack_last = 0xffffffc0,
		.wnd_end = 0xffc0,
	};
	memcpy(flow_s.saddr, key_c.daddr, 16);
	memcpy(flow_s.daddr, key_c.saddr, 16);
}

bool xlate_prog_load(void)
{
	skel = faithd_xlate_bpf__open_and_load();
	if (!skel)
		return false;
	init_flows();
	skel->bss->nconns = 1;
	return true;
}

void xlate_prog_unload(void)
{
	faithd_xlate_bpf__destroy(skel);
}

void run_frame(uint32_t ifindex, struct run *r)
{
	struct __sk_buff ctx = { .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame.b, .data_size_in = frame.len,
		.data_out = r->out, .data_size_out = sizeof(r->out),
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		.repeat = 1);

	memset(r->out, 0, sizeof(r->out));
	r->err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.faithd_xlate), &opts);
	r->ret = (int)opts.retval;
	r->len = opts.data_size_out;
	if (r->err)
		tl_diag("BPF_PROG_TEST_RUN: %s", strerror(-r->err));
}

void build_seg(const struct seg *s)
{
	const struct faithd_xl_key *k = s->v4 ? &key_s : &key_c;

	build(&frame, s, k->saddr, k->daddr, k->sport, k->dport, false);
}

void send_seg(const struct seg *s, uint32_t ifindex, struct run *r)
{
	build_seg(s);
	run_frame(ifindex, r);
}

bool intact(const struct run *r)
{
	return !r->err && r->len == frame.len && !memcmp(r->out, frame.b, frame.len);
}

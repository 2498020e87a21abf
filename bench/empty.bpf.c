// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Baseline for bench/bench_datapath.c: a TC program that does nothing.
 * Its BPF_PROG_TEST_RUN time is the fixed cost of running any TC program
 * (skb setup excluded, program dispatch included); the benchmark reports
 * faith_tc's cost as the difference from this one.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int empty_tc(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_OK;
}

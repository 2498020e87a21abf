// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_xlate_guard's helper: a frame that arrives VLAN-tagged, as the
 * parent interface's TC hook sees it (the tag in the skb's metadata, not
 * in the frame).  BPF_PROG_TEST_RUN cannot set the tag itself: this
 * program pushes one, then tail-calls the program under test.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} next SEC(".maps");

/* The tag's TCI: its VLAN ID and priority (the test sets it). */
__u16 tci = 7;

#define VLAN_PUSH_FAILED	100
#define TAIL_CALL_FAILED	101

SEC("tc")
int vlan_push(struct __sk_buff *skb)
{
	if (bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), tci) || !skb->vlan_present)
		return VLAN_PUSH_FAILED;
	bpf_tail_call(skb, &next, 0);
	return TAIL_CALL_FAILED;
}

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * faithd_xlate.bpf.c, continued: --translate-after syn.  The client's SYN
 * itself is translated: the program opens the IPv4 connection (a stateful
 * NAT64 for faithd), so that a connection never crosses the router's TCP
 * stack, not even to start.  faithd decides nothing per connection; it
 * fills the maps below from its configuration, and the program takes only
 * what faithd would relay the same way:
 *
 *   the gate, the prefix    keepfaith on; the destination in a faith prefix
 *                           of length 96 (its low 32 bits: the IPv4 address)
 *   the rules               faithd.conf's, first match: a permit
 *   the destination         global, or named by the rule (RFC 6052 3.1)
 *   the port                one faithd serves (no other relay's)
 *   the way out             a route to the server, with a source address
 *                           (or the rule's BINDADDR), and a free port
 *
 * Anything else goes on to faith's classifier and faithd's sockets, which
 * relay or refuse it as they would without this.  The source port comes
 * from faithd's range (see syn_claim()).  Once the server's SYN-ACK comes,
 * both entries turn ACTIVE and the main program carries the connection; it
 * forgets them at the reset, or once both FINs are acknowledged.  faithd
 * sweeps what stays idle.
 *
 * Here the maps and counters; faithd_xlate_syn_open.h decides and opens a
 * connection for a SYN, faithd_xlate_syn_state.h carries it through SYN
 * state and ends it.
 */
#ifndef FAITHD_XLATE_SYN_H
#define FAITHD_XLATE_SYN_H

#include "../src/maps.h"

/* faith's own maps (faithd passes faith-loader's pinned ones). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, FAITH_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct faith_prefix_key);
	__type(value, struct faith_prefix_value);
} prefixes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct faith_control);
} control SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, FAITH_MAX_RELAYS);
	__type(key, __u32);
	__type(value, __u64);
} relays SEC(".maps");

/* Ports faithd registered (0: 'all'): the local port of its listening
 * socket in `relays`, by which the program knows it is still faithd's. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u16);
} xl_ports SEC(".maps");

/* Two sets of rules: faithd writes the one not in use, then switches. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * FAITHD_XL_MAX_RULES);
	__type(key, __u32);
	__type(value, struct faithd_xl_rule);
} xl_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct faithd_xl_v4key);
	__type(value, __u8);
} xl_classes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct faithd_xl_syn_stats);
} xl_syn_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FAITHD_XL_EVENTS_SIZE);
} xl_events SEC(".maps");

/* The two entries being built: too large for the stack. */
struct syn_scratch {
	struct faithd_xl_flow c;	/* the client's direction */
	struct faithd_xl_flow s;	/* the server's */
	struct faithd_xl_key skey;
	struct tcp_copy t;		/* the SYN's TCP header */
	struct bpf_fib_lookup fib;
	struct bpf_sock_tuple tuple;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct syn_scratch);
} xl_scratch SEC(".maps");

/* faith's interfaces: only SYNs that come in on one are faith's. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct faith_iface);
} ifaces SEC(".maps");

/* Set by faithd. */
__u32 syn_take;			/* 1: translate new SYNs */
__u32 syn_active;		/* 1: connections opened for SYNs may be in `flows` */
__u32 syn_no_conf;		/* 1: no faithd.conf: every source may relay */
__u32 syn_half;			/* the set of rules in use: 0 or 1 */
__u32 syn_nrules[2];		/* rules in each set */
__u32 syn_port_lo, syn_port_hi;	/* the ports to open connections from */
/* Random, set by faithd: the keys of the sequence numbers' hash and of the
 * timestamps' (SipHash, 128 bits each, as the kernel's own). */
__u64 syn_isn_key[2];
__u64 syn_ts_key[2];

#define SYN_PORT_TRIES	8
/* Half-open connections (waiting for the server's SYN-ACK, or for the
 * client's ACK of it), at most (of the map's FAITHD_XL_MAX_FLOWS / 2). */
#define SYN_PENDING_MAX	(FAITHD_XL_MAX_FLOWS / 8)

/* How many there are now: the program counts them in at the SYN, out at
 * the client's ACK of the SYN-ACK or the end; faithd's sweep recounts. */
__u32 syn_pending;

/* Count the connection of the client's entry c out of syn_pending if it
 * was half-open (HALF): once, whichever CPU clears the flag. */
static __always_inline void syn_half_done(struct faithd_xl_flow *c)
{
	if (__sync_fetch_and_and(&c->flags, ~FAITHD_XL_HALF) & FAITHD_XL_HALF)
		__sync_fetch_and_add(&syn_pending, -1);
}

static __always_inline struct faithd_xl_syn_stats *syn_stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&xl_syn_stats, &zero);
}

static __always_inline void syn_count_unreachable(void)
{
	struct faithd_xl_syn_stats *st = syn_stats();

	if (st)
		st->unreachable++;
}

#endif /* FAITHD_XLATE_SYN_H */

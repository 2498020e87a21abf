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
 * from faithd's range (see syn_claim()).  Once the server's SYN-ACK comes, both entries turn
 * ACTIVE with no deltas and the main program carries the connection; it
 * forgets them at the reset, or once both FINs are acknowledged.  faithd
 * sweeps what stays idle.
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

/*
 * faithd -m: connections at most, the program's and faithd's sockets'
 * together (0: no limit).  conns_total counts both: the program its own,
 * from the SYN until their client's entry is deleted (by whoever deletes
 * it: once), faithd's workers theirs, in this same memory (mapped).
 * Signed: a count never reads as huge.
 */
__u32 syn_max_conns;
__u32 conns_total;

static __always_inline int syn_conn_acquire(void)
{
	if (!syn_max_conns)
		return 0;
	if ((__s32)__sync_fetch_and_add(&conns_total, 1) < (__s32)syn_max_conns)
		return 0;
	__sync_fetch_and_add(&conns_total, -1);
	return -1;
}

static __always_inline void syn_conn_release(void)
{
	if (syn_max_conns)
		__sync_fetch_and_add(&conns_total, -1);
}

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

struct rule_walk {
	const __u32 *src;
	__u32 dst;
	__u32 base;
	__u32 n;
	struct faithd_xl_rule *hit;
};

static long rule_step(__u32 i, struct rule_walk *w)
{
	__u32 k = w->base + i;
	struct faithd_xl_rule *r;

	if (i >= w->n)
		return 1;
	r = bpf_map_lookup_elem(&xl_rules, &k);
	if (!r)
		return 1;
	if ((w->src[0] & r->src_mask[0]) != r->src[0] ||
	    (w->src[1] & r->src_mask[1]) != r->src[1] ||
	    (w->src[2] & r->src_mask[2]) != r->src[2] ||
	    (w->src[3] & r->src_mask[3]) != r->src[3] || (w->dst & r->dst_mask) != r->dst)
		return 0;
	w->hit = r;
	return 1;
}

/* A source the stack would take a SYN from: not multicast, loopback,
 * unspecified or IPv4-mapped (faithd refuses those). */
static __always_inline int source_ok(const __u32 *a)
{
	if ((a[0] & bpf_htonl(0xff000000)) == bpf_htonl(0xff000000))
		return 0;
	if (a[0] || a[1])
		return 1;
	if (a[2] == bpf_htonl(0xffff))
		return 0;
	return a[2] || (a[3] && a[3] != bpf_htonl(1));
}

/*
 * Would faithd relay the client src to daddr (policy.c, in the same
 * order), and from which source address (*bind, 0: the route's)?  0 when
 * faithd is to decide.
 */
static __noinline int syn_permitted(const __u32 *src, const __u32 *daddr, __u32 *bind)
{
	struct faith_prefix_key pk = { .prefixlen = 128 };
	struct faithd_xl_v4key ck = { .prefixlen = 32, .addr = daddr[3] };
	struct rule_walk w = { .src = src, .dst = daddr[3] };
	struct faith_prefix_value *pv;
	struct faith_control *ctl;
	__u32 zero = 0, half;
	__u8 *cls;
	int special;

	if (!source_ok(src))
		return 0;
	ctl = bpf_map_lookup_elem(&control, &zero);
	if (!ctl || !ctl->keepfaith)
		return 0;
	__builtin_memcpy(pk.addr, daddr, 16);
	pv = bpf_map_lookup_elem(&prefixes, &pk);
	if (!pv || pv->prefixlen != 96)
		return 0;
	cls = bpf_map_lookup_elem(&xl_classes, &ck);
	if (cls && *cls == FAITHD_XL_FORBIDDEN)
		return 0;
	special = cls && *cls == FAITHD_XL_SPECIAL && daddr[0] == bpf_htonl(0x0064ff9b) &&
		  !daddr[1] && !daddr[2];
	*bind = 0;
	if (syn_no_conf)
		return !special;
	half = syn_half & 1;
	w.base = half * FAITHD_XL_MAX_RULES;
	w.n = syn_nrules[half];
	bpf_loop(FAITHD_XL_MAX_RULES, rule_step, &w, 0);
	if (!w.hit || !w.hit->permit || (special && !w.hit->explicit_dst))
		return 0;
	*bind = w.hit->bind;
	return 1;
}

/* Would faith's sk_lookup give a connection to this port to faithd (its
 * listening socket for the port, else for all ports, in `relays`)? */
static __always_inline int syn_served(__u16 dport)
{
	__u32 port = bpf_ntohs(dport), all = FAITH_RELAY_ALL_PORTS;
	struct bpf_sock *sk = bpf_map_lookup_elem(&relays, &port);
	__u16 *mine;
	__u32 local;

	if (!sk) {
		port = all;
		sk = bpf_map_lookup_elem(&relays, &port);
		if (!sk)
			return 0;
	}
	local = sk->src_port;
	bpf_sk_release(sk);
	mine = bpf_map_lookup_elem(&xl_ports, &port);
	return mine && *mine && *mine == local;
}


/* Does a socket of the router own this IPv4 4-tuple (as a segment from
 * the server would find it: established, or a listener)? */
static __always_inline int port_in_use(struct __sk_buff *skb, struct bpf_sock_tuple *t,
				       __u32 src4, __u32 dst4, __u16 nport, __u16 dport)
{
	struct bpf_sock *sk;

	t->ipv4.saddr = dst4;
	t->ipv4.daddr = src4;
	t->ipv4.sport = dport;
	t->ipv4.dport = nport;
	sk = bpf_skc_lookup_tcp(skb, t, sizeof(t->ipv4), BPF_F_CURRENT_NETNS, 0);

	if (!sk)
		return 0;
	bpf_sk_release(sk);
	return 1;
}

/*
 * Claim a port for the server's entry (sc->s, its key sc->skey but for the
 * port).  First the client's port moved into faithd's range by an offset
 * of the client's address: one client's ports map one to one, so that a
 * port it uses again (the server may hold its old connection in
 * TIME-WAIT) comes to the server on the same port again, with sequence
 * numbers and timestamps that follow on (RFC 6191), as they would without
 * the router; and faithd's range is not the one the router's own
 * connections take theirs from (their TIME-WAITs are not in the way).
 * Then others of the range, at random.  The entry inserted only where none
 * is (BPF_NOEXIST) is the claim.  The port, or 0.
 */
static __always_inline __u16 syn_claim(struct __sk_buff *skb, struct syn_scratch *sc,
				       __u16 cport)
{
	__u32 src4 = sc->skey.daddr[3], dst4 = sc->skey.saddr[3];
	__u32 lo = syn_port_lo, span = syn_port_hi - syn_port_lo + 1;
	const __u32 *c = sc->s.daddr;	/* the client's address */
	__u32 start = (c[0] ^ c[1] ^ c[2] ^ c[3]) * 0x9e3779b1u + bpf_ntohs(cport);
	__u16 port;

	if (!lo)	/* no range: the client's own port only */
		span = 1;
	for (int i = 0; i < SYN_PORT_TRIES; i++) {
		if (i)
			start = bpf_get_prandom_u32();
		port = lo ? bpf_htons(lo + start % span) : cport;
		if (!port || port_in_use(skb, &sc->tuple, src4, dst4, port, sc->skey.sport))
			continue;
		sc->skey.dport = port;
		if (!bpf_map_update_elem(&flows, &sc->skey, &sc->s, BPF_NOEXIST))
			return port;
	}
	return 0;
}

/* The window scale option found in t (o: its options): its shift, at
 * most 14 (RFC 7323), or -1. */
static __always_inline int opt_wscale(struct tcp_copy *t, const struct tcp_opts *o)
{
	__u32 ws;

	if (!o->ws)
		return -1;
	ws = *byte_at(t, o->ws + 2);
	return ws > 14 ? 14 : ws;
}

/* A SYN's window scale (t: its TCP header, hlen bytes), or -1. */
static __always_inline int syn_wscale(struct tcp_copy *t, __u32 hlen)
{
	struct tcp_opts o = {};

	find_opts(t, hlen, &o);
	return opt_wscale(t, &o);
}

/*
 * The sequence numbers and timestamps the server sees, and the client the
 * server's numbers moved (c, s: the entries being built; t: the SYN's
 * header).  The server's as the router's own connections
 * would have them (RFC 6528, RFC 7323 5.4): the initial sequence number a
 * keyed hash of the IPv4 ports and addresses plus a clock of 64 ns, the
 * timestamps a millisecond clock plus a hash of the addresses.  A port
 * used again for the same server then follows on from its last
 * connection, which the server may still hold in TIME-WAIT: it takes the
 * new SYN (RFC 6191) instead of answering it with an ACK of the old one.
 */
static __always_inline __u64 rotl64(__u64 x, int b)
{
	return x << b | x >> (64 - b);
}

static __always_inline void sipround(__u64 v[4])
{
	v[0] += v[1]; v[1] = rotl64(v[1], 13); v[1] ^= v[0]; v[0] = rotl64(v[0], 32);
	v[2] += v[3]; v[3] = rotl64(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = rotl64(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = rotl64(v[1], 17); v[1] ^= v[2]; v[2] = rotl64(v[2], 32);
}

/* SipHash-2-4 of a message of len (<= 15) bytes: its first 8 in m0, the
 * rest (little-endian) in tail. */
static __always_inline __u64 siphash(const __u64 k[2], __u64 m0, __u64 tail, __u64 len)
{
	__u64 v[4] = {
		k[0] ^ 0x736f6d6570736575ull, k[1] ^ 0x646f72616e646f6dull,
		k[0] ^ 0x6c7967656e657261ull, k[1] ^ 0x7465646279746573ull,
	};
	__u64 b = len << 56 | tail;

	v[3] ^= m0;
	sipround(v);
	sipround(v);
	v[0] ^= m0;
	v[3] ^= b;
	sipround(v);
	sipround(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	sipround(v);
	sipround(v);
	sipround(v);
	sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static __noinline int syn_clocks(struct faithd_xl_flow *c, struct faithd_xl_flow *s,
				 struct tcp_copy *t, __u32 hlen)
{
	int ws;
	__u64 addrs = (__u64)c->daddr[3] << 32 | c->saddr[3];
	__u64 now = bpf_ktime_get_ns();
	struct tcp_opts o = {};
	__u32 isn;
	__u64 h;

	/* RFC 6528: F(addresses, ports, secret) + a 4 us clock (64 ns here). */
	h = siphash(syn_isn_key, addrs, (__u32)c->dport << 16 | c->sport, 12);
	isn = (__u32)h + (__u32)(now >> 6);
	c->seq_delta = isn - (c->nxt - 1);
	s->ack_delta = -c->seq_delta;
	/* The server's numbers move too, by the hash's other half: the
	 * client's ACKs of them are then as blind to a forger as the
	 * server's of the client's (a forged FIN or reset of the server's
	 * could otherwise be matched by a forged ACK of the client's). */
	s->seq_delta = (__u32)(h >> 32) + (__u32)(now >> 6);
	c->ack_delta = -s->seq_delta;
	find_opts(t, hlen, &o);
	ws = opt_wscale(t, &o);
	if (!o.ts)
		return ws;
	/* RFC 7323 5.4: a millisecond clock, offset by a hash of the addresses. */
	c->tsval_delta = (__u32)(now / 1000000) + (__u32)siphash(syn_ts_key, addrs, 0, 8) -
			 get32(t, o.ts + 2);
	s->tsecr_delta = -c->tsval_delta;
	return ws;
}

/*
 * A client's SYN with no entry: open the connection if faithd would.  0:
 * the entries are in `flows` (the caller translates the SYN through
 * them), else the verdict.
 */
static __noinline int syn_open(struct __sk_buff *skb, const struct faithd_xl_key *key,
			       __u32 l4, __u32 hlen)
{
	struct faithd_xl_syn_stats *st = syn_stats();
	struct bpf_fib_lookup *p;
	struct faithd_xl_flow *se;
	struct syn_scratch *sc;
	struct tcphdr *th;
	__u32 zero = 0, bind, src4, ifindex = skb->ingress_ifindex;
	__u16 nport;
	int ws;
	long rc;

	if (!bpf_map_lookup_elem(&ifaces, &ifindex))
		return TCX_NEXT;	/* not faith's interface: not faith's */
	sc = bpf_map_lookup_elem(&xl_scratch, &zero);
	if (!sc || hlen < sizeof(struct tcphdr) || hlen > TCP_HDR_MAX ||
	    bpf_skb_load_bytes(skb, l4, sc->t.w, hlen))
		return TCX_NEXT;
	/* Half-open connections take at most a part of the map: a flood of
	 * SYNs from forged sources leaves room for the rest. */
	if ((__s32)syn_pending >= SYN_PENDING_MAX)	/* a recount can leave it below 0 */
		goto to_faithd;
	th = (struct tcphdr *)sc->t.w;
	if (!syn_served(key->dport) || !syn_permitted(key->saddr, key->daddr, &bind))
		goto to_faithd;
	p = &sc->fib;
	__builtin_memset(p, 0, sizeof(*p));
	p->family = AF_INET;
	p->l4_protocol = IPPROTO_TCP;
	p->ifindex = skb->ingress_ifindex;
	p->ipv4_dst = key->daddr[3];
	p->ipv4_src = bind;
	/* SKIP_NEIGH: the MTU is filled in also before the next hop's
	 * address is resolved (the translation's redirect resolves it). */
	rc = bpf_fib_lookup(skb, p, sizeof(*p),
			    BPF_FIB_LOOKUP_SKIP_NEIGH | (bind ? 0 : BPF_FIB_LOOKUP_SRC));
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		goto to_faithd;
	src4 = bind ? bind : p->ipv4_src;
	if (!src4)
		goto to_faithd;
	/* At faithd's -m: its sockets refuse it, and log it. */
	if (syn_conn_acquire()) {
		if (st)
			st->over_limit++;
		goto to_faithd;
	}

	/* The server's segments: dst4:dport -> src4:(port), to the client. */
	__builtin_memset(&sc->skey, 0, sizeof(sc->skey));
	sc->skey.saddr[2] = sc->skey.daddr[2] = bpf_htonl(0xffff);
	sc->skey.saddr[3] = key->daddr[3];
	sc->skey.daddr[3] = src4;
	sc->skey.sport = key->dport;
	__builtin_memset(&sc->s, 0, sizeof(sc->s));
	sc->s.peer = *key;
	sc->s.state = FAITHD_XL_SYN;
	__builtin_memcpy(sc->s.saddr, key->daddr, 16);
	__builtin_memcpy(sc->s.daddr, key->saddr, 16);
	sc->s.sport = key->dport;
	sc->s.dport = key->sport;
	sc->s.out_ifindex = skb->ingress_ifindex;
	sc->s.flags = FAITHD_XL_FROM_SYN;
	sc->s.last_ns = bpf_ktime_get_ns();
	/* Segments the client sends as the server's SYN-ACK allows must fit
	 * the way out to the server once 20 bytes shorter (RFC 6145 6). */
	if (p->mtu_result > 40)
		sc->s.mss_max = p->mtu_result - 40;
	nport = syn_claim(skb, sc, key->sport);
	if (!nport) {
		syn_conn_release();
		if (st)
			st->no_port++;
		goto to_faithd;
	}

	/* The client's: to the server, from src4:nport. */
	__builtin_memset(&sc->c, 0, sizeof(sc->c));
	sc->c.peer = sc->skey;
	sc->c.state = FAITHD_XL_SYN;
	sc->c.out_v4 = 1;
	__builtin_memcpy(sc->c.saddr, sc->skey.daddr, 16);
	__builtin_memcpy(sc->c.daddr, sc->skey.saddr, 16);
	sc->c.sport = nport;
	sc->c.dport = key->dport;
	sc->c.out_ifindex = p->ifindex;
	sc->c.seq_end = sc->c.nxt = bpf_ntohl(th->seq) + 1;
	ws = syn_clocks(&sc->c, &sc->s, &sc->t, hlen);
	se = bpf_map_lookup_elem(&flows, &sc->skey);	/* claimed: in the map */
	if (!se) {
		bpf_map_delete_elem(&flows, &sc->skey);
		syn_conn_release();
		return TC_ACT_SHOT;
	}
	se->seq_delta = sc->s.seq_delta;
	se->ack_delta = sc->s.ack_delta;
	se->tsecr_delta = sc->s.tsecr_delta;
	/* Until the SYN-ACK: the SYN's window, unscaled. */
	sc->c.wnd_end = bpf_ntohs(th->window);
	sc->c.flags = FAITHD_XL_FROM_SYN | (ws >= 0 ? FAITHD_XL_WSCALE : 0);
	sc->c.syn_wscale = ws >= 0 ? ws : 0;
	sc->c.last_ns = sc->c.tsval_ns = sc->s.last_ns;
	if (bpf_map_update_elem(&flows, key, &sc->c, BPF_NOEXIST)) {
		/* The same SYN again, on another CPU: it goes on there. */
		bpf_map_delete_elem(&flows, &sc->skey);
		syn_conn_release();
		return TC_ACT_SHOT;
	}
	__sync_fetch_and_add(&syn_pending, 1);
	if (st)
		st->opened++;
	return 0;
to_faithd:
	if (st)
		st->to_faithd++;
	return TCX_NEXT;
}

/*
 * Tell faithd how the connection of f and p ended, for its log.  faithd
 * reads the ring a few times a second: it is woken only once a good part
 * of it is full, not for every connection.
 */
static __always_inline void syn_report(const struct faithd_xl_flow *f,
				       const struct faithd_xl_flow *p, __u32 how)
{
	const struct faithd_xl_flow *c = f->out_v4 ? f : p, *s = f->out_v4 ? p : f;
	struct faithd_xl_event *e = bpf_ringbuf_reserve(&xl_events, sizeof(*e), 0);
	__u64 wake = BPF_RB_NO_WAKEUP;

	if (!e)
		return;		/* faithd is behind: the connection goes unlogged */
	__builtin_memcpy(e->client, s->daddr, 16);
	__builtin_memcpy(e->faith, s->saddr, 16);
	e->cport = s->dport;
	e->dport = s->sport;
	e->dst4 = c->daddr[3];
	e->how = how;
	e->pad = 0;
	e->to_server = c->bytes;
	e->to_client = s->bytes;
	e->start_ns = c->tsval_ns;
	e->end_ns = bpf_ktime_get_ns();
	if (bpf_ringbuf_query(&xl_events, BPF_RB_AVAIL_DATA) > FAITHD_XL_EVENTS_SIZE / 4)
		wake = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(e, wake);
}

/* Forget both entries of a connection opened for a SYN (f, key: one of
 * them; p: the other), saying how it ended; 0 if another CPU did. */
static __always_inline int syn_forget(const struct faithd_xl_key *key, struct faithd_xl_flow *f,
				       struct faithd_xl_flow *p, __u32 how)
{
	struct faithd_xl_flow *c = f->out_v4 ? f : p;

	/* Once: two CPUs may end it at the same moment. */
	if (__sync_fetch_and_or(&c->flags, FAITHD_XL_ENDED) & FAITHD_XL_ENDED)
		return 0;
	syn_half_done(c);
	syn_report(f, p, how);
	/* The client's entry last, and its deletion counts the connection out
	 * (faithd's sweep may delete it at the same moment: one of the two
	 * succeeds). */
	if (f->out_v4) {
		bpf_map_delete_elem(&flows, &f->peer);
		if (!bpf_map_delete_elem(&flows, key))
			syn_conn_release();
	} else {
		bpf_map_delete_elem(&flows, key);
		if (!bpf_map_delete_elem(&flows, &f->peer))
			syn_conn_release();
	}
	return 1;
}

/*
 * Leave SYN state (sv: the server's entry; c: the client's), on one CPU
 * only: the winner goes on, the connection half-open until the client
 * acknowledges the server's SYN-ACK (or it ends: HALF); 0 for the others
 * (the same SYN-ACK or reset twice).
 */
static __always_inline int syn_leave(struct faithd_xl_flow *sv, struct faithd_xl_flow *c)
{
	if (__sync_val_compare_and_swap(&sv->state, FAITHD_XL_SYN, FAITHD_XL_ACTIVE) !=
	    FAITHD_XL_SYN)
		return 0;
	__sync_fetch_and_or(&c->flags, FAITHD_XL_HALF);
	return 1;
}

/*
 * A segment of a connection in SYN state (f: its direction's entry).  The
 * client's SYN again, or its reset (at the exact point); the server's
 * SYN-ACK or reset acknowledging the client's SYN: both entries turn
 * ACTIVE, with the windows, scales and sequence numbers the main program's
 * bookkeeping starts from.  0: translate it; else the verdict.
 */
static __noinline int syn_step(const struct faithd_xl_key *key, struct faithd_xl_flow *f,
			       struct tcp_copy *t, __u32 hlen)
{
	struct faithd_xl_syn_stats *st = syn_stats();
	const struct tcphdr *th = (const struct tcphdr *)t->w;
	__u32 seq = bpf_ntohl(th->seq), ack = bpf_ntohl(th->ack_seq);
	__u32 window = bpf_ntohs(th->window);
	int syn = th->syn, rst = th->rst, has_ack = th->ack, ws;
	struct faithd_xl_flow *c;

	c = bpf_map_lookup_elem(&flows, &f->peer);
	if (!c)
		return TC_ACT_SHOT;
	if (f->out_v4) {	/* the client's; c is the server's */
		if (rst && seq == f->nxt && syn_leave(c, f)) {
			syn_forget(key, f, c, FAITHD_XL_END_RESET_CLIENT);
			if (st)
				st->reset++;
			return 0;
		}
		/* The SYN again, as it was (not a forged one moving it). */
		if (syn && !has_ack && !rst && seq + 1 == f->nxt)
			return 0;
		return TC_ACT_SHOT;
	}
	if (c->state != FAITHD_XL_SYN)
		return TC_ACT_SHOT;
	/*
	 * An ACK that is not of the SYN: the server holds an older connection
	 * on these ports (a TIME-WAIT of the router's own, say).  The router's
	 * stack, with no socket for them, answers as the client would in
	 * SYN-SENT (RFC 793): a reset at that ACK, which clears it; the
	 * client's next SYN then opens the connection.
	 */
	ack += f->ack_delta;	/* into the client's numbers */
	if (has_ack && !syn && !rst && ack != c->nxt)
		return TCX_NEXT;
	if (!has_ack || ack != c->nxt || (!syn && !rst) || !syn_leave(f, c))
		return TC_ACT_SHOT;
	if (rst) {
		syn_forget(key, f, c, FAITHD_XL_END_REFUSED);
		if (st)
			st->refused++;
		return 0;
	}
	/* Window scaling only if both offered it (RFC 7323). */
	ws = syn_wscale(t, hlen);
	if ((c->flags & FAITHD_XL_WSCALE) && ws >= 0) {
		c->win_in_shift = c->win_out_shift = c->syn_wscale;
		f->win_in_shift = f->win_out_shift = ws;
	}
	f->seq_end = f->nxt = seq + 1;
	f->ack_last = ack;
	f->wnd_end = ack + window;		/* a SYN's window is not scaled */
	c->wnd_end = seq + 1 + c->wnd_end;	/* once: syn_leave() */
	c->ack_last = seq;			/* nothing of the server's ACKed yet */
	f->last_ns = c->last_ns = bpf_ktime_get_ns();
	c->state = FAITHD_XL_ACTIVE;
	if (st)
		st->established++;
	return 0;
}

/*
 * Is the connection of the client's entry c (p: the server's) over for a
 * new SYN of the client's at seq?  As a TIME-WAIT takes one (RFC 9293
 * 3.10.7.4): both FINs came, the client's acknowledged, and the SYN is
 * past it.  Else the SYN goes on to the server, which answers with an ACK
 * of the connection (RFC 5961 4): a forged SYN ends nothing.
 */
static __always_inline int syn_over(const struct faithd_xl_flow *c,
				    const struct faithd_xl_flow *p, __u32 seq)
{
	return (c->flags & p->flags & FAITHD_XL_SEEN_FIN) && p->ack_last == c->fin_end &&
	       c->ack_last == p->fin_end && xl_after(seq, c->fin_end);
}

/* Forget a connection that was over, for the client's new SYN on its
 * ports: dropped, the SYN comes again and finds none. */
static __noinline int syn_reopen(const struct faithd_xl_key *key, struct faithd_xl_flow *f,
				 struct faithd_xl_flow *p)
{
	syn_forget(key, f, p, FAITHD_XL_END_CLOSED);
	return TC_ACT_SHOT;
}

/* Has f's FIN been acknowledged exactly by p's sender, with no data past
 * it?  (A cumulative ACK of it says every byte before came too, also of a
 * FIN that came ahead of a loss.) */
static __always_inline int fin_done(const struct faithd_xl_flow *f, const struct faithd_xl_flow *p)
{
	return (f->flags & FAITHD_XL_SEEN_FIN) && p->ack_last == f->fin_end &&
	       !xl_after(f->seq_end + 1, f->fin_end);
}

/*
 * ACTIVE, opened for a SYN: is the connection over?  A reset that counted
 * (note_end), or both FINs acknowledged exactly (as faithd's hand-off
 * checks): the program forgets it (a last ACK lost: the FIN sent again
 * finds the router's stack, which resets).
 */
static __noinline int syn_maybe_end(const struct faithd_xl_key *key, struct faithd_xl_flow *f,
				    struct faithd_xl_flow *p)
{
	struct faithd_xl_syn_stats *st;

	if (f->flags & FAITHD_XL_SEEN_RST) {
		if (!syn_forget(key, f, p, f->out_v4 ? FAITHD_XL_END_RESET_CLIENT :
						       FAITHD_XL_END_RESET_SERVER))
			return 0;
		st = syn_stats();
		if (st)
			st->reset++;
		return 1;
	}
	if (!fin_done(f, p) || !fin_done(p, f) || !syn_forget(key, f, p, FAITHD_XL_END_CLOSED))
		return 0;
	st = syn_stats();
	if (st)
		st->closed++;
	return 1;
}

#endif /* FAITHD_XLATE_SYN_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * faithd_xlate.bpf.c, continued: --translate-after syn, a client's SYN
 * with no entry: would faithd relay it (its rules, destinations, services,
 * a way out), and if so the IPv4 connection's port, sequence numbers and
 * timestamps, and its two entries.  After faithd_xlate_syn.h.
 */
#ifndef FAITHD_XLATE_SYN_OPEN_H
#define FAITHD_XLATE_SYN_OPEN_H

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
	/* At faithd's -m or -M: its sockets refuse it, and log it. */
	if (syn_limits_acquire(key->saddr)) {
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
		syn_limits_release(key->saddr);
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
	if (!se)
		goto unclaim;
	se->seq_delta = sc->s.seq_delta;
	se->ack_delta = sc->s.ack_delta;
	se->tsecr_delta = sc->s.tsecr_delta;
	/* Until the SYN-ACK: the SYN's window, unscaled. */
	sc->c.wnd_end = bpf_ntohs(th->window);
	sc->c.flags = FAITHD_XL_FROM_SYN | (ws >= 0 ? FAITHD_XL_WSCALE : 0);
	sc->c.syn_wscale = ws >= 0 ? ws : 0;
	sc->c.last_ns = sc->c.tsval_ns = sc->s.last_ns;
	/* The same SYN again, on another CPU: it goes on there. */
	if (bpf_map_update_elem(&flows, key, &sc->c, BPF_NOEXIST))
		goto unclaim;
	__sync_fetch_and_add(&syn_pending, 1);
	if (st)
		st->opened++;
	return 0;
unclaim:
	bpf_map_delete_elem(&flows, &sc->skey);
	syn_limits_release(key->saddr);
	return TC_ACT_SHOT;
to_faithd:
	if (st)
		st->to_faithd++;
	return TCX_NEXT;
}

#endif /* FAITHD_XLATE_SYN_OPEN_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * faithd_xlate.bpf.c, continued: ICMP errors about handed-off connections,
 * so that path MTU discovery goes on across the hand-off, and about the
 * SYNs the program translated, so that a client learns at once that the
 * server cannot be reached.  Included by faithd_xlate.bpf.c once `flows`,
 * forward(), csum_fold_words() and the SYN path are defined: one object,
 * one program.
 */
#ifndef FAITHD_XLATE_ICMP_H
#define FAITHD_XLATE_ICMP_H

/* ICMPv4 destination unreachable (linux/icmp.h drags libc in). */
#define ICMP4_DEST_UNREACH	3
#define ICMP4_FRAG_NEEDED	4

struct icmp4_unreach {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 unused;
	__be16 mtu;		/* of the next hop, for FRAG_NEEDED */
};

/* What ptb_to_server() sends: an ICMPv4 error quoting 8 bytes of TCP. */
struct frag_needed {
	struct iphdr ip;
	struct icmp4_unreach icmp;
	struct iphdr qip;	/* the server's segment, as it sent it */
	__be16 qsport;
	__be16 qdport;
	__be32 qseq;
};

#define ICMP4_MIN_MTU	68
#define IPV6_MIN_MTU	1280

/* The first len bytes of the frame in the linear area (an ICMP error is
 * small; a driver may still have left only the headers there): its start,
 * or NULL.  Packet pointers taken before are no longer valid. */
static __always_inline void *linear(struct __sk_buff *skb, __u32 len)
{
	if ((void *)(long)skb->data + len > (void *)(long)skb->data_end &&
	    (skb->len < len || bpf_skb_pull_data(skb, len)))
		return NULL;
	if ((void *)(long)skb->data + len > (void *)(long)skb->data_end)
		return NULL;
	return (void *)(long)skb->data;
}

/*
 * An ICMPv6 Packet Too Big (ip6: its IPv6 header, in the linear area up
 * to end) quoting a translated segment from the faith address to the
 * client: rewrite it into the ICMPv4 "fragmentation needed" a router on
 * the server's side would have sent about the server's segment (RFC 7915
 * 5.2 and 4.2 for one TCP flow: MTU less 20, the quoted segment as the
 * server sent it, its sequence number in the server's numbers), and send
 * it to the server.  Anything else: TCX_NEXT.
 */
static __noinline int ptb_to_server(struct __sk_buff *skb)
{
	void *data = linear(skb, ETH_HLEN + 2 * sizeof(struct ipv6hdr) + 8 + 8);
	struct ipv6hdr *ip6 = data + ETH_HLEN;
	struct icmp6hdr *icmp = (void *)(ip6 + 1);
	struct ipv6hdr *q = (void *)(icmp + 1);
	struct faithd_xl_key key = {};
	struct faithd_xl_flow *fc, *fs;
	struct frag_needed m = {};
	__be16 *qports = (void *)(q + 1);
	__be16 eth_ip = bpf_htons(ETH_P_IP);
	__u32 mtu;

	if (!data || (void *)(qports + 4) > (void *)(long)skb->data_end ||
	    icmp->icmp6_type != ICMPV6_PKT_TOOBIG || icmp->icmp6_code ||
	    q->nexthdr != IPPROTO_TCP)
		return TCX_NEXT;
	/* Addressed to the quoted segment's sender, and no smaller than
	 * IPv6 allows (as tcp_v6_err() ignores those): the server's path MTU
	 * to the router serves every client, one must not shrink it to 68. */
	mtu = bpf_ntohl(icmp->icmp6_mtu);
	if (mtu < IPV6_MIN_MTU ||
	    ((ip6->daddr.in6_u.u6_addr32[0] ^ q->saddr.in6_u.u6_addr32[0]) |
	     (ip6->daddr.in6_u.u6_addr32[1] ^ q->saddr.in6_u.u6_addr32[1]) |
	     (ip6->daddr.in6_u.u6_addr32[2] ^ q->saddr.in6_u.u6_addr32[2]) |
	     (ip6->daddr.in6_u.u6_addr32[3] ^ q->saddr.in6_u.u6_addr32[3])))
		return TCX_NEXT;
	/* From the faith address to the client: the client's own segments
	 * have the reverse key, and their entry names the server's. */
	__builtin_memcpy(key.saddr, &q->daddr, 16);
	__builtin_memcpy(key.daddr, &q->saddr, 16);
	key.sport = qports[1];
	key.dport = qports[0];
	fc = bpf_map_lookup_elem(&flows, &key);
	if (!fc || fc->state != FAITHD_XL_ACTIVE || !fc->out_v4)
		return TCX_NEXT;
	fs = bpf_map_lookup_elem(&flows, &fc->peer);
	if (!fs || fs->state != FAITHD_XL_ACTIVE)
		return TCX_NEXT;

	mtu -= 20;
	m.ip.version = 4;
	m.ip.ihl = 5;
	m.ip.tos = 0xc0;
	m.ip.tot_len = bpf_htons(sizeof(m));
	m.ip.ttl = OUT_TTL;
	m.ip.protocol = IPPROTO_ICMP;
	m.ip.saddr = fc->saddr[3];
	m.ip.daddr = fc->daddr[3];
	m.icmp.type = ICMP4_DEST_UNREACH;
	m.icmp.code = ICMP4_FRAG_NEEDED;
	m.icmp.mtu = bpf_htons(mtu > 0xffff ? 0xffff : mtu);
	m.qip.version = 4;
	m.qip.ihl = 5;
	m.qip.tot_len = bpf_htons(bpf_ntohs(q->payload_len) + sizeof(struct iphdr));
	m.qip.frag_off = bpf_htons(IP_DF);
	m.qip.ttl = OUT_TTL;
	m.qip.protocol = IPPROTO_TCP;
	m.qip.saddr = fc->daddr[3];
	m.qip.daddr = fc->saddr[3];
	m.qsport = fc->dport;
	m.qdport = fc->sport;
	m.qseq = bpf_htonl(bpf_ntohl(*(__be32 *)(qports + 2)) - fs->seq_delta);
	m.qip.check = csum_fold_words(&m.qip, sizeof(m.qip));
	m.icmp.checksum = csum_fold_words(&m.icmp, sizeof(m) - sizeof(m.ip));
	m.ip.check = csum_fold_words(&m.ip, sizeof(m.ip));

	/* IPv6 header to IPv4 (20 bytes less), 20 bytes less after it (the
	 * quoted header shrinks as much), and the rest cut after 8 bytes of
	 * TCP; then the new headers over it all. */
	if (bpf_skb_change_proto(skb, eth_ip, 0) ||
	    bpf_skb_adjust_room(skb, -(__s32)sizeof(struct iphdr), BPF_ADJ_ROOM_NET, 0) ||
	    bpf_skb_change_tail(skb, ETH_HLEN + sizeof(m), 0) ||
	    bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_proto), &eth_ip, 2, 0) ||
	    bpf_skb_store_bytes(skb, ETH_HLEN, &m, sizeof(m), BPF_F_RECOMPUTE_CSUM))
		return TC_ACT_SHOT;
	return forward(skb, fc, 0);
}

/* What icmp4_to_client() sends, after its IPv6 header: an ICMPv6 Packet
 * Too Big or Destination Unreachable quoting 8 bytes of TCP.  (Paths
 * under 1260 bytes on the server's side get 1280: RFC 7915 would then
 * clear DF, which needs IP IDs that change; they are 0 here.) */
struct ptb_body {
	struct icmp6hdr icmp;
	struct ipv6hdr qip;	/* the client's segment, as it sent it */
	__be16 qsport;
	__be16 qdport;
	__be32 qseq;
};

/* The ICMPv6 checksum's input: pseudo header, then the message. */
struct ptb_sum {
	struct in6_addr saddr;
	struct in6_addr daddr;
	__be32 len;
	__be32 nexthdr;
	struct ptb_body body;
};

/*
 * ICMPv4 Destination Unreachable codes to ICMPv6's (RFC 7915 4.2): 0 no
 * route, 1 administratively prohibited, 4 port unreachable; -1 for those
 * not passed on (protocol unreachable would be a Parameter Problem, and
 * never answers TCP; precedence violation is dropped).
 */
static __always_inline int unreach_code6(__u8 code4)
{
	switch (code4) {
	case 3:
		return ICMPV6_PORT_UNREACH;
	case 9: case 10: case 13: case 15:
		return ICMPV6_ADM_PROHIBITED;
	case 2: case 4: case 14:
		return -1;
	default:
		return code4 <= 15 ? ICMPV6_NOROUTE : -1;
	}
}

/*
 * The other way: an ICMPv4 error (ip: its IPv4 header) quoting a
 * translated segment from the router's upstream address to the server
 * becomes the ICMPv6 error the client would have got about its own
 * segment, sent to it from the faith address.  "Fragmentation needed"
 * about a connection under way: a Packet Too Big (MTU plus 20, at least
 * 1280).  Any other Destination Unreachable answering the SYN the
 * program translated (its exact sequence number, which a forger would
 * have to guess): its ICMPv6 counterpart, and the program forgets the
 * connection, as a Linux client's stack does (others take it as a soft
 * error: their SYN sent again opens a new one).
 */
static __noinline int icmp4_to_client(struct __sk_buff *skb)
{
	void *data = linear(skb, ETH_HLEN + 2 * sizeof(struct iphdr) + 8 + 8);
	struct iphdr *ip = data + ETH_HLEN;
	struct icmp4_unreach *icmp = (void *)(ip + 1);
	struct iphdr *q = (void *)(icmp + 1);
	__be16 *qports = (void *)(q + 1);
	__be16 eth_ip6 = bpf_htons(ETH_P_IPV6);
	struct faithd_xl_key key = {};
	struct faithd_xl_flow *fs, *fc;
	struct ipv6hdr ip6 = {};
	struct ptb_sum m = {};
	__u32 mtu = 0, qseq;
	int code6 = 0, rc;
	__u8 code4;

	if (!data || (void *)(qports + 4) > (void *)(long)skb->data_end || ip->ihl != 5 ||
	    (ip->frag_off & bpf_htons(0x3fff)) || icmp->type != ICMP4_DEST_UNREACH ||
	    q->ihl != 5 || q->protocol != IPPROTO_TCP || ip->daddr != q->saddr ||
	    bpf_ntohs(q->tot_len) < sizeof(struct iphdr) + sizeof(struct tcphdr))
		return TCX_NEXT;
	/* From the router to the server: the server's own segments have the
	 * reverse key, and their entry names the client's. */
	key.saddr[2] = key.daddr[2] = bpf_htonl(0xffff);
	key.saddr[3] = q->daddr;
	key.daddr[3] = q->saddr;
	key.sport = qports[1];
	key.dport = qports[0];
	code4 = icmp->code;
	qseq = bpf_ntohl(*(__be32 *)(qports + 2));
	fs = bpf_map_lookup_elem(&flows, &key);
	if (!fs || fs->out_v4)
		return TCX_NEXT;
	fc = bpf_map_lookup_elem(&flows, &fs->peer);
	if (!fc)
		return TCX_NEXT;
	if (code4 == ICMP4_FRAG_NEEDED) {
		if (fs->state != FAITHD_XL_ACTIVE || fc->state != FAITHD_XL_ACTIVE)
			return TCX_NEXT;
		mtu = bpf_ntohs(icmp->mtu) + 20;
		if (mtu < IPV6_MIN_MTU)
			mtu = IPV6_MIN_MTU;
	} else {
		code6 = unreach_code6(code4);
		if (code6 < 0 || fc->state != FAITHD_XL_SYN || qseq != fc->nxt - 1 + fc->seq_delta ||
		    !syn_leave(fs, fc))
			return TCX_NEXT;	/* the stack drops it */
	}

	ip6.version = 6;
	ip6.payload_len = bpf_htons(sizeof(m.body));
	ip6.nexthdr = IPPROTO_ICMPV6;
	ip6.hop_limit = OUT_TTL;
	__builtin_memcpy(&ip6.saddr, fs->saddr, 16);
	__builtin_memcpy(&ip6.daddr, fs->daddr, 16);
	m.saddr = ip6.saddr;
	m.daddr = ip6.daddr;
	m.len = bpf_htonl(sizeof(m.body));
	m.nexthdr = bpf_htonl(IPPROTO_ICMPV6);
	if (mtu) {
		m.body.icmp.icmp6_type = ICMPV6_PKT_TOOBIG;
		m.body.icmp.icmp6_mtu = bpf_htonl(mtu);
	} else {
		m.body.icmp.icmp6_type = ICMPV6_DEST_UNREACH;
		m.body.icmp.icmp6_code = code6;
	}
	m.body.qip.version = 6;
	m.body.qip.payload_len = bpf_htons(bpf_ntohs(q->tot_len) - sizeof(struct iphdr));
	m.body.qip.nexthdr = IPPROTO_TCP;
	m.body.qip.hop_limit = OUT_TTL;
	__builtin_memcpy(&m.body.qip.saddr, fs->daddr, 16);
	__builtin_memcpy(&m.body.qip.daddr, fs->saddr, 16);
	m.body.qsport = fs->dport;
	m.body.qdport = fs->sport;
	m.body.qseq = bpf_htonl(qseq - fc->seq_delta);
	m.body.icmp.icmp6_cksum = csum_fold_words(&m, sizeof(m));

	/* IPv4 header to IPv6 (20 bytes more), 20 bytes more after it (the
	 * quoted header grows as much), the rest cut after 8 bytes of TCP;
	 * then the new headers over it all. */
	if (bpf_skb_change_proto(skb, eth_ip6, 0) ||
	    bpf_skb_adjust_room(skb, sizeof(struct iphdr), BPF_ADJ_ROOM_NET, 0) ||
	    bpf_skb_change_tail(skb, ETH_HLEN + sizeof(ip6) + sizeof(m.body), 0) ||
	    bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_proto), &eth_ip6, 2, 0) ||
	    bpf_skb_store_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6), BPF_F_RECOMPUTE_CSUM) ||
	    bpf_skb_store_bytes(skb, ETH_HLEN + sizeof(ip6), &m.body, sizeof(m.body),
				BPF_F_RECOMPUTE_CSUM))
		rc = TC_ACT_SHOT;
	else
		rc = forward(skb, fs, 0);
	/* Forgotten last: forward() reads the entry. */
	if (!mtu && syn_forget(&key, fs, fc, FAITHD_XL_END_UNREACHABLE | (__u32)code4 << 8))
		syn_count_unreachable();
	return rc;
}

#endif /* FAITHD_XLATE_ICMP_H */

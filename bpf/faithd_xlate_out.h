/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * faithd_xlate.bpf.c, continued: a translated segment on its way out: its
 * new IP header, and where it goes (the FIB, the next hop, the redirect).
 */
#ifndef FAITHD_XLATE_OUT_H
#define FAITHD_XLATE_OUT_H

/* The Internet checksum of len bytes (a multiple of 4) at p. */
static __always_inline __u16 csum_fold_words(const void *p, __u32 len)
{
	__s64 sum = bpf_csum_diff(NULL, 0, (__be32 *)p, len, 0);

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/*
 * The IPv4 or IPv6 header of the translated segment (l4_len bytes of TCP
 * after it), after the proto change.  Lengths come from the IP header, not
 * the skb: a short frame carries Ethernet padding.  skb->csum follows the
 * new header (BPF_F_RECOMPUTE_CSUM), for CHECKSUM_COMPLETE skbs.
 */
static __always_inline int write_l3(struct __sk_buff *skb, const struct faithd_xl_flow *f,
				    __u32 l4_len, __u8 tos)
{
	__be16 proto = bpf_htons(f->out_v4 ? ETH_P_IP : ETH_P_IPV6);

	if (bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_proto), &proto, 2, 0))
		return -1;
	if (f->out_v4) {
		struct iphdr ip = {
			.version = 4, .ihl = 5, .tos = tos,
			.tot_len = bpf_htons(sizeof(ip) + l4_len),
			.frag_off = bpf_htons(IP_DF), .ttl = OUT_TTL,
			.protocol = IPPROTO_TCP,
			.saddr = f->saddr[3], .daddr = f->daddr[3],
		};

		ip.check = csum_fold_words(&ip, sizeof(ip));
		return bpf_skb_store_bytes(skb, ETH_HLEN, &ip, sizeof(ip), BPF_F_RECOMPUTE_CSUM);
	}
	struct ipv6hdr ip6 = {
		.version = 6, .priority = tos >> 4,
		.payload_len = bpf_htons(l4_len),
		.nexthdr = IPPROTO_TCP, .hop_limit = OUT_TTL,
	};

	ip6.flow_lbl[0] = (tos & 0xf) << 4;
	__builtin_memcpy(&ip6.saddr, f->saddr, 16);
	__builtin_memcpy(&ip6.daddr, f->daddr, 16);
	return bpf_skb_store_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6), BPF_F_RECOMPUTE_CSUM);
}

/*
 * Send the translated segment on: out of the interface the route to its
 * new destination names, to the next hop it names (the FIB asked as for a
 * forwarded packet, from where it came in), or, where the router does not
 * forward that family (the FIB then does not answer), out of the one the
 * other peer's segments come in on.  The kernel resolves the next hop's
 * link-layer address.  nexthop: hand the redirect the next hop the FIB
 * named, so that it does not look the route up a second time (every
 * segment); 0 where the stack is short (ICMP errors: few, and theirs is
 * full of the messages they build).
 */
static __always_inline int forward(struct __sk_buff *skb, const struct faithd_xl_flow *f,
				   int nexthop)
{
	/* No tot_len: a GSO skb is longer than the MTU, and the answer to
	 * that (FRAG_NEEDED) comes before the interface is filled in. */
	struct bpf_fib_lookup p = {
		.l4_protocol = IPPROTO_TCP, .ifindex = skb->ingress_ifindex,
	};
	struct bpf_redir_neigh nh = {};
	long rc;

	if (f->out_v4) {
		p.family = AF_INET;
		p.ipv4_src = f->saddr[3];
		p.ipv4_dst = f->daddr[3];
	} else {
		p.family = AF_INET6;
		__builtin_memcpy(p.ipv6_src, f->saddr, 16);
		__builtin_memcpy(p.ipv6_dst, f->daddr, 16);
	}
	/* The next hop's address, not its neighbour entry: the redirect
	 * looks that up (and makes it) itself. */
	rc = bpf_fib_lookup(skb, &p, sizeof(p), BPF_FIB_LOOKUP_SKIP_NEIGH);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return bpf_redirect_neigh(f->out_ifindex, NULL, 0, 0);
	if (!nexthop)
		return bpf_redirect_neigh(p.ifindex, NULL, 0, 0);
	nh.nh_family = p.family;	/* AF_INET6 too for IPv4: RFC 5549 */
	if (p.family == AF_INET)
		nh.ipv4_nh = p.ipv4_dst;
	else
		__builtin_memcpy(nh.ipv6_nh, p.ipv6_dst, 16);
	return bpf_redirect_neigh(p.ifindex, &nh, sizeof(nh), 0);
}

#endif /* FAITHD_XLATE_OUT_H */

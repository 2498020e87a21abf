// SPDX-License-Identifier: BSD-2-Clause
/* test_xlate's frames (xlate_frames.h). */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <string.h>

#include "xlate_frames.h"

/* ---- checksums, fields --------------------------------------------------- */

uint32_t sum16(uint32_t sum, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum += i & 1 ? b[i] : (uint32_t)b[i] << 8;
	return sum;
}

uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

uint16_t get16(const uint8_t *b)
{
	return b[0] << 8 | b[1];
}

uint32_t get32(const uint8_t *b)
{
	return (uint32_t)get16(b) << 16 | get16(b + 2);
}

/* The TCP pseudo header of the IP header at ip, l4_len bytes of TCP. */
uint32_t pseudo_sum(const uint8_t *ip, bool v4, uint32_t l4_len)
{
	uint32_t sum = IPPROTO_TCP + l4_len;

	return v4 ? sum16(sum, ip + 12, 8) : sum16(sum, ip + 8, 32);
}

/* Is the TCP checksum of the frame right, its length from its IP header? */
bool tcp_csum_ok(const uint8_t *frame, uint32_t frame_len, bool v4)
{
	const uint8_t *ip = frame + ETH_HLEN;
	size_t l3 = v4 ? IP4_HLEN : IP6_HLEN;
	uint32_t l4_len = v4 ? get16(ip + 2) - (uint32_t)IP4_HLEN : get16(ip + 4);

	if (ETH_HLEN + l3 + l4_len > frame_len || l4_len < TCP_HLEN)
		return false;
	return fold(sum16(pseudo_sum(ip, v4, l4_len), ip + l3, l4_len)) == 0xffff;
}

/* ---- frames -------------------------------------------------------------- */

/*
 * The frame of s, between the addresses and ports given (network order;
 * IPv4 addresses IPv4-mapped), checksums right.  out: as the program sends
 * it (TTL 64, identification 0), else as a peer would (IN_TTL, IN_ID).
 */
void build(struct pkt *p, const struct seg *s, const __u32 *saddr,
		  const __u32 *daddr, __u16 sport, __u16 dport, bool out)
{
	size_t ip, l4, hlen = TCP_HLEN + (s->ts ? 12 : 0) + (s->nsack ? 4 + 8 * s->nsack : 0);
	uint8_t *h, *o;

	p->len = 0;
	pkt_put_eth(p, pkt_mac1, pkt_mac2, s->v4 ? ETH_P_IP : ETH_P_IPV6);
	if (s->v4) {
		ip = pkt_put_ip4(p, IPPROTO_TCP, ntohl(saddr[3]), ntohl(daddr[3]));
		p->b[ip + 1] = s->tos;
		put_be16(p->b + ip + 4, out ? 0 : IN_ID);
		put_be16(p->b + ip + 6, 0x4000);	/* DF */
		p->b[ip + 8] = out ? OUT_TTL : IN_TTL;
	} else {
		ip = pkt_put_ip6(p, IPPROTO_TCP, (const uint8_t *)saddr,
				 (const uint8_t *)daddr);
		p->b[ip] = 0x60 | s->tos >> 4;
		p->b[ip + 1] = (s->tos & 0xf) << 4;
		p->b[ip + 7] = out ? OUT_TTL : IN_TTL;
	}
	l4 = p->len;
	h = pkt_put(p, hlen);
	memcpy(h, &sport, 2);
	memcpy(h + 2, &dport, 2);
	put_be32(h + 4, s->seq);
	put_be32(h + 8, s->ack);
	h[12] = hlen / 4 << 4;
	h[13] = s->flags;
	put_be16(h + 14, s->win);
	o = h + TCP_HLEN;
	if (s->ts) {
		memcpy(o, "\x01\x01\x08\x0a", 4);
		put_be32(o + 4, s->tsval);
		put_be32(o + 8, s->tsecr);
		o += 12;
	}
	if (s->nsack) {
		o[0] = o[1] = 1;
		o[2] = 5;
		o[3] = 2 + 8 * s->nsack;
		for (int e = 0; e < 2 * s->nsack; e++)
			put_be32(o + 4 + 4 * e, s->sack[e]);
	}
	o = pkt_put(p, s->payload);
	for (int i = 0; i < s->payload; i++)
		o[i] = i * 7 + 1;
	if (s->v4) {
		pkt_set_ip4_len(p, ip);
		put_be16(p->b + ip + 10, ~fold(sum16(0, p->b + ip, IP4_HLEN)));
	} else {
		pkt_set_plen(p, ip);
	}
	put_be16(h + 16, ~fold(sum16(pseudo_sum(p->b + ip, s->v4, p->len - l4),
				     h, p->len - l4)));
	pkt_put(p, s->pad);
	if (s->l3_lie)
		put_be16(p->b + ip + (s->v4 ? 2 : 4), s->l3_lie);
}

/* ---- ICMP errors ---------------------------------------------------------- */

/* A Packet Too Big (MTU mtu) from a router on the client's path, quoting
 * a translated segment from the faith address to dst:dport. */
void build_ptb(struct pkt *p, uint8_t type, const char *dst, uint16_t dport, uint32_t seq,
	       uint32_t mtu)
{
	uint8_t hop[16], faith[16], client[16];
	size_t ip, q;
	uint8_t *h;

	pkt_addr6("2001:db8:9::1", hop);
	pkt_addr6(FAITH6, faith);
	pkt_addr6(dst, client);
	p->len = 0;
	pkt_put_eth(p, pkt_mac1, pkt_mac2, ETH_P_IPV6);
	ip = pkt_put_ip6(p, IPPROTO_ICMPV6, hop, faith);
	pkt_put_icmp6(p, type);
	put_be32(p->b + p->len - 4, mtu);
	q = pkt_put_ip6(p, IPPROTO_TCP, faith, client);
	h = pkt_put(p, TCP_HLEN);
	put_be16(h, SPORT);
	put_be16(h + 2, dport);
	put_be32(h + 4, seq);
	h[12] = TCP_HLEN / 4 << 4;
	h[13] = ACK;
	put_be16(p->b + q + 4, 1440);	/* what the quoted segment carried */
	pkt_set_plen(p, ip);
}

/* A fragmentation needed (next-hop MTU mtu) from a router on the server's
 * path, quoting a translated segment from the router to dst:dport. */
void build_frag(struct pkt *p, uint8_t code, uint32_t dst, uint16_t dport, uint32_t seq,
		uint16_t mtu)
{
	size_t ip, q;
	uint8_t *h;

	p->len = 0;
	pkt_put_eth(p, pkt_mac1, pkt_mac2, ETH_P_IP);
	ip = pkt_put_ip4(p, IPPROTO_ICMP, 0xc00002fe, ROUTER4);
	h = pkt_put(p, 8);
	h[0] = 3;
	h[1] = code;
	put_be16(h + 6, mtu);
	q = pkt_put_ip4(p, IPPROTO_TCP, ROUTER4, dst);
	h = pkt_put(p, TCP_HLEN);
	put_be16(h, UPORT);
	put_be16(h + 2, dport);
	put_be32(h + 4, seq);
	h[12] = TCP_HLEN / 4 << 4;
	h[13] = ACK;
	put_be16(p->b + q + 2, 1480);	/* what the quoted segment carried */
	pkt_set_ip4_len(p, ip);
}

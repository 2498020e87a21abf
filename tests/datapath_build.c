// SPDX-License-Identifier: BSD-2-Clause
/*
 * The test's packets, from the struct spec of each case: Ethernet, then
 * IPv6 with its extension headers and upper-layer header (an ICMPv6 error
 * quoting a second such packet), or IPv4 TCP, or ARP.
 */
#include <netinet/in.h>
#include <string.h>

#include "datapath.h"

#define TCP_DPORT	443
#define TCP_SEQ		0x11223344
#define UDP_DPORT	53
#define IP4_CLIENT	0xc6336401	/* 198.51.100.1 */
#define IP4_SERVER	0xc0000201	/* 192.0.2.1 */

static void put_l3(struct pkt *p, const struct l3 *ip, const struct l3 *quote,
		   const char *src, const char *dst);

static void put_upper(struct pkt *p, const struct l3 *ip,
		      const struct l3 *quote)
{
	switch (ip->l4) {
	case IPPROTO_TCP:
		pkt_put_tcp_syn(p, TCP_DPORT, TCP_SEQ, ip->l4_len);
		break;
	case IPPROTO_UDP:
		pkt_put_udp(p, UDP_DPORT, 0);
		break;
	case IPPROTO_ICMPV6:
		pkt_put_icmp6(p, ip->icmp_type);
		/* An error quotes the packet it is about: ours, going back. */
		if (quote && ip->icmp_type < 128)
			put_l3(p, quote, NULL, FAITH_A, CLIENT);
		break;
	}
}

/* ip, its addresses defaulting to src and dst; quote: see put_upper(). */
static void put_l3(struct pkt *p, const struct l3 *ip, const struct l3 *quote,
		   const char *src, const char *dst)
{
	uint8_t src6[16], dst6[16], segment[16];
	size_t off;
	int i;

	pkt_addr6(ip->src ? ip->src : src, src6);
	pkt_addr6(ip->dst ? ip->dst : dst, dst6);
	pkt_addr6(CLIENT, segment);
	off = pkt_put_ip6(p, ip->n_ext ? ip->ext[0] : ip->l4, src6, dst6);
	for (i = 0; i < ip->n_ext; i++) {
		uint8_t next = i + 1 < ip->n_ext ? ip->ext[i + 1] : ip->l4;

		if (ip->ext[i] != IPPROTO_FRAGMENT) {
			pkt_put_ext(p, ip->ext[i], next, segment);
			continue;
		}
		pkt_put_frag(p, next, ip->frag_off, ip->frag_more);
		if (ip->frag_off) {	/* later fragment: just data */
			memset(pkt_put(p, 16), 0xaa, 16);
			pkt_set_plen(p, off);
			return;
		}
	}
	put_upper(p, ip, quote);
	pkt_set_plen(p, off);
}

static void put_ipv4_tcp(struct pkt *p)
{
	size_t off = pkt_put_ip4(p, IPPROTO_TCP, IP4_CLIENT, IP4_SERVER);

	pkt_put_tcp_syn(p, TCP_DPORT, TCP_SEQ, 0);
	pkt_set_ip4_len(p, off);
}

void build(struct pkt *p, const struct spec *s)
{
	uint16_t type = s->ethertype ? s->ethertype : ETH_P_IPV6;

	p->len = 0;
	pkt_put_eth(p, pkt_mac1, pkt_mac2, type);
	if (type == ETH_P_IP) {
		put_ipv4_tcp(p);
		return;
	}
	if (type == ETH_P_ARP) {
		pkt_put_arp_request(p, IP4_CLIENT, IP4_SERVER);
		return;
	}
	put_l3(p, &s->ip, &s->quote, CLIENT, FAITH_A);
	if (s->version)
		p->b[IP6_OFF] = (uint8_t)(s->version << 4);
	if (s->zero_plen)
		put_be16(p->b + IP6_OFF + 4, 0);
	pkt_put(p, s->pad);		/* zeros */
}

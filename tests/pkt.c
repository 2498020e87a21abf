// SPDX-License-Identifier: BSD-2-Clause
/*
 * Packet builders for BPF_PROG_TEST_RUN (see pkt.h): Ethernet, IPv6 and its
 * extension headers, IPv4, TCP, UDP, ICMPv6 and ARP, byte by byte.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pkt.h"

#define IP6_HLEN	40
#define IP4_HLEN	20
#define TCP_HLEN	20
#define UDP_HLEN	8

const uint8_t pkt_mac1[6] = { 0x02, 0, 0, 0, 0, 0x01 };
const uint8_t pkt_mac2[6] = { 0x02, 0, 0, 0, 0, 0x02 };

void put_be16(uint8_t *h, uint16_t v)
{
	h[0] = v >> 8;
	h[1] = v & 0xff;
}

void put_be32(uint8_t *h, uint32_t v)
{
	put_be16(h, (uint16_t)(v >> 16));
	put_be16(h + 2, (uint16_t)v);
}

/* The addresses are the callers' own constants: a typo is a bug, not input. */
void pkt_addr6(const char *text, uint8_t addr[16])
{
	if (inet_pton(AF_INET6, text, addr) != 1)
		abort();
}

/* Append n zero bytes; returns where they start. */
uint8_t *pkt_put(struct pkt *p, size_t n)
{
	uint8_t *h = p->b + p->len;

	if (p->len + n > PKT_MAX)
		abort();
	memset(h, 0, n);
	p->len += n;
	return h;
}

void pkt_put_eth(struct pkt *p, const uint8_t dst[6], const uint8_t src[6],
		 uint16_t ethertype)
{
	uint8_t *h = pkt_put(p, 14);

	memcpy(h, dst, 6);
	memcpy(h + 6, src, 6);
	put_be16(h + 12, ethertype);
}

/*
 * Payload length 0 until pkt_set_plen(): what follows is not known yet.
 * Returns the header's offset, for pkt_set_plen().
 */
size_t pkt_put_ip6(struct pkt *p, uint8_t nexthdr, const uint8_t src[16],
		   const uint8_t dst[16])
{
	size_t off = p->len;
	uint8_t *h = pkt_put(p, IP6_HLEN);

	h[0] = 0x60;			/* version 6 */
	h[6] = nexthdr;
	h[7] = 64;			/* hop limit */
	memcpy(h + 8, src, 16);
	memcpy(h + 24, dst, 16);
	return off;
}

/* Payload length: everything appended after the header at ip6_off. */
void pkt_set_plen(struct pkt *p, size_t ip6_off)
{
	put_be16(p->b + ip6_off + 4, p->len - ip6_off - IP6_HLEN);
}

/*
 * Extension headers of different sizes to exercise the length arithmetic:
 * hop-by-hop 8 bytes and destination options 16 (one PadN option each),
 * routing 24 (a segment routing header, one segment, none left).
 */
void pkt_put_ext(struct pkt *p, uint8_t type, uint8_t nexthdr,
		 const uint8_t segment[16])
{
	size_t len = type == IPPROTO_HOPOPTS ? 8 :
		     type == IPPROTO_DSTOPTS ? 16 : 24;
	uint8_t *h = pkt_put(p, len);

	h[0] = nexthdr;
	h[1] = len / 8 - 1;
	if (type == IPPROTO_ROUTING) {
		h[2] = 4;		/* SRH */
		memcpy(h + 8, segment, 16);
	} else {
		h[2] = 1;		/* PadN */
		h[3] = len - 4;
	}
}

/* off: the fragment offset in 8-byte units; more: the M flag. */
void pkt_put_frag(struct pkt *p, uint8_t nexthdr, uint16_t off, bool more)
{
	uint8_t *h = pkt_put(p, 8);

	h[0] = nexthdr;
	put_be16(h + 2, (uint16_t)(off << 3 | more));
	put_be32(h + 4, 0x12345678);	/* identification */
}

/* A 20-byte header; total length 0 until pkt_set_ip4_len(). */
size_t pkt_put_ip4(struct pkt *p, uint8_t protocol, uint32_t src,
		   uint32_t dst)
{
	size_t off = p->len;
	uint8_t *h = pkt_put(p, IP4_HLEN);

	h[0] = 0x45;			/* version 4, 20-byte header */
	h[8] = 64;			/* TTL */
	h[9] = protocol;
	put_be32(h + 12, src);
	put_be32(h + 16, dst);
	return off;
}

/* Total length: the header at ip4_off and everything after it. */
void pkt_set_ip4_len(struct pkt *p, size_t ip4_off)
{
	put_be16(p->b + ip4_off + 2, p->len - ip4_off);
}

/*
 * The first len bytes (0: all 20) of a TCP SYN without options: cutting it
 * short is how the tests quote too little of it in an ICMPv6 error.
 */
void pkt_put_tcp_syn(struct pkt *p, uint16_t dport, uint32_t seq, size_t len)
{
	uint8_t h[TCP_HLEN] = { 0 };

	put_be16(h, PKT_SPORT);
	put_be16(h + 2, dport);
	put_be32(h + 4, seq);
	h[12] = (TCP_HLEN / 4) << 4;	/* data offset */
	h[13] = 0x02;			/* SYN */
	put_be16(h + 14, 64240);	/* window */
	len = len ? len : sizeof(h);
	memcpy(pkt_put(p, len), h, len);
}

/* A UDP header and payload_len zero bytes. */
void pkt_put_udp(struct pkt *p, uint16_t dport, size_t payload_len)
{
	uint8_t *h = pkt_put(p, UDP_HLEN);

	put_be16(h, PKT_SPORT);
	put_be16(h + 2, dport);
	put_be16(h + 4, UDP_HLEN + payload_len);
	pkt_put(p, payload_len);
}

/* The 8-byte ICMPv6 header; an error's quote is up to the caller. */
void pkt_put_icmp6(struct pkt *p, uint8_t type)
{
	uint8_t *h = pkt_put(p, 8);

	h[0] = type;
	if (type == 2)			/* packet too big: the MTU */
		put_be16(h + 6, 1280);
	else if (type == 128 || type == 129)
		put_be16(h + 4, 0x1234);	/* echo identifier */
}

/* Who has target, tell sender: Ethernet/IPv4, hardware addresses zero. */
void pkt_put_arp_request(struct pkt *p, uint32_t sender, uint32_t target)
{
	uint8_t *h = pkt_put(p, 28);

	put_be16(h, 1);			/* Ethernet */
	put_be16(h + 2, 0x0800);	/* IPv4 */
	h[4] = 6;
	h[5] = 4;
	put_be16(h + 6, 1);		/* request */
	put_be32(h + 14, sender);
	put_be32(h + 24, target);
}

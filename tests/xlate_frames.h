/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_xlate's frames: the addresses and ports of its one connection, the
 * segments and ICMP errors it sends the program, checksums and fields.
 */
#ifndef XLATE_FRAMES_H
#define XLATE_FRAMES_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "pkt.h"

#define TCX_NEXT	(-1)
#define IP4_HLEN	20
#define IP6_HLEN	40
#define TCP_HLEN	20
#define IN_TTL		57	/* the crafted frames' TTL and hop limit */
#define OUT_TTL		64	/* the program's */
#define IN_ID		0x1234	/* the crafted IPv4 frames' identification */
#define IFINDEX_IN	1	/* lo: where the frames "come in" */

enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };	/* TCP flags */

/* Client to faith address, the relay's upstream socket to the server. */
#define CLIENT6		"2001:db8:1::c"
#define FAITH6		"64:ff9b::c000:201"
#define SERVER4		0xc0000201	/* 192.0.2.1 */
#define ROUTER4		0xc6336401	/* 198.51.100.1 */
#define CPORT		40000
#define UPORT		50000
#define SPORT		443

/* One TCP segment; options in this order: NOP NOP TS, NOP NOP SACK. */
struct seg {
	bool v4;		/* IPv4 (the server's side), else IPv6 */
	uint8_t tos;		/* TOS, traffic class */
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t win;
	bool ts;
	uint32_t tsval, tsecr;
	uint8_t nsack;		/* SACK blocks, two edges each */
	uint32_t sack[4];
	uint16_t payload;	/* bytes of it */
	uint8_t pad;		/* Ethernet padding after the IP packet */
	uint16_t l3_lie;	/* if set: the IP length field says this */
};

uint32_t sum16(uint32_t sum, const uint8_t *b, size_t n);
uint16_t fold(uint32_t sum);
uint16_t get16(const uint8_t *b);
uint32_t get32(const uint8_t *b);
/* The TCP pseudo header of the IP header at ip, l4_len bytes of TCP. */
uint32_t pseudo_sum(const uint8_t *ip, bool v4, uint32_t l4_len);
/* Is the TCP checksum of the frame right, its length from its IP header? */
bool tcp_csum_ok(const uint8_t *frame, uint32_t frame_len, bool v4);
/* The frame of s between the addresses and ports given (network order;
 * IPv4 addresses IPv4-mapped); out: as the program sends it. */
void build(struct pkt *p, const struct seg *s, const __u32 *saddr,
	   const __u32 *daddr, __u16 sport, __u16 dport, bool out);
/* An ICMPv6 error (type) from a router on the client's path about a
 * segment from the faith address to dst:dport (seq), MTU mtu. */
void build_ptb(struct pkt *p, uint8_t type, const char *dst, uint16_t dport, uint32_t seq,
	       uint32_t mtu);
/* An ICMPv4 unreachable (code) from a router on the server's path about a
 * segment from the router to dst:dport (seq), next-hop MTU mtu. */
void build_frag(struct pkt *p, uint8_t code, uint32_t dst, uint16_t dport, uint32_t seq,
		uint16_t mtu);

#endif /* XLATE_FRAMES_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Packet builders for BPF_PROG_TEST_RUN, shared by tests/test_datapath and
 * bench/bench_datapath.  Each pkt_put_*() appends one header, in network
 * byte order, to a struct pkt.  Checksums stay zero: nothing on the paths
 * under test checks them.
 *
 * Source ports, TCP window, hop limit and TTL are fixed; addresses, MAC
 * order, destination ports and TCP sequence numbers are parameters: the test
 * and the benchmark each use their own.
 */
#ifndef FAITH_PKT_H
#define FAITH_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_MAX		512
#define PKT_SPORT	40000	/* every TCP and UDP source port */

struct pkt {
	uint8_t b[PKT_MAX];
	size_t len;
};

/* Two locally administered MAC addresses, 02:00:00:00:00:01 and :02. */
extern const uint8_t pkt_mac1[6], pkt_mac2[6];

void put_be16(uint8_t *h, uint16_t v);
void put_be32(uint8_t *h, uint32_t v);
void pkt_addr6(const char *text, uint8_t addr[16]);

uint8_t *pkt_put(struct pkt *p, size_t n);
void pkt_put_eth(struct pkt *p, const uint8_t dst[6], const uint8_t src[6],
		 uint16_t ethertype);

size_t pkt_put_ip6(struct pkt *p, uint8_t nexthdr, const uint8_t src[16],
		   const uint8_t dst[16]);
void pkt_set_plen(struct pkt *p, size_t ip6_off);
void pkt_put_ext(struct pkt *p, uint8_t type, uint8_t nexthdr,
		 const uint8_t segment[16]);
void pkt_put_frag(struct pkt *p, uint8_t nexthdr, uint16_t off, bool more);

size_t pkt_put_ip4(struct pkt *p, uint8_t protocol, uint32_t src,
		   uint32_t dst);
void pkt_set_ip4_len(struct pkt *p, size_t ip4_off);

void pkt_put_tcp_syn(struct pkt *p, uint16_t dport, uint32_t seq, size_t len);
void pkt_put_udp(struct pkt *p, uint16_t dport, size_t payload_len);
void pkt_put_icmp6(struct pkt *p, uint8_t type);
void pkt_put_arp_request(struct pkt *p, uint32_t sender, uint32_t target);

#endif /* FAITH_PKT_H */

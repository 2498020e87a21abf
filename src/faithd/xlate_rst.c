// SPDX-License-Identifier: BSD-2-Clause
/*
 * faithd --translate-after syn: the resets faithd sends when it forgets a
 * connection the program carried (idle timeout, unanswered SYN, stopping),
 * as its workers reset both peers of a connection they give up: otherwise
 * the peers would hold it open, and the server's socket would answer the
 * next connection the client makes from the same port with an ACK of the
 * old one.  Raw sockets, opened while faithd still has the privilege; each
 * reset carries the sequence number the peer expects next (RFC 5961: a
 * reset elsewhere in the window draws a challenge ACK, which finds no
 * entry and the router's stack resets it again, exactly).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "faithd/xlate.h"
#include "faithd/xlate_maps.h"

#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL	36
#endif

int xlate_rst_open(struct faithd_xlate *xl)
{
	int one = 1;

	xl->raw4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	xl->raw6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (xl->raw4 < 0 || xl->raw6 < 0 ||
	    setsockopt(xl->raw6, IPPROTO_IPV6, IPV6_HDRINCL, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

void xlate_rst_close(struct faithd_xlate *xl)
{
	if (xl->raw4 >= 0)
		close(xl->raw4);
	if (xl->raw6 >= 0)
		close(xl->raw6);
	xl->raw4 = xl->raw6 = -1;
}

static uint32_t sum16(const void *p, size_t len, uint32_t sum)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* A reset at seq from sport to dport; with ack, acknowledging it (what a
 * peer in SYN-SENT takes, RFC 793). */
static void rst_header(struct tcphdr *th, uint16_t sport, uint16_t dport, uint32_t seq,
		       uint32_t ack)
{
	memset(th, 0, sizeof(*th));
	th->source = sport;
	th->dest = dport;
	th->seq = htonl(seq);
	th->doff = sizeof(*th) / 4;
	th->rst = 1;
	if (ack) {
		th->ack = 1;
		th->ack_seq = htonl(ack);
	}
}

/* The sender of f's next sequence number, in its numbers: after its FIN,
 * if it sent one (a reset below it would be dropped). */
static uint32_t next_seq(const struct faithd_xl_flow *f)
{
	return f->flags & FAITHD_XL_SEEN_FIN ? f->fin_end : f->nxt;
}

/* To the server: what the client's entry c would send it. */
static void rst_server(const struct faithd_xlate *xl, const struct faithd_xl_flow *c)
{
	struct {
		struct iphdr ip;
		struct tcphdr th;
	} pkt;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = c->daddr[3] };
	uint32_t sum;

	memset(&pkt, 0, sizeof(pkt));
	pkt.ip.version = 4;
	pkt.ip.ihl = 5;
	pkt.ip.tot_len = htons(sizeof(pkt));
	pkt.ip.frag_off = htons(IP_DF);
	pkt.ip.ttl = 64;
	pkt.ip.protocol = IPPROTO_TCP;
	pkt.ip.saddr = c->saddr[3];
	pkt.ip.daddr = c->daddr[3];
	rst_header(&pkt.th, c->sport, c->dport, next_seq(c) + c->seq_delta, 0);
	sum = sum16(&pkt.ip.saddr, 8, IPPROTO_TCP + sizeof(pkt.th));
	pkt.th.check = fold(sum16(&pkt.th, sizeof(pkt.th), sum));
	sendto(xl->raw4, &pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to));
}

/* To the client: what the server's entry s would send it; a connection
 * still unanswered (c: the client's entry), the reset of its SYN. */
static void rst_client(const struct faithd_xlate *xl, const struct faithd_xl_flow *s,
		       const struct faithd_xl_flow *c)
{
	struct {
		struct ip6_hdr ip6;
		struct tcphdr th;
	} pkt;
	struct sockaddr_in6 to = { .sin6_family = AF_INET6 };
	uint32_t sum;

	memset(&pkt, 0, sizeof(pkt));
	pkt.ip6.ip6_flow = htonl(6u << 28);
	pkt.ip6.ip6_plen = htons(sizeof(pkt.th));
	pkt.ip6.ip6_nxt = IPPROTO_TCP;
	pkt.ip6.ip6_hlim = 64;
	memcpy(&pkt.ip6.ip6_src, s->saddr, 16);
	memcpy(&pkt.ip6.ip6_dst, s->daddr, 16);
	memcpy(&to.sin6_addr, s->daddr, 16);
	if (c->state == FAITHD_XL_SYN)
		rst_header(&pkt.th, s->sport, s->dport, 0, c->nxt);
	else
		rst_header(&pkt.th, s->sport, s->dport, next_seq(s) + s->seq_delta, 0);
	sum = sum16(&pkt.ip6.ip6_src, 32, IPPROTO_TCP + sizeof(pkt.th));
	pkt.th.check = fold(sum16(&pkt.th, sizeof(pkt.th), sum));
	sendto(xl->raw6, &pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to));
}

void xlate_rst_both(const struct faithd_xlate *xl, const struct faithd_xl_flow *c,
		    const struct faithd_xl_flow *s)
{
	/* The server of a connection still unanswered has none to reset. */
	if (xl->raw4 >= 0 && c->state == FAITHD_XL_ACTIVE)
		rst_server(xl, c);
	if (xl->raw6 >= 0 && s->state == c->state)
		rst_client(xl, s, c);
}

// SPDX-License-Identifier: BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "faithd/addrmap.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* An IPv4 address in host order, for the table below. */
#define IP4(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* Byte 8 of an IPv6 address holds bits 64-71, RFC 6052's "u" octet. */
#define U_OCTET		8

static bool rfc6052_len(unsigned int prefixlen)
{
	switch (prefixlen) {
	case 32: case 40: case 48: case 56: case 64: case 96:
		return true;
	}
	return false;
}

/*
 * Where the four IPv4 bytes go: right after the prefix, stepping over the
 * u octet.  The same walk gives every row of RFC 6052's figure 1.
 */
static void v4_positions(unsigned int prefixlen, unsigned int pos[4])
{
	unsigned int p = prefixlen / 8, i;

	for (i = 0; i < 4; i++) {
		if (p == U_OCTET)
			p++;
		pos[i] = p++;
	}
}

int faithd_extract_v4(const struct in6_addr *a6, unsigned int prefixlen,
		      struct in_addr *out)
{
	unsigned int pos[4], i;
	uint8_t *v4 = (uint8_t *)&out->s_addr;

	if (!rfc6052_len(prefixlen))
		return -EINVAL;
	if (prefixlen < 96 && a6->s6_addr[U_OCTET])
		return -EINVAL;
	v4_positions(prefixlen, pos);
	for (i = 0; i < 4; i++)
		v4[i] = a6->s6_addr[pos[i]];
	return 0;
}

int faithd_embed_v4(const struct in6_addr *prefix, unsigned int prefixlen,
		    struct in_addr v4, struct in6_addr *out)
{
	const uint8_t *b = (const uint8_t *)&v4.s_addr;
	unsigned int pos[4], i;

	if (!rfc6052_len(prefixlen))
		return -EINVAL;
	/* Every valid length is whole bytes: no partial byte to mask. */
	memset(out, 0, sizeof(*out));
	memcpy(out->s6_addr, prefix->s6_addr, prefixlen / 8);
	v4_positions(prefixlen, pos);
	for (i = 0; i < 4; i++)
		out->s6_addr[pos[i]] = b[i];
	return 0;
}

/*
 * IPv4 ranges with a special purpose: the IANA IPv4 Special-Purpose
 * Address Registry (RFC 6890 and its updates) plus multicast (RFC 5771).
 * Entries not globally reachable are SPECIAL; those no relay may ever
 * connect to are FORBIDDEN; registry entries that are globally reachable
 * are GLOBAL and listed only to be named.  Nested ranges are fine: the
 * longest match decides.
 *
 * 192.88.99.0/24, once 6to4 relay anycast, was deprecated by RFC 7526 and
 * is not to be reassigned; the registry no longer calls it globally
 * reachable.  No TCP service is meant to be there, so it is SPECIAL: a
 * rule may still permit it explicitly.
 */
static const struct v4_range {
	uint32_t net;		/* host order */
	uint8_t len;
	enum faithd_dst_class cls;
	const char *name;
} ranges[] = {
	{ IP4(0, 0, 0, 0), 8, FAITHD_DST_FORBIDDEN, "0.0.0.0/8 \"this network\"" },
	{ IP4(0, 0, 0, 0), 32, FAITHD_DST_FORBIDDEN,
	  "0.0.0.0/32 \"this host on this network\"" },
	{ IP4(10, 0, 0, 0), 8, FAITHD_DST_SPECIAL, "10.0.0.0/8 private use" },
	{ IP4(100, 64, 0, 0), 10, FAITHD_DST_SPECIAL,
	  "100.64.0.0/10 shared address space" },
	{ IP4(127, 0, 0, 0), 8, FAITHD_DST_FORBIDDEN, "127.0.0.0/8 loopback" },
	{ IP4(169, 254, 0, 0), 16, FAITHD_DST_FORBIDDEN,
	  "169.254.0.0/16 link local" },
	{ IP4(172, 16, 0, 0), 12, FAITHD_DST_SPECIAL, "172.16.0.0/12 private use" },
	{ IP4(192, 0, 0, 0), 24, FAITHD_DST_SPECIAL,
	  "192.0.0.0/24 IETF protocol assignments" },
	{ IP4(192, 0, 0, 0), 29, FAITHD_DST_SPECIAL,
	  "192.0.0.0/29 IPv4 service continuity prefix" },
	{ IP4(192, 0, 0, 8), 32, FAITHD_DST_SPECIAL,
	  "192.0.0.8/32 IPv4 dummy address" },
	{ IP4(192, 0, 0, 9), 32, FAITHD_DST_GLOBAL,
	  "192.0.0.9/32 Port Control Protocol anycast" },
	{ IP4(192, 0, 0, 10), 32, FAITHD_DST_GLOBAL,
	  "192.0.0.10/32 Traversal Using Relays around NAT anycast" },
	{ IP4(192, 0, 0, 170), 32, FAITHD_DST_SPECIAL,
	  "192.0.0.170/32 NAT64/DNS64 discovery" },
	{ IP4(192, 0, 0, 171), 32, FAITHD_DST_SPECIAL,
	  "192.0.0.171/32 NAT64/DNS64 discovery" },
	{ IP4(192, 0, 2, 0), 24, FAITHD_DST_SPECIAL,
	  "192.0.2.0/24 documentation (TEST-NET-1)" },
	{ IP4(192, 31, 196, 0), 24, FAITHD_DST_GLOBAL, "192.31.196.0/24 AS112-v4" },
	{ IP4(192, 52, 193, 0), 24, FAITHD_DST_GLOBAL,
	  "192.52.193.0/24 automatic multicast tunneling (AMT)" },
	{ IP4(192, 88, 99, 0), 24, FAITHD_DST_SPECIAL,
	  "192.88.99.0/24 deprecated 6to4 relay anycast" },
	{ IP4(192, 168, 0, 0), 16, FAITHD_DST_SPECIAL, "192.168.0.0/16 private use" },
	{ IP4(192, 175, 48, 0), 24, FAITHD_DST_GLOBAL,
	  "192.175.48.0/24 direct delegation AS112 service" },
	{ IP4(198, 18, 0, 0), 15, FAITHD_DST_SPECIAL, "198.18.0.0/15 benchmarking" },
	{ IP4(198, 51, 100, 0), 24, FAITHD_DST_SPECIAL,
	  "198.51.100.0/24 documentation (TEST-NET-2)" },
	{ IP4(203, 0, 113, 0), 24, FAITHD_DST_SPECIAL,
	  "203.0.113.0/24 documentation (TEST-NET-3)" },
	{ IP4(224, 0, 0, 0), 4, FAITHD_DST_FORBIDDEN, "224.0.0.0/4 multicast" },
	{ IP4(240, 0, 0, 0), 4, FAITHD_DST_FORBIDDEN,
	  "240.0.0.0/4 reserved for future use" },
	{ IP4(255, 255, 255, 255), 32, FAITHD_DST_FORBIDDEN,
	  "255.255.255.255/32 limited broadcast" },
};

static uint32_t mask_of(unsigned int len)
{
	/* A shift by 32 would be undefined. */
	return len ? ~(uint32_t)0 << (32 - len) : 0;
}

static const struct v4_range *find_range(struct in_addr v4)
{
	const struct v4_range *best = NULL;
	uint32_t a = ntohl(v4.s_addr);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ranges); i++) {
		const struct v4_range *r = &ranges[i];

		if ((a & mask_of(r->len)) != r->net)
			continue;
		if (!best || r->len > best->len)
			best = r;
	}
	return best;
}

enum faithd_dst_class faithd_classify_v4(struct in_addr v4)
{
	const struct v4_range *r = find_range(v4);

	return r ? r->cls : FAITHD_DST_GLOBAL;
}

bool faithd_dst_range_at(size_t i, struct in_addr *net, unsigned int *len,
			 enum faithd_dst_class *cls)
{
	if (i >= ARRAY_SIZE(ranges))
		return false;
	net->s_addr = htonl(ranges[i].net);
	*len = ranges[i].len;
	*cls = ranges[i].cls;
	return true;
}

const char *faithd_dst_class_name(enum faithd_dst_class cls)
{
	switch (cls) {
	case FAITHD_DST_GLOBAL:
		return "global";
	case FAITHD_DST_SPECIAL:
		return "special";
	case FAITHD_DST_FORBIDDEN:
		return "forbidden";
	}
	return "unknown";
}

const char *faithd_dst_range_name(struct in_addr v4)
{
	const struct v4_range *r = find_range(v4);

	return r ? r->name : NULL;
}

bool faithd_is_wkp(const struct in6_addr *prefix, unsigned int prefixlen)
{
	static const uint8_t wkp[12] = { 0x00, 0x64, 0xff, 0x9b };

	return prefixlen == 96 && !memcmp(prefix->s6_addr, wkp, sizeof(wkp));
}

bool faithd_is_v4mapped(const struct in6_addr *a)
{
	static const uint8_t mapped[12] = {
		[10] = 0xff, [11] = 0xff,
	};

	return !memcmp(a->s6_addr, mapped, sizeof(mapped));
}

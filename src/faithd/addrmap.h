/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * faithd's address mapping: the IPv4 address embedded in an IPv6
 * destination (RFC 6052), and which IPv4 destinations may be relayed to.
 */
#ifndef FAITHD_ADDRMAP_H
#define FAITHD_ADDRMAP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The IPv4 address embedded in a6 under a prefix of prefixlen bits,
 * RFC 6052 section 2.2.  prefixlen is 32, 40, 48, 56, 64 or 96; the address
 * skips bits 64-71, the "u" octet, and the bits after it are the suffix.
 *
 * Returns 0, or -EINVAL for any other length, or when prefixlen < 96 and
 * the u octet is not zero: RFC 6052 says those bits MUST be zero, so such
 * an address is no IPv4-embedded address, and accepting it would let 256
 * IPv6 addresses alias one IPv4 destination.  The suffix is not checked:
 * it "SHOULD" be zero and is reserved for future extensions, and it does
 * not change the IPv4 address.  Under a /96 the u octet is part of the
 * prefix, so choosing the prefix is where it must be zero, not here.
 */
int faithd_extract_v4(const struct in6_addr *a6, unsigned int prefixlen,
		      struct in_addr *out);

/*
 * The inverse: the first prefixlen bits of prefix (the rest ignored), v4
 * around the u octet, u and suffix zero.  0, or -EINVAL for a length that
 * faithd_extract_v4() would refuse.
 */
int faithd_embed_v4(const struct in6_addr *prefix, unsigned int prefixlen,
		    struct in_addr v4, struct in6_addr *out);

enum faithd_dst_class {
	/* An ordinary unicast destination. */
	FAITHD_DST_GLOBAL,
	/*
	 * Special-purpose and not globally reachable (RFC 6890 and the IANA
	 * IPv4 Special-Purpose Address Registry): private use, shared
	 * address space, documentation, benchmarking, ...  Under the
	 * well-known prefix 64:ff9b::/96 these must not be reached unless a
	 * rule permits them explicitly (RFC 6052 section 3.1).
	 */
	FAITHD_DST_SPECIAL,
	/* Never relayed, whatever the rules: this network, loopback,
	 * link-local, multicast, reserved and limited broadcast. */
	FAITHD_DST_FORBIDDEN,
};

enum faithd_dst_class faithd_classify_v4(struct in_addr v4);

/* The i-th range of the table faithd_classify_v4() looks in (nested
 * ranges: the longest match decides); false past the last. */
bool faithd_dst_range_at(size_t i, struct in_addr *net, unsigned int *len,
			 enum faithd_dst_class *cls);

/* "global", "special" or "forbidden". */
const char *faithd_dst_class_name(enum faithd_dst_class cls);

/*
 * The most specific listed range v4 is in, for log lines, e.g.
 * "192.0.2.0/24 documentation (TEST-NET-1)"; NULL when it is in none.
 * Globally reachable registry entries (such as 192.0.0.9/32) are named
 * too, although they classify as FAITHD_DST_GLOBAL.
 */
const char *faithd_dst_range_name(struct in_addr v4);

/* Is prefix/prefixlen the well-known prefix 64:ff9b::/96 (RFC 6052)?
 * Bits past prefixlen are ignored.  The local-use 64:ff9b:1::/48
 * (RFC 8215) is not. */
bool faithd_is_wkp(const struct in6_addr *prefix, unsigned int prefixlen);

/* Is a an IPv4-mapped address, ::ffff:0:0/96 (see inet6(4))? */
bool faithd_is_v4mapped(const struct in6_addr *a);

#endif /* FAITHD_ADDRMAP_H */

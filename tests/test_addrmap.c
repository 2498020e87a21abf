// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/faithd/addrmap.c: RFC 6052 embedding and extraction at
 * every prefix length (with the RFC's own examples), the u octet, and the
 * IPv4 destination classifier at both edges of every range.
 *
 *   make build/test_addrmap && build/test_addrmap
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "faithd/addrmap.h"
#include "testlib.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static struct in6_addr a6(const char *text)
{
	struct in6_addr a;

	if (inet_pton(AF_INET6, text, &a) != 1)
		tl_check(false, "test bug: '%s' is not an IPv6 address", text);
	return a;
}

static struct in_addr a4(const char *text)
{
	struct in_addr a;

	if (inet_pton(AF_INET, text, &a) != 1)
		tl_check(false, "test bug: '%s' is not an IPv4 address", text);
	return a;
}

struct map_case {
	const char *prefix;
	unsigned int len;
	const char *v4;
	const char *v6;		/* the IPv4-embedded address */
};

/* RFC 6052 section 2.4, table 1, row by row; then other bytes. */
static const struct map_case mapped[] = {
	{ "2001:db8::", 32, "192.0.2.33", "2001:db8:c000:221::" },
	{ "2001:db8:100::", 40, "192.0.2.33", "2001:db8:1c0:2:21::" },
	{ "2001:db8:122::", 48, "192.0.2.33", "2001:db8:122:c000:2:2100::" },
	{ "2001:db8:122:300::", 56, "192.0.2.33", "2001:db8:122:3c0:0:221::" },
	{ "2001:db8:122:344::", 64, "192.0.2.33", "2001:db8:122:344:c0:2:2100:0" },
	{ "2001:db8:122:344::", 96, "192.0.2.33", "2001:db8:122:344::192.0.2.33" },
	{ "64:ff9b::", 96, "192.0.2.33", "64:ff9b::192.0.2.33" },
	/* Four distinct bytes, so a swapped pair shows. */
	{ "2001:db8::", 32, "1.2.3.4", "2001:db8:102:304::" },
	{ "2001:db8:aa00::", 40, "1.2.3.4", "2001:db8:aa01:203:4::" },
	{ "2001:db8:aabb::", 48, "1.2.3.4", "2001:db8:aabb:102:3:400::" },
	{ "2001:db8:aabb:cc00::", 56, "1.2.3.4", "2001:db8:aabb:cc01:2:304::" },
	{ "2001:db8:aabb:ccdd::", 64, "1.2.3.4", "2001:db8:aabb:ccdd:1:203:400:0" },
	{ "2001:db8:aabb:ccdd::", 96, "1.2.3.4", "2001:db8:aabb:ccdd::102:304" },
	/* All ones in the IPv4 address: nothing spills into the u octet. */
	{ "2001:db8::", 32, "255.255.255.255", "2001:db8:ffff:ffff::" },
	{ "2001:db8:100::", 40, "255.255.255.255", "2001:db8:1ff:ffff:ff::" },
	{ "2001:db8:122::", 48, "255.255.255.255", "2001:db8:122:ffff:ff:ff00::" },
	{ "2001:db8:122:300::", 56, "255.255.255.255", "2001:db8:122:3ff:ff:ffff::" },
	{ "2001:db8:122:344::", 64, "255.255.255.255", "2001:db8:122:344:ff:ffff:ff00:0" },
	{ "64:ff9b::", 96, "0.0.0.0", "64:ff9b::" },
};

static void test_mapped(const struct map_case *c)
{
	struct in6_addr prefix = a6(c->prefix), want6 = a6(c->v6), got6;
	struct in_addr v4 = a4(c->v4), got4;
	char text[INET6_ADDRSTRLEN];
	int err;

	err = faithd_embed_v4(&prefix, c->len, v4, &got6);
	inet_ntop(AF_INET6, &got6, text, sizeof(text));
	if (!tl_check(err == 0 && !memcmp(&got6, &want6, 16),
		      "embed %s in %s/%u: %s", c->v4, c->prefix, c->len, c->v6))
		tl_diag("got %d, %s", err, text);

	got4.s_addr = 0x5a5a5a5a;
	err = faithd_extract_v4(&want6, c->len, &got4);
	inet_ntop(AF_INET, &got4, text, sizeof(text));
	if (!tl_check(err == 0 && got4.s_addr == v4.s_addr,
		      "extract from %s under /%u: %s", c->v6, c->len, c->v4))
		tl_diag("got %d, %s", err, text);
}

/* Bits of the prefix past its length never reach the embedded address. */
static void test_embed_ignores_host_bits(void)
{
	struct in6_addr prefix = a6("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	struct in6_addr want = a6("2001:db8:c000:221::"), got;
	int err;

	err = faithd_embed_v4(&prefix, 32, a4("192.0.2.33"), &got);
	tl_check(err == 0 && !memcmp(&got, &want, 16),
		 "embed: prefix bits past /32 ignored, suffix zero");
}

static const unsigned int bad_lens[] = {
	0, 1, 8, 16, 24, 31, 33, 39, 41, 63, 65, 72, 80, 88, 95, 97, 104, 120,
	128, 129, 256, 4294967295u,
};

static void test_bad_lens(void)
{
	struct in6_addr v6 = a6("64:ff9b::c000:221"), out6;
	struct in_addr out4 = { 0x5a5a5a5a };
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(bad_lens); i++) {
		err = faithd_extract_v4(&v6, bad_lens[i], &out4);
		tl_check_eq(err, -EINVAL, "extract under /%u: -EINVAL",
			    bad_lens[i]);
		err = faithd_embed_v4(&v6, bad_lens[i], out4, &out6);
		tl_check_eq(err, -EINVAL, "embed under /%u: -EINVAL",
			    bad_lens[i]);
	}
	tl_check(out4.s_addr == 0x5a5a5a5a, "refused extractions leave out alone");
}

/*
 * A non-zero u octet (bits 64-71) is no RFC 6052 address below /96; at /96
 * it is the prefix's own business.  A non-zero suffix is tolerated.
 */
static void test_u_octet(void)
{
	static const unsigned int lens[] = { 32, 40, 48, 56, 64 };
	struct in_addr out;
	struct in6_addr v6;
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		v6 = a6("2001:db8::");
		v6.s6_addr[8] = 0x01;
		err = faithd_extract_v4(&v6, lens[i], &out);
		tl_check_eq(err, -EINVAL, "u octet 0x01 under /%u: -EINVAL",
			    lens[i]);
		v6.s6_addr[8] = 0x80;
		err = faithd_extract_v4(&v6, lens[i], &out);
		tl_check_eq(err, -EINVAL, "u octet 0x80 under /%u: -EINVAL",
			    lens[i]);
	}
	v6 = a6("2001:db8:0:0:ff00::c000:221");
	err = faithd_extract_v4(&v6, 96, &out);
	tl_check(err == 0 && out.s_addr == a4("192.0.2.33").s_addr,
		 "bits 64-71 set under /96: part of the prefix, accepted");

	v6 = a6("2001:db8:c000:221::ffff");
	err = faithd_extract_v4(&v6, 32, &out);
	tl_check(err == 0 && out.s_addr == a4("192.0.2.33").s_addr,
		 "non-zero suffix under /32: ignored");
	v6 = a6("2001:db8:122:344:c0:2:2100:1");
	err = faithd_extract_v4(&v6, 64, &out);
	tl_check(err == 0 && out.s_addr == a4("192.0.2.33").s_addr,
		 "non-zero suffix under /64: ignored");
}

struct prefix_case {
	const char *prefix;
	unsigned int len;
	bool want;
};

static const struct prefix_case wkp_cases[] = {
	{ "64:ff9b::", 96, true },
	{ "64:ff9b::c000:221", 96, true },	/* host bits ignored */
	{ "64:ff9b::", 64, false },
	{ "64:ff9b::", 32, false },
	{ "64:ff9b::", 128, false },
	{ "64:ff9b:1::", 48, false },		/* RFC 8215 local use */
	{ "64:ff9b:1::", 96, false },
	{ "64:ff9a::", 96, false },
	{ "64:ff9b:0:0:0:1::", 96, false },
	{ "::", 96, false },
};

static const struct prefix_case mapped_cases[] = {
	{ "::ffff:192.0.2.33", 0, true },
	{ "::ffff:0.0.0.0", 0, true },
	{ "::ffff:255.255.255.255", 0, true },
	{ "::fffe:c000:221", 0, false },
	{ "::1:ffff:c000:221", 0, false },
	{ "::c000:221", 0, false },		/* IPv4-compatible, not mapped */
	{ "64:ff9b::c000:221", 0, false },
	{ "8000::ffff:c000:221", 0, false },
};

static void test_prefix_kinds(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(wkp_cases); i++) {
		const struct prefix_case *c = &wkp_cases[i];
		struct in6_addr p = a6(c->prefix);

		tl_check(faithd_is_wkp(&p, c->len) == c->want,
			 "%s/%u is %sthe well-known prefix", c->prefix, c->len,
			 c->want ? "" : "not ");
	}
	for (i = 0; i < ARRAY_SIZE(mapped_cases); i++) {
		const struct prefix_case *c = &mapped_cases[i];
		struct in6_addr p = a6(c->prefix);

		tl_check(faithd_is_v4mapped(&p) == c->want,
			 "%s is %sIPv4-mapped", c->prefix, c->want ? "" : "not ");
	}
}

#define G	FAITHD_DST_GLOBAL
#define S	FAITHD_DST_SPECIAL
#define F	FAITHD_DST_FORBIDDEN

/*
 * Each range with the class of its first and last address, and of the
 * addresses just below and just above it (other ranges may start there).
 */
struct range_case {
	const char *net;
	unsigned int len;
	enum faithd_dst_class in, below, above;
};

static const struct range_case range_cases[] = {
	{ "0.0.0.0", 8, F, F, G },	/* nothing below: skipped */
	{ "10.0.0.0", 8, S, G, G },
	{ "100.64.0.0", 10, S, G, G },
	{ "127.0.0.0", 8, F, G, G },
	{ "169.254.0.0", 16, F, G, G },
	{ "172.16.0.0", 12, S, G, G },
	{ "192.0.0.0", 29, S, G, S },
	{ "192.0.0.8", 32, S, S, G },
	{ "192.0.0.9", 32, G, S, G },
	{ "192.0.0.10", 32, G, G, S },
	{ "192.0.0.170", 32, S, S, S },
	{ "192.0.0.171", 32, S, S, S },
	{ "192.0.2.0", 24, S, G, G },
	{ "192.31.196.0", 24, G, G, G },
	{ "192.52.193.0", 24, G, G, G },
	{ "192.88.99.0", 24, S, G, G },
	{ "192.168.0.0", 16, S, G, G },
	{ "192.175.48.0", 24, G, G, G },
	{ "198.18.0.0", 15, S, G, G },
	{ "198.51.100.0", 24, S, G, G },
	{ "203.0.113.0", 24, S, G, G },
	{ "224.0.0.0", 4, F, G, F },
	{ "240.0.0.0", 4, F, F, F },	/* nothing above: skipped */
};

/* 192.0.0.0/24 outside its more specific entries, single addresses. */
static const struct range_case single_cases[] = {
	{ "0.0.0.0", 32, F, F, F },
	{ "0.255.255.255", 32, F, F, G },
	{ "192.0.0.11", 32, S, G, S },
	{ "192.0.0.169", 32, S, S, S },
	{ "192.0.0.172", 32, S, S, S },
	{ "192.0.0.255", 32, S, S, G },
	{ "239.255.255.255", 32, F, F, F },
	{ "255.255.255.254", 32, F, F, F },
	{ "255.255.255.255", 32, F, F, F },
	{ "1.1.1.1", 32, G, G, G },
	{ "8.8.8.8", 32, G, G, G },
	{ "223.255.255.255", 32, G, G, F },
};

static void check_class(uint32_t host, enum faithd_dst_class want,
			const char *where)
{
	struct in_addr v4 = { htonl(host) };
	enum faithd_dst_class got = faithd_classify_v4(v4);
	char text[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &v4, text, sizeof(text));
	if (!tl_check(got == want, "%s (%s) is %s", text, where,
		      faithd_dst_class_name(want)))
		tl_diag("got %s", faithd_dst_class_name(got));
}

/*
 * Is addr named after the range c ("a.b.c.d/len ...")?  With nested_ok, a
 * more specific range inside c may name it instead (0.0.0.0/32 in 0/8).
 */
static bool named_after(uint32_t addr, const struct range_case *c,
			bool nested_ok)
{
	struct in_addr v4 = { htonl(addr) };
	const char *name = faithd_dst_range_name(v4);
	char want[32];
	unsigned int len;
	size_t n;

	n = (size_t)snprintf(want, sizeof(want), "%s/%u ", c->net, c->len);
	if (name && !strncmp(name, want, n))
		return true;
	if (!name || !nested_ok || sscanf(name, "%*[0-9.]/%u", &len) != 1)
		return false;
	return len > c->len;
}

static void check_name(const struct range_case *c, uint32_t first,
		       uint32_t last)
{
	uint32_t mid = first + (last - first) / 2;
	struct in_addr v4 = { htonl(mid) };
	const char *name = faithd_dst_range_name(v4);

	if (!tl_check(named_after(mid, c, false), "%s/%u: middle named after it",
		      c->net, c->len))
		tl_diag("got '%s'", name ? name : "(null)");
	tl_check(named_after(first, c, true) && named_after(last, c, true),
		 "%s/%u: ends named after it or a range inside it",
		 c->net, c->len);
}

static void test_range(const struct range_case *c, bool named)
{
	uint32_t first = ntohl(a4(c->net).s_addr);
	uint32_t size = c->len ? 1u << (32 - c->len) : 0;
	uint32_t last = first + size - 1;

	check_class(first, c->in, "first");
	check_class(last, c->in, "last");
	if (first > 0)
		check_class(first - 1, c->below, "below");
	if (last < 0xffffffffu)
		check_class(last + 1, c->above, "above");
	if (named)
		check_name(c, first, last);
}

static void test_ranges(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(range_cases); i++)
		test_range(&range_cases[i], true);
	for (i = 0; i < ARRAY_SIZE(single_cases); i++)
		test_range(&single_cases[i], false);
}

static void test_names(void)
{
	const char *name;

	name = faithd_dst_range_name(a4("192.0.2.1"));
	tl_check(name && !strcmp(name, "192.0.2.0/24 documentation (TEST-NET-1)"),
		 "192.0.2.1 is in '192.0.2.0/24 documentation (TEST-NET-1)'");
	name = faithd_dst_range_name(a4("255.255.255.255"));
	tl_check(name && !strcmp(name, "255.255.255.255/32 limited broadcast"),
		 "255.255.255.255: the most specific range names it");
	tl_check(faithd_dst_range_name(a4("8.8.8.8")) == NULL,
		 "8.8.8.8 is in no listed range: NULL");
	tl_check(!strcmp(faithd_dst_class_name(FAITHD_DST_GLOBAL), "global") &&
		 !strcmp(faithd_dst_class_name(FAITHD_DST_SPECIAL), "special") &&
		 !strcmp(faithd_dst_class_name(FAITHD_DST_FORBIDDEN), "forbidden"),
		 "class names: global, special, forbidden");
	tl_check(!strcmp(faithd_dst_class_name((enum faithd_dst_class)42),
			 "unknown"), "class name of a bad value: unknown");
}

int main(void)
{
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# embedding and extraction at every length\n");
	for (i = 0; i < ARRAY_SIZE(mapped); i++)
		test_mapped(&mapped[i]);
	test_embed_ignores_host_bits();
	printf("# invalid lengths\n");
	test_bad_lens();
	printf("# u octet and suffix\n");
	test_u_octet();
	printf("# well-known and IPv4-mapped prefixes\n");
	test_prefix_kinds();
	printf("# classifier\n");
	test_ranges();
	test_names();
	return tl_report();
}

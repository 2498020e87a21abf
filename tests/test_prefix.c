// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/prefix.c: which faith prefixes faith_prefix_parse() accepts,
 * that every refusal is -EINVAL with a reason naming the problem, and that
 * faith_prefix_format() prints what was parsed.
 *
 *   make build/test_prefix && build/test_prefix
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "prefix.h"
#include "testlib.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct accept_case {
	const char *text;
	const char *canon;	/* faith_prefix_format() output */
	unsigned int len;
};

static const struct accept_case accepted[] = {
	{ "64:ff9b::/96", "64:ff9b::/96", 96 },
	{ "64:ff9b:1::/48", "64:ff9b:1::/48", 48 },
	{ "2001:db8::/32", "2001:db8::/32", 32 },
	{ "2001:db8:100::/40", "2001:db8:100::/40", 40 },
	{ "2001:db8:100::/48", "2001:db8:100::/48", 48 },
	{ "2001:db8:100::/56", "2001:db8:100::/56", 56 },
	{ "2001:db8:100::/64", "2001:db8:100::/64", 64 },
	{ "2001:db8:100:200::/64", "2001:db8:100:200::/64", 64 },
	{ "2001:db8:1:2:3:4::/96", "2001:db8:1:2:3:4::/96", 96 },
	{ "3fff::/20", "3fff::/20", 20 },
	/* Non-canonical spellings print canonically. */
	{ "2001:DB8::/32", "2001:db8::/32", 32 },
	{ "0064:ff9b:0:0::/96", "64:ff9b::/96", 96 },
	{ "2001:0db8:0100:0000::/56", "2001:db8:100::/56", 56 },
};

struct refuse_case {
	const char *text;
	const char *why;	/* the reason must contain this */
};

static const struct refuse_case refused[] = {
	/* Lengths. */
	{ "::/0", "zero-length" },
	{ "64:ff9b::/0", "zero-length" },
	{ "64:ff9b::/97", "96" },
	{ "64:ff9b::/128", "96" },
	{ "64:ff9b::/129", "128" },
	{ "64:ff9b::/999", "128" },
	/* Host bits. */
	{ "64:ff9b::1/96", "bits" },
	{ "2001:db8:100::/39", "bits" },
	{ "::ffff:0:0/80", "bits" },
	/* Reserved ranges, also when only overlapping them. */
	{ "::/96", "::1" },
	{ "::/64", "::1" },
	{ "::/80", "::1" },
	{ "::/1", "::1" },
	{ "::ffff:0:0/96", "IPv4-mapped" },
	{ "::fffc:0:0/94", "IPv4-mapped" },
	{ "fe80::/10", "link-local" },
	{ "fe80::/64", "link-local" },
	{ "fe80:1::/32", "link-local" },
	{ "febf::/16", "link-local" },
	{ "fc00::/6", "link-local" },
	{ "8000::/1", "link-local" },
	{ "ff02::/16", "multicast" },
	{ "ff00::/8", "multicast" },
	{ "ff80::/9", "multicast" },
	/* Not ADDRESS/LENGTH at all. */
	{ "", "ADDRESS/LENGTH" },
	{ "64:ff9b::", "ADDRESS/LENGTH" },
	{ "64:ff9b::/", "length" },
	{ "64:ff9b::/abc", "length" },
	{ "64:ff9b::/-1", "length" },
	{ "64:ff9b::/+96", "length" },
	{ "64:ff9b::/0x60", "length" },
	{ "64:ff9b::/ 96", "length" },
	{ "64:ff9b::/96 ", "length" },
	{ "64:ff9b::/0096", "length" },
	{ "64:ff9b::/96/1", "length" },
	{ "zz::/96", "not an IPv6 address" },
	{ "/96", "not an IPv6 address" },
	{ " 64:ff9b::/96", "not an IPv6 address" },
	{ "64:ff9b::%lo/96", "not an IPv6 address" },
	{ "1.2.3.4/24", "not an IPv6 address" },
	{ "1:2:3:4:5:6:7:8:9/96", "not an IPv6 address" },
	{ "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000/96",
	  "not an IPv6 address" },
};

static void test_accepted(const struct accept_case *c)
{
	struct faith_prefix_key key, again;
	char why[256] = "", text[FAITH_PREFIX_STRLEN], addr[64];
	unsigned char want[16] = { 0 };
	int err;

	err = faith_prefix_parse(c->text, &key, why, sizeof(why));
	if (!tl_check(err == 0, "accept '%s'", c->text)) {
		tl_diag("got %d (%s)", err, why);
		return;
	}
	snprintf(addr, sizeof(addr), "%.*s",
		 (int)strcspn(c->canon, "/"), c->canon);
	inet_pton(AF_INET6, addr, want);
	tl_check(key.prefixlen == c->len && !memcmp(key.addr, want, 16),
		 "'%s': key is /%u of the address", c->text, c->len);

	faith_prefix_format(&key, text, sizeof(text));
	if (!tl_check(!strcmp(text, c->canon), "'%s' formats as '%s'",
		      c->text, c->canon))
		tl_diag("got '%s'", text);

	err = faith_prefix_parse(text, &again, why, sizeof(why));
	tl_check(err == 0 && !memcmp(&key, &again, sizeof(key)),
		 "'%s' parses back to the same key", text);
}

static void test_refused(const struct refuse_case *c)
{
	struct faith_prefix_key key;
	char why[256] = "";
	int err;

	err = faith_prefix_parse(c->text, &key, why, sizeof(why));
	if (!tl_check(err == -EINVAL && strstr(why, c->why),
		      "refuse '%s': reason mentions \"%s\"", c->text, c->why))
		tl_diag("got %d, reason '%s'", err, why);
	else if (!strstr(why, c->text))
		/* Informational: every message quotes the input. */
		printf("# reason does not quote the input: '%s'\n", why);
}

/* A short reason buffer is truncated, never overrun (also see ASan runs). */
static void test_short_why(void)
{
	struct faith_prefix_key key;
	char why[16];
	int err;

	memset(why, 'x', sizeof(why));
	err = faith_prefix_parse("fe80::/64", &key, why, 8);
	tl_check(err == -EINVAL && strlen(why) == 7 && why[8] == 'x',
		 "8-byte reason buffer: truncated to 7 chars, nothing past it");
}

/* The longest text there is fits FAITH_PREFIX_STRLEN; short buffers cut. */
static void test_format_limits(void)
{
	struct faith_prefix_key key = { .prefixlen = 128 };
	const char *want = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128";
	char buf[FAITH_PREFIX_STRLEN + 8];

	memset(key.addr, 0xff, sizeof(key.addr));
	memset(buf, 'x', sizeof(buf));
	faith_prefix_format(&key, buf, FAITH_PREFIX_STRLEN);
	tl_check(!strcmp(buf, want), "longest prefix fits FAITH_PREFIX_STRLEN");

	memset(buf, 'x', sizeof(buf));
	faith_prefix_format(&key, buf, 10);
	tl_check(strlen(buf) == 9 && buf[10] == 'x',
		 "format into 10 bytes: truncated, nothing past it");
}

int main(void)
{
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# accepted prefixes\n");
	for (i = 0; i < ARRAY_SIZE(accepted); i++)
		test_accepted(&accepted[i]);
	printf("# refused prefixes\n");
	for (i = 0; i < ARRAY_SIZE(refused); i++)
		test_refused(&refused[i]);
	printf("# buffers\n");
	test_short_why();
	test_format_limits();
	return tl_report();
}

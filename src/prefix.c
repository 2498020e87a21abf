// SPDX-License-Identifier: BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "prefix.h"
#include "util.h"

/* Ranges a faith prefix must not touch, and why. */
static const struct {
	const char *addr;
	unsigned int len;
	const char *what;
} forbidden[] = {
	{ "::", 96, "contains the unspecified address :: and loopback ::1" },
	{ "::ffff:0:0", 96, "overlaps ::ffff:0:0/96, IPv4-mapped addresses (see inet6(4))" },
	{ "fe80::", 10, "overlaps fe80::/10, link-local addresses" },
	{ "ff00::", 8, "overlaps ff00::/8, multicast addresses" },
};

/* Do the first `bits` bits of a and b agree? */
static bool same_bits(const uint8_t *a, const uint8_t *b, unsigned int bits)
{
	unsigned int bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes))
		return false;
	if (!rest)
		return true;
	return ((a[bytes] ^ b[bytes]) >> (8 - rest)) == 0;
}

static bool host_bits_clear(const uint8_t *addr, unsigned int len)
{
	uint8_t masked[16];

	memcpy(masked, addr, 16);
	if (len % 8)
		masked[len / 8] &= (uint8_t)(0xff << (8 - len % 8));
	memset(masked + (len + 7) / 8, 0, 16 - (len + 7) / 8);
	return memcmp(masked, addr, 16) == 0;
}

/* A prefix length: 1 to 3 decimal digits, nothing else. */
static bool parse_len(const char *text, uint32_t *len)
{
	size_t n = strspn(text, "0123456789");

	if (n == 0 || n > 3 || text[n])
		return false;
	*len = 0;
	while (*text)
		*len = *len * 10 + (uint32_t)(*text++ - '0');
	return *len <= 128;
}

static int fail(char *why, size_t why_len, const char *fmt, const char *text)
{
	snprintf(why, why_len, fmt, text);
	return -EINVAL;
}

int faith_prefix_parse(const char *text, struct faith_prefix_key *key,
		       char *why, size_t why_len)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	uint32_t len;
	size_t i;

	if (!slash)
		return fail(why, why_len, "'%s': expected ADDRESS/LENGTH, e.g. 64:ff9b::/96", text);
	if ((size_t)(slash - text) >= sizeof(addr))
		return fail(why, why_len, "'%s': not an IPv6 address", text);
	memcpy(addr, text, slash - text);
	addr[slash - text] = '\0';
	memset(key, 0, sizeof(*key));
	if (inet_pton(AF_INET6, addr, key->addr) != 1)
		return fail(why, why_len, "'%s': not an IPv6 address", text);
	if (!parse_len(slash + 1, &len))
		return fail(why, why_len, "'%s': prefix length must be 0 to 128", text);
	key->prefixlen = len;
	if (len == 0)
		return fail(why, why_len, "'%s': a zero-length prefix would capture all IPv6 TCP", text);
	if (len > FAITH_MAX_PREFIXLEN)
		return fail(why, why_len, "'%s': longer than /96; the low 32 bits must be free for the IPv4 address", text);
	if (!host_bits_clear(key->addr, len))
		return fail(why, why_len, "'%s': address has bits set past the prefix length", text);
	for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		uint8_t range[16];
		unsigned int bits = forbidden[i].len < len ? forbidden[i].len : len;

		inet_pton(AF_INET6, forbidden[i].addr, range);
		if (same_bits(key->addr, range, bits)) {
			snprintf(why, why_len, "'%s': %s", text, forbidden[i].what);
			return -EINVAL;
		}
	}
	return 0;
}

void faith_prefix_format(const struct faith_prefix_key *key, char *buf,
			 size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, key->addr, addr, sizeof(addr));
	snprintf(buf, len, "%s/%u", addr, key->prefixlen);
}

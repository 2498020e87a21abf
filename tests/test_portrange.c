// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/faithd/portrange.c: the ports --translate-after syn may
 * use, from ip_local_port_range and ip_local_reserved_ports as the kernel
 * prints them, and the errors for texts that do not parse.
 *
 *   make build/test_portrange && build/test_portrange
 */
#include <errno.h>
#include <stdio.h>

#include "faithd/portrange.h"
#include "testlib.h"

struct range_case {
	const char *range, *reserved;
	int err;
	unsigned int lo, hi;
};

static const struct range_case cases[] = {
	/* Linux's defaults: below the range is longer than above it. */
	{ "32768\t60999\n", "\n", 0, 1024, 32767 },
	{ "32768 60999", "", 0, 1024, 32767 },
	/* Everything the kernel's: nothing, unless some is reserved. */
	{ "1024 65535", "", -ENOSPC, 0, 0 },
	{ "1024\t65535\n", "32768-65535\n", 0, 32768, 65535 },
	{ "1024 65535", "40000-40999", -ENOSPC, 40000, 40999 },
	/* A reserved block next to the free side joins it. */
	{ "2000 60999", "50000-60999", 0, 50000, 65535 },
	/* Lists, single ports, and the longest of several runs. */
	{ "1024 65535", "8080,9000-9999,20000-29999", 0, 20000, 29999 },
	{ "1024 65535", "1,2,3", -ENOSPC, 0, 0 },
	/* Ports below 1024 never count. */
	{ "2000 65535", "", -ENOSPC, 1024, 1999 },
	{ "1 65535", "0-1023", -ENOSPC, 0, 0 },
	/* Above the range: 61000 to 65535 is longer than 1024 to 1999. */
	{ "2000 60999", "", 0, 61000, 65535 },
	/* Texts that do not parse. */
	{ "", "", -EINVAL, 0, 0 },
	{ "32768", "", -EINVAL, 0, 0 },
	{ "60999 32768", "", -EINVAL, 0, 0 },
	{ "32768 70000", "", -EINVAL, 0, 0 },
	{ "32768 60999 1", "", -EINVAL, 0, 0 },
	{ "32768 60999", "9000-8000", -EINVAL, 0, 0 },
	{ "32768 60999", "9000,,", -EINVAL, 0, 0 },
	{ "32768 60999", "x", -EINVAL, 0, 0 },
	{ "32768 60999", "65536", -EINVAL, 0, 0 },
};

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct range_case *c = &cases[i];
		unsigned int lo = 1, hi = 1;
		int err = faithd_free_ports(c->range, c->reserved, &lo, &hi);

		tl_check(err == c->err && (err == -EINVAL || (lo == c->lo && hi == c->hi)),
			 "range '%s', reserved '%s': %d, %u-%u (want %d, %u-%u)", c->range,
			 c->reserved, err, lo, hi, c->err, c->lo, c->hi);
	}
	return tl_report();
}

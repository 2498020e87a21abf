// SPDX-License-Identifier: BSD-2-Clause
/* The ports the kernel never picks itself: see portrange.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "faithd/portrange.h"

#define NPORTS	65536

/* A port number at *s, up to the character end stops at; moved past. */
static int port_at(const char **s, unsigned int *port)
{
	char *end;
	unsigned long v;

	if (**s < '0' || **s > '9')
		return -EINVAL;
	v = strtoul(*s, &end, 10);
	if (v >= NPORTS)
		return -EINVAL;
	*s = end;
	*port = (unsigned int)v;
	return 0;
}

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	return s;
}

/* Mark in taken[] the ports of the reserved list as free to us. */
static int parse_reserved(const char *s, bool *taken)
{
	s = skip_space(s);
	while (*s) {
		unsigned int a, b;

		if (port_at(&s, &a))
			return -EINVAL;
		b = a;
		if (*s == '-') {
			s++;
			if (port_at(&s, &b) || b < a)
				return -EINVAL;
		}
		for (unsigned int p = a; p <= b; p++)
			taken[p] = false;
		if (*s == ',')
			s++;
		else if (*skip_space(s))
			return -EINVAL;
		else
			break;
	}
	return 0;
}

int faithd_free_ports(const char *range, const char *reserved, unsigned int *lo,
		      unsigned int *hi)
{
	static bool taken[NPORTS];	/* by the kernel's own picks */
	unsigned int rlo, rhi, best = 0, run = 0;
	const char *s = skip_space(range);

	*lo = *hi = 0;
	if (port_at(&s, &rlo) || (s = skip_space(s), port_at(&s, &rhi)) || rlo > rhi ||
	    *skip_space(s))
		return -EINVAL;
	for (unsigned int p = 0; p < NPORTS; p++)
		taken[p] = p >= rlo && p <= rhi;
	if (parse_reserved(reserved, taken))
		return -EINVAL;
	for (unsigned int p = 1024; p < NPORTS; p++) {
		run = taken[p] ? 0 : run + 1;
		if (run > best) {
			best = run;
			*hi = p;
			*lo = p - run + 1;
		}
	}
	return best >= FAITHD_PORTS_MIN ? 0 : -ENOSPC;
}

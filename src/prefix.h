/* SPDX-License-Identifier: BSD-2-Clause */
/* Faith prefixes: parsing, validation and printing. */
#ifndef FAITH_PREFIX_H
#define FAITH_PREFIX_H

#include <stddef.h>
#include "maps.h"

/* Longest text of a prefix, "ffff:...:ffff/128" plus NUL. */
#define FAITH_PREFIX_STRLEN	(46 + 4)

/*
 * Parse "ADDR/LEN" into key and check that it may be a faith prefix.
 * Returns 0, or -EINVAL with a reason (naming what is wrong) in why.
 */
int faith_prefix_parse(const char *text, struct faith_prefix_key *key,
		       char *why, size_t why_len);

void faith_prefix_format(const struct faith_prefix_key *key, char *buf,
			 size_t len);

#endif /* FAITH_PREFIX_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * faithd.conf: which IPv6 clients may reach which IPv4 destinations.
 *
 * One rule a line, a superset of BSD faithd's format:
 *
 *	SRC[/LEN] permit|deny DST[/LEN] [BINDADDR]
 *
 * SRC/LEN is an IPv6 prefix of clients (LEN 0 to 128, default 128),
 * DST/LEN an IPv4 prefix of destinations after mapping (LEN 0 to 32,
 * default 32).  Bits past LEN must be zero: unlike BSD, which masked them
 * silently, a rule that says more than it means is an error.  BINDADDR,
 * only with permit, is the IPv4 source address of the upstream
 * connection.  Fields are separated by spaces and tabs; '#' starts a
 * comment anywhere on a line; blank lines are fine.
 *
 * The first rule matching both source and destination decides; no match
 * denies.  With no configuration at all (conf NULL), every source is
 * permitted.  Whatever the rules, faithd also refuses destinations that
 * faithd_classify_v4() calls forbidden, and special-purpose ones under
 * 64:ff9b::/96 unless explicitly permitted (see faithd_access).
 */
#ifndef FAITHD_CONF_H
#define FAITHD_CONF_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest line, newline not counted; longer ones are errors. */
#define FAITHD_CONF_LINE_MAX	1024
/* Largest file faithd_conf_load() reads. */
#define FAITHD_CONF_SIZE_MAX	(1024 * 1024)
/* Longest text of a rule, faithd_rule_format(), plus NUL. */
#define FAITHD_RULE_STRLEN	96

struct faithd_rule {
	struct in6_addr src;	/* bits past src_len are zero */
	uint8_t src_len;
	struct in_addr dst;	/* bits past dst_len are zero */
	uint8_t dst_len;
	bool permit;
	bool has_bind;
	struct in_addr bind;
	unsigned int line;	/* in conf->path */
};

struct faithd_conf {
	char *path;		/* file name, or the name given to parse */
	struct faithd_rule *rules;
	size_t n;
};

/*
 * Parse path into a new *out.  Returns 0, or a negative errno with *out
 * NULL and err saying what is wrong: -EINVAL for a bad line, as
 * "FILE:LINE: what is wrong ('the offending text')", -ENOENT when path
 * does not exist (a missing default file may mean "no configuration"),
 * -EISDIR for a directory, -EINVAL also for anything else that is not a
 * regular file (a FIFO would hang a reload), -EFBIG when it is larger than
 * FAITHD_CONF_SIZE_MAX, other errnos from open(2) and read(2).  Nothing is ever half-loaded: on reload, keep the
 * old configuration until this succeeds, then swap and free the old one.
 */
int faithd_conf_load(const char *path, struct faithd_conf **out, char *err,
		     size_t errlen);

/* The same for len bytes of text (which may hold NULs, an error), named
 * name in messages. */
int faithd_conf_parse(const char *text, size_t len, const char *name,
		      struct faithd_conf **out, char *err, size_t errlen);

void faithd_conf_free(struct faithd_conf *c);

/* The first rule matching src and dst, or NULL (also when c is NULL). */
const struct faithd_rule *faithd_conf_match(const struct faithd_conf *c,
					    const struct in6_addr *src,
					    struct in_addr dst);

/*
 * A rule permits its destinations explicitly when it names them: its
 * DST/LEN is not 0.0.0.0/0 (dst_len > 0).  "::/0 permit 0.0.0.0/0"
 * permits everything but nothing explicitly; "::/0 permit 10.0.0.0/8"
 * permits 10.1.2.3 explicitly.
 */
bool faithd_rule_explicit(const struct faithd_rule *r);

/* What the rules say about one connection. */
struct faithd_access {
	bool permit;
	bool explicit_dst;	/* permitted by an explicit rule */
	const struct faithd_rule *rule;	/* NULL: no rules, or none matched */
};

/* c NULL (no configuration): permitted, not explicitly.  No match: denied. */
struct faithd_access faithd_conf_check(const struct faithd_conf *c,
				       const struct in6_addr *src,
				       struct in_addr dst);

/* A rule as a config line (canonical spelling, lengths always written). */
void faithd_rule_format(const struct faithd_rule *r, char *buf, size_t len);

#endif /* FAITHD_CONF_H */

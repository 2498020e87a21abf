/* SPDX-License-Identifier: BSD-2-Clause */
/* Which IPv4 host an accepted connection goes to, and whether it may. */
#ifndef FAITHD_POLICY_H
#define FAITHD_POLICY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

struct faithd_ctx;

struct faithd_target {
	struct sockaddr_in6 src;	/* the IPv6 client */
	struct sockaddr_in6 dst6;	/* its original destination */
	struct sockaddr_in dst4;	/* the IPv4 host and port to relay to */
	unsigned prefixlen;		/* of the faith prefix dst6 is in */
	bool has_bind;			/* bind the upstream socket to bind */
	struct in_addr bind;
};

/*
 * Fill t for the accepted socket fd (src from accept()).  Returns true if
 * the connection may be relayed, else false with the reason in why.
 */
bool policy_decide(const struct faithd_ctx *ctx, int fd, struct faithd_target *t,
		   char *why, size_t whylen);

/* "[2001:db8::1]:4711" */
void sockaddr6_format(const struct sockaddr_in6 *sa, char *buf, size_t len);
void sockaddr4_format(const struct sockaddr_in *sa, char *buf, size_t len);

#endif /* FAITHD_POLICY_H */

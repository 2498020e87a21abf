// SPDX-License-Identifier: BSD-2-Clause
/*
 * The relay decision for one accepted connection:
 *   1. the original destination (getsockname) must be inside a faith
 *      prefix, found by a longest-match lookup in the pinned `prefixes`
 *      trie, whose value carries the prefix length;
 *   2. the IPv4 address embedded in it (RFC 6052, any of its lengths);
 *   3. never loopback, "this network", link-local, multicast or reserved;
 *   4. the rules of faithd.conf: first match wins, no match denies;
 *   5. under the well-known prefix 64:ff9b::/96 a non-global IPv4 address
 *      only with a rule that names it (RFC 6052 section 3.1).
 * IPv4-mapped clients are refused first: inet6(4) warns that they bypass
 * access control.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "maps.h"
#include "faithd/faithd.h"
#include "faithd/addrmap.h"
#include "faithd/conf.h"
#include "faithd/policy.h"
#include "faithd/worker.h"

void sockaddr6_format(const struct sockaddr_in6 *sa, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, &sa->sin6_addr, addr, sizeof(addr));
	snprintf(buf, len, "[%s]:%u", addr, ntohs(sa->sin6_port));
}

void sockaddr4_format(const struct sockaddr_in *sa, char *buf, size_t len)
{
	char addr[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &sa->sin_addr, addr, sizeof(addr));
	snprintf(buf, len, "%s:%u", addr, ntohs(sa->sin_port));
}

/*
 * A worker's memory of recent answers from the trie, so that a burst of
 * connections to one faith prefix costs one bpf(2) call, not one each.
 * Prefixes are at most /96, so the answer depends on the first 96 bits
 * only.  An entry lives one second: a route change shows within that
 * (and the datapath, not this, decides what is captured).
 */
#define PREFIX_CACHE_SLOTS	256
#define PREFIX_CACHE_MS		1000

struct prefix_cache_entry {
	uint32_t addr[3];
	int plen;		/* or -ENOENT */
	uint64_t expires_ms;
};

static struct prefix_cache_entry prefix_cache[PREFIX_CACHE_SLOTS];

static struct prefix_cache_entry *prefix_cache_slot(const uint32_t a[3])
{
	uint64_t h = (a[0] * 0x9e3779b97f4a7c15ull) ^ (a[1] * 0xc2b2ae3d27d4eb4full) ^
		     (a[2] * 0x165667b19e3779f9ull);

	return &prefix_cache[(h >> 32) % PREFIX_CACHE_SLOTS];
}

/* The faith prefix holding addr: its length, or -errno (-ENOENT: none). */
static int prefix_of(int prefixes_fd, const struct in6_addr *addr)
{
	struct faith_prefix_key key = { .prefixlen = 128 };
	struct faith_prefix_value val;
	struct prefix_cache_entry *e;
	uint64_t now = now_ms();
	uint32_t a[3];
	int err;

	memcpy(a, addr, sizeof(a));
	e = prefix_cache_slot(a);
	if (e->expires_ms > now && !memcmp(e->addr, a, sizeof(a)))
		return e->plen;
	memcpy(key.addr, addr, sizeof(key.addr));
	err = bpf_map_lookup_elem(prefixes_fd, &key, &val) ? -errno : 0;
	if (err && err != -ENOENT)
		return err;	/* not remembered */
	memcpy(e->addr, a, sizeof(a));
	e->plen = err ? err : (int)val.prefixlen;
	e->expires_ms = now + PREFIX_CACHE_MS;
	return e->plen;
}

static bool refuse(char *why, size_t len, const char *fmt, const char *arg)
{
	snprintf(why, len, fmt, arg);
	return false;
}

static bool rules_allow(const struct faithd_ctx *ctx, struct faithd_target *t,
			bool special, char *why, size_t len)
{
	struct faithd_access a;
	const char *range = faithd_dst_range_name(t->dst4.sin_addr);

	a = faithd_conf_check(ctx->conf, &t->src.sin6_addr, t->dst4.sin_addr);
	if (!a.permit && !a.rule)
		return refuse(why, len, "%s", "no rule in the configuration matches");
	if (!a.permit) {
		snprintf(why, len, "denied by %s:%u", ctx->conf->path, a.rule->line);
		return false;
	}
	if (special && !a.explicit_dst) {
		snprintf(why, len, "%s is not global: under 64:ff9b::/96 only a rule "
			 "naming it permits it", range ? range : "the IPv4 destination");
		return false;
	}
	if (a.rule) {
		t->has_bind = a.rule->has_bind;
		t->bind = a.rule->bind;
	}
	return true;
}

bool policy_decide(const struct faithd_ctx *ctx, int fd, struct faithd_target *t,
		   char *why, size_t len)
{
	socklen_t slen = sizeof(t->dst6);
	const char *range;
	int plen;
	enum faithd_dst_class cls;

	t->has_bind = false;
	if (getsockname(fd, (struct sockaddr *)&t->dst6, &slen) < 0)
		return refuse(why, len, "getsockname: %s", strerror(errno));
	if (faithd_is_v4mapped(&t->src.sin6_addr))
		return refuse(why, len, "%s", "IPv4-mapped source address");
	plen = prefix_of(ctx->prefixes_fd, &t->dst6.sin6_addr);
	if (plen == -ENOENT)
		return refuse(why, len, "%s", "destination is not in a faith prefix");
	if (plen < 0)
		return refuse(why, len, "looking up the faith prefixes: %s", strerror(-plen));
	t->prefixlen = plen;
	memset(&t->dst4, 0, sizeof(t->dst4));
	t->dst4.sin_family = AF_INET;
	t->dst4.sin_port = t->dst6.sin6_port;
	if (faithd_extract_v4(&t->dst6.sin6_addr, plen, &t->dst4.sin_addr))
		return refuse(why, len, "%s", "no IPv4 address in the destination (RFC 6052)");
	cls = faithd_classify_v4(t->dst4.sin_addr);
	if (cls == FAITHD_DST_FORBIDDEN) {
		range = faithd_dst_range_name(t->dst4.sin_addr);
		return refuse(why, len, "IPv4 destination is never relayed: %s",
			      range ? range : "reserved");
	}
	return rules_allow(ctx, t, cls == FAITHD_DST_SPECIAL &&
			   faithd_is_wkp(&t->dst6.sin6_addr, plen), why, len);
}

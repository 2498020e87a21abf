// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/faithd/conf.c, matching and loading: first match wins, no
 * match denies, no configuration permits, which permits are explicit,
 * prefix edges at odd lengths; loading real files, missing ones (-ENOENT),
 * directories, FIFOs, oversized and broken ones, never returning an object
 * on failure.
 *
 *   make build/test_faithd_match && build/test_faithd_match
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "faithd/conf.h"
#include "testlib.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const char rules[] =
	"# faithd.conf for the tests\n"
	"2001:db8:bad::/48     deny   0.0.0.0/0\n"			/* 2 */
	"2001:db8::/32         deny   192.0.2.66\n"			/* 3 */
	"2001:db8::/32         permit 192.0.2.0/24 198.51.100.7\n"	/* 4 */
	"2001:db8:0:1::/64     permit 10.0.0.0/8\n"			/* 5 */
	"2001:db8:8000::/33    permit 203.0.113.128/25\n"		/* 6 */
	"2001:db8:1:2:3:4:5:6  permit 172.16.0.0/12\n"			/* 7 */
	"\n"
	"::/0                  permit 100.64.0.0/10\n"			/* 9 */
	"8000::/1              permit 0.0.0.0/0\n";			/* 10 */

struct match_case {
	const char *src;
	const char *dst;
	unsigned int line;	/* 0: no rule matches */
	bool permit, explicit_dst;
};

static const struct match_case matches[] = {
	/* First match wins: the deny above the permit. */
	{ "2001:db8::1", "192.0.2.66", 3, false, false },
	{ "2001:db8::1", "192.0.2.65", 4, true, true },
	{ "2001:db8::1", "192.0.2.67", 4, true, true },
	{ "2001:db8:bad::1", "192.0.2.1", 2, false, false },
	{ "2001:db8:bad:ffff:ffff:ffff:ffff:ffff", "100.64.0.1", 2, false, false },
	/* Prefix edges: just inside, just outside. */
	{ "2001:db8:bac:ffff:ffff:ffff:ffff:ffff", "0.0.0.1", 0, false, false },
	{ "2001:db8:bae::", "192.0.2.1", 4, true, true },
	{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "192.0.2.255", 4, true, true },
	{ "2001:db9::", "192.0.2.1", 0, false, false },
	{ "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "192.0.2.1", 0, false, false },
	{ "2001:db8::1", "192.0.1.255", 0, false, false },
	{ "2001:db8::1", "192.0.3.0", 0, false, false },
	/* /64 under the /32: both source rules apply, destinations differ. */
	{ "2001:db8:0:1::1", "10.255.255.255", 5, true, true },
	{ "2001:db8:0:2::1", "10.0.0.1", 0, false, false },
	/* /33 and /25: neither byte-aligned. */
	{ "2001:db8:8000::", "203.0.113.128", 6, true, true },
	{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "203.0.113.255", 6, true, true },
	{ "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff", "203.0.113.128", 0, false, false },
	{ "2001:db8:8000::1", "203.0.113.127", 0, false, false },
	/* A host rule: only that address. */
	{ "2001:db8:1:2:3:4:5:6", "172.31.255.255", 7, true, true },
	{ "2001:db8:1:2:3:4:5:7", "172.16.0.0", 0, false, false },
	/* ::/0 matches every source. */
	{ "::", "100.64.0.0", 9, true, true },
	{ "ffff::1", "100.127.255.255", 9, true, true },
	/* 8000::/1 and 0.0.0.0/0: permitted, but not explicitly. */
	{ "8000::", "8.8.8.8", 10, true, false },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "10.0.0.1", 10, true, false },
	{ "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8.8.8.8", 0, false, false },
};

static struct in6_addr a6(const char *text)
{
	struct in6_addr a = IN6ADDR_ANY_INIT;

	if (inet_pton(AF_INET6, text, &a) != 1)
		tl_check(false, "test bug: '%s' is not an IPv6 address", text);
	return a;
}

static struct in_addr a4(const char *text)
{
	struct in_addr a = { 0 };

	if (inet_pton(AF_INET, text, &a) != 1)
		tl_check(false, "test bug: '%s' is not an IPv4 address", text);
	return a;
}

static void test_match(const struct faithd_conf *c, const struct match_case *m)
{
	struct in6_addr src = a6(m->src);
	struct in_addr dst = a4(m->dst);
	const struct faithd_rule *r = faithd_conf_match(c, &src, dst);
	struct faithd_access a = faithd_conf_check(c, &src, dst);
	unsigned int line = r ? r->line : 0;

	if (!tl_check(line == m->line && a.rule == r && a.permit == m->permit &&
		      a.explicit_dst == m->explicit_dst,
		      "%s -> %s: %s%u, %s%s", m->src, m->dst,
		      m->line ? "line " : "no rule", m->line,
		      m->permit ? "permit" : "deny",
		      m->explicit_dst ? ", explicitly" : ""))
		tl_diag("got line %u, %s%s", line, a.permit ? "permit" : "deny",
			a.explicit_dst ? ", explicitly" : "");
}

static void test_matching(void)
{
	struct in6_addr src = a6("2001:db8::1");
	struct in_addr dst = a4("192.0.2.1");
	const struct faithd_rule *r;
	struct faithd_conf *c;
	struct faithd_access a;
	char err[256] = "";
	size_t i;
	int ret;

	ret = faithd_conf_parse(rules, strlen(rules), "t.conf", &c, err,
				sizeof(err));
	if (!tl_check(ret == 0 && c->n == 8, "the rules parse: 8 of them")) {
		tl_diag("got %d: %s", ret, err);
		faithd_conf_free(c);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(matches); i++)
		test_match(c, &matches[i]);

	r = faithd_conf_match(c, &src, dst);
	tl_check(r && r->has_bind && r->bind.s_addr == a4("198.51.100.7").s_addr,
		 "the matching rule carries its BINDADDR");
	faithd_conf_free(c);

	/* No configuration at all: everyone goes, nothing explicitly. */
	a = faithd_conf_check(NULL, &src, dst);
	tl_check(a.permit && !a.explicit_dst && !a.rule,
		 "no configuration (NULL): permitted, not explicitly, no rule");
	tl_check(!faithd_conf_match(NULL, &src, dst), "no configuration: no match");

	/* A configuration with no rules denies everything. */
	ret = faithd_conf_parse("# nothing\n", 10, "empty.conf", &c, err,
				sizeof(err));
	a = faithd_conf_check(c, &src, dst);
	tl_check(ret == 0 && c->n == 0 && !a.permit && !a.rule,
		 "a configuration without rules denies");
	faithd_conf_free(c);
	faithd_conf_free(NULL);
	tl_check(!faithd_rule_explicit(NULL), "no rule is not explicit");
}

static char dir[] = "/tmp/faithd-conf-XXXXXX";

static const char *tmp_path(const char *name)
{
	static char path[sizeof(dir) + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static bool write_file(const char *name, const char *data, size_t len)
{
	FILE *f = fopen(tmp_path(name), "w");
	bool ok;

	if (!f)
		return false;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok;
}

/* Load name from the temp directory; err's expected text, or NULL. */
static void check_load(const char *name, int want, const char *want_err)
{
	struct faithd_conf *c = (struct faithd_conf *)&c;
	char err[512] = "", full[512];
	int ret;

	snprintf(full, sizeof(full), "%s%s", tmp_path(name), want_err);
	ret = faithd_conf_load(tmp_path(name), &c, err, sizeof(err));
	if (!tl_check(ret == want && !c && !strcmp(err, full),
		      "load %s: %d, \"%s\", no object", name, want, full))
		tl_diag("got %d, %s, \"%s\"", ret, c ? "an object" : "NULL",
			err);
	if (!ret)
		faithd_conf_free(c);
}

static void test_load_good(void)
{
	struct faithd_conf *c = NULL;
	char err[256] = "";
	int ret;

	if (!write_file("good.conf", rules, strlen(rules))) {
		tl_skip("load a file: cannot write %s", tmp_path("good.conf"));
		return;
	}
	ret = faithd_conf_load(tmp_path("good.conf"), &c, err, sizeof(err));
	if (!tl_check(ret == 0 && c, "load a real file")) {
		tl_diag("got %d: %s", ret, err);
		return;
	}
	tl_check(c->n == 8 && c->rules[7].line == 10 &&
		 !strcmp(c->path, tmp_path("good.conf")),
		 "loaded: 8 rules, the last on line 10, path kept");
	faithd_conf_free(c);
}

static void test_load_size(void)
{
	size_t max = FAITHD_CONF_SIZE_MAX, i;
	struct faithd_conf *c = NULL;
	char *big = malloc(max + 1);
	int ret;

	if (!big) {
		tl_skip("size limit: out of memory");
		return;
	}
	/* Comment lines of 1024 bytes each, newline included. */
	for (i = 0; i < max + 1; i++)
		big[i] = (i + 1) % 1024 ? '#' : '\n';
	if (!write_file("max.conf", big, max) ||
	    !write_file("big.conf", big, max + 1)) {
		free(big);
		tl_skip("size limit: cannot write the files");
		return;
	}
	free(big);
	ret = faithd_conf_load(tmp_path("max.conf"), &c, NULL, 0);
	tl_check(ret == 0 && c && c->n == 0, "load a file of exactly %zu bytes",
		 max);
	faithd_conf_free(c);
	check_load("big.conf", -EFBIG, ": larger than 1048576 bytes");
}

static void test_loading(void)
{
	static const char bad[] = "::/0 permit 10.0.0.0/8\n::/0 permit 10.0.0.1/8\n";
	struct faithd_conf *old = NULL, *next = NULL;
	char err[256] = "";

	if (!mkdtemp(dir)) {
		tl_skip("loading files: mkdtemp: %s", strerror(errno));
		return;
	}
	test_load_good();
	check_load("missing.conf", -ENOENT, ": No such file or directory");
	check_load("", -EISDIR, ": Is a directory");
	if (mkfifo(tmp_path("fifo"), 0600) == 0)
		check_load("fifo", -EINVAL, ": not a regular file");
	else
		tl_skip("load a FIFO: mkfifo: %s", strerror(errno));
	if (write_file("bad.conf", bad, strlen(bad)))
		check_load("bad.conf", -EINVAL,
			   ":2: destination address has bits set past /8 "
			   "('10.0.0.1/8')");
	test_load_size();

	/* A reload that fails leaves the running configuration alone. */
	faithd_conf_load(tmp_path("good.conf"), &old, err, sizeof(err));
	next = old;
	tl_check(faithd_conf_load(tmp_path("bad.conf"), &next, err,
				  sizeof(err)) == -EINVAL && !next &&
		 old && old->n == 8, "failed reload: no new object, old intact");
	faithd_conf_free(old);

	unlink(tmp_path("good.conf"));
	unlink(tmp_path("bad.conf"));
	unlink(tmp_path("fifo"));
	unlink(tmp_path("max.conf"));
	unlink(tmp_path("big.conf"));
	rmdir(dir);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# matching\n");
	test_matching();
	printf("# loading\n");
	test_loading();
	return tl_report();
}

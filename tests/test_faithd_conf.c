// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/faithd/conf.c, parsing: what faithd.conf accepts and how
 * each rule reads back, and that every malformed line fails the whole
 * parse with "NAME:LINE: what ('text')" and no object.  Matching and
 * loading files: tests/test_faithd_match.c.
 *
 *   make build/test_faithd_conf && build/test_faithd_conf
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faithd/conf.h"
#include "testlib.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_RULES	4

struct accept_case {
	const char *what;
	const char *text;
	size_t n;
	/* Each rule as faithd_rule_format() writes it, and its line. */
	struct {
		const char *canon;
		unsigned int line;
	} rule[MAX_RULES];
};

static const struct accept_case accepted[] = {
	{ "empty file", "", 0, { { 0 } } },
	{ "blank lines, comments, whitespace",
	  "\n# faithd.conf\n   \n\t\n#\n  # indented comment\n", 0, { { 0 } } },
	{ "one rule", "2001:db8::/32 permit 192.0.2.0/24\n", 1,
	  { { "2001:db8::/32 permit 192.0.2.0/24", 1 } } },
	{ "no newline at the end", "2001:db8::/32 deny 192.0.2.0/24", 1,
	  { { "2001:db8::/32 deny 192.0.2.0/24", 1 } } },
	{ "tabs, leading and trailing blanks",
	  "\t 2001:db8::/32\t\tpermit \t192.0.2.0/24 \t\n", 1,
	  { { "2001:db8::/32 permit 192.0.2.0/24", 1 } } },
	{ "comments after rules, with and without a blank",
	  "2001:db8::/32 permit 192.0.2.0/24 # web\n"
	  "2001:db8::/32 deny 198.51.100.0/24# rest\n"
	  "2001:db8::/32 permit 203.0.113.0/24 203.0.113.9#bind\n", 3,
	  { { "2001:db8::/32 permit 192.0.2.0/24", 1 },
	    { "2001:db8::/32 deny 198.51.100.0/24", 2 },
	    { "2001:db8::/32 permit 203.0.113.0/24 203.0.113.9", 3 } } },
	{ "omitted lengths are hosts",
	  "2001:db8::1 permit 192.0.2.1\n", 1,
	  { { "2001:db8::1/128 permit 192.0.2.1/32", 1 } } },
	{ "zero lengths: everyone, everywhere",
	  "::/0 permit 0.0.0.0/0\n", 1, { { "::/0 permit 0.0.0.0/0", 1 } } },
	{ "bindaddr",
	  "2001:db8:1::/48 permit 0.0.0.0/0 198.51.100.7\n", 1,
	  { { "2001:db8:1::/48 permit 0.0.0.0/0 198.51.100.7", 1 } } },
	{ "odd lengths and non-canonical spellings",
	  "2001:DB8:0:0:8000::/65 deny 10.128.0.0/9\n"
	  "2001:0db8::/33 permit 172.16.0.0/12 10.0.0.1\n", 2,
	  { { "2001:db8:0:0:8000::/65 deny 10.128.0.0/9", 1 },
	    { "2001:db8::/33 permit 172.16.0.0/12 10.0.0.1", 2 } } },
	{ "line numbers count blank and comment lines",
	  "# head\n\n::/0 deny 10.0.0.0/8\n# mid\n\n\n::/0 permit 0.0.0.0/0\n\n", 2,
	  { { "::/0 deny 10.0.0.0/8", 3 }, { "::/0 permit 0.0.0.0/0", 7 } } },
	{ "longest lengths",
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128 permit "
	  "255.255.255.255/32 223.255.255.255\n", 1,
	  { { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128 permit "
	      "255.255.255.255/32 223.255.255.255", 1 } } },
};

static void test_accepted(const struct accept_case *c)
{
	char err[256] = "", text[FAITHD_RULE_STRLEN];
	struct faithd_conf *conf, *again;
	size_t i;
	int ret;

	ret = faithd_conf_parse(c->text, strlen(c->text), "t.conf", &conf, err,
				sizeof(err));
	if (!tl_check(ret == 0 && conf, "accept: %s", c->what)) {
		tl_diag("got %d: %s", ret, err);
		return;
	}
	tl_check(conf->n == c->n && !strcmp(conf->path, "t.conf"),
		 "%s: %zu rules, named t.conf", c->what, c->n);
	for (i = 0; i < conf->n && i < c->n; i++) {
		const struct faithd_rule *r = &conf->rules[i];

		faithd_rule_format(r, text, sizeof(text));
		if (!tl_check(!strcmp(text, c->rule[i].canon) &&
			      r->line == c->rule[i].line,
			      "%s: rule %zu reads '%s', line %u", c->what, i,
			      c->rule[i].canon, c->rule[i].line))
			tl_diag("got '%s', line %u", text, r->line);
		ret = faithd_conf_parse(text, strlen(text), "again", &again,
					err, sizeof(err));
		r = again && again->n == 1 ? &again->rules[0] : NULL;
		tl_check(r && !memcmp(&r->src, &conf->rules[i].src, 16) &&
			 r->src_len == conf->rules[i].src_len &&
			 r->dst.s_addr == conf->rules[i].dst.s_addr &&
			 r->dst_len == conf->rules[i].dst_len &&
			 r->permit == conf->rules[i].permit &&
			 r->has_bind == conf->rules[i].has_bind &&
			 r->bind.s_addr == conf->rules[i].bind.s_addr,
			 "%s: rule %zu parses back the same", c->what, i);
		faithd_conf_free(again);
	}
	faithd_conf_free(conf);
}

struct refuse_case {
	const char *text;
	const char *msg;	/* the whole message, after "t.conf:" */
};

#define OK "::/0 deny 10.0.0.0/8\n"	/* a valid line before the bad one */

static const struct refuse_case refused[] = {
	/* Source. */
	{ "2001:db8::zz/32 permit 192.0.2.0/24",
	  "1: source is not an IPv6 address ('2001:db8::zz/32')" },
	{ OK "fe80::1%eth0 permit 192.0.2.0/24",
	  "2: source is not an IPv6 address ('fe80::1%eth0')" },
	{ "192.0.2.1 permit 192.0.2.0/24",
	  "1: source is not an IPv6 address ('192.0.2.1')" },
	{ "/32 permit 192.0.2.0/24",
	  "1: source is not an IPv6 address ('/32')" },
	{ "2001:db8::/129 permit 192.0.2.0/24",
	  "1: source prefix length must be 0 to 128 ('2001:db8::/129')" },
	{ "2001:db8::/ permit 192.0.2.0/24",
	  "1: source prefix length must be 0 to 128 ('2001:db8::/')" },
	{ "2001:db8::/032 permit 192.0.2.0/24",
	  "1: source prefix length must be 0 to 128 ('2001:db8::/032')" },
	{ "2001:db8::/+32 permit 192.0.2.0/24",
	  "1: source prefix length must be 0 to 128 ('2001:db8::/+32')" },
	{ "2001:db8::/32/1 permit 192.0.2.0/24",
	  "1: source prefix length must be 0 to 128 ('2001:db8::/32/1')" },
	{ "2001:db8::/ 32 permit 192.0.2.0/24",
	  "1: source prefix length must be 0 to 128 ('2001:db8::/')" },
	{ OK OK "2001:db8::1/32 permit 192.0.2.0/24",
	  "3: source address has bits set past /32 ('2001:db8::1/32')" },
	{ "2001:db8:4000::/33 permit 192.0.2.0/24",
	  "1: source address has bits set past /33 ('2001:db8:4000::/33')" },
	{ "::1/0 permit 192.0.2.0/24",
	  "1: source address has bits set past /0 ('::1/0')" },
	/* Action. */
	{ "::/0 allow 192.0.2.0/24",
	  "1: unknown action, expected permit or deny ('allow')" },
	{ "::/0 PERMIT 192.0.2.0/24",
	  "1: unknown action, expected permit or deny ('PERMIT')" },
	/* Destination. */
	{ "::/0 permit 192.0.2/24",
	  "1: destination is not an IPv4 address ('192.0.2/24')" },
	{ "::/0 permit 192.0.2.256",
	  "1: destination is not an IPv4 address ('192.0.2.256')" },
	{ "::/0 permit 192.000.002.001",
	  "1: destination is not an IPv4 address ('192.000.002.001')" },
	{ "::/0 permit 64:ff9b::/96",
	  "1: destination is not an IPv4 address ('64:ff9b::/96')" },
	{ "::/0 permit 192.0.2.0/33",
	  "1: destination prefix length must be 0 to 32 ('192.0.2.0/33')" },
	{ "::/0 permit 192.0.2.0/-1",
	  "1: destination prefix length must be 0 to 32 ('192.0.2.0/-1')" },
	{ "::/0 permit 192.0.2.1/24",
	  "1: destination address has bits set past /24 ('192.0.2.1/24')" },
	{ "::/0 permit 192.0.2.128/24",
	  "1: destination address has bits set past /24 ('192.0.2.128/24')" },
	{ "::/0 permit 128.0.0.0/0",
	  "1: destination address has bits set past /0 ('128.0.0.0/0')" },
	/* BINDADDR. */
	{ "::/0 deny 192.0.2.0/24 198.51.100.1",
	  "1: BINDADDR goes with permit only ('198.51.100.1')" },
	{ "::/0 permit 192.0.2.0/24 198.51.100.1/32",
	  "1: BINDADDR is not an IPv4 address ('198.51.100.1/32')" },
	{ "::/0 permit 192.0.2.0/24 2001:db8::1",
	  "1: BINDADDR is not an IPv4 address ('2001:db8::1')" },
	{ "::/0 permit 192.0.2.0/24 0.0.0.0",
	  "1: BINDADDR cannot be a source address "
	  "(0.0.0.0/32 \"this host on this network\") ('0.0.0.0')" },
	{ "::/0 permit 192.0.2.0/24 224.0.0.1",
	  "1: BINDADDR cannot be a source address (224.0.0.0/4 multicast) "
	  "('224.0.0.1')" },
	/* Fields. */
	{ "::/0 permit 192.0.2.0/24 198.51.100.1 extra",
	  "1: too many fields ('extra')" },
	{ "::/0 permit 192.0.2.0/24 198.51.100.1 a b c",
	  "1: too many fields ('a')" },
	{ OK "::/0 permit",
	  "2: expected SRC[/LEN] permit|deny DST[/LEN] [BINDADDR] ('::/0')" },
	{ "  ::/0  # permit 10.0.0.0/8",
	  "1: expected SRC[/LEN] permit|deny DST[/LEN] [BINDADDR] ('::/0')" },
	/* Bytes. */
	{ OK "::/0 permit 10.0.0.0/8\r\n",
	  "2: control character 0x0d in column 23" },
	{ "::/0 permit\v10.0.0.0/8", "1: control character 0x0b in column 12" },
	{ "::/0 permit 10.0.0.0/8\x7f", "1: control character 0x7f in column 23" },
	/* A long offending text is cut. */
	{ "::/0 permit 10.0.0.0/8 "
	  "1234567890123456789012345678901234567890123456789012345678901234567890",
	  "1: BINDADDR is not an IPv4 address ('1234567890123456789012345678901"
	  "234567890123456789012345678901234...')" },
};

/* text with newlines and other control bytes as \n, \x0b, ... */
static const char *printable(const char *text, char *buf, size_t size)
{
	size_t n = 0;

	for (; *text && n + 5 < size; text++) {
		if (*text == '\n')
			n += (size_t)snprintf(buf + n, size - n, "\\n");
		else if ((unsigned char)*text < 0x20 || *text == 0x7f)
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x",
					      (unsigned char)*text);
		else
			buf[n++] = *text;
	}
	buf[n] = '\0';
	return buf;
}

static void check_refused(const char *what, const char *text, size_t len,
			  const char *want)
{
	struct faithd_conf *conf = (struct faithd_conf *)&conf;
	char err[512] = "", full[512], w[256];
	int ret;

	snprintf(full, sizeof(full), "t.conf:%s", want);
	ret = faithd_conf_parse(text, len, "t.conf", &conf, err, sizeof(err));
	if (!tl_check(ret == -EINVAL && !conf && !strcmp(err, full),
		      "refuse %s: \"%s\", no object",
		      printable(what, w, sizeof(w)), full))
		tl_diag("got %d, %s, \"%s\"", ret, conf ? "an object" : "NULL",
			err);
	if (ret == 0)
		faithd_conf_free(conf);
}

/* Lines of exactly FAITHD_CONF_LINE_MAX bytes pass, one more fails. */
static void test_line_length(void)
{
	static const char rule[] = "::/0 permit 0.0.0.0/0 #";
	char text[2 * FAITHD_CONF_LINE_MAX + 8], want[64];
	size_t max = FAITHD_CONF_LINE_MAX, n;
	struct faithd_conf *conf;
	char err[256];
	int ret;

	memcpy(text, rule, strlen(rule));
	memset(text + strlen(rule), 'x', max - strlen(rule));
	text[max] = '\n';
	n = max + 1;
	ret = faithd_conf_parse(text, n, "t.conf", &conf, err, sizeof(err));
	tl_check(ret == 0 && conf && conf->n == 1,
		 "a %zu-byte line (comment included) is fine", max);
	faithd_conf_free(conf);

	/* The same line again, one byte longer, as line 2. */
	memcpy(text + n, text, max);
	text[n + max] = 'x';
	text[n + max + 1] = '\n';
	snprintf(want, sizeof(want), "2: line longer than %zu bytes", max);
	check_refused("a line one byte too long", text, n + max + 2, want);
	check_refused("... also without a newline", text, n + max + 1, want);
	memset(text, '#', 2 * max);
	check_refused("a comment line too long", text, 2 * max,
		      "1: line longer than 1024 bytes");
}

static void test_nul(void)
{
	static const char text[] = OK "::/0 permit\0 10.0.0.0/8\n";

	check_refused("a NUL byte", text, sizeof(text) - 1,
		      "2: NUL byte in column 12");
	check_refused("a NUL byte in a comment", "# x\0y", 5,
		      "1: NUL byte in column 4");
	check_refused("a NUL byte alone on line 3", OK "\n\0\n", strlen(OK) + 3,
		      "3: NUL byte in column 1");
}

/* Messages fit whatever buffer they get, and no buffer is fine too. */
static void test_err_buffers(void)
{
	struct faithd_conf *conf;
	char err[16];
	int ret;

	memset(err, 'x', sizeof(err));
	ret = faithd_conf_parse("::/0 allow 10.0.0.0/8", 21, "t.conf", &conf,
				err, 8);
	tl_check(ret == -EINVAL && !strcmp(err, "t.conf:") && err[8] == 'x',
		 "8-byte error buffer: truncated, nothing past it");
	ret = faithd_conf_parse("::/0 allow 10.0.0.0/8", 21, "t.conf", &conf,
				NULL, 0);
	tl_check(ret == -EINVAL && !conf, "no error buffer: still -EINVAL");
	ret = faithd_conf_parse("::/0 allow 10.0.0.0/8", 21, NULL, &conf,
				err, sizeof(err));
	tl_check(ret == -EINVAL && !strncmp(err, "(config):1: ", 12),
		 "no name: messages say (config)");
}

int main(void)
{
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# accepted\n");
	for (i = 0; i < ARRAY_SIZE(accepted); i++)
		test_accepted(&accepted[i]);
	printf("# refused\n");
	for (i = 0; i < ARRAY_SIZE(refused); i++)
		check_refused(refused[i].text, refused[i].text,
			      strlen(refused[i].text), refused[i].msg);
	test_line_length();
	test_nul();
	test_err_buffers();
	return tl_report();
}

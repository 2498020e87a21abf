// SPDX-License-Identifier: BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "faithd/addrmap.h"
#include "faithd/conf.h"

#define SEP		" \t"
#define MAX_FIELDS	4
/* Offending text longer than this is cut in messages. */
#define QUOTE_MAX	64

/* Where the parser is, for messages. */
struct pos {
	const char *name;
	unsigned int line;
	char *err;
	size_t errlen;
};

/* "NAME:LINE: what ('text')"; always -EINVAL. */
__attribute__((format(printf, 3, 4)))
static int fail(const struct pos *p, const char *text, const char *fmt, ...)
{
	char what[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!p->errlen)
		return -EINVAL;
	if (!text)
		snprintf(p->err, p->errlen, "%s:%u: %s", p->name, p->line, what);
	else
		snprintf(p->err, p->errlen, "%s:%u: %s ('%.*s%s')", p->name,
			 p->line, what, QUOTE_MAX, text,
			 strlen(text) > QUOTE_MAX ? "..." : "");
	return -EINVAL;
}

/* A prefix length: decimal, no sign, no leading zero, at most max. */
static bool parse_len(const char *text, unsigned int max, uint8_t *len)
{
	size_t n = strspn(text, "0123456789");
	unsigned int v = 0;

	if (n == 0 || n > 3 || text[n] || (n > 1 && text[0] == '0'))
		return false;
	while (*text)
		v = v * 10 + (unsigned int)(*text++ - '0');
	if (v > max)
		return false;
	*len = (uint8_t)v;
	return true;
}

/* Are the bits of addr (size bytes) past len all zero? */
static bool host_bits_clear(const uint8_t *addr, size_t size, unsigned int len)
{
	size_t i = len / 8;

	if (len % 8 && (addr[i++] & (0xff >> (len % 8))))
		return false;
	for (; i < size; i++)
		if (addr[i])
			return false;
	return true;
}

/*
 * ADDR[/LEN] of family af into addr (4 or 16 bytes) and len; what is
 * "source" or "destination", for messages.
 */
static int parse_prefix(const struct pos *p, const char *text, int af,
			const char *what, void *addr, uint8_t *len)
{
	unsigned int max = af == AF_INET6 ? 128 : 32;
	const char *slash = strchr(text, '/');
	char buf[INET6_ADDRSTRLEN];
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);

	if (alen >= sizeof(buf))
		goto bad_addr;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (inet_pton(af, buf, addr) != 1)
		goto bad_addr;
	*len = (uint8_t)max;
	if (slash && !parse_len(slash + 1, max, len))
		return fail(p, text, "%s prefix length must be 0 to %u", what,
			    max);
	if (!host_bits_clear(addr, max / 8, *len))
		return fail(p, text, "%s address has bits set past /%u", what,
			    *len);
	return 0;
bad_addr:
	return fail(p, text, "%s is not an IPv%c address", what,
		    af == AF_INET6 ? '6' : '4');
}

static int parse_bind(const struct pos *p, const char *text,
		      struct faithd_rule *r)
{
	if (!r->permit)
		return fail(p, text, "BINDADDR goes with permit only");
	if (inet_pton(AF_INET, text, &r->bind) != 1)
		return fail(p, text, "BINDADDR is not an IPv4 address");
	/* Nothing in those ranges can be the source of a relayed connection. */
	if (faithd_classify_v4(r->bind) == FAITHD_DST_FORBIDDEN)
		return fail(p, text, "BINDADDR cannot be a source address (%s)",
			    faithd_dst_range_name(r->bind));
	r->has_bind = true;
	return 0;
}

/* Split line into at most MAX_FIELDS + 1 fields; returns how many. */
static int split(char *line, char *field[MAX_FIELDS + 1])
{
	char *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(line, SEP, &save); tok && n <= MAX_FIELDS;
	     tok = strtok_r(NULL, SEP, &save))
		field[n++] = tok;
	return n;
}

static int parse_fields(const struct pos *p, char *field[], int n,
			struct faithd_rule *r)
{
	int err;

	err = parse_prefix(p, field[0], AF_INET6, "source", &r->src,
			   &r->src_len);
	if (err)
		return err;
	if (!strcmp(field[1], "permit"))
		r->permit = true;
	else if (strcmp(field[1], "deny"))
		return fail(p, field[1], "unknown action, expected permit or deny");
	err = parse_prefix(p, field[2], AF_INET, "destination", &r->dst,
			   &r->dst_len);
	if (err)
		return err;
	return n == 4 ? parse_bind(p, field[3], r) : 0;
}

/* Control characters other than tab (a CR from CRLF too) are errors. */
static int check_chars(const struct pos *p, const char *line)
{
	const unsigned char *c;

	for (c = (const unsigned char *)line; *c; c++)
		if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
			return fail(p, NULL, "control character 0x%02x in column %zu",
				    *c, (size_t)(c - (const unsigned char *)line) + 1);
	return 0;
}

static int add_rule(struct faithd_conf *c, const struct faithd_rule *r)
{
	struct faithd_rule *rules;

	/* Grow at powers of two. */
	if (!(c->n & (c->n - 1))) {
		rules = realloc(c->rules, (c->n ? c->n * 2 : 1) * sizeof(*r));
		if (!rules)
			return -ENOMEM;
		c->rules = rules;
	}
	c->rules[c->n++] = *r;
	return 0;
}

/* One line, NUL-terminated, without its newline; may be written to. */
static int parse_line(const struct pos *p, char *line, struct faithd_conf *c)
{
	char *field[MAX_FIELDS + 1], *hash = strchr(line, '#');
	struct faithd_rule r = { .line = p->line };
	int n, err;

	if (hash)
		*hash = '\0';
	err = check_chars(p, line);
	if (err)
		return err;
	n = split(line, field);
	if (n == 0)
		return 0;
	if (n > MAX_FIELDS)
		return fail(p, field[MAX_FIELDS], "too many fields");
	if (n < 3)
		return fail(p, field[0],
			    "expected SRC[/LEN] permit|deny DST[/LEN] [BINDADDR]");
	err = parse_fields(p, field, n, &r);
	if (err)
		return err;
	err = add_rule(c, &r);
	if (err)
		snprintf(p->err, p->errlen, "%s:%u: out of memory", p->name,
			 p->line);
	return err;
}

static int parse_text(const char *text, size_t len, struct pos *p,
		      struct faithd_conf *c)
{
	char line[FAITHD_CONF_LINE_MAX + 1];
	size_t off = 0, n;
	const char *nl, *nul;
	int err;

	for (p->line = 1; off < len; p->line++, off += n + 1) {
		nl = memchr(text + off, '\n', len - off);
		n = nl ? (size_t)(nl - (text + off)) : len - off;
		if (n > FAITHD_CONF_LINE_MAX)
			return fail(p, NULL, "line longer than %d bytes",
				    FAITHD_CONF_LINE_MAX);
		nul = memchr(text + off, '\0', n);
		if (nul)
			return fail(p, NULL, "NUL byte in column %zu",
				    (size_t)(nul - (text + off)) + 1);
		memcpy(line, text + off, n);
		line[n] = '\0';
		err = parse_line(p, line, c);
		if (err)
			return err;
	}
	return 0;
}

int faithd_conf_parse(const char *text, size_t len, const char *name,
		      struct faithd_conf **out, char *err, size_t errlen)
{
	struct pos p = { .name = name ? name : "(config)", .err = err,
			 .errlen = err ? errlen : 0 };
	struct faithd_conf *c;
	int ret;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c)
		c->path = strdup(p.name);
	if (!c || !c->path) {
		faithd_conf_free(c);
		snprintf(err, p.errlen, "%s: out of memory", p.name);
		return -ENOMEM;
	}
	ret = parse_text(text, len, &p, c);
	if (ret) {
		faithd_conf_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

/* The whole of fd, at most FAITHD_CONF_SIZE_MAX bytes, into *buf. */
static int read_all(int fd, char **buf, size_t *len)
{
	/* Room for one byte past the limit tells "too large" from "fits". */
	const size_t room = FAITHD_CONF_SIZE_MAX + 1;
	char *b = malloc(room);
	size_t n = 0;
	ssize_t r = 1;
	int ret = 0;

	if (!b)
		return -ENOMEM;
	while (n < room && r) {
		r = read(fd, b + n, room - n);
		if (r < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		n += r > 0 ? (size_t)r : 0;
	}
	if (!ret && n == room)
		ret = -EFBIG;
	if (ret) {
		free(b);
		return ret;
	}
	*buf = b;
	*len = n;
	return 0;
}

int faithd_conf_load(const char *path, struct faithd_conf **out, char *err,
		     size_t errlen)
{
	size_t len = 0;
	struct stat st;
	char *text = NULL;
	int fd, ret;

	*out = NULL;
	/* O_NONBLOCK: opening a FIFO must not hang a reload. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = fstat(fd, &st) ? -errno : 0;
	if (!ret && S_ISDIR(st.st_mode))
		ret = -EISDIR;
	else if (!ret && !S_ISREG(st.st_mode))
		ret = -EINVAL;
	if (!ret)
		ret = read_all(fd, &text, &len);
	close(fd);
	if (ret)
		goto fail;
	ret = faithd_conf_parse(text, len, path, out, err, errlen);
	free(text);
	return ret;
fail:
	if (ret == -EFBIG)
		snprintf(err, err ? errlen : 0, "%s: larger than %d bytes",
			 path, FAITHD_CONF_SIZE_MAX);
	else if (ret == -EINVAL)
		snprintf(err, err ? errlen : 0, "%s: not a regular file", path);
	else
		snprintf(err, err ? errlen : 0, "%s: %s", path, strerror(-ret));
	return ret;
}

void faithd_conf_free(struct faithd_conf *c)
{
	if (!c)
		return;
	free(c->rules);
	free(c->path);
	free(c);
}

static bool prefix6_has(const struct in6_addr *p, unsigned int len,
			const struct in6_addr *a)
{
	unsigned int bytes = len / 8, rest = len % 8;

	if (memcmp(p->s6_addr, a->s6_addr, bytes))
		return false;
	if (!rest)
		return true;
	return !((p->s6_addr[bytes] ^ a->s6_addr[bytes]) >> (8 - rest));
}

static bool prefix4_has(struct in_addr p, unsigned int len, struct in_addr a)
{
	/* A shift by 32 would be undefined. */
	uint32_t mask = len ? ~(uint32_t)0 << (32 - len) : 0;

	return !((ntohl(p.s_addr) ^ ntohl(a.s_addr)) & mask);
}

const struct faithd_rule *faithd_conf_match(const struct faithd_conf *c,
					    const struct in6_addr *src,
					    struct in_addr dst)
{
	size_t i;

	if (!c)
		return NULL;
	for (i = 0; i < c->n; i++) {
		const struct faithd_rule *r = &c->rules[i];

		if (prefix6_has(&r->src, r->src_len, src) &&
		    prefix4_has(r->dst, r->dst_len, dst))
			return r;
	}
	return NULL;
}

bool faithd_rule_explicit(const struct faithd_rule *r)
{
	return r && r->permit && r->dst_len > 0;
}

struct faithd_access faithd_conf_check(const struct faithd_conf *c,
				       const struct in6_addr *src,
				       struct in_addr dst)
{
	struct faithd_access a = { .permit = !c };

	if (!c)
		return a;
	a.rule = faithd_conf_match(c, src, dst);
	a.permit = a.rule && a.rule->permit;
	a.explicit_dst = faithd_rule_explicit(a.rule);
	return a;
}

void faithd_rule_format(const struct faithd_rule *r, char *buf, size_t len)
{
	char src[INET6_ADDRSTRLEN], dst[INET_ADDRSTRLEN], bind[INET_ADDRSTRLEN];

	inet_ntop(AF_INET6, &r->src, src, sizeof(src));
	inet_ntop(AF_INET, &r->dst, dst, sizeof(dst));
	inet_ntop(AF_INET, &r->bind, bind, sizeof(bind));
	snprintf(buf, len, "%s/%u %s %s/%u%s%s", src, r->src_len,
		 r->permit ? "permit" : "deny", dst, r->dst_len,
		 r->has_bind ? " " : "", r->has_bind ? bind : "");
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * What every sub-command of faith-bytes uses: the pattern stream, the
 * header, time, socket errors and their exit codes, addresses, the
 * connect, the result line and the options.
 */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "faith-bytes.h"

/* ---- the pattern ------------------------------------------------------ */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

struct stream stream_init(uint64_t len, uint64_t id)
{
	return (struct stream){ .seed = mix64(len ^ mix64(id)) };
}

void stream_fill(const struct stream *s, uint64_t off, unsigned char *buf, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint64_t pos = off + i;
		uint64_t v = mix64(s->seed + (pos / 8 + 1) * 0x9e3779b97f4a7c15ull);
		unsigned int k;

		v >>= pos % 8 * 8;
		for (k = pos % 8; k < 8 && i < n; k++, i++, v >>= 8)
			buf[i] = (unsigned char)v;
	}
}

/* Index of the first byte of buf that differs from the stream, or n. */
size_t stream_check(const struct stream *s, uint64_t off,
			   const unsigned char *buf, size_t n)
{
	unsigned char want[4096];
	size_t done, len, i;

	for (done = 0; done < n; done += len) {
		len = n - done < sizeof(want) ? n - done : sizeof(want);
		stream_fill(s, off + done, want, len);
		if (memcmp(want, buf + done, len))
			for (i = 0; i < len; i++)
				if (want[i] != buf[done + i])
					return done + i;
	}
	return n;
}

/* ---- header ----------------------------------------------------------- */

void header_pack(const struct header *h, unsigned char *out)
{
	uint32_t magic = htobe32(h->magic), flags = htobe32(h->flags);
	uint64_t up = htobe64(h->upload), down = htobe64(h->download);

	memcpy(out, &magic, 4);
	memcpy(out + 4, &flags, 4);
	memcpy(out + 8, &up, 8);
	memcpy(out + 16, &down, 8);
}

void header_unpack(struct header *h, const unsigned char *in)
{
	memcpy(&h->magic, in, 4);
	memcpy(&h->flags, in + 4, 4);
	memcpy(&h->upload, in + 8, 8);
	memcpy(&h->download, in + 16, 8);
	h->magic = be32toh(h->magic);
	h->flags = be32toh(h->flags);
	h->upload = be64toh(h->upload);
	h->download = be64toh(h->download);
}

bool header_valid(const struct header *h)
{
	if (h->magic != FB_MAGIC || (h->flags & ~(FB_HALF_CLOSE | FB_HOLD)))
		return false;
	/* The download is counted with its status byte, so it needs room. */
	if (h->download == UINT64_MAX)
		return false;
	return !(h->flags & FB_HOLD) || (!h->upload && !h->download);
}

/* ---- common helpers --------------------------------------------------- */

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline, for poll(); 0 once it has passed. */
int ms_left(uint64_t deadline)
{
	uint64_t now = now_ms();

	if (now >= deadline)
		return 0;
	return deadline - now > INT32_MAX ? INT32_MAX : (int)(deadline - now);
}

bool would_block(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

/* How a socket error counts: refused and reset are one exit code. */
const char *err_word(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "refused";
	case ECONNRESET:
	case EPIPE:
		return "reset";
	case ETIMEDOUT:
		return "timeout";
	default:
		return "error";
	}
}

int err_exit(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case ECONNRESET:
	case EPIPE:
		return EX_RESET;
	case ETIMEDOUT:
		return EX_TIMEOUT;
	default:
		return EX_ERR;
	}
}

bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

bool parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (!parse_u64(s, &v) || !v || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* ADDR is a numeric literal (also "[v6]" or "v6%scope"); no DNS in tests. */
bool parse_addr(const char *addr, uint16_t port, struct target *t)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *ai;
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2], serv[8];
	size_t n = strlen(addr);

	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
		addr++;
		n -= 2;
	}
	if (n >= sizeof(host))
		return false;
	memcpy(host, addr, n);
	host[n] = '\0';
	snprintf(serv, sizeof(serv), "%u", port);
	if (getaddrinfo(host, serv, &hints, &ai))
		return false;
	memcpy(&t->sa, ai->ai_addr, ai->ai_addrlen);
	t->len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return true;
}

/* --bind ADDR: the client's source address (e.g. a second address of the
 * client, to test per-source rules). */
static struct target bind_src;
static bool have_bind;

/* Start a non-blocking connect: 0 and *fd, or an errno. */
int connect_start(const struct target *t, int *fd)
{
	int err;

	*fd = socket(t->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return errno;
	if (have_bind && bind(*fd, (const struct sockaddr *)&bind_src.sa, bind_src.len))
		goto fail;
	if (!connect(*fd, (const struct sockaddr *)&t->sa, t->len) || errno == EINPROGRESS)
		return 0;
fail:
	err = errno;
	close(*fd);
	*fd = -1;
	return err;
}

/* 1,000 held connections need more descriptors than the usual soft 1024. */
rlim_t raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur;
}

/* Print "WORD after T ms[: detail]" on stdout: the one result line. */
void report(const char *word, uint64_t start, const char *fmt, ...)
{
	va_list ap;

	printf("%s after %llu ms", word, (unsigned long long)(now_ms() - start));
	if (fmt) {
		fputs(": ", stdout);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	putchar('\n');
	fflush(stdout);
}

/* ---- options ---------------------------------------------------------- */

static bool parse_timeout(const char *s, uint64_t *ms)
{
	char *end;
	double sec;

	errno = 0;
	sec = strtod(s, &end);
	/* Written so that NaN fails too. */
	if (errno || *end || end == s || !(sec > 0 && sec <= 1e7))
		return false;
	*ms = (uint64_t)(sec * 1000 + 0.999);
	return true;
}

/* Options may come anywhere after the sub-command; the rest is positional. */
bool parse_opts(int argc, char **argv, unsigned int allowed, struct opts *o)
{
	static const struct option longopts[] = {
		{ "half-close", no_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "bind", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	o->timeout_ms = DEFAULT_TIMEOUT_MS;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'c' && (allowed & OPT_HALF_CLOSE))
			o->half_close = true;
		else if (c == 'b' && (allowed & OPT_TIMEOUT)) {
			if (!parse_addr(optarg, 0, &bind_src))
				return false;
			have_bind = true;
		} else if (c != 't' || !(allowed & OPT_TIMEOUT) ||
			 !parse_timeout(optarg, &o->timeout_ms))
			return false;
	}
	o->npos = argc - optind;
	o->pos = argv + optind;
	return true;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * faith-bytes: a byte-exact TCP traffic checker for faithd's end-to-end
 * tests, run on both sides of the relay.
 *
 *   faith-bytes serve ADDR PORT [PORT...]
 *   faith-bytes send ADDR PORT UPLOAD DOWNLOAD [--half-close] [--timeout SEC]
 *   faith-bytes hold ADDR PORT N [--timeout SEC]
 *   faith-bytes probe ADDR PORT [--timeout SEC]
 *
 * Protocol, per connection: the client sends a 24-byte header
 * {magic "FBYT", flags, upload, download} (u32, u32, u64, u64, network byte
 * order), then UPLOAD bytes of the pattern stream (UPLOAD, 1).  The server
 * verifies them, with FB_HALF_CLOSE waits for the client's FIN, then sends a
 * status byte ('K' verified, 'X' not) and DOWNLOAD bytes of the stream
 * (DOWNLOAD, 2), and closes with a FIN.  With FB_HOLD (sizes 0) it sends 'K'
 * at once and keeps the connection until the client closes it.
 *
 * Output, one result line on stdout (T: milliseconds since the connect):
 *   serve:  "ready" once listening; at SIGTERM/SIGINT, exit 0 and a count of
 *           connections on stderr (mismatches and bad headers are logged there)
 *   send:   "ok up=N down=N ms=T", or "WORD after T ms: DETAIL (up=S/N down=R/N)"
 *           with WORD refused, reset, timeout, mismatch or error
 *   hold:   "held N", then "released N[, D dropped while held]" once stdin has
 *           a line or ends; or "held K of N after T ms: 3 refused, 1 reset, ..."
 *           (--timeout covers establishing them, not the holding)
 *   probe:  "refused|reset|closed|data|timeout after T ms"
 *
 * Exit codes: 0 ok, 1 other error, 2 usage, 3 reset or refused, 4 timeout,
 * 5 data mismatch (wrong byte, wrong length, bad status), 6 closed (probe).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FB_MAGIC	0x46425954u	/* "FBYT" */
#define FB_HALF_CLOSE	1u
#define FB_HOLD		2u
#define FB_HDR_LEN	24
#define FB_STATUS_OK	'K'
#define FB_STATUS_BAD	'X'
#define CHUNK		65536
#define DEFAULT_TIMEOUT_MS 10000
#define MAX_HOLD	1000000

enum {
	EX_OK = 0,
	EX_ERR = 1,
	EX_USAGE = 2,
	EX_RESET = 3,
	EX_TIMEOUT = 4,
	EX_DATA = 5,
	EX_CLOSED = 6,
};

/* A step of a state machine either goes on or ends with an exit code. */
#define STEP_MORE (-1)

static const char usage_text[] =
	"usage: faith-bytes serve ADDR PORT [PORT...]\n"
	"       faith-bytes send ADDR PORT UPLOAD DOWNLOAD [--half-close] [--timeout SEC]\n"
	"       faith-bytes hold ADDR PORT N [--timeout SEC]\n"
	"       faith-bytes probe ADDR PORT [--timeout SEC]\n"
	"send, hold and probe take --bind ADDR: the source address to use.\n"
	"ADDR is an IPv4 or IPv6 literal; SEC may be fractional (default 10).\n"
	"exit: 0 ok, 1 error, 2 usage, 3 reset or refused, 4 timeout,\n"
	"      5 data mismatch, 6 closed (probe)\n";

static int usage(void)
{
	fputs(usage_text, stderr);
	return EX_USAGE;
}

/* ---- the pattern ------------------------------------------------------ */

/*
 * Byte i of a stream is byte i % 8 (little end first) of a splitmix64 output
 * for block i / 8: any offset can be produced on its own, so neither side
 * keeps unsent or unverified data around, and a shifted, dropped or doubled
 * byte shows up at once.
 */
struct stream {
	uint64_t seed;
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static struct stream stream_init(uint64_t len, uint64_t id)
{
	return (struct stream){ .seed = mix64(len ^ mix64(id)) };
}

static void stream_fill(const struct stream *s, uint64_t off, unsigned char *buf, size_t n)
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
static size_t stream_check(const struct stream *s, uint64_t off,
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

struct header {
	uint32_t magic;
	uint32_t flags;
	uint64_t upload;
	uint64_t download;
};

static void header_pack(const struct header *h, unsigned char *out)
{
	uint32_t magic = htobe32(h->magic), flags = htobe32(h->flags);
	uint64_t up = htobe64(h->upload), down = htobe64(h->download);

	memcpy(out, &magic, 4);
	memcpy(out + 4, &flags, 4);
	memcpy(out + 8, &up, 8);
	memcpy(out + 16, &down, 8);
}

static void header_unpack(struct header *h, const unsigned char *in)
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

static bool header_valid(const struct header *h)
{
	if (h->magic != FB_MAGIC || (h->flags & ~(FB_HALF_CLOSE | FB_HOLD)))
		return false;
	/* The download is counted with its status byte, so it needs room. */
	if (h->download == UINT64_MAX)
		return false;
	return !(h->flags & FB_HOLD) || (!h->upload && !h->download);
}

/* ---- common helpers --------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline, for poll(); 0 once it has passed. */
static int ms_left(uint64_t deadline)
{
	uint64_t now = now_ms();

	if (now >= deadline)
		return 0;
	return deadline - now > INT32_MAX ? INT32_MAX : (int)(deadline - now);
}

static bool would_block(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

/* How a socket error counts: refused and reset are one exit code. */
static const char *err_word(int err)
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

static int err_exit(int err)
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

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

static bool parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (!parse_u64(s, &v) || !v || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

struct target {
	struct sockaddr_storage sa;
	socklen_t len;
};

/* ADDR is a numeric literal (also "[v6]" or "v6%scope"); no DNS in tests. */
static bool parse_addr(const char *addr, uint16_t port, struct target *t)
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
static int connect_start(const struct target *t, int *fd)
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
static rlim_t raise_nofile(void)
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
static void report(const char *word, uint64_t start, const char *fmt, ...)
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

#define OPT_HALF_CLOSE	1u
#define OPT_TIMEOUT	2u

struct opts {
	bool half_close;
	uint64_t timeout_ms;
	int npos;
	char **pos;
};

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
static bool parse_opts(int argc, char **argv, unsigned int allowed, struct opts *o)
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

/* ---- serve ------------------------------------------------------------ */

enum watch_kind { W_LISTEN, W_SIGNAL, W_CONN };

/* What an epoll event points at: listeners, the signalfd, connections. */
struct watch {
	int fd;
	enum watch_kind kind;
};

enum conn_state {
	CS_HEADER,	/* reading the 24-byte header */
	CS_UPLOAD,	/* reading and verifying the upload */
	CS_EOF,		/* half-close: waiting for the client's FIN */
	CS_SEND,	/* sending status and download */
	CS_DRAIN,	/* done sending; reading until the client closes */
};

struct conn {
	struct watch w;
	struct conn *prev, *next;
	enum conn_state state;
	uint32_t armed;			/* epoll events registered */
	unsigned char hdr[FB_HDR_LEN];
	unsigned int hdr_len;
	struct header h;
	struct stream up, down;
	uint64_t in;			/* upload bytes verified */
	uint64_t out;			/* status and download bytes sent */
	bool bad;			/* status will be 'X' */
	bool eof;			/* client's FIN seen */
};

struct serve_stats {
	uint64_t accepted, ok, bad, held, aborted, dropped;
};

struct server {
	int ep;
	int spare;			/* kept free for EMFILE, see accept_one() */
	struct watch sig;
	struct watch *listeners;
	int nlisteners;
	struct conn *conns;
	struct serve_stats st;
	bool stop;
	unsigned char buf[CHUNK];
};

static int ep_add(int ep, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(ep, EPOLL_CTL_ADD, w->fd, &ev);
}

static int listen_on(struct server *s, const char *addr, const char *port_arg)
{
	struct watch *l = &s->listeners[s->nlisteners];
	struct target t;
	uint16_t port;
	int one = 1;

	if (!parse_port(port_arg, &port) || !parse_addr(addr, port, &t)) {
		fprintf(stderr, "faith-bytes: bad address or port %s %s\n", addr, port_arg);
		return EX_USAGE;
	}
	l->kind = W_LISTEN;
	l->fd = socket(t.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0 ||
	    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l->fd, (struct sockaddr *)&t.sa, t.len) || listen(l->fd, 4096) ||
	    ep_add(s->ep, l, EPOLLIN)) {
		fprintf(stderr, "faith-bytes: listen on %s port %u: %s\n", addr, port,
			strerror(errno));
		if (l->fd >= 0)
			close(l->fd);
		return EX_ERR;
	}
	s->nlisteners++;
	return EX_OK;
}

static void conn_close(struct server *s, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	close(c->w.fd);
	free(c);
}

static void conn_log(struct conn *c, const char *what)
{
	fprintf(stderr, "faith-bytes: connection (up=%llu down=%llu flags=%u): %s\n",
		(unsigned long long)c->h.upload, (unsigned long long)c->h.download,
		c->h.flags, what);
}

/* After the upload (and, with half-close, the FIN) comes the answer. */
static void conn_upload_done(struct conn *c)
{
	c->state = (c->h.flags & FB_HALF_CLOSE) && !c->eof ? CS_EOF : CS_SEND;
}

static void conn_header(struct conn *c)
{
	header_unpack(&c->h, c->hdr);
	if (!header_valid(&c->h)) {
		conn_log(c, "bad header");
		c->bad = true;
		c->h.download = 0;
		c->state = CS_SEND;
		return;
	}
	c->up = stream_init(c->h.upload, 1);
	c->down = stream_init(c->h.download, 2);
	if (c->h.flags & FB_HOLD)
		c->state = CS_SEND;
	else if (c->h.upload)
		c->state = CS_UPLOAD;
	else
		conn_upload_done(c);
}

static void conn_verify(struct conn *c, const unsigned char *buf, size_t n)
{
	size_t bad = stream_check(&c->up, c->in, buf, n);

	if (bad < n && !c->bad) {
		fprintf(stderr, "faith-bytes: upload byte %llu of %llu differs\n",
			(unsigned long long)(c->in + bad), (unsigned long long)c->h.upload);
		c->bad = true;
	}
	c->in += n;
	if (c->in == c->h.upload)
		conn_upload_done(c);
}

/* Step results for connections: go on (STEP_MORE), wait for epoll, close. */
#define CSTEP_WAIT	0
#define CSTEP_CLOSE	(STEP_MORE - 1)

/* The client's FIN: where it is expected, or where it cuts things short. */
static int conn_eof(struct server *s, struct conn *c)
{
	c->eof = true;
	switch (c->state) {
	case CS_HEADER:
		s->st.aborted++;
		return CSTEP_CLOSE;
	case CS_UPLOAD:
		conn_log(c, "upload cut short by FIN");
		c->bad = true;
		c->state = CS_SEND;
		return STEP_MORE;
	case CS_EOF:
		c->state = CS_SEND;
		return STEP_MORE;
	default:
		return CSTEP_CLOSE;
	}
}

static size_t conn_read_len(const struct conn *c)
{
	if (c->state == CS_HEADER)
		return FB_HDR_LEN - c->hdr_len;
	if (c->state == CS_UPLOAD && c->h.upload - c->in < CHUNK)
		return c->h.upload - c->in;
	return CHUNK;
}

static int conn_read(struct server *s, struct conn *c)
{
	unsigned char *dst = c->state == CS_HEADER ? c->hdr + c->hdr_len : s->buf;
	ssize_t r = recv(c->w.fd, dst, conn_read_len(c), MSG_DONTWAIT);

	if (r < 0) {
		if (would_block(errno))
			return CSTEP_WAIT;
		s->st.aborted++;
		return CSTEP_CLOSE;
	}
	if (!r)
		return conn_eof(s, c);
	switch (c->state) {
	case CS_HEADER:
		c->hdr_len += (unsigned int)r;
		if (c->hdr_len == FB_HDR_LEN)
			conn_header(c);
		break;
	case CS_UPLOAD:
		conn_verify(c, s->buf, (size_t)r);
		break;
	case CS_EOF:
		if (!c->bad)
			conn_log(c, "data after the upload");
		c->bad = true;
		break;
	default:
		break;
	}
	return STEP_MORE;
}

/* Everything is sent: close, or shut down and wait for the client's close. */
static int conn_sent(struct server *s, struct conn *c)
{
	if ((c->h.flags & FB_HOLD) && !c->bad)
		s->st.held++;
	else if (c->bad)
		s->st.bad++;
	else
		s->st.ok++;
	c->state = CS_DRAIN;
	if (c->eof)
		return CSTEP_CLOSE;
	/* Hold keeps both directions open; otherwise FIN, then read till the
	 * client's FIN so that closing never finds unread data and resets. */
	if (!(c->h.flags & FB_HOLD) || c->bad)
		shutdown(c->w.fd, SHUT_WR);
	return STEP_MORE;
}

static int conn_write(struct server *s, struct conn *c)
{
	uint64_t total = 1 + c->h.download;
	size_t n = total - c->out < CHUNK ? total - c->out : CHUNK;
	size_t head = 0;
	ssize_t r;

	if (!c->out) {
		s->buf[0] = c->bad ? FB_STATUS_BAD : FB_STATUS_OK;
		head = 1;
	}
	stream_fill(&c->down, c->out + head - 1, s->buf + head, n - head);
	r = send(c->w.fd, s->buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (r < 0) {
		if (would_block(errno))
			return CSTEP_WAIT;
		s->st.aborted++;
		return CSTEP_CLOSE;
	}
	c->out += (uint64_t)r;
	return c->out == total ? conn_sent(s, c) : STEP_MORE;
}

static int conn_arm(struct server *s, struct conn *c)
{
	uint32_t want = c->state == CS_SEND ? EPOLLOUT : EPOLLIN;
	struct epoll_event ev = { .events = want, .data.ptr = &c->w };

	if (want == c->armed)
		return 0;
	c->armed = want;
	return epoll_ctl(s->ep, EPOLL_CTL_MOD, c->w.fd, &ev);
}

/* A few steps per event, so that one fast connection cannot starve others. */
static void conn_event(struct server *s, struct conn *c)
{
	int rc = STEP_MORE, i;

	for (i = 0; i < 16 && rc == STEP_MORE; i++)
		rc = c->state == CS_SEND ? conn_write(s, c) : conn_read(s, c);
	if (rc == CSTEP_CLOSE || conn_arm(s, c))
		conn_close(s, c);
}

static void conn_new(struct server *s, int fd)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return;
	}
	c->w.fd = fd;
	c->w.kind = W_CONN;
	c->armed = EPOLLIN;
	if (ep_add(s->ep, &c->w, EPOLLIN)) {
		close(fd);
		free(c);
		return;
	}
	c->next = s->conns;
	if (c->next)
		c->next->prev = c;
	s->conns = c;
	s->st.accepted++;
}

/*
 * Out of descriptors, a level-triggered listener would spin: give the spare
 * one up to accept and drop the connection, then take it back.
 */
static bool accept_one(struct server *s, struct watch *l)
{
	int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd >= 0) {
		conn_new(s, fd);
		return true;
	}
	if ((errno == EMFILE || errno == ENFILE) && s->spare >= 0) {
		if (!s->st.dropped++)
			fprintf(stderr, "faith-bytes: accept: %s: dropping connections\n",
				strerror(errno));
		close(s->spare);
		fd = accept(l->fd, NULL, NULL);
		if (fd >= 0)
			close(fd);
		s->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	return false;
}

static void server_event(struct server *s, struct epoll_event *ev)
{
	struct watch *w = ev->data.ptr;
	struct signalfd_siginfo si;
	int i;

	switch (w->kind) {
	case W_LISTEN:
		for (i = 0; i < 64 && accept_one(s, w); i++)
			;
		break;
	case W_SIGNAL:
		if (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			s->stop = true;
		break;
	case W_CONN:
		conn_event(s, (struct conn *)((char *)w - offsetof(struct conn, w)));
		break;
	}
}

static int server_setup(struct server *s, const char *addr, int nports, char **ports)
{
	sigset_t set;
	int i, rc;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return EX_ERR;
	s->sig.kind = W_SIGNAL;
	s->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	s->listeners = calloc((size_t)nports, sizeof(*s->listeners));
	if (s->sig.fd < 0 || s->ep < 0 || !s->listeners || ep_add(s->ep, &s->sig, EPOLLIN)) {
		perror("faith-bytes: setup");
		return EX_ERR;
	}
	for (i = 0; i < nports; i++) {
		rc = listen_on(s, addr, ports[i]);
		if (rc)
			return rc;
	}
	return EX_OK;
}

static void server_teardown(struct server *s)
{
	int i;

	while (s->conns)
		conn_close(s, s->conns);
	for (i = 0; i < s->nlisteners; i++)
		close(s->listeners[i].fd);
	free(s->listeners);
	if (s->sig.fd >= 0)
		close(s->sig.fd);
	if (s->ep >= 0)
		close(s->ep);
	if (s->spare >= 0)
		close(s->spare);
}

static int server_run(struct server *s)
{
	struct epoll_event ev[64];
	int n, i;

	while (!s->stop) {
		n = epoll_wait(s->ep, ev, 64, -1);
		if (n < 0 && errno != EINTR) {
			perror("faith-bytes: epoll_wait");
			return EX_ERR;
		}
		for (i = 0; i < n; i++)
			server_event(s, &ev[i]);
	}
	return EX_OK;
}

static int cmd_serve(int argc, char **argv)
{
	struct server *s;
	struct opts o = { 0 };
	int rc;

	if (!parse_opts(argc, argv, 0, &o) || o.npos < 2)
		return usage();
	s = calloc(1, sizeof(*s));
	if (!s)
		return EX_ERR;
	rc = server_setup(s, o.pos[0], o.npos - 1, o.pos + 1);
	if (!rc) {
		puts("ready");
		fflush(stdout);
		rc = server_run(s);
		fprintf(stderr, "faith-bytes: %llu connections: %llu ok, %llu bad, "
			"%llu held, %llu aborted, %llu dropped\n",
			(unsigned long long)s->st.accepted, (unsigned long long)s->st.ok,
			(unsigned long long)s->st.bad, (unsigned long long)s->st.held,
			(unsigned long long)s->st.aborted, (unsigned long long)s->st.dropped);
	}
	server_teardown(s);
	free(s);
	return rc;
}

/* ---- send ------------------------------------------------------------- */

struct xfer {
	int fd;
	uint64_t start, deadline;
	bool half_close;
	struct header h;
	unsigned char hdr[FB_HDR_LEN];
	struct stream up, down;
	uint64_t sent;			/* header and upload bytes sent */
	uint64_t got;			/* status and download bytes received */
	unsigned char buf[CHUNK];
};

static int xfer_fail(struct xfer *x, const char *word, int code, const char *detail)
{
	unsigned long long sent = x->sent > FB_HDR_LEN ? x->sent - FB_HDR_LEN : 0;
	unsigned long long got = x->got ? x->got - 1 : 0;

	report(word, x->start, "%s (up=%llu/%llu down=%llu/%llu)", detail, sent,
	       (unsigned long long)x->h.upload, got, (unsigned long long)x->h.download);
	return code;
}

static int xfer_err(struct xfer *x, int err)
{
	return xfer_fail(x, err_word(err), err_exit(err), strerror(err));
}

static int xfer_send(struct xfer *x)
{
	uint64_t total = FB_HDR_LEN + x->h.upload;
	size_t n = 0, m;
	ssize_t r;

	if (x->sent < FB_HDR_LEN) {
		n = FB_HDR_LEN - (size_t)x->sent;
		memcpy(x->buf, x->hdr + x->sent, n);
	}
	m = total - x->sent - n < CHUNK - n ? total - x->sent - n : CHUNK - n;
	stream_fill(&x->up, x->sent + n - FB_HDR_LEN, x->buf + n, m);
	r = send(x->fd, x->buf, n + m, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (r < 0)
		return would_block(errno) ? STEP_MORE : xfer_err(x, errno);
	x->sent += (uint64_t)r;
	if (x->sent == total && x->half_close && shutdown(x->fd, SHUT_WR))
		return xfer_err(x, errno);
	return STEP_MORE;
}

static int xfer_eof(struct xfer *x)
{
	char msg[64];

	if (x->got == 1 + x->h.download) {
		printf("ok up=%llu down=%llu ms=%llu\n", (unsigned long long)x->h.upload,
		       (unsigned long long)x->h.download,
		       (unsigned long long)(now_ms() - x->start));
		fflush(stdout);
		return EX_OK;
	}
	snprintf(msg, sizeof(msg), "EOF %s", x->got ? "before the download ended"
						    : "before the status byte");
	return xfer_fail(x, "mismatch", EX_DATA, msg);
}

static int xfer_data(struct xfer *x, const unsigned char *p, size_t n)
{
	char msg[96];
	uint64_t left;
	size_t len, bad;

	if (!x->got) {
		x->got = 1;
		if (*p != FB_STATUS_OK) {
			snprintf(msg, sizeof(msg), "status 0x%02x '%c', not 'K'", *p,
				 *p >= 0x20 && *p < 0x7f ? *p : '?');
			return xfer_fail(x, "mismatch", EX_DATA, msg);
		}
		p++;
		n--;
	}
	left = x->h.download - (x->got - 1);
	len = n < left ? n : left;
	bad = stream_check(&x->down, x->got - 1, p, len);
	if (bad < len) {
		snprintf(msg, sizeof(msg), "download byte %llu differs",
			 (unsigned long long)(x->got - 1 + bad));
		x->got += bad;
		return xfer_fail(x, "mismatch", EX_DATA, msg);
	}
	x->got += len;
	if (len < n)
		return xfer_fail(x, "mismatch", EX_DATA, "more data than the download");
	return STEP_MORE;
}

static int xfer_recv(struct xfer *x)
{
	ssize_t r = recv(x->fd, x->buf, CHUNK, MSG_DONTWAIT);

	if (r < 0)
		return would_block(errno) ? STEP_MORE : xfer_err(x, errno);
	if (!r)
		return xfer_eof(x);
	return xfer_data(x, x->buf, (size_t)r);
}

/* Send and receive together, so that neither side's buffers fill up. */
static int xfer_run(struct xfer *x)
{
	struct pollfd p = { .fd = x->fd };
	int rc = STEP_MORE, wait;

	while (rc == STEP_MORE) {
		p.events = POLLIN | (x->sent < FB_HDR_LEN + x->h.upload ? POLLOUT : 0);
		wait = ms_left(x->deadline);
		if (!wait || poll(&p, 1, wait) == 0)
			return xfer_fail(x, "timeout", EX_TIMEOUT, "deadline passed");
		if ((p.events & POLLOUT) && (p.revents & (POLLOUT | POLLERR)))
			rc = xfer_send(x);
		if (rc == STEP_MORE && (p.revents & (POLLIN | POLLHUP | POLLERR)))
			rc = xfer_recv(x);
	}
	return rc;
}

static int cmd_send(int argc, char **argv)
{
	struct opts o = { 0 };
	struct target t;
	struct xfer *x;
	uint16_t port;
	int rc, err;

	if (!parse_opts(argc, argv, OPT_HALF_CLOSE | OPT_TIMEOUT, &o) || o.npos != 4)
		return usage();
	x = calloc(1, sizeof(*x));
	if (!x)
		return EX_ERR;
	x->h.magic = FB_MAGIC;
	x->h.flags = o.half_close ? FB_HALF_CLOSE : 0;
	if (!parse_port(o.pos[1], &port) || !parse_addr(o.pos[0], port, &t) ||
	    !parse_u64(o.pos[2], &x->h.upload) || !parse_u64(o.pos[3], &x->h.download) ||
	    x->h.download == UINT64_MAX) {
		free(x);
		return usage();
	}
	header_pack(&x->h, x->hdr);
	x->up = stream_init(x->h.upload, 1);
	x->down = stream_init(x->h.download, 2);
	x->half_close = o.half_close;
	x->start = now_ms();
	x->deadline = x->start + o.timeout_ms;
	err = connect_start(&t, &x->fd);
	rc = err ? xfer_err(x, err) : xfer_run(x);
	if (x->fd >= 0)
		close(x->fd);
	free(x);
	return rc;
}

/* ---- hold ------------------------------------------------------------- */

enum hold_state { H_SENDING, H_WAIT_K, H_HELD, H_FAILED };

enum hold_fail { HF_REFUSED, HF_RESET, HF_TIMEOUT, HF_STATUS, HF_CLOSED, HF_OTHER, HF_NR };

static const char *const hold_fail_names[HF_NR] = {
	"refused", "reset", "timed out", "bad status", "closed", "other errors",
};

struct hold {
	int n, pending;
	struct pollfd *p;		/* p[i].fd < 0 once i is settled */
	int *fd;
	unsigned char *state, *off;
	unsigned int fails[HF_NR];
	int first_err;			/* errno of the first "other" failure */
};

static void hold_fail(struct hold *h, int i, enum hold_fail why, int err)
{
	if (why == HF_OTHER && !h->first_err)
		h->first_err = err;
	h->fails[why]++;
	h->state[i] = H_FAILED;
	h->p[i].fd = -1;
	h->pending--;
}

static void hold_fail_errno(struct hold *h, int i, int err)
{
	if (err == ECONNREFUSED)
		hold_fail(h, i, HF_REFUSED, err);
	else if (err == ECONNRESET || err == EPIPE)
		hold_fail(h, i, HF_RESET, err);
	else if (err == ETIMEDOUT)
		hold_fail(h, i, HF_TIMEOUT, err);
	else
		hold_fail(h, i, HF_OTHER, err);
}

static void hold_send(struct hold *h, int i, const unsigned char *hdr)
{
	ssize_t r = send(h->fd[i], hdr + h->off[i], FB_HDR_LEN - h->off[i],
			 MSG_DONTWAIT | MSG_NOSIGNAL);

	if (r < 0) {
		if (!would_block(errno))
			hold_fail_errno(h, i, errno);
		return;
	}
	h->off[i] += (unsigned char)r;
	if (h->off[i] == FB_HDR_LEN) {
		h->state[i] = H_WAIT_K;
		h->p[i].events = POLLIN;
	}
}

static void hold_recv(struct hold *h, int i)
{
	unsigned char status;
	ssize_t r = recv(h->fd[i], &status, 1, MSG_DONTWAIT);

	if (r < 0) {
		if (!would_block(errno))
			hold_fail_errno(h, i, errno);
	} else if (!r) {
		hold_fail(h, i, HF_CLOSED, 0);
	} else if (status != FB_STATUS_OK) {
		hold_fail(h, i, HF_STATUS, 0);
	} else {
		h->state[i] = H_HELD;
		h->p[i].fd = -1;
		h->pending--;
	}
}

/* Connect all at once, then poll them all until each is held or failed. */
static void hold_establish(struct hold *h, const struct target *t, uint64_t deadline)
{
	unsigned char hdr[FB_HDR_LEN];
	struct header hh = { .magic = FB_MAGIC, .flags = FB_HOLD };
	int i, err, wait;

	header_pack(&hh, hdr);
	h->pending = h->n;
	for (i = 0; i < h->n; i++) {
		err = connect_start(t, &h->fd[i]);
		h->p[i].fd = h->fd[i];
		h->p[i].events = POLLOUT;
		if (err)
			hold_fail_errno(h, i, err);
	}
	while (h->pending) {
		wait = ms_left(deadline);
		if (!wait || poll(h->p, (nfds_t)h->n, wait) <= 0)
			break;
		for (i = 0; i < h->n; i++) {
			if (h->p[i].fd < 0 || !h->p[i].revents)
				continue;
			if (h->state[i] == H_SENDING)
				hold_send(h, i, hdr);
			else
				hold_recv(h, i);
		}
	}
	for (i = 0; i < h->n; i++)
		if (h->state[i] == H_SENDING || h->state[i] == H_WAIT_K)
			hold_fail(h, i, HF_TIMEOUT, 0);
}

static unsigned int hold_failures(const struct hold *h)
{
	unsigned int sum = 0;
	int k;

	for (k = 0; k < HF_NR; k++)
		sum += h->fails[k];
	return sum;
}

/* "held K of N after T ms: 3 refused, 1 timed out"; the exit code goes by
 * the worst kind: reset or refused, then timeout, then bad status. */
static int hold_report_failure(const struct hold *h, uint64_t start)
{
	char word[64], msg[512];
	size_t len = 0;
	int k;

	msg[0] = '\0';
	for (k = 0; k < HF_NR; k++)
		if (h->fails[k] && len < sizeof(msg))
			len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s%u %s",
						len ? ", " : "", h->fails[k],
						hold_fail_names[k]);
	if (h->first_err && len < sizeof(msg))
		snprintf(msg + len, sizeof(msg) - len, " (%s)", strerror(h->first_err));
	snprintf(word, sizeof(word), "held %u of %d", h->n - hold_failures(h), h->n);
	report(word, start, "%s", msg);
	if (h->fails[HF_REFUSED] || h->fails[HF_RESET])
		return EX_RESET;
	if (h->fails[HF_TIMEOUT])
		return EX_TIMEOUT;
	if (h->fails[HF_STATUS])
		return EX_DATA;
	return EX_ERR;
}

/* Until stdin has a line or ends; then count what the far side dropped. */
static void hold_wait_release(struct hold *h)
{
	char c;
	ssize_t r;
	int i, dropped = 0;

	do
		r = read(STDIN_FILENO, &c, 1);
	while ((r == 1 && c != '\n') || (r < 0 && errno == EINTR));
	for (i = 0; i < h->n; i++) {
		r = recv(h->fd[i], &c, 1, MSG_DONTWAIT | MSG_PEEK);
		if (!r || (r < 0 && !would_block(errno)))
			dropped++;
	}
	printf("released %d", h->n);
	if (dropped)
		printf(", %d dropped while held", dropped);
	putchar('\n');
	fflush(stdout);
}

static bool hold_alloc(struct hold *h, int n)
{
	int i;

	h->n = n;
	h->p = calloc((size_t)n, sizeof(*h->p));
	h->fd = malloc((size_t)n * sizeof(*h->fd));
	h->state = calloc((size_t)n, 1);
	h->off = calloc((size_t)n, 1);
	if (!h->p || !h->fd || !h->state || !h->off)
		return false;
	for (i = 0; i < n; i++)
		h->fd[i] = -1;
	return true;
}

static void hold_free(struct hold *h)
{
	int i;

	for (i = 0; h->fd && i < h->n; i++)
		if (h->fd[i] >= 0)
			close(h->fd[i]);
	free(h->p);
	free(h->fd);
	free(h->state);
	free(h->off);
}

static int cmd_hold(int argc, char **argv, rlim_t nofile)
{
	struct opts o = { 0 };
	struct hold h = { 0 };
	struct target t;
	uint16_t port;
	uint64_t n, start;
	int rc;

	if (!parse_opts(argc, argv, OPT_TIMEOUT, &o) || o.npos != 3 ||
	    !parse_port(o.pos[1], &port) || !parse_addr(o.pos[0], port, &t) ||
	    !parse_u64(o.pos[2], &n) || !n || n > MAX_HOLD)
		return usage();
	/* poll() refuses more descriptors than RLIMIT_NOFILE, so say so here. */
	if (n + 16 > nofile) {
		printf("held 0 of %llu: open file limit %llu is too low\n",
		       (unsigned long long)n, (unsigned long long)nofile);
		return EX_ERR;
	}
	if (!hold_alloc(&h, (int)n)) {
		hold_free(&h);
		return EX_ERR;
	}
	start = now_ms();
	hold_establish(&h, &t, start + o.timeout_ms);
	if (hold_failures(&h)) {
		rc = hold_report_failure(&h, start);
	} else {
		printf("held %d\n", h.n);
		fflush(stdout);
		hold_wait_release(&h);
		rc = EX_OK;
	}
	hold_free(&h);
	return rc;
}

/* ---- probe ------------------------------------------------------------ */

/* The first thing that happens on a fresh connection, sending nothing. */
static int probe_run(int fd, uint64_t start, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;
	ssize_t r;
	int wait;

	for (;;) {
		wait = ms_left(deadline);
		if (!wait || poll(&p, 1, wait) == 0) {
			report("timeout", start, NULL);
			return EX_TIMEOUT;
		}
		r = recv(fd, &c, 1, MSG_DONTWAIT);
		if (r > 0) {
			report("data", start, NULL);
			return EX_OK;
		}
		if (!r) {
			report("closed", start, NULL);
			return EX_CLOSED;
		}
		if (!would_block(errno))
			break;
	}
	if (errno == ECONNREFUSED || errno == ECONNRESET) {
		report(err_word(errno), start, NULL);
		return EX_RESET;
	}
	report(err_word(errno), start, "%s", strerror(errno));
	return err_exit(errno);
}

static int cmd_probe(int argc, char **argv)
{
	struct opts o = { 0 };
	struct target t;
	uint16_t port;
	uint64_t start;
	int fd, err, rc;

	if (!parse_opts(argc, argv, OPT_TIMEOUT, &o) || o.npos != 2 ||
	    !parse_port(o.pos[1], &port) || !parse_addr(o.pos[0], port, &t))
		return usage();
	start = now_ms();
	err = connect_start(&t, &fd);
	if (err) {
		report(err_word(err), start, "%s", strerror(err));
		return err_exit(err);
	}
	rc = probe_run(fd, start, start + o.timeout_ms);
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	rlim_t nofile = raise_nofile();

	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (!strcmp(argv[1], "send"))
		return cmd_send(argc - 1, argv + 1);
	if (!strcmp(argv[1], "hold"))
		return cmd_hold(argc - 1, argv + 1, nofile);
	if (!strcmp(argv[1], "probe"))
		return cmd_probe(argc - 1, argv + 1);
	return usage();
}

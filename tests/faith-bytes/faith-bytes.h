/* SPDX-License-Identifier: BSD-2-Clause */
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
 *
 * The files of tests/faith-bytes/:
 *   main.c        sub-command dispatch, usage
 *   common.c      the pattern stream, the header, addresses, options, the
 *                 result line
 *   serve.c       serve: listeners, signals, the epoll loop
 *   serve_conn.c  serve: one connection's state machine
 *   send.c        send: one upload and download, verified
 *   hold.c        hold: N connections held open
 *   probe.c       probe: the first thing a fresh connection does
 */
#ifndef FAITH_BYTES_H
#define FAITH_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>

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

/*
 * Byte i of a stream is byte i % 8 (little end first) of a splitmix64 output
 * for block i / 8: any offset can be produced on its own, so neither side
 * keeps unsent or unverified data around, and a shifted, dropped or doubled
 * byte shows up at once.
 */
struct stream {
	uint64_t seed;
};

struct header {
	uint32_t magic;
	uint32_t flags;
	uint64_t upload;
	uint64_t download;
};

struct target {
	struct sockaddr_storage sa;
	socklen_t len;
};

#define OPT_HALF_CLOSE	1u
#define OPT_TIMEOUT	2u

struct opts {
	bool half_close;
	uint64_t timeout_ms;
	int npos;
	char **pos;
};

/* main.c */
int usage(void);

/* common.c: the pattern */
struct stream stream_init(uint64_t len, uint64_t id);
void stream_fill(const struct stream *s, uint64_t off, unsigned char *buf, size_t n);
size_t stream_check(const struct stream *s, uint64_t off,
		    const unsigned char *buf, size_t n);

/* common.c: the header */
void header_pack(const struct header *h, unsigned char *out);
void header_unpack(struct header *h, const unsigned char *in);
bool header_valid(const struct header *h);

/* common.c: helpers */
uint64_t now_ms(void);
int ms_left(uint64_t deadline);
bool would_block(int err);
const char *err_word(int err);
int err_exit(int err);
bool parse_u64(const char *s, uint64_t *v);
bool parse_port(const char *s, uint16_t *port);
bool parse_addr(const char *addr, uint16_t port, struct target *t);
int connect_start(const struct target *t, int *fd);
rlim_t raise_nofile(void);
void report(const char *word, uint64_t start, const char *fmt, ...);

/* common.c: options */
bool parse_opts(int argc, char **argv, unsigned int allowed, struct opts *o);

/* The sub-commands: an exit code each. */
int cmd_serve(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_hold(int argc, char **argv, rlim_t nofile);
int cmd_probe(int argc, char **argv);

#endif

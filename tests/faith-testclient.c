// SPDX-License-Identifier: BSD-2-Clause
/*
 * faith-testclient ADDR PORT [BYTES]: connect to [ADDR]:PORT, print the
 * "DST ..." line the test relay sends, send BYTES (default 100000) of a
 * pseudo-random pattern, half-close, and check the echo is byte-exact.
 * Exit 0: relayed and verified; 3: connection refused (reset);
 * 4: timed out; 1: anything else.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TIMEOUT_MS 5000

static unsigned char pattern(size_t i)
{
	return (unsigned char)((i * 2654435761u) >> 13);
}

static int connect_to(const char *addr, const char *port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	struct timeval tv = { .tv_sec = TIMEOUT_MS / 1000 };
	int fd;

	sa.sin6_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET6, addr, &sa.sin6_addr) != 1) {
		fprintf(stderr, "faith-testclient: bad address %s\n", addr);
		exit(1);
	}
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = errno;

		printf("connect: %s\n", strerror(err));
		exit(err == ECONNREFUSED ? 3 : err == ETIMEDOUT || err == EINPROGRESS ? 4 : 1);
	}
	return fd;
}

/* Read the "DST [addr]:port\n" line byte by byte: the echo follows it. */
static void read_line(int fd)
{
	char line[128];
	size_t n = 0;

	while (n < sizeof(line) - 1 && read(fd, line + n, 1) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
	if (strncmp(line, "DST ", 4)) {
		printf("no DST line (got '%s')\n", line);
		exit(1);
	}
	printf("%s\n", line);
}

int main(int argc, char **argv)
{
	size_t total, sent = 0, got = 0;
	unsigned char buf[16384];
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: faith-testclient ADDR PORT [BYTES]\n");
		return 1;
	}
	total = argc > 3 ? strtoul(argv[3], NULL, 10) : 100000;
	fd = connect_to(argv[1], argv[2]);
	read_line(fd);
	/* Interleave sending and reading so neither side's buffers fill up. */
	while (got < total) {
		struct pollfd p = { .fd = fd, .events = POLLIN | (sent < total ? POLLOUT : 0) };
		ssize_t r;

		if (poll(&p, 1, TIMEOUT_MS) != 1) {
			printf("timeout after %zu of %zu bytes echoed\n", got, total);
			return 4;
		}
		if (sent < total && (p.revents & POLLOUT)) {
			size_t n = total - sent < sizeof(buf) ? total - sent : sizeof(buf);

			for (size_t i = 0; i < n; i++)
				buf[i] = pattern(sent + i);
			r = send(fd, buf, n, MSG_DONTWAIT);
			if (r > 0)
				sent += (size_t)r;
			if (sent == total)
				shutdown(fd, SHUT_WR);
		}
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN)) {
			printf("echo ended after %zu of %zu bytes: %s\n", got, total,
			       r ? strerror(errno) : "EOF");
			return r < 0 && errno == ECONNRESET ? 3 : 1;
		}
		for (ssize_t i = 0; i < r; i++, got++) {
			if (buf[i] != pattern(got)) {
				printf("echo differs at byte %zu\n", got);
				return 1;
			}
		}
	}
	printf("echoed %zu bytes\n", got);
	close(fd);
	return 0;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * faith-testrelay: a minimal relay for the end-to-end tests.
 *
 * Listens on [::1]:0 (IPV6_V6ONLY), registers the socket with
 * libfaith-relay for --port N|all (unless --no-register, when an outside
 * `faith-loader relay add --pid --fd` does it), prints "ready PID FD" and
 * then, for each connection: writes "DST [addr]:port TAG\n" (getsockname, the
 * original destination), echoes everything it reads until EOF, closes.
 * Exits after --count N connections (default: never).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "faith_relay.h"

static int listen_loopback(void)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int one = 1, fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 128)) {
		perror("faith-testrelay: listen");
		exit(1);
	}
	return fd;
}

static const char *tag = "-";

static void serve(int conn)
{
	struct sockaddr_in6 local;
	socklen_t len = sizeof(local);
	char addr[INET6_ADDRSTRLEN], line[160], buf[65536];
	ssize_t n;

	if (getsockname(conn, (struct sockaddr *)&local, &len))
		return;
	inet_ntop(AF_INET6, &local.sin6_addr, addr, sizeof(addr));
	n = snprintf(line, sizeof(line), "DST [%s]:%u %s\n", addr,
		     ntohs(local.sin6_port), tag);
	if (write(conn, line, (size_t)n) != n)
		return;
	while ((n = read(conn, buf, sizeof(buf))) > 0)
		if (write(conn, buf, (size_t)n) != n)
			return;
}

int main(int argc, char **argv)
{
	const char *port_arg = NULL;
	long count = -1;
	int reg = 1, fd, err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--port") && i + 1 < argc)
			port_arg = argv[++i];
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = atol(argv[++i]);
		else if (!strcmp(argv[i], "--tag") && i + 1 < argc)
			tag = argv[++i];
		else if (!strcmp(argv[i], "--no-register"))
			reg = 0;
		else {
			fprintf(stderr, "usage: faith-testrelay [--port N|all] [--tag TAG] [--count N] [--no-register]\n");
			return 2;
		}
	}
	fd = listen_loopback();
	if (reg) {
		uint16_t port = !port_arg || !strcmp(port_arg, "all") ? FAITH_PORT_ALL
								       : (uint16_t)atoi(port_arg);

		err = faith_relay_register(fd, port, NULL);
		if (err) {
			fprintf(stderr, "faith-testrelay: register: %s\n", faith_relay_strerror(err));
			return 1;
		}
	}
	printf("ready %d %d\n", (int)getpid(), fd);
	fflush(stdout);
	for (; count != 0; count--) {
		int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (conn < 0) {
			if (errno == EINTR)
				continue;
			perror("faith-testrelay: accept");
			return 1;
		}
		serve(conn);
		close(conn);
	}
	return 0;
}

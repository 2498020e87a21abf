// SPDX-License-Identifier: BSD-2-Clause
/*
 * faith_lookup (sk_lookup) with two real relay sockets, listening on [::1]:
 * one for port 443 and one for all ports, in the relays map.  Which one a
 * connection is steered to, when it is dropped, and that a closed relay
 * leaves the map.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath.h"

enum relay { R_NONE = 0, R_PORT = 1, R_ALL = 2 };
#define RELAY_PORT	443

static int relay_fd[3] = { -1, -1, -1 };	/* by enum relay */
static uint64_t relay_cookie[3];

static int listen_v6(void)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int one = 1, fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static uint64_t cookie_of(int fd)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);

	getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len);
	return cookie;
}

/* Make the relays map hold exactly the relays in `want`. */
static int relays_set(int want)
{
	static const uint32_t key[3] = { 0, RELAY_PORT, FAITH_RELAY_ALL_PORTS };
	int r, err = 0;

	for (r = R_PORT; r <= R_ALL; r++) {
		uint64_t fd = (uint64_t)relay_fd[r];

		if (want & r)
			err = err ? err : bpf_map__update_elem(
				skel->maps.relays, &key[r], sizeof(key[r]),
				&fd, sizeof(fd), BPF_ANY);
		else
			bpf_map__delete_elem(skel->maps.relays, &key[r],
					     sizeof(key[r]), 0);
	}
	return err;
}

struct lookup_case {
	const char *name;
	int family, protocol;
	const char *local;	/* destination address */
	uint16_t port;		/* destination port */
	int relays;		/* in the map */
	bool gated;
	int ret;		/* SK_PASS / SK_DROP */
	int chosen;		/* enum relay */
};

static const struct lookup_case lookup_cases[] = {
	{ "port relay for its port", AF_INET6, IPPROTO_TCP, FAITH_A,
	  RELAY_PORT, R_PORT | R_ALL, false, SK_PASS, R_PORT },
	{ "all-ports relay for another port", AF_INET6, IPPROTO_TCP, FAITH_A,
	  80, R_PORT | R_ALL, false, SK_PASS, R_ALL },
	{ "only the all-ports relay", AF_INET6, IPPROTO_TCP, FAITH_B,
	  RELAY_PORT, R_ALL, false, SK_PASS, R_ALL },
	{ "port relay, other port, no all-ports relay: drop", AF_INET6,
	  IPPROTO_TCP, FAITH_A, 80, R_PORT, false, SK_DROP, R_NONE },
	{ "no relay: drop", AF_INET6, IPPROTO_TCP, FAITH_A, RELAY_PORT,
	  R_NONE, false, SK_DROP, R_NONE },
	{ "destination not in a prefix: not ours", AF_INET6, IPPROTO_TCP,
	  OTHER, RELAY_PORT, R_PORT | R_ALL, false, SK_PASS, R_NONE },
	{ "destination past the /96: not ours", AF_INET6, IPPROTO_TCP,
	  NEAR_96, RELAY_PORT, R_PORT | R_ALL, false, SK_PASS, R_NONE },
	{ "keepfaith 0: not ours", AF_INET6, IPPROTO_TCP, FAITH_A, RELAY_PORT,
	  R_PORT | R_ALL, true, SK_PASS, R_NONE },
	{ "keepfaith 0, no relay: not dropped", AF_INET6, IPPROTO_TCP, FAITH_A,
	  RELAY_PORT, R_NONE, true, SK_PASS, R_NONE },
	{ "UDP: not ours", AF_INET6, IPPROTO_UDP, FAITH_A, RELAY_PORT,
	  R_PORT | R_ALL, false, SK_PASS, R_NONE },
	{ "AF_INET: not ours", AF_INET, IPPROTO_TCP, "192.0.2.1", RELAY_PORT,
	  R_PORT | R_ALL, false, SK_PASS, R_NONE },
};

static int run_lookup(int family, int protocol, const char *local,
		      uint16_t port, int *ret, uint64_t *cookie)
{
	struct bpf_sk_lookup ctx = {
		.family = family, .protocol = protocol,
		.local_port = port, .remote_port = htons(40000),
	};
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		.ctx_out = &ctx, .ctx_size_out = sizeof(ctx),
		.repeat = 1);
	int err;

	if (family == AF_INET6) {
		inet_pton(AF_INET6, local, ctx.local_ip6);
		inet_pton(AF_INET6, CLIENT, ctx.remote_ip6);
	} else {
		inet_pton(AF_INET, local, &ctx.local_ip4);
		inet_pton(AF_INET, "198.51.100.1", &ctx.remote_ip4);
	}
	stats_reset();
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.faith_lookup),
				     &opts);
	*ret = (int)opts.retval;
	*cookie = ctx.cookie;
	return err;
}

static void test_lookup_case(const struct lookup_case *c)
{
	struct faith_stats want = { 0 }, got;
	uint64_t cookie = 0, want_cookie = relay_cookie[c->chosen];
	int err, ret = -1;

	if (c->chosen)
		want.assigned = 1;
	else if (c->ret == SK_DROP)
		want.no_relay = 1;
	set_control(!c->gated, MARK);
	err = relays_set(c->relays);
	if (!err)
		err = run_lookup(c->family, c->protocol, c->local, c->port,
				 &ret, &cookie);
	got = stats_sum();
	if (dp_check(!err && ret == c->ret && cookie == want_cookie &&
		     stats_eq(&got, &want), "%s sk_lookup: %s", lookup_label,
		     c->name))
		return;
	dp_diag("err %d ret %d (want %d) cookie %#llx (want %#llx)", err, ret,
		c->ret, (unsigned long long)cookie,
		(unsigned long long)want_cookie);
	stats_print("got", &got);
}

/* Closing a relay removes it from the map: its connections are dropped. */
static void test_lookup_closed(void)
{
	uint32_t port = RELAY_PORT;
	uint64_t value = 0, cookie = 0;
	int err, ret = -1;

	set_control(1, MARK);
	relays_set(R_PORT);
	err = bpf_map__lookup_elem(skel->maps.relays, &port, sizeof(port),
				   &value, sizeof(value), 0);
	dp_check(!err && value == relay_cookie[R_PORT],
		 "relays map: lookup gives the relay's socket cookie");
	close(relay_fd[R_PORT]);
	relay_fd[R_PORT] = -1;
	err = bpf_map__lookup_elem(skel->maps.relays, &port, sizeof(port),
				   &value, sizeof(value), 0);
	dp_check(err == -ENOENT, "relays map: closed relay is gone (%d)", err);
	err = run_lookup(AF_INET6, IPPROTO_TCP, FAITH_A, RELAY_PORT, &ret,
			 &cookie);
	dp_check(!err && ret == SK_DROP && cookie == 0 &&
		 stats_sum().no_relay == 1,
		 "sk_lookup: relay closed: drop, no_relay counted");
}

/* Does faith_lookup take addr (port 80, gate open) as a faith address?
 * With no relay registered it then drops the connection. */
int lookup_is_faith(const struct in6_addr *addr)
{
	char text[INET6_ADDRSTRLEN];
	uint64_t cookie = 0;
	int ret = -1;

	inet_ntop(AF_INET6, addr, text, sizeof(text));
	set_control(1, MARK);
	relays_set(R_NONE);
	if (run_lookup(AF_INET6, IPPROTO_TCP, text, 80, &ret, &cookie))
		return -1;
	return ret == SK_DROP;
}

void test_lookup(void)
{
	size_t i;
	int r;

	for (r = R_PORT; r <= R_ALL; r++) {
		relay_fd[r] = listen_v6();
		relay_cookie[r] = relay_fd[r] < 0 ? 0 : cookie_of(relay_fd[r]);
	}
	if (!dp_check(relay_fd[R_PORT] >= 0 && relay_fd[R_ALL] >= 0 &&
		      relay_cookie[R_PORT] && relay_cookie[R_ALL],
		      "two [::1] listeners with socket cookies"))
		goto out;
	for (i = 0; i < ARRAY_SIZE(lookup_cases); i++)
		test_lookup_case(&lookup_cases[i]);
	test_lookup_closed();
out:
	relays_set(R_NONE);
	for (r = R_PORT; r <= R_ALL; r++)
		if (relay_fd[r] >= 0)
			close(relay_fd[r]);
}

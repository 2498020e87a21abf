// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/netlink.c.  Runs in a private network namespace so the host's
 * rules and routes are never touched, and cross-checks every change with
 * iproute2 (`ip -6 rule show`, `ip -6 route show table T`).
 *
 *   gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -O2 -Isrc \
 *       src/netlink.c tests/test_netlink.c -o test_netlink && ./test_netlink
 */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netlink.h"

#define MARK	0xfa17
#define TABLE	0xfa17		/* 64023: needs FRA_TABLE / RTA_TABLE */
#define PRIO	1000

/* Enough entries that the dumps span several netlink messages. */
#define MANY	400

static int passed, failed;

static bool check(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (cond)
		passed++;
	else
		failed++;
	return cond;
}

/* Check that @got is @want, printing the value on mismatch. */
#define check_eq(got, want, ...) do {					\
	int g_ = (got), w_ = (want);					\
	if (!check(g_ == w_, __VA_ARGS__))				\
		printf("#   got %d (%s), want %d\n", g_,		\
		       g_ < 0 ? strerror(-g_) : "-", w_);		\
} while (0)

/* Number of lines of `cmd` output containing @needle, or -1. */
static int count_lines(const char *cmd, const char *needle)
{
	char line[512];
	int n = 0;
	FILE *f = popen(cmd, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	return pclose(f) == 0 ? n : -1;
}

static bool sh(const char *cmd)
{
	return system(cmd) == 0;
}

static int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		err = -errno;
	close(fd);
	return err;
}

static void test_rule(uint32_t mark, uint32_t table, uint32_t prio)
{
	char want[128];
	const char *show = "ip -6 rule show";
	int err;

	printf("# rule prio %u fwmark %#x table %u\n", prio, mark, table);
	snprintf(want, sizeof(want), "%u:\tfrom all fwmark %#x lookup %u",
		 prio, mark, table);

	check_eq(faith_nl_rule_exists(mark, table, prio), 0, "rule absent at start");
	check_eq(faith_nl_rule_add(mark, table, prio), 0, "rule add");
	check_eq(faith_nl_rule_exists(mark, table, prio), 1, "rule exists after add");
	check_eq(faith_nl_rule_add(mark, table, prio), 0, "rule add again is a no-op");
	check_eq(count_lines(show, want), 1, "ip -6 rule show: exactly one '%s'", want);
	check_eq(faith_nl_rule_exists(mark, table, prio + 1), 0, "other prio does not match");
	check_eq(faith_nl_rule_exists(mark, table + 1, prio), 0, "other table does not match");
	check_eq(faith_nl_rule_exists(mark + 1, table, prio), 0, "other mark does not match");
	check_eq(faith_nl_rule_del(mark, table + 1, prio), -ENOENT,
		 "del with other table is -ENOENT");
	check_eq(faith_nl_rule_del(mark, table, prio), 0, "rule del");
	check_eq(faith_nl_rule_exists(mark, table, prio), 0, "rule absent after del");
	check_eq(count_lines(show, want), 0, "ip -6 rule show: rule gone");
	err = faith_nl_rule_del(mark, table, prio);
	check(err == -ENOENT || err == -ESRCH, "rule del again: %d (%s)",
	      err, strerror(-err));
}

static void test_route(uint32_t table)
{
	char show[64];
	const char *want = "local default dev lo";
	int err;

	printf("# local route table %u\n", table);
	snprintf(show, sizeof(show), "ip -6 route show table %u", table);

	check_eq(faith_nl_local_route_exists(table), 0, "route absent at start");
	check_eq(faith_nl_local_route_add(table), 0, "route add");
	check_eq(faith_nl_local_route_exists(table), 1, "route exists after add");
	check_eq(faith_nl_local_route_add(table), 0, "route add again is a no-op");
	check_eq(count_lines(show, want), 1, "%s: exactly one '%s'", show, want);
	check_eq(count_lines(show, ""), 1, "%s: nothing else", show);
	check_eq(faith_nl_local_route_exists(table + 1), 0, "other table does not match");
	check_eq(faith_nl_local_route_del(table), 0, "route del");
	check_eq(faith_nl_local_route_exists(table), 0, "route absent after del");
	check_eq(count_lines(show, ""), 0, "%s: empty", show);
	err = faith_nl_local_route_del(table);
	check(err == -ENOENT || err == -ESRCH, "route del again: %d (%s)",
	      err, strerror(-err));
}

/* Objects made by iproute2 must be seen and removable by us, and vice versa. */
static void test_interop(void)
{
	printf("# interop with iproute2\n");
	if (check(sh("ip -6 rule add priority 1002 fwmark 0x2 lookup 102"),
		  "ip -6 rule add")) {
		check_eq(faith_nl_rule_exists(2, 102, 1002), 1, "iproute2 rule exists");
		check_eq(faith_nl_rule_add(2, 102, 1002), 0, "add over it is a no-op");
		check_eq(count_lines("ip -6 rule show", "1002:"), 1,
			 "still exactly one rule 1002");
		check_eq(faith_nl_rule_del(2, 102, 1002), 0, "iproute2 rule del");
		check_eq(count_lines("ip -6 rule show", "1002:"), 0, "rule 1002 gone");
	}
	if (check(sh("ip -6 route add local ::/0 dev lo table 103"),
		  "ip -6 route add local")) {
		check_eq(faith_nl_local_route_exists(103), 1, "iproute2 route exists");
		check_eq(faith_nl_local_route_add(103), 0, "add over it is a no-op");
		check_eq(faith_nl_local_route_del(103), 0, "iproute2 route del");
		check_eq(count_lines("ip -6 route show table 103", ""), 0,
			 "table 103 empty");
	}
	/* A non-local default route in the table is not ours. */
	if (check(sh("ip -6 route add unreachable ::/0 table 104"),
		  "ip -6 route add unreachable")) {
		check_eq(faith_nl_local_route_exists(104), 0,
			 "unreachable ::/0 is not a local route");
		sh("ip -6 route del unreachable ::/0 table 104");
	}
}

/* Many entries make the dumps multipart; the last ones must still be found. */
static void test_many(void)
{
	int rerr = 0, terr = 0;

	printf("# %d rules and %d routes (multipart dumps)\n", MANY, MANY);
	for (uint32_t i = 0; i < MANY; i++) {
		rerr = rerr ? rerr : faith_nl_rule_add(0x100 + i, 2000 + i, 5000 + i);
		terr = terr ? terr : faith_nl_local_route_add(2000 + i);
	}
	check_eq(rerr, 0, "add %d rules", MANY);
	check_eq(terr, 0, "add %d routes", MANY);
	check_eq(count_lines("ip -6 rule show", "lookup"), MANY + 2,
		 "ip -6 rule show lists them all");
	check_eq(faith_nl_rule_exists(0x100 + MANY - 1, 2000 + MANY - 1,
				      5000 + MANY - 1), 1, "last rule found");
	check_eq(faith_nl_rule_exists(0x100 + MANY, 2000 + MANY, 5000 + MANY), 0,
		 "one past the last rule not found");
	check_eq(faith_nl_local_route_exists(2000 + MANY - 1), 1, "last route found");
	check_eq(faith_nl_local_route_exists(2000 + MANY), 0,
		 "one past the last route not found");
	for (uint32_t i = 0; i < MANY; i++) {
		rerr = rerr ? rerr : faith_nl_rule_del(0x100 + i, 2000 + i, 5000 + i);
		terr = terr ? terr : faith_nl_local_route_del(2000 + i);
	}
	check_eq(rerr, 0, "del %d rules", MANY);
	check_eq(terr, 0, "del %d routes", MANY);
}

static void test_table0(void)
{
	printf("# table 0 is refused\n");
	check_eq(faith_nl_rule_add(MARK, 0, PRIO), -EINVAL, "rule add table 0");
	check_eq(faith_nl_rule_del(MARK, 0, PRIO), -EINVAL, "rule del table 0");
	check_eq(faith_nl_rule_exists(MARK, 0, PRIO), -EINVAL, "rule exists table 0");
	check_eq(faith_nl_local_route_add(0), -EINVAL, "route add table 0");
	check_eq(faith_nl_local_route_del(0), -EINVAL, "route del table 0");
	check_eq(faith_nl_local_route_exists(0), -EINVAL, "route exists table 0");
}

static void test_tc_kind(void)
{
	int lo = (int)if_nametoindex("lo");
	char kind[16], tiny[2];

	printf("# the kind of filter at a clsact ingress priority\n");
	check_eq(faith_nl_tc_filter_kind(lo, 0xfa1, kind, sizeof(kind)), 0,
		 "no clsact qdisc: nothing there");
	if (!check(sh("tc qdisc add dev lo clsact"), "tc qdisc add dev lo clsact"))
		return;
	sh("tc filter add dev lo ingress prio 7 protocol all u32 match u32 0 0");
	check_eq(faith_nl_tc_filter_kind(lo, 0xfa1, kind, sizeof(kind)), 0,
		 "a filter at another priority does not count");
	sh("tc filter add dev lo ingress prio 0xfa1 protocol all u32 match u32 0 0");
	check_eq(faith_nl_tc_filter_kind(lo, 0xfa1, kind, sizeof(kind)), 1,
		 "a u32 filter at priority 0xfa1 is found");
	check(!strcmp(kind, "u32"), "its kind is u32 ('%s')", kind);
	check_eq(faith_nl_tc_filter_kind(lo, 0xfa1, tiny, sizeof(tiny)), 1,
		 "found with a short buffer too");
	check(!strcmp(tiny, "u"), "the kind is cut to fit ('%s')", tiny);
	sh("tc qdisc del dev lo clsact");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);	/* keep order with ip's output */
	if (geteuid() != 0) {
		printf("skip - test_netlink needs root (network namespace)\n");
		return 0;
	}
	if (!check(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET)") ||
	    !check(lo_up() == 0, "lo up"))
		goto out;

	test_rule(MARK, TABLE, PRIO);
	test_rule(1, 100, 1001);	/* table fits in frh.table too */
	test_route(TABLE);
	test_route(100);
	test_interop();
	test_many();
	test_table0();
	test_tc_kind();
out:
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

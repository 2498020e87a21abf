// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of faithd's connection limits (src/faithd/connlimits.c) and
 * the workers' ledgers (src/faithd/ledger.c), with real worker processes:
 *
 *   - -M per source and -m over all;
 *   - a worker that dies holding connections: the master counts them out
 *     (limits_reclaim), as many as it held;
 *   - a worker killed at random moments while it counts connections in
 *     and out, often inside the table's lock: nothing hangs, and both
 *     counts are exact after each reclaim (the table and the total
 *     rebuilt from the ledgers when the lock's holder died);
 *   - no memory for the ledgers: faithd goes on without them, and a
 *     worker killed inside the lock hangs nothing.
 *
 * The per-source counts shared with the translate program (its map, run
 * through BPF_PROG_TEST_RUN) are the e2e tests' (faithd_load.sh); here
 * that program is not loaded, and faithd's own table counts.
 *
 *   make build/test_connlimits && build/test_connlimits
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "faithd/connlimits.h"
#include "testlib.h"

/* connlimits.c reaches the program only once limits_share_sources() has
 * given it one; these tests never do. */
int xlate_limit_run(int fd, const void *src, uint32_t op);
int xlate_limit_run(int fd, const void *src, uint32_t op)
{
	(void)fd, (void)src, (void)op;
	abort();
}

static struct in6_addr addr(unsigned char last)
{
	struct in6_addr a = { .s6_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = last } };

	return a;
}

/* How many connections from a are let in now (at most max + 1 tried);
 * they are counted out again. */
static int room(struct faithd_limits *l, struct in6_addr a, int max)
{
	unsigned t[64];
	int n = 0;

	while (n <= max && n < 64 && !limits_acquire(l, &a, &t[n]))
		n++;
	for (int i = 0; i < n; i++)
		limits_release(l, &a, t[i]);
	return n;
}

/* How many connections, each from a source of its own, are let in now
 * (at most max + 1 tried); counted out again. */
static int room_all(struct faithd_limits *l, int max)
{
	struct in6_addr a[64];
	unsigned t[64];
	int n = 0;

	for (; n <= max && n < 64; n++) {
		a[n] = addr((unsigned char)(100 + n));
		if (limits_acquire(l, &a[n], &t[n]))
			break;
	}
	for (int i = 0; i < n; i++)
		limits_release(l, &a[i], t[i]);
	return n;
}

static void test_limits(void)
{
	struct faithd_limits *l = limits_create(0, 2, 1);
	struct in6_addr a = addr(1), b = addr(2);
	unsigned t[4];
	int r;

	tl_check(l && limits_have_ledgers(l), "-M 2: made, with a ledger per worker");
	r = limits_acquire(l, &a, &t[0]) | limits_acquire(l, &a, &t[1]);
	tl_check(r == 0, "-M 2: two connections from a source");
	r = limits_acquire(l, &a, &t[2]);
	tl_check(r == -EUSERS, "... a third is refused (%d)", r);
	tl_check(!limits_acquire(l, &b, &t[3]), "... another source's is let in");
	limits_release(l, &a, t[0]);
	tl_check(room(l, a, 2) == 1, "... one counted out: room for one more");
	limits_release(l, &a, t[1]);
	limits_release(l, &b, t[3]);
	limits_destroy(l);

	l = limits_create(3, 0, 1);
	tl_check(room(l, a, 3) == 3, "-m 3: three let in, the fourth refused");
	limits_destroy(l);
}

/* A worker that counts n connections from a, then dies holding them. */
static void die_holding(struct faithd_limits *l, unsigned worker, struct in6_addr a, int n)
{
	pid_t pid = fork();

	if (pid == 0) {
		unsigned t;

		limits_join(l, worker);
		for (int i = 0; i < n; i++)
			if (limits_acquire(l, &a, &t))
				_exit(1);
		_exit(0);	/* no release: as if it crashed */
	}
	waitpid(pid, NULL, 0);
}

static void test_reclaim(void)
{
	struct faithd_limits *l = limits_create(5, 2, 2);
	struct in6_addr a = addr(3), b = addr(4);
	unsigned n;

	die_holding(l, 1, a, 2);
	die_holding(l, 0, b, 1);
	tl_check(room(l, a, 2) == 0 && room(l, b, 2) == 1,
		 "two workers died holding 2 and 1: still counted");
	n = limits_reclaim(l, 1);
	tl_check(n == 2 && room(l, a, 2) == 2, "worker 1 reclaimed: its 2 counted out (%u)", n);
	n = limits_reclaim(l, 0);
	tl_check(n == 1 && room(l, b, 2) == 2, "worker 0 reclaimed: its 1 (%u)", n);
	n = limits_reclaim(l, 0);
	tl_check(n == 0, "reclaimed again: nothing (%u)", n);
	limits_destroy(l);

	l = limits_create(3, 0, 1);
	die_holding(l, 0, a, 3);
	tl_check(room(l, b, 3) == 0, "-m 3: a worker died holding 3: no room");
	n = limits_reclaim(l, 0);
	tl_check(n == 3 && room(l, b, 3) == 3, "... reclaimed: room for 3 again (%u)", n);
	limits_destroy(l);
}

/* Worker 0 counting connections from src in and out as fast as it can,
 * killed after 0.2-1 ms (often inside the table's lock), reclaimed. */
static void kill_counting(struct faithd_limits *l, struct in6_addr src)
{
	pid_t pid = fork();

	if (pid == 0) {
		unsigned t;

		limits_join(l, 0);
		for (;;)
			if (!limits_acquire(l, &src, &t))
				limits_release(l, &src, t);
	}
	usleep(200 + rand() % 800);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	limits_reclaim(l, 0);
}

static void on_alarm(int sig)
{
	(void)sig;
	tl_check(false, "killed workers: a count hung (the lock of a dead worker)");
	_exit(tl_report());
}

static void test_killed(void)
{
	struct faithd_limits *l = limits_create(3, 2, 1);
	struct in6_addr a = addr(5);
	int exact = 0, kills = 200;
	unsigned seed = (unsigned)time(NULL);

	signal(SIGALRM, on_alarm);
	alarm(60);
	tl_diag("seed %u", seed);
	srand(seed);
	for (int k = 0; k < kills; k++) {
		kill_counting(l, a);
		exact += room(l, a, 2) == 2 && room_all(l, 3) == 3;
	}
	alarm(0);
	tl_check(exact == kills, "-m 3 -M 2: a worker killed %d times while counting: both "
		 "counts exact after each (%d), nothing hung", kills, exact);
	limits_destroy(l);
}

/* The address space this process maps now, in bytes. */
static size_t mapped_now(void)
{
	unsigned long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return pages * (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * No memory for the ledgers (an address-space limit that leaves room for
 * the table, 2.5 MiB, not for 1000 workers' ledgers, a page each at the
 * least): faithd goes on without them.
 * A worker killed inside the lock then leaves the table to be hashed
 * again as it stands: nothing hangs, and -M still holds (no slot counted
 * twice lets a third in).  Its connections stay counted: no ledger.
 */
static void test_no_ledgers(void)
{
	struct rlimit old, lim;
	struct faithd_limits *l;
	struct in6_addr a = addr(6);
	int within = 0, kills = 100;

	getrlimit(RLIMIT_AS, &old);
	lim = old;
	lim.rlim_cur = mapped_now() + (3u << 20);
	setrlimit(RLIMIT_AS, &lim);
	l = limits_create(0, 2, 1000);
	setrlimit(RLIMIT_AS, &old);
	if (!tl_check(l && !limits_have_ledgers(l),
		      "no memory for 1000 workers' ledgers: the limits without them"))
		return;
	alarm(60);
	for (int k = 0; k < kills; k++) {
		kill_counting(l, addr((unsigned char)(7 + k % 50)));	/* no ledger: stays */
		within += room(l, a, 2) == 2;
	}
	alarm(0);
	tl_check(within == kills, "... a worker killed %d times inside or outside the lock: "
		 "nothing hung, -M 2 let in 2 from another source each time (%d)", kills, within);
	limits_destroy(l);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_limits();
	test_reclaim();
	test_killed();
	test_no_ledgers();
	return tl_report();
}

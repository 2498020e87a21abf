// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/faithd/polls.c, the heap of connections a worker looks at
 * on a timer: random adds, moves earlier and later, removals and pops,
 * checked against a plain array at every step (the next due time, the heap
 * order, each connection's slot), and pops in time order.
 *
 *   make build/test_polls && build/test_polls
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "faithd/worker.h"
#include "testlib.h"

#define NCONNS	500
#define STEPS	20000

static struct conn conns[NCONNS];

/* The heap's order and slots hold; its minimum is the array's. */
static bool consistent(const struct worker *w)
{
	uint64_t min = UINT64_MAX;
	size_t in = 0;

	for (size_t i = 0; i < w->npolls; i++) {
		if (w->polls[i]->poll_slot != i + 1)
			return false;
		if (i && w->polls[(i - 1) / 2]->poll_ms > w->polls[i]->poll_ms)
			return false;
	}
	for (int i = 0; i < NCONNS; i++) {
		if (!conns[i].poll_slot)
			continue;
		in++;
		if (conns[i].poll_ms < min)
			min = conns[i].poll_ms;
	}
	return in == w->npolls && poll_next_ms(w) == min;
}

int main(void)
{
	struct worker w;
	uint64_t last = 0, now;
	bool ok = true;
	struct conn *c;
	int popped = 0;

	memset(&w, 0, sizeof(w));
	srand(1);
	if (!tl_check(!polls_init(&w) && w.polls_max >= NCONNS, "polls_init: room for %d", NCONNS))
		return tl_report();
	tl_check(poll_next_ms(&w) == UINT64_MAX && !poll_due(&w, UINT64_MAX - 1),
		 "empty: nothing due, next UINT64_MAX");
	for (int step = 0; step < STEPS && ok; step++) {
		struct conn *r = &conns[rand() % NCONNS];

		if (rand() % 4)
			poll_at(&w, r, 1 + (uint64_t)(rand() % 100000));	/* add or move */
		else
			poll_unlink(&w, r);
		ok = consistent(&w) && (r->poll_slot ? r->poll_ms != 0 : r->poll_ms == 0);
	}
	tl_check(ok, "%d random adds, moves and removals: heap order, slots and the next "
		 "due time hold at every step", STEPS);
	tl_check(w.npolls > NCONNS / 2, "... with %zu of %d connections in it", w.npolls, NCONNS);
	now = 50000;
	while ((c = poll_due(&w, now))) {
		ok = ok && c->poll_ms == 0 && !c->poll_slot;
		popped++;
	}
	tl_check(ok && consistent(&w) && poll_next_ms(&w) > now,
		 "poll_due(50000) takes all %d due, out of the heap, and leaves the rest",
		 popped);
	while ((c = poll_due(&w, UINT64_MAX - 1)))
		last++;
	tl_check(!w.npolls && poll_next_ms(&w) == UINT64_MAX, "the rest pops out: %llu",
		 (unsigned long long)last);
	/* In time order. */
	for (int i = 0; i < NCONNS; i++)
		poll_at(&w, &conns[i], 1 + (uint64_t)(rand() % 1000));
	last = 0;
	ok = true;
	for (int i = 0; i < NCONNS; i++) {
		uint64_t due = poll_next_ms(&w);

		c = poll_due(&w, due);
		ok = ok && c && due >= last;
		last = due;
	}
	tl_check(ok && !w.npolls, "%d connections pop out in time order", NCONNS);
	polls_free(&w);
	return tl_report();
}

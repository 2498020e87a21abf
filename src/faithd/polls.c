// SPDX-License-Identifier: BSD-2-Clause
/*
 * The connections a worker looks at on a timer (the sockmap data path's
 * samples, the translate data path's hand-off steps and looks at handed-off
 * connections): a binary min-heap by poll_ms, so that a turn of the event
 * loop costs O(log n) per connection due, not a walk of all of them (with
 * 100,000 handed-off connections, looks come due every millisecond).
 *
 * Its array holds a slot for every connection the worker can have open
 * (two descriptors each), up to POLLS_MAX: reserved at start, touched as it
 * fills, never grown, so that adding one cannot fail.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "faithd/worker.h"

#define POLLS_MAX	(4u << 20)

int polls_init(struct worker *w)
{
	struct rlimit rl;
	size_t slots = 65536;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		slots = rl.rlim_cur / 2 + 1;
	/* LimitNOFILE=infinity is 2^30 descriptors: no more connections
	 * than POLLS_MAX (32 MiB of address space, touched as used). */
	if (slots > POLLS_MAX)
		slots = POLLS_MAX;
	w->polls = malloc(slots * sizeof(*w->polls));
	if (!w->polls)
		return -ENOMEM;
	w->npolls = 0;
	w->polls_max = slots;
	return 0;
}

void polls_free(struct worker *w)
{
	free(w->polls);
	w->polls = NULL;
	w->npolls = w->polls_max = 0;
}

static void put(struct worker *w, size_t i, struct conn *c)
{
	w->polls[i] = c;
	c->poll_slot = (uint32_t)(i + 1);
}

static void sift_up(struct worker *w, size_t i)
{
	struct conn *c = w->polls[i];

	while (i) {
		size_t parent = (i - 1) / 2;

		if (w->polls[parent]->poll_ms <= c->poll_ms)
			break;
		put(w, i, w->polls[parent]);
		i = parent;
	}
	put(w, i, c);
}

static void sift_down(struct worker *w, size_t i)
{
	struct conn *c = w->polls[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= w->npolls)
			break;
		if (child + 1 < w->npolls &&
		    w->polls[child + 1]->poll_ms < w->polls[child]->poll_ms)
			child++;
		if (c->poll_ms <= w->polls[child]->poll_ms)
			break;
		put(w, i, w->polls[child]);
		i = child;
	}
	put(w, i, c);
}

void poll_at(struct worker *w, struct conn *c, uint64_t when)
{
	uint64_t old = c->poll_ms;

	c->poll_ms = when ? when : 1;
	if (!c->poll_slot) {
		if (w->npolls == w->polls_max)
			return;	/* past POLLS_MAX: xlate_maybe() checks first */
		put(w, w->npolls++, c);
		sift_up(w, w->npolls - 1);
	} else if (c->poll_ms < old) {
		sift_up(w, c->poll_slot - 1);
	} else {
		sift_down(w, c->poll_slot - 1);
	}
}

void poll_unlink(struct worker *w, struct conn *c)
{
	size_t i = c->poll_slot - 1;
	struct conn *last;

	c->poll_ms = 0;
	if (!c->poll_slot)
		return;
	c->poll_slot = 0;
	last = w->polls[--w->npolls];
	if (last == c)
		return;
	put(w, i, last);
	sift_down(w, i);
	sift_up(w, last->poll_slot - 1);
}

struct conn *poll_due(struct worker *w, uint64_t now)
{
	struct conn *c;

	if (!w->npolls || w->polls[0]->poll_ms > now)
		return NULL;
	c = w->polls[0];
	poll_unlink(w, c);
	return c;
}

uint64_t poll_next_ms(const struct worker *w)
{
	return w->npolls ? w->polls[0]->poll_ms : UINT64_MAX;
}

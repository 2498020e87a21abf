// SPDX-License-Identifier: BSD-2-Clause
/*
 * faithd --translate-after syn, the master's sweep: the connections the
 * program opened that it cannot end itself (quiet for the idle timeout,
 * half-open for the connect timeout, lingering after both FINs, carrying
 * segments it cannot translate, or all of them when faithd stops) are
 * forgotten, both peers reset and the connection logged.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "faithd_xlate.skel.h"
#include "faithd/faithd.h"
#include "faithd/log.h"
#include "faithd/xlate.h"
#include "faithd/xlate_maps.h"

#define SWEEP_BATCH	1024
#define SYN_LINGER_MS	2000	/* quiet after both FINs before forgetting */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* How long the quieter of the two entries has been quiet (signed: the
 * program may have moved one on since now was read). */
static int64_t quiet_ns(const struct faithd_xl_flow *c, const struct faithd_xl_flow *s,
			uint64_t now)
{
	int64_t qc = (int64_t)(now - c->last_ns), qs = (int64_t)(now - s->last_ns);

	return qc < qs ? qc : qs;
}

/* Is the connection of the client's entry c half-open (in syn_pending)? */
static bool half_open(const struct faithd_xl_flow *c)
{
	return c->state == FAITHD_XL_SYN || (c->flags & FAITHD_XL_HALF);
}

/* Is f's FIN one the receiver took: acknowledged exactly by p's sender,
 * or in order (a forger would have had to guess its sequence number)? */
static bool fin_taken(const struct faithd_xl_flow *f, const struct faithd_xl_flow *p)
{
	return (f->flags & FAITHD_XL_SEEN_FIN) &&
	       (p->ack_last == f->fin_end || (f->flags & FAITHD_XL_FIN_ORDER));
}

/*
 * Why faithd forgets the program's connection of c (the client's entry)
 * and s (the server's, zeroed if gone), or NULL.  Segments the program
 * cannot translate end it at once, as they end a handed-off one; a
 * connection whose both FINs were taken and one acknowledged exactly,
 * after SYN_LINGER_MS of quiet (its last ACK was lost, or the program
 * would have forgotten it); else the connect timeout (the client's ACK of
 * the SYN-ACK too: a forged source never sends it) and the idle timeout.
 */
static const char *why_forget(const struct faithd_xlate *xl, const struct faithd_xl_flow *c,
			      const struct faithd_xl_flow *s, uint64_t now, bool all)
{
	int64_t quiet = quiet_ns(c, s, now);
	uint64_t limit_ms = xl->syn_idle_ms;

	if (all)
		return "shutting down";
	if ((c->flags | s->flags) & FAITHD_XL_STRAY)
		return "segments the translation cannot carry (IP options, fragments, IPv6 "
		       "extension headers)";
	if (half_open(c)) {
		/* From the SYN: a forger's segments must not keep it. */
		if ((int64_t)(now - c->tsval_ns) < (int64_t)(xl->syn_connect_ms * 1000000))
			return NULL;
		return c->state == FAITHD_XL_SYN ? "upstream connect timed out" :
		       "the client did not complete the handshake";
	}
	if (fin_taken(c, s) && fin_taken(s, c) &&
	    (s->ack_last == c->fin_end || c->ack_last == s->fin_end) &&
	    quiet >= (int64_t)SYN_LINGER_MS * 1000000)
		return "closed";
	if (limit_ms && quiet >= (int64_t)(limit_ms * 1000000))
		return "idle timeout";
	return NULL;
}

/* Run the program's `faithd_forget` (see there): whether it forgot. */
static bool forget_run(struct faithd_xlate *xl, struct faithd_xl_forget_args *a)
{
	int r = xlate_call(bpf_program__fd(xl->skel->progs.faithd_forget), a, sizeof(*a));
	static bool said;

	if (r < 0 && !said) {
		log_warn("--translate-after syn: the sweep cannot forget connections: %s",
			 strerror(-r));
		said = true;
	}
	return r == 1;
}

/*
 * Was the connection of the client's entry at key, opened at tsval_ns,
 * marked ENDED in the last sweep too?  Noted for the next one.  A mark
 * the program is acting on is gone within microseconds, with the entry;
 * one that stays across two sweeps is stale (an entry the kernel gave
 * this connection while another CPU ended the one before), and the
 * program will not act on it.
 */
static bool ended_before(struct faithd_xlate *xl, const struct faithd_xl_key *key,
			 uint64_t tsval_ns)
{
	unsigned now = xl->ended_now, last = !now;
	bool seen = false;

	for (unsigned i = 0; i < xl->nended[last] && !seen; i++)
		seen = xl->ended[last][i].tsval_ns == tsval_ns &&
		       !memcmp(&xl->ended[last][i].key, key, sizeof(*key));
	if (xl->nended[now] < XL_ENDED_MAX)	/* else: a later sweep's */
		xl->ended[now][xl->nended[now]++] = (struct xl_ended){ *key, tsval_ns };
	return seen;
}

/* Forget the connection of the client's entry c (key ckey; s: the
 * server's), as the snapshot saw it: not if the program has ended it or
 * opened a new one on its ports since.  Resets both peers and logs it. */
static bool forget(struct faithd_xlate *xl, const struct faithd_xl_key *ckey,
		   const struct faithd_xl_flow *c, const struct faithd_xl_flow *s, const char *how,
		   uint64_t now)
{
	struct faithd_xl_forget_args a = {
		.key = *ckey, .tsval_ns = c->tsval_ns, .op = FAITHD_XL_FORGET_CONN,
	};

	if (c->flags & FAITHD_XL_ENDED) {
		if (!ended_before(xl, ckey, c->tsval_ns))
			return false;
		a.ended = 1;
	}
	if (!forget_run(xl, &a))
		return false;
	xlate_rst_both(xl, c, s);
	xlate_syn_log_end(c, s, how, c->tsval_ns, now);
	return true;
}

/* Delete the server's entry f at key if it is still as the snapshot saw
 * it (the program may have opened a new connection on its ports since). */
static void delete_same(struct faithd_xlate *xl, const struct faithd_xl_key *key,
			const struct faithd_xl_flow *f)
{
	struct faithd_xl_forget_args a = {
		.key = *key, .peer = f->peer, .last_ns = f->last_ns,
		.op = FAITHD_XL_FORGET_ORPHAN,
	};

	forget_run(xl, &a);
}

/*
 * One entry of the snapshot: the client's of a connection (its server's
 * looked up), or a server's with a stray segment (its client's looked up)
 * or alone (forgotten after SYN_LINGER_MS: the program deleted its
 * client's, or the sweep did, between two deletes).  Whether a connection
 * is left, and counts one still waiting for its SYN-ACK in *pending.
 */
static bool sweep_one(struct faithd_xlate *xl, const struct faithd_xl_key *key,
		      const struct faithd_xl_flow *f, uint64_t now, bool all, unsigned int *pending)
{
	struct faithd_xl_flow c, s;
	struct faithd_xl_key ckey;
	const char *how;

	if (!(f->flags & FAITHD_XL_FROM_SYN))
		return false;
	if (f->out_v4) {
		/* Quick: a busy connection needs no look at its server's. */
		if (!all && !(f->flags & FAITHD_XL_STRAY) && !half_open(f) &&
		    (int64_t)(now - f->last_ns) < (int64_t)SYN_LINGER_MS * 1000000)
			return true;
		c = *f;
		ckey = *key;
		if (bpf_map_lookup_elem(xl->flows_fd, &f->peer, &s))
			memset(&s, 0, sizeof(s));
	} else {
		if (bpf_map_lookup_elem(xl->flows_fd, &f->peer, &c)) {
			if (all || (int64_t)(now - f->last_ns) >= (int64_t)SYN_LINGER_MS * 1000000)
				delete_same(xl, key, f);
			return false;
		}
		if (!(f->flags & FAITHD_XL_STRAY))
			return false;	/* its client's entry speaks for it */
		s = *f;
		ckey = f->peer;
	}
	how = why_forget(xl, &c, &s, now, all);
	if (how && forget(xl, &ckey, &c, &s, how, now)) {
		xl->syn_expired++;
		return false;
	}
	if (f->out_v4)	/* else counted at its client's entry */
		*pending += half_open(&c);
	return f->out_v4;
}

unsigned int xlate_syn_sweep(struct faithd_xlate *xl, bool all)
{
	static struct faithd_xl_key keys[SWEEP_BATCH];
	static struct faithd_xl_flow vals[SWEEP_BATCH];
	__u32 batch = 0, count;
	unsigned int left = 0, pending = 0;
	bool first = true, more = true;
	__u32 *syn_pending;
	__u32 counted;
	int err;

	if (!xl || !xl->syn)
		return 0;
	syn_pending = &xl->skel->bss->syn_pending;
	counted = __atomic_load_n(syn_pending, __ATOMIC_RELAXED);
	xl->ended_now = !xl->ended_now;
	xl->nended[xl->ended_now] = 0;
	while (more) {
		count = SWEEP_BATCH;
		err = bpf_map_lookup_batch(xl->flows_fd, first ? NULL : &batch, &batch, keys, vals,
					   &count, NULL);
		more = !err;
		if (err && errno != ENOENT)
			return left + 1;	/* try again next time */
		first = false;
		uint64_t now = mono_ns();

		for (__u32 i = 0; i < count; i++)
			left += sweep_one(xl, &keys[i], &vals[i], now, all, &pending);
	}
	/*
	 * The program counts them in and out; this puts right what faithd's
	 * forgetting (and a race with it) puts wrong.  Added, not stored: the
	 * program's counting during the sweep stays (the memory is the
	 * program's .bss, mapped: the same atomics as its own).
	 */
	__atomic_fetch_add(syn_pending, pending - counted, __ATOMIC_RELAXED);
	return left;
}

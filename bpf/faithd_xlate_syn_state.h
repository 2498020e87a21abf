/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * faithd_xlate.bpf.c, continued: --translate-after syn, a connection the
 * program opened: its SYN state up to the server's answer, and its end
 * (a reset that counts, both FINs acknowledged), reported to faithd.
 * After faithd_xlate_syn.h.
 */
#ifndef FAITHD_XLATE_SYN_STATE_H
#define FAITHD_XLATE_SYN_STATE_H

/*
 * Tell faithd how the connection of f and p ended, for its log.  faithd
 * reads the ring a few times a second: it is woken only once a good part
 * of it is full, not for every connection.
 */
static __always_inline void syn_report(const struct faithd_xl_flow *f,
				       const struct faithd_xl_flow *p, __u32 how)
{
	const struct faithd_xl_flow *c = f->out_v4 ? f : p, *s = f->out_v4 ? p : f;
	struct faithd_xl_event *e = bpf_ringbuf_reserve(&xl_events, sizeof(*e), 0);
	__u64 wake = BPF_RB_NO_WAKEUP;

	if (!e)
		return;		/* faithd is behind: the connection goes unlogged */
	__builtin_memcpy(e->client, s->daddr, 16);
	__builtin_memcpy(e->faith, s->saddr, 16);
	e->cport = s->dport;
	e->dport = s->sport;
	e->dst4 = c->daddr[3];
	e->how = how;
	e->pad = 0;
	e->to_server = c->bytes;
	e->to_client = s->bytes;
	e->start_ns = c->tsval_ns;
	e->end_ns = bpf_ktime_get_ns();
	if (bpf_ringbuf_query(&xl_events, BPF_RB_AVAIL_DATA) > FAITHD_XL_EVENTS_SIZE / 4)
		wake = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(e, wake);
}

/* Delete a connection's entries, the client's last: whoever deletes that
 * counts the connection out of -m and -M, once (the program, or faithd's
 * sweep acting on a stale ENDED mark). */
static __always_inline void syn_delete(const struct faithd_xl_key *ckey,
				       const struct faithd_xl_key *skey)
{
	bpf_map_delete_elem(&flows, skey);
	if (!bpf_map_delete_elem(&flows, ckey))
		syn_limits_release(ckey->saddr);
}

/* Forget both entries of a connection opened for a SYN (f, key: one of
 * them; p: the other), saying how it ended; 0 if another CPU did. */
static __always_inline int syn_forget(const struct faithd_xl_key *key, struct faithd_xl_flow *f,
				       struct faithd_xl_flow *p, __u32 how)
{
	struct faithd_xl_flow *c = f->out_v4 ? f : p;
	const struct faithd_xl_key *ckey = f->out_v4 ? key : &f->peer;
	const struct faithd_xl_key *skey = f->out_v4 ? &f->peer : key;

	/* Once: two CPUs may end it at the same moment. */
	if (__sync_fetch_and_or(&c->flags, FAITHD_XL_ENDED) & FAITHD_XL_ENDED)
		return 0;
	syn_half_done(c);
	syn_report(f, p, how);
	syn_delete(ckey, skey);
	return 1;
}

static __always_inline int same_key(const struct faithd_xl_key *a, const struct faithd_xl_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4];
}

/*
 * faithd's sweep forgets a connection (or an orphan entry) it saw in its
 * snapshot of `flows`, here rather than by deleting keys itself: it takes
 * the connection the way the program ends one (ENDED, once), so that its
 * deletes hit that connection's entries and no other, even if the ports
 * are reused the moment they are free.  The sweep resets the peers and
 * counts the half-open itself.  1: forgotten; 0: not (gone, another
 * connection by now, or the program is ending it).
 */
SEC("syscall")
int faithd_forget(struct faithd_xl_forget_args *a)
{
	struct faithd_xl_key key, peer;
	struct faithd_xl_flow *f;
	__u32 old;

	__builtin_memcpy(&key, &a->key, sizeof(key));
	__builtin_memcpy(&peer, &a->peer, sizeof(peer));
	f = bpf_map_lookup_elem(&flows, &key);
	if (!f || !(f->flags & FAITHD_XL_FROM_SYN))
		return 0;
	if (a->op == FAITHD_XL_FORGET_ORPHAN) {
		if (f->out_v4 || f->last_ns != a->last_ns || !same_key(&f->peer, &peer) ||
		    bpf_map_lookup_elem(&flows, &peer))
			return 0;
		return !bpf_map_delete_elem(&flows, &key);
	}
	if (f->tsval_ns != a->tsval_ns || !f->out_v4)
		return 0;
	/* ENDED since the snapshot: the program is ending it.  ENDED then
	 * too (and in the sweep before): a stale mark (an entry the kernel
	 * gave this connection while another CPU ended the one before),
	 * which no one else acts on. */
	old = __sync_fetch_and_or(&f->flags, FAITHD_XL_ENDED);
	if ((old & FAITHD_XL_ENDED) && !a->ended)
		return 0;
	/* This program sleeps: between the look and the claim the entry may
	 * have been freed and given to a new connection.  Not this one's. */
	if (f->tsval_ns != a->tsval_ns || !f->out_v4) {
		if (!(old & FAITHD_XL_ENDED))
			__sync_fetch_and_and(&f->flags, ~FAITHD_XL_ENDED);
		return 0;
	}
	__builtin_memcpy(&peer, &f->peer, sizeof(peer));
	syn_delete(&key, &peer);
	return 1;
}

/*
 * Leave SYN state (sv: the server's entry; c: the client's), on one CPU
 * only: the winner goes on, the connection half-open until the client
 * acknowledges the server's SYN-ACK (or it ends: HALF); 0 for the others
 * (the same SYN-ACK or reset twice).
 */
static __always_inline int syn_leave(struct faithd_xl_flow *sv, struct faithd_xl_flow *c)
{
	if (__sync_val_compare_and_swap(&sv->state, FAITHD_XL_SYN, FAITHD_XL_ACTIVE) !=
	    FAITHD_XL_SYN)
		return 0;
	__sync_fetch_and_or(&c->flags, FAITHD_XL_HALF);
	return 1;
}

/*
 * A segment of a connection in SYN state (f: its direction's entry).  The
 * client's SYN again, or its reset (at the exact point); the server's
 * SYN-ACK or reset acknowledging the client's SYN: both entries turn
 * ACTIVE, with the windows, scales and sequence numbers the main program's
 * bookkeeping starts from.  0: translate it; else the verdict.
 */
static __noinline int syn_step(const struct faithd_xl_key *key, struct faithd_xl_flow *f,
			       struct tcp_copy *t, __u32 hlen)
{
	struct faithd_xl_syn_stats *st = syn_stats();
	const struct tcphdr *th = (const struct tcphdr *)t->w;
	__u32 seq = bpf_ntohl(th->seq), ack = bpf_ntohl(th->ack_seq);
	__u32 window = bpf_ntohs(th->window);
	int syn = th->syn, rst = th->rst, has_ack = th->ack, ws;
	struct faithd_xl_flow *c;

	c = bpf_map_lookup_elem(&flows, &f->peer);
	if (!c)
		return TC_ACT_SHOT;
	if (f->out_v4) {	/* the client's; c is the server's */
		if (rst && seq == f->nxt && syn_leave(c, f)) {
			syn_forget(key, f, c, FAITHD_XL_END_RESET_CLIENT);
			if (st)
				st->reset++;
			return 0;
		}
		/* The SYN again, as it was (not a forged one moving it). */
		if (syn && !has_ack && !rst && seq + 1 == f->nxt)
			return 0;
		return TC_ACT_SHOT;
	}
	if (c->state != FAITHD_XL_SYN)
		return TC_ACT_SHOT;
	/*
	 * An ACK that is not of the SYN: the server holds an older connection
	 * on these ports (a TIME-WAIT of the router's own, say).  The router's
	 * stack, with no socket for them, answers as the client would in
	 * SYN-SENT (RFC 793): a reset at that ACK, which clears it; the
	 * client's next SYN then opens the connection.
	 */
	ack += f->ack_delta;	/* into the client's numbers */
	if (has_ack && !syn && !rst && ack != c->nxt)
		return TCX_NEXT;
	if (!has_ack || ack != c->nxt || (!syn && !rst) || !syn_leave(f, c))
		return TC_ACT_SHOT;
	if (rst) {
		syn_forget(key, f, c, FAITHD_XL_END_REFUSED);
		if (st)
			st->refused++;
		return 0;
	}
	/* Window scaling only if both offered it (RFC 7323). */
	ws = syn_wscale(t, hlen);
	if ((c->flags & FAITHD_XL_WSCALE) && ws >= 0) {
		c->win_in_shift = c->win_out_shift = c->syn_wscale;
		f->win_in_shift = f->win_out_shift = ws;
	}
	f->seq_end = f->nxt = seq + 1;
	f->ack_last = ack;
	f->wnd_end = ack + window;		/* a SYN's window is not scaled */
	c->wnd_end = seq + 1 + c->wnd_end;	/* once: syn_leave() */
	c->ack_last = seq;			/* nothing of the server's ACKed yet */
	f->last_ns = c->last_ns = bpf_ktime_get_ns();
	c->state = FAITHD_XL_ACTIVE;
	if (st)
		st->established++;
	return 0;
}

/*
 * Is the connection of the client's entry c (p: the server's) over for a
 * new SYN of the client's at seq?  As a TIME-WAIT takes one (RFC 9293
 * 3.10.7.4): both FINs came, the client's acknowledged, and the SYN is
 * past it.  Else the SYN goes on to the server, which answers with an ACK
 * of the connection (RFC 5961 4): a forged SYN ends nothing.
 */
static __always_inline int syn_over(const struct faithd_xl_flow *c,
				    const struct faithd_xl_flow *p, __u32 seq)
{
	return (c->flags & p->flags & FAITHD_XL_SEEN_FIN) && p->ack_last == c->fin_end &&
	       c->ack_last == p->fin_end && xl_after(seq, c->fin_end);
}

/* Forget a connection that was over, for the client's new SYN on its
 * ports: dropped, the SYN comes again and finds none. */
static __noinline int syn_reopen(const struct faithd_xl_key *key, struct faithd_xl_flow *f,
				 struct faithd_xl_flow *p)
{
	syn_forget(key, f, p, FAITHD_XL_END_CLOSED);
	return TC_ACT_SHOT;
}

/* Has f's FIN been acknowledged exactly by p's sender, with no data past
 * it?  (A cumulative ACK of it says every byte before came too, also of a
 * FIN that came ahead of a loss.) */
static __always_inline int fin_done(const struct faithd_xl_flow *f, const struct faithd_xl_flow *p)
{
	return (f->flags & FAITHD_XL_SEEN_FIN) && p->ack_last == f->fin_end &&
	       !xl_after(f->seq_end + 1, f->fin_end);
}

/*
 * ACTIVE, opened for a SYN: is the connection over?  A reset that counted
 * (note_end), or both FINs acknowledged exactly (as faithd's hand-off
 * checks): the program forgets it (a last ACK lost: the FIN sent again
 * finds the router's stack, which resets).
 */
static __noinline int syn_maybe_end(const struct faithd_xl_key *key, struct faithd_xl_flow *f,
				    struct faithd_xl_flow *p)
{
	struct faithd_xl_syn_stats *st;

	if (f->flags & FAITHD_XL_SEEN_RST) {
		if (!syn_forget(key, f, p, f->out_v4 ? FAITHD_XL_END_RESET_CLIENT :
						       FAITHD_XL_END_RESET_SERVER))
			return 0;
		st = syn_stats();
		if (st)
			st->reset++;
		return 1;
	}
	if (!fin_done(f, p) || !fin_done(p, f) || !syn_forget(key, f, p, FAITHD_XL_END_CLOSED))
		return 0;
	st = syn_stats();
	if (st)
		st->closed++;
	return 1;
}

#endif /* FAITHD_XLATE_SYN_STATE_H */

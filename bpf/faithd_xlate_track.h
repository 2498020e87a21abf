/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * faithd_xlate.bpf.c, continued: the bookkeeping of a translated
 * connection (ACTIVE): each direction's end of data, ACK point, window,
 * FIN and reset, as its receiver would accept them, for faithd and for
 * the program's own end of a connection it opened.
 */
#ifndef FAITHD_XLATE_TRACK_H
#define FAITHD_XLATE_TRACK_H

/*
 * Move *p forward to v in sequence space, never back: one direction's
 * segments may run on several CPUs at once (a plain store could put back
 * an older value, and a FIN there would go unnoticed).  How far it moved
 * it; 0 if it did not.
 */
static __always_inline __u32 advance(__u32 *p, __u32 v)
{
	__u32 old = *p;

#pragma unroll
	for (int i = 0; i < 4; i++) {
		__u32 cur;

		if (!xl_after(v, old))
			return 0;
		cur = __sync_val_compare_and_swap(p, old, v);
		if (cur == old)
			return v - old;
		old = cur;
	}
	return 0;	/* lost four races in a row: a later segment moves it */
}

/* The end of what the sender of p's segments sent: data, or its FIN. */
static __always_inline __u32 sent_end(const struct faithd_xl_flow *p)
{
	if ((p->flags & FAITHD_XL_SEEN_FIN) && xl_after(p->fin_end, p->seq_end))
		return p->fin_end;
	return p->seq_end;
}

/*
 * Would the receiver take a segment carrying this ACK (in its numbers;
 * top: the end of what it sent)?  RFC 5961 5.2: not beyond what it sent,
 * not more than its largest send window older than its oldest unACKed
 * byte.  That window is never more than 65535 scaled as the receiver sees
 * f's windows; the bound is no stricter than the receiver's, so that a
 * real segment reordered behind later ACKs (a window-limited sender) is
 * not missed: one miss would stop the bookkeeping for good, the other
 * side's ACK of it lying past the end counted.
 */
static __always_inline int ack_ok(const struct faithd_xl_flow *f, __u32 ack, __u32 top)
{
	__u32 span = 0xffffu << (f->win_out_shift & 15);

	return xl_between(ack, f->ack_last - span, top);
}

/*
 * ACTIVE: keep the sender's end of data and ACK point as the receivers
 * would accept them (RFC 793, RFC 5961), so that what faithd reads from
 * the entries cannot be moved by a blind attacker who knows the ports:
 *
 *   seq_end  data counts only inside the window the receiver announced
 *            (the peer entry's wnd_end, and a probe's byte at its edge),
 *            and only with an ACK the receiver would take (ack_ok);
 *   nxt      ...and, where resets and FINs count, only in order: from
 *            where it stands, or up to the receiver's ACK (after a loss);
 *   ack_last an ACK counts from the last one up to the end of what the
 *            receiver sent (its seq_end, or past its FIN): while the
 *            connection is idle, only the exact point.
 *
 * Only for a segment the receiver would take (an ACK, ack_ok: ack, in the
 * receiver's numbers).  win is the window the receiver sees (scaled): it
 * moves wnd_end.  Returns whether the segment moved seq_end or ack_last: what faithd's
 * idle timeout and linger count as traffic (a duplicate ACK, such as a
 * peer's answer to a forged segment, moves neither).
 */
static __always_inline int track(struct faithd_xl_flow *f, struct faithd_xl_flow *p,
				 const struct tcphdr *th, __u32 payload, __u32 win, __u32 ack)
{
	__u32 seq = bpf_ntohl(th->seq), end = seq + payload;
	int moved = 0;

	/* In the window; or a byte at its edge: a zero-window probe (BSD,
	 * Windows), which a receiver whose window opened meanwhile takes and
	 * acknowledges (its ACK would be past seq_end, and refused). */
	if (payload && (!xl_after(end, p->wnd_end) || (payload == 1 && seq == p->wnd_end))) {
		__u32 grew = advance(&f->seq_end, end);

		if (grew) {	/* new bytes, not the same again */
			__sync_fetch_and_add(&f->bytes, grew);
			moved = 1;
		}
		if (!xl_after(seq, f->nxt))
			advance(&f->nxt, end);
	}
	if (xl_after(f->ack_last, ack))
		return moved;
	if (advance(&f->ack_last, ack))
		moved = 1;
	advance(&f->wnd_end, ack + win);
	advance(&p->nxt, ack);
	return moved;
}

/*
 * ACTIVE: note what ends the connection, for faithd.  A reset counts only
 * at an exact point: where the receiver's last ACK (sent on through the
 * other entry) says it is, or where the sender's data ends in order, or
 * after its FIN in order (a reset right after data comes before the ACK of
 * it) — as the receiver checks (RFC 5961), a blind reset would have to
 * guess 32 bits.  A FIN, taken (with an ACK the receiver would take),
 * counts where the sender's data ends in order, or inside the window ahead
 * of a loss; faithd then waits for the receiver's exact ACK of it.
 */
static __always_inline void note_end(struct faithd_xl_flow *f, const struct faithd_xl_flow *p,
				     const struct tcphdr *th, __u32 payload, int taken)
{
	__u32 seq = bpf_ntohl(th->seq), end = seq + payload;

	/* Flags atomically: another CPU may be setting ENDED (FROM_SYN). */
	if (th->rst) {
		if (seq == f->nxt || p->ack_last == seq ||
		    ((f->flags & FAITHD_XL_FIN_ORDER) && seq == f->fin_end))
			__sync_fetch_and_or(&f->flags, FAITHD_XL_SEEN_RST);
		return;
	}
	/* Receivers take a FIN only with an ACK they would take. */
	if (!th->fin || !taken)
		return;
	if (end == f->nxt) {
		f->fin_end = end + 1;
		__sync_fetch_and_or(&f->flags, FAITHD_XL_SEEN_FIN | FAITHD_XL_FIN_ORDER);
		return;
	}
	/*
	 * Ahead of a lost segment (its sender repeats the segment, not the
	 * SACKed FIN): noted too, inside the window, until one comes in
	 * order; only the receiver's exact ACK of it ends the connection.
	 * Not below the data seen (a sender's FIN ends its data), and a
	 * later one only lower: a forged FIN cannot move a real one's end
	 * off the ACK that will come.
	 */
	if ((f->flags & FAITHD_XL_FIN_ORDER) || !xl_after(end, f->nxt) ||
	    xl_after(end, p->wnd_end) || xl_after(f->seq_end, end))
		return;
	if ((f->flags & FAITHD_XL_SEEN_FIN) && !xl_after(f->fin_end, end + 1))
		return;
	f->fin_end = end + 1;
	__sync_fetch_and_or(&f->flags, FAITHD_XL_SEEN_FIN);
}

#endif /* FAITHD_XLATE_TRACK_H */

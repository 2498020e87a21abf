/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * TCP sequence number comparisons, shared by bpf/faithd_xlate.bpf.c and
 * faithd (src/faithd/xlate.c), and the check faithd makes of the segment
 * whose timestamp the program kept.
 */
#ifndef FAITHD_XLATE_SEQ_H
#define FAITHD_XLATE_SEQ_H

#include <linux/types.h>

/* Is a after b, modulo 2^32? */
static inline int xl_after(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

/* lo <= x <= hi, modulo 2^32. */
static inline int xl_between(__u32 x, __u32 lo, __u32 hi)
{
	return !xl_after(lo, x) && !xl_after(x, hi);
}

/*
 * Could the peer have sent the segment (seq, ack) whose TSval the program
 * kept while watching?  A blind attacker who knows the ports could spray
 * TSvals far ahead, and clocks set from one would make the peers drop the
 * real segments (PAWS).  Checked against the frozen socket as the socket
 * itself would (RFC 793): seq within a window (the relay's, at least
 * 64 KiB) of rcv_nxt, either side (a repeat, or data the program dropped
 * while holding); ack at most snd_nxt, and at most the peer's largest
 * window behind it.
 */
static inline int xl_ts_segment_fits(__u32 seq, __u32 ack, __u32 rcv_nxt, __u32 snd_nxt,
				     __u32 rcv_wnd, __u32 max_window)
{
	__u32 rwin = rcv_wnd > 65536 ? rcv_wnd : 65536;
	__u32 swin = max_window > 65536 ? max_window : 65536;

	return xl_between(seq, rcv_nxt - rwin, rcv_nxt + rwin) &&
	       xl_between(ack, snd_nxt - swin, snd_nxt);
}

#endif /* FAITHD_XLATE_SEQ_H */

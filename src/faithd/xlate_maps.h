/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Shared by bpf/faithd_xlate.bpf.c and faithd's translating relay
 * (--datapath translate, src/faithd/xlate.c).
 *
 * `flows` holds two entries per handed-off connection, one per direction,
 * keyed by the packet as it arrives at the router: the IPv6 client's
 * packets (client -> faith address) and the IPv4 server's (server ->
 * the router's upstream address).  IPv4 addresses are IPv4-mapped
 * (::ffff:a.b.c.d) in keys and values.
 */
#ifndef FAITHD_XLATE_MAPS_H
#define FAITHD_XLATE_MAPS_H

#include <linux/types.h>

/* Two entries per connection. */
#define FAITHD_XL_MAX_FLOWS	(1 << 18)

struct faithd_xl_key {
	__u32 saddr[4];
	__u32 daddr[4];
	__u16 sport;		/* network order */
	__u16 dport;
	__u32 pad;		/* zero */
};

enum faithd_xl_state {
	/* Everything goes on to the sockets; the last TSval is kept. */
	FAITHD_XL_WATCH = 0,
	/* While faithd drains the sockets: segments carrying data, FIN or
	 * SYN are dropped (their sender sends them again later), the rest
	 * (pure ACKs, resets) go on to the sockets.  The last TSval is kept. */
	FAITHD_XL_HOLD = 1,
	/* Every segment is translated and sent on to the other peer. */
	FAITHD_XL_ACTIVE = 2,
};

/* `flags`, written by the program. */
#define FAITHD_XL_SEEN_FIN	0x1	/* ACTIVE: a FIN, ending at fin_end */
#define FAITHD_XL_SEEN_RST	0x2	/* ACTIVE: a reset at the receiver's ACK point */
#define FAITHD_XL_SEEN_TS	0x4	/* tsval, tsval_ns, tsval_seq/_ack are set */
#define FAITHD_XL_STRAY		0x8	/* ACTIVE: a segment the program cannot
					 * translate (IP options, fragments, IPv6
					 * extension headers) went on to the stack */
#define FAITHD_XL_SEEN		0x10	/* a segment came in: ifindex is set */
#define FAITHD_XL_FIN_ORDER	0x20	/* ACTIVE: the FIN came at the end of the
					 * data in order (resets count after it) */

struct faithd_xl_flow {
	/* Written by faithd. */
	struct faithd_xl_key peer;	/* the other direction's entry */
	__u32 owner;		/* the worker's process ID: its master cleans up */
	__u32 state;		/* enum faithd_xl_state */
	__u32 out_v4;		/* 1: sent on as IPv4, 0: as IPv6 */
	__u32 saddr[4];		/* the translated segment's addresses */
	__u32 daddr[4];
	__u16 sport;		/* ...and ports, network order */
	__u16 dport;
	__u8 win_in_shift;	/* the sender's window scale */
	__u8 win_out_shift;	/* the receiver's, for windows we send it */
	__u8 pad[2];
	__u32 out_ifindex;	/* sent out of this interface */
	__u32 seq_delta;	/* added to the sequence number */
	__u32 ack_delta;	/* added to the ACK number and SACK edges */
	__u32 tsval_delta;	/* added to TSval */
	__u32 tsecr_delta;	/* added to TSecr */
	/*
	 * Set by faithd at the hand-off, moved forward by the program only for
	 * segments the receivers would accept (RFC 793's window checks): a
	 * blind attacker would have to guess them as the peers' own.
	 */
	__u32 seq_end;		/* the end of the data sent on, sender's numbers,
				 * inside the window the receiver announced */
	__u32 nxt;		/* ...the end of it in order (what the receiver
				 * has next, or its ACK), where resets count */
	__u32 ack_last;		/* the highest ACK sent on (receiver's numbers),
				 * of data the receiver has sent */
	__u32 wnd_end;		/* the right edge of the window this sender
				 * announced, receiver's numbers: the receiver's
				 * data ends there at most */
	/* Written by the program. */
	__u32 fin_end;		/* ACTIVE: the sequence number after the FIN */
	__u32 flags;		/* FAITHD_XL_SEEN_* */
	__u32 ifindex;		/* where the segments come in (not ACTIVE) */
	__u32 tsval;		/* WATCH, HOLD: the last TSval seen (of a
				 * segment with an ACK, as the peers send) */
	__u32 tsval_seq;	/* ...its segment's sequence number */
	__u32 tsval_ack;	/* ...and ACK, which faithd checks against the
				 * frozen socket: a blind forger's TSval
				 * would poison the clocks */
	__u64 tsval_ns;		/* ...and when (CLOCK_MONOTONIC) */
	__u64 bytes;		/* ACTIVE: new payload bytes sent on (not again) */
	__u64 last_ns;		/* ACTIVE: the last segment */
};

#endif /* FAITHD_XLATE_MAPS_H */

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
	/* --translate-after syn: the program opened the IPv4 connection for
	 * the client's SYN and waits for the server's SYN-ACK (or reset). */
	FAITHD_XL_SYN = 3,
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
#define FAITHD_XL_FROM_SYN	0x40	/* opened by the program for a SYN
					 * (--translate-after syn): no sockets,
					 * the program ends it, faithd sweeps
					 * what stays idle */
#define FAITHD_XL_WSCALE	0x80	/* SYN state: the SYN offered window
					 * scaling (its shift in syn_wscale) */
#define FAITHD_XL_ENDED		0x100	/* FROM_SYN, the client's entry: the
					 * program is forgetting it */
#define FAITHD_XL_HALF		0x200	/* FROM_SYN, the client's entry: the
					 * server answered, the client has not
					 * acknowledged it yet (a half-open
					 * connection: in syn_pending) */

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
	__u8 syn_wscale;	/* SYN state: the client SYN's window scale */
	__u8 pad;
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
	__u64 tsval_ns;		/* ...and when (CLOCK_MONOTONIC); FROM_SYN:
				 * when the SYN came */
	__u64 bytes;		/* ACTIVE: new payload bytes sent on (not again) */
	__u64 last_ns;		/* ACTIVE: the last segment */
	/* FROM_SYN: the largest MSS the other peer may be told (its SYN or
	 * SYN-ACK's option lowered to it): what fits the router's link on the
	 * way back once translated; 0: as it is. */
	__u16 mss_max;
	__u8 pad2[6];
};

/*
 * --translate-after syn: what the program needs to open a connection for
 * faithd without asking it, filled by faithd.  Whatever the program cannot
 * decide the way faithd would (a rule that denies, a destination that is
 * not global, a prefix other than /96, no route) goes on to faithd's
 * sockets, which relay or refuse it as without this.
 */
#define FAITHD_XL_MAX_RULES	64

/* A faithd.conf rule, masks ready (network order). */
struct faithd_xl_rule {
	__u32 src[4];
	__u32 src_mask[4];
	__u32 dst;
	__u32 dst_mask;
	__u32 bind;		/* 0: the route's source address */
	__u8 permit;
	__u8 explicit_dst;	/* names its destinations (dst_len > 0) */
	__u8 pad[2];
};

/* `xl_classes` (IPv4 LPM trie): special-purpose destinations. */
struct faithd_xl_v4key {
	__u32 prefixlen;
	__u32 addr;
};

enum faithd_xl_class {
	FAITHD_XL_SPECIAL = 1,	/* not global: under 64:ff9b::/96, only by name */
	FAITHD_XL_FORBIDDEN = 2,	/* never relayed */
};

/* `xl_sources` (hash, client IPv6 address -> count): faithd -M, the
 * connections of each client address, the program's and faithd's
 * workers' together, as many addresses as faithd's own table holds. */
#define FAITHD_XL_MAX_SOURCES	(1 << 16)

struct faithd_xl_source {
	__u64 word;		/* a tag of the address << 32 | the count */
};

/* What faithd's workers and sweep ask the `faithd_limit` program (a
 * syscall program, run with BPF_PROG_TEST_RUN: its ctx). */
enum faithd_xl_limit_op {
	FAITHD_XL_LIMIT_ACQUIRE = 0,
	FAITHD_XL_LIMIT_RELEASE = 1,
};

enum faithd_xl_limit_result {
	FAITHD_XL_LIMIT_OK = 0,
	FAITHD_XL_LIMIT_SOURCE = 1,	/* the source is at -M */
	FAITHD_XL_LIMIT_FULL = 2,	/* no room for another source */
};

struct faithd_xl_limit_args {
	__u32 addr[4];		/* the client's address */
	__u32 op;		/* enum faithd_xl_limit_op */
};

/* What faithd's sweep asks the `faithd_forget` program (a syscall
 * program too): to delete a connection's entries as its snapshot of
 * them saw them, in the kernel, where no other CPU's delete and reopen
 * of the same ports can come between the look and the delete. */
enum faithd_xl_forget_op {
	/* A connection's both entries, key the client's: if it is still the
	 * one opened at tsval_ns, and the program is not ending it. */
	FAITHD_XL_FORGET_CONN = 0,
	/* A server's entry whose client's is gone: if it is still the one
	 * last seen at last_ns, with that peer, still gone. */
	FAITHD_XL_FORGET_ORPHAN = 1,
};

struct faithd_xl_forget_args {
	struct faithd_xl_key key;
	struct faithd_xl_key peer;	/* ORPHAN: its peer as seen (and gone) */
	__u64 tsval_ns;			/* CONN: when the SYN came */
	__u64 last_ns;			/* ORPHAN: its last segment */
	__u32 op;			/* enum faithd_xl_forget_op */
	__u32 ended;			/* CONN: ENDED in this snapshot and the last */
};

/* `xl_syn_stats`, per CPU: what became of the SYNs the program saw. */
struct faithd_xl_syn_stats {
	__u64 opened;		/* IPv4 connection opened for it */
	__u64 established;	/* ...and the server's SYN-ACK sent on */
	__u64 refused;		/* ...the server's reset sent on */
	__u64 closed;		/* both FINs acknowledged: entries gone */
	__u64 reset;		/* a reset sent on: entries gone */
	__u64 unreachable;	/* an ICMP error answered the SYN: passed on */
	__u64 to_faithd;	/* left to faithd's sockets (policy, no route) */
	__u64 no_port;		/* ...because no port was free */
	__u64 over_limit;	/* ...because of faithd's -m or -M */
};

/* `xl_events` (ring buffer): a connection opened for a SYN has ended,
 * for faithd's log. */
enum faithd_xl_end {
	FAITHD_XL_END_CLOSED = 0,	/* both FINs acknowledged */
	FAITHD_XL_END_RESET_CLIENT = 1,
	FAITHD_XL_END_RESET_SERVER = 2,
	FAITHD_XL_END_REFUSED = 3,	/* the server reset the SYN */
	FAITHD_XL_END_UNREACHABLE = 4,	/* an ICMPv4 Destination Unreachable
					 * answered it: its code in bits 8-15 */
};

struct faithd_xl_event {
	__u32 client[4];	/* the client's address and port */
	__u32 faith[4];		/* the address it connected to, and the port */
	__u16 cport;		/* network order */
	__u16 dport;
	__u32 dst4;		/* the server's IPv4 address */
	__u32 how;		/* enum faithd_xl_end */
	__u32 pad;
	__u64 to_server;	/* payload bytes each way */
	__u64 to_client;
	__u64 start_ns;		/* the SYN, and the end (CLOCK_MONOTONIC) */
	__u64 end_ns;
};

#define FAITHD_XL_EVENTS_SIZE	(256 * 1024)

#endif /* FAITHD_XLATE_MAPS_H */

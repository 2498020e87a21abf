// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of what guards a handed-off connection in faithd's
 * translating program (bpf/faithd_xlate.bpf.c), with BPF_PROG_TEST_RUN:
 *
 *   - the end of data, ACK point and window the program keeps for faithd
 *     move only as the receivers would accept (RFC 793): a blind attacker
 *     who knows the ports cannot move them, then match a reset or hide a
 *     FIN;
 *   - the check faithd makes, at the freeze, of the segment whose TSval
 *     the program kept (src/faithd/xlate_seq.h);
 *   - segments it cannot translate (IP options, fragments, IPv6 extension
 *     headers, BIG TCP) never reach the frozen socket, and are flagged for
 *     faithd only when the receiver could accept them;
 *   - while only one entry is ACTIVE (turned on or forgotten one after the
 *     other), its segments are held as before the hand-off;
 *   - only segments that move the end of data or the ACK point count as
 *     traffic for faithd's idle timeout;
 *   - a SYN is translated; a VLAN-tagged frame is left to the VLAN device.
 *
 *   make build/test_xlate_guard && build/test_xlate_guard
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "faithd/xlate_seq.h"
#include "testlib.h"
#include "vlan_push.skel.h"
#include "xlate_prog.h"

#define WRAP_HALF	0x80000000u

/* ---- what the program keeps for faithd ------------------------------------ */

/*
 * Steps from one peer or the other, each with the entry fields of both
 * after it.  From init_flows(): the client's data ends at 0xffffffc0 and
 * the server's window for it at 0xffc0; the server's data ends at 0x2000
 * and the client's window for it at 0x12000.  The server's ACK of client
 * byte X is X + 0x30000005 (the client entry's seq_delta) in its numbers.
 */
struct step {
	const char *what;
	struct seg s;
	uint32_t c_seq_end, c_nxt, c_ack_last, c_wnd_end;	/* the client's entry */
	uint32_t s_seq_end, s_ack_last, s_wnd_end;	/* the server's */
	uint32_t c_bytes;
	bool rst_seen;				/* in either entry */
};

#define C_INIT	0xffffffc0, 0xffffffc0, 0x2000, 0x12000
#define S_INIT	0x2000, 0xffffffc0, 0xffc0

static const struct step blind_steps[] = {
	/* The review's attack: one byte far ahead, a reset right after it,
	 * the same 2^31 further; one of the two pairs was always "ahead". */
	{ "1 byte at the end of data + 2^31",
	  { .flags = ACK | PSH, .seq = 0xffffffc0 + WRAP_HALF, .ack = 0x1234, .payload = 1 },
	  C_INIT, S_INIT, 0, false },
	{ "a reset right after it",
	  { .flags = RST, .seq = 0xffffffc1 + WRAP_HALF },
	  C_INIT, S_INIT, 0, false },
	{ "1 byte at the end of data + 2^31 + 2^30",
	  { .flags = ACK | PSH, .seq = 0xbfffffc0 + WRAP_HALF, .ack = 0x81234, .payload = 1 },
	  C_INIT, S_INIT, 0, false },
	{ "a reset right after it",
	  { .flags = RST, .seq = 0xbfffffc1 + WRAP_HALF },
	  C_INIT, S_INIT, 0, false },
	{ "1 byte one past the server's window edge (0xffc0)",
	  { .flags = ACK | PSH, .seq = 0xffc1, .ack = 0x10002000, .payload = 1 },
	  C_INIT, S_INIT, 0, false },
	{ "2 bytes at the edge (not a window probe)",
	  { .flags = ACK | PSH, .seq = 0xffc0, .ack = 0x10002000, .payload = 2 },
	  C_INIT, S_INIT, 0, false },
	{ "a FIN there",
	  { .flags = ACK | FIN, .seq = 0xffc2 },
	  C_INIT, S_INIT, 0, false },
	/* Receivers drop data without ACK: it would push seq_end for free. */
	{ "100 bytes without ACK inside the window",
	  { .flags = PSH, .seq = 0xffffffc0, .payload = 100 },
	  C_INIT, S_INIT, 0, false },
	/* An ACK of more than the client sent, from the server's side. */
	{ "the server ACKs 0x20000 client bytes it was never sent",
	  { .v4 = true, .flags = ACK, .seq = 0x2000, .ack = 0x30020005, .win = 100 },
	  C_INIT, S_INIT, 0, false },
	{ "a client reset at that point",
	  { .flags = RST, .seq = 0x20000 },
	  C_INIT, S_INIT, 0, false },
	/* Receivers drop data whose ACK is of bytes never sent, or more than
	 * a window old (RFC 5961 5.2): so does the count, and a FIN too. */
	{ "100 bytes in order, ACKing server bytes never sent",
	  { .flags = ACK | PSH, .seq = 0xffffffc0, .ack = 0x10012345, .payload = 100 },
	  C_INIT, S_INIT, 0, false },
	{ "100 bytes in order, ACK 2^31 old",
	  { .flags = ACK | PSH, .seq = 0xffffffc0, .ack = 0x90002000, .payload = 100 },
	  C_INIT, S_INIT, 0, false },
	{ "a FIN in order, ACKing server bytes never sent",
	  { .flags = ACK | FIN, .seq = 0xffffffc0, .ack = 0x10012345 },
	  C_INIT, S_INIT, 0, false },
};

/* The client's windows are scaled by 2^3; the server's are not. */
static const struct step real_steps[] = {
	{ "100 bytes inside the server's window",
	  { .flags = ACK | PSH, .seq = 0xffffffc0, .ack = 0x10002000, .payload = 100 },
	  0x24, 0x24, 0x2000, 0x12000, S_INIT, 100, false },
	{ "the server ACKs them, window 1000",
	  { .v4 = true, .flags = ACK, .seq = 0x2000, .ack = 0x30000029, .win = 1000 },
	  0x24, 0x24, 0x2000, 0x12000, 0x2000, 0x24, 0xffc0, 100, false },
	{ "an older ACK from the server, window 0xffff: nothing moves",
	  { .v4 = true, .flags = ACK, .seq = 0x2000, .ack = 0x30000005, .win = 0xffff },
	  0x24, 0x24, 0x2000, 0x12000, 0x2000, 0x24, 0xffc0, 100, false },
	/* 0xffff as the client sees it: 0x1fff << 3. */
	{ "the server's window opens: 0x24 + 0xfff8",
	  { .v4 = true, .flags = ACK, .seq = 0x2000, .ack = 0x30000029, .win = 0xffff },
	  0x24, 0x24, 0x2000, 0x12000, 0x2000, 0x24, 0x1001c, 100, false },
	{ "client data ending at the new edge, out of order: counts (the gap too), not in order",
	  { .flags = ACK | PSH, .seq = 0x1001c - 100, .ack = 0x10002000, .payload = 100 },
	  0x1001c, 0x24, 0x2000, 0x12000, 0x2000, 0x24, 0x1001c, 100 + 0xfff8, false },
	{ "a client reset where that data ends: not where resets count",
	  { .flags = RST, .seq = 0x1001c },
	  0x1001c, 0x24, 0x2000, 0x12000, 0x2000, 0x24, 0x1001c, 100 + 0xfff8, false },
	{ "two client bytes across the edge: not counted (one would be a window probe)",
	  { .flags = ACK | PSH, .seq = 0x1001b, .ack = 0x10002000, .payload = 2 },
	  0x1001c, 0x24, 0x2000, 0x12000, 0x2000, 0x24, 0x1001c, 100 + 0xfff8, false },
	{ "the server ACKs all of it (the gap came): the client's in-order end catches up",
	  { .v4 = true, .flags = ACK, .seq = 0x2000, .ack = 0x30010021, .win = 0xffff },
	  0x1001c, 0x1001c, 0x2000, 0x12000, 0x2000, 0x1001c, 0x20014, 100 + 0xfff8, false },
	{ "200 server bytes inside the client's window (0x12000)",
	  { .v4 = true, .flags = ACK | PSH, .seq = 0x2000, .ack = 0x30010021, .win = 0xffff,
	    .payload = 200 },
	  0x1001c, 0x1001c, 0x2000, 0x12000, 0x20c8, 0x1001c, 0x20014, 100 + 0xfff8, false },
	/* 0x4000 << 3 is more than the server's unscaled field takes. */
	{ "the client ACKs them, window 0x4000 << 3: 0xffff to the server",
	  { .flags = ACK, .seq = 0x1001c, .ack = 0x100020c8, .win = 0x4000 },
	  0x1001c, 0x1001c, 0x20c8, 0x120c7, 0x20c8, 0x1001c, 0x20014, 100 + 0xfff8, false },
	{ "the client's reset at its in-order end, the server's ACK point, ends it",
	  { .flags = RST, .seq = 0x1001c },
	  0x1001c, 0x1001c, 0x20c8, 0x120c7, 0x20c8, 0x1001c, 0x20014, 100 + 0xfff8, true },
};

static void run_steps(const char *name, const struct step *steps, size_t n, uint8_t c_wscale)
{
	struct faithd_xl_flow c = flow_c, s = flow_s;

	c.win_in_shift = c_wscale;
	c.win_out_shift = 0;
	s.win_out_shift = c_wscale;
	put_flow(&key_c, &c);
	put_flow(&key_s, &s);
	for (size_t i = 0; i < n; i++) {
		const struct step *st = &steps[i];
		struct faithd_xl_flow fc, fs;
		struct run r;

		send_seg(&st->s, IFINDEX_IN, &r);
		fc = get_flow(&key_c);
		fs = get_flow(&key_s);
		tl_check(r.ret == TC_ACT_REDIRECT, "%s, %s: translated and sent on (%d)", name,
			 st->what, r.ret);
		if (!tl_check(fc.seq_end == st->c_seq_end && fc.nxt == st->c_nxt &&
			      fc.ack_last == st->c_ack_last && fc.wnd_end == st->c_wnd_end &&
			      fc.bytes == st->c_bytes,
			      "%s, %s: client entry: end of data %#x (in order %#x), ACK %#x, "
			      "window edge %#x, %u bytes", name, st->what, st->c_seq_end,
			      st->c_nxt, st->c_ack_last, st->c_wnd_end, st->c_bytes))
			tl_diag("got %#x (%#x), %#x, %#x, %llu", fc.seq_end, fc.nxt, fc.ack_last,
				fc.wnd_end, (unsigned long long)fc.bytes);
		if (!tl_check(fs.seq_end == st->s_seq_end && fs.ack_last == st->s_ack_last &&
			      fs.wnd_end == st->s_wnd_end,
			      "%s, %s: server entry: end of data %#x, ACK %#x, window edge %#x",
			      name, st->what, st->s_seq_end, st->s_ack_last, st->s_wnd_end))
			tl_diag("got %#x, %#x, %#x", fs.seq_end, fs.ack_last, fs.wnd_end);
		tl_check(!!((fc.flags | fs.flags) & FAITHD_XL_SEEN_RST) == st->rst_seen &&
			 !((fc.flags | fs.flags) & FAITHD_XL_SEEN_FIN),
			 "%s, %s: %s, no FIN seen", name, st->what,
			 st->rst_seen ? "SEEN_RST" : "no reset seen");
	}
}

static void test_tracking(void)
{
	run_steps("blind attacker", blind_steps, ARRAY_SIZE(blind_steps), 0);
	run_steps("real peers", real_steps, ARRAY_SIZE(real_steps), 3);
}

/*
 * A FIN ahead of a lost segment: its sender repeats the segment, not the
 * SACKed FIN.  From init_flows(): the client's data ends at 0xffffffc0,
 * the server's window for it at 0xffc0.
 */
static void test_fin_ahead(void)
{
	struct seg fin = { .flags = ACK | FIN, .seq = 0x3c, .ack = 0x10002000, .payload = 100 };
	struct seg lost = { .flags = ACK | PSH, .seq = 0xffffffc0, .ack = 0x10002000,
			    .payload = 0x7c };
	/* The server's ACK of the FIN: 0xa1 + the client entry's seq_delta. */
	struct seg ack = { .v4 = true, .flags = ACK, .seq = 0x2000, .ack = 0x300000a6 };
	struct seg rst = { .flags = RST, .seq = 0xa1 };
	struct faithd_xl_flow c;
	struct run r;

	reset_flows();
	send_seg(&fin, IFINDEX_IN, &r);
	c = get_flow(&key_c);
	tl_check((c.flags & FAITHD_XL_SEEN_FIN) && !(c.flags & FAITHD_XL_FIN_ORDER) &&
		 c.fin_end == 0xa1 && c.nxt == 0xffffffc0,
		 "a FIN ahead of a lost segment: noted (fin_end 0xa1), not in order "
		 "(flags %#x, fin_end %#x)", c.flags, c.fin_end);
	send_seg(&rst, IFINDEX_IN, &r);
	tl_check(!(get_flow(&key_c).flags & FAITHD_XL_SEEN_RST),
		 "... a reset right after it does not count (a blind FIN's sender knows it)");
	send_seg(&lost, IFINDEX_IN, &r);
	send_seg(&ack, IFINDEX_IN, &r);
	c = get_flow(&key_c);
	tl_check(get_flow(&key_s).ack_last == 0xa1 && c.nxt == 0xa1,
		 "... the lost segment again, then the server's ACK of the FIN: taken "
		 "(ack_last %#x, the client's in-order end %#x): faithd sees it acknowledged",
		 get_flow(&key_s).ack_last, c.nxt);

	/* Outside the window, or without ACK: not noted. */
	reset_flows();
	fin.seq = 0x10000;
	send_seg(&fin, IFINDEX_IN, &r);
	tl_check(!(get_flow(&key_c).flags & FAITHD_XL_SEEN_FIN),
		 "a FIN past the receiver's window: not noted");
}

/*
 * A zero-window probe (BSD, Windows: one byte at the window's edge) that
 * the receiver takes, its window open meanwhile: its ACK of the byte
 * must be taken too, or the bookkeeping stops there for good.
 */
static void test_window_probe(void)
{
	struct seg probe = { .flags = ACK, .seq = 0xffc0, .ack = 0x10002000, .payload = 1 };
	/* The server's ACK of 0xffc1: + the client entry's seq_delta. */
	struct seg ack = { .v4 = true, .flags = ACK, .seq = 0x2000, .ack = 0x3000ffc6, .win = 100 };
	struct faithd_xl_flow c, sv;
	struct run r;

	reset_flows();
	send_seg(&probe, IFINDEX_IN, &r);
	c = get_flow(&key_c);
	tl_check(r.ret == TC_ACT_REDIRECT && c.seq_end == 0xffc1,
		 "a 1-byte window probe at the server's window edge (0xffc0): counted "
		 "(end of data %#x)", c.seq_end);
	send_seg(&ack, IFINDEX_IN, &r);
	sv = get_flow(&key_s);
	tl_check(sv.ack_last == 0xffc1 && sv.wnd_end == 0xffc1 + 100 && sv.last_ns,
		 "... the server's ACK of it, window 100: taken (ACK %#x, window edge %#x)",
		 sv.ack_last, sv.wnd_end);
}

/*
 * The review's case: the server filled the client's 256 KiB window (the
 * server sees it scaled by 2^3), the client ACKed all of it with window
 * 0; then the client's request comes, reordered behind those ACKs, with
 * an ACK 192 KiB old.  The server takes it (its largest window is 256
 * KiB): so must the count, or the server's ACK of it, past the client's
 * counted end, is refused, and everything after it.
 */
static void test_old_ack(void)
{
	static const struct {
		const char *what;
		uint32_t ack;		/* the server byte the client ACKs */
		bool counts;
	} cases[] = {
		{ "an ACK 192 KiB old (the largest window the server was offered: 256 KiB)",
		  0x12000, true },
		{ "an ACK 0x7fff8 old (65535 << 3, the most any window scaled so is)",
		  0x42000 - 0x7fff8, true },
		{ "an ACK one byte older than that", 0x42000 - 0x7fff9, false },
	};

	for (int i = 0; i < (int)ARRAY_SIZE(cases); i++) {
		struct faithd_xl_flow c = flow_c, sv = flow_s;
		/* Client bytes in its numbers; its ACK in the server's, less
		 * the client entry's ack_delta. */
		struct seg req = { .flags = ACK | PSH, .seq = 0xffffffc0,
				   .ack = cases[i].ack - flow_c.ack_delta, .payload = 100 };
		struct run r;

		c.win_out_shift = 3;
		c.ack_last = c.wnd_end = 0x42000;
		sv.seq_end = sv.nxt = 0x42000;
		put_flow(&key_c, &c);
		put_flow(&key_s, &sv);
		send_seg(&req, IFINDEX_IN, &r);
		c = get_flow(&key_c);
		tl_check(r.ret == TC_ACT_REDIRECT &&
			 (c.seq_end == 0x24 && c.bytes == 100) == cases[i].counts,
			 "client data with %s: %s (end of data %#x, %llu bytes)", cases[i].what,
			 cases[i].counts ? "counted, as the server takes it" : "not counted",
			 c.seq_end, (unsigned long long)c.bytes);
	}
}

/* ---- the kept TSval's segment, checked at the freeze ---------------------- */

static const struct {
	const char *what;
	uint32_t seq, ack;
	bool fits;
} ts_cases[] = {
	/* rcv_nxt 0x1000, snd_nxt 0xfffff000, windows 0x20000 and 0x8000 */
	{ "at rcv_nxt, ACK of everything", 0x1000, 0xfffff000, true },
	{ "a window behind, ACK 64 KiB behind", 0x1000 - 0x20000, 0xfffff000 - 0x10000, true },
	{ "a window ahead (data dropped while holding)", 0x21000, 0xfffff000, true },
	{ "one past a window ahead", 0x21001, 0xfffff000, false },
	{ "2^31 away", 0x80001000, 0xfffff000, false },
	{ "ACK past snd_nxt", 0x1000, 0xfffff001, false },
	{ "ACK more than 64 KiB behind", 0x1000, 0xfffff000 - 0x10001, false },
};

static void test_ts_segment(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(ts_cases); i++)
		tl_check(xl_ts_segment_fits(ts_cases[i].seq, ts_cases[i].ack, 0x1000, 0xfffff000,
					    0x20000, 0x8000) == ts_cases[i].fits,
			 "kept TSval's segment %s: %s", ts_cases[i].what,
			 ts_cases[i].fits ? "fits" : "refused (forged?)");
	tl_check(xl_ts_segment_fits(0x1000 + 65536, 0, 0x1000, 0, 0, 0) &&
		 !xl_ts_segment_fits(0x1000 + 65537, 0, 0x1000, 0, 0, 0),
		 "kept TSval's segment: windows count as 64 KiB at least");
}

/* ---- segments the program cannot translate -------------------------------- */

static void frame_insert(size_t off, const void *b, size_t n)
{
	memmove(frame.b + off + n, frame.b + off, frame.len - off);
	memcpy(frame.b + off, b, n);
	frame.len += n;
}

static void add16(size_t off, uint16_t n)
{
	put_be16(frame.b + off, get16(frame.b + off) + n);
}

static void ip4_options(void)
{
	frame_insert(ETH_HLEN + IP4_HLEN, "\x01\x01\x01\x00", 4);	/* NOP NOP NOP EOL */
	frame.b[ETH_HLEN] = 0x46;
	add16(ETH_HLEN + 2, 4);
}

static void ip4_first_fragment(void)
{
	put_be16(frame.b + ETH_HLEN + 6, 0x2000);	/* MF, offset 0 */
}

static void ip4_tot_len_0(void)
{
	put_be16(frame.b + ETH_HLEN + 2, 0);
}

static void ip6_dstopts(void)
{
	/* next header TCP, 8 bytes, PadN of 4 */
	frame_insert(ETH_HLEN + IP6_HLEN, "\x06\x00\x01\x04\x00\x00\x00\x00", 8);
	frame.b[ETH_HLEN + 6] = 60;
	add16(ETH_HLEN + 4, 8);
}

static void ip6_first_fragment(void)
{
	/* next header TCP, offset 0, more fragments */
	frame_insert(ETH_HLEN + IP6_HLEN, "\x06\x00\x00\x01\x00\x00\x12\x34", 8);
	frame.b[ETH_HLEN + 6] = 44;
	add16(ETH_HLEN + 4, 8);
}

static void ip6_payload_len_0(void)
{
	put_be16(frame.b + ETH_HLEN + 4, 0);
}

static const struct {
	const char *what;
	bool v4;
	void (*mangle)(void);
} strays[] = {
	{ "IPv4 with options", true, ip4_options },
	{ "an IPv4 first fragment", true, ip4_first_fragment },
	{ "IPv6 behind destination options", false, ip6_dstopts },
	{ "an IPv6 first fragment", false, ip6_first_fragment },
	{ "IPv6 payload length 0 (BIG TCP)", false, ip6_payload_len_0 },
};

/* A stray, s from its peer (seq set), with the entries in state. */
static void run_stray(int i, struct seg *s, uint32_t state, struct run *r)
{
	struct faithd_xl_flow c = flow_c, sv = flow_s;

	c.state = sv.state = state;
	put_flow(&key_c, &c);
	put_flow(&key_s, &sv);
	build_seg(s);
	strays[i].mangle();
	run_frame(IFINDEX_IN, r);
}

static void test_strays(void)
{
	for (int i = 0; i < (int)ARRAY_SIZE(strays); i++) {
		const char *what = strays[i].what;
		const struct faithd_xl_key *k = strays[i].v4 ? &key_s : &key_c;
		const struct faithd_xl_flow *base = strays[i].v4 ? &flow_s : &flow_c;
		struct seg s = { .v4 = strays[i].v4, .flags = ACK | PSH, .seq = base->seq_end,
				 .ack = 0x1000, .win = 100, .payload = 100 };
		struct faithd_xl_flow f;
		struct run r;

		run_stray(i, &s, FAITHD_XL_ACTIVE, &r);
		f = get_flow(k);
		tl_check(!r.err && r.ret == TC_ACT_SHOT && (f.flags & FAITHD_XL_STRAY) &&
			 f.seq_end == base->seq_end && !f.last_ns,
			 "ACTIVE: %s at the receiver's ACK point: dropped, flagged STRAY for "
			 "faithd, nothing counted (%d, flags %#x)", what, r.ret, f.flags);

		s.seq += WRAP_HALF;	/* a blind forger's */
		run_stray(i, &s, FAITHD_XL_ACTIVE, &r);
		f = get_flow(k);
		tl_check(!r.err && r.ret == TC_ACT_SHOT && !(f.flags & FAITHD_XL_STRAY),
			 "ACTIVE: %s 2^31 away: dropped, not flagged (%d, flags %#x)", what,
			 r.ret, f.flags);

		run_stray(i, &s, FAITHD_XL_HOLD, &r);
		f = get_flow(k);
		tl_check(r.ret == TCX_NEXT && intact(&r) && !(f.flags & FAITHD_XL_STRAY),
			 "HOLD: %s: the socket's, untouched (%d)", what, r.ret);
	}
}

/* Later fragments have no ports: the first one decides. */
static void test_later_fragments(void)
{
	struct seg s = { .v4 = true, .flags = ACK, .seq = 0x2000, .ack = 0x1000, .payload = 8 };
	struct run r;

	reset_flows();
	build_seg(&s);
	put_be16(frame.b + ETH_HLEN + 6, 0x0010);	/* offset 128 bytes */
	run_frame(IFINDEX_IN, &r);
	tl_check(r.ret == TCX_NEXT && intact(&r) && !(get_flow(&key_s).flags & FAITHD_XL_STRAY),
		 "an IPv4 later fragment: goes on untouched (%d)", r.ret);

	/* A first fragment with 4 bytes of TCP (RFC 1858): its ports and
	 * sequence number would come in the next, reassembled for the socket. */
	build_seg(&s);
	put_be16(frame.b + ETH_HLEN + 6, 0x2000);	/* MF, offset 0 */
	put_be16(frame.b + ETH_HLEN + 2, IP4_HLEN + 4);
	frame.len = ETH_HLEN + IP4_HLEN + 4;
	run_frame(IFINDEX_IN, &r);
	tl_check(r.ret == TC_ACT_SHOT, "a tiny IPv4 first fragment (4 bytes of TCP): dropped, "
		 "the socket never gets it reassembled (%d)", r.ret);

	s.v4 = false;
	build_seg(&s);
	frame_insert(ETH_HLEN + IP6_HLEN, "\x06\x00\x00\x10\x00\x00\x12\x34", 8);
	frame.b[ETH_HLEN + 6] = 44;
	add16(ETH_HLEN + 4, 8);
	run_frame(IFINDEX_IN, &r);
	tl_check(r.ret == TCX_NEXT && intact(&r) && !(get_flow(&key_c).flags & FAITHD_XL_STRAY),
		 "an IPv6 later fragment: goes on untouched (%d)", r.ret);
}

/* Malformed: the stack drops them; nothing to flag. */
static void test_malformed(void)
{
	struct seg s = { .v4 = true, .flags = ACK, .seq = 0x2000, .ack = 0x1000, .pad = 20 };
	struct run r;

	reset_flows();
	build_seg(&s);
	put_be16(frame.b + ETH_HLEN + 2, IP4_HLEN);	/* no room for TCP */
	run_frame(IFINDEX_IN, &r);
	tl_check(r.ret == TCX_NEXT && intact(&r) && !(get_flow(&key_s).flags & FAITHD_XL_STRAY),
		 "IPv4 length 20 (no TCP header), at a plausible seq: goes on untouched, "
		 "not flagged (%d)", r.ret);
	build_seg(&s);
	ip4_tot_len_0();
	run_frame(IFINDEX_IN, &r);
	tl_check(r.ret == TCX_NEXT && intact(&r) && !(get_flow(&key_s).flags & FAITHD_XL_STRAY),
		 "IPv4 length 0 in a short frame (not BIG TCP, which is over 64 KiB): "
		 "goes on untouched, not flagged (%d)", r.ret);
}

/*
 * faithd turns the entries on, and forgets them, one after the other: an
 * ACTIVE entry whose peer is not ACTIVE (or gone) is held as in HOLD, so
 * that no byte crosses uncounted (or into a socket about to be reset).
 */
static void test_one_side_active(void)
{
	static const struct {
		const char *what;
		struct seg s;
		int ret;
	} segs[] = {
		{ "100 bytes of data: dropped (its sender repeats them)",
		  { .flags = ACK | PSH, .seq = 0xffffffc0, .ack = 0x10002000, .payload = 100 },
		  TC_ACT_SHOT },
		{ "a FIN: dropped", { .flags = ACK | FIN, .seq = 0xffffffc0, .ack = 0x10002000 },
		  TC_ACT_SHOT },
		{ "a pure ACK: the socket's, untouched",
		  { .flags = ACK, .seq = 0xffffffc0, .ack = 0x10002000, .win = 100 }, TCX_NEXT },
	};
	struct faithd_xl_flow sv = flow_s;
	struct run r;

	for (int gone = 0; gone < 2; gone++) {
		const char *peer = gone ? "the server's entry gone" : "the server's still HOLD";

		for (int i = 0; i < (int)ARRAY_SIZE(segs); i++) {
			struct faithd_xl_flow c;

			reset_flows();
			sv.state = FAITHD_XL_HOLD;
			if (gone)
				bpf_map__delete_elem(skel->maps.flows, &key_s, sizeof(key_s), 0);
			else
				put_flow(&key_s, &sv);
			send_seg(&segs[i].s, IFINDEX_IN, &r);
			c = get_flow(&key_c);
			tl_check(!r.err && r.ret == segs[i].ret &&
				 (r.ret != TCX_NEXT || intact(&r)) && !c.bytes && !c.last_ns &&
				 c.seq_end == flow_c.seq_end && c.nxt == flow_c.nxt,
				 "client ACTIVE, %s: %s; nothing counted (%d, %llu bytes)", peer,
				 segs[i].what, r.ret, (unsigned long long)c.bytes);
		}
	}
	reset_flows();
	send_seg(&segs[0].s, IFINDEX_IN, &r);
	tl_check(r.ret == TC_ACT_REDIRECT && get_flow(&key_c).bytes == 100,
		 "both ACTIVE: the same data translated and counted (%d)", r.ret);
}

/*
 * faithd's idle timeout and linger count only segments that move the end
 * of data or the ACK point: a blind forger's segments (and the duplicate
 * ACKs they draw from the peers) do not keep a connection alive.
 */
static void test_last_ns(void)
{
	static const struct {
		const char *what;
		struct seg s;
		bool moves;
	} segs[] = {
		{ "a forged ACK, random numbers",
		  { .flags = ACK, .seq = 0x5a5a5a5a, .ack = 0x12345678, .win = 100 }, false },
		{ "forged data, random numbers",
		  { .flags = ACK | PSH, .seq = 0x5a5a5a5a, .ack = 0x12345678, .payload = 10 },
		  false },
		{ "the client's duplicate ACK (at its end of data and ACK point)",
		  { .flags = ACK, .seq = 0xffffffc0, .ack = 0x10002000, .win = 100 }, false },
		{ "the client's 10 new bytes",
		  { .flags = ACK | PSH, .seq = 0xffffffc0, .ack = 0x10002000, .payload = 10 },
		  true },
		{ "the server's 10 new bytes (ACKing all the client sent)",
		  { .v4 = true, .flags = ACK | PSH, .seq = 0x2000, .ack = 0x2fffffc5, .win = 100,
		    .payload = 10 }, true },
	};

	for (int i = 0; i < (int)ARRAY_SIZE(segs); i++) {
		const struct faithd_xl_key *k = segs[i].s.v4 ? &key_s : &key_c;
		struct run r;
		uint64_t last;

		reset_flows();
		send_seg(&segs[i].s, IFINDEX_IN, &r);
		last = get_flow(k).last_ns;
		tl_check(r.ret == TC_ACT_REDIRECT && !!last == segs[i].moves,
			 "%s: translated; %s (%d)", segs[i].what,
			 segs[i].moves ? "counts as traffic (last_ns set)" :
					 "not traffic for faithd (last_ns stays 0)", r.ret);
	}
}

/* ---- SYN, VLAN ------------------------------------------------------------ */

static void test_syn(void)
{
	struct seg s = { .flags = SYN, .seq = 0x5555, .win = 100 };
	struct run r;

	reset_flows();
	send_seg(&s, IFINDEX_IN, &r);
	tl_check(r.ret == TC_ACT_REDIRECT && r.out[ETH_HLEN + IP4_HLEN + 13] == SYN &&
		 get32(r.out + ETH_HLEN + IP4_HLEN + 4) == 0x5555 + flow_c.seq_delta,
		 "a SYN on a handed-off connection's ports: translated to the server, not "
		 "left to the frozen socket (%d)", r.ret);
}

/* Run frame through the VLAN helper, tagged with tci. */
static void run_tagged(struct vlan_push_bpf *vp, __u16 tci, struct run *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.b, .data_size_in = frame.len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .repeat = 1);

	vp->data->tci = tci;
	r->err = bpf_prog_test_run_opts(bpf_program__fd(vp->progs.vlan_push), &opts);
	r->ret = (int)opts.retval;
	r->len = opts.data_size_out;
}

static void test_vlan(void)
{
	struct seg s = { .flags = ACK | PSH, .seq = 0xffffffc0, .ack = 0x10002000, .win = 100,
			 .payload = 10 };
	struct vlan_push_bpf *vp = vlan_push_bpf__open_and_load();
	int prog = vp ? bpf_program__fd(skel->progs.faithd_xlate) : -1;
	__u32 zero = 0;
	struct run r;

	if (!tl_check(vp && !bpf_map__update_elem(vp->maps.next, &zero, sizeof(zero), &prog,
						  sizeof(prog), BPF_ANY),
		      "the VLAN helper loads and chains to faithd_xlate"))
		goto out;
	reset_flows();
	build_seg(&s);
	run_tagged(vp, 7, &r);
	tl_check(!r.err && r.ret == TCX_NEXT && intact(&r) && !get_flow(&key_c).last_ns,
		 "a frame tagged VLAN 7 at the parent interface: left to the VLAN device's "
		 "link, untouched (%d)", r.ret);
	run_frame(IFINDEX_IN, &r);
	tl_check(r.ret == TC_ACT_REDIRECT, "the same frame untagged: translated (%d)", r.ret);
	reset_flows();
	run_tagged(vp, 5 << 13, &r);	/* priority 5, VLAN 0 */
	tl_check(!r.err && r.ret == TC_ACT_REDIRECT && get_flow(&key_c).last_ns,
		 "a priority-tagged frame (VLAN 0, which the stack takes as untagged): "
		 "translated (%d)", r.ret);
out:
	vlan_push_bpf__destroy(vp);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		tl_skip("test_xlate_guard: needs root (BPF_PROG_TEST_RUN)");
		return tl_report();
	}
	if (!tl_check(xlate_prog_load(), "faithd_xlate loads"))
		return tl_report();
	test_tracking();
	test_fin_ahead();
	test_window_probe();
	test_old_ack();
	test_ts_segment();
	test_strays();
	test_later_fragments();
	test_malformed();
	test_one_side_active();
	test_last_ns();
	test_syn();
	test_vlan();
	xlate_prog_unload();
	return tl_report();
}

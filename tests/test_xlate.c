// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of faithd's translating TC program (bpf/faithd_xlate.bpf.c)
 * with BPF_PROG_TEST_RUN: crafted Ethernet frames and entries of the test's
 * own in `flows`; the rewritten frame (data_out) checked field by field,
 * checksums recomputed here, and byte for byte against the segment built
 * from the expected values; the entries read back for what the program
 * records.  Nothing is attached or pinned.  Needs root (else a skip line).
 *
 *   make build/test_xlate && build/test_xlate
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "testlib.h"
#include "xlate_prog.h"

/* ---- ACTIVE: the rewritten segment ---------------------------------------- */

struct xcase {
	const char *name;
	uint8_t win_in, win_out;	/* the entry's window scales */
	struct seg in, out;		/* out: the translated segment */
	uint32_t in_len;		/* bytes of the frame in */
	uint16_t l3_len;		/* out: IPv4 tot_len, IPv6 payload_len */
	uint32_t frame_len;		/* out: bytes in data_out */
};

static const struct xcase xcases[] = {
	{ .name = "server TS + 100 bytes -> IPv6", .win_in = 7, .win_out = 10,
	  .in = { .v4 = true, .tos = 0xb8, .flags = ACK | PSH, .seq = 0xfffffff0, .ack = 0x1000,
		  .win = 100, .ts = true, .tsval = 5000, .tsecr = 7000, .payload = 100 },
	  .out = { .tos = 0xb8, .flags = ACK | PSH, .seq = 0x0ffffff0, .ack = 0xd0000ffb,
		   .win = 12, .ts = true, .tsval = 6000, .tsecr = 5000, .payload = 100 },
	  .in_len = 166, .l3_len = 132, .frame_len = 186 },
	/* Lengths from the IP header; the padding stays at the frame's end. */
	{ .name = "server 40-byte ACK in a padded 60-byte frame -> IPv6",
	  .in = { .v4 = true, .flags = ACK, .seq = 0x2000, .ack = 0x3000, .win = 512, .pad = 6 },
	  .out = { .flags = ACK, .seq = 0x10002000, .ack = 0xd0002ffb, .win = 512, .pad = 6 },
	  .in_len = 60, .l3_len = 20, .frame_len = 80 },
	{ .name = "client TS + 2 SACK blocks + 30 bytes -> IPv4", .win_in = 7, .win_out = 7,
	  .in = { .tos = 0x28, .flags = ACK | PSH, .seq = 0x1000, .ack = 0x2000, .win = 1000,
		  .ts = true, .tsval = 9000, .tsecr = 6000, .payload = 30, .nsack = 2,
		  .sack = { 0x0fffff00, 0x10000100, 0x10000200, 0x10000300 } },
	  .out = { .v4 = true, .tos = 0x28, .flags = ACK | PSH, .seq = 0x30001005,
		   .ack = 0xf0002000, .win = 1000, .ts = true, .tsval = 11000, .tsecr = 5000,
		   .payload = 30, .nsack = 2,
		   .sack = { 0xffffff00, 0x00000100, 0x00000200, 0x00000300 } },
	  .in_len = 136, .l3_len = 102, .frame_len = 116 },
	/* Unclamped, 0x1234 << 14 would be cut to 0. */
	{ .name = "client window 0x1234, scales 14 -> 0: clamped; TSecr 0 kept",
	  .win_in = 14, .win_out = 0,
	  .in = { .flags = ACK, .seq = 0x100, .ack = 0x200, .win = 0x1234, .ts = true,
		  .tsval = 1, .tsecr = 0 },
	  .out = { .v4 = true, .flags = ACK, .seq = 0x30000105, .ack = 0xf0000200,
		   .win = 0xffff, .ts = true, .tsval = 2001, .tsecr = 0 },
	  .in_len = 86, .l3_len = 52, .frame_len = 66 },
	/* 5 << 7 >> 10 is 0: an open window must not be announced closed. */
	{ .name = "server window 5, scales 7 -> 10: stays open (1)", .win_in = 7, .win_out = 10,
	  .in = { .v4 = true, .flags = ACK, .seq = 0, .ack = 0, .win = 5 },
	  .out = { .flags = ACK, .seq = 0x10000000, .ack = 0xcffffffb, .win = 1 },
	  .in_len = 54, .l3_len = 20, .frame_len = 74 },
	{ .name = "server window 0xffff, scales 0 -> 14", .win_in = 0, .win_out = 14,
	  .in = { .v4 = true, .flags = ACK, .seq = 0, .ack = 0, .win = 0xffff },
	  .out = { .flags = ACK, .seq = 0x10000000, .ack = 0xcffffffb, .win = 3 },
	  .in_len = 54, .l3_len = 20, .frame_len = 74 },
};

static void check_ip(const struct xcase *c, const struct faithd_xl_flow *f,
		     const uint8_t *ip)
{
	if (c->out.v4) {
		tl_check_eq(ip[0], 0x45, "%s: IPv4 version 4, ihl 5", c->name);
		tl_check_eq(ip[1], c->out.tos, "%s: TOS from the traffic class", c->name);
		tl_check_eq(get16(ip + 2), c->l3_len, "%s: tot_len", c->name);
		tl_check_eq(get16(ip + 6), 0x4000, "%s: DF, not a fragment", c->name);
		tl_check_eq(ip[8], OUT_TTL, "%s: TTL 64", c->name);
		tl_check_eq(ip[9], IPPROTO_TCP, "%s: protocol TCP", c->name);
		tl_check(fold(sum16(0, ip, IP4_HLEN)) == 0xffff,
			 "%s: IPv4 header checksum valid", c->name);
		tl_check(!memcmp(ip + 12, &f->saddr[3], 4) && !memcmp(ip + 16, &f->daddr[3], 4),
			 "%s: addresses from the entry", c->name);
	} else {
		tl_check_eq(ip[0] >> 4, 6, "%s: IPv6 version 6", c->name);
		tl_check_eq((get16(ip) >> 4) & 0xff, c->out.tos,
			    "%s: traffic class from the TOS", c->name);
		tl_check_eq(get16(ip + 4), c->l3_len, "%s: payload_len", c->name);
		tl_check_eq(ip[6], IPPROTO_TCP, "%s: next header TCP", c->name);
		tl_check_eq(ip[7], OUT_TTL, "%s: hop limit 64", c->name);
		tl_check(!memcmp(ip + 8, f->saddr, 16) && !memcmp(ip + 24, f->daddr, 16),
			 "%s: addresses from the entry", c->name);
	}
}

static void check_tcp(const struct xcase *c, const struct faithd_xl_flow *f,
		      const uint8_t *th)
{
	const uint8_t *o = th + TCP_HLEN;

	tl_check(get16(th) == ntohs(f->sport) && get16(th + 2) == ntohs(f->dport),
		 "%s: ports from the entry (%u -> %u)", c->name, get16(th), get16(th + 2));
	tl_check_eq(get32(th + 4), c->out.seq, "%s: seq shifted", c->name);
	tl_check_eq(get32(th + 8), c->out.ack, "%s: ack shifted", c->name);
	tl_check_eq(get16(th + 14), c->out.win, "%s: window rescaled (%u -> %u)",
		    c->name, c->win_in, c->win_out);
	if (c->out.ts) {
		tl_check_eq(get32(o + 4), c->out.tsval, "%s: TSval shifted", c->name);
		tl_check_eq(get32(o + 8), c->out.tsecr, "%s: TSecr %s", c->name,
			    c->out.tsecr ? "shifted" : "0 stays 0");
		o += 12;
	}
	for (int e = 0; e < 2 * c->out.nsack; e++)
		tl_check_eq(get32(o + 4 + 4 * e), c->out.sack[e],
			    "%s: SACK edge %d shifted by ack_delta", c->name, e);
}

static void test_translate(const struct xcase *c)
{
	const struct faithd_xl_key *k = c->in.v4 ? &key_s : &key_c;
	struct faithd_xl_flow f = c->in.v4 ? flow_s : flow_c;
	struct pkt want;
	struct run r;
	const uint8_t *ip = r.out + ETH_HLEN;
	size_t i;

	f.win_in_shift = c->win_in;
	f.win_out_shift = c->win_out;
	reset_flows();		/* the peer's entry ACTIVE too */
	put_flow(k, &f);
	send_seg(&c->in, IFINDEX_IN, &r);
	if (!tl_check(!r.err, "%s: runs", c->name))
		return;
	tl_check_eq(r.ret, TC_ACT_REDIRECT, "%s: redirected", c->name);
	tl_check_eq(frame.len, c->in_len, "%s: %u-byte frame in", c->name, c->in_len);
	tl_check_eq(r.len, c->frame_len, "%s: frame length out", c->name);
	tl_check_eq(get16(r.out + 12), c->out.v4 ? ETH_P_IP : ETH_P_IPV6,
		    "%s: EtherType", c->name);
	check_ip(c, &f, ip);
	check_tcp(c, &f, ip + (c->out.v4 ? IP4_HLEN : IP6_HLEN));
	tl_check(tcp_csum_ok(r.out, r.len, c->out.v4),
		 "%s: TCP checksum valid (%s pseudo header)", c->name,
		 c->out.v4 ? "IPv4" : "IPv6");

	build(&want, &c->out, f.saddr, f.daddr, f.sport, f.dport, true);
	for (i = 0; i < want.len && i < r.len && want.b[i] == r.out[i]; i++)
		;
	if (!tl_check(r.len == want.len && i == want.len,
		      "%s: the frame is the expected segment, byte for byte", c->name))
		tl_diag("%u bytes, want %zu; first difference at %zu", r.len, want.len, i);
}

/* ---- WATCH, HOLD ---------------------------------------------------------- */

static void test_watch(void)
{
	struct seg s = { .flags = ACK, .seq = 0x1000, .ack = 0x2000, .win = 100,
			 .ts = true, .tsval = 0x12345678, .tsecr = 1 };
	struct faithd_xl_flow f = flow_c;
	struct run r;

	f.state = FAITHD_XL_WATCH;
	put_flow(&key_c, &f);
	send_seg(&s, 5, &r);
	tl_check(r.ret == TCX_NEXT && intact(&r), "WATCH: a segment goes on untouched (%d)",
		 r.ret);
	f = get_flow(&key_c);
	tl_check_eq(f.flags, FAITHD_XL_SEEN | FAITHD_XL_SEEN_TS,
		    "WATCH: flags SEEN and SEEN_TS, nothing else");
	tl_check_eq(f.ifindex, 5, "WATCH: the ingress ifindex recorded");
	tl_check(f.tsval == 0x12345678 && f.tsval_ns, "WATCH: TSval recorded, and when (%#x)",
		 f.tsval);

	s.ts = false;
	s.payload = 10;
	send_seg(&s, 6, &r);
	tl_check(r.ret == TCX_NEXT && intact(&r), "WATCH: data without timestamps goes on");
	f = get_flow(&key_c);
	tl_check(f.ifindex == 6 && f.tsval == 0x12345678,
		 "WATCH: ifindex follows, TSval kept without the option (%u, %#x)",
		 f.ifindex, f.tsval);
}

static const struct {
	const char *what;
	uint8_t flags;
	uint16_t payload;
	int ret;			/* TC_ACT_SHOT: dropped */
} hold_cases[] = {
	{ "data", ACK | PSH, 100, TC_ACT_SHOT },
	{ "a FIN", ACK | FIN, 0, TC_ACT_SHOT },
	{ "a SYN", SYN, 0, TC_ACT_SHOT },
	{ "a pure ACK", ACK, 0, TCX_NEXT },
	{ "a reset", RST | ACK, 0, TCX_NEXT },
};

static void test_hold(void)
{
	struct faithd_xl_flow f = flow_s;
	struct run r;

	f.state = FAITHD_XL_HOLD;
	put_flow(&key_s, &f);
	for (size_t i = 0; i < ARRAY_SIZE(hold_cases); i++) {
		struct seg s = { .v4 = true, .flags = hold_cases[i].flags, .seq = 0x3000,
				 .ack = 0x4000, .win = 100, .ts = true, .tsval = 100 + i,
				 .tsecr = 1, .payload = hold_cases[i].payload };
		const char *what = hold_cases[i].what;

		send_seg(&s, IFINDEX_IN, &r);
		tl_check(r.ret == hold_cases[i].ret && intact(&r), "HOLD: %s: %s, untouched (%d)",
			 what, hold_cases[i].ret == TC_ACT_SHOT ? "dropped" : "goes on", r.ret);
		f = get_flow(&key_s);
		if (s.flags & ACK)
			tl_check(f.tsval == 100 + i && f.tsval_seq == 0x3000 &&
				 f.tsval_ack == 0x4000 && (f.flags & FAITHD_XL_SEEN_TS) &&
				 !f.bytes, "HOLD: %s: TSval recorded, with its seq and ACK (%u)",
				 what, f.tsval);
		else	/* peers send none such once connected: a forger's */
			tl_check(f.tsval == 100 + i - 1,
				 "HOLD: %s without ACK: TSval not recorded (%u)", what, f.tsval);
	}
}

/* ---- ACTIVE: resets, FINs, bytes ------------------------------------------ */

static void test_rst(void)
{
	struct seg rst = { .flags = RST | ACK, .seq = 0x6000, .ack = 0x2000 };
	/* The server acknowledges what the client's 0x6000 becomes. */
	struct seg ack = { .v4 = true, .flags = ACK, .seq = 0x2000, .ack = 0x30006005,
			   .win = 100 };
	struct faithd_xl_flow f;
	struct run r;

	/* The client's data has gone on to 0x6000, out of order: resets do
	 * not count there until the server acknowledges it. */
	reset_flows();
	f = flow_c;
	f.seq_end = 0x6000;
	put_flow(&key_c, &f);
	send_seg(&rst, IFINDEX_IN, &r);
	tl_check(r.ret == TC_ACT_REDIRECT && r.len == frame.len - IP6_HLEN + IP4_HLEN &&
		 get32(r.out + ETH_HLEN + IP4_HLEN + 4) == 0x30006005 &&
		 r.out[ETH_HLEN + IP4_HLEN + 13] == (RST | ACK),
		 "RST at the wrong seq: translated and sent on all the same");
	f = get_flow(&key_c);
	tl_check(!(f.flags & FAITHD_XL_SEEN_RST),
		 "RST at 0x6000, the peer's ack_last %#x: not SEEN_RST (flags %#x)",
		 get_flow(&key_s).ack_last, f.flags);

	send_seg(&ack, IFINDEX_IN, &r);
	tl_check_eq(get_flow(&key_s).ack_last, 0x6000,
		    "the server's ACK of it: its entry's ack_last 0x6000");
	/* The same, but the peer is not ACTIVE: its ack_last does not count. */
	f = get_flow(&key_s);
	f.state = FAITHD_XL_HOLD;
	put_flow(&key_s, &f);
	send_seg(&rst, IFINDEX_IN, &r);
	tl_check(!(get_flow(&key_c).flags & FAITHD_XL_SEEN_RST),
		 "RST at the ack_last of a peer not ACTIVE: not SEEN_RST");
	f.state = FAITHD_XL_ACTIVE;
	put_flow(&key_s, &f);

	send_seg(&rst, IFINDEX_IN, &r);
	f = get_flow(&key_c);
	tl_check(r.ret == TC_ACT_REDIRECT && (f.flags & FAITHD_XL_SEEN_RST) &&
		 !(f.flags & FAITHD_XL_SEEN_FIN),
		 "RST at the peer's ack_last: SEEN_RST (flags %#x)", f.flags);

	/* Right after its data, before the peer's ACK of it: at the end of
	 * the sender's data (the entry's seq_end). */
	reset_flows();
	rst.seq = flow_c.seq_end;
	send_seg(&rst, IFINDEX_IN, &r);
	f = get_flow(&key_c);
	tl_check(r.ret == TC_ACT_REDIRECT && (f.flags & FAITHD_XL_SEEN_RST),
		 "RST at the end of the sender's data (%#x), not yet acknowledged: SEEN_RST "
		 "(flags %#x)", rst.seq, f.flags);
	reset_flows();
	rst.seq = flow_c.seq_end + 1;
	send_seg(&rst, IFINDEX_IN, &r);
	tl_check(!(get_flow(&key_c).flags & FAITHD_XL_SEEN_RST),
		 "RST one past the sender's data, no FIN: not SEEN_RST");
}

static const struct {
	const char *what;
	uint8_t flags;
	uint32_t seq;
	uint16_t payload;
	uint32_t seq_end, bytes, fin_end;	/* after it */
} fin_steps[] = {
	/* flow_c.seq_end is 0xffffffc0: across the wrap. */
	{ "100 new bytes", ACK | PSH, 0xffffffc0, 100, 0x24, 100, 0 },
	{ "the same again", ACK | PSH, 0xffffffc0, 100, 0x24, 100, 0 },
	{ "50 old, 50 new", ACK | PSH, 0xfffffff2, 100, 0x56, 150, 0 },
	{ "10 new bytes and a FIN", ACK | FIN, 0x56, 10, 0x60, 160, 0x61 },
	{ "the FIN again", ACK | FIN, 0x56, 10, 0x60, 160, 0x61 },
};

static void test_fin(void)
{
	struct run r;

	reset_flows();
	for (size_t i = 0; i < ARRAY_SIZE(fin_steps); i++) {
		struct seg s = { .flags = fin_steps[i].flags, .seq = fin_steps[i].seq,
				 .ack = 0x10002000, .win = 100, .payload = fin_steps[i].payload };
		const char *what = fin_steps[i].what;
		const uint8_t *th = r.out + ETH_HLEN + IP4_HLEN;
		struct faithd_xl_flow f;
		bool fin = fin_steps[i].flags & FIN;

		send_seg(&s, IFINDEX_IN, &r);
		f = get_flow(&key_c);
		tl_check(r.ret == TC_ACT_REDIRECT && th[13] == fin_steps[i].flags &&
			 get32(th + 4) == fin_steps[i].seq + flow_c.seq_delta && f.last_ns,
			 "ACTIVE, %s: sent on, flags and seq translated, last_ns set", what);
		tl_check(f.seq_end == fin_steps[i].seq_end && f.bytes == fin_steps[i].bytes,
			 "ACTIVE, %s: seq_end %#x, %u bytes (got %#x, %llu)", what,
			 fin_steps[i].seq_end, fin_steps[i].bytes, f.seq_end,
			 (unsigned long long)f.bytes);
		tl_check(f.fin_end == fin_steps[i].fin_end &&
			 !!(f.flags & FAITHD_XL_SEEN_FIN) == fin &&
			 !(f.flags & FAITHD_XL_SEEN_RST),
			 "ACTIVE, %s: %s (fin_end %#x, flags %#x)", what,
			 fin ? "SEEN_FIN, fin_end = seq + payload + 1" : "no FIN seen",
			 f.fin_end, f.flags);
	}
}

/* ---- ICMPv6 Packet Too Big -> ICMPv4 fragmentation needed ---------------- */

static void run_ptb(uint8_t type, const char *dst, uint16_t dport, uint32_t seq, uint32_t mtu,
		    struct run *r)
{
	build_ptb(&frame, type, dst, dport, seq, mtu);
	run_frame(IFINDEX_IN, r);
}

static void test_ptb(void)
{
	const uint8_t *ip = NULL, *icmp, *qip, *qtcp;
	struct run r;

	reset_flows();
	run_ptb(2, CLIENT6, CPORT, 0x12345678, 1400, &r);
	tl_check_eq(r.ret, TC_ACT_REDIRECT, "PTB about a handed-off connection: sent on");
	tl_check_eq(r.len, ETH_HLEN + 56, "... as a 70-byte frame: IPv4, ICMP, IPv4, 8 bytes of TCP");
	if (r.len < ETH_HLEN + 56)
		return;
	ip = r.out + ETH_HLEN;
	icmp = ip + IP4_HLEN;
	qip = icmp + 8;
	qtcp = qip + IP4_HLEN;
	tl_check_eq(get16(r.out + 12), ETH_P_IP, "... EtherType IPv4");
	tl_check(ip[0] == 0x45 && get16(ip + 2) == 56 && ip[9] == IPPROTO_ICMP &&
		 get32(ip + 12) == ROUTER4 && get32(ip + 16) == SERVER4,
		 "... IPv4 header: 56 bytes, ICMP, from the router's upstream address to the server");
	tl_check(fold(sum16(0, ip, IP4_HLEN)) == 0xffff, "... IPv4 header checksum valid");
	tl_check(icmp[0] == 3 && icmp[1] == 4 && get16(icmp + 6) == 1380,
		 "... ICMPv4 fragmentation needed, next-hop MTU 1400 - 20 = %u", get16(icmp + 6));
	tl_check(fold(sum16(0, icmp, 36)) == 0xffff, "... ICMPv4 checksum valid");
	tl_check(qip[0] == 0x45 && get16(qip + 2) == 1460 && qip[9] == IPPROTO_TCP &&
		 get32(qip + 12) == SERVER4 && get32(qip + 16) == ROUTER4,
		 "... quoting the server's IPv4 segment (1460 bytes, server to router)");
	tl_check(fold(sum16(0, qip, IP4_HLEN)) == 0xffff, "... quoted header checksum valid");
	tl_check(get16(qtcp) == SPORT && get16(qtcp + 2) == UPORT,
		 "... quoted ports: the server's and the router's upstream one");
	tl_check_eq(get32(qtcp + 4), 0x12345678 - flow_s.seq_delta,
		    "... quoted sequence number in the server's numbers");

	run_ptb(2, "2001:db8:1::d", CPORT, 1, 1400, &r);
	tl_check(r.ret == TCX_NEXT && intact(&r),
		 "PTB about another client's segment: goes on untouched (%d)", r.ret);
	run_ptb(1, CLIENT6, CPORT, 1, 1400, &r);
	tl_check(r.ret == TCX_NEXT && intact(&r),
		 "an ICMPv6 error other than PTB: goes on untouched (%d)", r.ret);
	/* The server's path MTU to the router serves every client: not below
	 * what IPv6 allows (tcp_v6_err() ignores those too). */
	run_ptb(2, CLIENT6, CPORT, 1, 1000, &r);
	tl_check(r.ret == TCX_NEXT && intact(&r),
		 "PTB with MTU 1000, under IPv6's 1280: goes on untouched (%d)", r.ret);
	run_ptb(2, CLIENT6, CPORT, 1, 1280, &r);
	tl_check(r.ret == TC_ACT_REDIRECT && r.len >= ETH_HLEN + 56 &&
		 get16(r.out + ETH_HLEN + IP4_HLEN + 6) == 1260,
		 "PTB with MTU 1280: fragmentation needed with 1260");
}

static void run_frag(uint8_t code, uint32_t dst, uint16_t dport, uint32_t seq, uint16_t mtu,
		     struct run *r)
{
	build_frag(&frame, code, dst, dport, seq, mtu);
	run_frame(IFINDEX_IN, r);
}

static void test_frag(void)
{
	const uint8_t *ip, *icmp, *qip, *qtcp;
	uint8_t faith[16], client[16];
	uint32_t sum;
	struct run r;

	reset_flows();
	pkt_addr6(FAITH6, faith);
	pkt_addr6(CLIENT6, client);
	run_frag(4, SERVER4, SPORT, 0x9abcdef0, 1300, &r);
	tl_check_eq(r.ret, TC_ACT_REDIRECT, "fragmentation needed about a handed-off connection: sent on");
	tl_check_eq(r.len, ETH_HLEN + 96, "... as a 110-byte frame: IPv6, ICMPv6, IPv6, 8 bytes of TCP");
	if (r.len < ETH_HLEN + 96)
		return;
	ip = r.out + ETH_HLEN;
	icmp = ip + 40;
	qip = icmp + 8;
	qtcp = qip + 40;
	tl_check_eq(get16(r.out + 12), ETH_P_IPV6, "... EtherType IPv6");
	tl_check(ip[0] >> 4 == 6 && get16(ip + 4) == 56 && ip[6] == IPPROTO_ICMPV6 &&
		 !memcmp(ip + 8, faith, 16) && !memcmp(ip + 24, client, 16),
		 "... IPv6 header: 56 bytes of ICMPv6, from the faith address to the client");
	tl_check(icmp[0] == 2 && icmp[1] == 0 && get32(icmp + 4) == 1320,
		 "... ICMPv6 Packet Too Big, MTU 1300 + 20 = %u", get32(icmp + 4));
	sum = sum16(0, ip + 8, 32);
	sum += 56 + IPPROTO_ICMPV6;
	tl_check(fold(sum16(sum, icmp, 56)) == 0xffff, "... ICMPv6 checksum valid");
	tl_check(qip[0] >> 4 == 6 && get16(qip + 4) == 1460 && qip[6] == IPPROTO_TCP &&
		 !memcmp(qip + 8, client, 16) && !memcmp(qip + 24, faith, 16),
		 "... quoting the client's IPv6 segment (1460 bytes, client to faith address)");
	tl_check(get16(qtcp) == CPORT && get16(qtcp + 2) == SPORT,
		 "... quoted ports: the client's and the faith address's");
	tl_check_eq(get32(qtcp + 4), 0x9abcdef0 - flow_c.seq_delta,
		    "... quoted sequence number in the client's numbers");

	run_frag(4, SERVER4 + 1, SPORT, 1, 1300, &r);
	tl_check(r.ret == TCX_NEXT && intact(&r),
		 "fragmentation needed about another host's segment: goes on untouched (%d)", r.ret);
	run_frag(1, SERVER4, SPORT, 1, 1300, &r);
	tl_check(r.ret == TCX_NEXT && intact(&r),
		 "another ICMPv4 unreachable (host): goes on untouched (%d)", r.ret);
	run_frag(4, SERVER4, SPORT, 1, 576, &r);
	tl_check(r.ret == TC_ACT_REDIRECT && r.len >= ETH_HLEN + 96 &&
		 get32(r.out + ETH_HLEN + 40 + 4) == 1280,
		 "MTU 576: Packet Too Big with IPv6's minimum, 1280");
}

/* ---- segments left alone -------------------------------------------------- */

static void test_untouched(void)
{
	struct seg s = { .v4 = true, .flags = ACK | PSH, .seq = 0x2000, .ack = 0x3000,
			 .win = 100, .ts = true, .tsval = 1, .tsecr = 2, .payload = 20 };
	struct faithd_xl_flow f;
	struct run r;

	reset_flows();
	skel->bss->nconns = 0;
	send_seg(&s, IFINDEX_IN, &r);
	skel->bss->nconns = 1;
	f = get_flow(&key_s);
	tl_check(r.ret == TCX_NEXT && intact(&r), "nconns 0: a segment of an ACTIVE "
		 "entry goes on untouched (TCX_NEXT, %d)", r.ret);
	tl_check(!memcmp(&f, &flow_s, sizeof(f)), "nconns 0: the entry is untouched");

	/* IP lengths longer than the frame (nothing has checked them before
	 * tcx): left to the stack, which drops them; nothing counted. */
	s.flags = ACK | PSH;
	s.payload = 20;
	for (int v4 = 0; v4 < 2; v4++) {
		const struct faithd_xl_key *k = v4 ? &key_s : &key_c;
		const struct faithd_xl_flow *want = v4 ? &flow_s : &flow_c;

		s.v4 = v4;
		s.l3_lie = 1000;
		send_seg(&s, IFINDEX_IN, &r);
		f = get_flow(k);
		tl_check(r.ret == TCX_NEXT && intact(&r) && !memcmp(&f, want, sizeof(f)),
			 "%s length 1000 in a %u-byte frame: goes on untouched, nothing "
			 "counted (%d)", v4 ? "IPv4" : "IPv6", (unsigned)frame.len, r.ret);
	}
	s.l3_lie = 0;
	s.v4 = true;

	/* Another port of the same server: no entry. */
	s.flags = ACK;
	key_s.sport = htons(SPORT + 1);
	send_seg(&s, IFINDEX_IN, &r);
	key_s.sport = htons(SPORT);
	f = get_flow(&key_s);
	tl_check(r.ret == TCX_NEXT && intact(&r) && !memcmp(&f, &flow_s, sizeof(f)),
		 "a segment not in the map goes on untouched (%d)", r.ret);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		tl_skip("test_xlate: needs root (BPF_PROG_TEST_RUN)");
		return tl_report();
	}
	if (!tl_check(xlate_prog_load(), "faithd_xlate loads"))
		return tl_report();

	for (size_t i = 0; i < ARRAY_SIZE(xcases); i++)
		test_translate(&xcases[i]);
	test_watch();
	test_hold();
	test_rst();
	test_fin();
	test_ptb();
	test_frag();
	test_untouched();

	xlate_prog_unload();
	return tl_report();
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the files of tests/test_datapath share: the addresses and packets of
 * the cases, the loaded faith object and how its programs are run.
 *
 *   test_datapath.c     setup, the prefix index and trie, main()
 *   datapath_build.c    struct spec -> packet bytes (with tests/pkt.c)
 *   datapath_run.c      maps, BPF_PROG_TEST_RUN of faith_tc and faith_xdp
 *   datapath_packets.c  the packet table, truncation, the mark
 *   datapath_lookup.c   faith_lookup with real relay sockets
 */
#ifndef FAITH_TEST_DATAPATH_H
#define FAITH_TEST_DATAPATH_H

#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* The skeleton names types of maps.h: include it first. */
#include "maps.h"
#include "faith.skel.h"
#include "pkt.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define MARK		0xfa17
#define IP6_OFF		ETH_HLEN		/* outer IPv6 header */
#define L4_OFF		(ETH_HLEN + 40)		/* right after it */

/* Addresses: faith prefixes are 64:ff9b::/96 and 2001:db8:100::/48. */
#define FAITH_A		"64:ff9b::c000:201"	/* 192.0.2.1 */
#define FAITH_B		"2001:db8:100:5::1"
#define CLIENT		"2001:db8:ffff::c"
#define OTHER		"2001:db8:ffff::1"
#define NEAR_48		"2001:db8:101::1"	/* just past the /48 */
#define NEAR_96		"64:ff9b::1:c000:201"	/* just past the /96 */

/* ---- packets (datapath_build.c) ------------------------------------------ */

/* One IPv6 packet: header, extension headers, upper-layer header. */
struct l3 {
	const char *src, *dst;	/* NULL: the defaults of the caller */
	uint8_t ext[8];		/* extension header types, in order */
	int n_ext;
	uint16_t frag_off;	/* of fragment headers, in 8-byte units */
	bool frag_more;
	uint8_t l4;		/* upper-layer protocol */
	uint8_t l4_len;		/* TCP: bytes of the header, 0: all */
	uint8_t icmp_type;
};

struct spec {
	uint16_t ethertype;	/* 0: IPv6 */
	uint8_t version;	/* 0: 6 */
	bool zero_plen;		/* payload_len 0, as jumbograms / BIG TCP */
	uint8_t pad;		/* bytes past payload_len (Ethernet padding) */
	struct l3 ip;
	struct l3 quote;	/* what an ICMPv6 error quotes */
};

void build(struct pkt *p, const struct spec *s);

/* ---- the object and its programs (datapath_run.c) ------------------------ */

extern struct faith_bpf *skel;
extern int ncpus;
/* How the datapath finds prefixes in this pass: "index" or "trie". */
extern const char *lookup_label;

enum mode { TC, XDP };
extern const char *const mode_name[];

struct outcome {
	int err;		/* of BPF_PROG_TEST_RUN, -errno */
	bool pass;		/* TC_ACT_OK/UNSPEC, XDP_PASS */
	bool captured;		/* tc: mark set; xdp: metadata added */
	bool intact;		/* data as sent; xdp: metadata well formed */
	uint32_t mark;
	struct faith_meta meta;
	struct faith_stats st;
};

int set_control(uint32_t keepfaith, uint32_t mark);
void stats_reset(void);
struct faith_stats stats_sum(void);
bool stats_eq(const struct faith_stats *a, const struct faith_stats *b);
void stats_print(const char *what, const struct faith_stats *s);
struct faith_stats want_stats(enum faith_verdict v, bool gated);

struct outcome run_tc_prog(struct bpf_program *prog, const struct pkt *p);
struct outcome run_mode(enum mode mode, const struct pkt *p);

/* ---- the tests ----------------------------------------------------------- */

void test_pkt_table(enum mode mode);		/* datapath_packets.c */
void test_tc_mark(void);
void test_tc_meta(void);
void test_truncated(void);
void test_lookup(void);				/* datapath_lookup.c */
int lookup_is_faith(const struct in6_addr *addr);	/* datapath_lookup.c */

/*
 * testlib.h keeps its counters in the one file that includes it,
 * test_datapath.c; the other files report through these.
 */
__attribute__((format(printf, 2, 3)))
bool dp_check(bool cond, const char *fmt, ...);
__attribute__((format(printf, 1, 2)))
void dp_diag(const char *fmt, ...);

#endif /* FAITH_TEST_DATAPATH_H */

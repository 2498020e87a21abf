/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Structures shared by the BPF datapath (bpf/faith.bpf.c) and userspace
 * (faith-loader, libfaith-relay, tests).  Every map is pinned under the pin
 * directory (default /sys/fs/bpf/faith) and carries BTF, so
 * `bpftool map dump pinned /sys/fs/bpf/faith/<map>` prints named fields.
 */
#ifndef FAITH_MAPS_H
#define FAITH_MAPS_H

#include <linux/types.h>

#define FAITH_DEFAULT_PIN_DIR	"/sys/fs/bpf/faith"

/* Pinned object names, relative to the pin directory. */
#define FAITH_PIN_PREFIXES	"prefixes"
#define FAITH_PIN_RELAYS	"relays"
#define FAITH_PIN_CONTROL	"control"
#define FAITH_PIN_STATS		"stats"
#define FAITH_PIN_IFACES	"ifaces"
#define FAITH_PIN_PINDEX	"pindex"
#define FAITH_PIN_PINDEX_META	"pindex_meta"
#define FAITH_PIN_PINDEX_START	"pindex_start"
#define FAITH_PIN_PINDEX_BLOCKS	"pindex_blocks"
#define FAITH_PIN_PROG_TC	"prog_tc"
#define FAITH_PIN_PROG_TC_META	"prog_tc_meta"
#define FAITH_PIN_PROG_XDP	"prog_xdp"
#define FAITH_PIN_PROG_LOOKUP	"prog_sk_lookup"
#define FAITH_PIN_LINK_LOOKUP	"link_sk_lookup"

#define FAITH_MAX_PREFIXES	131072
#define FAITH_MAX_RELAYS	65536

/* Longest prefix the loader accepts: the low 32 bits carry the IPv4 address. */
#define FAITH_MAX_PREFIXLEN	96

/* Key of the `relays` sockhash meaning "every destination port". */
#define FAITH_RELAY_ALL_PORTS	0

/* Defaults for local delivery: the classifier sets skb->mark = mark, and the
 * loader installs `ip -6 rule add fwmark mark lookup table` plus
 * `ip -6 route add local ::/0 dev lo table table`. */
#define FAITH_DEFAULT_MARK	0xfa17
#define FAITH_DEFAULT_TABLE	0xfa17
#define FAITH_DEFAULT_RULE_PRIO	1000

/* `prefixes` LPM trie key: prefixlen counts bits of addr (network order). */
struct faith_prefix_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* `prefixes` value.  prefixlen repeats the key's, so that a longest-match
 * lookup (key prefixlen 128) tells which prefix matched: faithd takes the
 * IPv4 address out of a destination by it (RFC 6052). */
struct faith_prefix_value {
	__u32 prefixlen;
	__u32 flags;		/* reserved for per-prefix options, zero today */
};

/*
 * The prefix index: the datapath's fast view of `prefixes`.  The LPM trie
 * stays the source of truth (and what bpftool shows); faith-loader derives
 * from it a cuckoo hash table in the `pindex` array, whose lookups the
 * verifier inlines.  The datapath only asks "is the address inside some
 * prefix?", so the builder first drops every prefix nested in another: the
 * rest never overlap.  It then searches the prefix lengths by binary search
 * (Waldvogel et al., "Scalable high speed IP routing lookups"): the lengths
 * form a balanced binary search tree (node 0 the root); a probe masks the
 * address to the node's length, hashes it and looks in its bucket of four
 * slots (a cache line; rarely a second one).  A prefix found: inside.  A
 * marker found: some prefix extends the address past this length, go to
 * the longer lengths (right); nothing: go to the shorter ones (left).  Each
 * prefix leaves a marker at every length of its search path where the
 * search must turn right to reach it.  Prefixes never nesting, a marker
 * hit rules out every shorter prefix, so there is never backtracking: at
 * most FAITH_PINDEX_DEPTH probes (3 for 6 lengths, 7 for all 96).  A
 * marker also says where to go on, its "rope" (Waldvogel's rope search,
 * simplified): the node, in the tree below, of the longest and shortest
 * lengths of the prefixes that left it, or, when they all have one length,
 * a copy of its node without children: then that probe decides.
 * `pindex` has two halves: faith-loader fills the idle one, then flips
 * `active`.  When the table cannot hold prefixes and markers, nlens is
 * FAITH_PINDEX_TRIE and the datapath asks the trie instead.  The index is
 * BPF global data: both halves are .bss (one 4 MiB element, the most an
 * array element may hold), the meta is .data.
 */
#define FAITH_PINDEX_BUCKET_BITS 15
#define FAITH_PINDEX_BUCKETS	(1u << FAITH_PINDEX_BUCKET_BITS)	/* per half */
#define FAITH_PINDEX_WAYS	4	/* slots per bucket */
#define FAITH_PINDEX_SLOTS	(FAITH_PINDEX_BUCKETS * FAITH_PINDEX_WAYS)
#define FAITH_PINDEX_LENS	FAITH_MAX_PREFIXLEN	/* every length, /1../96 */
#define FAITH_PINDEX_NODES	(2 * FAITH_PINDEX_LENS)	/* the tree, then leaves */
#define FAITH_PINDEX_DEPTH	7	/* of a balanced tree of 96 lengths */
#define FAITH_PINDEX_NONE	0xff	/* no child */
#define FAITH_PINDEX_TRIE	0xffffffffu

struct faith_pindex_slot {
	__u32 addr[3];		/* the prefix's first 96 bits, network order */
	__u32 prefixlen;	/* | FAITH_PINDEX_USED and flags; 0: empty */
};

struct faith_pindex_bucket {
	struct faith_pindex_slot slot[FAITH_PINDEX_WAYS];
};

#define FAITH_PINDEX_FILTER_BITS	16	/* 65536 words per half */
#define FAITH_PINDEX_FILTER_SLOTS	(1u << FAITH_PINDEX_FILTER_BITS)

/* One length: a node of the search tree. */
struct faith_pindex_node {
	__u64 mask0;		/* keeps the length's bits of address bytes 0..7 */
	__u64 mask1;		/* of bytes 8..11 (and clears 12..15) */
	__u64 tag;		/* faith_pindex_w1(0, prefixlen | FAITH_PINDEX_USED) */
	__u8 left;		/* next node on a miss, or FAITH_PINDEX_NONE */
	__u8 right;		/* next node on a marker, or FAITH_PINDEX_NONE */
	__u8 prefixlen;
	__u8 pad[5];
};

struct faith_pindex_half {
	__u32 nlens;		/* lengths in node[], or FAITH_PINDEX_TRIE */
	__u32 depth;		/* of the tree: the most probes a lookup makes */
	__u32 filtered;		/* 1: the /32 filter is in use (lengths >= /32) */
	__u32 blocks;		/* block tables in use (pindex_blocks) */
	/* node[0..nlens): the tree; node[nlens + i]: node[i] without children,
	 * where a marker whose prefixes all have node i's length sends the
	 * search (its last probe). */
	struct faith_pindex_node node[FAITH_PINDEX_NODES];
};

/*
 * Where the search starts, used when no prefix is shorter than /32.  A
 * start word (16 bits) is 0: no prefix there, the address is in none (no
 * probe); 1 + a node: the search starts there, the leaf of their length
 * when all the prefixes there have one (one probe decides), else the root;
 * FAITH_PINDEX_BLOCK | t: the prefixes there have several lengths, look
 * the address's next byte up in block table t.
 *
 * The /32 filter (`pindex_start`, global data of its own, both halves)
 * holds one word per faith_pindex_filter_bit() of the first 32 bits; most
 * traffic a router forwards is decided by this one load.  Slots that more
 * than one /32 holding prefixes shares hold no block: the root, or their
 * leaf if all have one length.  A block table (`pindex_blocks`, one
 * element per half) holds the words of the 256 blocks one byte longer of
 * its block, /40 below a /32, /48 below a /40, and so on to /96: a prefix
 * shorter than a block fills each block it covers with its leaf.  The
 * blocks go to the first /32s with several lengths (address order); past
 * FAITH_PINDEX_BLOCKS the rest start at the root.
 */
#define FAITH_PINDEX_BLOCK	0x8000u
#define FAITH_PINDEX_BLOCKS	4096	/* block tables per half: 2 MiB */

struct faith_pindex_start {
	__u16 node[FAITH_PINDEX_FILTER_SLOTS];
};

/* The start words of the 256 blocks below one, by the address's next byte. */
struct faith_pindex_block {
	__u16 next[256];
};

struct faith_pindex_blocks {
	struct faith_pindex_block block[FAITH_PINDEX_BLOCKS];
};

/* `pindex_meta` (.data), one element at key 0. */
struct faith_pindex_meta {
	__u32 active;		/* the half the datapath reads: 0 or 1 */
	__u32 pad;
	struct faith_pindex_half half[2];
};

/*
 * A slot read as two 64-bit words, in memory order: w0 holds addr[0..1],
 * w1 addr[2] and the length word.  The length word is the prefix length
 * with FAITH_PINDEX_USED (so that no key is all zeros, an empty slot), and
 * in its top 9 bits, which the lookup leaves out of the key: the rope
 * (bits 23..30: 0 on a prefix, on a marker 1 + the node to probe next),
 * and, in slot[0] only, OVERFLOW (bit 31): set when a prefix whose first
 * bucket this is had to go to its second.  Lookups stop at the first
 * bucket unless it is set.
 */
#define FAITH_PINDEX_USED	0x100u
#define FAITH_PINDEX_ROPE_SHIFT	23
#define FAITH_PINDEX_ROPE	0x7f800000u
#define FAITH_PINDEX_OVERFLOW_LEN 0x80000000u
#define FAITH_PINDEX_FLAGS	(FAITH_PINDEX_ROPE | FAITH_PINDEX_OVERFLOW_LEN)
#define FAITH_PINDEX_KEY_SHIFT	9	/* w1 << 9: the key bits only */

static inline __u64 faith_pindex_pair(__u32 lo, __u32 hi)
{
	union {
		__u32 w[2];
		__u64 q;
	} u = { .w = { lo, hi } };

	return u.q;
}

static inline __u64 faith_pindex_w0(__u32 a0, __u32 a1)
{
	return faith_pindex_pair(a0, a1);
}

static inline __u64 faith_pindex_w1(__u32 a2, __u32 plen)
{
	return faith_pindex_pair(a2, plen);
}

/* Hash of a masked prefix (its two words); the same in BPF and userspace. */
static inline __u32 faith_pindex_hash(__u64 w0, __u64 w1)
{
	return (__u32)((w0 * 0x9e3779b97f4a7c15ull ^ w1 * 0xc2b2ae3d27d4eb4full) >> 32);
}

/* The first 32 bits of an address, in memory order, from its first word. */
static inline __u32 faith_pindex_top32(__u64 w0)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (__u32)w0;
#else
	return (__u32)(w0 >> 32);
#endif
}

/* Byte i (0..11) of an address, from its first two words. */
static inline __u32 faith_pindex_byte(__u64 w0, __u64 w1, __u32 i)
{
	__u64 w = i < 8 ? w0 : w1;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (__u32)(w >> (8 * (i % 8))) & 0xff;
#else
	return (__u32)(w >> (56 - 8 * (i % 8))) & 0xff;
#endif
}

/* The filter slot of an address's (or a prefix's) first 32 bits. */
static inline __u32 faith_pindex_filter_bit(__u32 top32)
{
	return (top32 * 0x9e3779b1u) >> (32 - FAITH_PINDEX_FILTER_BITS);
}

/* A hash's two buckets (within a half): from its low and high 16 bits. */
static inline __u32 faith_pindex_bucket1(__u32 h)
{
	return h & (FAITH_PINDEX_BUCKETS - 1);
}

static inline __u32 faith_pindex_bucket2(__u32 h)
{
	__u32 b = (h >> 16) & (FAITH_PINDEX_BUCKETS - 1);

	return b == faith_pindex_bucket1(h) ? b ^ 1 : b;
}

/* `control` array, one element at key 0. */
struct faith_control {
	__u32 keepfaith;	/* the gate: 0 = capture nothing */
	__u32 mark;		/* skb->mark set on captured packets */
	__u32 table;		/* routing table holding `local ::/0 dev lo` */
	__u32 rule_prio;	/* priority of the fwmark policy rule */
};

/* `stats` per-CPU array, one element at key 0. */
struct faith_stats {
	__u64 packets;		/* packets seen by the classifier */
	__u64 tcp_captured;	/* IPv6 TCP sent to local delivery */
	__u64 icmp_captured;	/* ICMPv6 errors sent to local delivery */
	__u64 gated_off;	/* would have been captured, keepfaith 0 */
	__u64 assigned;		/* sk_lookup: connection given to a relay */
	__u64 no_relay;		/* sk_lookup: faith address, no relay: drop */
	__u64 malformed;	/* truncated or malformed IPv6 headers */
};

/* `ifaces` hash, keyed by ifindex: where faith-loader attached. */
#define FAITH_IFACE_XDP		0x1	/* XDP classifier + TC metadata reader */
#define FAITH_IFACE_XDP_GENERIC	0x2	/* XDP in generic (skb) mode */
#define FAITH_IFACE_OWN_CLSACT	0x4	/* the loader created the clsact qdisc */

struct faith_iface {
	__u32 flags;
	char name[16];
};

/* Verdict the XDP classifier leaves in the XDP metadata area for the TC
 * program, so each packet is classified once. */
#define FAITH_META_MAGIC	0xfa17fa17u

enum faith_verdict {
	FAITH_PASS = 0,		/* not ours: leave untouched */
	FAITH_TCP = 1,		/* IPv6 TCP to a faith prefix */
	FAITH_ICMP = 2,		/* ICMPv6 error about a faith connection */
	FAITH_MALFORMED = 3,	/* could not be parsed: pass untouched */
};

struct faith_meta {
	__u32 verdict;
	__u32 magic;
};

#endif /* FAITH_MAPS_H */

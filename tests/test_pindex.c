// SPDX-License-Identifier: BSD-2-Clause
/*
 * The prefix index builder (src/pindex_build.c) and its lookup in C, the
 * same search the datapath makes, against a brute-force answer: is the
 * address inside any prefix?  Pairs of lengths (nested, siblings,
 * neighbours), RFC 6052's six lengths, every length /1../96, random
 * clustered sets with nesting, the probe bound, and a table too small
 * (the fallback to the trie).  No BPF, no root: the datapath runs the same
 * cases through BPF_PROG_TEST_RUN in test_datapath.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maps.h"
#include "pindex.h"
#include "testlib.h"

static struct faith_pindex_bucket *table;
static struct faith_pindex_half half;
static struct faith_pindex_start start;
static struct faith_pindex_block *blocks;
static int steps;	/* of the last faith_pindex_find() */

static int build(struct faith_prefix_key *keys, size_t n, size_t max_slots)
{
	return faith_pindex_build(keys, n, max_slots, &half, table, &start, blocks);
}

static int find(const uint8_t a[16], int *probes)
{
	return faith_pindex_find(&half, table, &start, blocks, a, probes, &steps);
}

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void clear_past(uint8_t a[16], uint32_t len)
{
	for (uint32_t bit = len; bit < 128; bit++)
		a[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
}

static struct faith_prefix_key key_of(const uint8_t a[16], uint32_t len)
{
	struct faith_prefix_key k = { .prefixlen = len };

	memcpy(k.addr, a, 16);
	clear_past(k.addr, len);
	return k;
}

static bool inside(const struct faith_prefix_key *k, const uint8_t a[16])
{
	uint32_t bytes = k->prefixlen / 8, rest = k->prefixlen % 8;

	if (memcmp(k->addr, a, bytes))
		return false;
	return !rest || !((k->addr[bytes] ^ a[bytes]) & (uint8_t)(0xff << (8 - rest)));
}

static bool brute(const struct faith_prefix_key *keys, size_t n, const uint8_t a[16])
{
	for (size_t i = 0; i < n; i++)
		if (inside(&keys[i], a))
			return true;
	return false;
}

static uint32_t depth_for(uint32_t nlens)
{
	uint32_t d = 0;

	while ((1u << d) - 1 < nlens)
		d++;
	return d;
}

static void flip(uint8_t a[16], uint32_t bit)
{
	a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
}

/*
 * Build from keys[0..n) and check addresses near every prefix: inside it
 * (random host bits), just outside (each bit before its length flipped in
 * turn... a few of them), plus random ones.  Returns the wrong answers.
 */
static int check_set(const struct faith_prefix_key *keys, size_t n,
		     uint32_t want_nlens, int *max_probes)
{
	struct faith_prefix_key *copy = malloc(n * sizeof(*copy));
	int bad = 0, probes;

	memcpy(copy, keys, n * sizeof(*copy));	/* the builder sorts */
	if (build(copy, n, FAITH_PINDEX_SLOTS) < 0 ||
	    (want_nlens && half.nlens != want_nlens) ||
	    half.depth != depth_for(half.nlens)) {
		free(copy);
		return -1;
	}
	free(copy);
	*max_probes = 0;
	for (size_t i = 0; i < n; i++) {
		const struct faith_prefix_key *k = &keys[i];

		for (int t = 0; t < 8; t++) {
			uint8_t a[16];
			uint64_t r[2] = { rnd(), rnd() };

			memcpy(a, k->addr, 16);
			for (uint32_t bit = k->prefixlen; bit < 128; bit++)
				if (r[bit / 64] >> (bit % 64) & 1)
					flip(a, bit);
			if (t > 0) {
				/* Out of k: one of its bits flipped (the last
				 * one, then random ones). */
				flip(a, t == 1 ? k->prefixlen - 1 :
					 (uint32_t)(rnd() % k->prefixlen));
			}
			bad += find(a, &probes) != brute(keys, n, a);
			if (probes > *max_probes)
				*max_probes = probes;
		}
	}
	for (int t = 0; t < 200; t++) {
		uint8_t a[16];
		uint64_t r[2] = { rnd(), rnd() };

		memcpy(a, r, 16);
		bad += find(a, &probes) != brute(keys, n, a);
		if (probes > *max_probes)
			*max_probes = probes;
	}
	return bad;
}

/* Two prefixes of lengths l1 <= l2, in every relation: nested, the second
 * just past the first's end, or far apart. */
static void test_pairs(void)
{
	static const uint32_t lens[] = { 1, 2, 7, 8, 9, 31, 32, 33, 47, 48,
					 56, 63, 64, 65, 95, 96 };
	const size_t nl = sizeof(lens) / sizeof(lens[0]);
	int bad = 0, fails = 0, probes;

	for (size_t i = 0; i < nl; i++) {
		for (size_t j = i; j < nl; j++) {
			for (int rel = 0; rel < 3; rel++) {
				struct faith_prefix_key k[2];
				uint8_t a[16], b[16];
				uint64_t r[2] = { rnd(), rnd() };
				int got;

				memcpy(a, r, 16);
				memcpy(b, a, 16);
				if (rel == 1)
					flip(b, lens[i] - 1);	/* sibling */
				else if (rel == 2)
					flip(b, 0);		/* far */
				k[0] = key_of(a, lens[i]);
				k[1] = key_of(b, lens[j]);
				if (!memcmp(&k[0], &k[1], sizeof(k[0])))
					continue;
				got = check_set(k, 2, 0, &probes);
				if (got < 0)
					fails++;
				else
					bad += got;
			}
		}
	}
	tl_check(!fails && !bad,
		 "pairs of lengths /1../96, nested, siblings, apart: builds %d "
		 "failed, %d wrong answers", fails, bad);
}

/* n prefixes of the given lengths (at least /24), clustered under a few
 * /16s so that markers are shared and some prefixes nest. */
static size_t gen(struct faith_prefix_key *keys, size_t n, const uint32_t *lens,
		  size_t nlens)
{
	size_t got = 0;

	while (got < n) {
		uint8_t a[16];
		uint64_t r[2] = { rnd(), rnd() };
		struct faith_prefix_key k;

		memcpy(a, r, 16);
		a[0] = 0x20;
		a[1] = (uint8_t)(rnd() % 4);
		/* Often put it under an earlier one, so that some nest. */
		if (got && rnd() % 3 == 0)
			memcpy(a, keys[rnd() % got].addr, 12);
		k = key_of(a, lens[rnd() % nlens]);
		keys[got++] = k;
		for (size_t i = 0; i + 1 < got; i++)
			if (!memcmp(&keys[i], &k, sizeof(k)))
				got--;	/* duplicate */
	}
	return got;
}

static void test_set(const char *what, const uint32_t *lens, size_t nlens,
		     size_t n)
{
	struct faith_prefix_key *keys = malloc(n * sizeof(*keys));
	int bad, probes = 0;

	gen(keys, n, lens, nlens);
	bad = check_set(keys, n, 0, &probes);
	tl_check(bad == 0 && probes <= (int)half.depth,
		 "%s, %zu prefixes (%u lengths once nested ones are dropped): "
		 "%d wrong answers, at most %d probes (depth %u)",
		 what, n, half.nlens, bad, probes, half.depth);
	free(keys);
}

static void test_sets(void)
{
	static const uint32_t rfc6052[] = { 32, 40, 48, 56, 64, 96 };
	static const uint32_t one[] = { 96 };
	uint32_t all[FAITH_MAX_PREFIXLEN - 23], some[16];

	for (uint32_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		all[i] = 24 + i;
	for (uint32_t i = 0; i < 16; i++)
		some[i] = 24 + (uint32_t)(rnd() % 73);
	test_set("one length (/96)", one, 1, 1000);
	test_set("RFC 6052 lengths", rfc6052, 6, 2000);
	test_set("16 random lengths", some, 16, 2000);
	test_set("every length /24../96", all, sizeof(all) / sizeof(all[0]), 3000);
}

/* Every length /1../96 at once: 96 lengths, 7 probes at most. */
static void test_all_lengths(void)
{
	struct faith_prefix_key keys[FAITH_MAX_PREFIXLEN];
	int bad, probes = 0;

	/* One prefix per length, none nesting: each length its own branch,
	 * 1, 01, 001, ... (the /96 is all zeros, the /95 0..01 at bit 94). */
	for (uint32_t len = 1; len <= FAITH_MAX_PREFIXLEN; len++) {
		uint8_t a[16] = {};

		if (len < FAITH_MAX_PREFIXLEN)
			flip(a, len - 1);
		keys[len - 1] = key_of(a, len);
	}
	bad = check_set(keys, FAITH_MAX_PREFIXLEN, FAITH_MAX_PREFIXLEN, &probes);
	tl_check(bad == 0 && half.depth == FAITH_PINDEX_DEPTH &&
		 probes <= FAITH_PINDEX_DEPTH,
		 "all 96 lengths /1../96: %d wrong answers, %d probes at most "
		 "(depth %u)", bad, probes, half.depth);
}

/* Set random bits past each key's length, as a hand-made trie entry may. */
static void add_stray_bits(struct faith_prefix_key *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (uint32_t bit = keys[i].prefixlen; bit < 128; bit++)
			if (rnd() % 4 == 0)
				flip(keys[i].addr, bit);
}

/*
 * Keys with bits set past their length (faith-loader never writes them,
 * but `bpftool map update` on the trie can): the builder clears them, so
 * a prefix still sorts before the prefixes nested in it.  Before, a /36
 * with a stray bit could be kept beside the two /96s inside it and write
 * past a block table.
 */
static void test_stray_bits(void)
{
	static const uint32_t rfc6052[] = { 32, 40, 48, 56, 64, 96 };
	struct faith_prefix_key keys[3], *many = malloc(2000 * sizeof(*many));
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	int bad, probes;

	a[11] = 1;
	keys[0] = key_of(a, 96);
	a[11] = 2;
	keys[1] = key_of(a, 96);
	memcpy(keys[2].addr, a, 16);	/* 2001:db8::/36, byte 11 stray: */
	/* it sorts after the first /96, which then looked not nested */
	keys[2].prefixlen = 36;
	bad = check_set(keys, 3, 1, &probes);
	tl_check(bad == 0 && half.nlens == 1 && half.node[0].prefixlen == 36,
		 "a /36 with a stray bit holding two /96s: only the /36 is "
		 "indexed (%u lengths, /%u), %d wrong answers", half.nlens,
		 half.node[0].prefixlen, bad);
	gen(many, 2000, rfc6052, 6);
	add_stray_bits(many, 2000);
	bad = check_set(many, 2000, 0, &probes);
	tl_check(bad == 0, "2000 prefixes of the RFC 6052 lengths, each with "
		 "stray bits past its length: %d wrong answers", bad);
	free(many);
}

/* Nested prefixes are dropped: a /32 with /48s and /96s inside is one. */
static void test_nested(void)
{
	struct faith_prefix_key keys[40], copy[40];
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	int used, bad, probes;

	keys[0] = key_of(a, 32);
	for (int i = 1; i < 40; i++) {
		a[5] = (uint8_t)i;
		a[11] = (uint8_t)i;
		keys[i] = key_of(a, i % 2 ? 48 : 96);
	}
	memcpy(copy, keys, sizeof(keys));
	used = build(copy, 40, FAITH_PINDEX_SLOTS);
	tl_check(used == 1 && half.nlens == 1 && half.node[0].prefixlen == 32,
		 "a /32 holding 39 /48s and /96s: only the /32 is indexed "
		 "(%d slots, %u lengths)", used, half.nlens);
	bad = check_set(keys, 40, 1, &probes);
	tl_check(bad == 0, "addresses in and around them: %d wrong answers", bad);
}

/*
 * Where the prefixes of a /32 all have one length, one probe decides, even
 * with several lengths in the index: a /96 in one /32, a /64 in another
 * (4 lengths, 3 probes deep).  A /40 and a /48 in a third: a block table
 * takes the address's fifth byte, then one probe too.
 */
static void test_filter_start(void)
{
	static const struct { uint8_t a0; uint32_t len; } spec[] = {
		{ 0x10, 40 }, { 0x11, 48 }, { 0x20, 96 }, { 0x30, 64 },
	};
	struct faith_prefix_key keys[4];
	int found[4], probes[4];

	for (int i = 0; i < 4; i++) {
		uint8_t a[16] = { 0x3f, 0xff, spec[i].a0 >> 4, 0, spec[i].a0 };

		keys[i] = key_of(a, spec[i].len);
	}
	build(keys, 4, FAITH_PINDEX_SLOTS);
	for (int i = 0; i < 4; i++) {
		uint8_t a[16];

		memcpy(a, keys[i].addr, 16);
		a[15] = 9;
		found[i] = find(a, &probes[i]);
	}
	tl_check(half.filtered && half.nlens == 4 && half.depth == 3 &&
		 found[0] && found[1] && found[2] && found[3] && half.blocks == 1 &&
		 probes[0] == 1 && probes[1] == 1 && probes[2] == 1 && probes[3] == 1,
		 "/40 and /48 in one /32, a /96 and a /64 in others: found %d %d "
		 "%d %d; the lone /96 and /64 in 1 probe each (%d, %d), the /32 "
		 "with two lengths through %u block table in 1 each too (%d, %d)",
		 found[0], found[1], found[2], found[3], probes[2], probes[3],
		 half.blocks, probes[0], probes[1]);
}

/*
 * The /32 filter: with every prefix /32 or longer, an address in a /32
 * without prefixes is answered with no probe; with a shorter prefix the
 * filter is off.
 */
static void test_filter(void)
{
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 }, far[16] = { 0x20, 0x01, 0x48, 0x60 };
	uint8_t near[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff };
	struct faith_prefix_key keys[2];
	int found[3], probes[3];

	keys[0] = key_of(a, 48);
	a[5] = 2;
	keys[1] = key_of(a, 96);
	build(keys, 2, FAITH_PINDEX_SLOTS);
	a[15] = 7;	/* inside the /96 */
	found[0] = find(a, &probes[0]);
	found[1] = find(far, &probes[1]);
	found[2] = find(near, &probes[2]);
	tl_check(half.filtered && found[0] == 1 && probes[0] == 1 &&
		 found[1] == 0 && probes[1] == 0 && found[2] == 0 && probes[2] == 0,
		 "a /48 and a /96 in 2001:db8::/32: the filter is on; inside the "
		 "/96 %d (%d probes), in another /32 %d (%d probes), in their /32 "
		 "but in a /40 without prefixes %d (%d probes)", found[0],
		 probes[0], found[1], probes[1], found[2], probes[2]);
	test_filter_start();
	keys[1] = key_of(far, 24);
	build(keys, 2, FAITH_PINDEX_SLOTS);
	far[3] = 0x61;	/* still in the /24 */
	found[0] = find(far, &probes[0]);
	found[1] = find(near, &probes[1]);
	tl_check(!half.filtered && found[0] == 1 && found[1] == 0 && probes[1] >= 1,
		 "with a /24 the filter is off: in the /24 (another /32 than its "
		 "first) %d, elsewhere %d after %d probes", found[0], found[1],
		 probes[1]);
}

/* A table that cannot hold prefixes and markers: the trie takes over. */
static void test_full(void)
{
	struct faith_prefix_key keys[4];
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x01 }, b[16] = { 0x3f, 0xff };
	uint8_t in[16], out[16];
	int used, found[2], probes[2];

	keys[0] = key_of(a, 40);
	a[4] = 2;
	keys[1] = key_of(a, 48);
	a[4] = 3;
	keys[2] = key_of(a, 96);	/* lengths 40 48 96: root /48 */
	used = build(keys, 3, 4);
	tl_check(used == 4, "/40, /48 and /96 next to each other: 3 prefixes "
		 "and the /96's marker at /48, 4 slots (%d)", used);
	used = build(keys, 3, 3);
	tl_check(used == -1 && half.nlens == FAITH_PINDEX_TRIE,
		 "in a 3-slot table they do not fit: trie (%d, %#x)", used,
		 half.nlens);
	used = build(keys, 0, 0);
	tl_check(used == 0 && half.nlens == 0 && half.depth == 0,
		 "no prefixes: an empty index (%d, %u)", used, half.nlens);

	/* With a /24 too (no filter), searches start at the root, /40. */
	keys[3] = key_of(b, 24);
	used = build(keys, 4, FAITH_PINDEX_SLOTS);
	memcpy(in, keys[2].addr, 16);
	in[15] = 1;
	memcpy(out, in, 16);
	out[11] = 1;		/* past the /96, in its /48 */
	found[0] = find(in, &probes[0]);
	found[1] = find(out, &probes[1]);
	tl_check(used == 7 && !half.filtered && found[0] == 1 && probes[0] == 2 &&
		 found[1] == 0 && probes[1] == 2,
		 "with a /24 as well (7 slots: %d): the /96's marker at /40 leads "
		 "straight to it: in it %d (%d probes), past it %d (%d probes)",
		 used, found[0], probes[0], found[1], probes[1]);
}

/* Put prefix a/len in keys[*n]; 0 past the end of the address. */
static void add_key(struct faith_prefix_key *keys, size_t *n, const uint8_t a[16],
		    uint32_t len)
{
	keys[(*n)++] = key_of(a, len);
}

/* Answer and cost of a lookup of the address written as bytes. */
static void lookup(const uint8_t a[16], int *found, int *probes, int *steps_out)
{
	*found = find(a, probes);
	*steps_out = steps;
}

/*
 * Block tables: below a /32 with several lengths, bytes are taken until
 * one length is left: one probe, or none where no prefix is.
 */
static void test_blocks(void)
{
	static const uint32_t rfc6052[] = { 40, 48, 56, 64, 96 };
	const size_t dense = 3000, many = FAITH_PINDEX_BLOCKS + 300;
	struct faith_prefix_key *keys = calloc(dense + 2 * many, sizeof(*keys));
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	int bad, probes, found[3], pr[3], st[3];
	size_t n = 0;

	/* Thousands of prefixes of five lengths in one /32 (2001:db8::/32). */
	for (size_t i = 0; i < dense; i++) {
		uint64_t r[2] = { rnd(), rnd() };

		memcpy(a + 4, r, 12);
		add_key(keys, &n, a, rfc6052[rnd() % 5]);
	}
	bad = check_set(keys, n, 0, &probes);
	tl_check(bad == 0 && probes == 1 && half.filtered && half.blocks > 1,
		 "%zu prefixes /40../96 in one /32: %d wrong answers, at most %d "
		 "probe (%u lengths, %u block tables)", dense, bad, probes,
		 half.nlens, half.blocks);

	/* A /95 and a /96 side by side: down to the last byte. */
	n = 0;
	memset(a + 4, 0x5a, 12);
	add_key(keys, &n, a, 96);
	flip(a, 94);
	add_key(keys, &n, a, 95);
	build(keys, n, FAITH_PINDEX_SLOTS);
	a[15] = 7;
	lookup(a, &found[0], &pr[0], &st[0]);		/* in the /95 */
	flip(a, 94);
	lookup(a, &found[1], &pr[1], &st[1]);		/* in the /96 */
	flip(a, 93);
	lookup(a, &found[2], &pr[2], &st[2]);		/* beside both */
	tl_check(found[0] == 1 && found[1] == 1 && found[2] == 0 &&
		 pr[0] == 1 && pr[1] == 1 && pr[2] == 0 &&
		 st[0] == 8 && st[1] == 8 && st[2] == 8 && half.blocks == 8,
		 "a /95 beside a /96: 8 block tables, /40 to /96; in each %d %d "
		 "(%d %d probes, %d %d tables read), beside them %d (%d probes, "
		 "%d tables)", found[0], found[1], pr[0], pr[1], st[0], st[1],
		 found[2], pr[2], st[2]);

	/* A /33 fills half a table, a /40 one entry of the other half. */
	n = 0;
	memset(a + 4, 0, 12);
	a[4] = 0x80;
	add_key(keys, &n, a, 33);
	a[4] = 0x12;
	add_key(keys, &n, a, 40);
	build(keys, n, FAITH_PINDEX_SLOTS);
	a[4] = 0xff;
	lookup(a, &found[0], &pr[0], &st[0]);
	a[4] = 0x12;
	a[9] = 1;
	lookup(a, &found[1], &pr[1], &st[1]);
	a[4] = 0x13;
	lookup(a, &found[2], &pr[2], &st[2]);
	tl_check(found[0] == 1 && pr[0] == 1 && found[1] == 1 && pr[1] == 1 &&
		 found[2] == 0 && pr[2] == 0 && half.blocks == 1,
		 "a /33 and a /40 in one /32: in the /33 %d (%d probe), in the "
		 "/40 %d (%d probe), in neither %d (%d probes)", found[0], pr[0],
		 found[1], pr[1], found[2], pr[2]);

	/* More /32s with two lengths than tables: the rest from the root. */
	n = 0;
	memset(a, 0, sizeof(a));
	for (uint32_t i = 0; i < many; i++) {
		a[0] = 0x3f;
		a[1] = (uint8_t)(i >> 8);
		a[2] = (uint8_t)i;
		a[4] = 1;
		add_key(keys, &n, a, 40);
		a[4] = 2;
		add_key(keys, &n, a, 48);
	}
	bad = check_set(keys, n, 2, &probes);
	tl_check(bad == 0 && half.blocks == FAITH_PINDEX_BLOCKS && probes == 2,
		 "%zu /32s with a /40 and a /48 each: %u block tables (all), %d "
		 "wrong answers, at most %d probes", many,
		 half.blocks, bad, probes);
	free(keys);
}

/* Two /32s with several lengths whose filter slot is one: no block. */
static void test_blocks_shared_slot(void)
{
	struct faith_prefix_key keys[4];
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8 }, b[16] = { 0x3f, 0xff };
	__u32 top_a, top_b;
	int bad, probes;
	size_t n = 0;

	/* Another /32 in the same filter slot, in 3fff::/16. */
	memcpy(&top_a, a, 4);
	for (__u32 i = 0; i < 0x10000; i++) {
		b[2] = (uint8_t)(i >> 8);
		b[3] = (uint8_t)i;
		memcpy(&top_b, b, 4);
		if (faith_pindex_filter_bit(top_a) == faith_pindex_filter_bit(top_b))
			break;
	}
	a[4] = 1;
	add_key(keys, &n, a, 40);
	a[4] = 2;
	add_key(keys, &n, a, 48);
	b[4] = 1;
	add_key(keys, &n, b, 56);
	b[4] = 2;
	add_key(keys, &n, b, 64);
	bad = check_set(keys, n, 4, &probes);
	tl_check(faith_pindex_filter_bit(top_a) == faith_pindex_filter_bit(top_b) &&
		 bad == 0 && half.blocks == 0 && probes > 1,
		 "two /32s with two lengths each in one filter slot (%02x%02x:%02x%02x"
		 "::/32 beside 2001:db8::/32): no block table (%u), from the root "
		 "(%d probes at most), %d wrong answers", b[0], b[1], b[2], b[3],
		 half.blocks, probes, bad);
}

/* Every slot used: 4 ways of every bucket of a half, then one more. */
static void test_capacity(void)
{
	size_t n = FAITH_PINDEX_SLOTS * 9 / 10;
	struct faith_prefix_key *keys = calloc(n + 1, sizeof(*keys));
	int used;

	for (size_t i = 0; i < n; i++) {
		uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8 };

		a[8] = (uint8_t)(i >> 16);
		a[9] = (uint8_t)(i >> 8);
		a[10] = (uint8_t)i;
		keys[i] = key_of(a, 96);
	}
	used = build(keys, n, FAITH_PINDEX_SLOTS);
	tl_check(used == (int)n, "%zu /96s fill 90%% of the table (%d)", n, used);
	used = build(keys, n, n - 1);
	tl_check(used == -1 && half.nlens == FAITH_PINDEX_TRIE,
		 "one slot short: trie (%d)", used);
	free(keys);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	table = calloc(FAITH_PINDEX_BUCKETS, sizeof(*table));
	blocks = calloc(FAITH_PINDEX_BLOCKS, sizeof(*blocks));
	if (!tl_check(table && blocks, "allocate a table"))
		return tl_report();
	test_pairs();
	test_sets();
	test_all_lengths();
	test_nested();
	test_stray_bits();
	test_filter();
	test_blocks();
	test_blocks_shared_slot();
	test_full();
	test_capacity();
	free(blocks);
	free(table);
	return tl_report();
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * The benchmark's prefix sets: three shapes of generated, distinct,
 * seeded prefixes; loading the first N of them into the `prefixes` trie and
 * rebuilding the index as faith-loader does; which lookup the datapath then
 * uses, and which generated prefix the "match generated" case aims at.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "bench.h"
#include "pindex.h"
#include "prefix.h"

#define GEN_SEED		0x6661697468ULL	/* "faith" */

const struct shape_desc shapes[N_SHAPES] = {
	[SHAPE_ONE] = {
		"one", "(a) one length: all /96",
		"all /96: 2001:db8:XXXX:YYYY:ZZZZ::/96 and 3fff:0XXX:XXXX:XXXX:XXXX::/96 "
		"(per-customer network-specific prefixes, the common deployment)",
		1,
	},
	[SHAPE_RFC6052] = {
		"rfc6052", "(b) RFC 6052 lengths: /32 /40 /48 /56 /64 /96",
		"the six RFC 6052 lengths drawn uniformly (/32s in 3fff::/20 only), "
		"inside 2001:db8::/32 and 3fff::/20",
		6,
	},
	[SHAPE_MANY] = {
		"65", "(c) 65 lengths: /32../96",
		"every length /32../96 drawn uniformly (/32s in 3fff::/20 only), "
		"inside 2001:db8::/32 and 3fff::/20",
		65,
	},
};

/* splitmix64: seeded, so that every run generates the same prefixes. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static bool key_covers(const struct faith_prefix_key *key,
		       const uint8_t addr[16])
{
	uint32_t bytes = key->prefixlen / 8, rest = key->prefixlen % 8;

	if (memcmp(key->addr, addr, bytes))
		return false;
	if (!rest)
		return true;
	return ((key->addr[bytes] ^ addr[bytes]) >> (8 - rest)) == 0;
}

/* Open-addressing set of keys, to keep the generated prefixes distinct. */
struct key_set {
	const struct faith_prefix_key **slot;
	size_t mask;
};

static uint64_t key_hash(const struct faith_prefix_key *key)
{
	const uint8_t *p = (const uint8_t *)key;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < sizeof(*key); i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* Insert key; false if an equal key is already there. */
static bool key_set_add(struct key_set *set, const struct faith_prefix_key *key)
{
	size_t i = key_hash(key) & set->mask;

	while (set->slot[i]) {
		if (!memcmp(set->slot[i], key, sizeof(*key)))
			return false;
		i = (i + 1) & set->mask;
	}
	set->slot[i] = key;
	return true;
}

/* One random prefix of the shape, in 2001:db8::/32 or 3fff::/20. */
static void random_prefix(uint64_t *rng, enum shape shape,
			  struct faith_prefix_key *key)
{
	static const uint32_t rfc6052[] = { 32, 40, 48, 56, 64, 96 };
	uint64_t bits[2] = { rng_next(rng), rng_next(rng) };
	uint32_t len, fixed, random_end;

	switch (shape) {
	case SHAPE_ONE:
		len = 96;
		break;
	case SHAPE_RFC6052:
		len = rfc6052[rng_next(rng) % 6];
		break;
	default:
		len = 32 + (uint32_t)(rng_next(rng) % 65);
		break;
	}
	memset(key, 0, sizeof(*key));
	/* A /32 in 2001:db8::/32 would be that /32 itself. */
	if (len > 32 && (rng_next(rng) & 1)) {
		static const uint8_t doc[4] = { 0x20, 0x01, 0x0d, 0xb8 };

		memcpy(key->addr, doc, 4);	/* 2001:db8::/32 */
		fixed = 32;
	} else {
		key->addr[0] = 0x3f;		/* 3fff::/20 (RFC 9637) */
		key->addr[1] = 0xff;
		fixed = 20;
	}
	/* Shape (a): 2001:db8:XXXX:YYYY:ZZZZ::/96, the last 16 bits zero. */
	random_end = shape == SHAPE_ONE ? 80 : len;
	for (uint32_t b = fixed; b < random_end; b++)
		if ((bits[b / 64] >> (b % 64)) & 1)
			key->addr[b / 8] |= (uint8_t)(0x80 >> (b % 8));
	key->prefixlen = len;
}

/*
 * keys[0] = 64:ff9b::/96, then count - 1 distinct random prefixes of the
 * shape, each accepted by faith_prefix_parse and none covering any address
 * in avoid.  Deterministic: the first k keys are the same whatever count is.
 */
struct faith_prefix_key *gen_prefixes(enum shape shape, uint32_t count,
				      const uint8_t (*avoid)[16],
				      size_t n_avoid)
{
	struct faith_prefix_key *keys = calloc(count, sizeof(*keys));
	struct key_set set = { 0 };
	uint64_t rng = GEN_SEED;
	size_t cap = 16;
	char why[128];

	while (cap < 2 * (size_t)count)
		cap *= 2;
	set.slot = calloc(cap, sizeof(*set.slot));
	set.mask = cap - 1;
	if (!keys || !set.slot) {
		free(keys);
		free(set.slot);
		return NULL;
	}
	if (faith_prefix_parse("64:ff9b::/96", &keys[0], why, sizeof(why)))
		abort();
	key_set_add(&set, &keys[0]);
	for (uint32_t n = 1; n < count;) {
		struct faith_prefix_key *key = &keys[n], check;
		char text[FAITH_PREFIX_STRLEN];
		bool bad = false;

		random_prefix(&rng, shape, key);
		for (size_t i = 0; i < n_avoid && !bad; i++)
			bad = key_covers(key, avoid[i]);
		if (bad)
			continue;
		faith_prefix_format(key, text, sizeof(text));
		if (faith_prefix_parse(text, &check, why, sizeof(why)) ||
		    memcmp(&check, key, sizeof(check)))
			continue;
		if (key_set_add(&set, key))
			n++;
	}
	free(set.slot);
	return keys;
}


/* Make the trie hold keys[0..count) (keys: the set loaded so far). */
static int load_keys(struct bench *b, const struct faith_prefix_key *keys,
		     uint32_t count)
{
	struct faith_prefix_value val = { 0 };
	char text[FAITH_PREFIX_STRLEN];
	int err;

	for (; b->loaded > count; b->loaded--)
		if (bpf_map_delete_elem(b->prefixes_fd, &keys[b->loaded - 1])) {
			err = -errno;
			faith_prefix_format(&keys[b->loaded - 1], text, sizeof(text));
			fprintf(stderr, "bench_datapath: removing prefix %s: %s\n",
				text, strerror(-err));
			return err;
		}
	for (; b->loaded < count; b->loaded++) {
		val.prefixlen = keys[b->loaded].prefixlen;
		if (bpf_map_update_elem(b->prefixes_fd, &keys[b->loaded], &val,
					BPF_ANY)) {
			err = -errno;
			faith_prefix_format(&keys[b->loaded], text, sizeof(text));
			fprintf(stderr, "bench_datapath: adding prefix %s: %s\n",
				text, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Note the lookup the datapath now uses: pindex_meta's active half. */
static int read_lookup(struct bench *b)
{
	struct faith_pindex_half half;
	int err = faith_pindex_active(b->meta_fd, &half);

	if (err) {
		fprintf(stderr, "bench_datapath: reading pindex_meta: %s\n",
			strerror(-err));
		return err;
	}
	b->lookup.nlens = half.nlens;
	b->lookup.depth = half.depth;
	b->lookup.filtered = half.filtered;
	b->lookup.blocks = half.blocks;
	b->lookup.root = 0;
	if (lookup_is_index(&b->lookup) && half.nlens)
		b->lookup.root = half.node[0].prefixlen;
	return 0;
}

/*
 * Make the trie hold keys[0..count), then rebuild the index from it as
 * faith-loader does after every change, timing the rebuild, and note the
 * lookup the datapath now uses.
 */
int set_count(struct bench *b, const struct faith_prefix_key *keys,
	      uint32_t count)
{
	double t;
	int err;

	err = load_keys(b, keys, count);
	if (err)
		return err;
	t = now_s();
	err = faith_pindex_rebuild(&b->index);
	if (err) {
		fprintf(stderr, "bench_datapath: rebuilding the prefix index: %s\n",
			strerror(-err));
		return err;
	}
	b->lookup.rebuild_ms = (now_s() - t) * 1e3;
	err = read_lookup(b);
	if (!err)
		err = aim_index(b, keys, count);
	return err;
}

bool lookup_is_index(const struct lookup *l)
{
	return l->nlens <= FAITH_PINDEX_LENS;
}

void lookup_text(const struct lookup *l, char *buf, size_t len)
{
	int n;

	if (l->nlens == FAITH_PINDEX_TRIE) {
		snprintf(buf, len, "LPM trie (the index's table is full)");
		return;
	}
	if (!lookup_is_index(l)) {
		snprintf(buf, len, "unknown (pindex_meta nlens %u)", l->nlens);
		return;
	}
	n = snprintf(buf, len, "index, %u length%s", l->nlens,
		     l->nlens == 1 ? "" : "s");
	if (l->nlens && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ", %s%sat most %u probe%s (first /%u)",
			 l->filtered ? "/32 filter, " : "",
			 l->blocks ? "block tables, " : "", l->depth,
			 l->depth == 1 ? "" : "s", l->root);
}

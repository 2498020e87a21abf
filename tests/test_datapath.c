// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the BPF datapath (bpf/faith.bpf.c) with BPF_PROG_TEST_RUN:
 * crafted packets through faith_tc and faith_xdp (one table, both modes),
 * every truncation of a few captured packets, faith_tc_meta without
 * metadata, and faith_lookup with real relay sockets in the relays map.
 * All of it through the prefix index (with its /32 filter, then without),
 * then through the LPM trie fallback.
 * The other files of the test are listed in datapath.h.
 *
 * Nothing is pinned: the maps' pin paths are cleared before loading, so the
 * test never touches /sys/fs/bpf.  Needs root (prints a skip line if not).
 *
 *   make build/test_datapath && build/test_datapath
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath.h"
#include "pindex.h"
#include "prefix.h"
#include "testlib.h"

static const char *const faith_prefixes[] = {
	"64:ff9b::/96", "2001:db8:100::/48",
};

/* ---- reporting for the other files -------------------------------------- */

/* A check line is one short sentence: 512 bytes are plenty. */
bool dp_check(bool cond, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return tl_check(cond, "%s", line);
}

void dp_diag(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	tl_diag("%s", line);
}

/* ---- prefixes: the index, the trie fallback, a big table ----------------- */

static int add_prefix(const char *text)
{
	struct faith_prefix_value value = { 0 };
	struct faith_prefix_key key;
	char why[128];
	int err;

	err = faith_prefix_parse(text, &key, why, sizeof(why));
	if (err) {
		printf("# %s\n", why);
		return err;
	}
	value.prefixlen = key.prefixlen;
	return bpf_map__update_elem(skel->maps.prefixes, &key, sizeof(key),
				    &value, sizeof(value), BPF_NOEXIST);
}

/* Derive the datapath's prefix index from the trie, as faith-loader does. */
/* max_slots: the index's capacity, FAITH_PINDEX_SLOTS unless testing. */
static int rebuild_index_max(__u32 *nlens, size_t max_slots)
{
	const struct faith_pindex_maps m = {
		.prefixes = bpf_map__fd(skel->maps.prefixes),
		.table = bpf_map__fd(skel->maps.bss),
		.start = bpf_map__fd(skel->maps.data_pstart),
		.blocks = bpf_map__fd(skel->maps.pindex_blocks),
		.meta = bpf_map__fd(skel->maps.data),
	};
	int err = faith_pindex_rebuild_max(&m, max_slots);

	return err ? err : faith_pindex_nlens(m.meta, nlens);
}

static int rebuild_index(__u32 *nlens)
{
	return rebuild_index_max(nlens, FAITH_PINDEX_SLOTS);
}

/*
 * Seven distinct lengths (the extra prefixes lie in 3fff::/20, away from
 * every address the cases use) still fit in the index; with a /24 among
 * them the /32 filter is off, so every lookup probes.
 */
static void add_short_prefixes(void)
{
	static const char *const extra[] = {
		"3fff:100::/24", "3fff:200::/28", "3fff:300::/32", "3fff:400::/36",
		"3fff:500::/40",
	};
	struct faith_pindex_half half;
	__u32 nlens = 0;
	int err = 0;

	for (size_t i = 0; !err && i < ARRAY_SIZE(extra); i++)
		err = add_prefix(extra[i]);
	if (!err)
		err = rebuild_index(&nlens);
	if (!err)
		err = faith_pindex_active(bpf_map__fd(skel->maps.data), &half);
	tl_check(!err && nlens == 7 && !half.filtered,
		 "7 distinct prefix lengths in the index, a /24 among them: no "
		 "/32 filter (%d, %u, filter %u)", err, nlens, half.filtered);
	lookup_label = "index without filter";
}

/* A table too small for prefixes and markers: the datapath asks the trie. */
static void switch_to_trie(void)
{
	__u32 nlens = 0;
	int err = rebuild_index_max(&nlens, 7);

	tl_check(!err && nlens == FAITH_PINDEX_TRIE,
		 "7 prefixes and their markers overflow a 7-slot table: the "
		 "datapath falls back to the trie (%d, %u)", err, nlens);
	lookup_label = "trie";
}

/* Is a TCP SYN to addr captured by the classifier in mode (gate open)? */
static int captured_in(enum mode mode, const struct in6_addr *addr)
{
	char text[INET6_ADDRSTRLEN];
	struct spec sp = { .ip = { .l4 = IPPROTO_TCP } };
	struct outcome o;
	struct pkt p;

	inet_ntop(AF_INET6, addr, text, sizeof(text));
	sp.ip.dst = text;
	build(&p, &sp);
	set_control(1, MARK);
	o = run_mode(mode, &p);
	return !o.err && o.captured;
}

static int lookup_captures(const struct in6_addr *addr)
{
	return captured_in(TC, addr);
}

/*
 * A big table in the index: 100,000 /96 prefixes, one length.  Addresses
 * inside sampled prefixes are captured, neighbours outside are not.
 */
static void test_big_index(void)
{
	struct faith_prefix_value value = { .prefixlen = 96 };
	struct faith_prefix_key key = { .prefixlen = 96 };
	int fd = bpf_map__fd(skel->maps.prefixes), err = 0, bad = 0;
	const __u32 n = 100000;
	__u32 nlens = 0, i;

	for (i = 0; !err && i < n; i++) {
		/* 2001:db8:5:X:Y::/96 */
		key.addr[0] = 0x20; key.addr[1] = 0x01; key.addr[2] = 0x0d;
		key.addr[3] = 0xb8; key.addr[5] = 0x05;
		key.addr[6] = (__u8)(i >> 24); key.addr[7] = (__u8)(i >> 16);
		key.addr[8] = (__u8)(i >> 8); key.addr[9] = (__u8)i;
		err = bpf_map_update_elem(fd, &key, &value, BPF_NOEXIST);
	}
	if (!err)
		err = rebuild_index(&nlens);
	if (!tl_check(!err && nlens == 2,
		      "100,000 /96 prefixes in the index (%d, %u lengths)",
		      err, nlens))
		return;
	for (i = 0; i < n; i += 997) {
		struct in6_addr in, out;

		memcpy(&in, key.addr, 16);
		in.s6_addr[6] = (__u8)(i >> 24); in.s6_addr[7] = (__u8)(i >> 16);
		in.s6_addr[8] = (__u8)(i >> 8); in.s6_addr[9] = (__u8)i;
		in.s6_addr[12] = 192; in.s6_addr[15] = (__u8)i;
		out = in;
		out.s6_addr[11] = 1;	/* past the /96 */
		bad += !lookup_captures(&in) + lookup_captures(&out);
	}
	tl_check(!bad,
		 "sampled addresses inside are captured, outside not (%d wrong)",
		 bad);
}

/* Is addr inside key? */
static bool key_holds(const struct faith_prefix_key *key, const struct in6_addr *addr)
{
	for (__u32 bit = 0; bit < key->prefixlen; bit++)
		if ((key->addr[bit / 8] ^ addr->s6_addr[bit / 8]) & (0x80 >> (bit % 8)))
			return false;
	return true;
}

/*
 * Several lengths in one /32 (3fff:ab::/32): the block tables below the
 * /32 filter, down to the last byte for the /95 beside the /96.  The
 * classifiers (TC, XDP) and sk_lookup agree with a brute-force answer
 * inside each prefix and with one bit flipped anywhere in it.  The
 * prefixes go again afterwards.
 */
static void test_block_index(void)
{
	static const char *const texts[] = {
		"3fff:ab:8000::/33", "3fff:ab:1200::/40", "3fff:ab:1301::/48",
		"3fff:ab:1302:ff00::/56", "3fff:ab:1300:5a5a:5a5a:5a5a::/96",
		"3fff:ab:1300:5a5a:5a5a:5a58::/95",
	};
	struct faith_prefix_key keys[ARRAY_SIZE(texts)];
	int fd = bpf_map__fd(skel->maps.prefixes), err = 0, bad = 0, tried = 0;
	struct faith_pindex_half half;
	char why[128];
	__u32 nlens = 0;

	for (size_t i = 0; !err && i < ARRAY_SIZE(texts); i++)
		err = faith_prefix_parse(texts[i], &keys[i], why, sizeof(why)) ||
		      add_prefix(texts[i]);
	if (!err)
		err = rebuild_index(&nlens);
	if (!err)
		err = faith_pindex_active(bpf_map__fd(skel->maps.data), &half);
	if (tl_check(!err && half.filtered && half.blocks >= 8,
		     "six lengths /33../96 in one /32: %u block tables (%d)",
		     half.blocks, err)) {
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
			for (__u32 bit = 0; bit <= keys[i].prefixlen; bit++) {
				struct in6_addr a;
				bool want = false;

				memcpy(&a, keys[i].addr, 16);
				a.s6_addr[15] = 0x21;
				if (bit < keys[i].prefixlen)	/* else: inside */
					a.s6_addr[bit / 8] ^= (__u8)(0x80 >> (bit % 8));
				for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
					want |= key_holds(&keys[k], &a);
				bad += captured_in(TC, &a) != want;
				bad += captured_in(XDP, &a) != want;
				bad += lookup_is_faith(&a) != want;
				tried++;
			}
		}
		tl_check(!bad, "%d addresses in, beside and around them, TC, XDP "
			 "and sk_lookup: %d verdicts wrong", tried, bad);
	}
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		bpf_map_delete_elem(fd, &keys[i]);
	err = rebuild_index(&nlens);
	tl_check(!err && nlens == 2, "and removed again (%d, %u lengths)", err, nlens);
}

/* ---- setup -------------------------------------------------------------- */

static int setup(void)
{
	__u32 nlens = 0;
	struct bpf_map *map;
	size_t i;
	int err;

	ncpus = libbpf_num_possible_cpus();
	skel = faith_bpf__open();
	if (!tl_check(skel && ncpus > 0, "open the BPF object"))
		return -1;
	bpf_object__for_each_map(map, skel->obj)	/* never pin */
		bpf_map__set_pin_path(map, NULL);
	err = faith_bpf__load(skel);
	if (!tl_check(!err, "load the BPF object, unpinned maps")) {
		tl_diag("%d (%s)", err, strerror(-err));
		return -1;
	}
	for (i = 0; !err && i < ARRAY_SIZE(faith_prefixes); i++)
		err = add_prefix(faith_prefixes[i]);
	if (!err)
		err = rebuild_index(&nlens);
	if (!tl_check(!err && nlens == 2,
		      "prefixes 64:ff9b::/96, 2001:db8:100::/48, indexed"))
		return -1;
	lookup_label = "index";
	return 0;
}

int main(void)
{
	int m;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		tl_skip("test_datapath: needs root (BPF_PROG_TEST_RUN)");
		return tl_report();
	}
	if (setup())
		goto out;

	/* The same tables through the prefix index (with its /32 filter, then
	 * without), then through the trie. */
	for (int pass = 0; pass < 3; pass++) {
		if (pass == 1)
			add_short_prefixes();
		if (pass == 2)
			switch_to_trie();
		for (m = TC; m <= XDP; m++)
			test_pkt_table(m);
		printf("# %s sk_lookup\n", lookup_label);
		test_lookup();
		if (!pass) {
			printf("# block tables\n");
			test_block_index();
			printf("# a big table\n");
			test_big_index();
		}
	}
	test_tc_mark();
	test_tc_meta();
	test_truncated();

out:
	faith_bpf__destroy(skel);
	return tl_report();
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the files of bench_datapath share (see bench/README.md):
 *
 *   bench_datapath.c  main(): set up, run the shapes, write the report
 *   options.c         the command line
 *   progs.c           loading faith, the empty programs, the XDP wrapper
 *   prefixes.c        the prefix sets: generated, loaded, indexed
 *   aim.c             the costliest addresses to look up
 *   shape.c           one shape: its packets and cases, table, sweep
 *   run.c             running and timing the cases, their statistics
 *   report.c          the report
 *
 * The packets come from tests/pkt.c, shared with tests/test_datapath.
 */
#ifndef FAITH_BENCH_H
#define FAITH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The skeleton names types of maps.h: include it first. */
#include "maps.h"
#include "faith.skel.h"
#include "pindex.h"
#include "pkt.h"

#define TARGET_NS		15.0
#define DEFAULT_PREFIXES	10000
#define DEFAULT_ROUNDS		15
#define DEFAULT_REPEAT		1000000
/* A destination inside 2001:db8::/32, which holds about half of the
 * generated prefixes, but in none of them. */
#define NEAR_DST		"2001:db8:ffff::1"
/* A destination in none of the generated prefixes' /32s (a public DNS
 * server): the index's /32 filter answers it with no probe (and a trie
 * walk leaves the populated subtrees near the root). */
#define FAR_DST			"2001:4860:4860::8888"
#define MATCH_DST		"64:ff9b::c000:202"

/* Prefix counts of the scaling sweep, 1..100000 (shape.c). */
#define N_SWEEP			5
extern const uint32_t sweep_counts[N_SWEEP];

/* ---- prefix sets (prefixes.c) -------------------------------------------- */

/*
 * The shapes of prefix set measured.  What decides the datapath's cost is
 * the number of distinct prefix lengths: the index binary-searches them, one
 * hash probe per step (1 probe for one length, 3 for six, 7 for 65).
 */
enum shape { SHAPE_ONE, SHAPE_RFC6052, SHAPE_MANY, N_SHAPES };

struct shape_desc {
	const char *id;		/* name for --shapes */
	const char *title;
	const char *prefixes;	/* what the generated prefixes are */
	uint32_t want_nlens;	/* the lookup the datapath should use */
};

extern const struct shape_desc shapes[N_SHAPES];

/* What the datapath looks addresses up in, after the last rebuild. */
struct lookup {
	uint32_t nlens;		/* FAITH_PINDEX_TRIE: the trie */
	uint32_t depth;		/* the most probes a lookup makes */
	uint32_t root;		/* the length probed first */
	bool filtered;		/* the /32 filter in front of the probes */
	uint32_t blocks;	/* block tables below it */
	double rebuild_ms;	/* faith_pindex_rebuild() took */
};

/* ---- options (options.c) ------------------------------------------------- */

enum scaling { SCALING_AUTO, SCALING_ALWAYS, SCALING_NEVER };

struct options {
	uint32_t prefixes, rounds, repeat;
	const char *markdown;
	int cpu;		/* -1: no pinning, -2: where we start */
	enum scaling scaling;
	bool xdp;
	bool shape[N_SHAPES];
};

int parse_args(int argc, char **argv, struct options *o);

/* ---- cases and their results --------------------------------------------- */

/* TC cases first; C_EMPTY_TC..C_UDP are also the scaling sweep's cases. */
enum {
	C_EMPTY_TC, C_NOMATCH, C_NOMATCH_FAR, C_MATCH, C_GEN, C_UDP, C_IPV4,
	C_EMPTY_XDP, C_XDP_MATCH, C_XDP_NOMATCH, N_CASES
};
#define N_SWEEP_CASES	(C_UDP + 1)

enum kind { KIND_TC, KIND_XDP };

enum expect {
	EXPECT_NONE,		/* baseline: nothing to check */
	EXPECT_PASS,		/* not captured: no mark, no metadata */
	EXPECT_CAPTURE,		/* captured: mark / XDP metadata */
};

struct bench_case {
	char name[160];
	enum kind kind;
	int prog_fd;
	const struct pkt *pkt;
	int baseline;		/* index of its empty program, -1 if it is one */
	enum expect expect;
	bool skip;		/* not applicable in this run */
	bool bad;		/* did not behave as expected */
	uint32_t *ns;		/* per round, kernel-reported average ns */
};

struct result {
	double median, delta;
	double quiet;		/* min(case) - min(its empty program) */
	uint32_t min;
	bool skip, bad, baseline;
};

struct sweep_row {
	uint32_t count;
	struct lookup lookup;
	uint32_t gen_len;	/* 0: no generated prefix loaded */
	struct result res[N_SWEEP_CASES];
	bool bad;
};

struct shape_run {
	bool done, swept;
	struct lookup lookup;
	uint32_t gen_len;
	struct result res[N_CASES];
	char names[N_CASES][160];
	size_t n_rows;
	struct sweep_row rows[N_SWEEP];
};

/* bpf_xdp_adjust_meta() under a repeated XDP test run. */
struct meta_probe {
	bool done;
	uint32_t runs;		/* runs in the test run */
	uint32_t direct_len;	/* metadata bytes faith_xdp alone leaves */
	uint32_t wrapped_len;	/* ... behind the wrapper */
	bool wrapped_ok;	/* and that metadata holds the TCP verdict */
};

/* ---- the benchmark's state ----------------------------------------------- */

struct empty_bpf;
struct aim_index;

struct bench {
	struct options o;
	struct faith_bpf *skel;
	struct empty_bpf *empty;	/* bench/empty.bpf.o: empty_tc */
	int prefixes_fd, meta_fd;
	struct faith_pindex_maps index;	/* for faith_pindex_rebuild() */
	int tc_fd, empty_tc_fd, xdp_fd;
	int xdp_wrap_fd, empty_xdp_wrap_fd;	/* -1 without XDP */
	int xdp_progs_fd, empty_xdp_fd;	/* what the wrappers call */
	uint32_t mark;
	uint32_t loaded;	/* the current keys[0..loaded) are in the trie */
	struct lookup lookup;
	struct aim_index *aim;		/* the index again, in memory */
	uint8_t near_dst[16], far_dst[16], match_dst[16];
	struct meta_probe probe;
};

/* prefixes.c */
struct faith_prefix_key *gen_prefixes(enum shape shape, uint32_t count,
				      const uint8_t (*avoid)[16],
				      size_t n_avoid);
int set_count(struct bench *b, const struct faith_prefix_key *keys,
	      uint32_t count);
bool lookup_is_index(const struct lookup *l);
void lookup_text(const struct lookup *l, char *buf, size_t len);

/* aim.c: the addresses the "longest search" cases aim at. */
struct aim_pick {
	uint8_t addr[16];
	uint32_t len;		/* the prefix it is in (a match) */
	int probes, steps;	/* its lookup: hash probes, block tables read */
};

int aim_index(struct bench *b, const struct faith_prefix_key *keys,
	      uint32_t count);
void aim_free(struct bench *b);
/* The costliest address inside a loaded generated prefix; false if none. */
bool aim_match(const struct bench *b, const struct faith_prefix_key *keys,
	       struct aim_pick *best);
/* The costliest address beside one, in none (NEAR_DST at least). */
void aim_miss(const struct bench *b, const struct faith_prefix_key *keys,
	      struct aim_pick *best);

/* progs.c */
int load_progs(struct bench *b);
void unload_progs(struct bench *b);

/* shape.c */
uint32_t sweep_rounds(const struct options *o);
uint32_t sweep_repeat(const struct options *o);
bool misses_target(const struct result *r);
int run_shape(struct bench *b, enum shape s, struct shape_run *sr);

/* run.c */
double now_s(void);
bool verify(struct bench_case *c, uint32_t mark);
int run_rounds(struct bench_case *cases, int n, uint32_t rounds,
	       uint32_t repeat, const char *what);
struct result summarize(const struct bench_case *cases, int i,
			uint32_t rounds);
void probe_meta(struct bench *b, const struct pkt *match);

/* report.c */
void print_report(FILE *f, const struct bench *b, const struct shape_run *runs,
		  int cpu, double t0);

#endif /* FAITH_BENCH_H */

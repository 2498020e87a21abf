// SPDX-License-Identifier: BSD-2-Clause
/* `status`: everything an operator wants to see at once. */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <bpf/bpf.h>

#include "cli.h"
#include "iface.h"
#include "json.h"
#include "netlink.h"
#include "objects.h"
#include "pindex.h"
#include "util.h"

static const char *iface_mode(const struct faith_iface_state *st)
{
	if (!st->tc_ours)
		return st->xdp_ours ? "broken (xdp without tc)" : "missing";
	if (!st->xdp_ours)
		return "tc";
	return st->xdp_generic ? "xdp-generic" : "xdp";
}

static void show_ifaces(const struct faith_cli *cli, const struct faith_objs *o)
{
	__u32 key, next, *prev = NULL;
	struct faith_iface_state st;
	struct faith_iface rec;

	if (cli->json)
		json_arr_open("interfaces");
	else
		printf("interfaces:\n");
	while (!bpf_map_get_next_key(o->fd[OBJ_IFACES], prev, &next)) {
		const char *mode;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(o->fd[OBJ_IFACES], &key, &rec))
			continue;
		mode = faith_iface_query((int)key, &st) ? "gone" : iface_mode(&st);
		if (cli->json) {
			json_obj_open(NULL);
			json_str("ifname", rec.name);
			json_u64("ifindex", key);
			json_str("mode", mode);
			json_obj_close();
		} else {
			printf("  %s (ifindex %u): %s\n", rec.name, key, mode);
		}
	}
	if (cli->json)
		json_arr_close();
}

static const struct {
	const char *name;
	size_t off;
} counters[] = {
	{ "packets", offsetof(struct faith_stats, packets) },
	{ "tcp_captured", offsetof(struct faith_stats, tcp_captured) },
	{ "icmp_captured", offsetof(struct faith_stats, icmp_captured) },
	{ "gated_off", offsetof(struct faith_stats, gated_off) },
	{ "assigned", offsetof(struct faith_stats, assigned) },
	{ "no_relay", offsetof(struct faith_stats, no_relay) },
	{ "malformed", offsetof(struct faith_stats, malformed) },
};

static void show_stats(const struct faith_cli *cli, const struct faith_stats *st)
{
	if (cli->json)
		json_obj_open("stats");
	else
		printf("counters:\n");
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		uint64_t val = *(const __u64 *)((const char *)st + counters[i].off);

		if (cli->json)
			json_u64(counters[i].name, val);
		else
			printf("  %-14s %" PRIu64 "\n", counters[i].name, val);
	}
	if (cli->json)
		json_obj_close();
}

static void show_delivery(const struct faith_cli *cli, const struct faith_control *ctl)
{
	int rule = faith_nl_rule_exists(ctl->mark, ctl->table, ctl->rule_prio);
	int route = faith_nl_local_route_exists(ctl->table);

	if (cli->json) {
		json_u64("keepfaith", ctl->keepfaith);
		json_u64("mark", ctl->mark);
		json_u64("table", ctl->table);
		json_u64("rule_priority", ctl->rule_prio);
		json_bool("rule", rule == 1);
		json_bool("route", route == 1);
		return;
	}
	printf("keepfaith: %u%s\n", ctl->keepfaith,
	       ctl->keepfaith ? "" : " (closed: nothing is captured)");
	printf("delivery: fwmark 0x%x lookup %u (priority %u): rule %s, local route %s\n",
	       ctl->mark, ctl->table, ctl->rule_prio, rule == 1 ? "ok" : "MISSING",
	       route == 1 ? "ok" : "MISSING");
}

/* How the datapath finds prefixes: the index, or the trie as fallback. */
static void show_lookup(const struct faith_cli *cli, const struct faith_objs *o)
{
	struct faith_pindex_half half;
	bool trie;

	if (faith_pindex_active(o->fd[OBJ_PINDEX_META], &half))
		return;
	trie = half.nlens == FAITH_PINDEX_TRIE;
	if (cli->json) {
		json_str("lookup", trie ? "trie" : "index");
		if (!trie) {
			json_u64("prefix_lengths", half.nlens);
			json_u64("max_probes", half.depth);
			json_bool("filter_32", half.filtered);
			json_u64("block_tables", half.blocks);
		}
	} else if (trie) {
		printf("lookup: LPM trie (the prefix index's table is full)\n");
	} else {
		printf("lookup: index (%u prefix length%s, at most %u probe%s%s",
		       half.nlens, half.nlens == 1 ? "" : "s", half.depth,
		       half.depth == 1 ? "" : "s",
		       half.filtered ? ", /32 filter" : "");
		if (half.blocks)
			printf(", %u block table%s of %u", half.blocks,
			       half.blocks == 1 ? "" : "s", FAITH_PINDEX_BLOCKS);
		printf(")\n");
	}
}

static int run_status(struct faith_cli *cli, int argc, char **argv)
{
	struct faith_control ctl;
	struct faith_stats sum;
	struct faith_objs o;
	int ret;

	ret = cli_parse(cli, &verb_status, argc, argv, "", NULL, NULL, NULL);
	if (ret != CLI_CONTINUE)
		return ret;
	if (argc != optind)
		return cli_bad(&verb_status, "unexpected argument '%s'", argv[optind]);
	faith_objs_init(&o, cli->pin_dir);
	if (faith_objs_open(&o)) {
		faith_objs_close(&o);
		if (cli_incomplete(cli, &o))
			return EXIT_FAIL;
		if (cli->json) {
			json_obj_open(NULL);
			json_str("pin_dir", cli->pin_dir);
			json_bool("loaded", false);
			json_obj_close();
			json_end();
		} else {
			printf("faith is not loaded in %s\n", cli->pin_dir);
		}
		return EXIT_OK;
	}
	if (faith_control_get(&o, &ctl) || faith_stats_sum(&o, &sum)) {
		faith_err("cannot read the maps in %s: %s", cli->pin_dir, faith_strerror(-errno));
		faith_objs_close(&o);
		return EXIT_FAIL;
	}
	if (cli->json) {
		json_obj_open(NULL);
		json_str("pin_dir", cli->pin_dir);
		json_bool("loaded", true);
	} else {
		printf("faith loaded in %s\n", cli->pin_dir);
	}
	show_delivery(cli, &ctl);
	show_lookup(cli, &o);
	show_ifaces(cli, &o);
	if (!cli->json)
		printf("prefixes:\n");
	list_prefixes(cli, &o, "prefixes");
	if (!cli->json)
		printf("relays:\n");
	list_relays(cli, &o, "relays");
	show_stats(cli, &sum);
	if (cli->json) {
		json_obj_close();
		json_end();
	}
	faith_objs_close(&o);
	return EXIT_OK;
}

const struct faith_verb verb_status = {
	.name = "status", .run = run_status,
	.synopsis = "",
	.help = "Show the gate, local delivery, attached interfaces, prefixes, relays and\n"
		"counters (summed over CPUs).  Exits 0 even when faith is not loaded.\n",
};

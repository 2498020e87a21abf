/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The loaded datapath: maps, programs and the sk_lookup link, all pinned in
 * the pin directory, plus the policy rule and local route for delivery.
 */
#ifndef FAITH_OBJECTS_H
#define FAITH_OBJECTS_H

#include <limits.h>
#include <stdbool.h>
#include "maps.h"

enum faith_obj {
	OBJ_PREFIXES,
	OBJ_RELAYS,
	OBJ_CONTROL,
	OBJ_STATS,
	OBJ_IFACES,
	OBJ_PINDEX,
	OBJ_PINDEX_META,
	OBJ_PINDEX_START,
	OBJ_PINDEX_BLOCKS,
	OBJ_PROG_TC,
	OBJ_PROG_TC_META,
	OBJ_PROG_XDP,
	OBJ_PROG_LOOKUP,
	OBJ_LINK_LOOKUP,
	OBJ_COUNT,
	OBJ_FIRST_PROG = OBJ_PROG_TC,
};

struct faith_objs {
	char pin_dir[PATH_MAX];
	int fd[OBJ_COUNT];	/* -1 where not open */
	bool fresh;		/* faith_objs_load() loaded it just now */
};

const char *faith_obj_name(enum faith_obj obj);

void faith_objs_init(struct faith_objs *o, const char *pin_dir);
/* Open every pinned object: 0, -ENOENT if faith is not (fully) loaded. */
int faith_objs_open(struct faith_objs *o);
/* Open, loading and pinning what is missing; ensure rule and route. */
int faith_objs_load(struct faith_objs *o);
/* Remove rule, route and every pin; interfaces must be detached first. */
int faith_objs_unload(struct faith_objs *o);
/* Rebuild the datapath's prefix index from the `prefixes` trie. */
int faith_objs_rebuild_index(const struct faith_objs *o);
void faith_objs_close(struct faith_objs *o);
/* True if any object is pinned in the pin directory. */
bool faith_objs_any_pinned(const struct faith_objs *o);
/* Some objects are pinned, not all (of the maps, if maps_only): the first
 * missing one's name; else NULL. */
const char *faith_objs_missing(const struct faith_objs *o, bool maps_only);
/*
 * 0 if the open sk_lookup link belongs to this network namespace (or is not
 * open); else say so on stderr and return -EXDEV.
 */
int faith_objs_check_netns(const struct faith_objs *o);

int faith_control_get(const struct faith_objs *o, struct faith_control *ctl);
int faith_control_set(const struct faith_objs *o, const struct faith_control *ctl);
/* Per-CPU counters summed over all CPUs. */
int faith_stats_sum(const struct faith_objs *o, struct faith_stats *sum);

/* libbpf's own messages: shown only when verbose. */
void faith_libbpf_verbose(bool on);

#endif /* FAITH_OBJECTS_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Local delivery for captured packets, over rtnetlink (no iproute2 needed):
 *   ip -6 rule add priority PRIO fwmark MARK lookup TABLE
 *   ip -6 route add local ::/0 dev lo table TABLE
 * All functions act on the calling thread's network namespace and return 0
 * or a negative errno.
 */
#ifndef FAITH_NETLINK_H
#define FAITH_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Add the fwmark rule; 0 if an identical rule already exists. */
int faith_nl_rule_add(uint32_t mark, uint32_t table, uint32_t prio);
/* Delete it; -ENOENT if it does not exist. */
int faith_nl_rule_del(uint32_t mark, uint32_t table, uint32_t prio);
/* 1 if the identical rule exists, 0 if not, negative errno on failure. */
int faith_nl_rule_exists(uint32_t mark, uint32_t table, uint32_t prio);

/* Add `local ::/0 dev lo table TABLE`; 0 if it already exists. */
int faith_nl_local_route_add(uint32_t table);
/* Delete it; -ENOENT (or -ESRCH) if it does not exist. */
int faith_nl_local_route_del(uint32_t table);
/* 1 if it exists, 0 if not, negative errno on failure. */
int faith_nl_local_route_exists(uint32_t table);

/* 1 if the clsact qdisc of ifindex holds no filter (ingress or egress),
 * 0 if it holds some, negative errno on failure. */
int faith_nl_clsact_unused(int ifindex);

/* 1 if a filter sits at priority prio of ifindex's clsact ingress (chain 0),
 * its kind ("bpf", "u32"...) in kind; 0 if none; negative errno on failure. */
int faith_nl_tc_filter_kind(int ifindex, uint32_t prio, char *kind, size_t len);

#endif /* FAITH_NETLINK_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/* Hooking the classifier to interfaces: TC ingress, optionally XDP. */
#ifndef FAITH_IFACE_H
#define FAITH_IFACE_H

#include <stdbool.h>
#include <linux/types.h>
#include "objects.h"

/* Our TC filter on clsact ingress. */
#define FAITH_TC_HANDLE	0xfa17
#define FAITH_TC_PRIO	0xfa1

enum faith_xdp_mode {
	FAITH_XDP_NONE,		/* TC only */
	FAITH_XDP_AUTO,		/* native, else generic */
	FAITH_XDP_NATIVE,
	FAITH_XDP_GENERIC,
};

struct faith_iface_state {
	__u32 tc_prog_id;	/* 0: no filter at our handle/priority */
	bool tc_ours;
	__u32 xdp_prog_id;	/* 0: no XDP program */
	bool xdp_ours;
	bool xdp_generic;
	char tc_name[16], xdp_name[16];
};

int faith_iface_query(int ifindex, struct faith_iface_state *st);
/* Attach; *already set when it was attached just like that. */
int faith_iface_attach(const struct faith_objs *o, int ifindex,
		       const char *name, enum faith_xdp_mode mode, bool *already);
/* Detach what is ours; -ENOENT if nothing of ours was attached. */
int faith_iface_detach(const struct faith_objs *o, int ifindex);

#endif /* FAITH_IFACE_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Shared by bpf/faithd_sockmap.bpf.c and faithd's sockmap relay. */
#ifndef FAITHD_SOCKMAP_MAPS_H
#define FAITHD_SOCKMAP_MAPS_H

#include <linux/types.h>

/* Two sockets per relayed connection. */
#define FAITHD_SM_MAX_SOCKS	(1 << 17)

/* The value of `dirs`, keyed by the cookie of the socket bytes come from.
 * Written by the verdict program only. */
struct faithd_sm_dir {
	__u64 peer;	/* the cookie of the socket they go to */
	__u64 sent;	/* bytes redirected to it */
	__u64 passed;	/* bytes left on the source for faithd to move */
};

/* The value of `ctl`, same key.  Written by faithd only (a whole value at
 * a time: the program sees the old one or the new one). */
struct faithd_sm_ctl {
	__u32 hold;	/* 1: do not redirect (flow control) */
	__u32 pad;
	__u64 consumed;	/* passed bytes faithd has written to the peer */
};

#endif /* FAITHD_SOCKMAP_MAPS_H */

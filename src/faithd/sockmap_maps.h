/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Shared by bpf/faithd_sockmap.bpf.c and faithd's sockmap relay. */
#ifndef FAITHD_SOCKMAP_MAPS_H
#define FAITHD_SOCKMAP_MAPS_H

#include <linux/types.h>

/* Two sockets per relayed connection. */
#define FAITHD_SM_MAX_SOCKS	(1 << 17)

/* The value of `dirs`, keyed by the cookie of the socket bytes come from. */
struct faithd_sm_dir {
	__u64 peer;	/* the cookie of the socket they go to */
	__u64 sent;	/* bytes redirected to it (the verdict program) */
};

#endif /* FAITHD_SOCKMAP_MAPS_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/* faithd --datapath translate: the BPF object, loaded by the master. */
#ifndef FAITHD_XLATE_H
#define FAITHD_XLATE_H

#include <stddef.h>
#include <sys/types.h>

#define XL_MAX_IFACES	256

struct faithd_xlate {
	struct faithd_xlate_bpf *skel;
	int flows_fd;		/* two entries per handed-off connection */
	unsigned *nconns;	/* the program's count of them (shared memory) */
	unsigned nlinks;
	int links[XL_MAX_IFACES];	/* tcx ingress links: gone with faithd */
};

/* Load the program and attach it at TC ingress (tcx) of every Ethernet
 * interface; 0 or -errno, with the reason in why (the caller logs it: an
 * error, or a warning when it falls back to splice). */
int xlate_load(struct faithd_xlate **out, char *why, size_t len);
/* After dropping privileges: can workers still update the map and freeze
 * sockets (TCP_REPAIR needs CAP_NET_ADMIN)?  0, or -errno and why. */
int xlate_check(const struct faithd_xlate *xl, const char *user, char *why, size_t len);
void xlate_unload(struct faithd_xlate *xl);
/* A worker is gone (its frozen sockets with it): drop its entries. */
void xlate_sweep(struct faithd_xlate *xl, pid_t pid);

#endif /* FAITHD_XLATE_H */

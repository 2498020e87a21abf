/* SPDX-License-Identifier: BSD-2-Clause */
/* faithd --datapath translate: the BPF object, loaded by the master. */
#ifndef FAITHD_XLATE_H
#define FAITHD_XLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define XL_MAX_IFACES	1024

struct faithd_xlate {
	struct faithd_xlate_bpf *skel;
	int flows_fd;		/* two entries per handed-off connection */
	unsigned *nconns;	/* the program's count of them (shared memory) */
	unsigned nlinks;
	int links[XL_MAX_IFACES];	/* tcx ingress links: gone with faithd */
	unsigned link_ifindex[XL_MAX_IFACES];	/* links[i]'s interface */
	int links_nl;		/* netlink: link notifications; -1 */
	bool full_logged;	/* "more than XL_MAX_IFACES" said once */
};

/* Load the program and attach it at TC ingress (tcx) of every Ethernet
 * interface; 0 or -errno, with the reason in why (the caller logs it: an
 * error, or a warning when it falls back to splice). */
int xlate_load(struct faithd_xlate **out, char *why, size_t len);
/* After dropping privileges: can workers still update the map and freeze
 * sockets (TCP_REPAIR needs CAP_NET_ADMIN)?  0, or -errno and why. */
int xlate_check(const struct faithd_xlate *xl, const char *user, char *why, size_t len);
void xlate_unload(struct faithd_xlate *xl);

/* xlate_links.c: attach to every Ethernet interface (at start; 0 or -errno
 * and why); the netlink socket that says when interfaces come and go (-1:
 * none), and what the master does when it does; close all. */
int xlate_links_attach(struct faithd_xlate *xl, char *why, size_t len);
static inline int xlate_links_fd(const struct faithd_xlate *xl)
{
	return xl ? xl->links_nl : -1;
}
void xlate_links_changed(struct faithd_xlate *xl);
void xlate_links_close(struct faithd_xlate *xl);
/* A worker is gone (its frozen sockets with it): drop its entries. */
void xlate_sweep(struct faithd_xlate *xl, pid_t pid);

#endif /* FAITHD_XLATE_H */

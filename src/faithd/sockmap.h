/* SPDX-License-Identifier: BSD-2-Clause */
/* faithd --datapath sockmap: the BPF object, loaded by the master. */
#ifndef FAITHD_SOCKMAP_H
#define FAITHD_SOCKMAP_H

struct faithd_sockmap {
	struct faithd_sockmap_bpf *skel;
	int socks_fd;	/* every relayed socket: the verdict's map and targets */
	int dirs_fd;	/* cookie -> peer cookie, bytes redirected and passed */
	int ctl_fd;	/* cookie -> hold, passed bytes moved (faithd's word) */
};

/* Load and attach the verdict program (needs CAP_BPF and CAP_NET_ADMIN);
 * 0 or -errno, with the reason logged. */
int sockmap_load(struct faithd_sockmap **out);
/* After dropping privileges: can this process still update the maps? */
int sockmap_check(const struct faithd_sockmap *sm, const char *user);
void sockmap_unload(struct faithd_sockmap *sm);

#endif /* FAITHD_SOCKMAP_H */

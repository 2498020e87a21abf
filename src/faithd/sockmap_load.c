// SPDX-License-Identifier: BSD-2-Clause
/*
 * faithd --datapath sockmap, the master's part: load the verdict program of
 * bpf/faithd_sockmap.bpf.c and attach it to its map before privileges are
 * dropped; check that the workers can still update the maps.  The relay
 * itself is sockmap.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "faithd_sockmap.skel.h"
#include "faithd/log.h"
#include "faithd/sockmap.h"
#include "faithd/sockmap_maps.h"

int sockmap_load(struct faithd_sockmap **out)
{
	struct faithd_sockmap *sm = calloc(1, sizeof(*sm));
	int err;

	if (!sm)
		return -ENOMEM;
	libbpf_set_print(NULL);
	sm->skel = faithd_sockmap_bpf__open_and_load();
	if (!sm->skel) {
		err = -errno;
		log_err("--datapath sockmap: loading its BPF program failed: %s (it needs "
			"CAP_BPF and CAP_NET_ADMIN, and a kernel with BPF sockmap support); "
			"use --datapath splice", strerror(-err));
		free(sm);
		return err;
	}
	sm->socks_fd = bpf_map__fd(sm->skel->maps.socks);
	sm->dirs_fd = bpf_map__fd(sm->skel->maps.dirs);
	sm->ctl_fd = bpf_map__fd(sm->skel->maps.ctl);
	if (bpf_prog_attach(bpf_program__fd(sm->skel->progs.faithd_verdict), sm->socks_fd,
			    BPF_SK_SKB_STREAM_VERDICT, 0) < 0) {
		err = -errno;
		log_err("--datapath sockmap: attaching the stream verdict program: %s; "
			"use --datapath splice", strerror(-err));
		sockmap_unload(sm);
		return err;
	}
	*out = sm;
	return 0;
}

int sockmap_check(const struct faithd_sockmap *sm, const char *user)
{
	struct faithd_sm_ctl v = { 0 };
	__u64 key = 0;

	if (!bpf_map_update_elem(sm->ctl_fd, &key, &v, BPF_ANY)) {
		bpf_map_delete_elem(sm->ctl_fd, &key);
		return 0;
	}
	log_err("--datapath sockmap: as user '%s', updating the relay's maps fails: %s; "
		"run faithd with --user '' or use --datapath splice", user, strerror(errno));
	return -errno;
}

void sockmap_unload(struct faithd_sockmap *sm)
{
	if (!sm)
		return;
	faithd_sockmap_bpf__destroy(sm->skel);
	free(sm);
}


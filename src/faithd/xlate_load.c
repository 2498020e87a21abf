// SPDX-License-Identifier: BSD-2-Clause
/*
 * faithd --datapath translate, the master's part: load the program of
 * bpf/faithd_xlate.bpf.c and attach it at TC ingress of the router's
 * interfaces (xlate_links.c).  tcx links (Linux 6.6): they run before
 * faith's clsact classifier, and they go away with faithd's last descriptor
 * of them, so that a faithd killed with SIGKILL leaves no program behind.
 * The hand-off itself is xlate.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "faithd_xlate.skel.h"
#include "faith_relay.h"
#include "maps.h"
#include "faithd/log.h"
#include "faithd/xlate.h"
#include "faithd/xlate_maps.h"

/* Share faith's own maps (by their pins) instead of the object's empty
 * ones: 0 or -errno. */
static int reuse_faith_maps(struct faithd_xlate_bpf *skel, const struct xlate_faith_maps *faith)
{
	const char *dir = faith_relay_pin_dir(faith->pin_dir);
	struct { struct bpf_map *map; const char *pin; } pinned[] = {
		{ skel->maps.control, FAITH_PIN_CONTROL },
		{ skel->maps.relays, FAITH_PIN_RELAYS },
		{ skel->maps.ifaces, FAITH_PIN_IFACES },
	};
	char path[PATH_MAX];
	int err = bpf_map__reuse_fd(skel->maps.prefixes, faith->prefixes_fd);

	for (size_t i = 0; !err && i < sizeof(pinned) / sizeof(pinned[0]); i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, pinned[i].pin);
		fd = bpf_obj_get(path);
		if (fd < 0)
			return -errno;
		err = bpf_map__reuse_fd(pinned[i].map, fd);
		close(fd);
	}
	return err;
}

int xlate_load(struct faithd_xlate **out, const struct xlate_faith_maps *faith, char *why,
	       size_t len)
{
	struct faithd_xlate *xl = calloc(1, sizeof(*xl));
	int err;

	if (!xl) {
		snprintf(why, len, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	xl->links_nl = -1;
	xl->raw4 = xl->raw6 = -1;
	libbpf_set_print(NULL);
	xl->skel = faithd_xlate_bpf__open();
	err = !xl->skel ? -errno : faith ? reuse_faith_maps(xl->skel, faith) : 0;
	if (!err && xl->skel && faithd_xlate_bpf__load(xl->skel))
		err = -errno;
	if (err) {
		faithd_xlate_bpf__destroy(xl->skel);
		snprintf(why, len, "loading its BPF program failed: %s (it needs CAP_BPF "
			 "and CAP_NET_ADMIN)", strerror(-err));
		free(xl);
		return err;
	}
	xl->flows_fd = bpf_map__fd(xl->skel->maps.flows);
	/* .bss is mapped shared: the workers forked later update it too. */
	xl->nconns = &xl->skel->bss->nconns;
	err = xlate_links_attach(xl, why, len);
	if (err) {
		xlate_unload(xl);
		return err;
	}
	*out = xl;
	return 0;
}

int xlate_check(const struct faithd_xlate *xl, const char *user, char *why, size_t len)
{
	struct faithd_xl_key key = { .pad = ~0u };
	struct faithd_xl_flow v = { 0 };
	int fd, on = 1, off = 0, err = 0;

	if (bpf_map_update_elem(xl->flows_fd, &key, &v, BPF_ANY)) {
		err = -errno;
		snprintf(why, len, "as user '%s', updating its map fails: %s (run faithd "
			 "with --user '')", user, strerror(-err));
		return err;
	}
	bpf_map_delete_elem(xl->flows_fd, &key);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on))) {
		err = -errno;
		snprintf(why, len, "as user '%s', freezing a socket (TCP_REPAIR) fails: %s "
			 "(it needs CAP_NET_ADMIN)", user, strerror(-err));
	} else {
		setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off));
	}
	if (fd >= 0)
		close(fd);
	return err;
}

/* Is key's entry there, of worker pid? */
static bool owned(const struct faithd_xlate *xl, const struct faithd_xl_key *key, pid_t pid)
{
	struct faithd_xl_flow v;

	return !bpf_map_lookup_elem(xl->flows_fd, key, &v) && v.owner == (__u32)pid;
}

void xlate_sweep(struct faithd_xlate *xl, pid_t pid)
{
	struct faithd_xl_key cur, next;
	struct sweep_entry {
		struct faithd_xl_key key, peer;
	} *ents = NULL;
	size_t n = 0, cap = 0, conns = 0;
	struct faithd_xl_flow v;
	bool first = true;

	/* Collect first, then delete (deleting while walking would restart
	 * the walk).  The walk restarts anyway when a live worker forgets an
	 * entry meanwhile, and may list a key twice: only the deletes that
	 * succeed count.  A connection is a pair of entries, or one if the
	 * worker died between its two inserts; each was counted in nconns
	 * before its first insert: it counts once, with its last entry. */
	while (!bpf_map_get_next_key(xl->flows_fd, first ? NULL : &cur, &next)) {
		first = false;
		cur = next;
		if (bpf_map_lookup_elem(xl->flows_fd, &cur, &v) || v.owner != (__u32)pid)
			continue;
		if (n == cap) {
			struct sweep_entry *more = realloc(ents, (cap ? 2 * cap : 64) * sizeof(*ents));

			if (!more)
				break;
			ents = more;
			cap = cap ? 2 * cap : 64;
		}
		ents[n].key = cur;
		ents[n++].peer = v.peer;
	}
	for (size_t i = 0; i < n; i++)
		if (!bpf_map_delete_elem(xl->flows_fd, &ents[i].key) &&
		    !owned(xl, &ents[i].peer, pid))
			conns++;
	free(ents);
	if (!conns)
		return;
	__atomic_fetch_sub(xl->nconns, conns, __ATOMIC_RELAXED);
	log_info("--datapath translate: dropped %zu handed-off connection%s of worker %d",
		 conns, conns == 1 ? "" : "s", (int)pid);
}

void xlate_unload(struct faithd_xlate *xl)
{
	if (!xl)
		return;
	xlate_links_close(xl);
	ring_buffer__free(xl->events);
	xlate_rst_close(xl);
	faithd_xlate_bpf__destroy(xl->skel);
	free(xl);
}

// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "iface.h"
#include "netlink.h"
#include "util.h"

/* Our programs are recognised by name, so that a reload is still "ours". */
static bool prog_is_faith(const char *name)
{
	return !strncmp(name, "faith_", 6);
}

static int prog_name(__u32 id, char name[16])
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd, err = 0;

	name[0] = '\0';
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	else
		snprintf(name, 16, "%s", info.name);
	close(fd);
	return err;
}

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static void tc_hook_init(struct bpf_tc_hook *hook, int ifindex)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = ifindex;
	hook->attach_point = BPF_TC_INGRESS;
}

static void tc_opts_init(struct bpf_tc_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->sz = sizeof(*opts);
	opts->handle = FAITH_TC_HANDLE;
	opts->priority = FAITH_TC_PRIO;
}

int faith_iface_query(int ifindex, struct faith_iface_state *st)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, xq);
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	int err;

	memset(st, 0, sizeof(*st));
	tc_hook_init(&hook, ifindex);
	tc_opts_init(&opts);
	err = bpf_tc_query(&hook, &opts);
	if (!err) {
		st->tc_prog_id = opts.prog_id;
		prog_name(opts.prog_id, st->tc_name);
		st->tc_ours = prog_is_faith(st->tc_name);
	} else if (err != -ENOENT && err != -EINVAL) {
		return err;
	}
	err = bpf_xdp_query(ifindex, 0, &xq);
	if (err)
		return err;
	st->xdp_prog_id = xq.prog_id;
	st->xdp_generic = xq.attach_mode == XDP_ATTACHED_SKB;
	if (xq.prog_id) {
		prog_name(xq.prog_id, st->xdp_name);
		st->xdp_ours = prog_is_faith(st->xdp_name);
	}
	return 0;
}

static int tc_attach(int ifindex, int prog_fd, bool *own_clsact)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	int err;

	tc_hook_init(&hook, ifindex);
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	*own_clsact = !err;
	tc_opts_init(&opts);
	opts.prog_fd = prog_fd;
	opts.flags = BPF_TC_F_REPLACE;
	err = bpf_tc_attach(&hook, &opts);
	if (err && *own_clsact)
		bpf_tc_hook_destroy(&hook);
	return err;
}

static int tc_detach(int ifindex)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;

	tc_hook_init(&hook, ifindex);
	tc_opts_init(&opts);
	return bpf_tc_detach(&hook, &opts);
}

static int xdp_attach(int ifindex, int prog_fd, enum faith_xdp_mode mode,
		      bool *generic)
{
	int err = -EOPNOTSUPP;

	*generic = mode == FAITH_XDP_GENERIC;
	if (mode != FAITH_XDP_GENERIC)
		err = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_DRV_MODE, NULL);
	if (err && mode == FAITH_XDP_AUTO) {
		faith_note("native XDP unavailable (%s): using generic XDP",
			   faith_strerror(err));
		*generic = true;
	}
	if (*generic)
		err = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_SKB_MODE, NULL);
	return err;
}

static int xdp_detach(int ifindex, bool generic)
{
	return bpf_xdp_detach(ifindex, generic ? XDP_FLAGS_SKB_MODE :
				       XDP_FLAGS_DRV_MODE, NULL);
}

static int record(const struct faith_objs *o, int ifindex, const char *name,
		  __u32 flags)
{
	struct faith_iface rec = { .flags = flags };
	__u32 key = ifindex;

	snprintf(rec.name, sizeof(rec.name), "%s", name);
	return bpf_map_update_elem(o->fd[OBJ_IFACES], &key, &rec, BPF_ANY) ? -errno : 0;
}

static __u32 recorded_flags(const struct faith_objs *o, int ifindex)
{
	struct faith_iface rec = {};
	__u32 key = ifindex;

	bpf_map_lookup_elem(o->fd[OBJ_IFACES], &key, &rec);
	return rec.flags;
}

/*
 * Someone else's filter where ours goes: replacing it would silently break
 * them.  bpf_tc_query() sees only bpf filters; one of another kind at our
 * priority would make the attach fail with a bare EINVAL.
 */
static int tc_slot_free(int ifindex, const char *name,
			const struct faith_iface_state *st)
{
	char kind[16];
	int err;

	if (st->tc_prog_id && !st->tc_ours) {
		faith_err("%s already runs TC program '%s' (id %u) at faith's filter (ingress handle 0x%x, priority 0x%x); faith will not replace it",
			  name, st->tc_name, st->tc_prog_id, FAITH_TC_HANDLE, FAITH_TC_PRIO);
		return -EBUSY;
	}
	if (st->tc_prog_id)
		return 0;
	err = faith_nl_tc_filter_kind(ifindex, FAITH_TC_PRIO, kind, sizeof(kind));
	if (err < 0)
		return err;
	if (err && strcmp(kind, "bpf")) {
		faith_err("%s already has a '%s' TC filter at faith's priority (ingress, 0x%x); faith will not replace it",
			  name, kind, FAITH_TC_PRIO);
		return -EBUSY;
	}
	return 0;
}

int faith_iface_attach(const struct faith_objs *o, int ifindex,
		       const char *name, enum faith_xdp_mode mode, bool *already)
{
	int tc_prog = o->fd[mode == FAITH_XDP_NONE ? OBJ_PROG_TC : OBJ_PROG_TC_META];
	__u32 flags = recorded_flags(o, ifindex) & FAITH_IFACE_OWN_CLSACT;
	struct faith_iface_state st;
	bool own_clsact, generic = false;
	int err;

	err = faith_iface_query(ifindex, &st);
	if (!err)
		err = tc_slot_free(ifindex, name, &st);
	if (err)
		return err;
	if (st.xdp_prog_id && !st.xdp_ours && mode != FAITH_XDP_NONE) {
		faith_err("%s already runs XDP program '%s' (id %u); faith will not replace it",
			  name, st.xdp_name, st.xdp_prog_id);
		return -EBUSY;
	}
	*already = st.tc_prog_id == prog_id(tc_prog) &&
		   (mode == FAITH_XDP_NONE ? !st.xdp_ours :
		    st.xdp_prog_id == prog_id(o->fd[OBJ_PROG_XDP]) &&
		    (mode == FAITH_XDP_AUTO ||
		     st.xdp_generic == (mode == FAITH_XDP_GENERIC)));
	if (*already)
		return 0;

	/* TC first: a packet XDP marks must find its reader in place. */
	err = tc_attach(ifindex, tc_prog, &own_clsact);
	if (err)
		return err;
	if (own_clsact)
		flags |= FAITH_IFACE_OWN_CLSACT;
	if (st.xdp_ours)
		xdp_detach(ifindex, st.xdp_generic);
	if (mode != FAITH_XDP_NONE) {
		err = xdp_attach(ifindex, o->fd[OBJ_PROG_XDP], mode, &generic);
		if (err) {
			faith_iface_detach(o, ifindex);
			return err;
		}
		flags |= FAITH_IFACE_XDP | (generic ? FAITH_IFACE_XDP_GENERIC : 0);
	}
	return record(o, ifindex, name, flags);
}

int faith_iface_detach(const struct faith_objs *o, int ifindex)
{
	__u32 flags = recorded_flags(o, ifindex), key = ifindex;
	struct faith_iface_state st;
	struct bpf_tc_hook hook;
	int err;

	err = faith_iface_query(ifindex, &st);
	if (err)
		return err;
	if (!st.tc_ours && !st.xdp_ours) {
		bpf_map_delete_elem(o->fd[OBJ_IFACES], &key);
		return -ENOENT;
	}
	if (st.xdp_ours) {
		err = xdp_detach(ifindex, st.xdp_generic);
		if (err)
			return err;
	}
	if (st.tc_ours) {
		err = tc_detach(ifindex);
		if (err)
			return err;
	}
	/* Remove clsact only if we made it and nobody else uses it. */
	if ((flags & FAITH_IFACE_OWN_CLSACT) && faith_nl_clsact_unused(ifindex) == 1) {
		tc_hook_init(&hook, ifindex);
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	bpf_map_delete_elem(o->fd[OBJ_IFACES], &key);
	return 0;
}

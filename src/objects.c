// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* The skeleton names types of maps.h: include it first. */
#include "maps.h"
#include "faith.skel.h"
#include "netlink.h"
#include "objects.h"
#include "pindex.h"
#include "util.h"

static const char *const pin_names[OBJ_COUNT] = {
	[OBJ_PREFIXES] = FAITH_PIN_PREFIXES,
	[OBJ_RELAYS] = FAITH_PIN_RELAYS,
	[OBJ_CONTROL] = FAITH_PIN_CONTROL,
	[OBJ_STATS] = FAITH_PIN_STATS,
	[OBJ_IFACES] = FAITH_PIN_IFACES,
	[OBJ_PINDEX] = FAITH_PIN_PINDEX,
	[OBJ_PINDEX_META] = FAITH_PIN_PINDEX_META,
	[OBJ_PINDEX_START] = FAITH_PIN_PINDEX_START,
	[OBJ_PINDEX_BLOCKS] = FAITH_PIN_PINDEX_BLOCKS,
	[OBJ_PROG_TC] = FAITH_PIN_PROG_TC,
	[OBJ_PROG_TC_META] = FAITH_PIN_PROG_TC_META,
	[OBJ_PROG_XDP] = FAITH_PIN_PROG_XDP,
	[OBJ_PROG_LOOKUP] = FAITH_PIN_PROG_LOOKUP,
	[OBJ_LINK_LOOKUP] = FAITH_PIN_LINK_LOOKUP,
};

static bool libbpf_verbose;

static int print_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	(void)level;
	if (!libbpf_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void faith_libbpf_verbose(bool on)
{
	libbpf_verbose = on;
	libbpf_set_print(print_libbpf);
}

const char *faith_obj_name(enum faith_obj obj)
{
	return pin_names[obj];
}

void faith_objs_init(struct faith_objs *o, const char *pin_dir)
{
	snprintf(o->pin_dir, sizeof(o->pin_dir), "%s", pin_dir);
	for (int i = 0; i < OBJ_COUNT; i++)
		o->fd[i] = -1;
	o->fresh = false;
	libbpf_set_print(print_libbpf);
}

void faith_objs_close(struct faith_objs *o)
{
	for (int i = 0; i < OBJ_COUNT; i++) {
		if (o->fd[i] >= 0)
			close(o->fd[i]);
		o->fd[i] = -1;
	}
}

static bool obj_path(const struct faith_objs *o, int obj, char *buf, size_t len)
{
	return path_join(buf, len, o->pin_dir, pin_names[obj]);
}

int faith_objs_open(struct faith_objs *o)
{
	char path[PATH_MAX];
	int err = 0;

	for (int i = 0; i < OBJ_COUNT; i++) {
		if (!obj_path(o, i, path, sizeof(path)))
			return -ENAMETOOLONG;
		o->fd[i] = bpf_obj_get(path);
		if (o->fd[i] < 0 && !err)
			err = -errno;
	}
	return err;
}

const char *faith_objs_missing(const struct faith_objs *o, bool maps_only)
{
	char path[PATH_MAX];

	if (!faith_objs_any_pinned(o))
		return NULL;
	for (int i = 0; i < (maps_only ? OBJ_FIRST_PROG : OBJ_COUNT); i++)
		if (obj_path(o, i, path, sizeof(path)) && access(path, F_OK))
			return pin_names[i];
	return NULL;
}

bool faith_objs_any_pinned(const struct faith_objs *o)
{
	char path[PATH_MAX];

	for (int i = 0; i < OBJ_COUNT; i++)
		if (obj_path(o, i, path, sizeof(path)) && !access(path, F_OK))
			return true;
	return false;
}

static void unpin(const struct faith_objs *o, int first, int last)
{
	char path[PATH_MAX];

	for (int i = first; i <= last; i++)
		if (obj_path(o, i, path, sizeof(path)))
			unlink(path);
}

/* The netns inode the pinned sk_lookup link hooks, 0 if unknown. */
static __u64 link_netns(int link_fd)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(link_fd, &info, &len))
		return 0;
	return info.netns.netns_ino;
}

static __u64 self_netns(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : st.st_ino;
}

/*
 * The rule, the route and the interfaces faith would act on are this
 * namespace's: acting from another one would break that one's faith, or
 * nothing at all.  Without a link pin (partial state) there is no telling:
 * let it be.
 */
int faith_objs_check_netns(const struct faith_objs *o)
{
	__u64 ino;

	if (o->fd[OBJ_LINK_LOOKUP] < 0)
		return 0;
	ino = link_netns(o->fd[OBJ_LINK_LOOKUP]);
	if (ino && ino == self_netns())
		return 0;
	if (ino)
		faith_err("%s belongs to another network namespace (run faith-loader there; use a pin directory per namespace, --pin-dir)",
			  o->pin_dir);
	else
		faith_err("%s belongs to a network namespace that no longer exists (remove its pins by hand)",
			  o->pin_dir);
	return -EXDEV;
}

static int init_control(const struct faith_objs *o)
{
	struct faith_control ctl;
	int err = faith_control_get(o, &ctl);

	if (err || ctl.mark)
		return err;
	ctl.keepfaith = 0;
	ctl.mark = FAITH_DEFAULT_MARK;
	ctl.table = FAITH_DEFAULT_TABLE;
	ctl.rule_prio = FAITH_DEFAULT_RULE_PRIO;
	return faith_control_set(o, &ctl);
}

static int pin_programs(struct faith_bpf *skel, const struct faith_objs *o)
{
	struct bpf_program *progs[] = {
		[OBJ_PROG_TC - OBJ_FIRST_PROG] = skel->progs.faith_tc,
		[OBJ_PROG_TC_META - OBJ_FIRST_PROG] = skel->progs.faith_tc_meta,
		[OBJ_PROG_XDP - OBJ_FIRST_PROG] = skel->progs.faith_xdp,
		[OBJ_PROG_LOOKUP - OBJ_FIRST_PROG] = skel->progs.faith_lookup,
	};
	char path[PATH_MAX];
	int err;

	for (int i = OBJ_FIRST_PROG; i <= OBJ_PROG_LOOKUP; i++) {
		if (!obj_path(o, i, path, sizeof(path)))
			return -ENAMETOOLONG;
		unlink(path);
		err = bpf_program__pin(progs[i - OBJ_FIRST_PROG], path);
		if (err)
			return err;
	}
	return 0;
}

static int attach_lookup(struct faith_bpf *skel, const struct faith_objs *o)
{
	struct bpf_link *link;
	char path[PATH_MAX];
	int netns, err;

	if (!obj_path(o, OBJ_LINK_LOOKUP, path, sizeof(path)))
		return -ENAMETOOLONG;
	netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (netns < 0)
		return -errno;
	link = bpf_program__attach_netns(skel->progs.faith_lookup, netns);
	err = libbpf_get_error(link);
	close(netns);
	if (err)
		return err;
	unlink(path);
	err = bpf_link__pin(link, path);
	bpf_link__destroy(link);	/* the pin keeps it attached */
	return err;
}

/*
 * The prefix index is mostly global data (src/maps.h): its maps have no
 * pinning attribute of their own, so name their pins here, with the block
 * tables'.  libbpf then reuses them on a reload, like the maps pinned by
 * name.
 */
static int pin_global_data(struct faith_bpf *skel, const struct faith_objs *o)
{
	struct bpf_map *maps[] = {
		[OBJ_PINDEX - OBJ_PINDEX] = skel->maps.bss,
		[OBJ_PINDEX_META - OBJ_PINDEX] = skel->maps.data,
		[OBJ_PINDEX_START - OBJ_PINDEX] = skel->maps.data_pstart,
		[OBJ_PINDEX_BLOCKS - OBJ_PINDEX] = skel->maps.pindex_blocks,
	};
	char path[PATH_MAX];
	int err;

	for (int i = OBJ_PINDEX; i <= OBJ_PINDEX_BLOCKS; i++) {
		if (!obj_path(o, i, path, sizeof(path)))
			return -ENAMETOOLONG;
		err = bpf_map__set_pin_path(maps[i - OBJ_PINDEX], path);
		if (err)
			return err;
	}
	return 0;
}

static int load_and_pin(struct faith_objs *o)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = o->pin_dir);
	struct faith_bpf *skel;
	int err;

	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SK_LOOKUP, NULL) == 0) {
		faith_err("this kernel lacks BPF sk_lookup programs (Linux 5.9 or later is needed)");
		return -EOPNOTSUPP;
	}
	skel = faith_bpf__open_opts(&opts);
	err = libbpf_get_error(skel);
	if (err) {
		faith_err("cannot open the BPF object: %s", faith_strerror(err));
		return err;
	}
	err = pin_global_data(skel, o);
	if (!err)
		err = faith_bpf__load(skel);
	if (err) {
		faith_err("cannot load the BPF programs: %s%s", faith_strerror(err),
			  libbpf_verbose ? "" : " (run with -v for libbpf's log)");
		goto out;
	}
	err = pin_programs(skel, o);
	if (err) {
		faith_err("cannot pin programs in %s: %s", o->pin_dir, faith_strerror(err));
		goto out;
	}
	err = attach_lookup(skel, o);
	if (err)
		faith_err("cannot attach sk_lookup to this network namespace: %s",
			  faith_strerror(err));
out:
	faith_bpf__destroy(skel);
	return err;
}

static int ensure_delivery(const struct faith_objs *o)
{
	struct faith_control ctl;
	bool route_existed;
	int err;

	err = faith_control_get(o, &ctl);
	if (err)
		return err;
	/* Unknown counts as there: the rollback must not delete a route
	 * this call did not add. */
	route_existed = faith_nl_local_route_exists(ctl.table) != 0;
	err = faith_nl_local_route_add(ctl.table);
	if (err) {
		faith_err("cannot add 'local ::/0 dev lo table %u': %s%s", ctl.table,
			  faith_strerror(err), err == -ENETDOWN ?
			  " (the loopback interface is down: ip link set lo up)" : "");
		return err;
	}
	err = faith_nl_rule_add(ctl.mark, ctl.table, ctl.rule_prio);
	if (err) {
		faith_err("cannot add rule 'fwmark 0x%x lookup %u': %s", ctl.mark,
			  ctl.table, faith_strerror(err));
		if (!route_existed)
			faith_nl_local_route_del(ctl.table);
	}
	return err;
}

int faith_objs_load(struct faith_objs *o)
{
	const char *missing;
	bool maps_existed;
	int err;

	err = faith_objs_open(o);
	if (!err) {
		err = faith_objs_check_netns(o);
		return err ? err : ensure_delivery(o);
	}
	faith_objs_close(o);
	if (err != -ENOENT) {
		faith_err("cannot open pinned objects in %s: %s", o->pin_dir,
			  faith_strerror(err));
		return err;
	}
	err = bpffs_prepare(o->pin_dir);
	if (err == -ENOTUNIQ)
		faith_err("refusing to mount a bpf filesystem in a private mount namespace (ip netns exec?): pins would vanish; use 'nsenter --net=/run/netns/NAME' or --pin-dir on a mounted bpffs");
	else if (err)
		faith_err("cannot prepare %s on a bpf filesystem: %s", o->pin_dir,
			  faith_strerror(err));
	if (err)
		return err;
	maps_existed = faith_objs_any_pinned(o);
	/* Programs still attached would keep using the lost map: refuse. */
	missing = faith_objs_missing(o, true);
	if (missing) {
		faith_err("faith in %s lacks its map '%s' (left by another version of faith-loader?): 'faith-loader unload' removes it, then attach again",
			  o->pin_dir, missing);
		return -ENOENT;
	}
	err = load_and_pin(o);
	/* libbpf refuses to reuse a pinned map of another shape: EINVAL. */
	if (err == -EINVAL && maps_existed)
		faith_err("the maps pinned in %s do not fit this faith-loader's programs (left by another version?): 'faith-loader unload' removes them, then attach and add the routes again",
			  o->pin_dir);
	if (!err)
		err = faith_objs_open(o);
	if (!err)
		err = init_control(o);
	/* Maps kept from an earlier load may hold prefixes: index them. */
	if (!err)
		err = faith_objs_rebuild_index(o);
	if (!err)
		err = ensure_delivery(o);
	o->fresh = !err;
	if (!err)
		return 0;
	/* Leave things as they were: no half-loaded datapath. */
	faith_objs_close(o);
	unpin(o, OBJ_FIRST_PROG, OBJ_COUNT - 1);
	if (!maps_existed) {
		unpin(o, 0, OBJ_FIRST_PROG - 1);
		bpffs_release(o->pin_dir);
	}
	return err;
}

int faith_objs_rebuild_index(const struct faith_objs *o)
{
	const struct faith_pindex_maps m = {
		.prefixes = o->fd[OBJ_PREFIXES], .table = o->fd[OBJ_PINDEX],
		.start = o->fd[OBJ_PINDEX_START], .meta = o->fd[OBJ_PINDEX_META],
		.blocks = o->fd[OBJ_PINDEX_BLOCKS],
	};

	return faith_pindex_rebuild(&m);
}

int faith_objs_unload(struct faith_objs *o)
{
	struct faith_control ctl;
	int err;

	if (o->fd[OBJ_CONTROL] >= 0 && !faith_control_get(o, &ctl) && ctl.mark) {
		err = faith_nl_rule_del(ctl.mark, ctl.table, ctl.rule_prio);
		if (err && err != -ENOENT)
			faith_note("warning: cannot delete the fwmark rule: %s", faith_strerror(err));
		err = faith_nl_local_route_del(ctl.table);
		if (err && err != -ENOENT && err != -ESRCH)
			faith_note("warning: cannot delete the local route: %s", faith_strerror(err));
	}
	faith_objs_close(o);
	unpin(o, 0, OBJ_COUNT - 1);
	bpffs_release(o->pin_dir);
	return faith_objs_any_pinned(o) ? -EBUSY : 0;
}

int faith_control_get(const struct faith_objs *o, struct faith_control *ctl)
{
	__u32 zero = 0;

	memset(ctl, 0, sizeof(*ctl));
	return bpf_map_lookup_elem(o->fd[OBJ_CONTROL], &zero, ctl) ? -errno : 0;
}

int faith_control_set(const struct faith_objs *o, const struct faith_control *ctl)
{
	__u32 zero = 0;

	return bpf_map_update_elem(o->fd[OBJ_CONTROL], &zero, ctl, BPF_ANY) ? -errno : 0;
}

int faith_stats_sum(const struct faith_objs *o, struct faith_stats *sum)
{
	int ncpus = libbpf_num_possible_cpus();
	__u32 zero = 0;

	memset(sum, 0, sizeof(*sum));
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	struct faith_stats per_cpu[ncpus];

	/* Zeroed although the kernel fills it: valgrind cannot see bpf(2) write. */
	memset(per_cpu, 0, sizeof(per_cpu));
	if (bpf_map_lookup_elem(o->fd[OBJ_STATS], &zero, per_cpu))
		return -errno;
	for (int i = 0; i < ncpus; i++) {
		__u64 *dst = (__u64 *)sum;
		const __u64 *src = (const __u64 *)&per_cpu[i];

		for (size_t f = 0; f < sizeof(*sum) / sizeof(__u64); f++)
			dst[f] += src[f];
	}
	return 0;
}

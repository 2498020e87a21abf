// SPDX-License-Identifier: BSD-2-Clause
/*
 * faithd --translate-after syn, the master's part: tell the program of
 * bpf/faithd_xlate_syn.h what faithd would relay (its services, its
 * rules, the destinations that are not global), which ports it may pick,
 * and log the connections it ended; xlate_sweep.c forgets those that went
 * quiet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "faithd_xlate.skel.h"
#include "faithd/addrmap.h"
#include "faithd/conf.h"
#include "faithd/faithd.h"
#include "faithd/log.h"
#include "faithd/policy.h"
#include "faithd/portrange.h"
#include "faithd/xlate.h"
#include "faithd/xlate_maps.h"

#define FAITHD_RUN_DIR	"/run/faithd"
#define FAITHD_SYN_KEY	FAITHD_RUN_DIR "/syn-key"

static uint32_t mask32(unsigned int len)
{
	return len ? htonl(~(uint32_t)0 << (32 - len)) : 0;
}

static void rule_to_map(const struct faithd_rule *r, struct faithd_xl_rule *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < 4; i++) {
		int bits = (int)r->src_len - 32 * (int)i;

		out->src_mask[i] = mask32(bits <= 0 ? 0 : bits >= 32 ? 32 : (unsigned int)bits);
	}
	memcpy(out->src, &r->src, 16);
	out->dst = r->dst.s_addr;
	out->dst_mask = mask32(r->dst_len);
	out->bind = r->has_bind ? r->bind.s_addr : 0;
	out->permit = r->permit;
	out->explicit_dst = faithd_rule_explicit(r);
}

int xlate_syn_rules(struct faithd_xlate *xl, const struct faithd_conf *conf)
{
	struct faithd_xlate_bpf__bss *bss;
	int fd;
	__u32 half;

	if (!xl || !xl->syn)
		return 0;
	bss = xl->skel->bss;
	if (conf && conf->n > FAITHD_XL_MAX_RULES) {
		log_warn("--translate-after syn: %s has %zu rules, the program takes %d: "
			 "faithd's sockets take every connection", conf->path, conf->n,
			 FAITHD_XL_MAX_RULES);
		bss->syn_take = 0;
		return -E2BIG;
	}
	fd = bpf_map__fd(xl->skel->maps.xl_rules);
	half = !bss->syn_half;
	for (size_t i = 0; conf && i < conf->n; i++) {
		struct faithd_xl_rule r;
		__u32 key = half * FAITHD_XL_MAX_RULES + (__u32)i;

		rule_to_map(&conf->rules[i], &r);
		if (bpf_map_update_elem(fd, &key, &r, BPF_ANY))
			return -errno;
	}
	bss->syn_nrules[half] = conf ? (__u32)conf->n : 0;
	bss->syn_no_conf = !conf;
	__atomic_store_n(&bss->syn_half, half, __ATOMIC_RELEASE);
	bss->syn_active = 1;
	bss->syn_take = 1;
	return 0;
}

static int fill_classes(struct faithd_xlate *xl)
{
	int fd = bpf_map__fd(xl->skel->maps.xl_classes);
	enum faithd_dst_class cls;
	struct in_addr net;
	unsigned int len;

	for (size_t i = 0; faithd_dst_range_at(i, &net, &len, &cls); i++) {
		struct faithd_xl_v4key key = { .prefixlen = len, .addr = net.s_addr };
		__u8 val = cls == FAITHD_DST_FORBIDDEN ? FAITHD_XL_FORBIDDEN :
			   cls == FAITHD_DST_SPECIAL ? FAITHD_XL_SPECIAL : 0;

		if (bpf_map_update_elem(fd, &key, &val, BPF_ANY))
			return -errno;
	}
	return 0;
}

/*
 * The key of the sequence numbers and timestamps (syn_clocks() in the
 * program): random, and the same for every faithd until the machine
 * restarts (kept in FAITHD_SYN_KEY, on a tmpfs; faithd.service keeps the
 * directory), as the kernel's own is:
 * a faithd started again goes on where the last one left off, and the
 * servers' TIME-WAITs of its connections take the new ones.  0 or -1.
 */
/* The keys: the ISN's, then the timestamps' (2 x 128 bits). */
struct syn_keys {
	__u64 isn[2];
	__u64 ts[2];
};

static bool read_key(struct syn_keys *key)
{
	int fd = open(FAITHD_SYN_KEY, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, key, sizeof(*key));
	close(fd);
	return n == sizeof(*key);
}

static int syn_key(struct syn_keys *key)
{
	int fd;

	if (read_key(key))
		return 0;
	if (getrandom(key, sizeof(*key), 0) != sizeof(*key))
		return -1;
	/* Only the first faithd writes it. */
	if (mkdir(FAITHD_RUN_DIR, 0700) < 0 && errno != EEXIST)
		return 0;	/* not kept: this faithd's alone */
	fd = open(FAITHD_SYN_KEY, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		if (write(fd, key, sizeof(*key)) != sizeof(*key))
			unlink(FAITHD_SYN_KEY);
		close(fd);
		return 0;
	}
	/* Another faithd wrote it meanwhile (else: not kept, this one's own). */
	if (errno == EEXIST) {
		usleep(10000);
		read_key(key);
	}
	return 0;
}

/* The first line of a /proc file into buf ("" if it cannot be read). */
static void read_proc(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = 0;
	fclose(f);
}

static bool ipv4_forwarding(void)
{
	char v[16];

	read_proc("/proc/sys/net/ipv4/conf/all/forwarding", v, sizeof(v));
	return v[0] != '0';
}

/*
 * The ports the program opens connections from: a run the router's own
 * connections never take (portrange.h).  -ENOSPC, said in why, when there
 * is none long enough.
 */
static int pick_ports(struct faithd_xlate *xl, char *why, size_t len)
{
	char range[64], reserved[4096];
	unsigned int lo, hi;
	int err;

	read_proc("/proc/sys/net/ipv4/ip_local_port_range", range, sizeof(range));
	read_proc("/proc/sys/net/ipv4/ip_local_reserved_ports", reserved, sizeof(reserved));
	err = faithd_free_ports(range, reserved, &lo, &hi);
	if (err == -ENOSPC)
		snprintf(why, len, "the router's own connections may take any port "
			 "(net.ipv4.ip_local_port_range %s): reserve some for faithd, "
			 "e.g. sysctl -w net.ipv4.ip_local_reserved_ports=32768-65535",
			 strtok(range, "\n"));
	else if (err)
		snprintf(why, len, "cannot read net.ipv4.ip_local_port_range and "
			 "ip_local_reserved_ports");
	xl->skel->bss->syn_port_lo = err ? 0 : lo;
	xl->skel->bss->syn_port_hi = err ? 0 : hi;
	return err;
}

/*
 * A log line as faithd's workers write for the connections they relay:
 * client (c: the client's entry, s: the server's; both in the flows'
 * terms), destinations, how it ended, bytes each way, how long.
 */
void xlate_syn_log_end(const struct faithd_xl_flow *c, const struct faithd_xl_flow *s,
		       const char *how, uint64_t start_ns, uint64_t end_ns)
{
	struct sockaddr_in6 src = { .sin6_family = AF_INET6, .sin6_port = s->dport };
	struct sockaddr_in6 dst6 = { .sin6_family = AF_INET6, .sin6_port = s->sport };
	struct sockaddr_in dst4 = { .sin_family = AF_INET, .sin_port = c->dport };
	char a[64], b[64], d[32];
	uint64_t ms = end_ns > start_ns ? (end_ns - start_ns) / 1000000 : 0;

	memcpy(&src.sin6_addr, s->daddr, 16);
	memcpy(&dst6.sin6_addr, s->saddr, 16);
	dst4.sin_addr.s_addr = c->daddr[3];
	sockaddr6_format(&src, a, sizeof(a));
	sockaddr6_format(&dst6, b, sizeof(b));
	sockaddr4_format(&dst4, d, sizeof(d));
	log_info("%s -> %s -> %s: %s; %llu bytes to server, %llu to client, %llu.%03llu s",
		 a, b, d, how, (unsigned long long)c->bytes, (unsigned long long)s->bytes,
		 (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000));
}

/*
 * The error an IPv4 connect() gets for an ICMPv4 Destination Unreachable
 * of this code (the kernel's icmp_err_convert): what faithd logs for a
 * connection its sockets relay.
 */
static int unreach_errno(unsigned int code)
{
	switch (code) {
	case 0: case 6: case 9: case 11:
		return ENETUNREACH;
	case 3:
		return ECONNREFUSED;
	case 5:
		return EOPNOTSUPP;
	case 7:
		return EHOSTDOWN;
	case 8:
		return ENONET;
	default:
		return EHOSTUNREACH;
	}
}

/* How a connection ended, for the log (buf: room for the words). */
static const char *end_name(__u32 how, char *buf, size_t len)
{
	switch (how & 0xff) {
	case FAITHD_XL_END_CLOSED:
		return "closed";
	case FAITHD_XL_END_RESET_CLIENT:
		return "reset by client";
	case FAITHD_XL_END_RESET_SERVER:
		return "reset by server";
	case FAITHD_XL_END_UNREACHABLE:
		snprintf(buf, len, "upstream connect failed: %s",
			 strerror(unreach_errno(how >> 8 & 0xff)));
		return buf;
	default:
		return "upstream connect failed: Connection refused";
	}
}

/* An event of the program's ring: a connection it ended. */
static int on_event(void *ctx, void *data, size_t len)
{
	const struct faithd_xl_event *e = data;
	struct faithd_xl_flow c = { 0 }, s = { 0 };
	char how[64];

	(void)ctx;
	if (len < sizeof(*e))
		return 0;
	memcpy(s.daddr, e->client, 16);
	memcpy(s.saddr, e->faith, 16);
	s.dport = e->cport;
	s.sport = e->dport;
	s.bytes = e->to_client;
	c.dport = e->dport;
	c.daddr[3] = e->dst4;
	c.bytes = e->to_server;
	xlate_syn_log_end(&c, &s, end_name(e->how, how, sizeof(how)), e->start_ns, e->end_ns);
	return 0;
}

int xlate_syn_events_fd(const struct faithd_xlate *xl)
{
	return xl && xl->syn ? ring_buffer__epoll_fd(xl->events) : -1;
}

void xlate_syn_events(struct faithd_xlate *xl)
{
	if (!xl || !xl->events)
		return;
	/* Thousands a second at full rate: whole buffers per write. */
	log_batch(true);
	ring_buffer__consume(xl->events);
	log_batch(false);
}

int xlate_syn_start(struct faithd_xlate *xl, const struct faithd_opts *o,
		    const struct faithd_conf *conf, char *why, size_t len)
{
	struct syn_keys keys;
	int err;

	if (fill_classes(xl))
		goto fail;
	if (pick_ports(xl, why, len))
		return -ENOSPC;
	if (!ipv4_forwarding())
		log_info("translate: this router does not forward IPv4 "
			 "(net.ipv4.conf.all.forwarding 0): the program finds no way to the "
			 "servers, and leaves the connections to the sockets");
	if (syn_key(&keys))
		goto fail;
	memcpy(xl->skel->bss->syn_isn_key, keys.isn, sizeof(keys.isn));
	memcpy(xl->skel->bss->syn_ts_key, keys.ts, sizeof(keys.ts));
	xl->events = ring_buffer__new(bpf_map__fd(xl->skel->maps.xl_events), on_event, NULL, NULL);
	if (!xl->events)
		goto fail;
	err = xlate_rst_open(xl);
	if (err) {
		snprintf(why, len, "a raw socket for resets: %s (it needs CAP_NET_RAW)",
			 strerror(-err));
		return err;	/* xlate_unload() frees what there is */
	}
	xl->syn = true;
	xl->syn_idle_ms = (uint64_t)o->idle_timeout_s * 1000;
	xl->syn_connect_ms = o->connect_timeout_ms;
	xl->skel->bss->syn_max_conns = o->max_conns;
	xl->skel->bss->syn_max_per_source = o->max_per_source;
	err = xlate_syn_rules(xl, conf);	/* and on */
	if (err && err != -E2BIG) {
		xl->syn = false;
		xl->skel->bss->syn_take = 0;
		errno = -err;
		goto fail;
	}
	log_info("translate: from the SYN, for what faithd would relay; from ports %u-%u",
		 xl->skel->bss->syn_port_lo, xl->skel->bss->syn_port_hi);
	return 0;
fail:
	snprintf(why, len, "filling its maps: %s", strerror(errno));
	return -errno;
}

unsigned *xlate_syn_conns_total(struct faithd_xlate *xl)
{
	return xl && xl->syn ? &xl->skel->bss->conns_total : NULL;
}

int xlate_syn_limit_fd(const struct faithd_xlate *xl)
{
	return xl && xl->syn ? bpf_program__fd(xl->skel->progs.faithd_limit) : -1;
}

int xlate_call(int fd, void *args, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = args, .ctx_size_in = (__u32)len);

	if (bpf_prog_test_run_opts(fd, &run))
		return -errno;
	return (int)run.retval;
}

int xlate_limit_run(int fd, const void *src, uint32_t op)
{
	struct faithd_xl_limit_args args = { .op = op };

	memcpy(args.addr, src, sizeof(args.addr));
	return xlate_call(fd, &args, sizeof(args));
}

void xlate_syn_stop(struct faithd_xlate *xl)
{
	if (xl && xl->syn)
		xl->skel->bss->syn_take = 0;
}

int xlate_syn_services(struct faithd_xlate *xl, const struct faithd_opts *o)
{
	int fd;

	if (!xl || !xl->syn)
		return 0;
	fd = bpf_map__fd(xl->skel->maps.xl_ports);
	for (unsigned int i = 0; i < o->nservices; i++) {
		struct sockaddr_in6 sa;
		socklen_t len = sizeof(sa);
		__u32 port = o->services[i].port;
		__u16 local;

		if (getsockname(o->services[i].fd[0], (struct sockaddr *)&sa, &len) < 0)
			return -errno;
		local = ntohs(sa.sin6_port);
		if (bpf_map_update_elem(fd, &port, &local, BPF_ANY))
			return -errno;
	}
	return 0;
}

void xlate_syn_summary(const struct faithd_xlate *xl)
{
	struct faithd_xl_syn_stats sum = { 0 }, *per;
	int ncpu = libbpf_num_possible_cpus();
	__u32 zero = 0;

	if (!xl || !xl->syn || ncpu <= 0)
		return;
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return;
	/* Every field a __u64 count: summed as an array. */
	if (!bpf_map_lookup_elem(bpf_map__fd(xl->skel->maps.xl_syn_stats), &zero, per)) {
		__u64 *total = (__u64 *)&sum;

		for (int i = 0; i < ncpu; i++)
			for (size_t k = 0; k < sizeof(sum) / sizeof(__u64); k++)
				total[k] += ((const __u64 *)&per[i])[k];
	}
	free(per);
	log_info("translated from the SYN: %llu opened, %llu established, %llu refused by the "
		 "server, %llu unreachable, %llu closed, %llu reset, %llu timed out; %llu left to the "
		 "sockets (%llu for want of a port, %llu at -m or -M)", (unsigned long long)sum.opened,
		 (unsigned long long)sum.established, (unsigned long long)sum.refused,
		 (unsigned long long)sum.unreachable,
		 (unsigned long long)sum.closed, (unsigned long long)sum.reset,
		 (unsigned long long)xl->syn_expired, (unsigned long long)sum.to_faithd,
		 (unsigned long long)sum.no_port, (unsigned long long)sum.over_limit);
}

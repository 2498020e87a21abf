// SPDX-License-Identifier: BSD-2-Clause
/*
 * faithd's master process: everything that needs privileges happens here,
 * once, before the workers exist.
 *   1. read faithd.conf; open the pinned `prefixes` trie (the fd stays
 *      open: looking up through it needs no privilege);
 *   2. per service, a SO_REUSEPORT group of IPv6 listeners on [::1]:port,
 *      one per worker; the group's first socket goes into faith's
 *      `relays` sockhash and the kernel spreads connections over the group;
 *   3. detach (unless -F), drop to the configured user, fork the workers;
 *   4. supervise: restart a worker that dies, pass SIGHUP on once the new
 *      configuration is known to be good, and on SIGTERM close every
 *      listener (new connections to faith addresses now get a reset), pass
 *      it on and wait for the workers to finish their connections.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>
#include <linux/capability.h>
#include <bpf/bpf.h>

#include "faith_relay.h"
#include "maps.h"
#include "util.h"
#include "faithd/conf.h"
#include "faithd/faithd.h"
#include "faithd/connlimits.h"
#include "faithd/log.h"
#include "faithd/sockmap.h"
#include "faithd/worker.h"
#include "faithd/xlate.h"

#define LISTEN_BACKLOG	4096
#define RESPAWN_DELAY_S	1
#define SYN_SWEEP_MS	2000
#define SYN_EVENTS_MS	200

static pid_t workers[FAITHD_MAX_WORKERS];
static int master_sigfd = -1;

/* Relays hold two sockets and up to two pipes per connection: ask for all
 * the descriptors the hard limit allows. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Open faith's pinned object name; path gets its full name. */
static int open_pin(const char *pin_dir, const char *name, char *path, size_t len)
{
	if (!path_join(path, len, faith_relay_pin_dir(pin_dir), name)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return bpf_obj_get(path);
}

static int open_prefixes(const char *pin_dir)
{
	char path[PATH_MAX];
	int fd;

	fd = open_pin(pin_dir, FAITH_PIN_PREFIXES, path, sizeof(path));
	if (fd < 0)
		log_err("opening %s: %s%s", path, strerror(errno),
			errno == ENOENT ? " (is faith loaded? faith-loader attach IFACE)" : "");
	return fd;
}

static int listener(uint16_t port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT,
				   .sin6_port = htons(port) };
	int fd, one = 1;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		one = -errno;
		close(fd);
		return one;
	}
	return fd;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_in6 sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return 0;
	return ntohs(sa.sin6_port);
}

static const char *service_name(uint16_t port, char *buf, size_t len)
{
	if (!port)
		return "all ports";
	snprintf(buf, len, "port %u", port);
	return buf;
}

/* Someone else's relay for this port would be silently replaced. */
static int check_free(const struct faithd_opts *o, uint16_t port)
{
	char path[PATH_MAX], name[16];
	__u32 key = port;
	__u64 cookie;
	int fd, taken;

	fd = open_pin(o->pin_dir, FAITH_PIN_RELAYS, path, sizeof(path));
	if (fd < 0)
		return 0;	/* registering says why */
	taken = bpf_map_lookup_elem(fd, &key, &cookie) == 0;
	close(fd);
	if (!taken)
		return 0;
	log_err("%s already has a relay (socket cookie %llu); stop it, or remove it with "
		"'faith-loader relay del %s'", service_name(port, name, sizeof(name)),
		(unsigned long long)cookie, port ? name + 5 : "all");
	return -EEXIST;
}

static int open_service(struct faithd_opts *o, struct faithd_service *s)
{
	char name[16];
	uint16_t port = 0;
	int err;

	for (unsigned i = 0; i < o->workers; i++) {
		s->fd[i] = listener(port);
		if (s->fd[i] < 0) {
			log_err("listening on [::1]: %s", strerror(-s->fd[i]));
			return s->fd[i];
		}
		if (!i)
			port = local_port(s->fd[0]);
	}
	err = check_free(o, s->port);
	if (err)
		return err;
	err = faith_relay_register(s->fd[0], s->port, o->pin_dir);
	if (err) {
		log_err("registering the relay for %s in %s: %s",
			service_name(s->port, name, sizeof(name)),
			faith_relay_pin_dir(o->pin_dir), faith_relay_strerror(err));
		return err;
	}
	log_info("relaying %s (listening on [::1]:%u, %u workers)",
		 service_name(s->port, name, sizeof(name)), port, o->workers);
	return 0;
}

static void close_services(struct faithd_opts *o, int keep_worker)
{
	for (unsigned i = 0; i < o->nservices; i++)
		for (unsigned w = 0; w < o->workers; w++) {
			int *fd = &o->services[i].fd[w];

			if ((int)w != keep_worker && *fd >= 0) {
				close(*fd);
				*fd = -1;
			}
		}
}

static uid_t run_uid;
static gid_t run_gid;

/* Resolve --user before anything irreversible (and before detaching, so
 * that a typo is reported on the terminal). */
static int resolve_user(const char *user)
{
	struct passwd *pw;

	if (!*user || geteuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (!pw) {
		log_err("--user: no user '%s'", user);
		return -ENOENT;
	}
	run_uid = pw->pw_uid;
	run_gid = pw->pw_gid;
	return 0;
}

/*
 * Linux before 6.5 with kernel.unprivileged_bpf_disabled set refuses
 * every bpf(2) command without CAP_BPF, even through an open map fd: say
 * so at start rather than refuse every connection later.
 */
static int check_lookup(int prefixes_fd, const char *user)
{
	struct faith_prefix_key key = { .prefixlen = 128 };
	struct faith_prefix_value val;

	if (!bpf_map_lookup_elem(prefixes_fd, &key, &val) || errno == ENOENT)
		return 0;
	log_err("as user '%s', reading faith's prefixes fails: %s; this kernel needs "
		"CAP_BPF for map lookups: run faithd with --user ''", user, strerror(errno));
	return -errno;
}

/* After setuid() with PR_SET_KEEPCAPS: these capabilities (of the first
 * 32) alone, effective and permitted. */
static int set_caps(__u32 caps)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { { 0 } };

	data[0].effective = data[0].permitted = caps;
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

/* Did drop_privileges() keep CAP_NET_ADMIN (a fall-back to splice drops it)? */
static bool kept_net_admin;

/* keep_net_admin_cap: --datapath translate freezes sockets (TCP_REPAIR). */
static int drop_privileges(const char *user, int prefixes_fd, bool keep_net_admin_cap)
{
	if (!*user || geteuid() != 0)
		return 0;
	/* Where CAP_NET_ADMIN cannot be kept (faithd lacks it), it is not:
	 * xlate_check() then finds TCP_REPAIR refused, and faithd falls back
	 * to splice, or stops if translate was asked for by name. */
	if (keep_net_admin_cap && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		keep_net_admin_cap = false;
	if (setgroups(0, NULL) < 0 || setgid(run_gid) < 0 || setuid(run_uid) < 0) {
		log_err("becoming user '%s': %s", user, strerror(errno));
		return -errno;
	}
	/* PR_SET_KEEPCAPS kept all of root's permitted set: all but
	 * CAP_NET_ADMIN go, or all of them. */
	if (keep_net_admin_cap && set_caps(1u << CAP_NET_ADMIN))
		keep_net_admin_cap = false;
	if (!keep_net_admin_cap && set_caps(0)) {
		log_err("dropping capabilities as user '%s': %s", user, strerror(errno));
		return -errno;
	}
	kept_net_admin = keep_net_admin_cap;
	return check_lookup(prefixes_fd, user);
}

static int daemonize(void)
{
	pid_t pid = fork();
	int null;

	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	setsid();
	if (chdir("/") < 0)
		return -errno;
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	return 0;
}

static pid_t spawn(struct faithd_ctx *ctx, unsigned i)
{
	pid_t pid = fork();

	if (pid > 0)
		return pid;
	if (pid < 0) {
		log_err("starting worker %u: %s", i, strerror(errno));
		return 0;
	}
	ctx->worker = i;
	log_set_pid();
	close(master_sigfd);
	close_services(ctx->opts, (int)i);
	_exit(faithd_worker(ctx));
}

static unsigned live_workers(const struct faithd_opts *o)
{
	unsigned n = 0;

	for (unsigned i = 0; i < o->workers; i++)
		n += workers[i] > 0;
	return n;
}

static void signal_workers(const struct faithd_opts *o, int sig)
{
	for (unsigned i = 0; i < o->workers; i++)
		if (workers[i] > 0)
			kill(workers[i], sig);
}

/* What worker i held under -m and -M, counted out: its connections went
 * with it (a worker ends only with none unless it crashed). */
static void reclaim_counts(struct faithd_ctx *ctx, unsigned i, pid_t pid)
{
	unsigned n = limits_reclaim(ctx->limits, i);

	if (n)
		log_info("worker %u (pid %d): %u connection%s no longer counted against -m "
			 "and -M", i, (int)pid, n, n == 1 ? "" : "s");
}

/* A worker ended: note it; restart it unless faithd is stopping. */
static void reap(struct faithd_ctx *ctx, bool stopping)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (unsigned i = 0; i < ctx->opts->workers; i++) {
			if (workers[i] != pid)
				continue;
			workers[i] = 0;
			if (ctx->xlate)
				xlate_sweep(ctx->xlate, pid);
			reclaim_counts(ctx, i, pid);
			if (stopping)
				break;
			log_err("worker %u (pid %d) %s %d; restarting it", i, (int)pid,
				WIFSIGNALED(status) ? "died of signal" : "exited with status",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			sleep(RESPAWN_DELAY_S);
			workers[i] = spawn(ctx, i);
		}
	}
}

static void on_hup(struct faithd_ctx *ctx)
{
	struct faithd_conf *conf;

	if (faithd_load_conf(ctx->opts, &conf)) {
		log_err("configuration not reloaded: the rules in force stay");
		return;
	}
	faithd_conf_free(ctx->conf);
	ctx->conf = conf;
	xlate_syn_rules(ctx->xlate, conf);
	signal_workers(ctx->opts, SIGHUP);
}

static int supervise(struct faithd_ctx *ctx, int sigfd)
{
	struct faithd_opts *o = ctx->opts;
	/* Signals, interfaces coming and going (translate: -1 otherwise), and
	 * the connections the program ended (--translate-after syn). */
	struct pollfd pfd[3] = {
		{ .fd = sigfd, .events = POLLIN },
		{ .fd = xlate_links_fd(ctx->xlate), .events = POLLIN },
		{ .fd = xlate_syn_events_fd(ctx->xlate), .events = POLLIN },
	};
	bool stopping = false;
	/* The program wakes faithd only once its ring fills up: it is read
	 * this often anyway, and quiet connections swept every SYN_SWEEP_MS
	 * (while stopping, every time: until none is left, or the grace is
	 * over and they are forgotten). */
	int tick_ms = pfd[2].fd >= 0 ? SYN_EVENTS_MS : -1;
	uint64_t swept = now_ms(), stop_ms = 0;
	unsigned int syn_left = 0;

	while (!stopping || live_workers(o) || syn_left) {
		struct signalfd_siginfo si;

		if (tick_ms > 0) {
			xlate_syn_events(ctx->xlate);
			if (stopping || now_ms() - swept >= SYN_SWEEP_MS) {
				syn_left = xlate_syn_sweep(ctx->xlate, stopping &&
							   now_ms() - stop_ms >= o->grace_s * 1000ull);
				swept = now_ms();
			}
		}
		if (poll(pfd, 3, tick_ms) <= 0)
			continue;
		if (pfd[1].revents)
			xlate_links_changed(ctx->xlate);
		if (!(pfd[0].revents & POLLIN) || read(sigfd, &si, sizeof(si)) != sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(ctx, stopping);
			break;
		case SIGHUP:
			on_hup(ctx);
			break;
		case SIGALRM:
			signal_workers(o, SIGKILL);
			break;
		default:	/* SIGTERM, SIGINT */
			if (stopping)
				break;
			stopping = true;
			stop_ms = now_ms();
			log_info("stopping: no new connections; %u s for open ones to finish",
				 o->grace_s);
			xlate_syn_stop(ctx->xlate);
			close_services(o, -1);
			signal_workers(o, SIGTERM);
			alarm(o->grace_s + 5);	/* workers that hang get SIGKILL */
		}
	}
	log_info("stopped");
	return 0;
}

/*
 * The translate data path cannot run (why).  With --datapath translate that
 * is an error; with --datapath auto, faithd says so and relays with splice.
 */
static int xlate_unavailable(struct faithd_ctx *ctx, const char *why)
{
	struct faithd_opts *o = ctx->opts;

	xlate_unload(ctx->xlate);
	ctx->xlate = NULL;
	if (ctx->limits) {	/* the counts the program shared go with it */
		limits_share_total(ctx->limits, NULL);
		limits_share_sources(ctx->limits, -1);
	}
	if (!o->datapath_fallback) {
		log_err("--datapath translate: %s; use --datapath splice", why);
		return -EPERM;
	}
	log_warn("--datapath auto: translate unavailable: %s; relaying with splice", why);
	o->datapath = DATAPATH_SPLICE;
	/* Workers kept CAP_NET_ADMIN for translate only. */
	if (kept_net_admin && set_caps(0)) {
		log_err("dropping CAP_NET_ADMIN: %s", strerror(errno));
		return -EPERM;
	}
	return 0;
}

/*
 * Load the translate program; with --translate-after syn, sharing faith's
 * maps and told what faithd relays (-m and -M: the program counts its
 * connections with faithd's workers).
 */
static int xlate_setup(struct faithd_ctx *ctx, char *why, size_t len)
{
	struct faithd_opts *o = ctx->opts;
	struct xlate_faith_maps faith = { .prefixes_fd = ctx->prefixes_fd, .pin_dir = o->pin_dir };
	bool syn = o->translate_syn;
	int err;

	err = xlate_load(&ctx->xlate, syn ? &faith : NULL, why, len);
	if (err || !syn)
		return err;
	/* Without it the hand-off goes on as before. */
	if (xlate_syn_start(ctx->xlate, o, ctx->conf, why, len))
		log_warn("--translate-after syn: %s; connections are handed off after %llu "
			 "bytes", why, (unsigned long long)o->translate_after);
	return 0;
}

static int setup(struct faithd_ctx *ctx)
{
	struct faithd_opts *o = ctx->opts;
	char why[256];

	raise_nofile();
	for (unsigned i = 0; i < o->nservices; i++)
		for (unsigned w = 0; w < FAITHD_MAX_WORKERS; w++)
			o->services[i].fd[w] = -1;
	if (resolve_user(o->user))
		return -ENOENT;
	if (faithd_load_conf(o, &ctx->conf))
		return -EINVAL;
	ctx->prefixes_fd = open_prefixes(o->pin_dir);
	if (ctx->prefixes_fd < 0)
		return -ENOENT;
	if (o->datapath == DATAPATH_SOCKMAP && sockmap_load(&ctx->sockmap))
		return -EPERM;
	if (o->datapath == DATAPATH_TRANSLATE && xlate_setup(ctx, why, sizeof(why)) &&
	    xlate_unavailable(ctx, why))
		return -EPERM;
	ctx->limits = limits_create(o->max_conns, o->max_per_source, o->workers);
	if (!ctx->limits) {
		log_err("shared memory for the connection limits: %s", strerror(errno));
		return -ENOMEM;
	}
	if (!limits_have_ledgers(ctx->limits))
		log_warn("no memory to reserve for the workers' ledgers: the connections of a "
			 "worker that dies stay counted under -m and -M");
	if (o->max_conns && xlate_syn_conns_total(ctx->xlate))
		limits_share_total(ctx->limits, xlate_syn_conns_total(ctx->xlate));
	if (o->max_per_source && xlate_syn_limit_fd(ctx->xlate) >= 0)
		limits_share_sources(ctx->limits, xlate_syn_limit_fd(ctx->xlate));
	for (unsigned i = 0; i < o->nservices; i++) {
		int err = open_service(o, &o->services[i]);

		if (err)
			return err;
	}
	if (xlate_syn_services(ctx->xlate, o)) {
		log_err("--translate-after syn: telling the program faithd's sockets: %s",
			strerror(errno));
		return -EPERM;
	}
	return 0;
}

int faithd_run(struct faithd_opts *o)
{
	struct faithd_ctx ctx = { .opts = o, .prefixes_fd = -1 };
	char why[256];
	struct passwd *pw;
	sigset_t set;
	int sigfd, ret = 1;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGALRM);
	/* Blocked before any fork: workers take them from their signalfd. */
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = master_sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sigfd < 0 || setup(&ctx))
		goto out;
	if (!o->foreground) {
		if (daemonize() < 0)
			goto out;
		log_open(true, o->debug);
	}
	if (drop_privileges(o->user, ctx.prefixes_fd, ctx.xlate != NULL))
		goto out;
	if (ctx.sockmap && sockmap_check(ctx.sockmap, *o->user ? o->user : "root"))
		goto out;
	if (ctx.xlate && xlate_check(ctx.xlate, *o->user ? o->user : "root", why, sizeof(why)) &&
	    xlate_unavailable(&ctx, why))
		goto out;
	for (unsigned i = 0; i < o->workers; i++)
		workers[i] = spawn(&ctx, i);
	pw = getpwuid(geteuid());
	log_info("ready: %u service%s, %u workers, running as %s, datapath %s", o->nservices,
		 o->nservices == 1 ? "" : "s", o->workers, pw ? pw->pw_name : "?",
		 o->datapath == DATAPATH_SOCKMAP ? "sockmap" :
		 o->datapath == DATAPATH_TRANSLATE ? "translate" : "splice");
	ret = supervise(&ctx, sigfd);
	xlate_syn_events(ctx.xlate);
	xlate_syn_summary(ctx.xlate);
out:
	close_services(o, -1);
	faithd_conf_free(ctx.conf);
	limits_destroy(ctx.limits);
	sockmap_unload(ctx.sockmap);
	xlate_unload(ctx.xlate);
	if (ctx.prefixes_fd >= 0)
		close(ctx.prefixes_fd);
	if (sigfd >= 0)
		close(sigfd);
	return ret;
}

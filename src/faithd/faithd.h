/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * faithd: the IPv6-to-IPv4 TCP relay of faith.
 *
 * The master process opens one IPv6 listening socket per service and worker
 * (a SO_REUSEPORT group on [::1]:port), registers the first of each group
 * in faith's `relays` sockhash, drops privileges and forks the workers.
 * Each worker runs one epoll loop: accept, check the rules, connect to the
 * IPv4 address embedded in the original destination, relay with splice().
 */
#ifndef FAITHD_H
#define FAITHD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define FAITHD_DEFAULT_CONF	"/etc/faithd.conf"
#define FAITHD_DEFAULT_USER	"nobody"
#define FAITHD_MAX_WORKERS	64
#define FAITHD_MAX_SERVICES	64

struct faithd_service {
	uint16_t port;		/* destination port; 0: every port */
	int fd[FAITHD_MAX_WORKERS];	/* the reuseport group, one per worker */
};

/* How a worker moves the bytes of a relayed connection. */
enum faithd_datapath {
	DATAPATH_SPLICE,	/* splice() through a pipe, in the worker */
	DATAPATH_SOCKMAP,	/* a BPF sockmap verdict program, in the kernel */
	DATAPATH_TRANSLATE,	/* splice, then segments translated at TC */
};

struct faithd_opts {
	const char *conf_path;
	bool conf_explicit;	/* -f given: a missing file is fatal */
	const char *user;	/* drop to this user; "" keeps root */
	const char *pin_dir;	/* NULL: $FAITH_PIN_DIR or the default */
	const char *pid_file;
	unsigned workers;
	unsigned connect_timeout_ms;
	unsigned idle_timeout_s;	/* 0: none */
	unsigned grace_s;		/* SIGTERM: time to finish */
	unsigned max_conns;		/* 0: no limit */
	unsigned max_per_source;	/* 0: no limit */
	bool foreground;
	bool to_syslog;
	bool debug;
	enum faithd_datapath datapath;	/* default: translate, with fallback */
	bool datapath_fallback;	/* --datapath auto (the default): translate, else splice */
	uint64_t translate_after;	/* bytes relayed before a hand-off */
	bool translate_syn;	/* --translate-after syn: the program opens them */
	bool cpu_affinity;	/* pin worker i to the i-th allowed CPU */
	unsigned nservices;
	struct faithd_service services[FAITHD_MAX_SERVICES];
};

/* Everything a worker needs; the master fills it before fork(). */
struct faithd_ctx {
	struct faithd_opts *opts;
	unsigned worker;	/* this worker's index */
	int prefixes_fd;	/* the pinned `prefixes` trie */
	struct faithd_conf *conf;	/* NULL: no config file, all sources */
	struct faithd_limits *limits;	/* shared by all workers */
	struct faithd_sockmap *sockmap;	/* --datapath sockmap; else NULL */
	struct faithd_xlate *xlate;	/* --datapath translate; else NULL */
};

/* main.c */
int faithd_load_conf(const struct faithd_opts *o, struct faithd_conf **out);

/* master.c */
int faithd_run(struct faithd_opts *o);

/* worker.c */
int faithd_worker(struct faithd_ctx *ctx);

#endif /* FAITHD_H */

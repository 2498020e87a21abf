/* SPDX-License-Identifier: BSD-2-Clause */
/* faithd --datapath translate: the BPF object, loaded by the master. */
#ifndef FAITHD_XLATE_H
#define FAITHD_XLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "faithd/xlate_maps.h"

struct faithd_opts;
struct faithd_conf;
struct ring_buffer;
struct faithd_xl_flow;

#define XL_MAX_IFACES	1024

#define XL_ENDED_MAX	64

struct faithd_xlate {
	struct faithd_xlate_bpf *skel;
	int flows_fd;		/* two entries per handed-off connection */
	unsigned *nconns;	/* the program's count of them (shared memory) */
	unsigned nlinks;
	int links[XL_MAX_IFACES];	/* tcx ingress links: gone with faithd */
	unsigned link_ifindex[XL_MAX_IFACES];	/* links[i]'s interface */
	int links_nl;		/* netlink: link notifications; -1 */
	bool full_logged;	/* "more than XL_MAX_IFACES" said once */
	/* --translate-after syn (xlate_syn.c) */
	bool syn;
	uint64_t syn_idle_ms;	/* -i: a connection this quiet is forgotten */
	uint64_t syn_connect_ms;	/* -t: a SYN unanswered this long too */
	uint64_t syn_expired;	/* connections forgotten so */
	/* Connections marked ENDED as the sweep found them: this sweep's
	 * and the last's (xlate_sweep.c). */
	struct xl_ended {
		struct faithd_xl_key key;
		uint64_t tsval_ns;
	} ended[2][XL_ENDED_MAX];
	unsigned nended[2];
	unsigned ended_now;	/* this sweep's: ended[ended_now] */
	struct ring_buffer *events;	/* the program's: connections it ended */
	int raw4, raw6;		/* for resets (xlate_rst.c); -1 */
};

/* faith's pinned maps the program shares (--translate-after syn). */
struct xlate_faith_maps {
	int prefixes_fd;
	const char *pin_dir;	/* for `control` and `relays` */
};

/* Load the program and attach it at TC ingress (tcx) of every Ethernet
 * interface; 0 or -errno, with the reason in why (the caller logs it: an
 * error, or a warning when it falls back to splice). */
int xlate_load(struct faithd_xlate **out, const struct xlate_faith_maps *faith, char *why,
	       size_t len);
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

/* xlate_syn.c: start translating SYNs (0, or -errno and why); the rules
 * again after a reload; forget connections quiet too long (the master,
 * every few seconds); the counts, in the log. */
int xlate_syn_start(struct faithd_xlate *xl, const struct faithd_opts *o,
		    const struct faithd_conf *conf, char *why, size_t len);
int xlate_syn_rules(struct faithd_xlate *xl, const struct faithd_conf *conf);
/* xlate_sweep.c: forget the program's connections quiet too long (all:
 * every one, faithd is stopping); how many are left. */
unsigned int xlate_syn_sweep(struct faithd_xlate *xl, bool all);
/* Log the end of a connection the program opened (c, s: its client's and
 * server's entries; how: the words for it; start and end: monotonic ns). */
void xlate_syn_log_end(const struct faithd_xl_flow *c, const struct faithd_xl_flow *s,
		       const char *how, uint64_t start_ns, uint64_t end_ns);
/* Take no more SYNs (faithd is stopping). */
void xlate_syn_stop(struct faithd_xlate *xl);
/* The connection count the program keeps for faithd's -m (limits_share_total),
 * or NULL without translation from the SYN. */
unsigned *xlate_syn_conns_total(struct faithd_xlate *xl);
/* The program that keeps -M's counts with the program's (-1: none), and
 * running it: a FAITHD_XL_LIMIT_* result, or -errno. */
int xlate_syn_limit_fd(const struct faithd_xlate *xl);
int xlate_limit_run(int fd, const void *src, uint32_t op);
/* Run the syscall program fd on args (its ctx, len bytes): its return
 * value, or -errno. */
int xlate_call(int fd, void *args, size_t len);
/* Once the services' sockets are registered: which they are (0, -errno). */
int xlate_syn_services(struct faithd_xlate *xl, const struct faithd_opts *o);
/* The ring of connections the program ended (-1: none), and logging them. */
int xlate_syn_events_fd(const struct faithd_xlate *xl);
void xlate_syn_events(struct faithd_xlate *xl);
void xlate_syn_summary(const struct faithd_xlate *xl);

/* xlate_rst.c: raw sockets (0 or -errno), and the resets of a connection
 * faithd forgets (c, s: its client's and server's entries). */
int xlate_rst_open(struct faithd_xlate *xl);
void xlate_rst_close(struct faithd_xlate *xl);
void xlate_rst_both(const struct faithd_xlate *xl, const struct faithd_xl_flow *c,
		    const struct faithd_xl_flow *s);

#endif /* FAITHD_XLATE_H */

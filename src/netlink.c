// SPDX-License-Identifier: BSD-2-Clause
/*
 * The fwmark rule and the `local ::/0` route, over raw rtnetlink.
 *
 * Every call opens its own NETLINK_ROUTE socket, sends one request and reads
 * until the kernel's answer is complete (an ack, or NLMSG_DONE for a dump),
 * so no state is shared between calls or threads.
 */
#include <assert.h>
#include <errno.h>
#include <net/if.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "netlink.h"

/* The kernel caps one dump skb at 32 KiB, so this never truncates. */
#define NL_BUFSZ	32768
/* A dump the kernel flags as interrupted (table changed under it) is redone. */
#define NL_DUMP_TRIES	3

#define FRH_RTA(frh)	((struct rtattr *)((char *)(frh) + \
			 NLMSG_ALIGN(sizeof(struct fib_rule_hdr))))

/* A request: header, family header, then room for a few u32 attributes. */
struct nl_req {
	struct nlmsghdr nh;
	union {
		struct fib_rule_hdr frh;
		struct rtmsg rtm;
		struct tcmsg tcm;
	};
	char attrs[64];
};

/* What a dump entry must look like to count as "exists". */
struct nl_key {
	uint32_t mark, table, prio, oif;
	char *kind;		/* out: the matching TC filter's kind */
	size_t kind_len;
};

typedef bool (*nl_match_fn)(const struct nlmsghdr *nh,
			    const struct nl_key *key);

static atomic_uint nl_seq;

static void nl_put_u32(struct nl_req *req, unsigned short type, uint32_t val)
{
	size_t off = NLMSG_ALIGN(req->nh.nlmsg_len);
	struct rtattr *rta = (struct rtattr *)((char *)req + off);

	assert(off + RTA_SPACE(sizeof(val)) <= sizeof(*req));
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(sizeof(val));
	memcpy(RTA_DATA(rta), &val, sizeof(val));
	req->nh.nlmsg_len = off + RTA_SPACE(sizeof(val));
}

/* Index attributes by type; later duplicates win, unknown types are skipped. */
static void nl_parse(struct rtattr **tb, int max, struct rtattr *rta, long len)
{
	memset(tb, 0, sizeof(*tb) * (max + 1));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type <= max)
			tb[rta->rta_type] = rta;
}

static uint32_t nl_u32(const struct rtattr *rta, uint32_t dflt)
{
	uint32_t v;

	if (!rta || RTA_PAYLOAD(rta) < sizeof(v))
		return dflt;
	memcpy(&v, RTA_DATA(rta), sizeof(v));
	return v;
}

/*
 * Read the answer to @req.  A plain request ends with its NLMSG_ERROR ack
 * (error 0 on success); a dump ends with NLMSG_DONE.  Returns a negative
 * errno, else whether @match accepted any dumped entry (0 for requests).
 */
static int nl_recv(int fd, const struct nlmsghdr *req, nl_match_fn match,
		   const struct nl_key *key)
{
	union {
		struct nlmsghdr nh;
		char b[NL_BUFSZ];
	} buf;
	bool found = false, intr = false;

	for (;;) {
		struct sockaddr_nl sa;
		struct iovec iov = { .iov_base = &buf, .iov_len = sizeof(buf) };
		struct msghdr msg = {
			.msg_name = &sa, .msg_namelen = sizeof(sa),
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		struct nlmsghdr *nh;
		long n = recvmsg(fd, &msg, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (msg.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		if (sa.nl_pid != 0)	/* only the kernel may answer us */
			continue;

		for (nh = &buf.nh; NLMSG_OK(nh, n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != req->nlmsg_seq)
				continue;	/* not the answer to this request */
			if (nh->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = true;

			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				return e->error <= 0 ? e->error : -EPROTO;
			}
			if (nh->nlmsg_type == NLMSG_DONE) {
				int err = 0;

				/* The dump's own error rides in DONE's payload. */
				if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof(err)))
					memcpy(&err, NLMSG_DATA(nh), sizeof(err));
				if (err < 0)
					return err;
				return intr ? -EAGAIN : found;
			}
			if (match && !found)
				found = match(nh, key);
		}
	}
}

static int nl_talk_once(struct nl_req *req, nl_match_fn match,
			const struct nl_key *key)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;

	req->nh.nlmsg_seq = atomic_fetch_add(&nl_seq, 1) + 1;
	if (sendto(fd, req, req->nh.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		err = -errno;
	else
		err = nl_recv(fd, &req->nh, match, key);
	close(fd);
	return err;
}

/* Only dumps (@match set) are retried: a request is not idempotent. */
static int nl_talk(struct nl_req *req, nl_match_fn match,
		   const struct nl_key *key)
{
	int err, tries = 0;

	do
		err = nl_talk_once(req, match, key);
	while (err == -EAGAIN && match && ++tries < NL_DUMP_TRIES);
	return err;
}

static void nl_init(struct nl_req *req, uint16_t type, uint16_t flags,
		    size_t hdrlen)
{
	memset(req, 0, sizeof(*req));
	req->nh.nlmsg_len = NLMSG_LENGTH(hdrlen);
	req->nh.nlmsg_type = type;
	req->nh.nlmsg_flags = NLM_F_REQUEST | flags;
}

/* EEXIST after NLM_F_EXCL means an identical object is there: not an error. */
static int nl_add(struct nl_req *req)
{
	int err = nl_talk(req, NULL, NULL);

	return err == -EEXIST ? 0 : err;
}

/* ---- ip -6 rule ... priority PRIO fwmark MARK lookup TABLE ---- */

/* NLM_F_ACK on add/del so that success, too, is confirmed by the kernel. */
static void rule_req(struct nl_req *req, uint16_t type, uint16_t flags,
		     uint32_t mark, uint32_t table, uint32_t prio)
{
	nl_init(req, type, NLM_F_ACK | flags, sizeof(req->frh));
	req->frh.family = AF_INET6;
	req->frh.action = FR_ACT_TO_TBL;
	/* Tables above 255 only fit in FRA_TABLE. */
	req->frh.table = table > 255 ? RT_TABLE_UNSPEC : table;
	nl_put_u32(req, FRA_PRIORITY, prio);
	nl_put_u32(req, FRA_FWMARK, mark);
	nl_put_u32(req, FRA_FWMASK, 0xffffffff);
	nl_put_u32(req, FRA_TABLE, table);
}

static bool rule_match(const struct nlmsghdr *nh, const struct nl_key *key)
{
	const struct fib_rule_hdr *frh = NLMSG_DATA(nh);
	struct rtattr *tb[FRA_MAX + 1];

	if (nh->nlmsg_type != RTM_NEWRULE ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*frh)))
		return false;
	nl_parse(tb, FRA_MAX, FRH_RTA(frh),
		 (long)nh->nlmsg_len - NLMSG_LENGTH(sizeof(*frh)));

	/* Same selector and target, and nothing else that narrows it. */
	return frh->family == AF_INET6 && frh->action == FR_ACT_TO_TBL &&
	       !frh->src_len && !frh->dst_len &&
	       !(frh->flags & FIB_RULE_INVERT) &&
	       nl_u32(tb[FRA_PRIORITY], 0) == key->prio &&
	       nl_u32(tb[FRA_FWMARK], 0) == key->mark &&
	       nl_u32(tb[FRA_FWMASK], 0) == 0xffffffff &&
	       nl_u32(tb[FRA_TABLE], frh->table) == key->table;
}

/*
 * Table 0 (RT_TABLE_UNSPEC) is refused everywhere: for a route the kernel
 * falls back to "main", where `local ::/0` would swallow all IPv6 traffic.
 */
int faith_nl_rule_add(uint32_t mark, uint32_t table, uint32_t prio)
{
	struct nl_req req;

	if (!table)
		return -EINVAL;
	rule_req(&req, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, mark, table, prio);
	return nl_add(&req);
}

int faith_nl_rule_del(uint32_t mark, uint32_t table, uint32_t prio)
{
	struct nl_req req;

	if (!table)
		return -EINVAL;
	rule_req(&req, RTM_DELRULE, 0, mark, table, prio);
	return nl_talk(&req, NULL, NULL);
}

int faith_nl_rule_exists(uint32_t mark, uint32_t table, uint32_t prio)
{
	struct nl_key key = { .mark = mark, .table = table, .prio = prio };
	struct nl_req req;

	if (!table)
		return -EINVAL;
	nl_init(&req, RTM_GETRULE, NLM_F_DUMP, sizeof(req.frh));
	req.frh.family = AF_INET6;
	return nl_talk(&req, rule_match, &key);
}

/* ---- ip -6 route ... local ::/0 dev lo table TABLE ---- */

static int route_req(struct nl_req *req, uint16_t type, uint16_t flags,
		     uint32_t table)
{
	unsigned int lo = if_nametoindex("lo");

	if (!table)
		return -EINVAL;
	if (!lo)
		return -errno;
	nl_init(req, type, NLM_F_ACK | flags, sizeof(req->rtm));
	req->rtm.rtm_family = AF_INET6;
	req->rtm.rtm_table = RT_TABLE_UNSPEC;	/* RTA_TABLE holds all 32 bits */
	req->rtm.rtm_type = RTN_LOCAL;
	req->rtm.rtm_scope = RT_SCOPE_HOST;
	/* Deletion leaves protocol 0 so it matches whoever added the route. */
	if (type == RTM_NEWROUTE)
		req->rtm.rtm_protocol = RTPROT_STATIC;
	nl_put_u32(req, RTA_TABLE, table);
	nl_put_u32(req, RTA_OIF, lo);
	return 0;
}

static bool route_match(const struct nlmsghdr *nh, const struct nl_key *key)
{
	const struct rtmsg *rtm = NLMSG_DATA(nh);
	struct rtattr *tb[RTA_MAX + 1];

	if (nh->nlmsg_type != RTM_NEWROUTE ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
		return false;
	nl_parse(tb, RTA_MAX, RTM_RTA(rtm), RTM_PAYLOAD(nh));

	return rtm->rtm_family == AF_INET6 && rtm->rtm_type == RTN_LOCAL &&
	       rtm->rtm_dst_len == 0 &&
	       nl_u32(tb[RTA_TABLE], rtm->rtm_table) == key->table &&
	       nl_u32(tb[RTA_OIF], key->oif) == key->oif;
}

int faith_nl_local_route_add(uint32_t table)
{
	struct nl_req req;
	int err = route_req(&req, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, table);

	return err ? err : nl_add(&req);
}

int faith_nl_local_route_del(uint32_t table)
{
	struct nl_req req;
	int err = route_req(&req, RTM_DELROUTE, 0, table);

	return err ? err : nl_talk(&req, NULL, NULL);
}

int faith_nl_local_route_exists(uint32_t table)
{
	struct nl_key key = { .table = table, .oif = if_nametoindex("lo") };
	struct nl_req req;

	if (!table)
		return -EINVAL;
	if (!key.oif)
		return -errno;
	nl_init(&req, RTM_GETROUTE, NLM_F_DUMP, sizeof(req.rtm));
	req.rtm.rtm_family = AF_INET6;
	return nl_talk(&req, route_match, &key);
}

/* ---- is the clsact qdisc still used by anyone? ---- */

static bool any_filter(const struct nlmsghdr *nh, const struct nl_key *key)
{
	(void)key;
	return nh->nlmsg_type == RTM_NEWTFILTER;
}

int faith_nl_clsact_unused(int ifindex)
{
	static const uint32_t parents[] = {
		TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS),
		TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS),
	};
	struct nl_req req;
	int used;

	for (size_t i = 0; i < sizeof(parents) / sizeof(parents[0]); i++) {
		nl_init(&req, RTM_GETTFILTER, NLM_F_DUMP, sizeof(req.tcm));
		req.tcm.tcm_family = AF_UNSPEC;
		req.tcm.tcm_ifindex = ifindex;
		req.tcm.tcm_parent = parents[i];
		used = nl_talk(&req, any_filter, NULL);
		if (used)
			return used < 0 ? used : 0;
	}
	return 1;
}

/* ---- what sits at a priority of clsact ingress? ---- */

static bool filter_at_prio(const struct nlmsghdr *nh, const struct nl_key *key)
{
	const struct tcmsg *tcm = NLMSG_DATA(nh);
	struct rtattr *tb[TCA_MAX + 1];
	size_t len;

	if (nh->nlmsg_type != RTM_NEWTFILTER ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*tcm)) ||
	    TC_H_MAJ(tcm->tcm_info) >> 16 != key->prio)
		return false;
	nl_parse(tb, TCA_MAX, TCA_RTA(tcm), TCA_PAYLOAD(nh));
	/* Filters of other chains do not compete for our slot in chain 0. */
	if (!tb[TCA_KIND] || nl_u32(tb[TCA_CHAIN], 0) != 0)
		return false;
	len = RTA_PAYLOAD(tb[TCA_KIND]);
	if (len >= key->kind_len)
		len = key->kind_len - 1;
	memcpy(key->kind, RTA_DATA(tb[TCA_KIND]), len);
	key->kind[len] = '\0';
	return true;
}

int faith_nl_tc_filter_kind(int ifindex, uint32_t prio, char *kind, size_t len)
{
	struct nl_key key = { .prio = prio, .kind = kind, .kind_len = len };
	struct nl_req req;

	if (!len)
		return -EINVAL;
	kind[0] = '\0';
	nl_init(&req, RTM_GETTFILTER, NLM_F_DUMP, sizeof(req.tcm));
	req.tcm.tcm_family = AF_UNSPEC;
	req.tcm.tcm_ifindex = ifindex;
	req.tcm.tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
	return nl_talk(&req, filter_at_prio, &key);
}

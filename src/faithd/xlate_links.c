// SPDX-License-Identifier: BSD-2-Clause
/*
 * faithd --datapath translate: the program's tcx links, one per Ethernet
 * interface of the router.  Attached at start, and later to interfaces
 * that appear while faithd runs (a VLAN, a PPP session's Ethernet, a
 * replaced card): the master listens to the kernel's link notifications
 * and, on any, looks at the interfaces again.  A link whose interface went
 * away (deleted, or moved to another namespace) is detached and closed.
 * Without a link on its interface a connection is never handed off: it
 * stays with splice.
 */
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "faithd_xlate.skel.h"
#include "faithd/log.h"
#include "faithd/xlate.h"

/* Not in the UAPI headers of older distributions; Linux 6.6's values. */
#define XL_BPF_TCX_INGRESS	46

/* The program parses Ethernet frames: loopback, tunnels and other links
 * without an Ethernet header are left alone. */
static bool is_ethernet(const char *name)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ether = false;

	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (!ioctl(fd, SIOCGIFHWADDR, &ifr))
		ether = ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER;
	close(fd);
	return ether;
}

static bool attached(const struct faithd_xlate *xl, unsigned ifindex)
{
	for (unsigned i = 0; i < xl->nlinks; i++)
		if (xl->link_ifindex[i] == ifindex)
			return true;
	return false;
}

static int attach_one(struct faithd_xlate *xl, const struct if_nameindex *i,
		      char *why, size_t len)
{
	int prog = bpf_program__fd(xl->skel->progs.faithd_xlate);
	int link, err;

	if (xl->nlinks == XL_MAX_IFACES) {
		snprintf(why, len, "attaching to %s: more than %d interfaces", i->if_name,
			 XL_MAX_IFACES);
		return -E2BIG;
	}
	link = bpf_link_create(prog, i->if_index, XL_BPF_TCX_INGRESS, NULL);
	if (link < 0) {
		err = -errno;
		snprintf(why, len, "attaching to %s (tcx ingress): %s (it needs Linux 6.6 "
			 "or later)", i->if_name, strerror(-err));
		return err;
	}
	xl->link_ifindex[xl->nlinks] = i->if_index;
	xl->links[xl->nlinks++] = link;
	return 0;
}

/*
 * Attach to every Ethernet interface not attached yet, their names added to
 * names.  at_start: stop at the first failure (faithd then does not start,
 * or falls back to splice); later, log it and go on with the others.
 * Interfaces past XL_MAX_IFACES get no program: said once, not fatal.
 */
static int attach_new(struct faithd_xlate *xl, bool at_start, char *names, size_t nlen,
		      char *why, size_t len)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int err = 0;

	if (!ifs) {
		err = -errno;
		snprintf(why, len, "listing the interfaces: %s", strerror(-err));
		if (!at_start)
			log_err("--datapath translate: %s", why);
		return err;
	}
	for (i = ifs; i->if_index; i++) {
		int e;

		if (attached(xl, i->if_index) || !is_ethernet(i->if_name))
			continue;
		e = attach_one(xl, i, why, len);
		if (!e) {
			snprintf(names + strlen(names), nlen - strlen(names), "%s%s",
				 *names ? ", " : "", i->if_name);
			continue;
		}
		if (e == -E2BIG) {
			if (!xl->full_logged)
				log_warn("--datapath translate: %s: it and the next get no "
					 "program, their connections stay with splice", why);
			xl->full_logged = true;
			break;
		}
		err = e;
		if (at_start)
			break;
		log_err("--datapath translate: %s; its connections stay with splice", why);
	}
	if_freenameindex(ifs);
	return err;
}

/*
 * Detach and close the links of interfaces that are gone.  Detached, not
 * only closed: the workers hold copies of the links made before they were
 * forked, and a link to an interface moved to another namespace stays
 * attached there as long as any copy is open.
 */
static void drop_gone(struct faithd_xlate *xl)
{
	char name[IF_NAMESIZE];

	for (unsigned i = 0; i < xl->nlinks;) {
		if (if_indextoname(xl->link_ifindex[i], name) ||
		    (errno != ENXIO && errno != ENODEV)) {
			i++;
			continue;
		}
		bpf_link_detach(xl->links[i]);
		close(xl->links[i]);
		xl->full_logged = false;
		xl->nlinks--;
		xl->links[i] = xl->links[xl->nlinks];
		xl->link_ifindex[i] = xl->link_ifindex[xl->nlinks];
	}
}

/* Link notifications, before the first look, so that none is missed. */
static int watch_links(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	close(fd);
	return -1;
}

int xlate_links_attach(struct faithd_xlate *xl, char *why, size_t len)
{
	char names[256] = "";
	int err;

	xl->links_nl = watch_links();
	if (xl->links_nl < 0)
		log_warn("--datapath translate: watching for new interfaces: %s; only the "
			 "interfaces there now get the program", strerror(errno));
	err = attach_new(xl, true, names, sizeof(names), why, len);
	if (!err)
		log_info("--datapath translate: on %s", *names ? names : "no interface");
	return err;
}

void xlate_links_changed(struct faithd_xlate *xl)
{
	char buf[8192], names[256] = "", why[256];
	ssize_t n;

	/* What changed does not matter: the interfaces are looked at again.
	 * ENOBUFS (notifications lost) says the same. */
	do
		n = recv(xl->links_nl, buf, sizeof(buf), 0);
	while (n > 0 || (n < 0 && (errno == ENOBUFS || errno == EINTR)));
	drop_gone(xl);
	attach_new(xl, false, names, sizeof(names), why, sizeof(why));	/* logs failures */
	if (*names)
		log_info("--datapath translate: now also on %s", names);
}

void xlate_links_close(struct faithd_xlate *xl)
{
	for (unsigned i = 0; i < xl->nlinks; i++)
		close(xl->links[i]);
	xl->nlinks = 0;
	if (xl->links_nl >= 0)
		close(xl->links_nl);
	xl->links_nl = -1;
}

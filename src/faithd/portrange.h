/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * --translate-after syn: the ports the program may open connections from.
 * They must be ports the router's own connections never take theirs from
 * (the kernel picks those in net.ipv4.ip_local_port_range, less
 * net.ipv4.ip_local_reserved_ports): else a connection of the router's
 * could take a 4-tuple the program holds, or leave the server a TIME-WAIT
 * in the way of one.
 */
#ifndef FAITHD_PORTRANGE_H
#define FAITHD_PORTRANGE_H

/* Fewer ports than this: too few to translate SYNs from. */
#define FAITHD_PORTS_MIN	1024

/*
 * The longest run of ports from 1024 to 65535 that the kernel never picks
 * itself, given the texts of ip_local_port_range ("LO HI") and
 * ip_local_reserved_ports ("P,P-Q,..." or empty), into *lo..*hi.  0; or
 * -EINVAL (a text that does not parse), -ENOSPC (no run of
 * FAITHD_PORTS_MIN ports; *lo..*hi is the longest there is, or 0..0).
 */
int faithd_free_ports(const char *range, const char *reserved, unsigned int *lo,
		      unsigned int *hi);

#endif /* FAITHD_PORTRANGE_H */

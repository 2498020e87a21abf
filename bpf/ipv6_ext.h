/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The IPv6 extension header walk of faith's classifier (faith.bpf.c) and
 * faithd's translating relay (faithd_xlate.bpf.c).
 */
#ifndef FAITH_IPV6_EXT_H
#define FAITH_IPV6_EXT_H

#include <linux/in.h>
#include <linux/in6.h>
#include <bpf/bpf_endian.h>

/* Headers walked before the upper-layer protocol; bounded for the verifier. */
#define MAX_EXT_HDRS	6
/* Bytes a TC program pulls into the linear area when headers are not. */
#define PULL_LEN	256

struct cursor {
	void *pos;
	void *end;
};

/*
 * Walk the extension headers after an IPv6 header, leaving the cursor at the
 * upper-layer header.  Returns its protocol, -1 when the chain is truncated
 * or longer than MAX_EXT_HDRS.  A non-first fragment has no upper-layer
 * header: *later_frag is set and the fragment header's next header is
 * returned, except that destination options there (the one extension
 * header that sits in the fragmentable part before TCP) count as TCP, so
 * that all fragments of such a packet get the verdict of its first one.
 */
static __always_inline int skip_ext_hdrs(struct cursor *c, __u8 nexthdr,
					 int *later_frag)
{
	*later_frag = 0;
	/* One turn more than headers: the last may only find the protocol. */
#pragma unroll
	for (int i = 0; i <= MAX_EXT_HDRS; i++) {
		__u8 *hdr = c->pos;
		__u32 len;

		switch (nexthdr) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if ((void *)(hdr + 2) > c->end)
				return -1;
			len = ((__u32)hdr[1] + 1) * 8;
			break;
		case IPPROTO_FRAGMENT:
			if ((void *)(hdr + 8) > c->end)
				return -1;
			if (*(__be16 *)(hdr + 2) & bpf_htons(0xfff8)) {
				*later_frag = 1;
				return hdr[0] == IPPROTO_DSTOPTS ? IPPROTO_TCP : hdr[0];
			}
			len = 8;
			break;
		default:
			return nexthdr;
		}
		nexthdr = hdr[0];
		c->pos = hdr + len;
	}
	return -1;
}

#endif /* FAITH_IPV6_EXT_H */

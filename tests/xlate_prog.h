/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The program under test for test_xlate and test_xlate_guard: faithd's
 * translating TC program, loaded from its skeleton, with one handed-off
 * connection's two entries in `flows`, and BPF_PROG_TEST_RUN on frames.
 */
#ifndef XLATE_PROG_H
#define XLATE_PROG_H

#include <stdbool.h>
#include <stdint.h>

#include "faithd/xlate_maps.h"
#include "faithd_xlate.skel.h"
#include "xlate_frames.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

extern struct faithd_xlate_bpf *skel;
/* One handed-off connection's entries: the client's segments (sent on as
 * IPv4), the server's (sent on as IPv6), as translation() leaves them. */
extern struct faithd_xl_key key_c, key_s;
extern struct faithd_xl_flow flow_c, flow_s;
extern struct pkt frame;	/* the last frame sent */

struct run {
	int err, ret;
	uint32_t len;		/* of data_out */
	uint8_t out[PKT_MAX + 64];
};

/* Load the program (false if it does not) and set the entries up. */
bool xlate_prog_load(void);
void xlate_prog_unload(void);
void put_flow(const struct faithd_xl_key *k, const struct faithd_xl_flow *f);
struct faithd_xl_flow get_flow(const struct faithd_xl_key *k);
/* Both entries back as translation() leaves them, ACTIVE. */
void reset_flows(void);
/* Run the program on frame, coming in on ifindex. */
void run_frame(uint32_t ifindex, struct run *r);
/* Build s, from its peer (the client's IPv6, the server's IPv4), into frame. */
void build_seg(const struct seg *s);
/* Build s and run it, coming in on ifindex. */
void send_seg(const struct seg *s, uint32_t ifindex, struct run *r);
/* Did the frame go out as it came in? */
bool intact(const struct run *r);

#endif /* XLATE_PROG_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libfaith-relay: register relay sockets with a loaded faith datapath.
 *
 * A relay opens an IPv6 TCP listening socket (e.g. bound to [::1]:0 with
 * IPV6_V6ONLY) and registers it for a destination port, or for every port
 * with FAITH_PORT_ALL.  From then on accept() returns connections that IPv6
 * clients made to any address inside a faith prefix, and getsockname() on
 * the accepted socket returns the original destination address and port.
 *
 * Registration writes the pinned `relays` map and so needs CAP_BPF (or
 * root).  A relay without it can be registered from outside with
 * `faith-loader relay add PORT --pid PID --fd FD`.  Closing the listening
 * socket unregisters it.
 */
#ifndef FAITH_RELAY_H
#define FAITH_RELAY_H

#include <stdint.h>

#define FAITH_PORT_ALL 0	/* register for every destination port */

#ifdef __cplusplus
extern "C" {
#endif

/*
 * pin_dir NULL means $FAITH_PIN_DIR, else /sys/fs/bpf/faith.
 * All functions return 0 or a negative errno:
 *   -ENOTSOCK, -EPROTOTYPE, -EAFNOSUPPORT, -EINVAL (not listening): fd is
 *   not an IPv6 TCP listening socket; -ENOENT: faith is not loaded in
 *   pin_dir; -EPERM/-EACCES: no privilege to write the map.
 */
int faith_relay_check_socket(int fd);
int faith_relay_register(int fd, uint16_t port, const char *pin_dir);
int faith_relay_unregister(uint16_t port, const char *pin_dir);

/* The pin directory that a NULL pin_dir stands for. */
const char *faith_relay_pin_dir(const char *pin_dir);

/* A message for a negative errno returned above. */
const char *faith_relay_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* FAITH_RELAY_H */

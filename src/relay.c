// SPDX-License-Identifier: BSD-2-Clause
/* libfaith-relay: write relay sockets into the pinned `relays` sockhash. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "faith_relay.h"
#include "maps.h"

const char *faith_relay_pin_dir(const char *pin_dir)
{
	const char *env;

	if (pin_dir && *pin_dir)
		return pin_dir;
	env = getenv("FAITH_PIN_DIR");
	return env && *env ? env : FAITH_DEFAULT_PIN_DIR;
}

static int sockopt_int(int fd, int level, int name, int *val)
{
	socklen_t len = sizeof(*val);

	if (getsockopt(fd, level, name, val, &len) < 0)
		return -errno;
	return 0;
}

int faith_relay_check_socket(int fd)
{
	int val, err;

	err = sockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &val);
	if (err)
		return err == -EBADF ? -EBADF : -ENOTSOCK;
	if (val != AF_INET6)
		return -EAFNOSUPPORT;
	err = sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL, &val);
	if (err)
		return err;
	if (val != IPPROTO_TCP)
		return -EPROTOTYPE;
	err = sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN, &val);
	if (err)
		return err;
	return val ? 0 : -EINVAL;
}

static int open_relays(const char *pin_dir)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", faith_relay_pin_dir(pin_dir),
		     FAITH_PIN_RELAYS) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int faith_relay_register(int fd, uint16_t port, const char *pin_dir)
{
	__u32 key = port;
	__u64 value = (__u64)fd;
	int map, err;

	err = faith_relay_check_socket(fd);
	if (err)
		return err;
	map = open_relays(pin_dir);
	if (map < 0)
		return map;
	err = bpf_map_update_elem(map, &key, &value, BPF_ANY) ? -errno : 0;
	close(map);
	return err;
}

int faith_relay_unregister(uint16_t port, const char *pin_dir)
{
	__u32 key = port;
	int map, err;

	map = open_relays(pin_dir);
	if (map < 0)
		return map;
	err = bpf_map_delete_elem(map, &key) ? -errno : 0;
	close(map);
	return err;
}

const char *faith_relay_strerror(int err)
{
	switch (err) {
	case -EBADF:
		return "not an open file descriptor";
	case -ENOTSOCK:
		return "not a socket";
	case -EAFNOSUPPORT:
		return "not an IPv6 socket";
	case -EPROTOTYPE:
		return "not a TCP socket";
	case -EINVAL:
		return "socket is not listening";
	case -ENOENT:
		return "faith is not loaded (no pinned relays map)";
	case -EPERM:
	case -EACCES:
		return "permission denied (needs CAP_BPF or root)";
	default:
		return strerror(-err);
	}
}

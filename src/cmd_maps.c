// SPDX-License-Identifier: BSD-2-Clause
/* Verbs that edit the maps: route (prefixes), keepfaith (gate), relay. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "cli.h"
#include "faith_relay.h"
#include "json.h"
#include "objects.h"
#include "pindex.h"
#include "prefix.h"
#include "util.h"

/* Sub-verb dispatch shared by `route` and `relay`. */
static const char *subverb(const struct faith_verb *verb, int argc, char **argv)
{
	if (optind >= argc) {
		cli_bad(verb, "missing sub-verb");
		return NULL;
	}
	return argv[optind++];
}

/* ---- route ---- */

int list_prefixes(const struct faith_cli *cli, const struct faith_objs *o,
		  const char *json_key)
{
	struct faith_prefix_key key, next;
	char text[FAITH_PREFIX_STRLEN];
	void *prev = NULL;

	if (cli->json)
		json_arr_open(json_key);
	while (!bpf_map_get_next_key(o->fd[OBJ_PREFIXES], prev, &next)) {
		key = next;
		prev = &key;
		faith_prefix_format(&key, text, sizeof(text));
		if (cli->json)
			json_str(NULL, text);
		else
			printf("%s%s\n", json_key ? "  " : "", text);
	}
	if (cli->json)
		json_arr_close();
	return EXIT_OK;
}

/* Parse every prefix operand before touching the map. */
static int parse_prefixes(int argc, char **argv, struct faith_prefix_key *keys)
{
	char why[256];

	if (optind >= argc)
		return cli_bad(&verb_route, "expected one or more prefixes, e.g. 64:ff9b::/96");
	for (int i = optind; i < argc; i++) {
		if (faith_prefix_parse(argv[i], &keys[i - optind], why, sizeof(why)))
			return cli_bad(&verb_route, "bad prefix %s", why);
	}
	return EXIT_OK;
}

/* Add or delete keys[from..to) in the trie; -errno of the first failure. */
static int apply_prefixes(int fd, bool add, const struct faith_prefix_key *keys,
			  int from, int to, int *done)
{
	struct faith_prefix_value val = {};

	for (*done = from; *done < to; (*done)++) {
		val.prefixlen = keys[*done].prefixlen;
		if (add ? bpf_map_update_elem(fd, &keys[*done], &val, BPF_NOEXIST)
			: bpf_map_delete_elem(fd, &keys[*done]))
			return -errno;
	}
	return 0;
}

/*
 * All or nothing: prefixes are checked, then applied, then the datapath's
 * index is rebuilt; on any failure the trie is put back as it was.
 */
static int route_change(const struct faith_cli *cli, bool add, int argc, char **argv)
{
	struct faith_prefix_value val;
	struct faith_prefix_key *keys;
	int n = argc - optind, ret, err = 0, done, undone, lock, m = 0;
	struct faith_objs o;

	keys = calloc(n > 0 ? n : 1, sizeof(*keys));
	if (!keys)
		return EXIT_FAIL;
	ret = parse_prefixes(argc, argv, keys);
	if (!ret)
		ret = add ? cli_load(cli, &o) : cli_open(cli, &o);
	if (ret) {
		free(keys);
		return ret;
	}
	lock = faith_pindex_lock(o.pin_dir);
	/* Adding what is there already is a no-op; deleting what is not, an
	 * error.  A trie lookup is a longest match, which may find a shorter
	 * prefix holding this one: the value's length tells them apart. */
	for (int i = 0; i < n; i++) {
		bool present = !bpf_map_lookup_elem(o.fd[OBJ_PREFIXES], &keys[i], &val) &&
			       val.prefixlen == keys[i].prefixlen;

		if (!add && !present) {
			faith_err("prefix %s is not configured", argv[optind + i]);
			ret = EXIT_FAIL;
		}
		if (present != add)
			keys[m++] = keys[i];
	}
	if (!ret) {
		err = apply_prefixes(o.fd[OBJ_PREFIXES], add, keys, 0, m, &done);
		if (!err)
			err = faith_objs_rebuild_index(&o);
		if (err) {
			faith_err("cannot %s prefixes: %s%s", add ? "add" : "delete",
				  faith_strerror(err), err == -E2BIG || err == -ENOSPC ?
				  " (the table is full)" : "");
			apply_prefixes(o.fd[OBJ_PREFIXES], !add, keys, 0, done, &undone);
			ret = EXIT_FAIL;
		}
	}
	faith_pindex_unlock(lock);
	faith_objs_close(&o);
	free(keys);
	return ret;
}

/*
 * -j after a successful route add/del: the prefixes, written the way
 * `route list` writes them.  Text mode stays silent, as ip(8) does.
 */
static void print_route_result(const struct faith_cli *cli, bool add,
			       int argc, char **argv)
{
	char text[FAITH_PREFIX_STRLEN], why[256];
	struct faith_prefix_key key;

	if (!cli->json)
		return;
	json_obj_open(NULL);
	json_arr_open(add ? "added" : "deleted");
	for (int i = 0; i < argc; i++) {
		/* Parsed once already: this cannot fail now. */
		if (faith_prefix_parse(argv[i], &key, why, sizeof(why)))
			continue;
		faith_prefix_format(&key, text, sizeof(text));
		json_str(NULL, text);
	}
	json_arr_close();
	json_obj_close();
	json_end();
}

static int run_route(struct faith_cli *cli, int argc, char **argv)
{
	struct faith_objs o;
	const char *sub;
	int ret;

	ret = cli_parse(cli, &verb_route, argc, argv, "", NULL, NULL, NULL);
	if (ret != CLI_CONTINUE)
		return ret;
	sub = subverb(&verb_route, argc, argv);
	if (!sub)
		return EXIT_USAGE;
	if (!strcmp(sub, "add") || !strcmp(sub, "del")) {
		bool add = sub[0] == 'a';
		int first = optind;

		ret = route_change(cli, add, argc, argv);
		if (ret == EXIT_OK)
			print_route_result(cli, add, argc - first, argv + first);
		return ret;
	}
	if (strcmp(sub, "list") && strcmp(sub, "show"))
		return cli_bad(&verb_route, "unknown sub-verb '%s'", sub);
	if (optind != argc)
		return cli_bad(&verb_route, "unexpected argument '%s'", argv[optind]);
	ret = cli_open(cli, &o);
	if (ret)
		return ret;
	ret = list_prefixes(cli, &o, NULL);
	if (cli->json)
		json_end();
	faith_objs_close(&o);
	return ret;
}

/* ---- keepfaith ---- */

static int run_keepfaith(struct faith_cli *cli, int argc, char **argv)
{
	struct faith_control ctl;
	struct faith_objs o;
	bool set;
	int ret, err;

	ret = cli_parse(cli, &verb_keepfaith, argc, argv, "", NULL, NULL, NULL);
	if (ret != CLI_CONTINUE)
		return ret;
	set = optind < argc;
	if (argc - optind > 1)
		return cli_bad(&verb_keepfaith, "unexpected argument '%s'", argv[optind + 1]);
	if (set && strcmp(argv[optind], "0") && strcmp(argv[optind], "1"))
		return cli_bad(&verb_keepfaith, "value must be 0 or 1, not '%s'", argv[optind]);
	ret = set ? cli_load(cli, &o) : cli_open(cli, &o);
	if (ret)
		return ret;
	err = faith_control_get(&o, &ctl);
	if (!err && set) {
		ctl.keepfaith = argv[optind][0] == '1';
		err = faith_control_set(&o, &ctl);
	}
	faith_objs_close(&o);
	if (err) {
		faith_err("cannot access the control map: %s", faith_strerror(err));
		return EXIT_FAIL;
	}
	if (cli->json) {
		json_obj_open(NULL);
		json_u64("keepfaith", ctl.keepfaith);
		json_obj_close();
		json_end();
	} else if (!set) {
		printf("%u\n", ctl.keepfaith);
	}
	return EXIT_OK;
}

/* ---- relay ---- */

struct relay_args {
	long pid;	/* -1: the fd is our own */
	long fd;
};

static int relay_opt(int opt, const char *arg, void *ctx)
{
	struct relay_args *ra = ctx;
	uint32_t val;

	/* Decimal only, as ps(1) and ss(8) print them: 010 is not 8. */
	if (!parse_dec_u32(arg, opt == 'p' ? 0x3fffffff : 0x7fffffff, &val) ||
	    (opt == 'p' && val == 0))
		return cli_bad(&verb_relay, "bad --%s '%s': expected a decimal %s",
			       opt == 'p' ? "pid" : "fd", arg,
			       opt == 'p' ? "positive process ID" : "descriptor number");
	if (opt == 'p')
		ra->pid = val;
	else
		ra->fd = val;
	return 0;
}

/* "all" or 1-65535 */
static bool parse_port(const char *text, uint16_t *port)
{
	uint32_t val;

	if (!strcmp(text, "all")) {
		*port = FAITH_PORT_ALL;
		return true;
	}
	if (!parse_dec_u32(text, 65535, &val) || val == 0)
		return false;
	*port = (uint16_t)val;
	return true;
}

static void port_text(uint32_t port, char *buf, size_t len)
{
	if (port == FAITH_RELAY_ALL_PORTS)
		snprintf(buf, len, "all");
	else
		snprintf(buf, len, "%u", port);
}

/* A copy of fd `fd` of process `pid` (pidfd_getfd), or our own. */
static int borrow_fd(const struct relay_args *ra)
{
	int pidfd, fd;

	if (ra->pid < 0)
		return (int)ra->fd;
	pidfd = (int)syscall(SYS_pidfd_open, (pid_t)ra->pid, 0);
	if (pidfd < 0) {
		faith_err("cannot open process %ld: %s", ra->pid, strerror(errno));
		return -1;
	}
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, (int)ra->fd, 0);
	if (fd < 0)
		faith_err("cannot take fd %ld of process %ld: %s", ra->fd, ra->pid,
			  strerror(errno));
	close(pidfd);
	return fd;
}

static int relay_add(const struct faith_cli *cli, const struct relay_args *ra,
		     uint16_t port, const char *port_arg)
{
	struct faith_objs o;
	int fd, err, ret;
	__u64 cookie = 0;
	__u32 key = port;

	if (ra->fd < 0)
		return cli_bad(&verb_relay, "relay add needs --fd FD (and --pid PID for another process's socket)");
	fd = borrow_fd(ra);
	if (fd < 0)
		return EXIT_FAIL;
	err = faith_relay_check_socket(fd);
	if (err) {
		if (ra->pid >= 0)
			faith_err("fd %ld of process %ld: %s", ra->fd, ra->pid,
				  faith_relay_strerror(err));
		else
			faith_err("fd %ld: %s", ra->fd, faith_relay_strerror(err));
		ret = EXIT_FAIL;
		goto out;
	}
	ret = cli_load(cli, &o);
	if (ret)
		goto out;
	err = faith_relay_register(fd, port, o.pin_dir);
	if (!err)
		bpf_map_lookup_elem(o.fd[OBJ_RELAYS], &key, &cookie);
	faith_objs_close(&o);
	if (err) {
		faith_err("cannot register relay for port %s: %s", port_arg,
			  faith_relay_strerror(err));
		ret = EXIT_FAIL;
	} else if (cli->json) {
		json_obj_open(NULL);
		json_str("port", port_arg);
		json_u64("cookie", cookie);
		json_obj_close();
		json_end();
	} else {
		printf("relay for port %s: socket cookie %" PRIu64 "\n", port_arg,
		       (uint64_t)cookie);
	}
out:
	if (ra->pid >= 0)
		close(fd);
	return ret;
}

static int relay_del(const struct faith_cli *cli, uint16_t port, const char *port_arg)
{
	struct faith_objs o;
	__u32 key = port;
	int ret, err;

	ret = cli_open(cli, &o);
	if (ret)
		return ret;
	err = bpf_map_delete_elem(o.fd[OBJ_RELAYS], &key) ? -errno : 0;
	faith_objs_close(&o);
	if (err == -ENOENT)
		faith_err("no relay is registered for port %s", port_arg);
	else if (err)
		faith_err("cannot remove the relay for port %s: %s", port_arg,
			  faith_strerror(err));
	if (err)
		return EXIT_FAIL;
	if (cli->json) {
		json_obj_open(NULL);
		json_str("port", port_arg);
		json_bool("deleted", true);
		json_obj_close();
		json_end();
	}
	return EXIT_OK;
}

int list_relays(const struct faith_cli *cli, const struct faith_objs *o,
		const char *json_key)
{
	__u32 key, next, *prev = NULL;
	char port[12];
	__u64 cookie;

	if (cli->json)
		json_arr_open(json_key);
	while (!bpf_map_get_next_key(o->fd[OBJ_RELAYS], prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(o->fd[OBJ_RELAYS], &key, &cookie))
			continue;	/* socket closed meanwhile */
		port_text(key, port, sizeof(port));
		if (cli->json) {
			json_obj_open(NULL);
			json_str("port", port);
			json_u64("cookie", cookie);
			json_obj_close();
		} else {
			printf("%s%-5s cookie %" PRIu64 "\n", json_key ? "  " : "",
			       port, (uint64_t)cookie);
		}
	}
	if (cli->json)
		json_arr_close();
	return EXIT_OK;
}

static int relay_list(const struct faith_cli *cli, int argc, char **argv)
{
	struct faith_objs o;
	int ret;

	if (optind != argc)
		return cli_bad(&verb_relay, "unexpected argument '%s'", argv[optind]);
	ret = cli_open(cli, &o);
	if (ret)
		return ret;
	ret = list_relays(cli, &o, NULL);
	if (cli->json)
		json_end();
	faith_objs_close(&o);
	return ret;
}

static int run_relay(struct faith_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "fd", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct relay_args ra = { .pid = -1, .fd = -1 };
	const char *sub;
	uint16_t port;
	bool list;
	int ret;

	ret = cli_parse(cli, &verb_relay, argc, argv, "", opts, relay_opt, &ra);
	if (ret != CLI_CONTINUE)
		return ret;
	sub = subverb(&verb_relay, argc, argv);
	if (!sub)
		return EXIT_USAGE;
	list = !strcmp(sub, "list") || !strcmp(sub, "show");
	if (!list && strcmp(sub, "add") && strcmp(sub, "del"))
		return cli_bad(&verb_relay, "unknown sub-verb '%s'", sub);
	/* Ignoring them would let a typo'd command look like it worked. */
	if (strcmp(sub, "add") && (ra.fd >= 0 || ra.pid >= 0))
		return cli_bad(&verb_relay, "--fd and --pid go with 'relay add' only");
	if (list)
		return relay_list(cli, argc, argv);
	if (argc - optind != 1)
		return cli_bad(&verb_relay, "expected one PORT (1-65535) or 'all'");
	if (!parse_port(argv[optind], &port))
		return cli_bad(&verb_relay, "bad port '%s': expected 1-65535 or 'all'", argv[optind]);
	if (sub[0] == 'a')
		return relay_add(cli, &ra, port, argv[optind]);
	return relay_del(cli, port, argv[optind]);
}

const struct faith_verb verb_route = {
	.name = "route", .run = run_route,
	.synopsis = "add|del PREFIX... | list|show",
	.help = "Manage faith prefixes: IPv6 TCP to any address inside one is captured.\n"
		"A prefix is at most /96 (the low 32 bits carry the IPv4 address) and may\n"
		"not be ::/0 or touch ::/96, ::ffff:0:0/96, fe80::/10 or ff00::/8.\n"
		"Several prefixes are checked first, then applied together.\n",
};

const struct faith_verb verb_keepfaith = {
	.name = "keepfaith", .run = run_keepfaith,
	.synopsis = "[0|1]",
	.help = "Print or set the gate (net.inet6.ip6.keepfaith on BSD).  With 0, the\n"
		"default, nothing is captured.\n",
};

const struct faith_verb verb_relay = {
	.name = "relay", .run = run_relay,
	.synopsis = "add PORT|all --fd FD [--pid PID] | del PORT|all | list|show",
	.help = "Register a relay's IPv6 TCP listening socket for a destination port, or\n"
		"for every port ('all'; a port's own relay wins).  With --pid, FD is a\n"
		"descriptor of that process, taken with pidfd_getfd(2): the relay itself\n"
		"needs no privilege.  Without --pid, FD is one faith-loader inherited.\n"
		"A relay leaves the table when its socket is closed.\n\n"
		"  --fd FD     the listening socket's descriptor (decimal; add only)\n"
		"  --pid PID   the process holding it (decimal; add only)\n",
};

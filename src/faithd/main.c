// SPDX-License-Identifier: BSD-2-Clause
/*
 * faithd: relay IPv6 TCP connections captured by faith to the IPv4 hosts
 * embedded in their destination addresses.  This file: the command line.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "faithd/conf.h"
#include "faithd/faithd.h"
#include "faithd/log.h"

#define EXIT_USAGE 2

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: faithd [OPTIONS] SERVICE...\n\n"
		"Relay IPv6 TCP connections that faith captured to the IPv4 host embedded\n"
		"in their destination address (RFC 6052).  SERVICE is a port number, a\n"
		"service name from /etc/services, or 'all' for every port without a\n"
		"service of its own.\n\n"
		"Options:\n"
		"  -f, --config FILE          access rules (default %s; a missing\n"
		"                             default file means: every source may relay)\n"
		"  -w, --workers N            worker processes (default: one per usable CPU)\n"
		"  -u, --user USER            run as USER once the sockets are registered\n"
		"                             (default %s; '' keeps the current user)\n"
		"  -t, --connect-timeout SEC  upstream connect timeout (default 10)\n"
		"  -i, --idle-timeout SEC     close connections idle this long (default 3600,\n"
		"                             0: never)\n"
		"  -g, --grace SEC            on SIGTERM, time to finish (default 10)\n"
		"  -m, --max-conns N          connections at once, all workers and the translate\n"
		"                             program together (default 0: no limit)\n"
		"  -M, --max-per-source N     connections at once per client address (default 0)\n"
		"      --datapath PATH        how bytes move: 'auto' (the default: translate\n"
		"                             where it loads, else splice, saying why),\n"
		"                             'splice' (splice() in the workers), 'translate'\n"
		"                             (splice, then a TC program rewrites each segment\n"
		"                             for the other peer: see faithd(8) for its limits)\n"
		"                             or 'sockmap' (a BPF sockmap program relays in\n"
		"                             the kernel)\n"
		"      --translate-after BYTES|syn  with 'translate' or 'auto': 'syn' (the\n"
		"                             default): the TC program translates the client's\n"
		"                             SYN itself where it can (see faithd(8)), else\n"
		"                             hands a connection to it after 1 MiB; BYTES:\n"
		"                             always from the sockets, after this many bytes\n"
		"      --cpu-affinity MODE    'none' (the default): the scheduler places the\n"
		"                             workers; 'auto': pin worker i to the i-th CPU\n"
		"                             faithd may use and hand it the connections whose\n"
		"                             packets that CPU receives (for NICs with RSS)\n"
		"      --pin-dir DIR          faith's pin directory (default $FAITH_PIN_DIR or\n"
		"                             /sys/fs/bpf/faith)\n"
		"  -F, --foreground           do not detach; log to stderr (for systemd)\n"
		"  -s, --syslog               log to syslog even in the foreground\n"
		"  -d, --debug                debug messages\n"
		"  -h, --help                 this help\n",
		FAITHD_DEFAULT_CONF, FAITHD_DEFAULT_USER);
}

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "faithd: error: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'faithd --help'.\n");
	return EXIT_USAGE;
}

/* Seconds, with up to three decimals: "10", "0.5". */
static bool parse_seconds(const char *text, uint32_t max_s, unsigned *ms)
{
	char whole[16], *dot = strchr(text, '.');
	uint32_t s, frac = 0, scale = 100;
	size_t n = dot ? (size_t)(dot - text) : strlen(text);

	if (n == 0 || n >= sizeof(whole))
		return false;
	memcpy(whole, text, n);
	whole[n] = '\0';
	if (!parse_dec_u32(whole, max_s, &s))
		return false;
	if (dot) {
		const char *p = dot + 1;

		if (!*p || strlen(p) > 3)
			return false;
		for (; *p; p++, scale /= 10) {
			if (*p < '0' || *p > '9')
				return false;
			frac += (*p - '0') * scale;
		}
	}
	*ms = s * 1000 + frac;
	return true;
}

static int add_service(struct faithd_opts *o, const char *name)
{
	struct servent *se;
	uint32_t port;

	if (strchr(name, '/'))
		return bad("'%s': running a local program for a service (BSD faithd's "
			   "serverpath) is not supported", name);
	if (!strcmp(name, "all"))
		port = 0;
	else if (parse_dec_u32(name, 65535, &port) && port)
		;
	else if ((se = getservbyname(name, "tcp")))
		port = ntohs((uint16_t)se->s_port);
	else
		return bad("unknown service '%s' (a port 1-65535, a name from /etc/services, "
			   "or 'all')", name);
	for (unsigned i = 0; i < o->nservices; i++)
		if (o->services[i].port == port)
			return bad("service '%s' given twice", name);
	if (o->nservices == FAITHD_MAX_SERVICES)
		return bad("too many services (at most %s)", "64");
	o->services[o->nservices++].port = (uint16_t)port;
	return 0;
}

static int parse_number(const char *opt, const char *text, uint32_t max, unsigned *out)
{
	uint32_t v;

	if (!parse_dec_u32(text, max, &v)) {
		fprintf(stderr, "faithd: error: %s: '%s' is not a number from 0 to %u\n"
			"Try 'faithd --help'.\n", opt, text, max);
		return EXIT_USAGE;
	}
	*out = v;
	return 0;
}

static int parse_timeout(const char *opt, const char *text, unsigned *ms)
{
	if (parse_seconds(text, 86400 * 7, ms))
		return 0;
	fprintf(stderr, "faithd: error: %s: '%s' is not a time in seconds (e.g. 10 or 0.5)\n"
		"Try 'faithd --help'.\n", opt, text);
	return EXIT_USAGE;
}

static int parse_args(struct faithd_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "workers", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "connect-timeout", required_argument, NULL, 't' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "grace", required_argument, NULL, 'g' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "max-per-source", required_argument, NULL, 'M' },
		{ "pin-dir", required_argument, NULL, 'P' },
		{ "datapath", required_argument, NULL, 'D' },
		{ "cpu-affinity", required_argument, NULL, 'A' },
		{ "translate-after", required_argument, NULL, 'T' },
		{ "foreground", no_argument, NULL, 'F' },
		{ "syslog", no_argument, NULL, 's' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned ms, bytes;
	int opt, err = 0;

	while (!err && (opt = getopt_long(argc, argv, ":f:w:u:t:i:g:m:M:Fsdh",
					  longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			o->conf_path = optarg;
			o->conf_explicit = true;
			break;
		case 'w':
			err = parse_number("--workers", optarg, FAITHD_MAX_WORKERS, &o->workers);
			if (!err && !o->workers)
				err = bad("--workers: '%s': at least 1", optarg);
			break;
		case 'u':
			o->user = optarg;
			break;
		case 't':
			err = parse_timeout("--connect-timeout", optarg, &o->connect_timeout_ms);
			if (!err && !o->connect_timeout_ms)
				err = bad("--connect-timeout: '%s': must be more than 0", optarg);
			break;
		case 'i':
			err = parse_timeout("--idle-timeout", optarg, &ms);
			o->idle_timeout_s = (ms + 999) / 1000;
			break;
		case 'g':
			err = parse_timeout("--grace", optarg, &ms);
			o->grace_s = (ms + 999) / 1000;
			break;
		case 'm':
			err = parse_number("--max-conns", optarg, 100000000, &o->max_conns);
			break;
		case 'M':
			err = parse_number("--max-per-source", optarg, 100000000, &o->max_per_source);
			break;
		case 'P':
			o->pin_dir = optarg;
			break;
		case 'D':
			/* The last --datapath counts, fall-back included. */
			o->datapath_fallback = !strcmp(optarg, "auto");
			if (!strcmp(optarg, "splice"))
				o->datapath = DATAPATH_SPLICE;
			else if (!strcmp(optarg, "sockmap"))
				o->datapath = DATAPATH_SOCKMAP;
			else if (!strcmp(optarg, "translate"))
				o->datapath = DATAPATH_TRANSLATE;
			else if (!strcmp(optarg, "auto"))
				o->datapath = DATAPATH_TRANSLATE;
			else
				err = bad("--datapath: '%s': 'splice', 'sockmap', 'translate' or 'auto'",
					  optarg);
			break;
		case 'T':
			if (!strcmp(optarg, "syn")) {
				o->translate_syn = true;
				break;
			}
			err = parse_number("--translate-after", optarg, UINT32_MAX, &bytes);
			o->translate_after = bytes;
			o->translate_syn = false;
			break;
		case 'A':
			if (!strcmp(optarg, "auto"))
				o->cpu_affinity = true;
			else if (!strcmp(optarg, "none"))
				o->cpu_affinity = false;
			else
				err = bad("--cpu-affinity: '%s': 'auto' or 'none'", optarg);
			break;
		case 'F':
			o->foreground = true;
			break;
		case 's':
			o->to_syslog = true;
			break;
		case 'd':
			o->debug = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			return bad("option '%s' needs a value", argv[optind - 1]);
		default:
			return bad("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (err)
		return err;
	if (optind == argc)
		return bad("%s", "no service given: name ports, services or 'all'");
	for (int i = optind; i < argc; i++) {
		err = add_service(o, argv[i]);
		if (err)
			return err;
	}
	return 0;
}

int faithd_load_conf(const struct faithd_opts *o, struct faithd_conf **out)
{
	char err[512];
	int ret;

	*out = NULL;
	ret = faithd_conf_load(o->conf_path, out, err, sizeof(err));
	if (ret == -ENOENT && !o->conf_explicit) {
		log_debug("no %s: every source may use the relay", o->conf_path);
		return 0;
	}
	if (ret)
		log_err("%s", err);
	return ret;
}

/* CPUs faithd may run on (its affinity mask: a cpuset, systemd's
 * CPUAffinity=, taskset), else the online ones. */
static long usable_cpus(void)
{
	cpu_set_t set;

	if (!sched_getaffinity(0, sizeof(set), &set))
		return CPU_COUNT(&set);
	return sysconf(_SC_NPROCESSORS_ONLN);
}

int main(int argc, char **argv)
{
	struct faithd_opts o = {
		.conf_path = FAITHD_DEFAULT_CONF,
		.user = FAITHD_DEFAULT_USER,
		.connect_timeout_ms = 10000,
		.idle_timeout_s = 3600,
		.grace_s = 10,
		.translate_after = 1 << 20,
		.translate_syn = true,	/* where it can: else after 1 MiB */
		.datapath = DATAPATH_TRANSLATE,	/* --datapath auto */
		.datapath_fallback = true,
	};
	long cpus = usable_cpus();
	int err;

	err = parse_args(&o, argc, argv);
	if (err)
		return err;
	if (!o.workers)
		o.workers = cpus < 1 ? 1 : cpus > FAITHD_MAX_WORKERS ? FAITHD_MAX_WORKERS : cpus;
	log_open(o.to_syslog, o.debug);
	return faithd_run(&o);
}

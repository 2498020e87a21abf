// SPDX-License-Identifier: BSD-2-Clause
/* Verbs that hook and unhook the datapath: attach, detach, unload. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "cli.h"
#include "iface.h"
#include "json.h"
#include "util.h"

static const char *mode_name(enum faith_xdp_mode mode, bool generic)
{
	if (mode == FAITH_XDP_NONE)
		return "tc";
	return generic ? "xdp-generic" : "xdp";
}

static int attach_opt(int opt, const char *arg, void *ctx)
{
	enum faith_xdp_mode *mode = ctx;

	if (opt == 'x') {
		if (*mode == FAITH_XDP_NONE)
			*mode = FAITH_XDP_AUTO;
		return 0;
	}
	if (!strcmp(arg, "native"))
		*mode = FAITH_XDP_NATIVE;
	else if (!strcmp(arg, "generic"))
		*mode = FAITH_XDP_GENERIC;
	else
		return cli_bad(&verb_attach, "--xdp-mode takes 'native' or 'generic', not '%s'", arg);
	return 0;
}

/* The single IFACE operand: its index, or an exit status (negative). */
static int iface_operand(const struct faith_verb *verb, int argc, char **argv)
{
	unsigned int ifindex;

	if (argc - optind != 1)
		return -cli_bad(verb, "expected exactly one interface name");
	ifindex = if_nametoindex(argv[optind]);
	if (!ifindex) {
		faith_err("no such interface '%s'", argv[optind]);
		return -EXIT_FAIL;
	}
	return (int)ifindex;
}

static void report(const struct faith_cli *cli, const char *name, int ifindex,
		   const char *what, const char *mode)
{
	if (cli->json) {
		json_obj_open(NULL);
		json_str("ifname", name);
		json_u64("ifindex", (uint64_t)ifindex);
		json_str("result", what);
		if (mode)
			json_str("mode", mode);
		json_obj_close();
		json_end();
	} else {
		printf("%s: %s%s%s\n", name, what, mode ? " " : "", mode ? mode : "");
	}
}

static int run_attach(struct faith_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "xdp", no_argument, NULL, 'x' },
		{ "xdp-mode", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	enum faith_xdp_mode mode = FAITH_XDP_NONE;
	struct faith_iface_state st;
	struct faith_objs o;
	bool already = false;
	int ret, ifindex, err;

	ret = cli_parse(cli, &verb_attach, argc, argv, "", opts, attach_opt, &mode);
	if (ret != CLI_CONTINUE)
		return ret;
	ifindex = iface_operand(&verb_attach, argc, argv);
	if (ifindex < 0)
		return -ifindex;
	ret = cli_load(cli, &o);
	if (ret)
		return ret;
	err = faith_iface_attach(&o, ifindex, argv[optind], mode, &already);
	if (err) {
		if (err != -EBUSY)
			faith_err("cannot attach to %s: %s", argv[optind], faith_strerror(err));
		if (o.fresh)
			faith_objs_unload(&o);
		faith_objs_close(&o);
		return EXIT_FAIL;
	}
	faith_iface_query(ifindex, &st);
	report(cli, argv[optind], ifindex, already ? "already attached" : "attached",
	       mode_name(mode, st.xdp_generic));
	faith_objs_close(&o);
	return EXIT_OK;
}

static int run_detach(struct faith_cli *cli, int argc, char **argv)
{
	struct faith_objs o;
	int ret, ifindex, err;

	ret = cli_parse(cli, &verb_detach, argc, argv, "", NULL, NULL, NULL);
	if (ret != CLI_CONTINUE)
		return ret;
	ifindex = iface_operand(&verb_detach, argc, argv);
	if (ifindex < 0)
		return -ifindex;
	ret = cli_open(cli, &o);
	if (ret)
		return ret;
	err = faith_objs_check_netns(&o);
	if (err) {
		faith_objs_close(&o);
		return EXIT_FAIL;
	}
	err = faith_iface_detach(&o, ifindex);
	faith_objs_close(&o);
	if (err == -ENOENT) {
		faith_err("faith is not attached to %s", argv[optind]);
		return EXIT_FAIL;
	}
	if (err) {
		faith_err("cannot detach from %s: %s", argv[optind], faith_strerror(err));
		return EXIT_FAIL;
	}
	report(cli, argv[optind], ifindex, "detached", NULL);
	return EXIT_OK;
}

/* Detach from every interface of this namespace that runs our programs. */
static int detach_all(const struct faith_objs *o)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int failed = 0, err;

	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index; i++) {
		err = faith_iface_detach(o, (int)i->if_index);
		if (err && err != -ENOENT && err != -ENODEV) {
			faith_err("cannot detach from %s: %s", i->if_name, faith_strerror(err));
			failed = err;
		}
	}
	if_freenameindex(ifs);
	return failed;
}

static void report_unload(const struct faith_cli *cli, bool unloaded)
{
	if (cli->json) {
		json_obj_open(NULL);
		json_str("pin_dir", cli->pin_dir);
		json_bool("unloaded", unloaded);
		json_obj_close();
		json_end();
	} else if (unloaded) {
		printf("unloaded %s\n", cli->pin_dir);
	} else {
		faith_note("nothing to unload: faith is not loaded in %s", cli->pin_dir);
	}
}

static int run_unload(struct faith_cli *cli, int argc, char **argv)
{
	struct faith_objs o;
	int ret;

	ret = cli_parse(cli, &verb_unload, argc, argv, "", NULL, NULL, NULL);
	if (ret != CLI_CONTINUE)
		return ret;
	if (argc != optind)
		return cli_bad(&verb_unload, "unexpected argument '%s'", argv[optind]);
	faith_objs_init(&o, cli->pin_dir);
	if (!faith_objs_any_pinned(&o)) {
		report_unload(cli, false);
		return EXIT_OK;
	}
	faith_objs_open(&o);	/* whatever is there: unload what exists */
	if (faith_objs_check_netns(&o) ||
	    (o.fd[OBJ_IFACES] >= 0 && detach_all(&o))) {
		faith_objs_close(&o);
		return EXIT_FAIL;
	}
	if (faith_objs_unload(&o)) {
		faith_err("could not remove everything from %s", cli->pin_dir);
		return EXIT_FAIL;
	}
	report_unload(cli, true);
	return EXIT_OK;
}

const struct faith_verb verb_attach = {
	.name = "attach", .run = run_attach,
	.synopsis = "IFACE [--xdp] [--xdp-mode native|generic]",
	.help = "Load the datapath if needed (maps and programs pinned in the pin\n"
		"directory, sk_lookup linked to this network namespace, the fwmark rule\n"
		"and local route installed), then hook the classifier to IFACE at TC\n"
		"ingress.  Attaching again is harmless.  A filter of someone else's at\n"
		"faith's handle and priority is left alone: attach fails.\n\n"
		"  --xdp              classify at XDP (native, else generic) and hand the\n"
		"                     verdict to TC through XDP metadata\n"
		"  --xdp-mode MODE    force XDP mode: native or generic (implies --xdp)\n",
};

const struct faith_verb verb_detach = {
	.name = "detach", .run = run_detach,
	.synopsis = "IFACE",
	.help = "Unhook faith from IFACE (TC and XDP).  The clsact qdisc goes too if\n"
		"faith created it and nothing else uses it.  The datapath stays loaded.\n"
		"Run it in the network namespace faith was loaded in.\n",
};

const struct faith_verb verb_unload = {
	.name = "unload", .run = run_unload,
	.synopsis = "",
	.help = "Detach from every interface, remove the sk_lookup link, the fwmark rule\n"
		"and the local route, and every pin.  Nothing of faith remains.  Run it\n"
		"in the network namespace faith was loaded in.\n",
};

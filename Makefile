# faith: IPv6-to-IPv4 TCP relay capture for Linux, on eBPF.
CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool
ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

CFLAGS    ?= -O2 -g
# Always on, whatever CFLAGS the command line brings (check-asan does).
FAITH_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc -Ibuild
LDLIBS    += -lbpf -lelf -lz -pthread
BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
              $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH))

PREFIX    ?= /usr/local
BUILD     := build

LOADER_SRCS := src/loader.c src/objects.c src/iface.c src/netlink.c \
               src/prefix.c src/cmd_attach.c src/cmd_maps.c src/cmd_status.c \
               src/json.c src/util.c src/pindex.c src/pindex_build.c \
               src/pindex_start.c
RELAY_SRCS  := src/relay.c
# faithd's pure-userspace parts: address mapping, faithd.conf, timer heap.
FAITHD_LIB_SRCS := src/faithd/addrmap.c src/faithd/conf.c src/faithd/polls.c \
                   src/faithd/portrange.c
FAITHD_LIB_OBJS := $(FAITHD_LIB_SRCS:src/faithd/%.c=$(BUILD)/faithd/%.o)
# The daemon: command line, master, workers, connections, policy, limits, log.
FAITHD_SRCS := src/faithd/main.c src/faithd/master.c src/faithd/worker.c \
               src/faithd/conn.c src/faithd/policy.c src/faithd/connlimits.c \
               src/faithd/ledger.c \
               src/faithd/log.c src/faithd/sockmap.c \
               src/faithd/sockmap_load.c src/faithd/xlate.c \
               src/faithd/xlate_load.c src/faithd/xlate_links.c \
               src/faithd/xlate_syn.c src/faithd/xlate_sweep.c src/faithd/xlate_rst.c
TEST_BINS   := $(patsubst tests/%.c,$(BUILD)/%,$(wildcard tests/test_*.c)) \
               $(BUILD)/faith-testrelay $(BUILD)/faith-testclient \
               $(BUILD)/faith-bytes

all: bpf/faith.bpf.o $(BUILD)/faith.skel.h bpf/faithd_sockmap.bpf.o bpf/faithd_xlate.bpf.o faith-loader faithd $(BUILD)/libfaith-relay.a

bpf/faith.bpf.o: bpf/faith.bpf.c bpf/ipv6_ext.h src/maps.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/faith.skel.h: bpf/faith.bpf.o | $(BUILD)
	$(BPFTOOL) gen skeleton $< name faith_bpf > $@.tmp && mv $@.tmp $@

# faithd --datapath sockmap: the verdict program that relays in the kernel.
bpf/faithd_sockmap.bpf.o: bpf/faithd_sockmap.bpf.c src/faithd/sockmap_maps.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/faithd_sockmap.skel.h: bpf/faithd_sockmap.bpf.o | $(BUILD)
	$(BPFTOOL) gen skeleton $< name faithd_sockmap_bpf > $@.tmp && mv $@.tmp $@

# faithd --datapath translate: the TC program that relays by rewriting segments.
# -mcpu=v3 for atomic compare-and-exchange (Linux 5.12; translate needs 6.6).
bpf/faithd_xlate.bpf.o: bpf/faithd_xlate.bpf.c bpf/faithd_xlate_icmp.h bpf/faithd_xlate_syn.h \
		bpf/faithd_xlate_syn_open.h bpf/faithd_xlate_syn_state.h bpf/faithd_xlate_track.h \
		bpf/faithd_xlate_limits.h bpf/faithd_xlate_out.h src/maps.h bpf/ipv6_ext.h \
		src/faithd/xlate_seq.h src/faithd/xlate_maps.h
	$(CLANG) $(BPF_CFLAGS) -mcpu=v3 -c $< -o $@

$(BUILD)/faithd_xlate.skel.h: bpf/faithd_xlate.bpf.o | $(BUILD)
	$(BPFTOOL) gen skeleton $< name faithd_xlate_bpf > $@.tmp && mv $@.tmp $@

$(BUILD) $(BUILD)/faithd:
	mkdir -p $@

$(BUILD)/%.o: src/%.c src/*.h $(BUILD)/faith.skel.h | $(BUILD)
	$(CC) $(FAITH_CFLAGS) $(CFLAGS) -c $< -o $@

# faithd needs faith's maps.h, not its skeleton; it embeds its own for
# --datapath sockmap.
$(BUILD)/faithd/%.o: src/faithd/%.c src/faithd/*.h src/*.h $(BUILD)/faithd_sockmap.skel.h \
		$(BUILD)/faithd_xlate.skel.h \
		| $(BUILD)/faithd
	$(CC) $(FAITH_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libfaith-relay.a: $(RELAY_SRCS:src/%.c=$(BUILD)/%.o)
	$(AR) rcs $@ $^

faith-loader: $(LOADER_SRCS:src/%.c=$(BUILD)/%.o) $(BUILD)/libfaith-relay.a
	$(CC) $(FAITH_CFLAGS) $(CFLAGS) $^ -o $@ $(LDFLAGS) $(LDLIBS)

faithd: $(FAITHD_SRCS:src/faithd/%.c=$(BUILD)/faithd/%.o) $(FAITHD_LIB_OBJS) \
		$(BUILD)/util.o $(BUILD)/libfaith-relay.a
	$(CC) $(FAITH_CFLAGS) $(CFLAGS) $^ -o $@ $(LDFLAGS) $(LDLIBS)

TEST_OBJS := $(BUILD)/prefix.o $(BUILD)/util.o $(BUILD)/netlink.o $(BUILD)/pindex.o \
             $(BUILD)/pindex_build.o $(BUILD)/pindex_start.o $(BUILD)/libfaith-relay.a \
             $(FAITHD_LIB_OBJS)

$(BUILD)/test_%: tests/test_%.c tests/testlib.h $(BUILD)/faith.skel.h $(TEST_OBJS)
	$(CC) $(FAITH_CFLAGS) $(CFLAGS) -Itests $(filter-out %.h,$^) -o $@ $(LDFLAGS) $(LDLIBS)

# test_connlimits runs faithd's limits and ledgers in processes of its own.
$(BUILD)/test_connlimits: $(BUILD)/faithd/connlimits.o $(BUILD)/faithd/ledger.o

# test_xlate, test_xlate_guard and test_xlate_forget run faithd's translating program
# (tests/xlate_prog.c), with tests/pkt.c's builders and their own frames
# (tests/xlate_frames.c).
XLATE_TEST_OBJS := $(addprefix $(BUILD)/tests/,pkt.o xlate_frames.o xlate_prog.o)
$(BUILD)/test_xlate $(BUILD)/test_xlate_guard $(BUILD)/test_xlate_forget: $(BUILD)/faithd_xlate.skel.h \
		$(XLATE_TEST_OBJS)
# test_xlate_guard's helper: a VLAN tag in the skb, then the program.
$(BUILD)/test_xlate_guard: $(BUILD)/vlan_push.skel.h
$(BUILD)/tests/vlan_push.bpf.o: tests/vlan_push.bpf.c | $(BUILD)/tests
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(BUILD)/vlan_push.skel.h: $(BUILD)/tests/vlan_push.bpf.o
	$(BPFTOOL) gen skeleton $< name vlan_push_bpf > $@.tmp && mv $@.tmp $@
$(BUILD)/tests/xlate_prog.o: $(BUILD)/faithd_xlate.skel.h

$(BUILD)/tests $(BUILD)/bench:
	mkdir -p $@

# test_datapath and bench_datapath are several files each; tests/pkt.c, the
# packet builders, is shared by both.  test_datapath's other files are not
# named test_*.c: each tests/test_*.c is a test program of its own.
$(BUILD)/tests/%.o: tests/%.c tests/*.h src/*.h $(BUILD)/faith.skel.h | $(BUILD)/tests
	$(CC) $(FAITH_CFLAGS) $(CFLAGS) -Itests -c $< -o $@

TEST_DATAPATH_OBJS := $(addprefix $(BUILD)/tests/,test_datapath.o \
                      datapath_build.o datapath_run.o datapath_packets.o \
                      datapath_lookup.o pkt.o)

$(BUILD)/test_datapath: $(TEST_DATAPATH_OBJS) $(TEST_OBJS)
	$(CC) $(FAITH_CFLAGS) $(CFLAGS) $^ -o $@ $(LDFLAGS) $(LDLIBS)

$(BUILD)/faith-test%: tests/faith-test%.c $(BUILD)/libfaith-relay.a
	$(CC) $(FAITH_CFLAGS) $(CFLAGS) $^ -o $@ $(LDFLAGS) $(LDLIBS)

# The end-to-end byte checker is plain sockets: no libbpf, no skeleton.
FAITH_BYTES_SRCS := $(addprefix tests/faith-bytes/,main.c common.c serve.c \
                    serve_conn.c send.c hold.c probe.c)

$(BUILD)/faith-bytes: $(FAITH_BYTES_SRCS) tests/faith-bytes/*.h | $(BUILD)
	$(CC) $(FAITH_CFLAGS) $(CFLAGS) $(FAITH_BYTES_SRCS) -o $@ $(LDFLAGS)

bench/empty.bpf.o: bench/empty.bpf.c
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/empty.skel.h: bench/empty.bpf.o | $(BUILD)
	$(BPFTOOL) gen skeleton $< name empty_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/bench/%.o: bench/%.c bench/*.h tests/pkt.h src/*.h $(BUILD)/faith.skel.h \
		$(BUILD)/empty.skel.h | $(BUILD)/bench
	$(CC) $(FAITH_CFLAGS) $(CFLAGS) -Ibench -Itests -c $< -o $@

BENCH_DATAPATH_OBJS := $(addprefix $(BUILD)/bench/,bench_datapath.o options.o \
                       progs.o prefixes.o aim.o shape.o run.o report.o)

$(BUILD)/bench_datapath: $(BENCH_DATAPATH_OBJS) $(BUILD)/tests/pkt.o \
		$(BUILD)/prefix.o $(BUILD)/util.o $(BUILD)/pindex.o $(BUILD)/pindex_build.o \
		$(BUILD)/pindex_start.o
	$(CC) $(FAITH_CFLAGS) $(CFLAGS) $^ -o $@ $(LDFLAGS) $(LDLIBS)

test: all $(TEST_BINS)
	tests/run.sh

# 100,000 concurrent connections through faithd, translating from the SYN
# (the default) and through its sockets; writes bench/scale.md.
bench-scale: all $(BUILD)/faith-bytes
	bench/scale.sh --markdown bench/scale.md
	SCALE_PATH=handoff bench/scale.sh --append bench/scale.md

bench-datapath: all $(BUILD)/bench_datapath
	$(BUILD)/bench_datapath --markdown bench/datapath.md

# The relay benchmark: faith against haproxy, nginx, TPROXY, socat, 6tunnel
# and the direct path, in network namespaces; writes bench/results.md and
# bench/*.png.  Installs its own dependencies (not CI's).  Root, < 10 min.
bench: all $(BUILD)/bench_datapath
	scripts/bench-deps.sh
	bench/relay/run.sh

# Sanitizer builds replace the normal ones in place: rebuild those after
# (pass or fail), so that install, tests and valgrind never run them.
check-asan:
	$(MAKE) clean
	$(MAKE) CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" test; \
		rc=$$?; $(MAKE) clean >/dev/null; $(MAKE) all $(TEST_BINS) >/dev/null; exit $$rc

# faith-loader under valgrind through the life-cycle and CLI tests, and
# faithd (master and workers) through its relay and refusal tests: any
# memory error or leak fails a check.
check-valgrind: all $(TEST_BINS)
	@if nm faithd faith-loader 2>/dev/null | grep -q __asan_init; then \
		echo "check-valgrind: faithd or faith-loader is a sanitizer build: make clean all first" >&2; exit 1; fi
	FAITH_WRAP="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --suppressions=$(CURDIR)/tests/valgrind.supp" \
		tests/run.sh tests/e2e/lifecycle.sh tests/e2e/cli.sh
	FAITHD_ARGS="--datapath splice" \
	FAITHD_WRAP="valgrind -q --vgdb=no --leak-check=full --errors-for-leak-kinds=definite" \
		tests/run.sh tests/e2e/faithd.sh tests/e2e/faithd_refuse.sh
	FAITHD_ARGS="--datapath sockmap" \
	FAITHD_WRAP="valgrind -q --vgdb=no --leak-check=full --errors-for-leak-kinds=definite --suppressions=$(CURDIR)/tests/valgrind.supp" \
		tests/run.sh tests/e2e/faithd.sh
	FAITHD_ARGS="--datapath auto --translate-after 65536" \
	FAITHD_WRAP="valgrind -q --vgdb=no --leak-check=full --errors-for-leak-kinds=definite --suppressions=$(CURDIR)/tests/valgrind.supp" \
		tests/run.sh tests/e2e/faithd.sh
	ROUTER_FORWARDS_V4=1 FAITHD_ARGS="--translate-after syn" \
	FAITHD_WRAP="valgrind -q --vgdb=no --leak-check=full --errors-for-leak-kinds=definite --suppressions=$(CURDIR)/tests/valgrind.supp" \
		tests/run.sh tests/e2e/faithd.sh

# The README's main job: namespaces, faith, faithd, an IPv6-only curl.
demo:
	scripts/demo.sh

install: all
	install -D -m 0755 faith-loader $(DESTDIR)$(PREFIX)/sbin/faith-loader
	install -D -m 0755 faithd $(DESTDIR)$(PREFIX)/sbin/faithd
	install -D -m 0644 man/faith-loader.8 $(DESTDIR)$(PREFIX)/share/man/man8/faith-loader.8
	install -D -m 0644 man/faithd.8 $(DESTDIR)$(PREFIX)/share/man/man8/faithd.8
	install -D -m 0644 man/faithd.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/faithd.conf.5
	install -D -m 0644 etc/faithd.service $(DESTDIR)$(PREFIX)/lib/systemd/system/faithd.service
	[ -e $(DESTDIR)/etc/faithd.conf ] || \
		install -D -m 0644 etc/faithd.conf $(DESTDIR)/etc/faithd.conf
	install -D -m 0644 src/faith_relay.h $(DESTDIR)$(PREFIX)/include/faith_relay.h
	install -D -m 0644 src/maps.h $(DESTDIR)$(PREFIX)/include/faith/maps.h
	install -D -m 0644 $(BUILD)/libfaith-relay.a $(DESTDIR)$(PREFIX)/lib/libfaith-relay.a

clean:
	rm -rf $(BUILD) bpf/faith.bpf.o bpf/faithd_sockmap.bpf.o bpf/faithd_xlate.bpf.o bench/empty.bpf.o faith-loader faithd

.PHONY: all test demo bench bench-scale bench-datapath check-asan check-valgrind install clean

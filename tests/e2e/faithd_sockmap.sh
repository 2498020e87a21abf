#!/bin/bash
# faithd --datapath sockmap: experimental (pausing a direction for flow
# control can lose or reorder bytes in the kernel's sockmap, see
# src/faithd/sockmap.c), so refused unless FAITHD_EXPERIMENTAL_SOCKMAP=1;
# with it, transfers that stay under the flow-control threshold (no pause)
# are byte-exact, half-close works, and what --datapath refuses.
. "$(dirname "$0")/lib.sh"
need_root

expect 2 "--datapath with a bad value is a usage error" "$FAITHD" --datapath pipes all
said "--datapath: 'pipes': 'splice' or 'sockmap'" "... saying what it takes"
expect 2 "--datapath sockmap is refused without FAITHD_EXPERIMENTAL_SOCKMAP=1" \
	env -u FAITHD_EXPERIMENTAL_SOCKMAP "$FAITHD" --datapath sockmap all
said "experimental: .*can lose or reorder bytes; use --datapath splice" "... saying why and what to use"

topo_up
server_up
faith_up 64:ff9b::/96 || { notok "faithd: set up faith"; finish; exit 1; }
printf '2001:db8:1::/64 permit 192.0.2.0/24\n' >"$TMP/faithd.conf"
chmod 755 "$TMP"
export FAITHD_EXPERIMENTAL_SOCKMAP=1

# Without CAP_BPF (and CAP_SYS_ADMIN, which stands in for it) the program
# cannot be loaded: faithd says so at start.
if command -v capsh >/dev/null; then
	expect 1 "--datapath sockmap without CAP_BPF: faithd does not start" \
		R capsh --drop=cap_bpf,cap_sys_admin,cap_perfmon -- -c \
		"exec $FAITHD -F --datapath sockmap -f $TMP/faithd.conf -w 1 all"
	said "--datapath sockmap: loading its BPF program failed.*use --datapath splice" \
		"... and says why"
fi

start_faithd -f "$TMP/faithd.conf" -w 1 --datapath sockmap all
check "the log says which datapath" grep -q "running as nobody, datapath sockmap" "$FAITHD_LOG"
bytes_serve 7001 7002
# Under SM_HIGH (8 MiB) in flight: the kernel relays, no pause.
check "1 MB each way in the kernel, byte-exact" \
	C "$BYTES" send 64:ff9b::c000:202 7001 1000000 1000000 --timeout 20
check "... its log line: 1000000+ bytes each way" \
	wait_for "$FAITHD_LOG" "-> 192\.0\.2\.2:7001: closed; 10000[0-9][0-9] bytes to server, 10000[0-9][0-9] to client"
check "half-close: the client shuts down writing and still gets the whole reply" \
	C "$BYTES" send 64:ff9b::c000:202 7002 100000 3000000 --half-close --timeout 20
check "no pause on the way (nothing near the flow-control threshold)" \
	sh -c "! grep -q 'not reading the' '$FAITHD_LOG'"
stop_faithd
check "SIGTERM: faithd exits with status 0" test "$FAITHD_RC" = 0
finish

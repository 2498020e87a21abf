#!/bin/bash
# faithd --datapath sockmap: the relay tests of faithd.sh and faithd_load.sh
# (50 MB each way byte-exact, half-close, resets both ways, 1,000
# concurrent, limits, idle timeout...) with the in-kernel relay; a fast
# sender and a slow reader (flow control); what --datapath refuses.
. "$(dirname "$0")/lib.sh"
need_root
E2E=$(dirname "$0")

expect 2 "--datapath with a bad value is a usage error" "$FAITHD" --datapath pipes all
said "--datapath: 'pipes': 'splice' or 'sockmap'" "... saying what it takes"

# The relay tests, in this process's count.
for t in faithd.sh faithd_load.sh; do
	FAITHD_ARGS="--datapath sockmap" bash "$E2E/$t" >"${TMPDIR:-/tmp}/faithd_sockmap.$$" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "sockmap: ${line#ok - }" ;;
		"not ok - "*) notok "sockmap: ${line#not ok - }" ;;
		[0-9]*" passed, "*) ;;
		*) echo "$line" ;;
		esac
	done <"${TMPDIR:-/tmp}/faithd_sockmap.$$"
	rm -f "${TMPDIR:-/tmp}/faithd_sockmap.$$"
	[ "$rc" = 0 ] || notok "sockmap: $t exited with status $rc"
done

topo_up
server_up
faith_up 64:ff9b::/96 || { notok "faithd: set up faith"; finish; exit 1; }
printf '2001:db8:1::/64 permit 192.0.2.0/24\n' >"$TMP/faithd.conf"
chmod 755 "$TMP"

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

# A sender as fast as it can, a reader that reads nothing for 4 s: the
# relay stops reading the client instead of queueing without bound in the
# kernel (the psock backlog has no limit of its own).
nsenter --net="/run/netns/$NS_S" python3 "$TOP/tests/e2e/slow.py" serve 192.0.2.2 7010 4 \
	>"$TMP/slow.out" 2>&1 &
PIDS+=("$!")
wait_for "$TMP/slow.out" '^ready' || sed 's/^/#   /' "$TMP/slow.out"
C timeout 30 python3 "$TOP/tests/e2e/slow.py" client 64:ff9b::c000:202 7010 3 >"$TMP/fast.out" 2>&1
held=$(awk '/^held/ { print $2 }' "$TMP/fast.out")
if [ -n "$held" ] && [ "$held" -lt $((128 << 20)) ]; then
	ok "slow reader: the sender is held back ($((held >> 20)) MiB taken in 3 s)"
else
	notok "slow reader: the sender is held back: ${held:-?} bytes"; sed 's/^/#   /' "$TMP/fast.out"
fi
check "... faithd stopped reading the client for a while" \
	grep -q "queued to the server: not reading the client" "$FAITHD_LOG"
wait_for "$TMP/slow.out" '^read' 100
sent=$(awk '/^sent/ { print $2 }' "$TMP/fast.out")
check "... and every byte arrives once the reader reads ($sent)" \
	grep -qx "read $sent" "$TMP/slow.out"
stop_faithd
check "SIGTERM: faithd exits with status 0" test "$FAITHD_RC" = 0
finish

# shellcheck shell=bash
# Shared helpers for the end-to-end tests: output, topology, cleanup.
#
# Topology (two network namespaces joined by a veth pair):
#
#   client  2001:db8:1::2 --eth0====eth0-- 2001:db8:1::1  router (faith)
#           64:ff9b::/96, 2001:db8:64::/48 via 2001:db8:1::1
#
# and, after server_up, a third one behind the router, IPv4 only:
#
#   router  192.0.2.1 --eth1====eth0-- 192.0.2.2  server
#           198.51.100.0/24 via 192.0.2.2 (the server drops it: a black hole)
#
# Every test sources this file, calls need_root and topo_up, and gets all
# of it torn down on exit, whatever happens (trap).

set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOADER=$TOP/faith-loader
RELAY=$TOP/build/faith-testrelay
CLIENT=$TOP/build/faith-testclient
ID=faith-t-$$
NS_C=$ID-c
NS_R=$ID-r
NS_S=$ID-s
FAITHD=$TOP/faithd
BYTES=$TOP/build/faith-bytes
export FAITH_PIN_DIR=/sys/fs/bpf/$ID
TMP=$(mktemp -d /tmp/$ID.XXXX)
# Until topo_up puts the whole cleanup in place: a test that builds no
# topology of its own (one that runs others) leaves no directory behind.
trap 'rm -rf "$TMP"' EXIT
PASSED=0
FAILED=0
PIDS=()

ok() { echo "ok - $*"; PASSED=$((PASSED + 1)); }
notok() { echo "not ok - $*"; FAILED=$((FAILED + 1)); }
# check DESCRIPTION COMMAND...: ok if the command succeeds.
check() { local d=$1; shift; if "$@" >"$TMP/out" 2>&1; then ok "$d"; else notok "$d"; sed 's/^/#   /' "$TMP/out"; fi; }
# check_fail DESCRIPTION COMMAND...: ok if the command fails.
check_fail() { local d=$1; shift; if "$@" >"$TMP/out" 2>&1; then notok "$d"; sed 's/^/#   /' "$TMP/out"; else ok "$d"; fi; }
# expect RC DESCRIPTION COMMAND...: ok if the command exits with status RC.
# Its output stays in $TMP/out, for `said`.
expect() {
	local want=$1 d=$2 rc; shift 2
	"$@" >"$TMP/out" 2>&1; rc=$?
	if [ "$rc" = "$want" ]; then ok "$d"; else notok "$d: exit $rc, want $want"; sed 's/^/#   /' "$TMP/out"; fi
}
# said REGEX DESCRIPTION: ok if the last expect/unchanged command's output matches.
said() { if grep -qE -- "$1" "$TMP/out"; then ok "$2"; else notok "$2"; sed 's/^/#   /' "$TMP/out"; fi; }
# check_json DESCRIPTION PYTHON-EXPR COMMAND...: ok if the command succeeds
# and prints one JSON document d for which the expression holds.
check_json() {
	local d=$1 expr=$2; shift 2
	if "$@" >"$TMP/out" 2>"$TMP/err" &&
	   python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert $expr, d" "$TMP/out" 2>>"$TMP/err"; then
		ok "$d"
	else
		notok "$d"; sed 's/^/#   /' "$TMP/out" "$TMP/err"
	fi
}

# Background commands are run by nsenter itself, not through a function
# (which would fork a subshell): $! is then the command's own PID.
R_bg() { nsenter --net="/run/netns/$NS_R" "$@" & BG_PID=$!; PIDS+=("$BG_PID"); }
R() { nsenter --net="/run/netns/$NS_R" "$@"; }
C() { nsenter --net="/run/netns/$NS_C" "$@"; }
S() { nsenter --net="/run/netns/$NS_S" "$@"; }
# FAITH_WRAP runs faith-loader under a checker, e.g. "valgrind -q --error-exitcode=99".
# valgrind 3.19 does not know pidfd_open(2)/pidfd_getfd(2): calls that take
# a socket from another process run unwrapped.
faith() {
	local wrap=${FAITH_WRAP:-}
	[[ " $* " == *" --pid "* ]] && wrap=
	R $wrap "$LOADER" "$@"
}

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "skip - $(basename "$0"): needs root (network namespaces, BPF)"
		exit 0
	fi
}

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	if [ -e "/run/netns/$NS_R" ]; then
		R "$LOADER" unload >/dev/null 2>&1
	fi
	ip netns del "$NS_C" 2>/dev/null
	ip netns del "$NS_R" 2>/dev/null
	ip netns del "$NS_S" 2>/dev/null
	[ -d "$FAITH_PIN_DIR" ] && rm -rf "$FAITH_PIN_DIR"
	mountpoint -q "$TMP/pins" 2>/dev/null && umount "$TMP/pins"
	rm -rf "$TMP"
}

finish() {
	# A sanitizer's report, or under valgrind -q any line of its own, in
	# faithd's log is a finding.
	local re='^==[0-9]+==|runtime error:|AddressSanitizer|LeakSanitizer'
	if [ -s "$FAITHD_LOG" ] && grep -qE "$re" "$FAITHD_LOG"; then
		notok "a checker reports on faithd"
		grep -E -A3 "$re" "$FAITHD_LOG" | head -40 | sed 's/^/#   /'
	elif [ -n "${FAITHD_WRAP:-}" ] && [ -s "$FAITHD_LOG" ]; then
		ok "no report from $FAITHD_WRAP on faithd"
	fi
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" = 0 ]
}

topo_up() {
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	ip netns add "$NS_C" && ip netns add "$NS_R" &&
	ip link add eth0 netns "$NS_C" type veth peer name eth0 netns "$NS_R" &&
	ip -n "$NS_C" addr add 2001:db8:1::2/64 dev eth0 nodad &&
	ip -n "$NS_R" addr add 2001:db8:1::1/64 dev eth0 nodad &&
	C sysctl -qw net.ipv6.conf.eth0.accept_dad=0 &&
	R sysctl -qw net.ipv6.conf.eth0.accept_dad=0 &&
	ip -n "$NS_C" link set eth0 up && ip -n "$NS_R" link set eth0 up &&
	ip -n "$NS_C" link set lo up && ip -n "$NS_R" link set lo up &&
	ip -n "$NS_C" route add 64:ff9b::/96 via 2001:db8:1::1 &&
	ip -n "$NS_C" route add 2001:db8:64::/48 via 2001:db8:1::1 || {
		echo "not ok - $(basename "$0"): cannot build the test topology"
		exit 1
	}
	# Let the kernel finish its own set-up (link-local addresses and
	# routes) so that later state comparisons see only our changes.
	local i
	for i in $(seq 50); do
		[ -n "$(ip -n "$NS_R" -6 route show table local dev eth0 | grep ff00)" ] &&
		[ -n "$(ip -n "$NS_R" -6 route show table local dev eth0 | grep 'local fe80')" ] &&
		[ -n "$(ip -n "$NS_R" -6 route show dev eth0 | grep fe80)" ] && break
		sleep 0.1
	done
}

# start_relay ARGS...: run faith-testrelay in the router; sets RELAY_PID
# and RELAY_FD once it printed "ready".
start_relay() {
	local out=$TMP/relay.$RANDOM i
	nsenter --net="/run/netns/$NS_R" "$RELAY" "$@" >"$out" 2>&1 &
	RELAY_PID=$!
	PIDS+=("$RELAY_PID")
	for i in $(seq 50); do
		grep -q '^ready' "$out" && break
		sleep 0.1
	done
	RELAY_FD=$(awk '/^ready/ { print $3 }' "$out")
	[ -n "$RELAY_FD" ] || { echo "# relay did not start:"; sed 's/^/#   /' "$out"; }
}

stop_pid() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# connect ADDR PORT [BYTES]: the client's "DST ..." line, or the failure.
connect() { C timeout 20 "$CLIENT" "$@" 2>&1; }

# The router's state an error must not change: pins, prefixes, gate, relays,
# rules, routes, qdiscs, filters, attached programs.
snapshot() {
	{
		ls "$FAITH_PIN_DIR" 2>&1
		faith route list 2>&1
		faith keepfaith 2>&1
		faith relay list 2>&1
		R ip -6 rule show
		R ip -6 route show table all
		R tc qdisc show
		R tc filter show dev eth0 ingress
		R ip link show dev eth0
	} | sed 's/cookie [0-9]*/cookie N/'
}
# unchanged DESC COMMAND...: the command fails, says why, and changes nothing.
unchanged() { unchanged_rc '!0' "$@"; }
# unchanged_rc RC DESC COMMAND...: the same, exiting with status RC ('!0':
# any failure).  Its output stays in $TMP/out, for `said`.
unchanged_rc() {
	local want=$1 d=$2 before after rc; shift 2
	before=$(snapshot)
	"$@" >"$TMP/out" 2>&1; rc=$?
	after=$(snapshot)
	if { [ "$want" = '!0' ] && [ $rc != 0 ] || [ "$rc" = "$want" ]; } &&
	   [ -s "$TMP/out" ] && [ "$before" = "$after" ]; then
		ok "$d (exit $rc: $(head -1 "$TMP/out"))"
	else
		notok "$d: exit $rc"; sed 's/^/#   /' "$TMP/out"
		diff <(echo "$before") <(echo "$after") | sed 's/^/#   /'
	fi
}

# relay_suites NAME ARGS...: faithd.sh and faithd_load.sh again with
# FAITHD_ARGS="ARGS...", their checks counted here, named "NAME: ...".
relay_suites() {
	local name=$1 t rc line out=${TMPDIR:-/tmp}/faithd_suite.$$; shift
	for t in faithd.sh faithd_load.sh; do
		FAITHD_ARGS="$*" bash "$TOP/tests/e2e/$t" >"$out" 2>&1
		rc=$?
		while IFS= read -r line; do
			case $line in
			"ok - "*) ok "$name: ${line#ok - }" ;;
			"not ok - "*) notok "$name: ${line#not ok - }" ;;
			[0-9]*" passed, "*) ;;
			*) echo "$line" ;;
			esac
		done <"$out"
		rm -f "$out"
		[ "$rc" = 0 ] || notok "$name: $t exited with status $rc"
	done
}

# A counter from `faith-loader status -j`.
counter() { faith status -j | python3 -c "import json,sys; print(json.load(sys.stdin)['stats']['$1'])"; }

server_up() {
	ip netns add "$NS_S" &&
	ip link add eth1 netns "$NS_R" type veth peer name eth0 netns "$NS_S" &&
	S sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
	S ip link set lo up &&
	ip -n "$NS_R" addr add 192.0.2.1/24 dev eth1 &&
	ip -n "$NS_S" addr add 192.0.2.2/24 dev eth0 &&
	ip -n "$NS_R" link set eth1 up && ip -n "$NS_S" link set eth0 up &&
	ip -n "$NS_R" route add 198.51.100.0/24 via 192.0.2.2 || {
		echo "not ok - $(basename "$0"): cannot build the server namespace"
		exit 1
	}
	# ROUTER_FORWARDS_V4=1: a router that forwards IPv4 too (faithd
	# --translate-after syn asks the FIB for the way to the server).
	if [ -n "${ROUTER_FORWARDS_V4:-}" ]; then R sysctl -qw net.ipv4.conf.all.forwarding=1; fi
}

# wait_for FILE REGEX [TENTHS]: until a line of FILE matches (default 5 s).
wait_for() {
	local i
	for i in $(seq "${3:-50}"); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_faithd ARGS...: faithd -F -d $FAITHD_ARGS (e.g. "--datapath sockmap") in the router, its log in $FAITHD_LOG;
# sets FAITHD_PID; returns once every service is registered.
FAITHD_LOG=$TMP/faithd.log
start_faithd() {
	# FAITHD_WRAP: a checker such as valgrind (it reports into the log).
	nsenter --net="/run/netns/$NS_R" ${FAITHD_WRAP:-} "$FAITHD" -F -d ${FAITHD_ARGS:-} "$@" >>"$FAITHD_LOG" 2>&1 &
	FAITHD_PID=$!
	PIDS+=("$FAITHD_PID")
	wait_for "$FAITHD_LOG" "faithd\[$FAITHD_PID\]: info: ready" 150 ||
		{ echo "# faithd did not start:"; sed 's/^/#   /' "$FAITHD_LOG"; }
}

# stop_faithd: SIGTERM, and the exit status of faithd in FAITHD_RC.
stop_faithd() {
	kill -TERM "$FAITHD_PID" 2>/dev/null
	wait "$FAITHD_PID" 2>/dev/null
	FAITHD_RC=$?
}

# bytes_serve PORT...: faith-bytes serving on 192.0.2.2 in the server.
bytes_serve() {
	local out=$TMP/serve.$RANDOM
	nsenter --net="/run/netns/$NS_S" "$BYTES" serve 192.0.2.2 "$@" >"$out" 2>&1 &
	PIDS+=("$!")
	wait_for "$out" '^ready' || { echo "# faith-bytes serve did not start:"; sed 's/^/#   /' "$out"; }
}

# faith_up PREFIX...: attach faith to the router's eth0, add the prefixes,
# open the gate.
faith_up() {
	local p
	faith attach eth0 >/dev/null || return 1
	for p in "$@"; do faith route add "$p" >/dev/null || return 1; done
	faith keepfaith 1 >/dev/null
}

# The open file descriptors of a process.
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# faithd's worker processes.
faithd_workers() { pgrep -P "$FAITHD_PID"; }
# The id of faithd's `flows` map (--datapath translate): the hash map with
# 40-byte keys among the descriptors of faithd's master (this faithd's,
# whatever else runs); and how many entries it holds.
flows_map() {
	local f
	for f in /proc/"$FAITHD_PID"/fdinfo/*; do
		grep -qP '^map_type:\t1$' "$f" 2>/dev/null && grep -qP '^key_size:\t40$' "$f" &&
			{ awk '/^map_id:/ { print $2 }' "$f"; return; }
	done
}
flows_count() { bpftool map dump id "$(flows_map)" -j | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'; }

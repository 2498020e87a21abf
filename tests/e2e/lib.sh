# shellcheck shell=bash
# Shared helpers for the end-to-end tests: output, topology, cleanup.
#
# Topology (two network namespaces joined by a veth pair):
#
#   client  2001:db8:1::2 --eth0====eth0-- 2001:db8:1::1  router (faith)
#           64:ff9b::/96, 2001:db8:64::/48 via 2001:db8:1::1
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
export FAITH_PIN_DIR=/sys/fs/bpf/$ID
TMP=$(mktemp -d /tmp/$ID.XXXX)
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
	[ -d "$FAITH_PIN_DIR" ] && rm -rf "$FAITH_PIN_DIR"
	mountpoint -q "$TMP/pins" 2>/dev/null && umount "$TMP/pins"
	rm -rf "$TMP"
}

finish() {
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

# A counter from `faith-loader status -j`.
counter() { faith status -j | python3 -c "import json,sys; print(json.load(sys.stdin)['stats']['$1'])"; }

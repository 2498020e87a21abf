#!/bin/bash
# The relay benchmark (make bench): faith against the other ways of letting
# an IPv6-only client reach an IPv4-only TCP server, and against the direct
# path, in three network namespaces.  Writes bench/results.md and the PNGs.
#
# Environment (defaults in brackets):
#   ROUNDS [3]        rounds; each round runs every case once, in an order
#                     rotated from round to round
#   DUR [2]           seconds per iperf3 and wrk run
#   FWD_SEGS [24]     segments of the forwarding-cost test (per iperf3 run),
#   FWD_SEG [1]       their length in seconds, and
#   FWD_SETTLE [0.2]  the seconds left out after each attach or detach
#   CONNS [32]        wrk's concurrent connections
#   IDLE_N [10000]    idle connections held for the memory test ...
#   IDLE_FORK_N [500] ... and for relays that fork per connection (socat)
#   CASES             the cases to run (default: all; see ALL_CASES)
#   FAITHD_ARGS       extra faithd options for the faith case(s)
#   DATAPATH [1]      0: do not rerun build/bench_datapath (the report then
#                     summarises the stored bench/datapath.md)
#   OUT [bench]       where results.md and the PNGs go
#   PROFILE [1]       0: no CPU profiles (profile.sh: which cases, how)
#
# Needs root.  Everything it makes (namespaces, pins, processes, rules)
# goes away when it exits, however it exits.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
cd "$TOP" || exit 1
[ "$(id -u)" = 0 ] || { echo "bench: run as root (network namespaces, BPF)" >&2; exit 1; }

ROUNDS=${ROUNDS:-3}
DUR=${DUR:-2}
FWD_SEGS=${FWD_SEGS:-24}
FWD_SEG=${FWD_SEG:-1}
FWD_SETTLE=${FWD_SETTLE:-0.2}
CONNS=${CONNS:-32}
# 10,000 idle connections, unless the hard limit on open files (20,000 in
# some sandboxes, and not raisable without CAP_SYS_RESOURCE) would not let
# a one-process relay hold two descriptors each plus its listeners and
# splice pipes.
HARD_NOFILE=$(ulimit -Hn)
IDLE_MAX=10000
[ "$HARD_NOFILE" != unlimited ] && [ $(( (HARD_NOFILE - 1000) / 2 / 100 * 100 )) -lt $IDLE_MAX ] &&
	IDLE_MAX=$(( (HARD_NOFILE - 1000) / 2 / 100 * 100 ))
IDLE_N=${IDLE_N:-$IDLE_MAX}
IDLE_FORK_N=${IDLE_FORK_N:-500}
DATAPATH=${DATAPATH:-1}
OUT=${OUT:-$TOP/bench}

source "$HERE/topo.sh"
source "$HERE/peers.sh"
source "$HERE/cases.sh"
source "$HERE/profile.sh"

ALL_CASES="direct direct_attached faith haproxy tproxy nginx socat 6tunnel"
# faithd's other data path, once faithd has one.
if "$TOP/faithd" --help 2>&1 | grep -q sockmap; then
	ALL_CASES="$ALL_CASES faith_sockmap"
else
	SOCKMAP_NOTE="faith (sockmap) not run: this faithd's --help does not mention sockmap"
fi
# The default (faith) is auto, translate where it loads: splice beside it.
# (A faithd whose default is splice: translate beside it.)
if "$TOP/faithd" --help 2>&1 | grep -q "'auto' (the default"; then
	ALL_CASES="$ALL_CASES faith_splice"
elif "$TOP/faithd" --help 2>&1 | grep -q translate; then
	ALL_CASES="$ALL_CASES faith_translate"
fi
# A faithd that translates from the SYN by default: its hand-off beside it.
if "$TOP/faithd" --help 2>&1 | grep -q "'syn' (the"; then
	ALL_CASES="$ALL_CASES faith_handoff"
fi
CASES=${CASES:-$ALL_CASES}

W=$(mktemp -d "/tmp/$ID.XXXX")
chmod 755 "$W"
RAW=$W/raw.tsv
: >"$RAW"
# The relay's CPU time: a cpuacct cgroup (v1 here) of our own, when the
# hierarchy is there and writable; else /proc (which misses the
# per-connection children that exit unwaited for).
CG=/sys/fs/cgroup/cpuacct/$ID
mkdir "$CG" 2>/dev/null || CG=
cleanup() {
	trap - EXIT INT TERM
	[ -n "$IDLE_PID" ] && { kill "$IDLE_PID"; wait "$IDLE_PID"; } 2>/dev/null
	[ -n "${PERF_PID:-}" ] && { kill -INT "$PERF_PID"; wait "$PERF_PID"; } 2>/dev/null
	peer_stop 2>/dev/null
	servers_down 2>/dev/null
	topo_down
	[ -n "$CG" ] && rmdir "$CG" 2>/dev/null
	# KEEP=1 keeps the logs and raw outputs, for a look after a failure.
	if [ "${KEEP:-0}" = 1 ]; then echo "bench: work files in $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM

# Programs a case needs, so that a missing one is reported, not hidden.
needs() {
	case $1 in
	haproxy|tproxy) echo haproxy ;;
	nginx) echo nginx ;;
	socat) echo socat ;;
	6tunnel) echo 6tunnel ;;
	esac
	[ "$1" = tproxy ] && echo nft
	[ "$1" = direct_attached ] && echo bpftool
	echo iperf3 wrk
}
missing() { local p; for p in $(needs "$1"); do command -v "$p" >/dev/null || echo "$p"; done; }

START=$(date +%s)
ROUND=0 CASE=-
rec meta.date "$(date -u '+%Y-%m-%d %H:%M UTC')"
rec meta.kernel "$(uname -sr) ($(uname -m))"
rec meta.cpu "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(nproc) online"
rec meta.mem "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
rec meta.rounds "$ROUNDS"
rec meta.dur "$DUR"
rec meta.fwd "$FWD_SEGS $FWD_SEG $FWD_SETTLE"
rec meta.conns "$CONNS"
rec meta.idle_n "$IDLE_N"
rec meta.idle_fork_n "$IDLE_FORK_N"
rec meta.nofile "$HARD_NOFILE"
rec meta.cpuacct "${CG:+cgroup}"
rec meta.faithd_args "${FAITHD_ARGS:-}"
rec meta.cases "$CASES"
[ -n "${SOCKMAP_NOTE:-}" ] && rec note "$SOCKMAP_NOTE"
rec meta.versions "$( { haproxy -v 2>/dev/null | head -1 | cut -d' ' -f1-3; nginx -v 2>&1; socat -V 2>/dev/null | sed -n 's/^socat version \([^ ]*\).*/socat \1/p'; dpkg-query -W -f='6tunnel ${Version}\n' 6tunnel 2>/dev/null; iperf3 -v 2>/dev/null | head -1 | cut -d' ' -f1-2; wrk -v 2>&1 | head -1 | cut -d' ' -f1-2; nft -v 2>/dev/null; } | tr '\n' ';' | sed 's/;$//; s/;/; /g')"
rec meta.faith "commit $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown) of $(git -C "$TOP" log -1 --format=%cd --date=short 2>/dev/null)"

# The datapath micro-benchmark: shorter than `make bench-datapath` (no
# prefix-count sweep, fewer rounds), into the work directory so that the
# stored bench/datapath.md stays what `make bench-datapath` wrote.
if [ "$DATAPATH" = 1 ] && [ -x "$TOP/build/bench_datapath" ]; then
	echo "bench: datapath micro-benchmark (build/bench_datapath --scaling never --rounds 7)" >&2
	"$TOP/build/bench_datapath" --scaling never --rounds 7 --markdown "$W/datapath.md" >/dev/null 2>"$W/datapath.err" ||
		{ rec note "bench_datapath failed: $(tail -1 "$W/datapath.err")"; }
fi

topo_up || exit 1
servers_up || exit 1
cat >"$W/faithd.conf" <<CONF
# 192.0.2.0/24 is a documentation range: under the well-known prefix
# 64:ff9b::/96 such special-purpose destinations need a rule naming them.
2001:db8:1::/64  permit  192.0.2.0/24
CONF
# As many descriptors as we may: the idle-connection test needs two per
# connection in a one-process relay (haproxy).
ulimit -n "$(ulimit -Hn)"

# run_case PHASE: start the case's relay, measure, stop it.
run_case() {
	local phase=$1 m
	m=$(missing "$CASE")
	if [ -n "$m" ]; then rec unavailable "not installed: $m"; return; fi
	if ! "peer_start_$CASE"; then
		rec unavailable "$WHY"; echo "bench: $CASE: $WHY" >&2
		peer_stop; return
	fi
	case $phase in
	memory)
		# Fork-per-connection relays get fewer connections.
		case $CASE in
		socat|6tunnel) idle "$IDLE_FORK_N" 16 ;;
		*) idle "$IDLE_N" ;;
		esac
		;;
	speed)
		throughput
		connrate
		;;
	fwdcost)
		forwarding_cost
		;;
	esac
	alive || note "the relay died during the $phase phase"
	peer_stop
}

# Two phases: memory first, while no TIME_WAIT sockets from the connection
# rate test are around to expire and shrink the slab under the measurement.
# The forwarding-cost test (direct_attached) is not a round case: it runs
# once at the end, faith attached and detached in turns within each of its
# iperf3 runs (fwdcost in cases.sh).
set -- $(echo " $CASES " | sed 's/ direct_attached / /')
NC=$#
for phase in memory speed; do
	for ROUND in $(seq "$ROUNDS"); do
		# Rotate the order each round: no case always runs first or
		# right after the same neighbour.
		for k in $(seq 0 $((NC - 1))); do
			idx=$(( (k + ROUND - 1) % NC + 1 ))
			CASE=${!idx}
			echo "bench: $(( $(date +%s) - START ))s: $phase round $ROUND/$ROUNDS: $CASE" >&2
			run_case "$phase"
		done
	done
done
if [[ " $CASES " == *" direct_attached "* ]]; then
	ROUND=0 CASE=direct_attached
	echo "bench: $(( $(date +%s) - START ))s: forwarding cost: faith attached and detached every ${FWD_SEG} s" >&2
	run_case fwdcost
fi
ROUND=0 CASE=-
profile_cases
rec meta.seconds "$(( $(date +%s) - START ))"

mkdir -p "$OUT"
cp "$RAW" "$OUT/results.tsv"
python3 "$HERE/report.py" --raw "$RAW" --out "$OUT" --data "$W" --datapath "$W/datapath.md" \
	--stored-datapath "$TOP/bench/datapath.md" || exit 1
python3 "$HERE/profile.py" --data "$W" --out "$OUT" || echo "bench: profile.py failed" >&2
if command -v gnuplot >/dev/null; then
	gnuplot -e "data='$W'; out='$OUT'" "$HERE/plot.gp" || echo "bench: gnuplot failed" >&2
else
	echo "bench: no gnuplot: no PNGs" >&2
fi
echo "bench: done in $(( $(date +%s) - START )) s: $OUT/results.md" >&2

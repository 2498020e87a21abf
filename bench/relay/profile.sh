# shellcheck shell=bash
# Where the CPU goes: after the measured rounds, each profiled case runs its
# connection-rate test (wrk) and one iperf3 stream again under a
# system-wide perf profile (software cpu-clock: this VM has no hardware
# counters).  Their numbers go to a scratch file, not to the results: perf
# costs a few percent.  profile.py turns the profiles into profile.md.
#
#   PROFILE [1]             0: no profiles
#   PROFILE_CASES           [direct faith haproxy]

PROFILE=${PROFILE:-1}
PROFILE_CASES=${PROFILE_CASES:-"direct faith haproxy"}
PROFILE_HZ=499

# profile_run TEST COMMAND...: COMMAND under perf, into $W/perf-$CASE-TEST.data.
profile_run() {
	local test=$1 data=$W/perf-$CASE-$1.data pid; shift
	perf record -q -e cpu-clock -F "$PROFILE_HZ" -a -o "$data" \
		2>"$W/perf-$CASE-$test.err" &
	pid=$! PERF_PID=$!
	sleep 0.3	# perf is sampling
	"$@"
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	PERF_PID=
	[ -s "$data" ] || note "perf record for $test: $(head -c 200 "$W/perf-$CASE-$test.err")"
}

profile_cases() {
	local raw=$RAW
	[ "$PROFILE" = 1 ] || return 0
	command -v perf >/dev/null || { rec note "no perf: no CPU profiles"; return 0; }
	for CASE in $PROFILE_CASES; do
		[[ " $CASES " == *" $CASE "* ]] || continue
		echo "bench: $(( $(date +%s) - START ))s: profile: $CASE" >&2
		peer_start_"$CASE" || { echo "bench: $CASE: $WHY" >&2; peer_stop; continue; }
		RAW=$W/profile.tsv	# perf's overhead stays out of the results
		profile_run conn connrate
		profile_run up1 tput up1 1
		RAW=$raw
		peer_stop
	done
	CASE=-
}

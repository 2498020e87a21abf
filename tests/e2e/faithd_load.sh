#!/bin/bash
# faithd under load and through its life: 1,000 concurrent connections and
# its descriptors back to idle afterwards; running out of descriptors
# (EMFILE) without crashing; connection limits; a worker that dies is
# restarted, and what it held under the limits is counted out; SIGTERM
# stops accepting, lets open connections finish within the grace period,
# then exits; each worker on a CPU of its own, serving the connections
# that CPU receives (--cpu-affinity).
. "$(dirname "$0")/lib.sh"
need_root
# --translate-after syn (FAITHD_ARGS): the program, not the workers, relays.
SYN=
case " ${FAITHD_ARGS:-} " in *" --translate-after syn "*) SYN=1 ;; esac
topo_up
server_up
faith_up 64:ff9b::/96 ||
	{ notok "faithd: set up faith"; finish; exit 1; }
bytes_serve 7001
printf '2001:db8:1::/64 permit 192.0.2.0/24\n' >"$TMP/faithd.conf"
chmod 755 "$TMP"	# faithd reads it as nobody on SIGHUP

# workers_fds: the open descriptors of all workers, summed.
workers_fds() { local n=0 w; for w in $(faithd_workers); do n=$((n + $(fd_count "$w"))); done; echo $n; }

# hold N [ARGS]: faith-bytes holding N connections in the background until
# its stdin closes; HOLD_PID, HOLD_OUT.
hold() {
	local n=$1; shift
	HOLD_OUT=$TMP/hold.$RANDOM
	mkfifo "$HOLD_OUT.in"
	nsenter --net="/run/netns/$NS_C" "$BYTES" hold 64:ff9b::c000:202 7001 "$n" "$@" \
		<"$HOLD_OUT.in" >"$HOLD_OUT" 2>&1 &
	HOLD_PID=$!
	PIDS+=("$HOLD_PID")
	exec 7>"$HOLD_OUT.in"
}
release() { exec 7>&-; wait "$HOLD_PID"; HOLD_RC=$?; }

# Unpinned: SO_REUSEPORT alone spreads one client's connections.
start_faithd -f "$TMP/faithd.conf" -w 2 --cpu-affinity none all
idle=$(workers_fds)
hold 1000 --timeout 30
if wait_for "$HOLD_OUT" '^held 1000' 300; then
	ok "1,000 concurrent connections relayed ($(workers_fds) descriptors in the workers, $idle idle)"
else
	notok "1,000 concurrent connections"; sed 's/^/#   /' "$HOLD_OUT"
fi
release
check "... the client saw all of them acknowledged and closed them" test "$HOLD_RC" = 0
for _ in $(seq 50); do [ "$(workers_fds)" = "$idle" ] && break; sleep 0.1; done
check "... and the workers' descriptors are back to idle ($idle)" test "$(workers_fds)" = "$idle"
# (The program's connections are logged by the master, a few times a second.)
for _ in $(seq 20); do
	[ "$(grep -c ' -> 192.0.2.2:7001: closed' "$FAITHD_LOG")" -ge 1000 ] && break
	sleep 0.1
done
check "... each one logged" test "$(grep -c ' -> 192.0.2.2:7001: closed' "$FAITHD_LOG")" -ge 1000
pids=$(grep ' -> 192.0.2.2:7001: closed' "$FAITHD_LOG" | grep -oE '^faithd\[[0-9]+\]' | sort | uniq -c)
if [ "$SYN" ]; then
	check "... all carried by the program: logged by the master ($(echo $pids))" \
		test "$(echo $pids)" = "1000 faithd[$FAITHD_PID]"
else
	check "... and both workers served some (SO_REUSEPORT): $(echo $pids)" test "$(wc -l <<<"$pids")" = 2
fi

# SIGHUP reloads without dropping connections.
hold 2
wait_for "$HOLD_OUT" '^held 2' 50
kill -HUP "$FAITHD_PID"
check "SIGHUP: reloaded" wait_for "$FAITHD_LOG" "configuration reloaded"
sleep 0.3
release
check "SIGHUP: connections open across the reload carry on and close normally" \
	sh -c "test $HOLD_RC = 0 && grep -q '^released 2\$' $HOLD_OUT"

# A worker that dies is restarted; the relay keeps working.
victim=$(faithd_workers | head -1)
kill -9 "$victim"
check "a killed worker is restarted" wait_for "$FAITHD_LOG" "worker [0-9] \(pid $victim\) died of signal 9; restarting it" 30
sleep 1.2
for i in 1 2 3 4 5 6; do
	C "$BYTES" send 64:ff9b::c000:202 7001 1000 1000 >/dev/null || { notok "relay after the restart ($i)"; break; }
done
[ "$i" = 6 ] && ok "the relay works after the restart (6 connections)"
check "two workers again" test "$(faithd_workers | wc -l)" = 2
stop_faithd

# A worker that dies gives back what it held under -m and -M (its
# connections went with it): else they would be refused until a restart.
# dies_holding WHAT ARGS...: faithd with ARGS, its worker killed holding 2.
dies_holding() {
	local what=$1 victim; shift
	start_faithd -f "$TMP/faithd.conf" -w 1 -m 3 -M 2 "$@" all
	hold 2
	check "$what: -m 3 -M 2: 2 connections held by the worker" wait_for "$HOLD_OUT" '^held 2' 50
	victim=$(faithd_workers)
	kill -9 "$victim"
	check "... the worker killed: the master counts its 2 connections out" \
		wait_for "$FAITHD_LOG" "worker 0 \(pid $victim\): 2 connections no longer counted against -m and -M" 30
	release
	hold 2
	check "... and its successor serves 2 new ones from the same source (neither limit reached)" \
		wait_for "$HOLD_OUT" '^held 2' 50
	expect 3 "... a 3rd from the source gets a reset (-M 2 still counts)" \
		C "$BYTES" probe 64:ff9b::c000:202 7001
	release
	stop_faithd
}
if [ "$SYN" ]; then
	# Relayed by the worker, the counts in faithd's table.
	dies_holding "the hand-off" --translate-after 1048576
	# The program would take them: with no IPv4 forwarding it leaves them
	# to the worker, and the counts are shared with it (its memory and
	# map, changed through its syscall program, by the master too).
	R sysctl -qw net.ipv4.conf.all.forwarding=0
	dies_holding "--translate-after syn, the program not forwarding"
	R sysctl -qw net.ipv4.conf.all.forwarding=1
else
	dies_holding "a worker's connections"
fi

# Out of descriptors: a worker limited to 64 keeps serving and recovers.
# (The program of --translate-after syn needs none: the sockets take them.)
nsenter --net="/run/netns/$NS_R" prlimit --nofile=64:64 "$FAITHD" -F -d -w 1 \
	${SYN:+--translate-after 1048576} -f "$TMP/faithd.conf" all >>"$FAITHD_LOG" 2>&1 &
FAITHD_PID=$!; PIDS+=("$FAITHD_PID")
wait_for "$FAITHD_LOG" "faithd\[$FAITHD_PID\]: info: ready" || notok "faithd with 64 descriptors did not start"
hold 100 --timeout 5
wait "$HOLD_PID"
check "EMFILE: faithd says it pauses accepting" wait_for "$FAITHD_LOG" "Too many open files: pausing accept" 30
check "EMFILE: the worker is still alive" test -n "$(faithd_workers)"
exec 7>&- 2>/dev/null
sleep 0.5
check "EMFILE: once connections end, new ones are served" \
	C "$BYTES" send 64:ff9b::c000:202 7001 1000 1000 --timeout 5
stop_faithd

# Limits: per source and global.
start_faithd -f "$TMP/faithd.conf" -w 2 -M 5 all
hold 5
check "per-source limit: 5 connections held" wait_for "$HOLD_OUT" '^held 5' 50
# -M keeps translation from the SYN: the program counts with the workers.
[ -z "$SYN" ] || check "... carried by the program (2 entries each)" test "$(flows_count)" = 10
expect 3 "per-source limit: the 6th gets a reset" C "$BYTES" probe 64:ff9b::c000:202 7001
check "... logged" wait_for "$FAITHD_LOG" "refused: too many connections from this source" 30
release
sleep 0.3
check "per-source limit: after they close, a new one is served" \
	C "$BYTES" send 64:ff9b::c000:202 7001 1000 1000

# SIGTERM: stop accepting, finish open connections within the grace.
hold 3
wait_for "$HOLD_OUT" '^held 3' 50
kill -TERM "$FAITHD_PID"
check "SIGTERM: logged" wait_for "$FAITHD_LOG" "stopping: no new connections" 30
expect 3 "SIGTERM: a new connection gets a reset" C "$BYTES" probe 64:ff9b::c000:202 7001
check "SIGTERM: open connections are still up" kill -0 "$FAITHD_PID"
release
wait "$FAITHD_PID"; rc=$?
check "SIGTERM: faithd exits 0 once they are done" test "$rc" = 0
check "SIGTERM: 'stopped' logged" wait_for "$FAITHD_LOG" "faithd\[$FAITHD_PID\]: info: stopped"

start_faithd -f "$TMP/faithd.conf" -w 1 -g 1 all
hold 2
wait_for "$HOLD_OUT" '^held 2' 50
t0=$(date +%s%N)
stop_faithd
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "SIGTERM with -g 1: open connections reset after the grace, exit 0 in ${ms} ms" \
	test "$FAITHD_RC" = 0 -a "$ms" -lt 4000
check "... logged as 'shutting down'" wait_for "$FAITHD_LOG" "shutting down"
release

# The global limit, and the idle timeout.
start_faithd -f "$TMP/faithd.conf" -w 2 -m 3 -i 1 all
hold 3
check "global limit: 3 connections held" wait_for "$HOLD_OUT" '^held 3' 50
# -m keeps translation from the SYN: the program counts with the workers.
[ -z "$SYN" ] || check "... carried by the program (2 entries each)" test "$(flows_count)" = 6
expect 3 "global limit (-m 3, two workers): the 4th gets a reset" \
	C "$BYTES" probe 64:ff9b::c000:202 7001
check "... logged" wait_for "$FAITHD_LOG" "refused: too many connections$" 30
# Through the program, faithd's sweep (every 2 s) finds them idle.
idle_s='1'; [ "$SYN" ] && idle_s='[1-3]'
check "idle timeout (-i 1): the idle connections are closed" \
	wait_for "$FAITHD_LOG" "7001: idle timeout; 24 bytes to server, 1 to client, $idle_s\.[0-9]+ s" 40
release
check "... and the client saw them go" grep -q 'dropped while held' "$HOLD_OUT"
stop_faithd

# --cpu-affinity auto: worker i runs on the i-th CPU faithd
# may use and gets the connections that CPU receives.  A veth delivers a
# packet on the sender's CPU, so a client pinned to CPU k is served by the
# worker on CPU k.
allowed_cpus() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$1/status"; }
cpus=($(taskset -c -p $$ | sed 's/.*: //' | tr ',' '\n' |
	awk -F- '{ for (c = $1; c <= ($2 == "" ? $1 : $2); c++) print c }'))
if [ "$SYN" ]; then
	# No worker relays: the program does, on the CPU the packets come in on.
	start_faithd -f "$TMP/faithd.conf" -w 2 --cpu-affinity auto all
	for i in $(seq 10); do
		C "$BYTES" send 64:ff9b::c000:202 7001 100 100 >/dev/null || break
	done
	for _ in $(seq 20); do
		[ "$(grep -c "^faithd\[$FAITHD_PID\]: .* -> 192.0.2.2:7001: closed; 124 bytes" "$FAITHD_LOG")" -ge 10 ] && break
		sleep 0.1
	done
	check "--cpu-affinity auto with --translate-after syn: 10 connections, carried by the program (logged by the master)" \
		test "$(grep -c "^faithd\[$FAITHD_PID\]: .* -> 192.0.2.2:7001: closed; 124 bytes" "$FAITHD_LOG")" = 10
	stop_faithd
elif [ "${#cpus[@]}" -lt 2 ]; then
	echo "skip - CPU affinity: needs 2 CPUs, this test may use ${#cpus[@]}"
else
	start_faithd -f "$TMP/faithd.conf" -w 2 --cpu-affinity auto all
	declare -A on_cpu=()
	for w in $(faithd_workers); do on_cpu[$(allowed_cpus "$w")]=$w; done
	check "--cpu-affinity auto: worker 1 on CPU ${cpus[0]}, worker 2 on CPU ${cpus[1]} ($(for c in "${!on_cpu[@]}"; do printf 'CPU %s: pid %s; ' "$c" "${on_cpu[$c]}"; done))" \
		test -n "${on_cpu[${cpus[0]}]:-}" -a -n "${on_cpu[${cpus[1]}]:-}"
	for cpu in "${cpus[0]}" "${cpus[1]}"; do
		w=${on_cpu[$cpu]:-none}
		before=$(grep -c "^faithd\[$w\]: .* -> 192.0.2.2:7001: closed" "$FAITHD_LOG")
		for i in $(seq 10); do
			taskset -c "$cpu" nsenter --net="/run/netns/$NS_C" \
				"$BYTES" send 64:ff9b::c000:202 7001 100 100 >/dev/null || break
		done
		sleep 0.3
		after=$(grep -c "^faithd\[$w\]: .* -> 192.0.2.2:7001: closed" "$FAITHD_LOG")
		check "10 connections from a client on CPU $cpu: all relayed by the worker on CPU $cpu (it logged $((after - before)))" \
			test "$((after - before))" = 10
	done
	stop_faithd
	start_faithd -f "$TMP/faithd.conf" -w 2 all
	mine=$(allowed_cpus $$)
	for w in $(faithd_workers); do
		check "default (--cpu-affinity none): worker $w may run on every CPU ($mine)" \
			test "$(allowed_cpus "$w")" = "$mine"
	done
	stop_faithd
fi
finish

#!/bin/bash
# faithd --datapath sockmap: the relay tests of faithd.sh and faithd_load.sh
# (50 MB each way byte-exact, half-close, resets both ways, 1,000
# concurrent, limits, idle timeout...) with the in-kernel relay; flow
# control: a fast sender and a slow reader, a reader that stutters (the
# sender held and released, every byte checked), both peers sending and
# neither reading (reset at 256 MiB held), repeated 50 MB transfers beside
# a CPU hog; what --datapath refuses.
. "$(dirname "$0")/lib.sh"
need_root
E2E=$(dirname "$0")

expect 2 "--datapath with a bad value is a usage error" "$FAITHD" --datapath pipes all
said "--datapath: 'pipes': 'splice', 'sockmap', 'translate' or 'auto'" "... saying what it takes"

# The relay tests, in this process's count.
relay_suites sockmap --datapath sockmap

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

# slow.py's reader checks every byte against the sender's pattern.
# Its output in $SLOW_OUT, a file per port.
slow_serve() {
	SLOW_OUT=$TMP/slow.$1.out
	nsenter --net="/run/netns/$NS_S" python3 "$E2E/slow.py" serve 192.0.2.2 "$@" \
		>"$SLOW_OUT" 2>&1 &
	PIDS+=("$!")
	wait_for "$SLOW_OUT" '^ready' || sed 's/^/#   /' "$SLOW_OUT"
}

# A sender as fast as it can, a reader that reads nothing for 4 s: the
# relay holds the client back instead of queueing without bound in the
# kernel (the psock backlog has no limit of its own).
# Once more (another port) if the sender got less than 12 MiB out: the
# kernel's buffers held it before the relay had to (a machine busy
# elsewhere), and the hold below would go untested.  That first one's
# bytes are checked all the same; the log, only from the last one on.
for port in 7010 7013; do
	lines=$(wc -l <"$FAITHD_LOG")
	FAST_OUT=$TMP/fast.$port.out
	slow_serve $port 4
	C timeout 30 python3 "$E2E/slow.py" client 64:ff9b::c000:202 $port 3 >"$FAST_OUT" 2>&1
	held=$(awk '/^held/ { print $2 }' "$FAST_OUT")
	sent=$(awk '/^sent/ { print $2 }' "$FAST_OUT")
	if [ $port = 7013 ] || [ -z "$held" ] || [ -z "$sent" ] || [ "$held" -ge $((12 << 20)) ]; then
		break
	fi
	wait_for "$SLOW_OUT" '^(read|mismatch)' 100
	check "slow reader, held by the kernel's buffers alone ($held bytes out in 3 s): every byte arrives ($sent); once more" \
		grep -qx "read $sent" "$SLOW_OUT"
done
tail -n +$((lines + 1)) "$FAITHD_LOG" >"$TMP/log1"
if [ -n "$held" ] && [ "$held" -lt $((128 << 20)) ]; then
	ok "slow reader: the sender is held back ($((held >> 20)) MiB taken in 3 s)"
else
	notok "slow reader: the sender is held back: ${held:-?} bytes"; sed 's/^/#   /' "$FAST_OUT"
fi
check "... faithd held the client for a while" \
	grep -q "queued to the server: holding the client" "$TMP/log1"
wait_for "$SLOW_OUT" '^(read|mismatch)' 100
check "... and every byte arrives, in order, once the reader reads ($sent)" \
	grep -qx "read $sent" "$SLOW_OUT"
tail -n +$((lines + 1)) "$FAITHD_LOG" >"$TMP/log1"
check "... the worker moved the held bytes itself" \
	grep -qE "sockmap: redirected [0-9]+ \+ [0-9]+ bytes, moved by the worker [1-9][0-9]* \+" \
	"$TMP/log1"

check "... then all moved, the kernel relays again" \
	grep -q "the client's held bytes all moved: relaying in the kernel again" "$TMP/log1"

# A reader slower than the sender for 1.5 s (3 ms after every 256 KiB), then
# a faster one: the worker moves the held bytes at the reader's pace (while
# the reader is the bottleneck, the source always holds more), every byte
# in order, and once they are all moved the kernel relays again.
# Once more (another port) if the client was not held: a sender on a busy
# machine no faster than the reader; every byte checked both times.
for port in 7011 7014; do
	lines=$(wc -l <"$FAITHD_LOG")
	FAST_OUT=$TMP/fast.$port.out
	slow_serve $port 0.5 3 1.5
	C timeout 60 python3 "$E2E/slow.py" client 64:ff9b::c000:202 $port 2 >"$FAST_OUT" 2>&1
	wait_for "$SLOW_OUT" '^(read|mismatch)' 100
	sent=$(awk '/^sent/ { print $2 }' "$FAST_OUT")
	if [ -n "$sent" ] && grep -qx "read $sent" "$SLOW_OUT"; then
		ok "stuttering reader: every byte arrives, in order ($sent)"
	else
		notok "stuttering reader: every byte arrives, in order (${sent:-?})"
		sed 's/^/#   client: /' "$FAST_OUT"; sed 's/^/#   server: /' "$SLOW_OUT"
	fi
	tail -n +$((lines + 1)) "$FAITHD_LOG" >"$TMP/log2"
	grep -q "holding the client" "$TMP/log2" && break
	[ $port = 7011 ] && echo "# stuttering reader: the client was not held: once more"
done
check "... the client was held" grep -q "holding the client" "$TMP/log2"
check "... and once the held bytes are all moved, the kernel relays again" \
	grep -q "the client's held bytes all moved: relaying in the kernel again" "$TMP/log2"

# Both peers send and neither reads: the kernel queues what it holds for
# one side behind what waits for that side's window, uncharged, so the
# sender is not held back; faithd resets the connection at 256 MiB.
nsenter --net="/run/netns/$NS_S" python3 "$E2E/blast.py" serve 192.0.2.2 7012 20 \
	>"$TMP/blast.out" 2>&1 &
PIDS+=("$!")
wait_for "$TMP/blast.out" '^ready' || sed 's/^/#   /' "$TMP/blast.out"
C timeout 30 python3 "$E2E/blast.py" client 64:ff9b::c000:202 7012 20 >"$TMP/fast.out" 2>&1
check "both peers sending, neither reading: the client gets a reset" \
	grep -q "^error Connection reset by peer" "$TMP/fast.out"
check "... logged: 256 MiB held" \
	grep -q "over 268435456 bytes from the .* held in the kernel while the other way is stalled; resetting" \
	"$FAITHD_LOG"
stop_faithd
check "SIGTERM: faithd exits with status 0" test "$FAITHD_RC" = 0

# What once lost bytes about once in 80 transfers (a socket taken out of the
# map to stop reading it could strand an skb): 50 MB each way, ten times,
# two workers, a CPU hog beside them.
: >"$FAITHD_LOG"
start_faithd -f "$TMP/faithd.conf" -w 2 --datapath sockmap all
bytes_serve 7001
sh -c 'while :; do :; done' &
hog=$!
PIDS+=("$hog")
bad=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	C "$BYTES" send 64:ff9b::c000:202 7001 $((50 << 20)) $((50 << 20)) --timeout 60 \
		>"$TMP/out" 2>&1 || { bad=$((bad + 1)); sed 's/^/#   /' "$TMP/out"; }
done
stop_pid "$hog"
if [ "$bad" = 0 ]; then
	ok "10 x 50 MB each way beside a CPU hog: all byte-exact"
else
	notok "10 x 50 MB each way beside a CPU hog: $bad failed"
fi
n=$(grep -c "holding the" "$FAITHD_LOG")
check "... with flow control at work ($n holds)" test "$n" -gt 0
stop_faithd
finish

#!/bin/bash
# faithd -s logs to syslog: in a private mount namespace whose /dev/log is
# our own datagram socket, the start-up and per-connection lines arrive
# there, tagged faithd[PID] with the daemon facility.
. "$(dirname "$0")/lib.sh"
need_root
topo_up
server_up
faith_up 2001:db8:64::/96 || { notok "faithd: set up faith"; finish; exit 1; }
bytes_serve 7001

cat >"$TMP/syslog.py" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('/dev/log')
os.chmod('/dev/log', 0o666)
print('ready', flush=True)
with open(sys.argv[1], 'a') as out:
    while True:
        out.write(s.recv(4096).decode(errors='replace') + '\n')
        out.flush()
PY
# One shell in a new mount namespace (and the router's network namespace):
# a tmpfs on /dev with only /dev/null and our /dev/log, the listener, faithd.
nsenter --net="/run/netns/$NS_R" unshare -m --propagation private sh -c '
	mount -t tmpfs tmpfs /dev && touch /dev/null && mount --bind /proc/self/fd/0 /dev/null 2>/dev/null
	python3 "$1" "$2" >"$2.ready" 2>&1 &
	echo $! >"$2.pid"
	for i in $(seq 50); do grep -q ready "$2.ready" && break; sleep 0.1; done
	exec "$3" -F -s -w 1 all' sh "$TMP/syslog.py" "$TMP/syslog" "$FAITHD" </dev/null >"$FAITHD_LOG" 2>&1 &
FAITHD_SH=$!
PIDS+=("$FAITHD_SH")
wait_for "$TMP/syslog.pid" . && PIDS+=("$(cat "$TMP/syslog.pid")")
check "syslog: faithd's start-up reached /dev/log" wait_for "$TMP/syslog" 'faithd\[[0-9]+\]: ready' 50
check "a connection through faithd -s" C "$BYTES" send 2001:db8:64::c000:202 7001 1000 1000
check "syslog: its line, daemon facility, info (<30>)" \
	wait_for "$TMP/syslog" '^<30>.*faithd\[[0-9]+\]: \[2001:db8:1::2\]:[0-9]+ -> \[2001:db8:64::c000:202\]:7001 -> 192\.0\.2\.2:7001: closed' 50
check "nothing on stderr with -s" test ! -s "$FAITHD_LOG"
finish

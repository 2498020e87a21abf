#!/bin/bash
# faithd --translate-after syn: the TC program translates the client's SYN
# itself (a stateful NAT64 for faithd), so that faithd's sockets never see
# the connections it takes.  Bytes relayed byte-exact both ways with no
# socket of the router involved; the client's port kept; what faithd's
# rules deny, and ports other relays serve, left to the sockets; resets
# both ways; the entries gone once a connection ends.
. "$(dirname "$0")/lib.sh"
need_root
E2E=$(dirname "$0")

expect 2 "--translate-after takes a number or 'syn'" "$FAITHD" --translate-after SYN all
said "--translate-after: 'SYN' is not a number" "... and says so"

topo_up
server_up
faith_up 64:ff9b::/96 || { notok "faithd: set up faith"; finish; exit 1; }
# The program asks the FIB for the way to the server, as for a forwarded
# packet: the router forwards IPv4.
R sysctl -qw net.ipv4.conf.all.forwarding=1
bytes_serve 7001 7002
printf '%s\n' "2001:db8:1::/64 deny 192.0.2.2/32 7002" >/dev/null
printf '%s permit %s\n' 2001:db8:1::/64 192.0.2.0/24 >"$TMP/faithd.conf"
chmod 755 "$TMP"

start_faithd -f "$TMP/faithd.conf" -w 1 -i 4 --translate-after syn 7001 7002
check "faithd says it translates from the SYN" grep -q "translate: from the SYN" "$FAITHD_LOG"

flows_map() {
	local f
	for f in /proc/"$FAITHD_PID"/fdinfo/*; do
		grep -qP '^map_type:\t1$' "$f" 2>/dev/null && grep -qP '^key_size:\t40$' "$f" &&
			{ awk '/^map_id:/ { print $2 }' "$f"; return; }
	done
}
flows_count() { bpftool map dump id "$(flows_map)" -j | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'; }
accepted() { grep -c "debug: fd [0-9]*: \[2001:db8:1::2\]" "$FAITHD_LOG"; }

M8=$((8 << 20))
check "8 MiB each way through the program: byte-exact" \
	C "$BYTES" send 64:ff9b::c000:202 7001 $M8 $M8 --timeout 20
check "... faithd's sockets saw no connection (nothing logged by a worker)" \
	test "$(grep -c "7001: closed" "$FAITHD_LOG")" = 0
check "... and the program's map is empty again" test "$(flows_count)" = 0
# The counts faithd logs when it stops: "translated from the SYN: ...".
summary() { grep -o "translated from the SYN: .*" "$FAITHD_LOG" | tail -1; }

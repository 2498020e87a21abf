#!/bin/bash
# ICMPv6 errors about relayed connections reach their TCP sockets: a Packet
# Too Big quoting a segment the relay sent from a faith address lowers the
# path MTU of that connection, as faith(4) promises.  One quoting a
# non-faith source is left alone.  In TC and in XDP mode.
. "$(dirname "$0")/lib.sh"
need_root
topo_up
PTB=$(dirname "$0")/icmp_ptb.py

# send_error QSRC: hold a relayed connection open while the client sends a
# Packet Too Big (MTU 1280) quoting a segment from QSRC to it.
send_error() {
	local out
	mkfifo "$TMP/hold"
	C python3 "$PTB" 64:ff9b::c000:202 80 2 1280 "$1" <"$TMP/hold" >"$TMP/ptb" 2>&1 &
	exec 9>"$TMP/hold"
	for _ in $(seq 50); do grep -q sent "$TMP/ptb" && break; sleep 0.1; done
	sleep 0.3
	out=$(R ip -6 route show cache 2001:db8:1::2)
	exec 9>&-
	wait
	rm -f "$TMP/hold"
	echo "$out"
}

for mode in tc xdp; do
	opt=; [ $mode = xdp ] && opt=--xdp
	check "$mode: attach" faith attach eth0 $opt
	check "$mode: route add" faith route add 64:ff9b::/96
	check "$mode: keepfaith 1" faith keepfaith 1
	start_relay --port 80 --tag r

	before=$(counter icmp_captured)
	cache=$(send_error 2001:db8:ffff::5)
	[ "$(counter icmp_captured)" = "$before" ] && ok "$mode: error quoting a non-faith source is not captured" ||
		notok "$mode: error quoting a non-faith source was captured"
	grep -q 'mtu 1280' <<<"$cache" && notok "$mode: PMTU changed by a non-faith error: $cache" ||
		ok "$mode: PMTU untouched by it"

	cache=$(send_error 64:ff9b::c000:202)
	[ "$(counter icmp_captured)" -gt "$before" ] && ok "$mode: Packet Too Big quoting the relay's segment is captured" ||
		notok "$mode: Packet Too Big not captured"
	grep -q 'mtu 1280' <<<"$cache" && ok "$mode: it reached the TCP socket: path MTU now 1280" ||
		{ notok "$mode: path MTU unchanged"; echo "#   cache: $cache"; }

	stop_pid "$RELAY_PID"
	R ip -6 route flush cache
	check "$mode: unload" faith unload
done
finish

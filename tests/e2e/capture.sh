#!/bin/bash
# IPv6 TCP to any address in a faith prefix reaches the registered relay
# socket, which sees the original destination; in TC and in XDP mode.
. "$(dirname "$0")/lib.sh"
need_root
topo_up

# expect_dst DESC ADDR PORT TAG: the connection reached relay TAG, which
# saw [ADDR]:PORT as its local address, and echoed 200 kB byte-exact.
expect_dst() {
	local out
	out=$(connect "$2" "$3" 200000)
	if grep -qx "DST \[$2\]:$3 $4" <<<"$out" && grep -q '^echoed 200000 bytes' <<<"$out"; then
		ok "$1"
	else
		notok "$1"; sed 's/^/#   /' <<<"$out"
	fi
}

# A wildcard listener of the router's own on port 443: it must never get a
# connection addressed to a faith address.
R_bg socat TCP6-LISTEN:443,ipv6only=1,reuseaddr,fork SYSTEM:'echo LEAKED' 2>/dev/null

for mode in tc xdp; do
	opt=; [ $mode = xdp ] && opt=--xdp
	check "$mode: attach eth0" faith attach eth0 $opt
	check "$mode: route add two prefixes" faith route add 64:ff9b::/96 2001:db8:64::/48
	check "$mode: keepfaith 1" faith keepfaith 1
	start_relay --port 80 --tag port80; p80=$RELAY_PID
	start_relay --port all --tag all; pall=$RELAY_PID

	expect_dst "$mode: [64:ff9b::c000:202]:80 goes to the port-80 relay" 64:ff9b::c000:202 80 port80
	expect_dst "$mode: [64:ff9b::cb00:7101]:80 (another address) too" 64:ff9b::cb00:7101 80 port80
	expect_dst "$mode: [64:ff9b::c633:6401]:443 goes to the all-ports relay" 64:ff9b::c633:6401 443 all
	expect_dst "$mode: [2001:db8:64::c000:201]:8080 (second prefix) too" 2001:db8:64::c000:201 8080 all
	assigned=$(counter assigned)
	[ "$assigned" -ge 4 ] && ok "$mode: stats count $assigned assignments" || notok "$mode: assigned=$assigned, want >= 4"

	stop_pid "$pall"
	out=$(connect 64:ff9b::c000:202 443)
	rc=$?
	if [ $rc = 3 ] && ! grep -q LEAKED <<<"$out"; then
		ok "$mode: no relay for 443: reset, and the router's own [::]:443 listener got nothing"
	else
		notok "$mode: no relay for 443: rc=$rc"; sed 's/^/#   /' <<<"$out"
	fi
	[ "$(counter no_relay)" -ge 1 ] && ok "$mode: no_relay counted" || notok "$mode: no_relay not counted"
	expect_dst "$mode: port 80 still served" 64:ff9b::c000:202 80 port80

	check "$mode: keepfaith 0" faith keepfaith 0
	gated=$(counter gated_off)
	out=$(connect 64:ff9b::c000:202 80)
	rc=$?
	if [ $rc != 0 ] && ! grep -q '^DST' <<<"$out"; then
		ok "$mode: keepfaith 0: not captured ($(tail -1 <<<"$out"))"
	else
		notok "$mode: keepfaith 0 still captured"; sed 's/^/#   /' <<<"$out"
	fi
	[ "$(counter gated_off)" -gt "$gated" ] && ok "$mode: gated_off counted" || notok "$mode: gated_off not counted"
	check "$mode: keepfaith reads 0" test "$(faith keepfaith)" = 0

	check "$mode: keepfaith 1 again" faith keepfaith 1
	check "$mode: detach eth0" faith detach eth0
	out=$(connect 64:ff9b::c000:202 80)
	if ! grep -q '^DST' <<<"$out"; then
		ok "$mode: after detach: not captured"
	else
		notok "$mode: after detach: still captured"
	fi
	stop_pid "$p80"
	check "$mode: unload" faith unload
done
finish

#!/bin/bash
# faithd --translate-after syn: the TC program translates the client's SYN
# itself (a stateful NAT64 for faithd) and faithd's sockets never see the
# connections it takes.  The relay suites of faithd.sh and faithd_load.sh
# through it; then what is its own: the bytes byte-exact with no socket of
# the router in the way, logged by the master; a FIN ahead of a loss
# ending the connection once acknowledged; a server behind a gateway; the
# server sees a port of
# faithd's range, and each peer sequence numbers not the other's; a client
# that never acknowledges the SYN-ACK forgotten after -t (a forger's
# data with guessed ACKs does not keep it); ICMPv4 errors answering the
# SYN failing the client's connect at once; path MTU discovery both ways
# (Packet Too Big and "fragmentation needed" in each peer's numbers); what
# the rules deny, ports other relays serve, and a router that does not
# forward IPv4 left to the sockets as before; a refused and an unanswered
# connection;
# the idle timeout resetting both peers; a rule reloaded with SIGHUP; no
# port range free of the router's own connections (the program stands
# aside, saying how to reserve one); nothing left in the map.
. "$(dirname "$0")/lib.sh"
need_root
E2E=$(dirname "$0")

expect 2 "--translate-after takes a number or 'syn'" "$FAITHD" --translate-after SYN all
said "--translate-after: 'SYN' is not a number" "... and says so"

# The relay tests, in this process's count (a router that forwards IPv4:
# the program asks the FIB for the way to the server).
[ -n "${NOSUITES:-}" ] || ROUTER_FORWARDS_V4=1 relay_suites syn --translate-after syn

topo_up
ROUTER_FORWARDS_V4=1 server_up
faith_up 64:ff9b::/96 || { notok "faithd: set up faith"; finish; exit 1; }
bytes_serve 7001 7002
nsenter --net="/run/netns/$NS_S" python3 "$E2E/rst.py" serve 192.0.2.2 7020 "$TMP/rst.log" \
	>"$TMP/rst.out" 2>&1 &
PIDS+=("$!")
wait_for "$TMP/rst.out" '^ready' || sed 's/^/#   /' "$TMP/rst.out"
cat >"$TMP/faithd.conf" <<CONF
2001:db8:1::/64 deny 192.0.2.3/32
2001:db8:1::/64 permit 192.0.2.0/24
2001:db8:1::/64 permit 198.51.100.0/24
2001:db8:1::/64 permit 203.0.113.0/24
CONF
chmod 755 "$TMP"

# Lines of the master (the program's connections), of the worker.
master_said() { wait_for "$FAITHD_LOG" "^faithd\[$FAITHD_PID\]: info: .*$1" "${2:-50}"; }
worker_said() { wait_for "$FAITHD_LOG" "^faithd\[$(faithd_workers | head -1)\]: info: .*$1" "${2:-50}"; }
# The counts faithd logs when it stops.
summary() { grep -o "translated from the SYN: .*" "$FAITHD_LOG" | tail -1; }

start_faithd -f "$TMP/faithd.conf" -w 1 -i 3 -t 2 --translate-after syn 7001 7002 7003 7009 7020 7021 7022
check "faithd says it translates from the SYN, from ports 1024-32767 (below the router's own)" \
	grep -q "translate: from the SYN, for what faithd would relay; from ports 1024-32767" \
	"$FAITHD_LOG"

M8=$((8 << 20))
check "8 MiB each way through the program: byte-exact" \
	C "$BYTES" send 64:ff9b::c000:202 7001 $M8 $M8 --timeout 20
check "... logged by the master as faithd logs a relayed connection" \
	master_said "\[2001:db8:1::2\]:[0-9]+ -> \[64:ff9b::c000:202\]:7001 -> 192\.0\.2\.2:7001: closed; 8388632 bytes to server, 8388609 to client, [0-9.]+ s"
check_fail "... and no worker saw it" grep -q "^faithd\[$(faithd_workers | head -1)\]: .*7001" "$FAITHD_LOG"
check "... and the program's map is empty again" test "$(flows_count)" = 0

# A server behind a gateway: 203.0.113.2 (on the server's loopback) via
# 192.0.2.2, which answers ARP only for its own link's address.  The
# program hands the redirect the next hop the FIB names: the gateway's
# address, not the destination's (which no one would answer for).
S sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.eth0.arp_ignore=1
S ip addr add 203.0.113.2/32 dev lo
ip -n "$NS_R" route add 203.0.113.0/24 via 192.0.2.2
nsenter --net="/run/netns/$NS_S" "$BYTES" serve 203.0.113.2 7003 >"$TMP/gw.out" 2>&1 &
PIDS+=("$!")
wait_for "$TMP/gw.out" '^ready' || sed 's/^/#   /' "$TMP/gw.out"
check "a server behind a gateway: 1 MiB each way through the program, byte-exact" \
	C "$BYTES" send 64:ff9b::cb00:7102 7003 $((1 << 20)) $((1 << 20)) --timeout 10
check "... carried by the program (logged by the master)" \
	master_said "-> 203\.0\.113\.2:7003: closed; 1048600 bytes to server, 1048577 to client"

# The server's first data segment lost on the way to the router, and its
# first retransmission (which would come ahead of the FIN): the rest and
# the FIN reach the program (and the client) ahead of the second.  Once
# that and both FINs are acknowledged, the program ends the connection
# itself, at once (the sweep would take a lingering one only after 2 s of
# quiet).  Lost after the server's stack sent them (a drop there would
# make TCP send again at once): taken at the link's egress hook to a veth
# whose peer is down.  One segment a packet (no GSO) on that link.
gso_segs=$(S ip -d link show eth0 | grep -o 'gso_max_segs [0-9]*' | awk '{ print $2 }')
S ip link set dev eth0 gso_max_segs 1
S ip link add lossa type veth peer name lossb
S ip link set dev lossa up
S nft -f - <<'NFT'
table netdev faith_e2e_loss {
	chain out {
		type filter hook egress device "eth0" priority 0;
		tcp sport 7001 meta length > 100 numgen inc mod 1000000 { 0, 6 } counter fwd to "lossa"
	}
}
NFT
map_emptied_within() {	# TENTHS
	local i
	for i in $(seq "$1"); do
		[ "$(flows_count)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}
check "a server segment lost, its FIN ahead of the retransmission: 8000 bytes byte-exact" \
	C "$BYTES" send 64:ff9b::c000:202 7001 0 8000 --timeout 10
check "... the segment and its first retransmission were lost" \
	S sh -c "nft list table netdev faith_e2e_loss | grep -q 'counter packets 2 '"
check "... and the program ended the connection within 1 s (not the sweep's linger)" \
	map_emptied_within 10
check "... logged as closed" \
	master_said "7001: closed; 24 bytes to server, 8001 to client"
S nft delete table netdev faith_e2e_loss
S ip link del lossa
S ip link set dev eth0 gso_max_segs "${gso_segs:-65535}"

# A connection held open: the server's view of it.
mkfifo "$TMP/hold.in"
nsenter --net="/run/netns/$NS_C" "$BYTES" hold 64:ff9b::c000:202 7002 1 --timeout 30 \
	<"$TMP/hold.in" >"$TMP/hold.out" 2>&1 &
HOLD=$!
PIDS+=("$HOLD")
exec 7>"$TMP/hold.in"
wait_for "$TMP/hold.out" '^held 1' 50
cport=$(C ss -tnH state established '( dport = :7002 )' | awk '{ print $3 }' | sed 's/.*://')
sport=$(S ss -tnH state established '( sport = :7002 )' | awk '{ print $4 }' | sed 's/.*://')
check "the server sees a port of faithd's range ($sport; the client's is $cport)" \
	test -n "$sport" -a -n "$cport" -a "${sport:-0}" -ge 1024 -a "${sport:-0}" -le 32767
check "... no socket of the router holds the connection" \
	test -z "$(R ss -tnH state established '( dport = :7002 or sport = :7002 )')"
check "idle timeout (-i 3): the connection is forgotten and logged" \
	master_said "7002: idle timeout; 24 bytes to server, 1 to client" 80
exec 7>&-
wait "$HOLD"
check "... and the client saw it reset" grep -q "1 dropped while held" "$TMP/hold.out"
check "... and the server's socket is gone too (reset)" \
	test -z "$(S ss -tnH state established '( sport = :7002 )')"

# Sequence numbers: the server's are moved for the client as the
# client's are for the server (else a forger of the server's FIN or reset
# would know the client's ACK that matches it).
S python3 "$E2E/seqs.py" serve 192.0.2.2 7003 >"$TMP/seqs.s" 2>&1 &
SEQS=$!
PIDS+=("$SEQS")
wait_for "$TMP/seqs.s" '^ready'
C python3 "$E2E/seqs.py" client 64:ff9b::c000:202 7003 >"$TMP/seqs.c" 2>&1
rc=$?
wait "$SEQS"
read -r _ csnd _ crcv < <(grep '^snd' "$TMP/seqs.c")
read -r _ ssnd _ srcv < <(grep '^snd' "$TMP/seqs.s")
check "the client's sequence numbers are moved for the server ($csnd -> ${srcv:-?}; exit $rc)" \
	test "$rc" = 0 -a -n "$csnd" -a -n "$srcv" -a "${csnd:-0}" != "${srcv:-0}"
check "... and the server's for the client (${ssnd:-?} -> $crcv, 1 byte later)" \
	test -n "$ssnd" -a -n "$crcv" -a "${crcv:-0}" != "$(( (${ssnd:-0} + 1) & 0xffffffff ))"

# A client that never acknowledges the server's SYN-ACK, as a forged
# source would not: here its SYN-ACKs are dropped on the way in.
C ip addr add 2001:db8:1::99/64 dev eth0 nodad
C nft -f - <<'NFT'
table inet faith_e2e_half {
	chain in {
		type filter hook input priority 0;
		ip6 daddr 2001:db8:1::99 tcp sport 7001 drop
	}
}
NFT
C "$BYTES" probe 64:ff9b::c000:202 7001 --bind 2001:db8:1::99 --timeout 4 >/dev/null 2>&1
check "a client that never acknowledges the SYN-ACK: forgotten after -t 2, logged" \
	master_said "2001:db8:1::99\]:[0-9]+ .*7001: the client did not complete the handshake" 60
# A forger (which knows its own numbers, not the server's) sending data
# with guessed acknowledgments does not keep its half-open connection.
C python3 "$E2E/forge.py" 2001:db8:1::99 64:ff9b::c000:202 7001 8 >"$TMP/forge.out" 2>&1 &
FORGE=$!
PIDS+=("$FORGE")
wait_for "$TMP/forge.out" '^[0-9]+$'
fport=$(head -1 "$TMP/forge.out")
check "a forged source sending data with guessed ACKs: still forgotten after -t (port $fport)" \
	master_said "2001:db8:1::99\]:$fport .*7001: the client did not complete the handshake" 50
check "... while it was still sending" kill -0 "$FORGE"
wait "$FORGE"
C nft delete table inet faith_e2e_half
C ip addr del 2001:db8:1::99/64 dev eth0

C "$BYTES" send 64:ff9b::c000:203 7001 10 10 --timeout 5 >/dev/null 2>&1
check "a destination a rule denies goes to faithd's sockets, whose worker refuses it" \
	worker_said "c000:203\]:7001: refused: denied by"

C "$BYTES" send 64:ff9b::c000:202 7009 10 10 --timeout 5 >/dev/null 2>&1
rc=$?
check "a port the server refuses: the client is refused (exit $rc)" test "$rc" = 3
check "... logged by the master" master_said "7009: upstream connect failed: Connection refused"
t0=$(date +%s%N)
C "$BYTES" send 64:ff9b::c633:6402 7001 10 10 --timeout 15 >/dev/null 2>&1
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "an unanswered SYN (a black hole): the client is reset after -t 2 ($rc in $ms ms)" \
	test "$rc" = 3 -a "$ms" -lt 8000
check "... logged by the master" master_said "198\.51\.100\.2:7001: upstream connect timed out"

# ICMPv4 errors answering the SYN reach the client as ICMPv6 ones (RFC
# 7915: host unreachable is "no route"), and the connection is forgotten:
# what a router's firewall sends for the server.  (The client's stack
# takes the first only as a soft error: here it comes back while connect()
# still holds the socket; the SYN sent again after 1 s gets the one that
# ends it.)
S ip addr add 198.51.100.7/32 dev lo
S nft -f - <<'NFT'
table inet faith_e2e_unreach {
	chain in {
		type filter hook input priority 0;
		ip daddr 198.51.100.7 tcp dport 7001 reject with icmp type host-unreachable
		ip daddr 198.51.100.7 tcp dport 7002 reject with icmp type admin-prohibited
		ip daddr 198.51.100.7 tcp dport 7003 reject with icmp type port-unreachable
	}
}
NFT
unreach() {	# PORT CLIENT-ERROR LOGGED-ERROR WHAT
	local out t0 ms
	t0=$(date +%s%N)
	out=$(C "$BYTES" send 64:ff9b::c633:6407 "$1" 10 10 --timeout 10 2>&1)
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	check "ICMPv4 ${4}: the client's connect fails with '$2' in $ms ms" \
		test -n "$(grep -F "$2" <<<"$out")" -a "$ms" -lt 2000
	check "... logged by the master" master_said "198\.51\.100\.7:$1: upstream connect failed: $3"
}
unreach 7001 "Network is unreachable" "No route to host" "host unreachable"
unreach 7002 "Permission denied" "No route to host" "administratively prohibited"
unreach 7003 "refused" "Connection refused" "port unreachable"
S nft delete table inet faith_e2e_unreach
S ip addr del 198.51.100.7/32 dev lo

# Resets both ways, through the program.
check "the server resets: the client sees it" \
	C python3 "$E2E/rst.py" client 64:ff9b::c000:202 7020 server-resets
check "... logged by the master" master_said "7020: reset by server"
check "the client resets: the server sees it" \
	C python3 "$E2E/rst.py" client 64:ff9b::c000:202 7020 client-resets
check "... (the server's log)" wait_for "$TMP/rst.log" '^reset seen'
check "... logged by the master" master_said "7020: reset by client"

# Path MTU discovery through the program, both ways (the ICMP quotes the
# segments in each peer's own numbers).  A client two hops away (C2,
# behind the client namespace, which forwards) downloads; its last link
# narrows to 1300 bytes: C sends the faith address ICMPv6 Packet Too Big,
# the program makes it the ICMPv4 "fragmentation needed" the server
# expects about its own segments, and the server sends smaller ones.
NS_C2=$ID-c2
NS_S2=$ID-s2
trap 'ip netns del "$NS_C2" 2>/dev/null; ip netns del "$NS_S2" 2>/dev/null; cleanup' EXIT
C2() { nsenter --net="/run/netns/$NS_C2" "$@"; }
S2() { nsenter --net="/run/netns/$NS_S2" "$@"; }
ip netns add "$NS_C2" &&
ip link add eth1 netns "$NS_C" type veth peer name eth0 netns "$NS_C2" &&
C sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.conf.eth1.accept_dad=0 &&
C2 sysctl -qw net.ipv6.conf.eth0.accept_dad=0 &&
C ip addr add 2001:db8:3::1/64 dev eth1 nodad &&
C2 ip addr add 2001:db8:3::2/64 dev eth0 nodad &&
C ip link set eth1 up && C2 ip link set eth0 up && C2 ip link set lo up &&
C2 ip route add default via 2001:db8:3::1 &&
R ip -6 route add 2001:db8:3::/64 via 2001:db8:1::2 ||
	notok "set up a client two hops away"
printf '2001:db8:3::/64 permit 192.0.2.0/24\n' >>"$TMP/faithd.conf"
kill -HUP "$FAITHD_PID"
S python3 "$E2E/xlate.py" serve 192.0.2.2 7022 "$TMP/xlate.log" >"$TMP/xlate.out" 2>&1 &
PIDS+=("$!")
wait_for "$TMP/xlate.out" '^ready' || sed 's/^/#   /' "$TMP/xlate.out"
ptb_out() { C awk '$1 == "Icmp6OutPktTooBigs" { print $2 }' /proc/net/snmp6; }
ptb0=$(ptb_out)
sleep 0.5
# mtu_drop SIDE OUT NARROW CLIENT...: run the client (its output in OUT);
# 0.5 s in, the namespace of NARROW (C or S) narrows its eth1 to 1300.
mtu_drop() {
	local side=$1 out=$2 narrow=$3 cl
	shift 3
	"$@" >"$out" 2>&1 &
	cl=$!
	PIDS+=("$cl")
	sleep 0.5
	"$narrow" ip link set dev eth1 mtu 1300
	if wait "$cl"; then
		ok "a path MTU drop on the $side's side: all 16 MiB arrive, in order"
	else
		notok "a path MTU drop on the $side's side"; sed 's/^/#   /' "$out"
	fi
}
mtu_drop client "$TMP/ptb.out" C \
	C2 python3 "$E2E/xlate.py" client 64:ff9b::c000:202 7022 D $((8 << 20)) 1
check "... carried by the program (logged by the master)" master_said "\[2001:db8:3::2\]:[0-9]+ .*7022: closed"
check "... the client's router sent Packet Too Big ($(( $(ptb_out) - ptb0 )))" test "$(ptb_out)" -gt "$ptb0"
check "... and the server learned the IPv4 path MTU from it: 1280" \
	sh -c "nsenter --net=/run/netns/$NS_S ip -4 route get 192.0.2.1 | grep -q 'mtu 1280'"

# The other way: a server two hops away (S2, 198.51.100.2, behind the
# server namespace, which now forwards) gets an upload; its last link
# narrows to 1300: S sends the router ICMPv4 "fragmentation needed", the
# program makes it the ICMPv6 Packet Too Big the client expects about its
# own segments, and the client sends smaller ones.
ip netns add "$NS_S2" &&
ip link add eth1 netns "$NS_S" type veth peer name eth0 netns "$NS_S2" &&
S sysctl -qw net.ipv4.ip_forward=1 &&
S ip addr add 198.51.100.1/24 dev eth1 &&
S2 ip addr add 198.51.100.2/24 dev eth0 &&
S ip link set eth1 up && S2 ip link set eth0 up && S2 ip link set lo up &&
S2 ip route add default via 198.51.100.1 ||
	notok "set up a server two hops away"
S2 python3 "$E2E/xlate.py" serve 198.51.100.2 7021 "$TMP/xlate2.log" >"$TMP/xlate2.out" 2>&1 &
PIDS+=("$!")
wait_for "$TMP/xlate2.out" '^ready' || sed 's/^/#   /' "$TMP/xlate2.out"
frag_out() { S awk '/^Icmp:/ { if (!n) { for (i = 1; i <= NF; i++) f[$i] = i; n = 1 } else print $f["OutDestUnreachs"] }' /proc/net/snmp; }
frag0=$(frag_out)
mtu_drop server "$TMP/frag.out" S \
	C python3 "$E2E/xlate.py" client 64:ff9b::c633:6402 7021 U $((8 << 20)) 1
check "... carried by the program (logged by the master)" master_said "198\.51\.100\.2:7021: closed"
check "... the server's router sent fragmentation needed ($(( $(frag_out) - frag0 )))" \
	test "$(frag_out)" -gt "$frag0"
check "... and the client learned the IPv6 path MTU from it: 1320" \
	sh -c "nsenter --net=/run/netns/$NS_C ip -6 route get 64:ff9b::c633:6402 | grep -q 'mtu 1320'"

# SIGHUP: a rule denies 192.0.2.2 now.
printf '2001:db8:1::/64 deny 192.0.2.2/32\n' >"$TMP/faithd.conf"
kill -HUP "$FAITHD_PID"
sleep 0.5
C "$BYTES" send 64:ff9b::c000:202 7001 10 10 --timeout 5 >/dev/null 2>&1
check "SIGHUP: the rules reloaded, the program leaves the now denied destination to faithd" \
	worker_said "c000:202\]:7001: refused: denied by"
printf '2001:db8:1::/64 permit 192.0.2.0/24\n' >"$TMP/faithd.conf"
kill -HUP "$FAITHD_PID"
sleep 0.5

# A router that does not forward IPv4: the FIB gives no way, the sockets
# take the connection.
R sysctl -qw net.ipv4.conf.all.forwarding=0
check "a router that does not forward IPv4: 1 MiB each way, byte-exact" \
	C "$BYTES" send 64:ff9b::c000:202 7001 $((1 << 20)) $((1 << 20)) --timeout 20
check "... relayed by the worker" worker_said "192\.0\.2\.2:7001: closed; 1048600 bytes"
R sysctl -qw net.ipv4.conf.all.forwarding=1
check "the map is empty at the end" test "$(flows_count)" = 0
stop_faithd
check "faithd stops cleanly" test "$FAITHD_RC" = 0
# Forgotten by faithd: the idle one, the black hole, the unacknowledged
# SYN-ACKs (the probe's SYN sent again after the first was forgotten
# opens another).
n=$(( 2 + $(grep -c "did not complete the handshake" "$FAITHD_LOG") ))
u=$(grep -cE "198\.51\.100\.7:700[123]: upstream connect failed" "$FAITHD_LOG")
check "... and logs what the program did" \
	grep -qE "translated from the SYN: [0-9]+ opened, [0-9]+ established, 1 refused by the server, $u unreachable, [0-9]+ closed, [0-9]+ reset, $n timed out; [1-9][0-9]* left to the sockets" "$FAITHD_LOG"

# Another relay serves 7002: faithd ('all') leaves it to that relay.
start_relay --port 7002 --tag other
start_faithd -f "$TMP/faithd.conf" -w 1 --translate-after syn all
check "a port another relay registered goes to that relay, not the program" \
	eval 'connect 64:ff9b::c000:202 7002 | grep -q "^DST \[64:ff9b::c000:202\]:7002 other"' 
check "... and other ports to the program" \
	C "$BYTES" send 64:ff9b::c000:202 7001 1000 1000 --timeout 5
stop_faithd
stop_pid "$RELAY_PID"

# No ports the router's own connections leave free: the program stands aside.
R sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
start_faithd -f "$TMP/faithd.conf" -w 1 --translate-after syn all
check "no free port range: faithd says how to reserve one, and hands off as before" \
	grep -q "warning: --translate-after syn: the router's own connections may take any port (net.ipv4.ip_local_port_range 1024.65535): reserve some for faithd, e.g. sysctl -w net.ipv4.ip_local_reserved_ports=32768-65535; connections are handed off after 1048576 bytes" "$FAITHD_LOG"
check "... and relays through the sockets: byte-exact" \
	C "$BYTES" send 64:ff9b::c000:202 7001 1000 1000 --timeout 5
check "... logged by the worker" worker_said "192\.0\.2\.2:7001: closed; 1024 bytes"
stop_faithd
R sysctl -qw net.ipv4.ip_local_reserved_ports=40000-59999
start_faithd -f "$TMP/faithd.conf" -w 1 --translate-after syn all
check "... with ports reserved (ip_local_reserved_ports), the program takes them" \
	grep -q "from ports 40000-59999" "$FAITHD_LOG"
stop_faithd

# -m: the program counts its connections with faithd's workers, and counts
# them out however they end: closed, or forgotten by faithd's sweep.
start_faithd -f "$TMP/faithd.conf" -w 1 -m 2 -i 2 --translate-after syn all
hold_2() {
	rm -f "$TMP/m.in"; mkfifo "$TMP/m.in"
	C "$BYTES" hold 64:ff9b::c000:202 7001 2 --timeout 30 <"$TMP/m.in" >"$TMP/m.out" 2>&1 &
	MHOLD=$!
	PIDS+=("$MHOLD")
	exec 8>"$TMP/m.in"
	wait_for "$TMP/m.out" '^held 2' 50
}
hold_2
check "-m 2: two connections held, carried by the program" test "$(flows_count)" = 4
expect 3 "-m 2: the third is refused" C "$BYTES" probe 64:ff9b::c000:202 7001 --timeout 5
check "... by a worker (the program left it to the sockets), logged" \
	worker_said "7001: refused: too many connections$"
exec 8>&-
wait "$MHOLD"
for _ in $(seq 30); do [ "$(flows_count)" = 0 ] && break; sleep 0.1; done
hold_2
check "-m 2: once they closed, two more through the program" test "$(flows_count)" = 4
check "... forgotten by the idle timeout (-i 2)" \
	master_said "7001: idle timeout; 24 bytes to server, 1 to client" 60
for _ in $(seq 50); do [ "$(flows_count)" = 0 ] && break; sleep 0.1; done
exec 8>&-
wait "$MHOLD"
hold_2
check "-m 2: after that, two more through the program" test "$(flows_count)" = 4
exec 8>&-
wait "$MHOLD"
stop_faithd
# -M: per client address, the same way (the counts in the program's map,
# which faithd's workers change through a syscall program).
start_faithd -f "$TMP/faithd.conf" -w 1 -M 2 -i 2 --translate-after syn all
hold_2
check "-M 2: two connections from one address held, carried by the program" \
	test "$(flows_count)" = 4
expect 3 "-M 2: a third from that address is refused" \
	C "$BYTES" probe 64:ff9b::c000:202 7001 --timeout 5
check "... by a worker, logged" worker_said "7001: refused: too many connections from this source"
C ip addr add 2001:db8:1::98/64 dev eth0 nodad
check "... one from another address goes through the program" \
	C "$BYTES" send 64:ff9b::c000:202 7001 1000 1000 --bind 2001:db8:1::98 --timeout 5
check "... logged by the master" master_said "\[2001:db8:1::98\]:[0-9]+ .*7001: closed"
check "... forgotten by the idle timeout (-i 2), the two are counted out" \
	master_said "7001: idle timeout; 24 bytes to server, 1 to client" 60
for _ in $(seq 50); do [ "$(flows_count)" = 0 ] && break; sleep 0.1; done
exec 8>&-
wait "$MHOLD"
hold_2
check "-M 2: after that, two more from that address through the program" \
	test "$(flows_count)" = 4
exec 8>&-
wait "$MHOLD"
C ip addr del 2001:db8:1::98/64 dev eth0
stop_faithd
finish

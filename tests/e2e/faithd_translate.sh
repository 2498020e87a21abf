#!/bin/bash
# faithd --datapath translate (and auto: translate, else splice): the relay
# tests of faithd.sh and faithd_load.sh with connections handed off after
# 64 KiB; auto's fall-back to splice where the program cannot load; then
# connections that go on
# after the hand-off: 50 MB each way with exact byte counts and the router's
# sockets bypassed, half-close, resets both ways, the idle timeout, clients
# without window scaling and SACK, a client without timestamps (not handed
# off), nothing left in the program's map, and no program left after
# SIGKILL.
. "$(dirname "$0")/lib.sh"
need_root
E2E=$(dirname "$0")
ARGS=(--datapath auto --translate-after 65536)

expect 2 "--datapath with a bad value is a usage error" "$FAITHD" --datapath pipes all
said "--datapath: 'pipes': 'splice', 'sockmap', 'translate' or 'auto'" "... saying what it takes"
expect 2 "--translate-after takes a number" "$FAITHD" --translate-after lots all
said "--translate-after: 'lots' is not a number" "... and says so"

# The relay tests, in this process's count.
relay_suites translate "${ARGS[@]}"

topo_up
server_up
faith_up 64:ff9b::/96 || { notok "faithd: set up faith"; finish; exit 1; }
printf '%s permit %s\n' 2001:db8:1::/64 192.0.2.0/24 2001:db8:3::/64 192.0.2.0/24 \
	2001:db8:4::/64 192.0.2.0/24 2001:db8:1::/64 198.51.100.0/24 >"$TMP/faithd.conf"
chmod 755 "$TMP"
bytes_serve 7001
nsenter --net="/run/netns/$NS_S" python3 "$E2E/xlate.py" serve 192.0.2.2 7020 "$TMP/xlate.log" \
	>"$TMP/xlate.out" 2>&1 &
PIDS+=("$!")
wait_for "$TMP/xlate.out" '^ready' || sed 's/^/#   /' "$TMP/xlate.out"

# fallback WHAT CAPS ERROR: faithd without the capabilities CAPS (capsh
# --drop): --datapath translate does not start and says ERROR (a regex);
# --datapath auto says the same as a warning, relays with splice (4 MiB each
# way, byte-exact, no hand-off), holds no program and no capability.
fallback() {
	local what=$1 caps=$2 error=$3 log=$TMP/fallback.$1.log pid
	# nsenter, capsh and bash -c each exec the next: $! is faithd.
	local wrap=(nsenter --net="/run/netns/$NS_R" capsh --drop="$caps" --)
	expect 1 "--datapath translate without $what: faithd does not start" \
		"${wrap[@]}" -c "exec $FAITHD -F --datapath translate -f $TMP/faithd.conf -w 1 all"
	said "error: --datapath translate: $error.*; use --datapath splice" "... and says why"
	"${wrap[@]}" -c "exec $FAITHD -F -d --datapath auto -f $TMP/faithd.conf -w 1 all" >"$log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	check "--datapath auto without $what: faithd starts, relaying with splice" \
		wait_for "$log" "info: ready: .*datapath splice" 150
	check "... and says why, once" \
		test "$(grep -cE "warning: --datapath auto: translate unavailable: $error.*; relaying with splice" "$log")" = 1
	check "... no program left attached: no tcx link" \
		test "$(grep -lP '^link_type:\ttcx$' /proc/"$pid"/fdinfo/* 2>/dev/null | wc -l)" = 0
	check "... its worker holds no capability" \
		grep -q "^CapEff:[[:space:]]*0000000000000000$" "/proc/$(pgrep -P "$pid" | head -1)/status"
	check "... 4 MiB each way, byte-exact" \
		C "$BYTES" send 64:ff9b::c000:202 7001 $((4 << 20)) $((4 << 20)) --timeout 20
	check "... not handed off" wait_for "$log" "closed; 4194328 bytes to server, 4194305 to client"
	check_fail "... (no hand-off in the log)" grep -q "handed off" "$log"
	kill -TERM "$pid"
	check "... and it stops cleanly" wait "$pid"
}
if command -v capsh >/dev/null; then
	# CAP_SYS_ADMIN stands in for CAP_BPF: without both, no program loads.
	fallback CAP_BPF cap_bpf,cap_sys_admin,cap_perfmon \
		"loading its BPF program failed: .*\(it needs CAP_BPF and CAP_NET_ADMIN\)"
	# The program loads (CAP_SYS_ADMIN will do) but the workers could not
	# freeze sockets: found after dropping privileges.
	fallback CAP_NET_ADMIN cap_net_admin \
		"as user 'nobody', freezing a socket \(TCP_REPAIR\) fails"
else
	echo "skip - the fall-back to splice: capsh is not installed"
fi

start_faithd -f "$TMP/faithd.conf" -w 1 -i 3 "${ARGS[@]}" all
check "the log says where the program runs" grep -q "translate: on eth0, eth1" "$FAITHD_LOG"
check "workers run as nobody, datapath translate (--datapath auto)" \
	grep -q "running as nobody, datapath translate" "$FAITHD_LOG"
check "... the worker holds CAP_NET_ADMIN alone (for TCP_REPAIR)" \
	grep -q "^CapEff:[[:space:]]*0000000000001000$" "/proc/$(faithd_workers | head -1)/status"

# The ids of this faithd master's BPF programs, and of its map named NAME
# (other faithds may run on this machine: never look by name alone).
faithd_progs() { cat /proc/"$FAITHD_PID"/fdinfo/* 2>/dev/null | awk '/^prog_id:/ { print $2 }' | sort -u; }
faithd_map_named() {
	local id
	for id in $(cat /proc/"$FAITHD_PID"/fdinfo/* 2>/dev/null | awk '/^map_id:/ { print $2 }' | sort -u); do
		bpftool map show id "$id" 2>/dev/null | grep -q "name $1 " && { echo "$id"; return; }
	done
}
nconns_0() { bpftool map dump id "$(faithd_map_named faithd_x.bss)" | grep -q '"nconns": 0'; }
handoffs() { grep -c "handed off after" "$FAITHD_LOG"; }
strays() { grep -c "7020: segments the translation cannot carry" "$FAITHD_LOG"; }
# goes_on PID OUT WHAT TO_SERVER TO_CLIENT: the P client PID (its output
# in OUT) finished its second exchange, then the client's FIN, logged as
# 'closed' with these byte counts.
goes_on() {
	if wait "$1"; then
		ok "$3: the connection goes on"
	else
		notok "$3: the connection goes on"; sed 's/^/#   /' "$2"
	fi
	check "... and ends with the client's FIN" wait_for "$TMP/xlate.log" '^twice: eof seen'
	check "... logged as 'closed'" wait_for "$FAITHD_LOG" \
		"192\.0\.2\.2:7020: closed; $4 bytes to server, $5 to client"
}
# The router's port of the upstream connection to the 7020 server.
upstream_port() { S ss -tnH state established '( sport = :7020 )' | awk '{ print $4 }' | sed 's/.*://' | head -1; }

M50=$((50 << 20))
check "50 MB each way, handed off on the way: byte-exact" \
	C "$BYTES" send 64:ff9b::c000:202 7001 $M50 $M50 --timeout 60
check "... handed off (the log says after how many bytes)" \
	grep -qE "debug: fd [0-9]+: handed off after [0-9]+ \+ [0-9]+ bytes" "$FAITHD_LOG"
check "... the log line counts every byte once: 52428824 to server, 52428801 to client" \
	wait_for "$FAITHD_LOG" "-> 192\.0\.2\.2:7001: closed; 52428824 bytes to server, 52428801 to client"
check "... and the program's map is empty again" test "$(flows_count)" = 0

# A router that forwards both families: the FIB names the way out of each
# translated segment (without forwarding the program falls back to the
# interface the other peer's segments come in on, as above).  A stall here
# would take tens of seconds: 50 MB each way normally take one.
R sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1
n=$(handoffs)
check "a forwarding router: 50 MB each way, byte-exact, within 20 s" \
	C "$BYTES" send 64:ff9b::c000:202 7001 $M50 $M50 --timeout 20
check "... handed off" test "$(handoffs)" -gt "$n"
R sysctl -qw net.ipv4.conf.all.forwarding=0 net.ipv6.conf.all.forwarding=0
# Its entries go a second after both FINs.
for _ in $(seq 50); do [ "$(flows_count)" = 0 ] && break; sleep 0.1; done

# 32 MiB each way, then idle: the router's sockets of the connection saw
# only the bytes before the hand-off.
C python3 "$E2E/xlate.py" client 64:ff9b::c000:202 7020 W $((32 << 20)) 1.5 >"$TMP/idle.out" 2>&1 &
cl=$!
PIDS+=("$cl")
sleep 1
# Both of the router's sockets of the connection (to the server, port
# 7020, and to the client, from port 7020): the bytes they received.
rx=$(R ss -tinH state established '( dport = :7020 or sport = :7020 )' |
	grep -o 'bytes_received:[0-9]*' | awk -F: '{ n += $2 } END { print n + 0 }')
if [ "$(R ss -tnH state established '( dport = :7020 or sport = :7020 )' | wc -l)" = 2 ] &&
   [ "$rx" -lt $((8 << 20)) ]; then
	ok "the router's two sockets received $rx bytes of the 64 MiB exchanged: the rest bypassed them"
else
	notok "the router's sockets received $rx bytes of 64 MiB"
	R ss -tinH | sed 's/^/#   /'
fi
check "... the program's map holds its two directions meanwhile" test "$(flows_count)" = 2
wait "$cl"
check "... and the client's reset after it reached the server" wait_for "$TMP/xlate.log" '^reset seen'
check "... logged as 'reset by client'" wait_for "$FAITHD_LOG" "192\.0\.2\.2:7020: reset by client"

n=$(handoffs)
check "half-close after the hand-off: the client's FIN, then 4 MiB back" \
	C python3 "$E2E/xlate.py" client 64:ff9b::c000:202 7020 H $((4 << 20))
check "... it was handed off" test "$(handoffs)" -gt "$n"
check "... logged as 'closed'" wait_for "$FAITHD_LOG" "192\.0\.2\.2:7020: closed; 4194313 bytes to server, 4194304 to client"

n=$(handoffs)
check "the server resets after the hand-off: the IPv6 client gets a reset" \
	C python3 "$E2E/xlate.py" client 64:ff9b::c000:202 7020 R $((2 << 20))
check "... it was handed off" test "$(handoffs)" -gt "$n"
check "... logged as 'reset by server'" wait_for "$FAITHD_LOG" "192\.0\.2\.2:7020: reset by server"

# A blind attacker who knows the ports: 200 resets with random sequence
# numbers from each side while the handed-off connection is idle, then 50
# times a byte of data and a reset right after it, twice 2^31 apart.  The
# peers refuse them (RFC 5961) and so does faithd: the connection goes on.
: >"$TMP/xlate.log"
# A namespace's count of TCP segments received (/proc/net/snmp InSegs).
insegs() { "$1" awk '/^Tcp:/ { if (!n) { for (i = 1; i <= NF; i++) f[$i] = i; n = 1 } else print $f["InSegs"] }' /proc/net/snmp; }
C python3 "$E2E/xlate.py" client 64:ff9b::c000:202 7020 P $((3 << 20)) 2 >"$TMP/twice.out" 2>&1 &
cl=$!
PIDS+=("$cl")
sleep 1
cport=$(C ss -tnH state established '( dport = :7020 )' | awk '{ print $3 }' | sed 's/.*\]://' | head -1)
uport=$(upstream_port)
if [ -n "$cport" ] && [ -n "$uport" ]; then
	in_c=$(insegs C) in_s=$(insegs S)
	C python3 "$E2E/xlate.py" spoof-rst 2001:db8:1::2 64:ff9b::c000:202 7020 "$cport" 200 >/dev/null
	S python3 "$E2E/xlate.py" spoof-rst 192.0.2.2 192.0.2.1 "$uport" 7020 200 >/dev/null
	sleep 0.2
	in_c=$(( $(insegs C) - in_c )) in_s=$(( $(insegs S) - in_s ))
	if [ "$in_c" -ge 200 ] && [ "$in_s" -ge 200 ]; then
		ok "200 blind resets each way (client port $cport, router port $uport) reach the other peer, translated"
	else
		notok "blind resets translated to the other peer: $in_s segments at the server, $in_c at the client"
	fi
	# The review's attack on the program's bookkeeping: a byte and a
	# reset, twice, 2^31 apart, ended the connection every time.
	C python3 "$E2E/xlate.py" spoof-jump 2001:db8:1::2 64:ff9b::c000:202 7020 "$cport" 50 >/dev/null
	S python3 "$E2E/xlate.py" spoof-jump 192.0.2.2 192.0.2.1 "$uport" 7020 50 >/dev/null
else
	notok "blind resets: no connection found (client port '$cport', router port '$uport')"
fi
goes_on "$cl" "$TMP/twice.out" "... blind resets and jumps, then 3 MiB more each way" 6291465 6291456

# A blind attacker who knows the ports keeps sending ACKs with random
# numbers once the connection has ended (each draws the server's duplicate
# ACK): the connection is still logged as closed, a second after the FINs,
# while the forger goes on (faithd counts only segments that move the data
# or the ACK point as traffic).
: >"$TMP/xlate.log"
C python3 "$E2E/xlate.py" client 64:ff9b::c000:202 7020 P $((3 << 19)) 1 >"$TMP/keep.out" 2>&1 &
cl=$!
PIDS+=("$cl")
sleep 1
cport=$(C ss -tnH state established '( dport = :7020 )' | awk '{ print $3 }' | sed 's/.*\]://' | head -1)
wait "$cl"
C python3 "$E2E/xlate.py" spoof-ack 2001:db8:1::2 64:ff9b::c000:202 7020 "${cport:-1}" 8 >/dev/null &
forger=$!
PIDS+=("$forger")
check "random ACKs on the client's ports (port $cport) after the close: logged as 'closed' all the same" \
	wait_for "$FAITHD_LOG" "192\.0\.2\.2:7020: closed; 3145737 bytes to server, 3145728 to client" 60
check "... while the forger still sends" kill -0 "$forger"
kill "$forger" 2>/dev/null
wait "$forger" 2>/dev/null

# A blind attacker sprays segments with the client's ports and TSvals far
# ahead while the connection is handed off: a kept TSval of theirs would
# set the clocks so that the peers drop each other's segments (PAWS).  The
# kept one's segment is checked at the freeze: refused, or a real one.
n=$(handoffs)
if C python3 "$E2E/xlate.py" client 64:ff9b::c000:202 7020 T $((8 << 20)) 1 >"$TMP/spray.out" 2>&1; then
	ok "TSvals sprayed during the hand-off: 8 MiB each way come back byte-exact ($(grep -o 'sprayed [0-9]*' "$TMP/spray.out") segments)"
else
	notok "TSvals sprayed during the hand-off: 8 MiB each way"; sed 's/^/#   /' "$TMP/spray.out"
fi
if grep -q "not handed off: a timestamp's segment does not fit the connection (forged?)" "$FAITHD_LOG"; then
	ok "... the sprayed TSval was refused at the freeze (the log says so)"
elif [ "$(handoffs)" -gt "$n" ]; then
	ok "... handed off with a real TSval (the last kept was the client's)"
else
	notok "... neither refused nor handed off"; tail -5 "$FAITHD_LOG" | sed 's/^/#   /'
fi

# Segments the translation cannot carry: after the hand-off the server's
# come with IP options.  The program drops them and flags the connection;
# faithd ends it, with a reset to each peer instead of a stall.
: >"$TMP/xlate.log"
n=$(handoffs) k=$(strays)
check "IP options from the server after the hand-off: the client gets a reset, not a stall" \
	C python3 "$E2E/xlate.py" client 64:ff9b::c000:202 7020 O $((2 << 20))
check "... it was handed off" test "$(handoffs)" -gt "$n"
check "... logged as such" test "$(strays)" -gt "$k"
check "... and the server gets a reset too" wait_for "$TMP/xlate.log" '^reset seen'

# Segments that come another way than the program's interfaces (here a tun
# device: not Ethernet) reach the frozen socket, which drops them.  They do
# not end the connection: one blind forged segment would do the same.
: >"$TMP/xlate.log"
n=$(handoffs)
C python3 "$E2E/xlate.py" client 64:ff9b::c000:202 7020 P $((2 << 20)) 2 >"$TMP/tun.out" 2>&1 &
cl=$!
PIDS+=("$cl")
for _ in $(seq 50); do [ "$(handoffs)" -gt "$n" ] && break; sleep 0.1; done
sleep 0.4
uport=$(upstream_port)
if [ -n "$uport" ]; then
	R python3 "$E2E/xlate.py" tun-inject 192.0.2.2 192.0.2.1 "$uport" 7020 5 >/dev/null
else
	notok "segments another way: no connection found"
fi
goes_on "$cl" "$TMP/tun.out" "5 forged segments to the frozen socket another way (a tun device), then 2 MiB more each way" 4194313 4194304
check "... and the tun device is gone" sh -c "! ip -n $NS_R link show xltun0 2>/dev/null"

# -i 3: a handed-off connection idle for 3 s is ended; each peer's next
# segment gets a reset from the router.
: >"$TMP/xlate.log"
check "idle timeout after the hand-off: the client's next segment gets a reset" \
	C python3 "$E2E/xlate.py" client 64:ff9b::c000:202 7020 I $((2 << 20)) 5
check "... logged as 'idle timeout'" wait_for "$FAITHD_LOG" "192\.0\.2\.2:7020: idle timeout"
check "... and the server's next segment gets one too" wait_for "$TMP/xlate.log" '^idle end: reset seen' 100

# Window scaling and SACK off in the client: windows are rescaled between
# scale 0 and the relay's.
C sysctl -qw net.ipv4.tcp_window_scaling=0 net.ipv4.tcp_sack=0
n=$(handoffs)
check "client without window scaling or SACK: 20 MB each way byte-exact" \
	C "$BYTES" send 64:ff9b::c000:202 7001 $((20 << 20)) $((20 << 20)) --timeout 60
check "... handed off" test "$(handoffs)" -gt "$n"
C sysctl -qw net.ipv4.tcp_window_scaling=1 net.ipv4.tcp_sack=1

# A client on a smaller MTU (a tunnel, say): it announces a smaller MSS,
# the server is told the same, and each side's segments fit the other's.
C ip link set eth0 mtu 1400
n=$(handoffs)
check "client with MTU 1400: 20 MB each way byte-exact" \
	C "$BYTES" send 64:ff9b::c000:202 7001 $((20 << 20)) $((20 << 20)) --timeout 60
check "... handed off" test "$(handoffs)" -gt "$n"
C ip link set eth0 mtu 1500

# A client that asks for ECN: the router grants it (tcp_ecn=2) but does not
# ask the server, so ECN would be on one side only: not handed off.
C sysctl -qw net.ipv4.tcp_ecn=1
check "client with ECN: 20 MB each way byte-exact" \
	C "$BYTES" send 64:ff9b::c000:202 7001 $((20 << 20)) $((20 << 20)) --timeout 60
check "... by splice: not handed off, and the log says why" \
	grep -q "not handed off: one side uses ECN, the other does not" "$FAITHD_LOG"
C sysctl -qw net.ipv4.tcp_ecn=2

# A client without timestamps, a server with: not handed off (the server
# may drop segments without the option it negotiated), relayed by splice.
C sysctl -qw net.ipv4.tcp_timestamps=0
check "client without TCP timestamps: 20 MB each way byte-exact" \
	C "$BYTES" send 64:ff9b::c000:202 7001 $((20 << 20)) $((20 << 20)) --timeout 60
check "... by splice: not handed off, and the log says why" \
	grep -q "not handed off: one side uses TCP timestamps, the other does not" "$FAITHD_LOG"
# Neither peer with timestamps: handed off; the server's bare ACKs (40
# bytes of IPv4, padded to a 60-byte frame) keep their length.
S sysctl -qw net.ipv4.tcp_timestamps=0
n=$(handoffs)
check "neither peer with TCP timestamps: 20 MB each way byte-exact" \
	C "$BYTES" send 64:ff9b::c000:202 7001 $((20 << 20)) $((20 << 20)) --timeout 60
check "... handed off" test "$(handoffs)" -gt "$n"
S sysctl -qw net.ipv4.tcp_timestamps=1
C sysctl -qw net.ipv4.tcp_timestamps=1
sleep 1.5
check "the program's map is empty once every connection ended" test "$(flows_count)" = 0
check "... and its count of connections is 0: other traffic costs it one load" \
	nconns_0

# Path MTU discovery across the hand-off.  A client two hops away (C2,
# behind the client namespace, which forwards); once the connection is
# handed off, the last link narrows to 1300 bytes: C sends the faith
# address ICMPv6 Packet Too Big about the translated segments, the program
# makes it the ICMPv4 "fragmentation needed" the server expects about its
# own, and the server sends smaller segments.
NS_C2=$ID-c2
trap 'ip netns del "$NS_C2" 2>/dev/null; cleanup' EXIT
C2() { nsenter --net="/run/netns/$NS_C2" "$@"; }
ip netns add "$NS_C2" &&
ip link add eth1 netns "$NS_C" type veth peer name eth0 netns "$NS_C2" &&
C sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.conf.eth1.accept_dad=0 &&
C2 sysctl -qw net.ipv6.conf.eth0.accept_dad=0 &&
ip -n "$NS_C" addr add 2001:db8:3::1/64 dev eth1 nodad &&
ip -n "$NS_C2" addr add 2001:db8:3::2/64 dev eth0 nodad &&
ip -n "$NS_C" link set eth1 up && ip -n "$NS_C2" link set eth0 up &&
ip -n "$NS_C2" link set lo up &&
ip -n "$NS_C2" route add default via 2001:db8:3::1 &&
R ip -6 route add 2001:db8:3::/64 via 2001:db8:1::2 ||
	notok "set up a client two hops away"
ptb_out() { C awk '$1 == "Icmp6OutPktTooBigs" { print $2 }' /proc/net/snmp6; }
ptb0=$(ptb_out)
n=$(handoffs)
C2 python3 "$E2E/xlate.py" client 64:ff9b::c000:202 7020 D $((8 << 20)) >"$TMP/ptb.out" 2>&1 &
cl=$!
PIDS+=("$cl")
for _ in $(seq 50); do [ "$(handoffs)" -gt "$n" ] && break; sleep 0.1; done
C ip link set dev eth1 mtu 1300
if wait "$cl"; then
	ok "a path MTU drop after the hand-off: all 16 MiB arrive, in order"
else
	notok "a path MTU drop after the hand-off"; sed 's/^/#   /' "$TMP/ptb.out"
fi
check "... it was handed off before the drop" test "$(handoffs)" -gt "$n"
check "... the client's router sent Packet Too Big ($(( $(ptb_out) - ptb0 )))" test "$(ptb_out)" -gt "$ptb0"
check "... and the server learned the IPv4 path MTU from it: 1280" \
	sh -c "nsenter --net=/run/netns/$NS_S ip -4 route get 192.0.2.1 | grep -q 'mtu 1280'"

# The other way: a server two hops away (S2, 198.51.100.2, behind the
# server namespace, which forwards); the last link narrows to 1300 during
# an upload: S sends the router ICMPv4 "fragmentation needed" about the
# translated segments, the program makes it the ICMPv6 Packet Too Big the
# client expects about its own, and the client sends smaller segments.
NS_S2=$ID-s2
trap 'ip netns del "$NS_C2" 2>/dev/null; ip netns del "$NS_S2" 2>/dev/null; cleanup' EXIT
S2() { nsenter --net="/run/netns/$NS_S2" "$@"; }
ip netns add "$NS_S2" &&
ip link add eth1 netns "$NS_S" type veth peer name eth0 netns "$NS_S2" &&
S sysctl -qw net.ipv4.ip_forward=1 &&
ip -n "$NS_S" addr add 198.51.100.1/24 dev eth1 &&
ip -n "$NS_S2" addr add 198.51.100.2/24 dev eth0 &&
ip -n "$NS_S" link set eth1 up && ip -n "$NS_S2" link set eth0 up &&
ip -n "$NS_S2" link set lo up &&
ip -n "$NS_S2" route add default via 198.51.100.1 ||
	notok "set up a server two hops away"
nsenter --net="/run/netns/$NS_S2" python3 "$E2E/xlate.py" serve 198.51.100.2 7021 "$TMP/xlate2.log" \
	>"$TMP/xlate2.out" 2>&1 &
PIDS+=("$!")
wait_for "$TMP/xlate2.out" '^ready' || sed 's/^/#   /' "$TMP/xlate2.out"
frag_out() { S awk '/^Icmp:/ { if (!n) { for (i = 1; i <= NF; i++) f[$i] = i; n = 1 } else print $f["OutDestUnreachs"] }' /proc/net/snmp; }
frag0=$(frag_out)
n=$(handoffs)
C python3 "$E2E/xlate.py" client 64:ff9b::c633:6402 7021 U $((8 << 20)) >"$TMP/frag.out" 2>&1 &
cl=$!
PIDS+=("$cl")
for _ in $(seq 50); do [ "$(handoffs)" -gt "$n" ] && break; sleep 0.1; done
S ip link set dev eth1 mtu 1300
if wait "$cl"; then
	ok "a path MTU drop on the server's side after the hand-off: all 16 MiB arrive, in order"
else
	notok "a path MTU drop on the server's side after the hand-off"; sed 's/^/#   /' "$TMP/frag.out"
fi
check "... it was handed off before the drop" test "$(handoffs)" -gt "$n"
check "... the server's router sent fragmentation needed ($(( $(frag_out) - frag0 )))" \
	test "$(frag_out)" -gt "$frag0"
check "... and the client learned the IPv6 path MTU from it: 1320" \
	sh -c "nsenter --net=/run/netns/$NS_C ip -6 route get 64:ff9b::c633:6402 | grep -q 'mtu 1320'"

# An interface that appears while faithd runs gets the program too (the
# master listens to link notifications), and one that goes away has its
# link closed: a client behind a new router interface, eth2, is handed off.
NS_C3=$ID-c3
trap 'ip netns del "$NS_C2" 2>/dev/null; ip netns del "$NS_S2" 2>/dev/null;
	ip netns del "$NS_C3" 2>/dev/null; cleanup' EXIT
C3() { nsenter --net="/run/netns/$NS_C3" "$@"; }
# The tcx links among faithd's master's descriptors.
tcx_links() { grep -lP '^link_type:\ttcx$' /proc/"$FAITHD_PID"/fdinfo/* 2>/dev/null | wc -l; }
check "faithd holds a tcx link per Ethernet interface: 2" test "$(tcx_links)" = 2
ip netns add "$NS_C3" &&
ip link add eth2 netns "$NS_R" type veth peer name eth0 netns "$NS_C3" &&
ip -n "$NS_R" addr add 2001:db8:4::1/64 dev eth2 nodad &&
ip -n "$NS_C3" addr add 2001:db8:4::2/64 dev eth0 nodad &&
ip -n "$NS_R" link set eth2 up && ip -n "$NS_C3" link set eth0 up &&
ip -n "$NS_C3" route add default via 2001:db8:4::1 &&
faith attach eth2 >/dev/null ||
	notok "set up a client behind a new router interface"
check "a new interface: the master attaches the program to it" \
	wait_for "$FAITHD_LOG" "translate: now also on eth2"
check "... 3 tcx links" test "$(tcx_links)" = 3
n=$(handoffs)
check "... a client behind it: 20 MB each way, byte-exact" \
	C3 "$BYTES" send 64:ff9b::c000:202 7001 $((20 << 20)) $((20 << 20)) --timeout 30
check "... handed off" test "$(handoffs)" -gt "$n"
# A worker forked now holds a copy of eth2's link: moved to another
# namespace, eth2 must lose the program all the same (a link stays
# attached while any copy of it is open, unless detached).
# The interfaces of the tcx links a process holds, attached ones only.
tcx_ifindexes() {
	awk '/^link_type:/ { tcx = $2 == "tcx" } tcx && /^ifindex:/ && $2 != 0 { print $2 }' \
		/proc/"$1"/fdinfo/* 2>/dev/null | sort -n | tr '\n' ' '
}
# (nsenter leaves /sys as it was: ask ip for the router's indexes.)
ifindex() { ip -n "$NS_R" -o link show dev "$1" | cut -d: -f1; }
eth2=$(ifindex eth2)
worker=$(faithd_workers)
kill -KILL "$worker"
wait_for "$FAITHD_LOG" "worker 0 \(pid $worker\) died of signal 9; restarting it" >/dev/null
for _ in $(seq 50); do [ -n "$(faithd_workers)" ] && break; sleep 0.1; done
worker=$(faithd_workers)
check "... a worker forked since holds eth2's link too" \
	grep -qw "$eth2" <<<"$(tcx_ifindexes "$worker")"
faith detach eth2 >/dev/null
ip -n "$NS_R" link set eth2 netns "$NS_C3"
for _ in $(seq 50); do [ "$(tcx_links)" = 2 ] && break; sleep 0.1; done
check "eth2 moved to another namespace: faithd closes its link (2 left)" test "$(tcx_links)" = 2
want=$(for d in eth0 eth1; do ifindex $d; done | sort -n | tr '\n' ' ')
check "... and detaches it: the worker's copies hold eth0 and eth1 only ($want)" \
	test "$(tcx_ifindexes "$worker")" = "$want"
ip netns del "$NS_C3"

# A worker killed with handed-off connections: the kernel closes its
# frozen sockets, the master drops their entries.  (The connections before
# linger a second after their FINs: wait for them to go.)
for _ in $(seq 50); do [ "$(flows_count)" = 0 ] && break; sleep 0.1; done
C python3 "$E2E/xlate.py" client 64:ff9b::c000:202 7020 W $((4 << 20)) 3 >"$TMP/kill.out" 2>&1 &
cl=$!
PIDS+=("$cl")
wait_for "$FAITHD_LOG" "handed off after" 50 >/dev/null
for _ in $(seq 50); do [ "$(flows_count)" = 2 ] && break; sleep 0.1; done
worker=$(faithd_workers)
kill -KILL $worker
check "a worker killed with a handed-off connection: the master drops its entries" \
	wait_for "$FAITHD_LOG" "dropped 1 handed-off connection of worker $worker"
check "... the program's map is empty" test "$(flows_count)" = 0
check "... and its count of connections is 0" \
	nconns_0
check "... the master starts a new worker" wait_for "$FAITHD_LOG" "worker 0 \(pid $worker\) died of signal 9; restarting it"
wait "$cl"

# SIGKILL: the tcx links close with faithd's processes, the program goes.
workers=$(faithd_workers)
progs=$(faithd_progs)
holds_xlate() {
	local id
	for id in $progs; do bpftool prog show id "$id" | grep -q "name faithd_xlate " && return 0; done
	return 1
}
check "faithd holds its translating program (ids $(echo $progs))" holds_xlate
kill -KILL "$FAITHD_PID" $workers 2>/dev/null
wait "$FAITHD_PID" 2>/dev/null
progs_left() { local id; for id in $progs; do bpftool prog show id "$id" >/dev/null 2>&1 && return 0; done; return 1; }
for _ in $(seq 50); do progs_left || break; sleep 0.1; done
check_fail "SIGKILL: none of its programs is left behind (ids $(echo $progs))" progs_left
finish

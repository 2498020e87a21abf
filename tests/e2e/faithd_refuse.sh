#!/bin/bash
# What faithd refuses, and how: the client gets a reset promptly (within a
# second, or the connect timeout), and the log says why.  Bad
# configuration is an error naming file and line; SIGHUP reloads the rules
# and keeps them when the new file is bad.
. "$(dirname "$0")/lib.sh"
need_root
topo_up
server_up
faith_up 64:ff9b::/96 2001:db8:64::/96 ||
	{ notok "faithd: set up faith"; finish; exit 1; }
bytes_serve 7001
# faithd reads its configuration as 'nobody' after start (SIGHUP).
chmod 755 "$TMP"

# refused DESC ADDR PORT LOG-REGEX [MAX-MS]: a reset within MAX-MS (default
# 1000), and a log line about ADDR that matches.
refused() {
	local d=$1 addr=$2 port=$3 re=$4 max=${5:-1000} out rc ms
	out=$(C "$BYTES" probe "$addr" "$port" --timeout 10 2>&1); rc=$?
	ms=$(grep -oE '[0-9]+ ms' <<<"$out" | grep -oE '[0-9]+')
	if [ $rc = 3 ] && [ -n "$ms" ] && [ "$ms" -le "$max" ]; then
		ok "$d: reset after $ms ms"
	else
		notok "$d: $out (exit $rc)"
	fi
	check "$d: logged" wait_for "$FAITHD_LOG" "\[$addr\]:$port.*$re" 30
}

cat >"$TMP/faithd.conf" <<CONF
# deny one client host, let the rest of its network reach the test server
2001:db8:1::99		deny	0.0.0.0/0
2001:db8:1::/64		permit	192.0.2.2
2001:db8:1::/64		permit	198.51.100.0/24
2001:db8:1::/64		permit	203.0.113.0/24
2001:db8:1::/64		permit	0.0.0.0/0
CONF
start_faithd -f "$TMP/faithd.conf" -w 1 -t 1 all

check "a permitted connection goes through" C "$BYTES" send 64:ff9b::c000:202 7001 1000 1000
refused "upstream port closed" 64:ff9b::c000:202 7009 "upstream connect failed: Connection refused"
refused "no upstream answers (black hole), -t 1" 64:ff9b::c633:6401 7001 \
	"upstream connect timed out" 2500
refused "no route to the IPv4 host" 64:ff9b::cb00:7101 7001 "unreachable"
refused "loopback is never relayed" 64:ff9b::7f00:1 22 "never relayed: 127.0.0.0/8"
refused "limited broadcast is never relayed" 64:ff9b::ffff:ffff 80 "never relayed"
refused "multicast is never relayed" 64:ff9b::e000:1 80 "never relayed"
refused "special-purpose under 64:ff9b::/96 without a rule naming it" \
	64:ff9b::a00:1 80 "10.0.0.0/8 .*not global"
C ip addr add 2001:db8:1::99/64 dev eth0 nodad
out=$(C "$BYTES" probe 64:ff9b::c000:202 7001 --bind 2001:db8:1::99 2>&1); rc=$?
if [ $rc = 3 ]; then ok "a denied source gets a reset ($out)"; else notok "denied source: $out (exit $rc)"; fi
check "a denied source: logged with file and line" \
	wait_for "$FAITHD_LOG" "\[2001:db8:1::99\]:[0-9]+ .*denied by $TMP/faithd.conf:2" 30

# Another client network, no rule: no match denies.
C ip addr add 2001:db8:2::5/64 dev eth0 nodad
R ip route add 2001:db8:2::/64 dev eth0
out=$(C "$BYTES" probe 64:ff9b::c000:202 7001 --bind 2001:db8:2::5 2>&1); rc=$?
if [ $rc = 3 ]; then ok "a source no rule matches gets a reset"; else notok "no match: $out (exit $rc)"; fi
check "... logged" wait_for "$FAITHD_LOG" "\[2001:db8:2::5\]:[0-9]+ .*no rule .* matches" 30

# SIGHUP: a bad file keeps the rules in force; a good one replaces them.
cp "$TMP/faithd.conf" "$TMP/good.conf"
printf '2001:db8:1::/64 permit 192.0.2.2\n2001:db8:1::/64 allow 10.0.0.0/8\n' >"$TMP/faithd.conf"
kill -HUP "$FAITHD_PID"
check "SIGHUP with a bad file: the error names file and line" \
	wait_for "$FAITHD_LOG" "$TMP/faithd.conf:2: .*allow" 30
check "... and the rules in force stay (the deny of line 2 still works)" \
	sh -c "nsenter --net=/run/netns/$NS_C $BYTES probe 64:ff9b::c000:202 7001 --bind 2001:db8:1::99; [ \$? = 3 ]"
printf '2001:db8:1::/64 deny 192.0.2.2\n::/0 permit 0.0.0.0/0\n' >"$TMP/faithd.conf"
kill -HUP "$FAITHD_PID"
check "SIGHUP with a good file: reloaded" wait_for "$FAITHD_LOG" "configuration reloaded" 30
expect 3 "... and its rules apply: 192.0.2.2 is now denied" C "$BYTES" probe 64:ff9b::c000:202 7001
stop_faithd

# No configuration file at all: every source may use the relay (the
# destination rules still hold).
if [ -e /etc/faithd.conf ]; then
	echo "skip - no configuration file: this machine has an /etc/faithd.conf"
else
	start_faithd -w 1 all
	check "no configuration file: said so" wait_for "$FAITHD_LOG" "no /etc/faithd.conf: every source may use the relay"
	check "no configuration file: a client relays through a network-specific prefix" \
		C "$BYTES" send 2001:db8:64::c000:202 7001 1000 1000
	refused "no configuration file: under 64:ff9b::/96 a special-purpose address still needs a rule" \
		64:ff9b::c000:202 7001 "not global"
	stop_faithd
fi

# Errors at start: file and line; a missing -f file; bad arguments.
printf '# ok\n2001:db8::/32 permit 192.0.2.0/24\n2001:db8::/32 permit 192.0.2.1/24\n' >"$TMP/bad.conf"
expect 1 "a bad rule at start: faithd exits 1" R "$FAITHD" -F -f "$TMP/bad.conf" all
said "$TMP/bad.conf:3:" "... naming file and line"
expect 1 "-f FILE that does not exist: faithd exits 1" R "$FAITHD" -F -f "$TMP/none.conf" all
said "none.conf" "... naming the file"
expect 2 "no service: usage error" R "$FAITHD" -F
expect 2 "unknown service: usage error" R "$FAITHD" -F nosuchservice
said "nosuchservice" "... naming it"
expect 2 "a bad number of workers: usage error" R "$FAITHD" -F -w 0 all
expect 2 "a bad timeout: usage error" R "$FAITHD" -F -t 1x all
expect 2 "a bad --cpu-affinity: usage error" R "$FAITHD" -F --cpu-affinity some all
said "--cpu-affinity: 'some': 'auto' or 'none'" "... naming the value and the choices"
expect 2 "BSD's serverpath is refused clearly" R "$FAITHD" -F telnet /usr/libexec/telnetd
said "serverpath" "... saying why"
finish

#!/bin/bash
# faithd relays real IPv6 clients to real IPv4-only servers: an nginx page
# through curl, 50 MB each way byte-exact, several ports at once with
# `faithd all`, half-close, every RFC 6052 prefix length, workers that run
# unprivileged, the log line of each connection.
. "$(dirname "$0")/lib.sh"
need_root
topo_up
server_up
faith_up 64:ff9b::/96 2001:db8:64::/48 ||
	{ notok "faithd: set up faith"; finish; exit 1; }
chmod 755 "$TMP"

# nginx, bound to IPv4 only, in the server namespace.
mkdir -p "$TMP/www" "$TMP/nginx"
echo "Hello over faith from an IPv4-only nginx" >"$TMP/www/index.html"
cat >"$TMP/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { }
http {
	access_log off;
	client_body_temp_path $TMP/nginx;
	proxy_temp_path $TMP/nginx;
	fastcgi_temp_path $TMP/nginx;
	uwsgi_temp_path $TMP/nginx;
	scgi_temp_path $TMP/nginx;
	server { listen 192.0.2.2:80; root $TMP/www; }
}
CONF
nsenter --net="/run/netns/$NS_S" nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" &
PIDS+=("$!")
bytes_serve 7001 7002 7003
for _ in $(seq 50); do S ss -Htln 'sport = :80' | grep -q . && break; sleep 0.1; done

# Documentation addresses are special-purpose: under 64:ff9b::/96 they need
# a rule that names them (RFC 6052 3.1).
cat >"$TMP/faithd.conf" <<CONF
# the test client's network may reach the test server's
2001:db8:1::/64	permit	192.0.2.0/24
CONF
start_faithd -f "$TMP/faithd.conf" -w 2 all

out=$(C curl -sS --max-time 10 'http://[64:ff9b::c000:202]/' 2>&1)
if [ "$out" = "Hello over faith from an IPv4-only nginx" ]; then
	ok "curl fetches the IPv4-only nginx's page at [64:ff9b::c000:202]:80"
else
	notok "curl through faithd: $out"; sed 's/^/#   /' "$FAITHD_LOG"
fi
check "the log line names source, both destinations, bytes and how it ended" \
	wait_for "$FAITHD_LOG" '\[2001:db8:1::2\]:[0-9]+ -> \[64:ff9b::c000:202\]:80 -> 192\.0\.2\.2:80: closed; [0-9]+ bytes to server, [1-9][0-9]* to client, [0-9.]+ s'

M50=$((50 * 1024 * 1024))
check "50 MB each way through faithd, byte-exact" \
	C "$BYTES" send 64:ff9b::c000:202 7001 $M50 $M50 --timeout 60
check "50 MB log line: 52428800+ bytes each way" \
	wait_for "$FAITHD_LOG" "-> 192\.0\.2\.2:7001: closed; 5242882[0-9] bytes to server, 5242880[0-9] to client"
# Translate (the default, --datapath auto) hands it off; splice and sockmap do not.
# With --translate-after syn the program carries it from the SYN: the
# master logs it (from the program's ring), no worker saw it.
case " ${FAITHD_ARGS:-} " in
*" --datapath splice "*|*" --datapath sockmap "*) ;;
*" --translate-after syn "*)
	check "... carried by the program from the SYN: logged by the master, not a worker" \
		grep -qE "^faithd\[$FAITHD_PID\]: .*-> 192\.0\.2\.2:7001: closed; 5242882" "$FAITHD_LOG" ;;
*)
	check "... handed to the translating program on the way" \
		grep -qE "debug: fd [0-9]+: handed off after [0-9]+ \+ [0-9]+ bytes" "$FAITHD_LOG" ;;
esac
check "half-close: the client shuts down writing and still gets the whole reply" \
	C "$BYTES" send 64:ff9b::c000:202 7002 100000 3000000 --half-close

# Several ports at once, over one 'all' registration, concurrently.
pids=()
for p in 7001 7002 7003; do
	C "$BYTES" send 64:ff9b::c000:202 $p 2000000 2000000 >"$TMP/p$p" 2>&1 & pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
if [ $rc = 0 ]; then ok "three ports at once with 'faithd all'"; else notok "three ports at once"; cat "$TMP"/p70* | sed 's/^/#   /'; fi

# Resets are passed on as resets, both ways.
nsenter --net="/run/netns/$NS_S" python3 "$TOP/tests/e2e/rst.py" serve 192.0.2.2 7005 "$TMP/rst.log" \
	>"$TMP/rst.out" 2>&1 &
PIDS+=("$!")
wait_for "$TMP/rst.out" '^ready' || sed 's/^/#   /' "$TMP/rst.out"
check "the server resets: the IPv6 client gets a reset" \
	C python3 "$TOP/tests/e2e/rst.py" client 64:ff9b::c000:202 7005 server-resets
check "... logged as 'reset by server'" wait_for "$FAITHD_LOG" "192\.0\.2\.2:7005: reset by server"
check "the client resets: the IPv4 server gets a reset" \
	C python3 "$TOP/tests/e2e/rst.py" client 64:ff9b::c000:202 7005 client-resets
check "... the server saw it" wait_for "$TMP/rst.log" '^reset seen'
check "... logged as 'reset by client'" wait_for "$FAITHD_LOG" "192\.0\.2\.2:7005: reset by client"

# The IPv4 address comes from wherever the prefix length puts it, skipping
# the u octet (RFC 6052 2.2): one connection per length, no rule needed
# for a documentation address under a network-specific prefix.
embed() {
	python3 -c 'import ipaddress as i, sys
p = i.IPv6Network(sys.argv[1]); v4 = i.IPv4Address(sys.argv[2]).packed
b = bytearray(p.network_address.packed); n = p.prefixlen // 8
for k in range(4):
    b[n + k + (1 if 8 <= n + k and n < 12 else 0)] = v4[k]
print(i.IPv6Address(bytes(b)))' "$1" "$2"
}
C ip route add 3fff::/20 via 2001:db8:1::1
for p in 3fff:100::/32 3fff:200::/40 3fff:300::/48 3fff:400::/56 3fff:500::/64 \
	 2001:db8:64:96::/96; do
	faith route add "$p" >/dev/null || notok "route add $p"
	a=$(embed "$p" 192.0.2.2)
	check "/${p#*/}: [$a]:7003 reaches 192.0.2.2:7003" \
		C "$BYTES" send "$a" 7003 5000 5000
done
a=$(python3 -c 'import ipaddress as i, sys
b = bytearray(i.IPv6Address(sys.argv[1]).packed); b[8] = 0xff; print(i.IPv6Address(bytes(b)))' \
	"$(embed 3fff:500::/64 192.0.2.2)")
expect 3 "a non-zero u octet (bits 64-71) gets a reset: RFC 6052 says it is zero" \
	C "$BYTES" probe "$a" 7003
check "... and the log says why" wait_for "$FAITHD_LOG" "-> \[$a\]:7003: refused: no IPv4 address"

# The workers run unprivileged, the master only supervises.
bad=0
for w in $(faithd_workers); do
	[ "$(awk '/^Uid:/ { print $2 }' "/proc/$w/status")" = 65534 ] || bad=1
done
check "workers run as nobody after registering" test "$bad" = 0 -a -n "$(faithd_workers)"
check "two workers (-w 2)" test "$(faithd_workers | wc -l)" = 2

stop_faithd
check "SIGTERM: faithd exits with status 0" test "$FAITHD_RC" = 0
if faith relay list | grep -q cookie; then
	notok "SIGTERM: the relay registration is gone"; faith relay list | sed 's/^/#   /'
else
	ok "SIGTERM: the relay registration is gone"
fi
finish

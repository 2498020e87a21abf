#!/bin/bash
# faith demo: an IPv6-only client fetches a page from an IPv4-only web server
# through a faith router.  Builds everything, sets up three network
# namespaces, shows the fetch, cleans up.  Run as root on Debian 12:
#
#   sudo scripts/demo.sh
#
#   client (IPv6 only)        router (faith)                 server (IPv4 only)
#   2001:db8:1::2  ---veth--- 2001:db8:1::1  192.0.2.1 ---veth--- 192.0.2.2:80
#   curl http://[64:ff9b::c000:202]/
#
# The relay on the router is faithd: it registers its listening sockets with
# faith, drops to user nobody, and relays each connection to the IPv4
# address embedded in its destination (RFC 6052).
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo: run as root (network namespaces, BPF)" >&2; exit 1; }

scripts/deps.sh
make -s

ID=faith-demo-$$
export FAITH_PIN_DIR=/sys/fs/bpf/$ID
PIDS=()
at() { local ns=$1; shift; nsenter --net="/run/netns/$ID-$ns" "$@"; }
# In the background, with $BG the command's own PID (nsenter execs it).
bg_at() { local ns=$1; shift; nsenter --net="/run/netns/$ID-$ns" "$@" & BG=$!; PIDS+=("$BG"); }
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	[ -e "/run/netns/$ID-router" ] && at router ./faith-loader unload >/dev/null 2>&1 || true
	for ns in client router server; do ip netns del "$ID-$ns" 2>/dev/null || true; done
	rm -rf "/tmp/$ID"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { echo "\$ $*"; "$@"; }

step "network namespaces: client (IPv6 only), router, server (IPv4 only)"
for ns in client router server; do ip netns add "$ID-$ns"; at "$ns" ip link set lo up; done
ip link add eth0 netns "$ID-client" type veth peer name eth0 netns "$ID-router"
ip link add eth1 netns "$ID-router" type veth peer name eth0 netns "$ID-server"
at client sysctl -qw net.ipv6.conf.eth0.accept_dad=0
at server sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n "$ID-client" addr add 2001:db8:1::2/64 dev eth0 nodad
ip -n "$ID-router" addr add 2001:db8:1::1/64 dev eth0 nodad
ip -n "$ID-router" addr add 192.0.2.1/24 dev eth1
ip -n "$ID-server" addr add 192.0.2.2/24 dev eth0
for l in "client eth0" "router eth0" "router eth1" "server eth0"; do set -- $l; ip -n "$ID-$1" link set "$2" up; done
ip -n "$ID-client" route add 64:ff9b::/96 via 2001:db8:1::1
echo "client: $(ip -n "$ID-client" -br addr show dev eth0)"
echo "server: $(ip -n "$ID-server" -br addr show dev eth0)"

step "IPv4-only web server on 192.0.2.2:80"
mkdir -p "/tmp/$ID/www"
echo "Hello from 192.0.2.2, an IPv4-only server, reached over IPv6 through faith." >"/tmp/$ID/www/index.html"
bg_at server python3 -m http.server --bind 192.0.2.2 --directory "/tmp/$ID/www" 80 >/dev/null 2>&1

step "faith on the router"
run at router ./faith-loader attach eth0
run at router ./faith-loader route add 64:ff9b::/96
run at router ./faith-loader keepfaith 1

step "faithd on the router, relaying every port"
# 192.0.2.0/24 is a documentation range: under the well-known prefix
# 64:ff9b::/96 such special-purpose destinations need a rule naming them.
chmod 755 "/tmp/$ID"
cat >"/tmp/$ID/faithd.conf" <<CONF
# the client network may reach the demo server's network
2001:db8:1::/64  permit  192.0.2.0/24
CONF
cat "/tmp/$ID/faithd.conf"
echo "\$ faithd -F -f /tmp/$ID/faithd.conf all"
bg_at router ./faithd -F -f "/tmp/$ID/faithd.conf" all 2>"/tmp/$ID/faithd.log"
for _ in $(seq 50); do grep -q 'info: ready' "/tmp/$ID/faithd.log" && break; sleep 0.1; done
sed 's/^/  /' "/tmp/$ID/faithd.log"
for _ in $(seq 50); do at server ss -Htln 'sport = :80' | grep -q . && break; sleep 0.1; done

step "the IPv6-only client fetches http://[64:ff9b::c000:202]/"
run at client curl -sS --max-time 10 'http://[64:ff9b::c000:202]/'

step "faithd's log line for the connection"
for _ in $(seq 20); do grep -q ' closed;' "/tmp/$ID/faithd.log" && break; sleep 0.1; done
grep ' -> ' "/tmp/$ID/faithd.log" | sed 's/^/  /'

step "faith-loader status"
at router ./faith-loader status
step "done: cleaning up"

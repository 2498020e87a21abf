# shellcheck shell=bash
# The benchmark's topology: three network namespaces joined by veth pairs.
#
#   client (IPv6 only)          router                        server
#   2001:db8:1::2 ==eth0====eth0== 2001:db8:1::1
#                                  192.0.2.1, 2001:db8:2::1 ==eth1====eth0== 192.0.2.2
#                                                                       2001:db8:2::2
# The client reaches:
#   [2001:db8:2::2]        the server over routed IPv6: the `direct` case and
#                          the forwarding-cost case only
#   [64:ff9b::c000:202]    faith (RFC 6052 well-known prefix: 192.0.2.2)
#   [2001:db8:64::c000:202] nftables TPROXY into haproxy on the router
#   [2001:db8:1::1]        the plain proxies listening on the router
# The server's IPv6 address is there only so that `direct` has something to
# compare with; every relay connects to 192.0.2.2.
#
# Names are unique per run (faith-b-PID-c/-r/-s) and so is faith's pin
# directory; topo_down removes everything topo_up made, and is safe to run
# at any point of topo_up.

ID=faith-b-$$
NS_C=$ID-c
NS_R=$ID-r
NS_S=$ID-s
export FAITH_PIN_DIR=/sys/fs/bpf/$ID

# nsenter --net, not `ip netns exec`: the latter remounts /sys in a private
# mount namespace and faith-loader would lose its pins.
C() { nsenter --net="/run/netns/$NS_C" "$@"; }
R() { nsenter --net="/run/netns/$NS_R" "$@"; }
S() { nsenter --net="/run/netns/$NS_S" "$@"; }
# bg NS COMMAND...: COMMAND in namespace NS ($NS_C...) in the background,
# its PID in BG.  nsenter execs the command, so BG is the command itself;
# `C cmd &` would give the PID of a subshell, and killing that would leave
# the command running.
bg() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@" & BG=$!; }

topo_up() {
	local ns
	for ns in "$NS_C" "$NS_R" "$NS_S"; do ip netns add "$ns" || return 1; done
	ip link add eth0 netns "$NS_C" type veth peer name eth0 netns "$NS_R" &&
	ip link add eth1 netns "$NS_R" type veth peer name eth0 netns "$NS_S" || return 1
	# No duplicate address detection: addresses are usable at once.
	C sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.eth0.accept_dad=0
	R sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.eth0.accept_dad=0 \
		net.ipv6.conf.eth1.accept_dad=0
	S sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.eth0.accept_dad=0
	# The client is IPv6-only: it gets no IPv4 address and no IPv4 route.
	# Tens of thousands of short connections in a few seconds (wrk with
	# Connection: close) from one address: widen the ephemeral port range
	# (net.ipv4.* covers IPv6 too) and let TIME_WAIT ports be reused.
	local n
	for n in C R S; do
		$n sysctl -qw net.ipv4.ip_local_port_range="1024 65535" net.ipv4.tcp_tw_reuse=1 \
			net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535
	done
	# The router keeps half of its ports for the connections faithd's
	# program opens (--translate-after syn), as faithd(8) asks: its own
	# relays (haproxy, nginx, ...) take theirs from 1024-32767, and leave no
	# TIME-WAIT on the server in the way of the program's.
	R sysctl -qw net.ipv4.ip_local_reserved_ports=32768-65535
	ip -n "$NS_C" addr add 2001:db8:1::2/64 dev eth0 nodad &&
	ip -n "$NS_R" addr add 2001:db8:1::1/64 dev eth0 nodad &&
	ip -n "$NS_R" addr add 192.0.2.1/24 dev eth1 &&
	ip -n "$NS_R" addr add 2001:db8:2::1/64 dev eth1 nodad &&
	ip -n "$NS_S" addr add 192.0.2.2/24 dev eth0 &&
	ip -n "$NS_S" addr add 2001:db8:2::2/64 dev eth0 nodad || return 1
	for n in "$NS_C eth0" "$NS_R eth0" "$NS_R eth1" "$NS_S eth0" "$NS_C lo" "$NS_R lo" "$NS_S lo"; do
		# shellcheck disable=SC2086
		set -- $n; ip -n "$1" link set "$2" up || return 1
	done
	# The router forwards IPv6 (the direct and forwarding-cost cases) and
	# IPv4, as a router does (faithd --translate-after syn asks the FIB
	# the way to the server as for a forwarded packet).
	R sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv4.conf.all.forwarding=1 || return 1
	ip -n "$NS_C" route add 64:ff9b::/96 via 2001:db8:1::1 &&
	ip -n "$NS_C" route add 2001:db8:64::/96 via 2001:db8:1::1 &&
	ip -n "$NS_C" route add 2001:db8:2::/64 via 2001:db8:1::1 &&
	ip -n "$NS_S" route add 2001:db8:1::/64 via 2001:db8:2::1 || return 1
	return 0
}

topo_down() {
	if [ -e "/run/netns/$NS_R" ]; then
		R "$TOP/faith-loader" unload >/dev/null 2>&1
	fi
	[ -d "$FAITH_PIN_DIR" ] && rm -rf "$FAITH_PIN_DIR"
	ip netns del "$NS_C" 2>/dev/null
	ip netns del "$NS_R" 2>/dev/null
	ip netns del "$NS_S" 2>/dev/null
	return 0
}

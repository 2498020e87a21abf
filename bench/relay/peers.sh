# shellcheck shell=bash
# The relays under test, one start/stop pair per case.  Each peer_start_X
# sets TARGET (the address the client dials; ports 80 and 5201 are relayed
# to the same ports on 192.0.2.2) and RELAY_PIDS (the processes whose CPU
# time and memory are the relay's: their descendants are counted too), or
# returns non-zero with the reason in WHY.  peer_stop stops what the last
# start started, by PID, and undoes its router state.
#
# Only one relay runs at a time: the others would take no CPU, but idle
# processes and their memory would blur the memory numbers.
#
# Every relay is configured to be fast at what is measured: no per
# connection logging where the program allows it, two threads or workers
# on this 2-core machine.

RELAY_PIDS=()
TARGET=
WHY=
STOP_HOOKS=()

# bg_R NAME COMMAND...: run COMMAND in the router, output to $W/NAME.log.
# With a cpuacct cgroup ($CG) the command joins it before it starts, so
# every process it forks is accounted there, including per-connection
# children that exit and are never waited for (6tunnel, socat): /proc
# loses the CPU time of those.
bg_R() {
	local n=$1; shift
	if [ -n "$CG" ]; then
		bg "$NS_R" sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" "$@" >"$W/$n.log" 2>&1
	else
		bg "$NS_R" "$@" >"$W/$n.log" 2>&1
	fi
	RELAY_PIDS+=("$BG")
}

# listening PORT...: wait until the router listens on every PORT (3 s).
listening() {
	local i p ok
	for i in $(seq 30); do
		ok=1
		for p in "$@"; do
			R ss -Htln "sport = :$p" | grep -q . || ok=
		done
		[ -n "$ok" ] && return 0
		sleep 0.1
	done
	return 1
}

# alive: every started relay process is still running.
alive() { local p; for p in "${RELAY_PIDS[@]}"; do kill -0 "$p" 2>/dev/null || return 1; done; }

# started NAME PORT...: the common end of a start: listening and alive, or
# WHY says what the relay's log said.
started() {
	local n=$1; shift
	if listening "$@" && alive; then return 0; fi
	WHY="did not start: $(tr '\n' ' ' <"$W/$n.log" | cut -c1-200)"
	return 1
}

peer_stop() {
	local p k
	for p in "${RELAY_PIDS[@]}"; do
		# Per-connection children (socat) first: they outlive their parent.
		for k in $("$HERE/procstat.py" kids "$p"); do kill "$k" 2>/dev/null; done
		kill "$p" 2>/dev/null
	done
	for p in "${RELAY_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for k in "${STOP_HOOKS[@]}"; do eval "$k"; done
	RELAY_PIDS=() STOP_HOOKS=() TARGET= WHY=
}

# --- direct: routed IPv6 to the server's IPv6 address, no relay ----------
peer_start_direct() { TARGET=2001:db8:2::2; }

# --- direct with faith attached: the cost of faith to traffic it does not
# capture.  faith on the router's ingress, 64:ff9b::/96 loaded, the gate
# open, but the client dials the server's IPv6 address: forwarded, not
# relayed.
faith_attach() {
	STOP_HOOKS+=('R "$TOP/faith-loader" unload >/dev/null 2>&1')
	R "$TOP/faith-loader" attach eth0 >"$W/faith-loader.log" 2>&1 &&
	R "$TOP/faith-loader" route add 64:ff9b::/96 >>"$W/faith-loader.log" 2>&1 &&
	R "$TOP/faith-loader" keepfaith 1 >>"$W/faith-loader.log" 2>&1 ||
		{ WHY="faith-loader failed: $(tr '\n' ' ' <"$W/faith-loader.log")"; return 1; }
}
peer_start_direct_attached() { faith_attach && TARGET=2001:db8:2::2; }

# --- faith: TC classifier + sk_lookup + faithd (splice by default) --------
# FAITHD_ARGS: extra faithd options for this case (e.g. a data path).
faith_start() {
	local name=$1; shift
	faith_attach || return 1
	# -u '': stay root (the config is in a private directory); -g 1: do
	# not wait 10 s for the grace period at every stop.
	bg_R "$name" "$TOP/faithd" -F -u '' -g 1 -f "$W/faithd.conf" "$@" all
	local i
	for i in $(seq 50); do grep -q 'info: ready' "$W/$name.log" && break; sleep 0.1; done
	grep -q 'info: ready' "$W/$name.log" && alive ||
		{ WHY="faithd did not start: $(tr '\n' ' ' <"$W/$name.log" | cut -c1-200)"; return 1; }
	TARGET=64:ff9b::c000:202
}
# shellcheck disable=SC2086
# --cpu-affinity auto: a veth delivers on the sender's CPU, as RSS would.
peer_start_faith() { faith_start faith --cpu-affinity auto ${FAITHD_ARGS:-}; }
# shellcheck disable=SC2086
peer_start_faith_sockmap() {
	faith_start faith_sockmap --datapath sockmap --cpu-affinity auto ${FAITHD_ARGS:-}
}
# shellcheck disable=SC2086
peer_start_faith_splice() {
	faith_start faith_splice --datapath splice --cpu-affinity auto ${FAITHD_ARGS:-}
}
# shellcheck disable=SC2086
# The hand-off of an established connection (after 1 MiB) instead of the
# default, translation from the SYN.
peer_start_faith_handoff() {
	faith_start faith_handoff --translate-after 1048576 --cpu-affinity auto ${FAITHD_ARGS:-}
}
# shellcheck disable=SC2086
peer_start_faith_translate() {
	faith_start faith_translate --datapath translate --cpu-affinity auto ${FAITHD_ARGS:-}
}

# --- haproxy, TCP mode, splicing, 2 threads -------------------------------
haproxy_conf() {
	# A server without a port connects to the port the client dialled.
	cat <<CONF
global
	nbthread 2
	# Enough for the idle-connection test, within the open-file limit:
	# haproxy reserves two descriptors per connection and per pipe.
	maxconn $((IDLE_N + 100))
	maxpipes 200
defaults
	mode tcp
	timeout connect 10s
	timeout client 600s
	timeout server 600s
	option splice-request
	option splice-response
frontend relay
$1
	default_backend v4
backend v4
	server s 192.0.2.2
CONF
}
peer_start_haproxy() {
	haproxy_conf '	bind [2001:db8:1::1]:80
	bind [2001:db8:1::1]:5201' >"$W/haproxy.cfg"
	bg_R haproxy haproxy -db -f "$W/haproxy.cfg"
	started haproxy 80 5201 && TARGET=2001:db8:1::1
}

# --- nftables TPROXY feeding haproxy --------------------------------------
# TCP to 2001:db8:64::/96 is diverted on the router to a transparent
# haproxy listener; haproxy sees the original destination as its local
# address.  haproxy has no RFC 6052 mapping, so its server is the one
# IPv4 host of the benchmark, on the port the client dialled.
TPROXY_MARK=0x64
TPROXY_TABLE=164
peer_start_tproxy() {
	STOP_HOOKS+=('R nft delete table ip6 faithbench 2>/dev/null'
		'R ip -6 rule del fwmark $TPROXY_MARK lookup $TPROXY_TABLE 2>/dev/null'
		'R ip -6 route flush table $TPROXY_TABLE 2>/dev/null')
	R nft -f - >"$W/nft.log" 2>&1 <<NFT || { WHY="nft: $(tr '\n' ' ' <"$W/nft.log")"; return 1; }
table ip6 faithbench {
	chain prerouting {
		type filter hook prerouting priority mangle; policy accept;
		ip6 daddr 2001:db8:64::/96 meta l4proto tcp tproxy to :15001 meta mark set $TPROXY_MARK accept
	}
}
NFT
	R ip -6 rule add fwmark $TPROXY_MARK lookup $TPROXY_TABLE &&
	R ip -6 route add local ::/0 dev lo table $TPROXY_TABLE ||
		{ WHY="policy routing for TPROXY failed"; return 1; }
	haproxy_conf '	bind [::]:15001 transparent' >"$W/tproxy.cfg"
	bg_R tproxy haproxy -db -f "$W/tproxy.cfg"
	started tproxy 15001 && TARGET=2001:db8:64::c000:202
}

# --- nginx stream proxy, 2 workers -----------------------------------------
peer_start_nginx() {
	cat >"$W/nginx-stream.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 2;
worker_rlimit_nofile 70000;
pid $W/nginx-stream.pid;
error_log $W/nginx-stream.err;
events { worker_connections 30000; }
stream {
	server {
		listen [2001:db8:1::1]:80 backlog=65535;
		listen [2001:db8:1::1]:5201 backlog=65535;
		proxy_pass 192.0.2.2:\$server_port;
	}
}
CONF
	bg_R nginx nginx -e "$W/nginx-stream.err" -c "$W/nginx-stream.conf" -g 'daemon off;'
	started nginx 80 5201 && TARGET=2001:db8:1::1
}

# --- socat: one process per port, a fork per connection --------------------
peer_start_socat() {
	local p
	for p in 80 5201; do
		bg_R socat-$p socat TCP6-LISTEN:$p,bind=[2001:db8:1::1],reuseaddr,fork,backlog=4096 TCP4:192.0.2.2:$p
	done
	started socat-80 80 && started socat-5201 5201 && TARGET=2001:db8:1::1
}

# --- 6tunnel: one process per port ------------------------------------------
peer_start_6tunnel() {
	local p
	for p in 80 5201; do
		# -d: stay in the foreground; -6: listen on IPv6; -4: connect over
		# IPv4; -L: its default limit of 100 connections would refuse most.
		bg_R 6tunnel-$p 6tunnel -d -6 -4 -L 20000 -l 2001:db8:1::1 $p 192.0.2.2 $p
	done
	started 6tunnel-80 80 && started 6tunnel-5201 5201 && TARGET=2001:db8:1::1
}

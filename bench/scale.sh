#!/bin/bash
# The scale test: 100,000 concurrent relayed connections through faithd.
#
# One process may hold at most 20,000 descriptors here (a hard limit that
# cannot be raised), so the load is spread as a router would spread it:
#   - faithd runs 16 workers (an idle relayed connection holds 2
#     descriptors: ~6,250 connections and ~12,500 descriptors a worker);
#   - the client side is 6 faith-bytes processes, each holding ~16,700
#     connections from its own source address (so that no source runs out
#     of ephemeral ports), each to its own server port;
#   - the server side is 6 faith-bytes servers, one per port.
# Limits raised in the namespaces: ip_local_port_range, somaxconn.
# faithd runs as by default: the translate program opens the connections
# from the client's SYN, so the router forwards IPv4 and keeps ports
# 10000-65535 out of its own connections' way (ip_local_reserved_ports) for
# them.  SCALE_PATH=handoff instead runs faithd's own sockets
# (--translate-after 1 MiB, no IPv4 forwarding).
# Writes the result to stdout and, with --markdown FILE, to FILE (with
# --append FILE, at its end).
. "$(dirname "$0")/../tests/e2e/lib.sh"
need_root
SCALE_PATH=${SCALE_PATH:-syn}
case $SCALE_PATH in
syn)	export ROUTER_FORWARDS_V4=1; XL_ARGS=() ;;
handoff) XL_ARGS=(--translate-after 1048576) ;;
*)	echo "scale: SCALE_PATH=$SCALE_PATH: want syn or handoff" >&2; exit 2 ;;
esac
TOTAL=${SCALE_CONNS:-100000}
PROCS=6
WORKERS=16
PER=$(( (TOTAL + PROCS - 1) / PROCS ))
MD= APPEND=
case ${1:-} in
--markdown) MD=$2 ;;
--append) MD=$2 APPEND=1 ;;
esac

topo_up
server_up
faith_up 64:ff9b::/96 || { echo "scale: cannot set up faith" >&2; exit 1; }
chmod 755 "$TMP"
for ns in "$NS_C" "$NS_R" "$NS_S"; do
	nsenter --net="/run/netns/$ns" sysctl -qw net.ipv4.ip_local_port_range="1024 65535" \
		net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535 2>/dev/null
done
[ "$SCALE_PATH" = syn ] && R sysctl -qw net.ipv4.ip_local_reserved_ports=10000-65535
ports=()
for i in $(seq $PROCS); do
	C ip addr add "2001:db8:1::$((0x100 + i))/64" dev eth0 nodad
	ports+=($((7000 + i)))
done
for p in "${ports[@]}"; do bytes_serve "$p"; done
printf '2001:db8:1::/64 permit 192.0.2.0/24\n' >"$TMP/faithd.conf"
start_faithd -f "$TMP/faithd.conf" -w $WORKERS -i 0 "${XL_ARGS[@]}" all
workers_rss() { local k=0 w; for w in $FAITHD_PID $(faithd_workers); do
	k=$((k + $(awk '/^VmRSS:/ { print $2 }' "/proc/$w/status"))); done; echo $k; }
workers_fds() { local n=0 w; for w in $(faithd_workers); do n=$((n + $(fd_count "$w"))); done; echo $n; }
rss0=$(workers_rss)
slab0=$(awk '/^Slab:/ { print $2 }' /proc/meminfo)

t0=$(date +%s%N)
holds=()
for i in $(seq $PROCS); do
	mkfifo "$TMP/in$i"
	nsenter --net="/run/netns/$NS_C" "$BYTES" hold 64:ff9b::c000:202 "${ports[$((i - 1))]}" $PER \
		--bind "2001:db8:1::$((0x100 + i))" --timeout 120 <"$TMP/in$i" >"$TMP/hold$i" 2>&1 &
	holds+=($!); PIDS+=($!)
	eval "exec $((10 + i))>\"$TMP/in$i\""
done
held=0
for i in $(seq $PROCS); do
	wait_for "$TMP/hold$i" '^held|of' 1300
	n=$(grep -oE '^held [0-9]+' "$TMP/hold$i" | grep -oE '[0-9]+')
	held=$((held + ${n:-0}))
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
rss1=$(workers_rss)
slab1=$(awk '/^Slab:/ { print $2 }' /proc/meminfo)
fds=$(workers_fds)
carried=$(( $(flows_count) / 2 ))
per_worker=$(for w in $(faithd_workers); do fd_count "$w"; done | sort -n | tail -1)
refused=$(grep -c 'refused\|failed' "$FAITHD_LOG")
for i in $(seq $PROCS); do eval "exec $((10 + i))>&-"; done
ok_procs=0
for p in "${holds[@]}"; do wait "$p" && ok_procs=$((ok_procs + 1)); done

path_said() {
	if grep -q 'translate: from the SYN' "$FAITHD_LOG"; then echo "translating from the SYN"
	else echo "faithd's sockets, handing off after 1 MiB"; fi
}
report() {
	if [ -n "${APPEND:-}" ]; then echo; echo "## $(path_said)"
	else echo "# faithd scale test"; echo; echo "## $(path_said)"; fi
	echo
	echo "- $(date -u +%Y-%m-%dT%H:%MZ), Linux $(uname -r), $(nproc) CPUs"
	echo "- faithd -w $WORKERS${XL_ARGS[*]:+ ${XL_ARGS[*]}} ($(grep -o 'datapath [a-z]*' "$FAITHD_LOG" | head -1), the default; $(path_said)); $PROCS client processes x $PER connections, $PROCS server ports"
	echo
	echo "| measure | value |"
	echo "|---|---|"
	echo "| connections asked | $((PER * PROCS)) |"
	echo "| connections held at once (relayed, acknowledged end to end) | $held |"
	echo "| client processes that saw every connection through | $ok_procs of $PROCS |"
	echo "| time to establish them | $ms ms |"
	echo "| refusals or failures logged by faithd | $refused |"
	echo "| connections the translate program carries itself (no socket in faithd or the router) | $carried |"
	echo "| descriptors in faithd's workers (most in one worker) | $fds ($per_worker) |"
	echo "| faithd RSS, all processes: idle -> loaded | $rss0 KiB -> $rss1 KiB |"
	echo "| faithd RSS per connection | $(( (rss1 - rss0) * 1024 / (held ? held : 1) )) bytes |"
	echo "| kernel slab growth (whole machine: the client's and server's sockets, and the router's two for each connection faithd's sockets relay) | $(( (slab1 - slab0) / 1024 )) MiB |"
	echo
	if [ "$held" -ge "$TOTAL" ] && [ "$ok_procs" = $PROCS ] && [ "$refused" = 0 ]; then
		echo "Result: $held concurrent relayed connections without errors: target met."
	else
		echo "Result: target missed: $held of $TOTAL held; see the client lines below."
		for i in $(seq $PROCS); do sed 's/^/    /' "$TMP/hold$i"; done
	fi
}
report
if [ -n "$APPEND" ]; then report >>"$MD"; elif [ -n "$MD" ]; then report >"$MD"; fi
stop_faithd

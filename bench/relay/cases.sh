# shellcheck shell=bash
# The servers behind the relays and the measurements.  Every measurement
# appends lines "ROUND<TAB>CASE<TAB>METRIC<TAB>VALUE" to $RAW; report.py
# turns them into bench/results.md.

rec() { printf '%s\t%s\t%s\t%s\n' "$ROUND" "$CASE" "$1" "$2" >>"$RAW"; }
# note TEXT: a line for the report's notes (a failure, a skipped test).
note() { rec note "$*"; echo "bench: round $ROUND, $CASE: $*" >&2; }

SERVER_PIDS=()
# servers_up: in the server namespace, nginx (a tiny HTTP answer, for the
# connection rate and to hold idle connections) and an iperf3 server, on
# 192.0.2.2 and, for the direct case, 2001:db8:2::2.
servers_up() {
	cat >"$W/nginx-server.conf" <<CONF
worker_processes 2;
worker_rlimit_nofile 70000;
pid $W/nginx-server.pid;
error_log $W/nginx-server.err;
user root;
events { worker_connections 30000; }
http {
	access_log off;
	default_type text/plain;
	# Idle connections of the memory test stay open for its whole length.
	client_header_timeout 600s;
	keepalive_timeout 600s;
	client_body_temp_path $W/tmp;
	proxy_temp_path $W/tmp;
	fastcgi_temp_path $W/tmp;
	uwsgi_temp_path $W/tmp;
	scgi_temp_path $W/tmp;
	server {
		listen 192.0.2.2:80 backlog=65535;
		listen [2001:db8:2::2]:80 backlog=65535;
		location / { return 200 "hello from 192.0.2.2\n"; }
	}
}
CONF
	mkdir -p "$W/tmp"
	bg "$NS_S" nginx -e "$W/nginx-server.err" -c "$W/nginx-server.conf" -g 'daemon off;' >"$W/nginx-server.log" 2>&1
	SERVER_PIDS+=("$BG")
	iperf_server_up
	local i
	for i in $(seq 50); do
		S ss -Htln 'sport = :80' | grep -q . && S ss -Htln 'sport = :5201' | grep -q . && break
		sleep 0.1
	done
	# The direct path and the router's IPv4 leg work (the kernel finishes
	# setting up the links asynchronously).
	for i in $(seq 50); do
		C curl -s -m 1 -o /dev/null 'http://[2001:db8:2::2]/' &&
		R curl -s -m 1 -o /dev/null 'http://192.0.2.2/' && return 0
		sleep 0.1
	done
	echo "bench: the servers did not start or cannot be reached" >&2
	cat "$W/nginx-server.log" "$W/nginx-server.err" "$W/iperf3-server.log" >&2 2>/dev/null
	return 1
}
IPERF_PID=
iperf_server_up() {
	# iperf3 listens on [::] without IPV6_V6ONLY: both addresses.
	bg "$NS_S" iperf3 -s -p 5201 >"$W/iperf3-server.log" 2>&1
	IPERF_PID=$BG
	SERVER_PIDS+=("$IPERF_PID")
}
# An iperf3 server left in a bad state by a failed test refuses the next
# ones ("busy"): restart it.
iperf_server_restart() {
	kill "$IPERF_PID" 2>/dev/null; wait "$IPERF_PID" 2>/dev/null
	iperf_server_up
	local i
	for i in $(seq 30); do S ss -Htln 'sport = :5201' | grep -q . && return 0; sleep 0.1; done
}
servers_down() {
	local p
	for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${SERVER_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	SERVER_PIDS=()
}

# relay_cpu: CPU seconds the relay's processes used so far.
relay_cpu() {
	if [ -n "$CG" ]; then
		awk '{ printf "%.3f\n", $1 / 1e9 }' "$CG/cpuacct.usage"
	elif [ ${#RELAY_PIDS[@]} -gt 0 ]; then
		"$HERE/procstat.py" cpu "${RELAY_PIDS[@]}"
	else
		echo 0
	fi
}

# tput NAME STREAMS [-R]: one iperf3 run, client -> server ("up") or with
# -R server -> client ("down"); records Gbit/s, the bytes that arrived,
# and the relay's and the whole machine's CPU seconds over the run.
tput() {
	local name=$1 streams=$2 rev=${3:-} c0 c1 m0 m1 out
	c0=$(relay_cpu); m0=$("$HERE/procstat.py" machine)
	out=$W/iperf3-$CASE-$name.json
	C timeout $((DUR + 15)) iperf3 -c "$TARGET" -p 5201 -t "$DUR" -P "$streams" $rev -J >"$out" 2>&1
	c1=$(relay_cpu); m1=$("$HERE/procstat.py" machine)
	local res
	res=$(python3 - "$out" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError:
    print("error", open(sys.argv[1]).read().replace("\n", " ")[:150]); sys.exit()
if d.get("error"):
    print("error", d["error"]); sys.exit()
r = d["end"]["sum_received"]
print("ok", r["bits_per_second"] / 1e9, r["bytes"])
PY
)
	set -- $res
	if [ "$1" != ok ]; then
		shift; note "iperf3 $name: $*"
		iperf_server_restart
		return 1
	fi
	rec "tput.$name" "$2"
	rec "bytes.$name" "$3"
	rec "rcpu.$name" "$(echo "$c0 $c1" | awk '{ printf "%.3f", $2 - $1 }')"
	echo "$m0 $m1" | awk '{ printf "%.2f %.2f\n", $4 - $1, $5 - $2 }' | {
		read -r busy sirq; rec "mcpu.$name" "$busy"; rec "sirq.$name" "$sirq"; }
}

throughput() {
	tput up1 1; tput down1 1 -R; tput up4 4; tput down4 4 -R
}

# connrate: wrk, one request per connection (Connection: close), 2
# threads, $CONNS connections at a time: requests/s = connections/s, and
# the latency percentiles (wrk times from the request's write to the end
# of the response: a relay's upstream connect is inside it, the client's
# own handshake is not).
connrate() {
	local out=$W/wrk-$CASE.txt
	C timeout $((DUR + 20)) wrk -t2 -c"$CONNS" -d"${DUR}s" --latency -H 'Connection: close' \
		"http://[$TARGET]:80/" >"$out" 2>&1
	local res
	res=$(python3 - "$out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(v, u):
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[u]
rate = re.search(r"Requests/sec:\s+([\d.]+)", t)
pct = dict((p, ms(v, u)) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", t, re.M))
if not rate or "50" not in pct or "99" not in pct:
    print("error", t.replace("\n", " ")[:200]); sys.exit()
n = re.search(r"(\d+) requests in", t)
err = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", t))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
err += int(non2xx.group(1)) if non2xx else 0
print("ok", rate.group(1), pct["50"], pct["99"], n.group(1) if n else 0, err)
PY
)
	set -- $res
	if [ "$1" != ok ]; then shift; note "wrk: $*"; return 1; fi
	rec conn.rate "$2"; rec conn.p50 "$3"; rec conn.p99 "$4"; rec conn.n "$5"; rec conn.err "$6"
	[ "$6" -gt 0 ] && note "wrk: $6 socket errors or non-2xx answers out of $5 requests"
	return 0
}

IDLE_PID=
# server_conns: established connections the server has on port 80.
server_conns() { S ss -Htn state established '( sport = :80 )' | wc -l; }

# idle N [INFLIGHT]: hold N idle connections through the relay to the server's port
# 80 and record the growth of the relay's memory (RSS and PSS, all its
# processes) and of the kernel's slab, per connection.  The slab is the
# whole machine's, so it holds the client's and the server's sockets too:
# the report also gives it less the direct case's.
idle() {
	local n=$1 r0 m0 r1 m1 out=$W/idle-$CASE.out i got
	sleep 0.5
	r0=$("$HERE/procstat.py" mem "${RELAY_PIDS[@]}")
	m0=$("$HERE/procstat.py" machine)
	# A relay that forks per connection accepts slowly: a burst of 256
	# handshakes overflows its accept queue (6tunnel's in particular) and
	# the overflowed connections look open to the client but never reach
	# the relay.  Fewer at a time for those.
	bg "$NS_C" "$HERE/idle.py" "$TARGET" 80 "$n" 30 "${2:-256}" >"$out" 2>&1
	IDLE_PID=$BG
	local t0=$SECONDS
	for i in $(seq 400); do grep -q '^ready' "$out" && break; kill -0 "$IDLE_PID" 2>/dev/null || break; sleep 0.1; done
	got=$(awk '/^ready/ { print $2 }' "$out")
	if [ -z "$got" ] || [ "$got" -lt "$n" ]; then
		note "idle: $(tr '\n' ' ' <"$out" | cut -c1-150) of $n (opened, failed)"
	fi
	# The relay accepted them; wait until it has connected each upstream.
	# Give up after 15 s, or once the count has not moved for 2 s.
	local up last=-1 still=0
	for i in $(seq 150); do
		up=$(server_conns)
		[ "$up" -ge "${got:-0}" ] && break
		if [ "$up" = "$last" ]; then still=$((still + 1)); [ $still -ge 20 ] && break; else still=0; fi
		last=$up
		sleep 0.1
	done
	up=$(server_conns)
	sleep 1
	r1=$("$HERE/procstat.py" mem "${RELAY_PIDS[@]}")
	m1=$("$HERE/procstat.py" machine)
	local t1=$SECONDS
	kill "$IDLE_PID" 2>/dev/null; wait "$IDLE_PID" 2>/dev/null; IDLE_PID=
	# Let the resets reach the server before the next case.
	for i in $(seq 100); do [ "$(server_conns)" -le 0 ] && break; sleep 0.1; done
	echo "bench:   $got idle connections: $((t1 - t0)) s to open and measure, $((SECONDS - t1)) s to close" >&2
	[ -n "$got" ] && [ "$got" -gt 0 ] || return 1
	[ "$up" -lt "$got" ] && note "idle: only $up of $got connections reached the server"
	rec mem.n "$got"
	echo "$r0 $r1 $m0 $m1" | awk '{ printf "%d %d %d %d %d\n", $4 - $1, $5 - $2, $12 - $9, $4, $6 }' | {
		read -r rss pss slab rsstot nproc
		rec mem.rss "$rss"; rec mem.pss "$pss"; rec mem.slab "$slab"
		rec mem.rsstotal "$rsstot"; rec mem.nproc "$nproc"
	}
}

# fwdcost NAME STREAMS FIRST [-R]: the cost of faith to traffic it does not
# capture.  One iperf3 run of FWD_SEGS x FWD_SEG seconds over routed IPv6
# (TARGET, outside faith's prefixes) while fwdcost.py, on the router,
# detaches and attaches faith every FWD_SEG seconds (starting FIRST) and
# meters each segment after a short settling time.  Records per segment
# (ROUND = the segment's number): fwd.NAME.att (1 attached, 0 detached),
# .gbps, .bytes, .busy (machine CPU s), and for attached segments .cls,
# .cap (faith's classified and captured counters), .progns, .progruns
# (faith's TC program: run time and runs, kernel-accounted), .spanbytes
# and .spansec (bytes sent and seconds over the attached span).
fwdcost() {
	local name=$1 streams=$2 first=$3 rev=${4:-} dev=eth1 t ipc
	local out=$W/fwdcost-$name.out json=$W/iperf3-fwd-$name.json
	# Client to server leaves the router by eth1, server to client by eth0.
	[ -n "$rev" ] && dev=eth0
	t=$(awk -v n="$FWD_SEGS" -v s="$FWD_SEG" 'BEGIN { printf "%d", n * s + 3 }')
	bg "$NS_C" timeout $((t + 15)) iperf3 -c "$TARGET" -p 5201 -t "$t" -P "$streams" $rev -J >"$json" 2>&1
	ipc=$BG
	# Past the slow start before the first segment.
	sleep 1.5
	R "$HERE/fwdcost.py" "$TOP/faith-loader" "$FAITH_PIN_DIR/prog_tc" eth0 "$dev" \
		"$FWD_SEGS" "$FWD_SEG" "$FWD_SETTLE" "$first" >"$out" 2>&1
	wait "$ipc"
	grep -q '"error"' "$json" && { note "iperf3 fwd.$name: $(grep '"error"' "$json" | head -1)"; iperf_server_restart; }
	grep '^error\|^note\|Traceback' "$out" | while read -r l; do note "fwdcost $name: $l"; done
	awk -v r="$ROUND" -v c="$CASE" -v n="$name" -v OFS='\t' '$1 == "seg" {
		k = $2; att = ($3 == "attached")
		print k, c, "fwd." n ".att", att
		print k, c, "fwd." n ".gbps", $6
		print k, c, "fwd." n ".bytes", $5
		print k, c, "fwd." n ".busy", $7
		if (att) {
			print k, c, "fwd." n ".cls", $10; print k, c, "fwd." n ".cap", $11
			print k, c, "fwd." n ".progns", $12; print k, c, "fwd." n ".progruns", $13
			print k, c, "fwd." n ".spanbytes", $14
			print k, c, "fwd." n ".spansec", $15
		}
	}' "$out" >>"$RAW"
	echo "bench:   fwdcost $name: $(grep -c '^seg' "$out") segments" >&2
}

forwarding_cost() {
	fwdcost up1 1 detached; fwdcost down1 1 attached -R
	fwdcost up4 4 attached; fwdcost down4 4 detached -R
}

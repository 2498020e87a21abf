#!/bin/bash
# faith-loader's life cycle and error handling: idempotent attach, clear
# errors that leave state untouched, relays registered from outside with
# pidfd_getfd, and an unload that leaves nothing behind.
. "$(dirname "$0")/lib.sh"
need_root
topo_up

# Nothing loaded yet.
check "status when not loaded says so" R sh -c "'$LOADER' status | grep -q 'not loaded'"
check "status -j when not loaded is JSON" R sh -c "'$LOADER' status -j | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"loaded\"] is False'"
check "unload when nothing is loaded: exit 0" faith unload
unchanged "attach to a missing interface" faith attach nosuch0
check "a failed attach pinned nothing" test ! -e "$FAITH_PIN_DIR"
unchanged "detach when not loaded" faith detach eth0
unchanged "route list when not loaded" faith route list

# Load, attach twice.
check "attach eth0" faith attach eth0
out=$(faith attach eth0); rc=$?
[ $rc = 0 ] && grep -q "already attached" <<<"$out" && ok "attach again: exit 0, '$out'" || notok "attach again: rc=$rc '$out'"
check "one filter after two attaches" test "$(R tc filter show dev eth0 ingress | grep -c 'faith_tc')" = 1
check "route add 64:ff9b::/96" faith route add 64:ff9b::/96
check "keepfaith 1" faith keepfaith 1

# Bad input: clear error, non-zero exit, state untouched.
for p in ::/0 64:ff9b::/97 ::ffff:0:0/96 fe80::/64 ff02::/16 ::/96 64:ff9b::1/96 garbage 64:ff9b::/; do
	unchanged "route add $p is refused" faith route add 2001:db8:99::/48 "$p"
done
unchanged "route del of a prefix not configured" faith route del 2001:db8:77::/48
unchanged "keepfaith 2" faith keepfaith 2
unchanged "unknown verb" faith frobnicate
unchanged "unknown option" faith attach eth0 --frob
unchanged "relay add without --fd" faith relay add 80
unchanged "relay add port 0" faith relay add 0 --fd 0
unchanged "relay add port 65536" faith relay add 65536 --fd 0
unchanged "relay add of a process that does not exist" faith relay add 80 --pid 999999 --fd 3
unchanged "relay add of a non-socket fd (our stdin)" faith relay add 80 --fd 0
R_bg socat -u UDP6-RECV:5353 /dev/null; udp=$BG_PID
sleep 0.3
udpfd=$(ls -l /proc/$udp/fd | awk '/socket:/ { print $9; exit }')
unchanged "relay add of a UDP socket" faith relay add 80 --pid "$udp" --fd "$udpfd"
unchanged "relay del of a port without relay" faith relay del 8080
unchanged "detach an interface faith is not on" faith detach lo
unchanged "xdp-mode bogus" faith attach eth0 --xdp-mode bogus
# Enter the namespace first, then drop privileges: faith-loader itself
# must be the one that is refused.
nobody() { nsenter --net="/run/netns/$NS_R" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }
unchanged "as an unprivileged user" nobody "$LOADER" route add 2001:db8:5::/48
out=$(nobody "$LOADER" route add 2001:db8:5::/48 2>&1)
grep -q "permission denied" <<<"$out" && ok "the refusal says why: $out" || notok "unprivileged refusal unclear: $out"
check "--help for every verb" R sh -c "for v in attach detach unload route keepfaith relay status; do '$LOADER' \$v --help | grep -q \"Usage: faith-loader \$v\" || exit 1; done"

# A relay without privilege, registered from outside with pidfd_getfd.
start_relay --no-register --tag outside
check "relay add 80 --pid --fd (pidfd_getfd)" faith relay add 80 --pid "$RELAY_PID" --fd "$RELAY_FD"
check "relay list shows port 80" R sh -c "'$LOADER' relay list | grep -q '^80 '"
check "relay list -j is JSON" R sh -c "'$LOADER' relay list -j | python3 -c 'import json,sys; assert json.load(sys.stdin)[0][\"port\"] == \"80\"'"
out=$(connect 64:ff9b::c000:202 80)
grep -qx 'DST \[64:ff9b::c000:202\]:80 outside' <<<"$out" && ok "the outside-registered relay gets the connection" || { notok "outside relay"; echo "$out"; }
stop_pid "$RELAY_PID"
check "a closed relay socket leaves the relays map" test -z "$(faith relay list)"

check "bpftool dumps prefixes with named fields" sh -c "bpftool map dump pinned '$FAITH_PIN_DIR/prefixes' | grep -q prefixlen"
check "bpftool dumps control with named fields" sh -c "bpftool map dump pinned '$FAITH_PIN_DIR/control' | grep -q keepfaith"
check "bpftool dumps stats with named fields" sh -c "bpftool map dump pinned '$FAITH_PIN_DIR/stats' | grep -q tcp_captured"
check "status -j is JSON with every section" R sh -c "'$LOADER' status -j | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"keepfaith\"]==1 and d[\"prefixes\"]==[\"64:ff9b::/96\"] and d[\"interfaces\"][0][\"mode\"]==\"tc\" and d[\"rule\"] and d[\"route\"]'"

# Someone else's clsact filter survives our detach.
R tc filter add dev eth0 egress prio 7 u32 match u32 0 0 flowid 1:1
check "detach eth0" faith detach eth0
check "our filter is gone" test -z "$(R tc filter show dev eth0 ingress)"
check "a foreign clsact filter keeps its qdisc" sh -c "nsenter --net=/run/netns/$NS_R tc filter show dev eth0 egress | grep -q u32"
R tc qdisc del dev eth0 clsact

# Unload leaves no residue.
check "attach --xdp" faith attach eth0 --xdp
netns_ino=$(stat -L -c %i "/run/netns/$NS_R")
# A pin directory with part of faith (left by another version): every
# verb says what to do, and unload still removes all of it.
rm -f "$FAITH_PIN_DIR/pindex_blocks"
expect 1 "status with a pin missing: exit 1" faith status
said "incomplete \(no 'pindex_blocks'.*faith-loader unload" "... naming the missing pin and what to do"
expect 1 "route add with a map missing: exit 1" faith route add 2001:db8:5::/48
said "lacks its map 'pindex_blocks'.*faith-loader unload" "... naming it and what to do"
expect 1 "attach with a map missing: exit 1" faith attach eth0
check "... nothing recreated" test ! -e "$FAITH_PIN_DIR/pindex_blocks"
check "unload" faith unload
check "no pin directory" test ! -e "$FAITH_PIN_DIR"
check "no fwmark rule" sh -c "! nsenter --net=/run/netns/$NS_R ip -6 rule show | grep -q fwmark"
check "no route table 64023" test -z "$(R ip -6 route show table 64023 2>/dev/null)"
check "no clsact qdisc" sh -c "! nsenter --net=/run/netns/$NS_R tc qdisc show dev eth0 | grep -q clsact"
check "no XDP program" sh -c "! nsenter --net=/run/netns/$NS_R ip link show dev eth0 | grep -q xdp"
check "no sk_lookup link in this namespace" sh -c "! bpftool link show | grep -A1 sk_lookup | grep -q 'netns_ino $netns_ino'"
out=$(connect 64:ff9b::c000:202 80)
grep -q '^DST' <<<"$out" && notok "after unload: still captured" || ok "after unload: not captured"

# A pin directory outside any bpf filesystem gets one mounted on itself,
# and unload takes it away again.
FAITH_PIN_DIR=$TMP/pins
check "attach with a pin directory on tmpfs" faith attach eth0
check "a bpf filesystem was mounted there" test "$(stat -f -c %T "$FAITH_PIN_DIR")" = bpf_fs
check "route list through it" faith route list
check "unload" faith unload
check "unmounted and removed" test ! -e "$FAITH_PIN_DIR"
finish

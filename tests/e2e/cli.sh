#!/bin/bash
# faith-loader's command line: options before the verb as after it, exit
# status 2 for bad input and 1 for failures, decimal-only --fd/--pid, -j
# output of every verb, and refusals that protect state not faith's own: a
# foreign TC filter, another namespace's datapath, a private mount namespace.
. "$(dirname "$0")/lib.sh"
need_root
topo_up

NONE=$TMP/none		# a pin directory that never exists

# Options go before or after the verb, the same way.
check_json "-jv --pin-dir DIR before the verb" "d == {'pin_dir': '$NONE', 'loaded': False}" \
	faith -jv --pin-dir "$NONE" status
check_json "--pin-dir=DIR -j before the verb" "d['pin_dir'] == '$NONE'" faith --pin-dir="$NONE" -j status
check_json "options on both sides of the verb" "d['pin_dir'] == '$NONE'" faith -v status -j --pin-dir "$NONE"
check_json "-jv after the verb" "d['loaded'] is False" faith status -jv
expect 2 "--pin-dir without a value after the verb: exit 2" faith status --pin-dir
said "needs a value" "... saying it needs a value"
expect 2 "--pin-dir without a value before the verb: exit 2" faith --pin-dir
expect 2 "an unknown option before the verb: exit 2" faith --frob status
said "faith-loader status: unknown option '--frob'" "... named by the verb"
expect 0 "--help without a verb: exit 0" faith --help
said "^Usage: faith-loader \[OPTIONS\] VERB" "... the global usage"
expect 0 "-h without a verb: exit 0" faith -h
said "^Usage: faith-loader \[OPTIONS\] VERB" "... the global usage"
expect 0 "help: exit 0" faith help
said "^Usage: faith-loader \[OPTIONS\] VERB" "... the global usage"
expect 0 "-h before a verb: that verb's help" faith -h status
said "^Usage: faith-loader status$" "... its usage line, no trailing space"
expect 2 "no verb at all: exit 2" faith
expect 2 "options but no verb: exit 2" faith -j
said "missing verb" "... saying the verb is missing"
check "no usage line ends with a space" R sh -c "
	for v in attach detach unload route keepfaith relay status; do
		'$LOADER' \$v --help | head -1
	done | grep -q ' \$' && exit 1
	! '$LOADER' help | grep -q ' \$'"
expect 0 "help lists the verbs" faith help
said "route add\|del PREFIX\.\.\. \| list\|show$" "... route's synopsis names show"
said "relay .* \| list\|show$" "... relay's too"

# A filter of someone else's at faith's handle and priority: attach refuses
# and leaves it, and everything else, alone.
R tc qdisc add dev eth0 clsact
R tc filter add dev eth0 ingress handle 0xfa17 prio 0xfa1 protocol all u32 match u32 0 0 flowid 1:1
unchanged_rc 1 "attach over a foreign u32 filter: exit 1" faith attach eth0
said "eth0 .*'u32'.*will not replace" "... naming the interface and the filter"
check "the u32 filter is still there" sh -c "nsenter --net=/run/netns/$NS_R tc filter show dev eth0 ingress | grep -q 'pref 4001 u32'"
check "the refused attach loaded nothing" test ! -e "$FAITH_PIN_DIR"
R tc filter del dev eth0 ingress prio 0xfa1
cat >"$TMP/other.bpf.c" <<'EOF'
__attribute__((section("tc"), used)) int other_tc(void *skb) { return -1; }
char _license[] __attribute__((section("license"), used)) = "GPL";
EOF
# tc's object loader sets up /sys/fs/bpf/tc (ip, xdp): remove it again.
tc_dirs=$(ls -d /sys/fs/bpf/tc /sys/fs/bpf/ip /sys/fs/bpf/xdp 2>/dev/null)
if clang -O2 -target bpf -c "$TMP/other.bpf.c" -o "$TMP/other.bpf.o" 2>/dev/null &&
   R tc filter add dev eth0 ingress handle 0xfa17 prio 0xfa1 protocol all bpf da obj "$TMP/other.bpf.o" sec tc; then
	unchanged_rc 1 "attach over a foreign BPF program at faith's handle: exit 1" faith attach eth0
	said "eth0 .*'other_tc' \(id [0-9]+\).*will not replace" "... naming the interface and the program"
	check "the foreign program is still there" sh -c "nsenter --net=/run/netns/$NS_R tc filter show dev eth0 ingress | grep -q 'name other_tc'"
	R tc filter del dev eth0 ingress handle 0xfa17 prio 0xfa1 protocol all bpf
	if [ -z "$tc_dirs" ]; then
		rmdir /sys/fs/bpf/tc/globals /sys/fs/bpf/tc && rm -f /sys/fs/bpf/ip /sys/fs/bpf/xdp
	fi
else
	echo "skip - no clang for a foreign BPF program"
fi
R tc qdisc del dev eth0 clsact

check "attach eth0" faith attach eth0
check "keepfaith 1" faith keepfaith 1

# Bad input exits 2, failures exit 1; either way nothing changes.
for p in garbage ::/0 64:ff9b::/97 ::ffff:0:0/96 fe80::/64 64:ff9b::1/96 64:ff9b::/; do
	unchanged_rc 2 "route add $p: exit 2" faith route add 2001:db8:99::/48 "$p"
done
said "bad prefix '64:ff9b::/'" "... naming the prefix"
unchanged_rc 2 "route del garbage: exit 2" faith route del garbage
unchanged_rc 2 "relay add port 0: exit 2" faith relay add 0 --fd 0
unchanged_rc 2 "relay del port 0x50: exit 2" faith relay del 0x50
unchanged_rc 2 "keepfaith 2: exit 2" faith keepfaith 2
unchanged_rc 2 "--xdp-mode bogus: exit 2" faith attach eth0 --xdp-mode bogus
said "xdp-mode.*'bogus'" "... naming the value"
unchanged_rc 1 "route del of a prefix not configured: exit 1" faith route del 2001:db8:77::/48
unchanged_rc 1 "attach to a missing interface: exit 1" faith attach nosuch0
unchanged_rc 1 "relay del of a port without relay: exit 1" faith relay del 8080

# --fd and --pid: decimal only, and only for relay add.
for v in 010 0x3 +3 " 3" 3x -1 "" 99999999999; do
	unchanged_rc 2 "--fd '$v' is refused: exit 2" faith relay add 80 --fd "$v"
done
said "bad --fd '99999999999': expected a decimal" "... saying what is wrong"
for v in 010 0x10 0; do
	unchanged_rc 2 "--pid '$v' is refused: exit 2" faith relay add 80 --pid "$v" --fd 3
done
said "bad --pid '0'" "... naming it"
unchanged_rc 2 "relay del with --fd: exit 2" faith relay del 80 --fd 3
said "only" "... saying they go with relay add only"
unchanged_rc 2 "relay del with --pid: exit 2" faith relay del 80 --pid 1
unchanged_rc 2 "relay list with --fd: exit 2" faith relay list --fd 3
unchanged_rc 2 "relay show with --pid: exit 2" faith relay show --pid 1

# -j: every verb prints one JSON document.
check_json "route add -j" "d == {'added': ['64:ff9b::/96', '2001:db8:64::/48']}" \
	faith route add -j 64:ff9b::/96 2001:db8:64:0::/48
check_json "route del -j" "d == {'deleted': ['2001:db8:64::/48']}" faith -j route del 2001:db8:64::/48
check_json "route list -j" "d == ['64:ff9b::/96']" faith route list -j
check_json "route show -j" "d == ['64:ff9b::/96']" faith -j route show
check "route add without -j prints nothing" test -z "$(faith route add 2001:db8:65::/48)"
# Nested prefixes are distinct entries (a trie lookup alone would see the
# /96 as "present" inside the /48).
check "route add of a /96 inside a configured /48" faith route add 2001:db8:65:96::/96
check_json "... both listed" "'2001:db8:65::/48' in d and '2001:db8:65:96::/96' in d" faith route list -j
unchanged "route del of a /64 inside the /48 that is not configured" faith route del 2001:db8:65:1::/64
said "not configured" "... saying it is not configured"
check "route del of the nested /96" faith route del 2001:db8:65:96::/96
check "route del without -j prints nothing" test -z "$(faith route del 2001:db8:65::/48)"
# The index's /32 filter: on while every prefix is /32 or longer.
check_json "status -j: the prefix index with its /32 filter" \
	"d['lookup'] == 'index' and d['prefix_lengths'] == 1 and d['filter_32'] is True" faith status -j
check "route add of a /24" faith route add 3fff:100::/24
check_json "... status -j: the /32 filter off" \
	"d['lookup'] == 'index' and d['prefix_lengths'] == 2 and d['filter_32'] is False" faith status -j
check "status says so" sh -c "'$LOADER' status | grep -qE '^lookup: index \(2 prefix lengths, at most 2 probes\)\$'"
check "route del of the /24" faith route del 3fff:100::/24
check "status: the filter back on" sh -c "'$LOADER' status | grep -q '/32 filter'"
# Two lengths in one /32: block tables below the filter take the address
# a byte at a time (here 00, then 66 or 67), then one probe decides.
check "route add of a /48 and a /64 in 2001:db8::/32" faith route add 2001:db8:66::/48 2001:db8:67:1::/64
check_json "... status -j: two block tables" \
	"d['prefix_lengths'] == 3 and d['filter_32'] is True and d['block_tables'] == 2" faith status -j
check "... status says so" sh -c "'$LOADER' status | grep -qE '^lookup: index \(3 prefix lengths, at most 2 probes, /32 filter, 2 block tables of [0-9]+\)\$'"
check "... bpftool dumps pindex_blocks with named fields" sh -c "bpftool map dump pinned '$FAITH_PIN_DIR/pindex_blocks' | grep -q '\"next\"'"
check "route del of both" faith route del 2001:db8:66::/48 2001:db8:67:1::/64
check_json "... no block table" "d['block_tables'] == 0" faith status -j
check_json "keepfaith 1 -j" "d == {'keepfaith': 1}" faith keepfaith 1 -j
check "keepfaith 1 without -j prints nothing" test -z "$(faith keepfaith 1)"
check_json "attach -j" "d['result'] == 'already attached' and d['mode'] == 'tc'" faith -j attach eth0
start_relay --no-register --tag cli
check_json "relay add -j (decimal --pid and --fd)" "d['port'] == '80' and d['cookie'] > 0" \
	faith -j relay add 80 --pid "$RELAY_PID" --fd "$RELAY_FD"
check_json "relay list -j" "d[0]['port'] == '80'" faith relay list -j
check_json "relay del -j" "d == {'port': '80', 'deleted': True}" faith relay del 80 -j
stop_pid "$RELAY_PID"
check_json "status -j" "d['loaded'] and d['prefixes'] == ['64:ff9b::/96']" faith status -j

# The datapath belongs to the router's namespace: the client's refuses to
# touch it, even with the same pin directory.
unchanged_rc 1 "unload from another network namespace: exit 1" C "$LOADER" unload
said "another network namespace" "... saying why"
unchanged_rc 1 "detach from another network namespace: exit 1" C "$LOADER" detach eth0
said "another network namespace" "... saying why"
unchanged_rc 1 "attach from another network namespace: exit 1" C "$LOADER" attach eth0
check "nothing of faith in the client namespace" sh -c "! nsenter --net=/run/netns/$NS_C ip -6 rule show | grep -q fwmark"

# ip netns exec gives each command a private mount namespace and /sys: a
# bpffs mounted there would vanish with the pins, leaving rule and route.
X_PINS=/sys/fs/bpf/$ID-x
expect 1 "attach under ip netns exec: exit 1" ip netns exec "$NS_C" env FAITH_PIN_DIR="$X_PINS" "$LOADER" attach eth0
said "refusing to mount a bpf filesystem in a private mount namespace \(ip netns exec\?\)" "... saying why"
check "no fwmark rule left in that namespace" sh -c "! nsenter --net=/run/netns/$NS_C ip -6 rule show | grep -q fwmark"
check "no route table 64023 left in that namespace" test -z "$(C ip -6 route show table 64023 2>/dev/null)"
check "no pin directory" test ! -e "$X_PINS"

# unload: JSON, also from a partial state without the link pin.
rm "$FAITH_PIN_DIR/link_sk_lookup"
check_json "unload -j without the link pin" "d == {'pin_dir': '$FAITH_PIN_DIR', 'unloaded': True}" faith unload -j
check "no pin directory" test ! -e "$FAITH_PIN_DIR"
check "no fwmark rule" sh -c "! nsenter --net=/run/netns/$NS_R ip -6 rule show | grep -q fwmark"
check_json "unload -j when nothing is loaded" "d == {'pin_dir': '$FAITH_PIN_DIR', 'unloaded': False}" faith -j unload
finish

#!/bin/bash
# The README's main job: scripts/demo.sh relays a real IPv6-only client to
# a real IPv4-only web server, and leaves nothing behind.
. "$(dirname "$0")/lib.sh"
need_root
trap 'rm -rf "$TMP"' EXIT

out=$(timeout 300 "$TOP/scripts/demo.sh" 2>&1); rc=$?
if [ $rc = 0 ] && grep -q '^Hello from 192.0.2.2, an IPv4-only server' <<<"$out"; then
	ok "demo: the IPv6-only client fetched the IPv4-only server's page"
else
	notok "demo: exit $rc"; tail -20 <<<"$out" | sed 's/^/#   /'
fi
check "demo: no namespace left" sh -c "! ip netns list | grep -q faith-demo"
check "demo: no pin directory left" sh -c "! ls /sys/fs/bpf | grep -q faith-demo"
finish

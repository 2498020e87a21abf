#!/bin/sh
# Install what the relay benchmark (make bench) needs, from Debian's archive.
# A list of its own, installed by scripts/deps.sh, so that CI does not pay for it.
# linux-perf: the CPU profiles (bench/relay/profile.sh).
#
# nginx's stream proxy: in Debian 12 the `nginx` binary package (pulled in
# by nginx-light, which scripts/deps.sh installs) is built with
# --with-stream=dynamic; the module itself is libnginx-mod-stream, which
# nginx-core and nginx-full depend on.  Installing it alone is enough.
exec "$(dirname "$0")/deps.sh" haproxy nginx libnginx-mod-stream wrk iperf3 socat \
	6tunnel gnuplot-nox nftables python3 procps iproute2 util-linux linux-perf

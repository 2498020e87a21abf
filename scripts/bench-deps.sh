#!/bin/sh
# Install what the relay benchmark (make bench) needs, from Debian's archive.
# Kept apart from scripts/deps.sh so that CI does not pay for it.
#
# nginx's stream proxy: in Debian 12 the `nginx` binary package (pulled in
# by nginx-light, which scripts/deps.sh installs) is built with
# --with-stream=dynamic; the module itself is libnginx-mod-stream, which
# nginx-core and nginx-full depend on.  Installing it alone is enough.
set -eu
PKGS="haproxy nginx libnginx-mod-stream wrk iperf3 socat 6tunnel
      gnuplot-nox nftables python3 procps iproute2 util-linux"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "bench-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# haproxy, nginx and iperf3 ship services that start when installed; the
# benchmark runs its own instances in network namespaces, so keep the
# host's stopped (the same guard as scripts/deps.sh).
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing

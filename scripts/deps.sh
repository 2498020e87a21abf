#!/bin/sh
# Install what faith needs to build, test and demo, from Debian's archive.
# With arguments, install those packages instead (scripts/bench-deps.sh).
set -eu
PKGS="make gcc libc6-dev clang llvm libbpf-dev libelf-dev zlib1g-dev
      linux-libc-dev bpftool iproute2 util-linux socat python3 curl
      procps valgrind nginx-light"
[ $# -gt 0 ] && PKGS="$*"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# Packages such as nginx, haproxy and iperf3 start their service when
# installed; tests and benchmarks run their own instances in network
# namespaces, so keep the host's stopped.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing

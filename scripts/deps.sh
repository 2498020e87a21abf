#!/bin/sh
# Install what faith needs to build, test and demo, from Debian's archive.
set -eu
PKGS="make gcc libc6-dev clang llvm libbpf-dev libelf-dev zlib1g-dev
      linux-libc-dev bpftool iproute2 util-linux socat python3 curl
      procps valgrind"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing

#!/bin/sh
# Install the Debian packages f8npu needs (docs: ../README.md). Quiet and fast when
# everything is there; otherwise apt-get as root (or through sudo).
set -eu
PKGS="make gcc g++ libc6-dev pkg-config check python3 verilator yosys"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing

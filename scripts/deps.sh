#!/bin/sh
# Install the Debian packages f8npu needs (docs: ../README.md). Quiet and fast when
# everything is there; otherwise apt-get as root (or through sudo).
set -eu
PKGS="make gcc g++ libc6-dev pkg-config check python3 verilator yosys"
# The training engine: BLAS, gzip'd datasets, and Fashion-MNIST itself.
PKGS="$PKGS libopenblas-dev zlib1g-dev dataset-fashion-mnist"
# The kernel driver's userspace (libdrm, libfdt for f8 dtbo), its headers and sparse (make
# module-sparse), and the VM tests
# (tests/vm/run-vm.sh: QEMU, a static busybox, cpio and modinfo for the initramfs).
PKGS="$PKGS libdrm-dev libfdt-dev linux-headers-amd64 sparse qemu-system-x86 busybox-static cpio kmod"
# `scripts/deps.sh bench`: also the peer framework the training bench compares against.
[ "${1:-}" = bench ] && PKGS="$PKGS python3-torch python3-torchvision"
# `scripts/deps.sh cross`: the kernel build tools and cross compilers of make module-cross.
[ "${1:-}" = cross ] && PKGS="$PKGS flex bison bc libssl-dev libelf-dev gcc-arm-linux-gnueabihf gcc-aarch64-linux-gnu"

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

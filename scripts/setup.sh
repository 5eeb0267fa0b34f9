#!/usr/bin/env bash
# Installs what lkvm needs to build and test on Debian, and fetches the
# kernel used by the Linux smoke test into a cache outside the repo.
# Idempotent and quick when everything is already there.
#
#   scripts/setup.sh            install missing packages, fetch kernel
#   LKVM_CACHE=dir              where downloads are kept (~/.cache/lkvm)
set -euo pipefail

# Build: compiler, libraries (libseccomp-dev: the per-thread syscall
# filters, kvm/seccomp.c).  Test: prove (perl), qemu for the
# differential checks, clang for the second-compiler build check and
# the fuzz targets (libclang-rt-dev: libFuzzer and the sanitizer runtimes,
# only recommended by clang, and we install without recommends; llvm:
# llvm-cov and llvm-profdata for `make fuzz-cov`).  `make bench`: fio
# (the host's own I/O figures) and gnuplot-nox (the plot).
PKGS=(make gcc libc6-dev pkg-config libfdt-dev libaio-dev zlib1g-dev
      perl clang libclang-rt-dev qemu-system-x86 qemu-utils bsdutils procps
      libslirp-dev iproute2 cpio spin llvm libseccomp-dev fio gnuplot-nox)

cache=${LKVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lkvm}

as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "setup: need root to run: $*" >&2
		return 1
	fi
}

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
fi

# The Linux early-boot smoke test boots Debian's cloud kernel.  Only the
# .deb is fetched (apt-get download needs no root) and unpacked into the
# cache; the host's own /boot is never touched.
fetch_cloud_kernel() {
	local dir=$cache/linux-cloud-amd64 deb meta dep
	[ -s "$dir/vmlinuz" ] && return 0
	mkdir -p "$dir" || return 1
	# Called in an || list, where set -e is off: every step checks itself.
	(
		cd "$dir" || exit 1
		# The metapackage only depends on the versioned image package.
		apt-get download linux-image-cloud-amd64 >/dev/null 2>&1 ||
			{ as_root apt-get update -qq &&
			  apt-get download linux-image-cloud-amd64 >/dev/null; } ||
			exit 1
		meta=$(ls linux-image-cloud-amd64_*.deb | head -1)
		[ -n "$meta" ] || exit 1
		dep=$(dpkg-deb -f "$meta" Depends | tr ',' '\n' |
			sed -n 's/^ *\(linux-image-[0-9][^ ]*-cloud-amd64\).*/\1/p' |
			head -1)
		[ -n "$dep" ] || dep=$(dpkg-deb -f "$meta" Depends | tr ',' '\n' |
			sed -n 's/^ *\(linux-image-[^ ]*cloud-amd64[^ ]*\).*/\1/p' | head -1)
		[ -n "$dep" ] || exit 1
		apt-get download "$dep" >/dev/null 2>&1 || exit 1
		deb=$(ls "$dep"_*.deb | head -1)
		rm -rf x && mkdir x && dpkg-deb -x "$deb" x || exit 1
		cp x/boot/vmlinuz-* vmlinuz.tmp && mv vmlinuz.tmp vmlinuz || exit 1
		basename "$deb" > version
		rm -rf x ./*.deb
	)
}

# Least privilege: lkvm runs as any user in group kvm, and `make check`
# (run as root) runs the guest suite as the ordinary user lkvm-test.
# Debian's udev gives /dev/kvm to group kvm, mode 0660 (the KERNEL=="kvm"
# line of /usr/lib/udev/rules.d/50-udev-default.rules); the same is done
# here by hand for machines (containers, CI) where udev does not run.
# Only as root, and only what is missing; without root the user's own
# access to /dev/kvm decides.
setup_kvm_group() {
	getent group kvm >/dev/null || groupadd --system kvm || return 1
	if [ -c /dev/kvm ]; then
		chgrp kvm /dev/kvm && chmod 0660 /dev/kvm || return 1
	fi
	if ! id lkvm-test >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin --user-group --groups kvm \
			--comment "lkvm test suite" lkvm-test || return 1
	elif ! id -nG lkvm-test | grep -qw kvm; then
		usermod -a -G kvm lkvm-test || return 1
	fi
}
if [ "$(id -u)" = 0 ]; then
	setup_kvm_group || echo "setup: could not set up group kvm, /dev/kvm or user lkvm-test; make check runs the guest suite as root and says so" >&2
fi

"$(dirname "$0")/setup-arm64.sh"	# cross toolchain, arm64 sysroot, kernel, busybox
if [ "$(uname -m)" = x86_64 ]; then
	fetch_cloud_kernel || echo "setup: could not fetch the cloud kernel; the Linux smoke test will say so" >&2
fi
exit 0

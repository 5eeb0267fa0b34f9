#!/usr/bin/env bash
# arm64 set-up, called from scripts/setup.sh: the cross compiler, the
# L1 machine (qemu-system-aarch64), qemu-aarch64-static (runs the arm
# unit tests on an x86 host), dtc, and into the cache (outside the
# repo) an arm64 sysroot with the static libraries lkvm links against,
# libslirp and glib for the dynamic variant (make ARM64_DYNAMIC=1, -n
# mode=user), Debian's arm64 kernel (and its virtio modules) and busybox
# for the nested boot tests.
# Idempotent; quick when everything is there.  Never fails setup.sh as a
# whole: the arm64 tests say what is missing and skip.
#
#   LKVM_CACHE=dir     where downloads are kept (~/.cache/lkvm)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${LKVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lkvm}

as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "setup-arm64: need root to run: $*" >&2
		return 1
	fi
}

PKGS=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm
      qemu-user-static device-tree-compiler cpio)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed" || missing+=("$p")
done
need_update=
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	as_root dpkg --add-architecture arm64 || exit 0
	need_update=1
fi
if [ ${#missing[@]} -gt 0 ] || [ -n "$need_update" ]; then
	echo "setup-arm64: installing ${missing[*]}"
	as_root apt-get update -qq || true
	if [ ${#missing[@]} -gt 0 ]; then
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "${missing[@]}" >/dev/null ||
			echo "setup-arm64: could not install ${missing[*]}" >&2
	fi
fi

"$here/arm64-fetch.sh" || echo "setup-arm64: could not fetch the arm64 packages; the arm64 tests will say so" >&2
exit 0

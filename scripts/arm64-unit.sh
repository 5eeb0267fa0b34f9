#!/usr/bin/env bash
# Runs the arm64-only unit tests (tests/unit/arm/*.c that need the arm
# objects) on an x86 host: cross-builds them statically into
# build/obj-arm64/ and writes, for each, the .t prove runs in its place:
# a script that runs the arm64 binary under qemu-user.  Without the cross
# compiler, qemu-user or the arm64 sysroot, each .t reports SKIP with the
# reason instead, so the tests never pass silently.  Called by the
# Makefile (x86 only):
#
#   scripts/arm64-unit.sh MAKE BUILD V WRAPPER...
#
# MAKE is the make to build with, BUILD the Makefile's $(BUILD) as it
# is spelled there (make matches targets by name: build/x is not
# /abs/build/x), V the Makefile's V (1: show the commands); each
# WRAPPER path ends in tests/unit/arm/NAME.t.  A cross build that fails fails
# this script: a compile error is never a SKIP.
set -euo pipefail

make=$1 build=$2 verbose=$3
shift 3

top=$(cd "$(dirname "$0")/.." && pwd)
cross=${CROSS_COMPILE_ARM64:-aarch64-linux-gnu-}
qemu=${QEMU_ARM64:-qemu-aarch64-static}
cache=${LKVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lkvm}
sysroot=${ARM64_SYSROOT:-$cache/arm64-sysroot}

why=
if ! command -v "${cross}gcc" >/dev/null; then
	why="${cross}gcc missing (Debian gcc-aarch64-linux-gnu; scripts/setup.sh installs it)"
elif ! qemu_path=$(command -v "$qemu"); then
	why="$qemu missing (Debian qemu-user-static; scripts/setup.sh installs it)"
elif [ ! -s "$sysroot/usr/include/libfdt.h" ]; then
	why="no arm64 sysroot in $sysroot (scripts/setup.sh fetches it)"
fi

bins=()
for w in "$@"; do
	bins+=("$build/obj-arm64/tests/unit/arm/$(basename "$w")")
done

# The arm64 build is its own, whatever this make was given on its
# command line (which reaches the sub-make through MAKEFLAGS): the cross
# gcc, its libraries from the sysroot only (no host pkg-config, no
# stand-in probe compiler), and no sanitizer (ASan cannot map its
# shadow under qemu-user).  -s: no "is up to date" line per test.
if [ -z "$why" ]; then
	"$make" -C "$top" --no-print-directory \
		$([ "$verbose" = 1 ] || echo -s) ARCH=arm64 \
		CROSS_COMPILE="$cross" CC="${cross}gcc" PROBE_CC="${cross}gcc" \
		PKG_CONFIG=false SANITIZE= ARM64_DYNAMIC= "${bins[@]}"
fi

for i in "${!bins[@]}"; do
	w=$1
	shift
	mkdir -p "$(dirname "$w")"
	if [ -n "$why" ]; then
		printf '#!/bin/sh\necho "1..0 # SKIP %s"\n' "$why" >"$w.tmp"
	else
		bin=${bins[$i]}
		[ "${bin#/}" != "$bin" ] || bin=$top/$bin
		printf '#!/bin/sh\n# %s under qemu-user (scripts/arm64-unit.sh)\nexec %s %s "$@"\n' \
			"${bins[$i]}" "$qemu_path" "$bin" >"$w.tmp"
	fi
	chmod +x "$w.tmp"
	mv "$w.tmp" "$w"
done

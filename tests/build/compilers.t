#!/usr/bin/env bash
# lkvm builds warning-free (-Werror) with both gcc and clang, and the unit
# tests pass with the clang build too.  Objects go to build/obj-clang.
. "$(dirname "$0")/../lib/tap.sh"
command -v clang >/dev/null || skip_all "clang not installed (Debian package clang)"

plan 3
cd "$TOP"
log=$TAP_TMP/clang.log
make -s CC=clang SANITIZE= -j"$(nproc)" all >"$log" 2>&1
st=$?
is "$st" 0 "make CC=clang builds with -Werror"
[ "$st" = 0 ] || sed 's/^/#   /' "$log" | tail -20
[ -x build/obj-clang/lkvm ]
ok $? "clang build produced build/obj-clang/lkvm"
make -s CC=clang SANITIZE= check-unit PROVE_FLAGS= >"$log" 2>&1
st=$?
is "$st" 0 "unit tests pass with the clang build"
[ "$st" = 0 ] || grep -v '^ok' "$log" | sed 's/^/#   /' | tail -20
done_testing

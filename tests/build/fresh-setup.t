#!/usr/bin/env bash
# `make run` and `make check` must work on a machine that has none of the
# libraries yet: set-up first, then the library probe and the build.  A
# plain `make` on such a machine stops with a message naming the packages.
#
# The machine's real packages cannot be removed under a running suite, so
# the test makes lkvm's Makefile see a machine without them: PKG_CONFIG and
# PROBE_CC are stand-ins that find no library until the marker file
# exists, and SETUP is a stand-in set-up that creates it.  Everything else
# (the build, the demo guest) is real, in a copy of this tree.
. "$(dirname "$0")/../lib/tap.sh"
[ -e /dev/kvm ] || skip_all "/dev/kvm missing"

plan 7
src=$TAP_TMP/src
fake=$TAP_TMP/fake
marker=$TAP_TMP/installed
mkdir -p "$src" "$fake"
(cd "$TOP" && git ls-files -co --exclude-standard -z |
	xargs -0 tar -cf - --no-recursion) | tar -C "$src" -xf - ||
	{ echo "not ok 1 - copy the tree"; exit 1; }

cat >"$fake/pkg-config" <<EOF
#!/bin/sh
[ -e "$marker" ] || exit 1
exec pkg-config "\$@"
EOF
cat >"$fake/cc" <<EOF
#!/bin/sh
[ -e "$marker" ] || { echo "fatal error: no such header (fake)" >&2; exit 1; }
exec gcc "\$@"
EOF
cat >"$fake/setup" <<EOF
#!/bin/sh
echo "fake setup ran"
touch "$marker"
EOF
chmod +x "$fake"/*
fakes=(PKG_CONFIG="$fake/pkg-config" PROBE_CC="$fake/cc" SETUP="$fake/setup")

# 1-2: plain make names what is missing and how to get it.
rm -f "$marker"
make -C "$src" --no-print-directory -s "${fakes[@]}" >"$TAP_TMP/plain.log" 2>&1
st=$?
[ "$st" != 0 ]
ok $? "plain make on a machine without the libraries fails (status $st)"
like "$TAP_TMP/plain.log" 'missing libraries;.*libfdt-dev libaio-dev.*make setup' \
	"its message names the packages and the set-up command"

# 3-5: make run installs first, then builds and boots the demo guest.
rm -f "$marker"
make -C "$src" --no-print-directory -s -j2 "${fakes[@]}" run \
	>"$TAP_TMP/run.log" 2>&1 </dev/null
st=$?
is "$st" 0 "make run on a machine without the libraries succeeds"
[ "$st" = 0 ] || sed 's/^/#   /' "$TAP_TMP/run.log" | tail -20
[ "$(head -1 "$TAP_TMP/run.log")" = "fake setup ran" ]
ok $? "make run ran set-up before anything else"
like "$TAP_TMP/run.log" 'demo: powering off' "make run booted the demo guest"

# 6-7: make check likewise (the prove step replaced: only the order and
# the build of the test binaries are checked here).
rm -f "$marker"
make -C "$src" --no-print-directory -s -j2 "${fakes[@]}" PROVE=echo \
	TESTS=prove-would-run check >"$TAP_TMP/check.log" 2>&1 </dev/null
st=$?
is "$st" 0 "make check on a machine without the libraries gets to the tests"
[ "$st" = 0 ] || sed 's/^/#   /' "$TAP_TMP/check.log" | tail -20
[ "$(head -1 "$TAP_TMP/check.log")" = "fake setup ran" ] &&
	grep -q 'prove-would-run' "$TAP_TMP/check.log"
ok $? "make check ran set-up first and reached prove"
done_testing

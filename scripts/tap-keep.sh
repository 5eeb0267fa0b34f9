#!/usr/bin/env bash
# make check runs every test through this (prove --exec): the test's TAP
# goes to prove unchanged, and a copy is kept in $LKVM_CHECK_FAILS when
# the test fails, so that scripts/check-recap.sh can end make check with
# what failed.  prove's own output shows only the numbers of failed tests
# (diagnostics go to stdout, which prove hides unless -v), and a CI log is
# often read from its tail only.
#
#   scripts/tap-keep.sh TEST
#   LKVM_CHECK_FAILS=dir   where failed tests' output goes (unset: just
#                          run TEST)
set -u
t=$1
[ -n "${LKVM_CHECK_FAILS:-}" ] || exec "$t"

out=$(mktemp "${TMPDIR:-/tmp}/tap-keep.XXXXXX") || exec "$t"
"$t" | tee "$out"
st=${PIPESTATUS[0]}
# prove fails a test for its exit status, a "not ok" that is no TODO, or
# a plan that is missing or not what ran.
plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$out" | head -n 1)
ran=$(grep -cE '^(not )?ok' "$out")
if [ "$st" != 0 ] || grep -v '# *TODO' "$out" | grep -q '^not ok' ||
   [ -z "$plan" ] || { [ "$plan" != 0 ] && [ "$plan" != "$ran" ]; }; then
	{ echo "$st $t"; cat "$out"; } \
		>"$LKVM_CHECK_FAILS/$(printf '%s' "$t" | tr -c 'A-Za-z0-9.-' '_').$$" \
		2>/dev/null
fi
rm -f "$out"
exit "$st"

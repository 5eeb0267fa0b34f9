#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Each libFuzzer target (tests/fuzz/*.c) builds and runs briefly from its
# seed corpus, so a broken harness -- or a regression one of its inputs
# catches -- fails `make check`.  `make fuzz` runs them longer.
source "$(dirname "$0")/../lib/tap.sh"

FUZZ_SECONDS=${FUZZ_SECONDS:-10}
cd "$TOP" || exit 1

# clang with its libFuzzer runtime (Debian: clang ships libclang_rt.fuzzer).
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
	>"$TAP_TMP/probe.c"
command -v clang >/dev/null || skip_all "clang not installed (scripts/setup.sh installs it)"
clang -fsanitize=fuzzer,address,undefined -o "$TAP_TMP/probe" "$TAP_TMP/probe.c" \
	>"$TAP_TMP/probe.log" 2>&1 ||
	skip_all "clang cannot link libFuzzer (Debian libclang-rt-dev, scripts/setup.sh installs it): $(head -n 1 "$TAP_TMP/probe.log")"

targets=$(cd tests/fuzz && ls *.c | sed 's/\.c$//')
plan $(( $(echo "$targets" | wc -w) + 2 ))

env -u MAKEFLAGS -u MAKELEVEL make --no-print-directory -j2 SANITIZE=fuzz fuzz-bins >"$TAP_TMP/build.log" 2>&1
st=$?
[ $st = 0 ] || tail -n 20 "$TAP_TMP/build.log" | sed 's/^/# /'
ok $st "fuzz targets build (make SANITIZE=fuzz fuzz-bins)"

for t in $targets; do
	out=$(tests/fuzz/run.sh "$TOP/build/obj-fuzz/tests/fuzz/$t" "$t" \
		"$TAP_TMP/fuzz" "$FUZZ_SECONDS" 2>&1)
	st=$?
	diag "$out"
	[ $st = 0 ] || sed 's/^/# /' "$TAP_TMP/fuzz/$t/log" | tail -n 40
	ok $st "fuzz $t: ${FUZZ_SECONDS}s without a finding"
done

# make fuzz-cov on what the runs above kept: every target must report
# coverage of at least one lkvm file, or the report would silently rot.
if ! command -v llvm-cov >/dev/null && ! command -v llvm-cov-14 >/dev/null; then
	skip "make fuzz-cov reports line/branch coverage for every target" \
		"llvm-cov not installed (Debian llvm, scripts/setup.sh installs it)"
else
	env -u MAKEFLAGS -u MAKELEVEL make --no-print-directory -j2 fuzz-cov \
		FUZZ_OUT="$TAP_TMP/fuzz" >"$TAP_TMP/cov.log" 2>&1
	st=$?
	for t in $targets; do
		grep -q "^| $t | " "$TOP/build/fuzz-cov/summary.md" 2>/dev/null ||
			{ diag "fuzz-cov: no covered file for $t"; st=1; }
	done
	[ $st = 0 ] || tail -n 20 "$TAP_TMP/cov.log" | sed 's/^/# /'
	grep '^fuzz-cov' "$TAP_TMP/cov.log" | while read -r l; do diag "$l"; done
	ok $st "make fuzz-cov reports line/branch coverage for every target"
fi
done_testing

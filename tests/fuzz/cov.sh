#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tests/fuzz/cov.sh BINDIR FUZZOUT OUTDIR TARGET...: replays each target's
# committed seeds (tests/fuzz/corpus/TARGET) and what a `make fuzz` run
# kept (FUZZOUT/TARGET/corpus) through BINDIR/TARGET, a build with clang's
# source-based coverage, and writes llvm-cov's report per target
# (OUTDIR/TARGET.txt) and one Markdown table of the lkvm files each target
# reached, with their line and branch coverage (OUTDIR/summary.md).
set -u
bindir=$1 fuzzout=$2 out=$3
shift 3
here=$(dirname "$0")
cov=$(command -v llvm-cov || command -v llvm-cov-14) ||
	{ echo "fuzz-cov: llvm-cov not found (Debian package llvm; scripts/setup.sh installs it)" >&2; exit 1; }
profdata=$(command -v llvm-profdata || command -v llvm-profdata-14) ||
	{ echo "fuzz-cov: llvm-profdata not found (Debian package llvm)" >&2; exit 1; }
mkdir -p "$out"
sum=$out/summary.md
{
	echo "| target | inputs | file | lines | line cover | branches | branch cover |"
	echo "|---|---:|---|---:|---:|---:|---:|"
} >"$sum"
st=0
for t in "$@"; do
	dirs="$here/corpus/$t"
	[ -d "$fuzzout/$t/corpus" ] && dirs="$dirs $fuzzout/$t/corpus"
	n=$(find $dirs -type f | wc -l)
	rm -f "$out/$t.profraw"
	# -runs=0: execute every input of the corpora once, mutate nothing.
	if ! LLVM_PROFILE_FILE="$out/$t.profraw" "$bindir/$t" -runs=0 $dirs \
		>"$out/$t.log" 2>&1; then
		echo "fuzz-cov: $t failed replaying its corpus, see $out/$t.log" >&2
		st=1
		continue
	fi
	"$profdata" merge -sparse -o "$out/$t.profdata" "$out/$t.profraw" || { st=1; continue; }
	# Only lkvm's own sources: not the harness, not system headers.
	"$cov" report "$bindir/$t" -instr-profile="$out/$t.profdata" \
		-ignore-filename-regex='(^|/)tests/|^/usr/' >"$out/$t.txt" || { st=1; continue; }
	# Columns: file, regions (3), functions (3), lines (3), branches (3).
	awk -v t="$t" -v n="$n" '
		NF == 13 && $1 != "Filename" && $1 != "TOTAL" && $8 != "0" && $8 - $9 > 0 {
			bl = ($11 == 0) ? "-" : $13
			printf "| %s | %s | %s | %d/%d | %s | %d/%d | %s |\n",
				t, n, $1, $8 - $9, $8, $10, $11 - $12, $11, bl
		}' "$out/$t.txt" >>"$sum"
	awk -v t="$t" '$1 == "TOTAL" {
		printf "fuzz-cov %s: lines %s, branches %s of all linked lkvm code (per file: %s/%s.txt)\n",
			t, $10, $13, "'"$out"'", t }' "$out/$t.txt"
done
echo "fuzz-cov: per-file table in $sum"
exit $st

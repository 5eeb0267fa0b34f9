#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tests/fuzz/run.sh BINARY TARGET OUTDIR SECONDS: runs one libFuzzer target
# for SECONDS from its committed seeds (tests/fuzz/corpus/TARGET, never
# written to) and what earlier runs found (OUTDIR/TARGET/corpus), then
# prints one summary line.  A crash or hang leaves its input in
# OUTDIR/TARGET/ and fails.
set -u
bin=$1 t=$2 out=$3/$2 secs=$4
here=$(dirname "$0")
mkdir -p "$out/corpus"
"$bin" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
	-artifact_prefix="$out/" "$out/corpus" "$here/corpus/$t" \
	>"$out/log" 2>&1
st=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/log")
cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$out/log" | tail -n 1)
echo "fuzz $t: ${execs:-?} execs (${rate:-?}/s) in ${secs}s, ${cov:-no coverage line}, corpus $(ls "$out/corpus" | wc -l) new"
if [ $st -ne 0 ]; then
	grep -m 5 -E 'ERROR|SUMMARY|Test unit written|runtime error' "$out/log"
	echo "fuzz $t: FAILED (exit $st), log in $out/log" >&2
fi
exit $st

#!/usr/bin/env bash
# Every Spin model in tests/models/ (see README.md there): the model as
# the code is must verify with no error (exhaustively: spin -a, pan with
# no depth or state bound hit), and each mutant named on its
# "mutants:" line (one barrier of the code removed) must give a
# counterexample.  States and time go to the diagnostics.
. "$(dirname "$0")/../lib/tap.sh"
src=$(cd "$(dirname "$0")" && pwd)

command -v spin >/dev/null ||
	skip_all "spin missing (Debian package spin; scripts/setup.sh installs it)"
command -v gcc >/dev/null || skip_all "gcc missing"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$src"/*.pml "$work"/

# verify MODEL [DEFINE]: prints "errors states seconds depth-limit-hit"
verify() {
	local model=$1 def=${2:+-D$2} out
	(
		cd "$work" || exit 1
		rm -f pan pan.* ./*.trail
		spin -a $def "$model" >spin.out 2>&1 || { cat spin.out >&2; exit 1; }
		# SAFETY: assertions and invalid end states (a lost wake-up
		# leaves threads blocked for good); MEMLIM keeps a runaway
		# model from eating the machine.
		# A mutant's counterexample comes within a few thousand
		# states: compile it fast rather than run it fast.
		opt=-O2; [ -n "$def" ] && opt=-O0
		gcc $opt -w -DSAFETY -DMEMLIM=4096 -o pan pan.c >&2 || exit 1
		out=$(./pan -m10000000 2>&1)
		echo "$out" >pan.out
		errors=$(echo "$out" | sed -n 's/.*errors: \([0-9]*\).*/\1/p')
		states=$(echo "$out" | sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p')
		secs=$(echo "$out" | sed -n 's/.*elapsed time \([0-9.e+-]*\) seconds.*/\1/p')
		trunc=0
		echo "$out" | grep -q "max search depth too small\|out of memory" && trunc=1
		echo "${errors:-?} ${states:-?} ${secs:-?} $trunc"
	)
}

models=$(cd "$src" && ls ./*.pml | sed 's|^\./||' | grep -v '^mm\.pml$')
n=0
for m in $models; do
	n=$((n + 1))
	for mu in $(sed -n 's/^ \* mutants: //p' "$src/$m"); do n=$((n + 1)); done
done
plan "$n"

for m in $models; do
	read -r err states secs trunc < <(verify "$m")
	[ "$err" = 0 ] && [ "$trunc" = 0 ]
	ok $? "$m: verifies (no lost wake-up, no assertion), exhaustively"
	t=; [ "$trunc" = 1 ] && t=", SEARCH TRUNCATED"
	diag "$m: $states states, $secs s$t"
	for mu in $(sed -n 's/^ \* mutants: //p' "$src/$m"); do
		read -r err states secs trunc < <(verify "$m" "$mu")
		[ -n "$err" ] && [ "$err" != "?" ] && [ "$err" -gt 0 ]
		ok $? "$m -D$mu: the barrier's removal gives a counterexample"
		diag "$m -D$mu: errors=$err after $states states, $secs s"
	done
done

done_testing

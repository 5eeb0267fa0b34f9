#!/usr/bin/env bash
# Ordering stress test of the virtqueue device code against a simulated
# Linux driver (see vring-order.c): >= 10^7 buffers with no lost interrupt
# and no lost kick, with and without EVENT_IDX.  Then the same test
# against builds with one full barrier compiled out each must fail the
# way that barrier prevents: without the one in vring_need_interrupt()
# an interrupt is lost, without the one in vring_arm_kicks() a kick.
. "$(dirname "$0")/../lib/tap.sh"
dir=$(dirname "$LKVM")/tests/stress
[ -x "$dir/vring-order" ] && [ -x "$dir/vring-order-nomb-irq" ] &&
	[ -x "$dir/vring-order-nomb-arm" ] ||
	skip_all "stress binaries not built in $dir (make check builds them)"

plan 6
# A sanitizer build's slower threads run a STRESS_DIV-th of the buffers
# (make SANITIZE=thread builds the barrier-less ones without TSan).
N=10000000
NC=$((N / ${STRESS_DIV:-1}))

for ei in 1 0; do
	out=$("$dir/vring-order" $NC $ei 2>&1); st=$?
	diag "$out"
	is "$st" 0 "$NC buffers, EVENT_IDX=$ei: no lost interrupt or kick"
done

# Without the barriers a wakeup is usually lost within a second, but a run
# can also get through all its buffers when the two threads rarely overlap
# (seen in about one run of three on a busy machine, and more often in
# SANITIZE builds).  Keep running until one loses a wakeup: a run that
# does not costs a few seconds, and 40 in a row would be a broken test.
for m in "irq:lost interrupt" "arm:lost kick"; do
	b=${m%%:*} want=${m#*:}
	for ei in 1 0; do
		failed=0
		for try in $(seq 40); do
			out=$("$dir/vring-order-nomb-$b" $N $ei 2>&1) && continue
			failed=1
			break
		done
		diag "without the $b full barrier, run $try: $(echo "$out" | tr '\n' ' ')"
		[ "$failed" = 1 ] && echo "$out" | grep -q "$want"
		ok $? "without vring_${b}_mb() (EVENT_IDX=$ei): a $want, the test has teeth"
	done
done

done_testing

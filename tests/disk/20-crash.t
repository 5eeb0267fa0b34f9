#!/usr/bin/env bash
# Crash consistency: a writer drives the backend directly (4 KiB writes in
# batches of 1..16 in flight, each batch followed by a FLUSH) and is
# SIGKILLed at a random moment, 50 times per format, always on the same
# image.  Afterwards every write acknowledged before the last completed
# flush is there (or a later write to the same block), nothing is torn,
# and the qcow2 image passes `qemu-img check` (leaked clusters, which a
# crash between allocation and use leaves and `qemu-img check -r leaks`
# reclaims, are reported but are not corruption).
. "$(dirname "$0")/../lib/tap.sh"
TOOL=${DISK_TOOL:-$(dirname "$LKVM")/tests/disk/disk-tool}
[ -x "$TOOL" ] || skip_all "disk-tool not built ($TOOL)"
command -v qemu-img >/dev/null || skip_all "qemu-img not installed (qemu-utils)"
cd "$TAP_TMP" || exit 1

ITER=${CRASH_ITER:-50}
NBLK=2048		# 8 MiB of blocks in a 16 MiB disk
plan 5

for fmt in raw qcow2; do
	img=crash.$fmt log=crash.$fmt.log
	rm -f "$img" "$log"
	if [ $fmt = raw ]; then
		truncate -s 16M "$img"
	else
		qemu-img create -q -f qcow2 -o cluster_size=65536 "$img" 16M
	fi
	bad=0 badcheck=0 leaks=0 flushes=0
	for i in $(seq 1 "$ITER"); do
		"$TOOL" -f $fmt crash-writer "$img" "$log" "$i" $NBLK &
		pid=$!
		sleep "0.$(printf '%03d' $((RANDOM % 300 + 20)))"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		flushes=$((flushes + $(grep -c '^F' "$log")))
		if ! out=$("$TOOL" -f $fmt crash-verify "$img" "$log" $NBLK); then
			bad=$((bad + 1))
			diag "iteration $i: $(echo "$out" | tail -3)"
		fi
		if [ $fmt = qcow2 ]; then
			rc=0
			cout=$(qemu-img check "$img" 2>&1) || rc=$?
			case $rc in
			0) ;;
			3) leaks=$((leaks + 1)) ;;
			*) badcheck=$((badcheck + 1)); diag "iteration $i: $cout" ;;
			esac
		fi
	done
	is "$bad" 0 "$fmt: $ITER SIGKILLs, every flushed write present ($flushes flushes)"
	if [ $fmt = qcow2 ]; then
		is "$badcheck" 0 "qcow2: qemu-img check finds no corruption ($leaks runs with leaks only)"
		qemu-img check -q -r leaks "$img" >/dev/null 2>&1
		qemu-img check -q "$img"
		ok $? "qcow2: clean after qemu-img check -r leaks"
	fi
done

# The checker itself: a flushed write that is not there must be caught.
echo "W 7 999999" >>crash.raw.log
echo "F" >>crash.raw.log
! "$TOOL" -f raw crash-verify crash.raw crash.raw.log $NBLK >/dev/null
ok $? "checker: a missing acknowledged write is reported"
done_testing

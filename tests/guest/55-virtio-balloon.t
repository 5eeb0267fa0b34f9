#!/usr/bin/env bash
# virtio-balloon end to end with the bare-metal vballoon guest and the
# kvmtool command line: `lkvm run --balloon --name N`, then
# `lkvm balloon --name N --inflate MiB` must lower lkvm's RSS (VmRSS in
# /proc) by about that much once the guest reports the pages given, and
# `--deflate MiB` must bring the guest's actual back.  A guest sending PFNs
# outside RAM, in the PCI hole and repeated must leave lkvm running and
# serving.  Each VM ends with a 'q' on its serial input.
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest vballoon
"$LKVM" run --help 2>&1 | grep -q -- --balloon ||
	skip_all "lkvm run has no --balloon"
"$LKVM" balloon --help >/dev/null 2>&1 ||
	skip_all "lkvm has no 'balloon' command ('$LKVM balloon --help' fails)"

# The VMs' control sockets go here, not in the user's runtime directory.
export XDG_RUNTIME_DIR=$TAP_TMP/run
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"

MIB_KB=1024
WAIT=60		# seconds: a cap, never an expected duration

# wait_for FILE REGEX: polls up to $WAIT s; 0 once FILE matches.
wait_for() {
	local i
	for ((i = 0; i < WAIT * 10; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# start_vm TAG GUEST-PARAMS: lkvm in the background, stdin from a FIFO we
# hold open (fd 3 / fd 4), sets VM_PID, VM_NAME, VM_OUT, VM_ERR, VM_FIFO.
start_vm() {
	VM_NAME=vballoon-$1-$$
	VM_OUT=$TAP_TMP/$1.out
	VM_ERR=$TAP_TMP/$1.err
	VM_FIFO=$TAP_TMP/$1.in
	mkfifo "$VM_FIFO"
	"$LKVM" run --debug-exit -m 256 --balloon --name "$VM_NAME" \
		-k "$GUEST_DIR/vballoon.bzImage" -p "$2" \
		<"$VM_FIFO" >"$VM_OUT" 2>"$VM_ERR" &
	VM_PID=$!
}

# stop_vm FD: 'q' on the serial input, then the exit status in $STATUS.
stop_vm() {
	printf 'q' >&"$1"
	STATUS=
	for ((i = 0; i < WAIT * 10; i++)); do
		kill -0 "$VM_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$VM_PID" 2>/dev/null && kill -KILL "$VM_PID"
	wait "$VM_PID"
	STATUS=$?
}

plan 15

# --- inflate 32 MiB of a guest that touched 64 MiB, then deflate ---------
start_vm main "touch_mib=64 secs=300"
exec 3<>"$VM_FIFO"
wait_for "$VM_OUT" '^vballoon: touched 64 MiB' &&
	wait_for "$VM_OUT" '^virtio: .* features '
ok $? "guest touched 64 MiB and set up the balloon"

rss0=$(rss_kb "$VM_PID")
t0=$(date +%s.%N)
"$LKVM" balloon --name "$VM_NAME" --inflate 32 >"$TAP_TMP/inflate.out" 2>&1
ok $? "lkvm balloon --inflate 32"
wait_for "$VM_OUT" '^vballoon: actual=8192([^0-9]|$)'
ok $? "the guest gave 8192 pages (32 MiB)"
rss1=$(rss_kb "$VM_PID")
diag "VmRSS before ${rss0:-?} kB, after inflate ${rss1:-?} kB;" \
     "inflate took $(echo "$(date +%s.%N) - $t0" | bc) s"
[ -n "$rss0" ] && [ -n "$rss1" ] && [ $((rss0 - rss1)) -ge $((28 * MIB_KB)) ]
ok $? "lkvm's RSS dropped by at least 28 MiB ($((${rss0:-0} - ${rss1:-0})) kB)"

"$LKVM" balloon --name "$VM_NAME" --deflate 32 >"$TAP_TMP/deflate.out" 2>&1
ok $? "lkvm balloon --deflate 32"
wait_for "$VM_OUT" '^vballoon: actual=0([^0-9]|$)'
ok $? "the guest took its pages back (actual=0)"
kill -0 "$VM_PID" 2>/dev/null
ok $? "lkvm still running"

stop_vm 3
exec 3>&-
is "$STATUS" 1 "guest ended normally on 'q'"
like "$VM_OUT" '^vballoon: done, actual=0' "guest saw the final target"
! grep -q 'timeout' "$VM_OUT"
ok $? "no queue timed out"

# --- a hostile guest: bad PFNs first, then it behaves ---------------------
start_vm hostile "touch_mib=16 hostile=1 secs=300"
exec 4<>"$VM_FIFO"
wait_for "$VM_OUT" '^vballoon: hostile done'
ok $? "hostile PFNs sent (beyond RAM, PCI hole, 0xffffffff, repeats)"
like "$VM_ERR" 'virtio-balloon: guest sent PFN .* not a page of guest RAM' \
	"lkvm warned about the bad PFNs"
"$LKVM" balloon --name "$VM_NAME" --inflate 4 >"$TAP_TMP/hinflate.out" 2>&1 &&
	wait_for "$VM_OUT" '^vballoon: actual=1024([^0-9]|$)'
ok $? "after them the balloon still inflates (4 MiB)"
[ "$(grep -c 'not a page of guest RAM' "$VM_ERR")" = 1 ]
ok $? "one warning, not one per PFN"
stop_vm 4
exec 4>&-
is "$STATUS" 1 "hostile guest ended normally; lkvm survived"

done_testing

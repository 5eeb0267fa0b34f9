#!/usr/bin/env bash
# seccomp: every lkvm thread runs under its own filter by default; a
# forbidden system call made by a device thread (the
# LKVM_TEST_FORBIDDEN_SYSCALL hook: execve, ptrace, an O_RDWR open) ends
# lkvm with status 159 and one line naming the call and the thread type;
# with --no-seccomp the same call is made and lkvm goes on.
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest vrng idle

plan 15

like <("$LKVM" run --help 2>&1) '^ +--no-seccomp ' "--help documents --no-seccomp"

declare -A NR_NAME=([execve]=execve [ptrace]=ptrace [open]=openat)
for h in execve ptrace open; do
	LKVM_TEST_FORBIDDEN_SYSCALL=$h run_guest vrng --rng -p transport=pci
	is "$STATUS" 159 "$h: refused, lkvm exits with 159"
	like "$ERR" "^lkvm: seccomp: the virtio device thread made forbidden system call ${NR_NAME[$h]} \([0-9]+\)" \
		"$h: the message names ${NR_NAME[$h]} and the thread type"
done

for h in execve ptrace open; do
	LKVM_TEST_FORBIDDEN_SYSCALL=$h run_guest vrng --rng -p transport=pci --no-seccomp
	is "$STATUS" 1 "--no-seccomp, $h: the guest runs to its end"
	if [ $h = open ]; then
		like "$ERR" "test hook: open from a device thread returned [0-9]+ \(ok\)" \
			"--no-seccomp, open: the file was opened"
	else
		like "$ERR" "test hook: $h from a device thread returned -1" \
			"--no-seccomp, $h: the call was made (and failed harmlessly)"
	fi
done

# seccomp_modes PID: "comm mode" for each of its threads (2 = filter).
# ThreadSanitizer's own background thread, created before any filter and
# blocking every signal for good (kvm/privs.c leaves it alone too; lkvm's
# threads never block SIGRTMIN+3), is named tsan-runtime.
TSAN=
grep -qa __tsan_init "$LKVM" && TSAN=1
seccomp_modes() {
	local comm blk
	for t in /proc/"$1"/task/*; do
		comm=$(cat "$t/comm")
		blk=$(sed -n 's/^SigBlk:[[:space:]]*//p' "$t/status")
		[ -n "$TSAN" ] && [ "$comm" = lkvm ] &&
			[ $((0x$blk >> 36 & 1)) = 1 ] && comm=tsan-runtime
		printf '%s %s\n' "$comm" \
			"$(sed -n 's/^Seccomp:[[:space:]]*//p' "$t/status")"
	done
}

# An idle VM with a thread of every kind lkvm has without a network:
# vCPUs, device loops, a disk worker, 9p workers, main.
IMG=$TAP_TMP/disk.img
truncate -s 1M "$IMG"
mkdir -p "$TAP_TMP/share"
vm_threads() {	# vm_threads NAME [lkvm args]: "comm mode" lines on stdout
	local name=$1 pid
	shift
	"$LKVM" run -k "$GUEST_DIR/idle.bzImage" -m 32M -c 2 --name "$name" \
		--rng -d "$IMG" --9p "$TAP_TMP/share,share" "$@" \
		</dev/null >"$TAP_TMP/$name.out" 2>&1 &
	pid=$!
	for _ in $(seq 600); do
		grep -q 'idle: ready' "$TAP_TMP/$name.out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	seccomp_modes "$pid"
	kill "$pid"
	wait "$pid" 2>/dev/null
}

vm_threads sc-on >"$TAP_TMP/on.modes"
sed 's/^/# /' "$TAP_TMP/on.modes"
# kvm-nx-lpage-recovery is KVM's kernel thread, counted among ours.
n=$(grep -c '^lkvm' "$TAP_TMP/on.modes")
bad=$(grep '^lkvm' "$TAP_TMP/on.modes" | grep -vc ' 2$')
ok $([ "$n" -ge 6 ] && [ "$bad" = 0 ]; echo $?) \
	"every lkvm thread ($n of them) runs under a seccomp filter"

vm_threads sc-off --no-seccomp >"$TAP_TMP/off.modes"
bad=$(grep '^lkvm' "$TAP_TMP/off.modes" | grep -vc ' 0$')
is "$bad" 0 "--no-seccomp: no thread has a filter"

done_testing

#!/usr/bin/env bash
# Ways a guest can end badly: each ends lkvm with a documented status, fast.
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest int3 triplefault

plan 11

# INT3 at CPL0 cannot be emulated by this machine's nested KVM: lkvm must
# report the internal error with status 6, not hang.  On hardware
# virtualisation the guest's own #BP handler catches it instead.
run_guest int3 --debug
like "$OUT" 'int3: executing int3 at CPL0' "int3: guest reached the int3"
if grep -q 'int3: caught #BP' "$OUT"; then
	is "$STATUS" 1 "int3: caught by the guest (hardware virtualisation)"
	skip "int3: internal error reported" "this KVM emulates INT3"
	skip "int3: registers dumped with --debug" "this KVM emulates INT3"
else
	is "$STATUS" 6 "int3: status 6 (guest fault) on KVM_EXIT_INTERNAL_ERROR"
	like "$ERR" 'KVM_EXIT_INTERNAL_ERROR' "int3: internal error named on stderr"
	like "$ERR" '[Rr][Ii][Pp]' "int3: registers dumped with --debug"
fi

# A flat binary that spins forever: SIGTERM / SIGINT stop it with 128+sig.
printf '\xeb\xfe' >"$TAP_TMP/spin.bin"
for sig in TERM INT; do
	timeout -k 5 60 "$LKVM" run -k "$TAP_TMP/spin.bin" </dev/null \
		>"$TAP_TMP/spin.out" 2>"$TAP_TMP/spin.err" &
	pid=$!
	sleep 1
	kill -$sig $pid
	wait $pid; st=$?
	num=$(kill -l $sig)
	is "$st" $((128 + num)) "spinning guest: SIG$sig gives status $((128 + num))"
done

# Empty IDT, then #UD: #DF, then shutdown (triple fault) -> status 6.
run_guest triplefault --debug
like "$OUT" 'triplefault: loading an empty IDT' "triple fault: guest ran"
is "$STATUS" 6 "triple fault: status 6 (guest fault)"
like "$ERR" 'triple fault' "triple fault: reason on stderr"

# A flat binary in kvmtool's real-mode convention: 'K' on COM1, then
# writes 0x2a to the test port.
printf '\xba\xf8\x03\xb0\x4b\xee\xba\xf4\x00\xb0\x2a\xee\xf4\xeb\xfd' >"$TAP_TMP/flat.bin"
run_lkvm flat 60 --debug-exit -k "$TAP_TMP/flat.bin"
is "$STATUS" $(((0x2a << 1 | 1) & 255)) "flat binary: runs in real mode at 1000:0000 and exits"
like "$OUT" '^K' "flat binary: wrote to COM1"

done_testing

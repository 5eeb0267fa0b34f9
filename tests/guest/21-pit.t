#!/usr/bin/env bash
# lkvm creates KVM's PIT on the guest's first access to it (x86/pit.c), and
# that first access must take effect whatever its form: port in the
# instruction or in DX, IN or OUT, in long mode or real mode.  A guest
# that never touches the PIT never gets one.
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest pit

plan 24

for f in out outdx in indx outw; do
	run_guest pit -p "first=$f" --loglevel debug
	is "$STATUS" 1 "first=$f: guest exited normally"
	like "$OUT" '^pit: ok, channel 2 counted down' \
		"first=$f: the first access took effect, channel 2 counts"
	like "$ERR" 'first access to port 0x(43|61): creating the PIT' \
		"first=$f: the PIT was created on that access"
done

# A string OUTSB cannot be found again from RIP: lkvm says so, the guest
# goes on, and the PIT works for what follows.
run_guest pit -p first=outs
is "$STATUS" 1 "first=outs: guest exited normally"
like "$OUT" '^pit: ok, channel 2 counted down' \
	"first=outs: the PIT works afterwards"
like "$ERR" 'warning: .*out port 0x43.*reached no device' \
	"first=outs: the lost access is reported"

run_guest pit -p first=none --loglevel debug
is "$STATUS" 1 "first=none: guest exited normally"
grep -q 'creating the PIT' "$ERR"
is "$?" 1 "first=none: no PIT was created"

# Real mode, flat binary at 1000:0000: the control word (out %al,$0x43) is
# the first access; a read-back of channel 2's status must show it, then
# 'P' (or 'F') goes to COM1 and 0x2a to the test port.  Source:
#   mov $0xb0,%al; out %al,$0x43; mov $0xe8,%al; out %al,$0x43
#   in $0x42,%al; and $0x3f,%al; cmp $0x30,%al; mov $'F',%al; jne 1f
#   mov $'P',%al; 1: mov $0x3f8,%dx; out %al,(%dx); mov $0xf4,%dx
#   mov $0x2a,%al; out %al,(%dx); hlt; 2: jmp 2b
printf '\xb0\xb0\xe6\x43\xb0\xe8\xe6\x43\xe4\x42\x24\x3f\x3c\x30\xb0\x46\x75\x02\xb0\x50\xba\xf8\x03\xee\xba\xf4\x00\xb0\x2a\xee\xf4\xeb\xfe' \
	>"$TAP_TMP/pit16.bin"
run_lkvm pit16 120 --debug-exit -k "$TAP_TMP/pit16.bin"
is "$STATUS" $(((0x2a << 1 | 1) & 255)) "real mode: flat binary exited"
like "$OUT" '^P' "real mode: the first access (the control word) took effect"

# Single-stepped (kvmtool's --debug-single-step): retiring the access may
# end in a debug exit rather than EINTR, and the repeat is stepped too.
run_lkvm pit16-step 120 --debug-exit --debug-single-step -k "$TAP_TMP/pit16.bin"
is "$STATUS" $(((0x2a << 1 | 1) & 255)) "real mode, single-stepped: exited"
like "$OUT" '^P' "real mode, single-stepped: the control word took effect"

done_testing

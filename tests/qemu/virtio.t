#!/usr/bin/env bash
# The bare-metal virtio drivers (guests vblk, vcons, vrng) against QEMU's
# virtio-*-pci devices, transitional/modern and legacy: proves the drivers
# right independently of lkvm's devices.  QEMU -M pc, KVM acceleration
# (TCG delays block completions while the guest spins, which the drivers'
# timeouts then report).
. "$(dirname "$0")/../lib/tap.sh"
[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip_all "/dev/kvm is not usable here"
command -v qemu-system-x86_64 >/dev/null ||
	skip_all "qemu-system-x86_64 not installed (Debian package qemu-system-x86)"
need_guest vblk vcons vrng
PATTERN=$TAP_TMP/vblk-pattern
${HOSTCC:-cc} -O2 -o "$PATTERN" "$TOP/guest/tools/vblk-pattern.c" ||
	skip_all "cannot build guest/tools/vblk-pattern.c"

qemu() {	# qemu NAME APPEND IMAGE [qemu args]: sets OUT, STATUS
	local name=$1 app=$2 img=$3
	shift 3
	OUT=$TAP_TMP/$name.out
	QEMU_ACCEL=kvm QEMU_SMP=1 QEMU_APPEND="$app" QEMU_TIMEOUT=120 \
		"$TOP/tests/qemu/run-guest.sh" "$GUEST_DIR/$img.bzImage" "$@" \
		</dev/null >"$OUT" 2>"$TAP_TMP/$name.err"
	STATUS=$?
}

# device properties | guest transport/irq
blk_cases=(
	"|transport=pci"
	"|transport=pci irq=intx event_idx=0"
	"|transport=pci-legacy"
	"disable-modern=on|transport=pci-legacy irq=intx"
	"disable-modern=on|transport=pci-legacy irq=poll indirect=0"
	"disable-legacy=on|transport=pci"
	"disable-legacy=on|transport=pci irq=poll event_idx=0"
)
rng_cases=("|transport=pci" "disable-modern=on|transport=pci-legacy")
cons_cases=("|transport=pci" "disable-modern=on|transport=pci-legacy irq=intx")
plan $((${#blk_cases[@]} * 3 + 3 + ${#rng_cases[@]} * 2 + ${#cons_cases[@]} * 2))
diag "QEMU: $(qemu-system-x86_64 --version | head -1)"

seed=100
for c in "${blk_cases[@]}"; do
	IFS='|' read -r props app <<<"$c"
	seed=$((seed + 1))
	img=$TAP_TMP/q.img
	rm -f "$img"
	truncate -s 8M "$img"
	name="virtio-blk-pci${props:+ $props} $app"
	qemu blk "$app seed=$seed sectors=1024" vblk \
		-drive "file=$img,if=none,id=d0,format=raw" \
		-device "virtio-blk-pci,drive=d0,serial=qemu-disk${props:+,$props}"
	is "$STATUS" 1 "$name: guest passed"
	if grep -q "^vblk: verify ok" "$OUT" && grep -q '^vblk: flush ok' "$OUT" &&
	   grep -q "^vblk: serial 'qemu-disk'" "$OUT"; then
		ok 0 "$name: markers"
	else
		ok 1 "$name: markers"
		sed 's/^/#   /' "$OUT" | tail -10
	fi
	"$PATTERN" check "$img" "$seed" 0 1024
	ok $? "$name: pattern on the host file"
done

img=$TAP_TMP/q.img
cp "$img" "$TAP_TMP/before.img"
qemu blkro "transport=pci ro=1" vblk \
	-drive "file=$img,if=none,id=d0,format=raw,readonly=on" \
	-device virtio-blk-pci,drive=d0
is "$STATUS" 1 "virtio-blk-pci read-only: guest passed"
like "$OUT" '^vblk: ro write rejected' "virtio-blk-pci read-only: write rejected"
cmp -s "$img" "$TAP_TMP/before.img"
ok $? "virtio-blk-pci read-only: image unchanged"

for c in "${rng_cases[@]}"; do
	IFS='|' read -r props app <<<"$c"
	name="virtio-rng-pci${props:+ $props} $app"
	qemu rng "$app" vrng -device "virtio-rng-pci${props:+,$props}"
	is "$STATUS" 1 "$name: guest passed"
	like "$OUT" '^vrng: entropy ok' "$name: 4096 random-looking bytes"
done

# virtconsole on a pipe chardev: QEMU opens path.in/path.out itself.
for c in "${cons_cases[@]}"; do
	IFS='|' read -r props app <<<"$c"
	name="virtio-serial-pci${props:+ $props} virtconsole $app"
	fifo=$TAP_TMP/vcpipe
	rm -f "$fifo.in" "$fifo.out"
	mkfifo "$fifo.in" "$fifo.out"
	# Bounded: a QEMU that never opens the FIFOs must not hang the test.
	timeout 150 cat "$fifo.out" >"$TAP_TMP/cons.txt" &
	catpid=$!
	(sleep 3; timeout 60 sh -c "printf 'from qemu\\n' >'$fifo.in'") &
	qemu cons "$app" vcons -device "virtio-serial-pci${props:+,$props}" \
		-chardev "pipe,id=c0,path=$fifo" -device virtconsole,chardev=c0
	wait $catpid
	is "$STATUS" 1 "$name: guest passed"
	if grep -q "^vcons: hello from the guest" "$TAP_TMP/cons.txt" &&
	   grep -q "^vcons: echo 'from qemu'" "$TAP_TMP/cons.txt" &&
	   grep -q "^vcons: got 'from qemu'" "$OUT"; then
		ok 0 "$name: line in and out"
	else
		ok 1 "$name: line in and out"
		sed 's/^/#   /' "$OUT" "$TAP_TMP/cons.txt" | tail -10
	fi
done

done_testing

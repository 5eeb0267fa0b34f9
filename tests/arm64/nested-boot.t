#!/usr/bin/env bash
# arm64 nested real-Linux boot: qemu-system-aarch64 (TCG, EL2 emulated,
# GICv3 + ITS) boots Debian's arm64 kernel as L1; its init runs the
# static arm64 lkvm to boot the same kernel as L2 once per case below.
# Judged only by the markers the two inits print (tests/arm64/l1-init,
# l2-init) and lkvm's status inside L1.  The L1 console log is kept,
# timestamped, in $LKVM_BUILD/arm64-logs/.
. "$(dirname "$0")/../lib/tap.sh"

cache=${LKVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lkvm}
kernel=$cache/linux-arm64/Image
busybox=$cache/busybox-arm64/busybox
cross=${CROSS_COMPILE_ARM64:-aarch64-linux-gnu-}

command -v qemu-system-aarch64 >/dev/null ||
	skip_all "qemu-system-aarch64 missing (Debian qemu-system-arm; scripts/setup.sh installs it)"
command -v "${cross}gcc" >/dev/null ||
	skip_all "${cross}gcc missing (Debian gcc-aarch64-linux-gnu)"
[ -s "$kernel" ] || skip_all "no arm64 kernel at $kernel (scripts/setup.sh fetches it)"
[ -x "$busybox" ] || skip_all "no arm64 busybox at $busybox (scripts/setup.sh fetches it)"

out=$LKVM_BUILD/arm64
logs=$LKVM_BUILD/arm64-logs
mkdir -p "$out" "$logs"
make -C "$TOP" --no-print-directory -s ARCH=arm64 CROSS_COMPILE="$cross" \
	>"$TAP_TMP/make.log" 2>&1 || {
	sed 's/^/# /' "$TAP_TMP/make.log" | tail -30
	echo "1..1"; echo "not ok 1 - arm64 cross build"; exit 1
}
lkvm=$TOP/build/obj-arm64/lkvm
"$TOP/scripts/arm64-initramfs.sh" "$out" "$lkvm" "$kernel" "$busybox" \
	"$cache/linux-arm64/modules"

# name:irqchip:action — see tests/arm64/l1-init
cases="v3:gicv3:poweroff,its:gicv3-its:poweroff,auto:auto:poweroff"
cases+=",reboot:gicv3:reboot,panic:gicv3:panic,pmu:gicv3:poweroff"
cases+=",fwoff:gicv3:fw-off,fwreset:gicv3:fw-reset"
cases+=",vmmio:gicv3:poweroff,vpci:gicv3-its:poweroff,vpcix:gicv3:poweroff"

plan 40
diag "kernel: $(cat "$cache/linux-arm64/version" 2>/dev/null)"
log=$logs/l1-$(date +%Y%m%d-%H%M%S).log
start=$(date +%s.%N)
timeout 540 qemu-system-aarch64 \
	-M virt,virtualization=on,gic-version=3,its=on \
	-cpu max,pauth-impdef=on -accel tcg -smp 2 -m 2G \
	-display none -monitor none -serial stdio -no-reboot \
	-kernel "$kernel" -initrd "$out/l1.cpio" \
	-append "console=ttyAMA0 panic=-1 l1cases=$cases" \
	</dev/null >"$log" 2>&1
qst=$?
end=$(date +%s.%N)
tr -d '\r' <"$log" >"$TAP_TMP/l1.log"
ln -sf "$(basename "$log")" "$logs/latest.log"
diag "L1 console log: $log"
diag "qemu status $qst after $(awk "BEGIN { printf \"%.1f\", $end - $start }") s"

L1=$TAP_TMP/l1.log
# section NAME: the console lines of case NAME (start marker to status)
section() {
	sed -n "/^L1: case=$1 irqchip/,/^L1: case=$1 lkvm status/p" "$L1" \
		>"$TAP_TMP/case-$1"
	echo "$TAP_TMP/case-$1"
}
status_of() { sed -n "s/^L1: case=$1 lkvm status=\([0-9]*\).*/\1/p" "$L1"; }
times_of() {
	sed -n "s/^L1: case=$1 irqchip=.* start=\([0-9.]*\)$/\1/p; s/^L1: case=$1 lkvm status=.* end=\([0-9.]*\)$/\1/p" "$L1" |
		tr '\n' ' '
}

like "$L1" '^L1: init reached' "L1 reached init"
like "$L1" '^L1: kvm=yes' "L1 has /dev/kvm (nested virtualization under TCG)"
diag "L1 init reached at uptime $(sed -n 's/^L1: init reached at uptime //p' "$L1") s"

for c in v3 its auto; do
	s=$(section $c)
	like "$s" '^L2: init reached' "$c: L2 reached init"
	like "$s" '^L2: cpus=2 online=0-1' "$c: both vCPUs online (PSCI CPU_ON)"
	is "$(status_of $c)" 0 "$c: guest poweroff -> lkvm status 0"
	set -- $(times_of $c)
	[ $# = 2 ] && diag "$c: lkvm start to L2 poweroff $(awk "BEGIN { print $2 - $1 }") s (L1 uptime); L2 kernel reached init at L2 uptime $(sed -n 's/^L2: init reached at uptime //p' "$s") s"
done
like "$(section v3)" '^L2: its=0' "gicv3: no ITS in L2"
like "$(section its)" '^L2: its=[1-9]' "gicv3-its: L2 found the ITS"
like "$(section auto)" '^L2: its=[1-9]' "auto picks gicv3-its on this host"
like "$(section v3)" '^L2: uart=[1-9]' "L2's ttyS0 is the 8250 at MMIO 0x1000000"

s=$(section reboot)
like "$s" '^L2: action=reboot' "reboot: L2 reached init and rebooted"
is "$(status_of reboot)" 8 "reboot: PSCI SYSTEM_RESET -> lkvm status 8"
s=$(section panic)
like "$s" '^L2: action=panic' "panic: L2 reached init and crashed itself"
is "$(status_of panic)" 8 "panic: panic=-1 reboots -> lkvm status 8"

s=$(section pmu)
if grep -q 'has no PMUv3' "$s"; then
	skip "pmu: L2 sees a PMUv3" "L1's KVM offers no guest PMU"
	skip "pmu: status 0" "L1's KVM offers no guest PMU"
else
	like "$s" '^L2: pmu=[1-9]' "pmu: --pmu gives L2 a PMUv3"
	is "$(status_of pmu)" 0 "pmu: status 0"
fi

is "$(status_of fwoff)" 0 "--firmware blob calling PSCI SYSTEM_OFF -> status 0"
is "$(status_of fwreset)" 8 "--firmware blob calling PSCI SYSTEM_RESET -> status 8"

# virtio (disk with a known first sector + rng) over virtio-mmio, over
# virtio-pci with MSI-X through the ITS, and over virtio-pci with INTx.
for c in vmmio vpci vpcix; do
	s=$(section $c)
	like "$s" '^L2: vda=LKVM-DISK-MARKER' "$c: L2 reads the virtio-blk disk"
	like "$s" '^L2: hwrng=virtio_rng.0 bytes=64' "$c: L2 reads virtio-rng"
	is "$(status_of $c)" 0 "$c: status 0"
done
like "$(section vpci)" '^L2: msi=[1-9]' "vpci: MSI-X through the ITS (requester ID as device ID)"

# The DTB lkvm gave L2 (--dump-dtb in the its case), carried out base64.
sed -n '/^L1: dtb-begin/,/^L1: dtb-end/p' "$L1" | sed '1d;$d' |
	base64 -d >"$TAP_TMP/l2.dtb" 2>/dev/null
if command -v dtc >/dev/null; then
	dtc -q -I dtb -O dts -o "$TAP_TMP/l2.dts" "$TAP_TMP/l2.dtb" 2>"$TAP_TMP/dtc.err"
	ok $? "--dump-dtb output is a valid DTB (dtc)"
	cp "$TAP_TMP/l2.dtb" "$logs/l2-its.dtb" 2>/dev/null
	d=$TAP_TMP/l2.dts
	like "$d" 'compatible = "arm,psci-0\.2' "dtb: psci 0.2"
	like "$d" 'enable-method = "psci"' "dtb: cpus use psci"
	like "$d" 'compatible = "arm,gic-v3-its"' "dtb: ITS under the GICv3"
	like "$d" 'compatible = "pci-host-ecam-generic"' "dtb: ECAM PCI host with msi-map"
	like "$d" 'linux,initrd-start' "dtb: chosen has the initrd"
else
	for i in 1 2 3 4 5 6; do skip "dtb check $i" "dtc missing (device-tree-compiler)"; done
fi
like "$L1" '^L1: all cases done' "L1 ran every case and powered off"

done_testing

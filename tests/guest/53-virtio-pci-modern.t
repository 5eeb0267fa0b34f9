#!/usr/bin/env bash
# --virtio-transport pci-modern: a modern-only virtio-pci device (what
# kvmtool's 'pci' is).  The vblk guest's modern driver finds device ID
# 0x1040 + 2 at revision 1 and does its I/O with MSI-X and with INTx; its
# legacy driver finds no legacy I/O BAR and gives up.  The transitional
# default ('pci') is checked beside it: ID 0x1001, revision 0, and the
# legacy driver works there.
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest vblk
plan 11

IMG=$TAP_TMP/modern.img
truncate -s $((8 << 20)) "$IMG"

for irq in msix intx; do
	run_guest vblk -d "$IMG" --virtio-transport pci-modern \
		-p "transport=pci irq=$irq seed=5 sectors=256"
	is "$STATUS" 1 "pci-modern irq=$irq: vblk guest passed"
	like "$OUT" '^vblk: verify ok' "pci-modern irq=$irq: data read back and verified"
done
like "$OUT" '^virtio: pci 00:[0-9a-f]{2}\.0 id 1042 rev 1,' \
	"pci-modern: device ID 0x1042, revision 1"

run_guest vblk -d "$IMG" --virtio-transport pci-modern \
	-p "transport=pci-legacy irq=intx seed=5 sectors=16"
ok $([ "$STATUS" != 1 ]; echo $?) "pci-modern: the legacy driver fails (status $STATUS)"
like "$OUT" '^virtio: device has no legacy I/O BAR' \
	"pci-modern: the legacy driver finds no legacy I/O BAR"
ok $(grep -q '^vblk: verify ok' "$OUT"; [ $? != 0 ]; echo $?) \
	"pci-modern: the legacy driver did no I/O"

run_guest vblk -d "$IMG" --virtio-transport pci \
	-p "transport=pci-legacy irq=intx seed=5 sectors=16"
is "$STATUS" 1 "pci (transitional): the legacy driver works"
like "$OUT" '^virtio: pci 00:[0-9a-f]{2}\.0 id 1001 rev 0,' \
	"pci (transitional): device ID 0x1001, revision 0"

"$LKVM" run --virtio-transport pcie -k /dev/null >/dev/null 2>"$TAP_TMP/bad.err"
st=$?
ok $([ "$st" != 0 ] && grep -q 'pci-modern' "$TAP_TMP/bad.err"; echo $?) \
	"an unknown transport is refused, naming pci-modern among the choices (status $st)"

done_testing

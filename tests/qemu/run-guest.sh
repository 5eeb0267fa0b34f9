#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run one lkvm test guest under QEMU -M pc and propagate its exit status,
# for differential testing against lkvm.
#
#   tests/qemu/run-guest.sh <image.bzImage> [extra qemu args...]
#
# Environment:
#   QEMU          qemu binary (default qemu-system-x86_64)
#   QEMU_ACCEL    kvm or tcg (default kvm)
#   QEMU_MEM      -m value (default 128M)
#   QEMU_SMP      number of vCPUs or full -smp value (default 2)
#   QEMU_APPEND   kernel command line (default empty)
#   QEMU_TIMEOUT  seconds before giving up (default 60; status 124)
#
# Exit status is QEMU's: (v << 1) | 1 for guest_exit(v) through
# isa-debug-exit at port 0xf4, 0 for ACPI poweroff or (with -no-reboot)
# reset, 124 on timeout.

if [ $# -lt 1 ]; then
	echo "usage: $0 <image> [extra qemu args...]" >&2
	exit 2
fi
image=$1
shift

# SeaBIOS lists only the first logical CPU of each package in its MP
# table (HTT set => "siblings are found through ACPI").  The guests only
# read the MP table, so give each vCPU its own socket, like lkvm's table.
smp=${QEMU_SMP:-2}
case $smp in
*[!0-9]*) ;;
*) smp="$smp,sockets=$smp,cores=1,threads=1" ;;
esac

exec timeout --foreground -k 5 "${QEMU_TIMEOUT:-60}" \
	"${QEMU:-qemu-system-x86_64}" \
	-M pc -accel "${QEMU_ACCEL:-kvm}" \
	-m "${QEMU_MEM:-128M}" -smp "$smp" \
	-display none -serial stdio -monitor none \
	-no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=4 \
	-kernel "$image" -append "${QEMU_APPEND:-}" \
	"$@"

# shellcheck shell=bash
# QEMU as lkvm is run, for tests/bench/run.sh and net.sh (sourced):
# serial on stdout, isa-debug-exit at lkvm's test port, no reboot, KVM.
# -M microvm with its virtio-mmio transport, modern; -M pc (SeaBIOS,
# virtio-pci) as the heavier reference.
QEMU=${QEMU:-qemu-system-x86_64}
QMICRO=("$QEMU" -M microvm -accel kvm -display none -serial stdio
	-monitor none -no-reboot -global virtio-mmio.force-legacy=false
	-device isa-debug-exit,iobase=0xf4,iosize=4)
QPC=("$QEMU" -M pc -accel kvm -display none -serial stdio
	-monitor none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4)
# microvm's virtio-mmio slot the first device lands in, for the guest.
MICROVM_SLOT="virtio_mmio.device=512@0xfeb02e00:12"

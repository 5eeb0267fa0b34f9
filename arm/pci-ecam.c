// SPDX-License-Identifier: GPL-2.0
/*
 * PCI configuration space through an ECAM window (pci-host-ecam-generic):
 * one 4 KiB page per function, bus[27:20] dev[19:15] fn[14:12] reg[11:0].
 * Only a transport: every access goes to hw/pci.c's accessors, which own
 * the devices, their write masks and locking.
 */
#include <string.h>

#include "lkvm/hw.h"
#include "lkvm/kvm.h"
#include "lkvm/pci.h"

static void pci_ecam__io(void *opaque, u64 offset, void *data, u32 len,
			 bool is_write)
{
	struct kvm *kvm = opaque;
	u8 bus = (offset >> 20) & 0xff, dev = (offset >> 15) & 0x1f;
	u8 fn = (offset >> 12) & 0x7;
	u32 reg = offset & 0xfff;

	/* Naturally aligned 1, 2 or 4 byte accesses only, as on hardware. */
	if ((len != 1 && len != 2 && len != 4) || (reg & (len - 1))) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (is_write)
		pci__cfg_write(kvm, bus, dev, fn, reg, data, len);
	else
		pci__cfg_read(kvm, bus, dev, fn, reg, data, len);
}

/*
 * arm has no port I/O: the guest reaches PCI I/O BARs through an MMIO
 * window, which lands here and goes on to the port bus where hw/pci.c
 * maps them.
 */
static void pci_io_window__io(void *opaque, u64 offset, void *data, u32 len,
			      bool is_write)
{
	struct kvm *kvm = opaque;

	bus_dispatch(&kvm->pio_bus, ARM_PCI_IO_BUS_BASE + offset, data, len,
		     is_write);
}

int pci_ecam__init(struct kvm *kvm)
{
	/*
	 * The shared host bridge owns the device table; its 0xcf8/0xcfc
	 * ports go on the port bus, which nothing reaches on arm64.
	 */
	int ret = pci_host__init(kvm, &kvm->pio_bus);

	if (!ret)
		ret = bus_register(&kvm->mmio_bus, ARM_PCI_IO_CPU_BASE,
				   ARM_PCI_IO_SIZE, pci_io_window__io, kvm,
				   "pci-io-window");
	if (ret)
		return ret;
	return bus_register(&kvm->mmio_bus, ARM_PCI_ECAM_BASE,
			    ARM_PCI_ECAM_SIZE, pci_ecam__io, kvm, "pci-ecam");
}

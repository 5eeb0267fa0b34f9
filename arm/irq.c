// SPDX-License-Identifier: GPL-2.0
/*
 * arm64 interrupt and PCI wiring: the GSI routes KVM's vGIC has by
 * default (GSI n -> SPI n), which KVM_SET_GSI_ROUTING would otherwise
 * replace, GICv2m messages as SPIs, the PCI memory window, and the SPI
 * each slot's INTA drives.
 */
#include "lkvm/irq.h"
#include "lkvm/kvm.h"
#include "lkvm/pci.h"

unsigned int arch__irq_default_routes(struct kvm_irq_routing_entry *e,
				      unsigned int max, u32 *first_free)
{
	unsigned int n = 0;

	/* The SPIs the board uses: UART, PCI INTx, virtio-mmio (0-47). */
	for (u32 spi = 0; spi < ARM_VIRTIO_MMIO_SPI + ARM_VIRTIO_MMIO_SLOTS &&
			   n < max; spi++)
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = spi,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = 0, .pin = spi },
		};
	*first_free = ARM_GIC_NR_SPIS;
	return n;
}

/*
 * With an ITS, KVM translates MSIs itself.  A GICv2m frame is ours (KVM
 * has no MSI path without an ITS and drops such messages): its doorbell
 * writes are SPIs, so they become irqchip routes and line edges, as
 * kvmtool does.  Any other message on such a board reaches nothing.
 */
int arch__msi_to_line(struct kvm *kvm, u64 addr, u32 data, unsigned int *line)
{
	int spi;

	if (kvm->arch.irqchip != ARM_IRQCHIP_GICV2M)
		return 0;
	spi = gic__v2m_msi_spi(addr, data);
	if (spi < 0)
		return spi;
	*line = (unsigned int)spi;
	return 1;
}

void arch__pci_windows(struct pci_windows *w)
{
	w->mmio_start = ARM_PCI_MMIO_BASE;
	w->mmio_end = ARM_PCI_MMIO_BASE + ARM_PCI_MMIO_SIZE;
	/* PCI I/O addresses; arm/pci-ecam.c forwards the CPU window. */
	w->io_start = ARM_PCI_IO_BUS_BASE;
	w->io_end = ARM_PCI_IO_BUS_BASE + ARM_PCI_IO_SIZE;
}

unsigned int arch__pci_intx_line(unsigned int dev)
{
	return ARM_PCI_INTX_SPI + dev % ARM_PCI_INTX_SPIS;
}

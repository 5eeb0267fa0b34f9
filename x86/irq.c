// SPDX-License-Identifier: GPL-2.0
/*
 * x86 interrupt and PCI wiring: the in-kernel irqchip's default GSI routes,
 * the PCI BAR windows the DSDT declares, and which IOAPIC pin each PCI
 * slot's INTA drives.
 */
#include "arch/boot.h"
#include "lkvm/irq.h"
#include "lkvm/pci.h"

#define IOAPIC_PINS		24	/* KVM_CREATE_IRQCHIP's IOAPIC */
#define PIC_PINS		16
#define PIC_CASCADE_PIN		2
#define PCI_INTX_FIRST_PIN	16	/* pins 16-23: PCI, level-triggered */
#define PCI_INTX_PINS		8

/*
 * What KVM installs itself at KVM_CREATE_IRQCHIP, which a
 * KVM_SET_GSI_ROUTING would otherwise wipe out: GSI n drives IOAPIC pin n
 * for every pin, and the matching PIC input for n < 16 (the master/slave
 * split is KVM's: chip 0 for 0-7, chip 1 for 8-15).  The cascade input is
 * left out: nothing may raise it.
 */
unsigned int arch__irq_default_routes(struct kvm_irq_routing_entry *e,
				      unsigned int max, u32 *first_free)
{
	unsigned int n = 0;

	for (u32 gsi = 0; gsi < IOAPIC_PINS; gsi++) {
		if (n < max)
			e[n++] = (struct kvm_irq_routing_entry){
				.gsi = gsi,
				.type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC,
					       .pin = gsi },
			};
		if (gsi >= PIC_PINS || gsi == PIC_CASCADE_PIN || n >= max)
			continue;
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = {
				.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
						     KVM_IRQCHIP_PIC_SLAVE,
				.pin = gsi % 8,
			},
		};
	}
	*first_free = IOAPIC_PINS;
	return n;
}

/* Every MSI goes to the LAPICs through KVM's MSI routing. */
int arch__msi_to_line(struct kvm *kvm __unused, u64 addr __unused,
		      u32 data __unused, unsigned int *line __unused)
{
	return 0;
}

void arch__pci_windows(struct pci_windows *w)
{
	w->mmio_start = X86_PCI_MMIO_START;
	w->mmio_end = X86_PCI_MMIO_END;
	w->io_start = X86_PCI_IO_START;
	w->io_end = X86_PCI_IO_END;
}

/*
 * Round-robin over IOAPIC pins 16-23 by slot, so the mapping is a pure
 * function of the slot (the firmware tables can describe it) and
 * neighbouring devices do not share a line.
 */
unsigned int arch__pci_intx_line(unsigned int dev)
{
	return PCI_INTX_FIRST_PIN + dev % PCI_INTX_PINS;
}

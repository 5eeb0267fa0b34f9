// SPDX-License-Identifier: GPL-2.0
/* PCI configuration mechanism #1 (0xcf8/0xcfc). */
#include "../include/guest.h"

#define PCI_CONF_ADDR	0xcf8
#define PCI_CONF_DATA	0xcfc

static spinlock_t pci_lock;

static uint32_t pci_addr(int bus, int dev, int fn, int off)
{
	return 0x80000000u | (bus << 16) | (dev << 11) | (fn << 8) | (off & 0xfc);
}

uint32_t pci_read32(int bus, int dev, int fn, int off)
{
	uint32_t v;

	spin_lock(&pci_lock);
	outl(PCI_CONF_ADDR, pci_addr(bus, dev, fn, off));
	v = inl(PCI_CONF_DATA);
	spin_unlock(&pci_lock);
	return v;
}

void pci_write32(int bus, int dev, int fn, int off, uint32_t v)
{
	spin_lock(&pci_lock);
	outl(PCI_CONF_ADDR, pci_addr(bus, dev, fn, off));
	outl(PCI_CONF_DATA, v);
	spin_unlock(&pci_lock);
}

/* Returns the number of functions found; prints one line each if asked. */
int pci_scan_bus0(bool print)
{
	int dev, fn, found = 0;

	for (dev = 0; dev < 32; dev++) {
		for (fn = 0; fn < 8; fn++) {
			uint32_t id = pci_read32(0, dev, fn, 0x00);
			uint32_t class, hdr;

			if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0) {
				if (fn == 0)
					break;
				continue;
			}
			class = pci_read32(0, dev, fn, 0x08) >> 8;
			hdr = (pci_read32(0, dev, fn, 0x0c) >> 16) & 0xff;
			found++;
			if (print)
				printf("pci 00:%02x.%x %04x:%04x class %06x\n",
				       dev, fn, id & 0xffff, id >> 16, class);
			/* Only multi-function devices have fn 1..7. */
			if (fn == 0 && !(hdr & 0x80))
				break;
		}
	}
	return found;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Finding a virtio device for the test guests: by ID on PCI bus 0
 * (modern capabilities or the legacy I/O BAR), or from a
 * virtio_mmio.device= word on the command line.
 */
#include "virtio-regs.h"

/* ---- PCI discovery ---- */
static uint16_t transitional_id(uint32_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET: return 0x1000;
	case VIRTIO_ID_BLOCK: return 0x1001;
	case VIRTIO_ID_BALLOON: return 0x1002;
	case VIRTIO_ID_CONSOLE: return 0x1003;
	case VIRTIO_ID_RNG: return 0x1005;
	case VIRTIO_ID_9P: return 0x1009;
	default: return 0;
	}
}

static uint8_t pci_read8(struct virtio_dev *vd, int off)
{
	return pci_read32(vd->bus, vd->dev, vd->fn, off & ~3) >> (8 * (off & 3));
}

/* BAR @n as an address below 4 GiB (our page tables), or 0. */
static uint64_t pci_bar(struct virtio_dev *vd, int n, bool *io)
{
	uint32_t lo = pci_read32(vd->bus, vd->dev, vd->fn, 0x10 + 4 * n);
	uint64_t a;

	*io = lo & 1;
	if (*io)
		return lo & ~3u;
	a = lo & ~0xfu;
	if (((lo >> 1) & 3) == 2)
		a |= (uint64_t)pci_read32(vd->bus, vd->dev, vd->fn,
					  0x10 + 4 * (n + 1)) << 32;
	return a;
}

static int pci_find(struct virtio_dev *vd, uint32_t device_id)
{
	uint16_t tid = transitional_id(device_id);
	int dev, fn;

	for (dev = 0; dev < 32; dev++) {
		for (fn = 0; fn < 8; fn++) {
			uint32_t id = pci_read32(0, dev, fn, 0);
			uint32_t hdr = pci_read32(0, dev, fn, 0x0c) >> 16;

			if ((id & 0xffff) == 0xffff) {
				if (!fn)
					break;
				continue;
			}
			if ((id & 0xffff) == VIRTIO_PCI_VENDOR &&
			    ((id >> 16) == 0x1040 + device_id ||
			     (tid && (id >> 16) == tid))) {
				vd->bus = 0;
				vd->dev = dev;
				vd->fn = fn;
				return 0;
			}
			if (!fn && !(hdr & 0x80))
				break;
		}
	}
	return -1;
}

static int pci_probe(struct virtio_dev *vd, uint32_t device_id)
{
	uint32_t cmd;
	uint8_t ptr;
	uint64_t bar;
	bool io;
	int guard = 48;

	if (pci_find(vd, device_id)) {
		printf("virtio: no PCI device for virtio id %u\n", device_id);
		return -1;
	}
	/* Under QEMU the firmware left decoding to us; lkvm pre-enables. */
	cmd = pci_read32(vd->bus, vd->dev, vd->fn, PCI_COMMAND) & 0xffff;
	cmd |= PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER;
	if (vd->irq_mode == VIRQ_INTX)
		cmd &= ~PCI_CMD_INTX_DISABLE;
	pci_write32(vd->bus, vd->dev, vd->fn, PCI_COMMAND, cmd);
	vd->intx_line = pci_read8(vd, PCI_INTERRUPT_LINE);

	if (!(pci_read32(vd->bus, vd->dev, vd->fn, PCI_COMMAND) >> 16 &
	      PCI_STATUS_CAP_LIST))
		ptr = 0;
	else
		ptr = pci_read8(vd, PCI_CAP_PTR) & 0xfc;
	for (; ptr && guard--; ptr = pci_read8(vd, ptr + 1) & 0xfc) {
		uint8_t id = pci_read8(vd, ptr), type, barno;
		uint32_t off;
		uintptr_t *where = NULL;

		if (id == PCI_CAP_ID_MSIX) {
			uint32_t t = pci_read32(vd->bus, vd->dev, vd->fn, ptr + 4);

			vd->msix_cap = ptr;
			bar = pci_bar(vd, t & 7, &io);
			vd->msix_table = io ? 0 : bar + (t & ~7u);
			continue;
		}
		if (id != PCI_CAP_ID_VNDR)
			continue;
		type = pci_read8(vd, ptr + 3);
		barno = pci_read8(vd, ptr + 4);
		off = pci_read32(vd->bus, vd->dev, vd->fn, ptr + 8);
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON: where = &vd->common; break;
		case VIRTIO_PCI_CAP_NOTIFY: where = &vd->notify; break;
		case VIRTIO_PCI_CAP_ISR: where = &vd->isr; break;
		case VIRTIO_PCI_CAP_DEVICE: where = &vd->devcfg; break;
		}
		/* The first capability of each type is the preferred one. */
		if (!where || *where || barno > 5)
			continue;
		bar = pci_bar(vd, barno, &io);
		if (io || !bar || bar + off >= (1ULL << 32)) {
			printf("virtio: cap type %u in unusable BAR%u (0x%lx)\n",
			       type, barno, bar);
			continue;
		}
		*where = bar + off;
		if (type == VIRTIO_PCI_CAP_NOTIFY)
			vd->notify_mult = pci_read32(vd->bus, vd->dev, vd->fn,
						     ptr + 16);
	}

	if (vd->transport == VT_PCI) {
		if (!vd->common || !vd->notify || !vd->isr) {
			puts("virtio: device has no modern interface");
			return -1;
		}
	} else {
		bar = pci_bar(vd, 0, &io);
		if (!io || !bar) {
			puts("virtio: device has no legacy I/O BAR");
			return -1;
		}
		vd->io_base = bar;
	}
	printf("virtio: pci 00:%02x.%x id %04x rev %u, line %u%s\n", vd->dev,
	       vd->fn, pci_read32(vd->bus, vd->dev, vd->fn, 0) >> 16,
	       pci_read8(vd, 0x08), vd->intx_line,
	       vd->msix_cap ? ", msi-x" : "");
	if (cmdline_get_str("virtio_debug", (char[2]){ 0 }, 2))
		printf("virtio: common 0x%lx notify 0x%lx (x%u) isr 0x%lx device 0x%lx msix 0x%lx io 0x%x\n",
		       vd->common, vd->notify, vd->notify_mult, vd->isr,
		       vd->devcfg, vd->msix_table, vd->io_base);
	return 0;
}

void virtio_pci_bus_master(struct virtio_dev *vd, bool on)
{
	uint32_t cmd = pci_read32(vd->bus, vd->dev, vd->fn, PCI_COMMAND) & 0xffff;

	cmd = on ? cmd | PCI_CMD_MASTER : cmd & ~PCI_CMD_MASTER;
	/* Status (upper half) is write-1-to-clear: write zeros there. */
	pci_write32(vd->bus, vd->dev, vd->fn, PCI_COMMAND, cmd);
}

/* ---- MMIO discovery: virtio_mmio.device=<size>@<base>:<irq> ---- */
static uint64_t parse_num(const char **pp)
{
	const char *p = *pp;
	uint64_t v = parse_uint(&p);

	if (*p == 'K' || *p == 'k') {
		v <<= 10;
		p++;
	} else if (*p == 'M' || *p == 'm') {
		v <<= 20;
		p++;
	}
	*pp = p;
	return v;
}

static int mmio_probe(struct virtio_dev *vd, uint32_t device_id)
{
	static const char key[] = "virtio_mmio.device=";
	const char *p = boot_info.cmdline;
	int found = 0;

	while ((p = *p ? p : NULL)) {
		uint64_t base;
		unsigned int irq;

		if (strncmp(p, key, sizeof(key) - 1)) {
			while (*p && *p != ' ')
				p++;
			while (*p == ' ')
				p++;
			continue;
		}
		p += sizeof(key) - 1;
		parse_num(&p);			/* size */
		if (*p++ != '@')
			continue;
		base = parse_num(&p);
		if (*p++ != ':')
			continue;
		irq = parse_num(&p);
		found++;
		if (base >= (1ULL << 32) ||
		    rd32(base + VMM_MAGIC) != VMM_MAGIC_VALUE ||
		    rd32(base + VMM_DEVICE_ID) != device_id)
			continue;
		vd->mmio = base;
		vd->mmio_irq = irq;
		vd->mmio_version = rd32(base + VMM_VERSION);
		if (vd->mmio_version != (vd->transport == VT_MMIO ? 2u : 1u)) {
			printf("virtio: mmio at 0x%lx is version %u, not what transport=%s needs\n",
			       base, vd->mmio_version,
			       virtio_transport_name(vd->transport));
			return -1;
		}
		printf("virtio: mmio at 0x%lx irq %u version %u\n", base, irq,
		       vd->mmio_version);
		return 0;
	}
	printf("virtio: no virtio-mmio device for virtio id %u (%d slots on the cmdline)\n",
	       device_id, found);
	return -1;
}

int virtio_probe(struct virtio_dev *vd, const struct virtio_opts *o,
		 uint32_t device_id)
{
	memset(vd, 0, sizeof(*vd));
	vd->transport = o->transport;
	vd->irq_mode = o->irq_mode;
	vd->device_id = device_id;
	if (is_pci(vd))
		return pci_probe(vd, device_id);
	return mmio_probe(vd, device_id);
}

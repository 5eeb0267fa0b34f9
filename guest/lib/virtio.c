// SPDX-License-Identifier: GPL-2.0
/*
 * virtio transports for the test guests: PCI modern (capabilities), PCI
 * legacy (I/O BAR), MMIO v2 and v1; device initialisation, feature
 * negotiation and interrupt set-up (MSI-X, INTx through the IOAPIC, or
 * none).  See include/virtio.h for the execution model (CPL3).
 */
#include "../include/virtio.h"

/* ---- PCI config space ---- */
#define PCI_COMMAND		0x04
#define PCI_CMD_IO		0x0001
#define PCI_CMD_MEM		0x0002
#define PCI_CMD_MASTER		0x0004
#define PCI_CMD_INTX_DISABLE	0x0400
#define PCI_STATUS_CAP_LIST	0x0010
#define PCI_CAP_PTR		0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_CAP_ID_MSIX		0x11
#define PCI_CAP_ID_VNDR		0x09

#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_CAP_COMMON	1
#define VIRTIO_PCI_CAP_NOTIFY	2
#define VIRTIO_PCI_CAP_ISR	3
#define VIRTIO_PCI_CAP_DEVICE	4

/* struct virtio_pci_common_cfg */
#define VPC_DFSELECT		0
#define VPC_DF			4
#define VPC_GFSELECT		8
#define VPC_GF			12
#define VPC_MSIX_CONFIG		16
#define VPC_NUM_QUEUES		18
#define VPC_STATUS		20
#define VPC_CFG_GENERATION	21
#define VPC_Q_SELECT		22
#define VPC_Q_SIZE		24
#define VPC_Q_MSIX		26
#define VPC_Q_ENABLE		28
#define VPC_Q_NOFF		30
#define VPC_Q_DESC		32
#define VPC_Q_AVAIL		40
#define VPC_Q_USED		48

/* Legacy I/O BAR registers (<linux/virtio_pci.h>) */
#define VPL_HOST_FEATURES	0
#define VPL_GUEST_FEATURES	4
#define VPL_QUEUE_PFN		8
#define VPL_QUEUE_NUM		12
#define VPL_QUEUE_SEL		14
#define VPL_QUEUE_NOTIFY	16
#define VPL_STATUS		18
#define VPL_ISR			19
#define VPL_MSIX_CONFIG		20
#define VPL_MSIX_QUEUE		22
#define VPL_CONFIG(msix)	((msix) ? 24 : 20)
#define VIRTIO_MSI_NO_VECTOR	0xffff

/* virtio-mmio registers */
#define VMM_MAGIC		0x000
#define VMM_VERSION		0x004
#define VMM_DEVICE_ID		0x008
#define VMM_DEV_FEATURES	0x010
#define VMM_DEV_FEATURES_SEL	0x014
#define VMM_DRV_FEATURES	0x020
#define VMM_DRV_FEATURES_SEL	0x024
#define VMM_GUEST_PAGE_SIZE	0x028
#define VMM_QUEUE_SEL		0x030
#define VMM_QUEUE_NUM_MAX	0x034
#define VMM_QUEUE_NUM		0x038
#define VMM_QUEUE_ALIGN		0x03c
#define VMM_QUEUE_PFN		0x040
#define VMM_QUEUE_READY		0x044
#define VMM_QUEUE_NOTIFY	0x050
#define VMM_INT_STATUS		0x060
#define VMM_INT_ACK		0x064
#define VMM_STATUS		0x070
#define VMM_QUEUE_DESC_LO	0x080
#define VMM_QUEUE_DESC_HI	0x084
#define VMM_QUEUE_AVAIL_LO	0x090
#define VMM_QUEUE_AVAIL_HI	0x094
#define VMM_QUEUE_USED_LO	0x0a0
#define VMM_QUEUE_USED_HI	0x0a4
#define VMM_CONFIG		0x100
#define VMM_MAGIC_VALUE		0x74726976	/* "virt" */

#define VRING_ALIGN		4096
#define QUEUE_SIZE_WANT		256

static inline uint8_t rd8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline uint16_t rd16(uintptr_t a) { return *(volatile uint16_t *)a; }
static inline uint32_t rd32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void wr8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline void wr16(uintptr_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline void wr32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }

/* ---- heap: above the image, inside the e820 RAM entry that holds it ---- */
extern char _end[];
static uintptr_t heap_next, heap_end;

static void heap_init(void)
{
	uintptr_t start = ((uintptr_t)_end + 0xfffff) & ~0xfffffUL;
	uint32_t i;

	heap_next = start;
	heap_end = start + (16UL << 20);
	for (i = 0; i < boot_info.e820_entries; i++) {
		const struct e820_entry *e = &boot_info.e820[i];

		if (e->type == E820_TYPE_RAM && e->addr <= start &&
		    e->addr + e->size > start && e->addr + e->size < heap_end)
			heap_end = e->addr + e->size;
	}
}

void *valloc(size_t bytes, size_t align)
{
	uintptr_t p;

	if (!heap_next)
		heap_init();
	p = (heap_next + align - 1) & ~(align - 1);
	if (p + bytes > heap_end) {
		printf("virtio: out of heap (%lu bytes wanted)\n", bytes);
		return NULL;
	}
	heap_next = p + bytes;
	/* Zeroed here, at CPL3 normally: rep stosb is fast natively. */
	memset((void *)p, 0, bytes);
	return (void *)p;
}

void *vmalloc_pages(size_t bytes)
{
	return valloc((bytes + 4095) & ~4095UL, 4096);
}

static uint64_t tsc_since_first(void)
{
	static uint64_t t0;

	if (!t0)
		t0 = rdtsc();
	return rdtsc() - t0;
}

uint64_t ms_now(void)
{
	return tsc_since_first() / tsc_khz();
}

uint64_t us_now(void)
{
	return tsc_since_first() * 1000 / tsc_khz();
}

/* ---- options ---- */
const char *virtio_transport_name(enum virtio_transport t)
{
	static const char *const names[] = {
		[VT_PCI] = "pci", [VT_PCI_LEGACY] = "pci-legacy",
		[VT_MMIO] = "mmio", [VT_MMIO_LEGACY] = "mmio-legacy",
	};
	return names[t];
}

const char *virtio_irq_name(enum virtio_irq_mode m)
{
	static const char *const names[] = {
		[VIRQ_POLL] = "poll", [VIRQ_MSIX] = "msix", [VIRQ_INTX] = "intx",
	};
	return names[m];
}

static bool streq(const char *a, const char *b)
{
	size_t n = strlen(b);

	return strlen(a) == n && !strncmp(a, b, n);
}

bool virtio_parse_opts(struct virtio_opts *o)
{
	char buf[32];
	long v;
	int t;

	o->transport = VT_PCI;
	if (cmdline_get_str("transport", buf, sizeof(buf))) {
		for (t = VT_PCI; t <= VT_MMIO_LEGACY; t++)
			if (streq(buf, virtio_transport_name(t)))
				break;
		if (t > VT_MMIO_LEGACY) {
			printf("virtio: unknown transport '%s'\n", buf);
			return false;
		}
		o->transport = t;
	}
	o->irq_mode = o->transport <= VT_PCI_LEGACY ? VIRQ_MSIX : VIRQ_INTX;
	if (cmdline_get_str("irq", buf, sizeof(buf))) {
		if (streq(buf, "msix"))
			o->irq_mode = VIRQ_MSIX;
		else if (streq(buf, "intx") || streq(buf, "line"))
			o->irq_mode = VIRQ_INTX;
		else if (streq(buf, "poll"))
			o->irq_mode = VIRQ_POLL;
		else {
			printf("virtio: unknown irq mode '%s'\n", buf);
			return false;
		}
	}
	if (o->irq_mode == VIRQ_MSIX && o->transport >= VT_MMIO) {
		puts("virtio: irq=msix needs a PCI transport");
		return false;
	}
	o->event_idx = !cmdline_get_int("event_idx", &v) || v;
	o->indirect = !cmdline_get_int("indirect", &v) || v;
	return true;
}

/* ---- register access per transport ---- */
static bool is_pci(const struct virtio_dev *vd)
{
	return vd->transport == VT_PCI || vd->transport == VT_PCI_LEGACY;
}

uint8_t virtio_get_status(struct virtio_dev *vd)
{
	switch (vd->transport) {
	case VT_PCI:
		return rd8(vd->common + VPC_STATUS);
	case VT_PCI_LEGACY:
		return inb(vd->io_base + VPL_STATUS);
	default:
		return rd32(vd->mmio + VMM_STATUS);
	}
}

void virtio_set_status(struct virtio_dev *vd, uint8_t s)
{
	switch (vd->transport) {
	case VT_PCI:
		wr8(vd->common + VPC_STATUS, s);
		break;
	case VT_PCI_LEGACY:
		outb(vd->io_base + VPL_STATUS, s);
		break;
	default:
		wr32(vd->mmio + VMM_STATUS, s);
	}
}

uint8_t virtio_read_isr(struct virtio_dev *vd)
{
	uint32_t v;

	switch (vd->transport) {
	case VT_PCI:
		return rd8(vd->isr);
	case VT_PCI_LEGACY:
		return inb(vd->io_base + VPL_ISR);
	default:
		v = rd32(vd->mmio + VMM_INT_STATUS);
		if (v)
			wr32(vd->mmio + VMM_INT_ACK, v);
		return v;
	}
}

void virtio_reset(struct virtio_dev *vd)
{
	uint64_t end;

	virtio_set_status(vd, 0);
	/* Modern devices may take time; legacy ones reset synchronously. */
	end = ms_now() + 1000;
	while (virtio_get_status(vd) && ms_now() < end)
		cpu_relax();
	if (virtio_get_status(vd))
		printf("virtio: status still 0x%x after reset\n",
		       virtio_get_status(vd));
}

static uint32_t get_features(struct virtio_dev *vd, unsigned int word)
{
	switch (vd->transport) {
	case VT_PCI:
		wr32(vd->common + VPC_DFSELECT, word);
		return rd32(vd->common + VPC_DF);
	case VT_PCI_LEGACY:
		return word ? 0 : inl(vd->io_base + VPL_HOST_FEATURES);
	default:
		wr32(vd->mmio + VMM_DEV_FEATURES_SEL, word);
		return rd32(vd->mmio + VMM_DEV_FEATURES);
	}
}

static void set_features(struct virtio_dev *vd, unsigned int word, uint32_t v)
{
	switch (vd->transport) {
	case VT_PCI:
		wr32(vd->common + VPC_GFSELECT, word);
		wr32(vd->common + VPC_GF, v);
		break;
	case VT_PCI_LEGACY:
		if (!word)
			outl(vd->io_base + VPL_GUEST_FEATURES, v);
		break;
	default:
		wr32(vd->mmio + VMM_DRV_FEATURES_SEL, word);
		wr32(vd->mmio + VMM_DRV_FEATURES, v);
	}
}

/* ---- device config space ---- */
static uint8_t cfg_read8_raw(struct virtio_dev *vd, unsigned int off)
{
	switch (vd->transport) {
	case VT_PCI:
		return rd8(vd->devcfg + off);
	case VT_PCI_LEGACY:
		return inb(vd->io_base + VPL_CONFIG(vd->legacy_msix) + off);
	default:
		return rd8(vd->mmio + VMM_CONFIG + off);
	}
}

static uint8_t cfg_generation(struct virtio_dev *vd)
{
	if (vd->transport == VT_PCI)
		return rd8(vd->common + VPC_CFG_GENERATION);
	if (vd->transport == VT_MMIO)
		return rd32(vd->mmio + 0x0fc);
	return 0;
}

/* Byte-wise with a generation check: fine for a handful of fields. */
static void cfg_read(struct virtio_dev *vd, unsigned int off, void *buf,
		     unsigned int len)
{
	uint8_t gen, *p = buf;
	unsigned int i;

	do {
		gen = cfg_generation(vd);
		for (i = 0; i < len; i++)
			p[i] = cfg_read8_raw(vd, off + i);
	} while (gen != cfg_generation(vd));
}

uint8_t virtio_cfg_read8(struct virtio_dev *vd, unsigned int off)
{
	uint8_t v;

	cfg_read(vd, off, &v, 1);
	return v;
}

uint32_t virtio_cfg_read32(struct virtio_dev *vd, unsigned int off)
{
	uint32_t v;

	cfg_read(vd, off, &v, 4);
	return v;
}

uint64_t virtio_cfg_read64(struct virtio_dev *vd, unsigned int off)
{
	uint64_t v;

	cfg_read(vd, off, &v, 8);
	return v;
}

void virtio_cfg_write8(struct virtio_dev *vd, unsigned int off, uint8_t v)
{
	switch (vd->transport) {
	case VT_PCI:
		wr8(vd->devcfg + off, v);
		break;
	case VT_PCI_LEGACY:
		outb(vd->io_base + VPL_CONFIG(vd->legacy_msix) + off, v);
		break;
	default:
		wr8(vd->mmio + VMM_CONFIG + off, v);
	}
}

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
	uint64_t v = 0;
	int base = 10;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (;; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		v = v * base + d;
	}
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

/* ---- interrupts ---- */
static struct virtio_dev *irq_vd;

static void vq_irq(struct trap_frame *tf)
{
	unsigned int q = tf->vector - VIRTIO_VEC_BASE - 1;

	if (irq_vd) {
		irq_vd->nr_irqs++;
		if (q < irq_vd->nr_vqs && irq_vd->vqs[q])
			irq_vd->vqs[q]->nr_irqs++;
	}
	lapic_eoi();
}

static void config_irq(struct trap_frame *tf)
{
	(void)tf;
	if (irq_vd)
		irq_vd->nr_config_irqs++;
	lapic_eoi();
}

/*
 * INTx / MMIO line: reading the ISR (PCI) or acknowledging
 * InterruptStatus (MMIO) deasserts the line; do it before the EOI so a
 * level-triggered pin does not fire again at once.
 */
static void line_irq(struct trap_frame *tf)
{
	struct virtio_dev *vd = irq_vd;
	uint8_t isr;
	unsigned int i;

	(void)tf;
	if (vd) {
		isr = virtio_read_isr(vd);
		vd->last_isr |= isr;
		if (isr & 1) {
			vd->nr_irqs++;
			for (i = 0; i < vd->nr_vqs; i++)
				if (vd->vqs[i])
					vd->vqs[i]->nr_irqs++;
		}
		if (isr & 2)
			vd->nr_config_irqs++;
	}
	lapic_eoi();
}

static void ioapic_route(int pin, uint8_t vector, bool level)
{
	ioapic_write(0x10 + 2 * pin, 1 << 16);
	ioapic_write(0x11 + 2 * pin, lapic_id() << 24);
	/* Active high: KVM's and QEMU's IOAPICs see PCI INTx as a high level. */
	ioapic_write(0x10 + 2 * pin, vector | (level ? 1 << 15 : 0));
}

static int msix_enable(struct virtio_dev *vd, unsigned int nr_vecs)
{
	uint32_t ctl = pci_read32(vd->bus, vd->dev, vd->fn, vd->msix_cap);
	unsigned int size = ((ctl >> 16) & 0x7ff) + 1, i;

	if (!vd->msix_cap || !vd->msix_table) {
		puts("virtio: no usable MSI-X capability");
		return -1;
	}
	if (size < 2) {
		puts("virtio: MSI-X table too small");
		return -1;
	}
	/* Fewer entries than queues (QEMU's console has 2): share the last. */
	if (nr_vecs > size)
		nr_vecs = size;
	vd->msix_size = nr_vecs;
	for (i = 0; i < nr_vecs; i++) {
		uintptr_t e = vd->msix_table + 16 * i;

		wr32(e + 0, 0xfee00000u | (lapic_id() << 12));
		wr32(e + 4, 0);
		wr32(e + 8, VIRTIO_VEC_BASE + i);
		wr32(e + 12, 0);		/* unmasked */
	}
	/* Enable, function mask off (Message Control is the upper half). */
	ctl = (ctl & ~(0x4000u << 16)) | (0x8000u << 16);
	pci_write32(vd->bus, vd->dev, vd->fn, vd->msix_cap, ctl);
	vd->legacy_msix = true;
	return 0;
}

static int irq_setup(struct virtio_dev *vd, unsigned int nr_vqs)
{
	unsigned int i;

	irq_vd = vd;
	lapic_enable();
	switch (vd->irq_mode) {
	case VIRQ_POLL:
		return 0;
	case VIRQ_MSIX:
		set_trap_handler(VIRTIO_VEC_BASE, config_irq);
		for (i = 0; i < nr_vqs; i++)
			set_trap_handler(VIRTIO_VEC_BASE + 1 + i, vq_irq);
		return msix_enable(vd, nr_vqs + 1);
	case VIRQ_INTX:
		set_trap_handler(VIRTIO_VEC_INTX, line_irq);
		if (is_pci(vd)) {
			if (!vd->intx_line || vd->intx_line >= 24) {
				printf("virtio: bad interrupt line %u\n",
				       vd->intx_line);
				return -1;
			}
			ioapic_route(vd->intx_line, VIRTIO_VEC_INTX, true);
		} else {
			ioapic_route(vd->mmio_irq, VIRTIO_VEC_INTX, false);
		}
		return 0;
	}
	return -1;
}

/* ---- queues ---- */
static void vq_layout(struct virtq *vq, void *mem)
{
	uintptr_t p = (uintptr_t)mem;
	unsigned int n = vq->size;

	vq->desc = (struct vring_desc *)p;
	vq->avail = (struct vring_avail *)(p + 16 * n);
	vq->used_event = &vq->avail->ring[n];
	p = (p + 16 * n + 6 + 2 * n + VRING_ALIGN - 1) & ~(uintptr_t)(VRING_ALIGN - 1);
	vq->used = (struct vring_used *)p;
	vq->avail_event = (uint16_t *)&vq->used->ring[n];
}

static size_t vq_bytes(unsigned int n)
{
	size_t a = (16 * n + 6 + 2 * n + VRING_ALIGN - 1) & ~(size_t)(VRING_ALIGN - 1);

	return a + 6 + 8 * n;
}

void virtq_reset_state(struct virtq *vq);

static int vq_setup(struct virtio_dev *vd, unsigned int i)
{
	struct virtq *vq;
	uint16_t max, vec = VIRTIO_MSI_NO_VECTOR;
	void *mem;

	switch (vd->transport) {
	case VT_PCI:
		wr16(vd->common + VPC_Q_SELECT, i);
		max = rd16(vd->common + VPC_Q_SIZE);
		break;
	case VT_PCI_LEGACY:
		outw(vd->io_base + VPL_QUEUE_SEL, i);
		max = inw(vd->io_base + VPL_QUEUE_NUM);
		break;
	default:
		wr32(vd->mmio + VMM_QUEUE_SEL, i);
		max = rd32(vd->mmio + VMM_QUEUE_NUM_MAX);
		break;
	}
	if (!max) {
		printf("virtio: queue %u does not exist\n", i);
		return -1;
	}
	vq = valloc(sizeof(*vq), 64);
	if (!vq)
		return -1;
	vq->vdev = vd;
	vq->index = i;
	/* Legacy PCI cannot choose; the others take up to QUEUE_SIZE_WANT. */
	vq->size = max;
	if (vd->transport != VT_PCI_LEGACY && max > QUEUE_SIZE_WANT)
		vq->size = QUEUE_SIZE_WANT;
	if (vq->size & (vq->size - 1)) {
		printf("virtio: queue %u size %u is not a power of two\n", i,
		       vq->size);
		return -1;
	}
	mem = vmalloc_pages(vq_bytes(vq->size));
	vq->indirect_pool = vmalloc_pages(vq->size * INDIRECT_MAX *
					  sizeof(struct vring_desc));
	if (!mem || !vq->indirect_pool)
		return -1;
	vq_layout(vq, mem);
	virtq_reset_state(vq);
	if (vd->irq_mode == VIRQ_MSIX)
		vec = 1 + i < vd->msix_size ? 1 + i : vd->msix_size - 1;

	switch (vd->transport) {
	case VT_PCI:
		wr16(vd->common + VPC_Q_SIZE, vq->size);
		wr32(vd->common + VPC_Q_DESC, (uintptr_t)vq->desc);
		wr32(vd->common + VPC_Q_DESC + 4, 0);
		wr32(vd->common + VPC_Q_AVAIL, (uintptr_t)vq->avail);
		wr32(vd->common + VPC_Q_AVAIL + 4, 0);
		wr32(vd->common + VPC_Q_USED, (uintptr_t)vq->used);
		wr32(vd->common + VPC_Q_USED + 4, 0);
		if (vec != VIRTIO_MSI_NO_VECTOR) {
			wr16(vd->common + VPC_Q_MSIX, vec);
			if (rd16(vd->common + VPC_Q_MSIX) != vec) {
				printf("virtio: queue %u refused MSI-X vector\n", i);
				return -1;
			}
		}
		vq->notify_off = rd16(vd->common + VPC_Q_NOFF) * vd->notify_mult;
		wr16(vd->common + VPC_Q_ENABLE, 1);
		break;
	case VT_PCI_LEGACY:
		outl(vd->io_base + VPL_QUEUE_PFN, (uintptr_t)mem >> 12);
		if (vec != VIRTIO_MSI_NO_VECTOR) {
			outw(vd->io_base + VPL_MSIX_QUEUE, vec);
			if (inw(vd->io_base + VPL_MSIX_QUEUE) != vec) {
				printf("virtio: queue %u refused MSI-X vector\n", i);
				return -1;
			}
		}
		break;
	case VT_MMIO:
		wr32(vd->mmio + VMM_QUEUE_NUM, vq->size);
		wr32(vd->mmio + VMM_QUEUE_DESC_LO, (uintptr_t)vq->desc);
		wr32(vd->mmio + VMM_QUEUE_DESC_HI, 0);
		wr32(vd->mmio + VMM_QUEUE_AVAIL_LO, (uintptr_t)vq->avail);
		wr32(vd->mmio + VMM_QUEUE_AVAIL_HI, 0);
		wr32(vd->mmio + VMM_QUEUE_USED_LO, (uintptr_t)vq->used);
		wr32(vd->mmio + VMM_QUEUE_USED_HI, 0);
		wr32(vd->mmio + VMM_QUEUE_READY, 1);
		break;
	case VT_MMIO_LEGACY:
		wr32(vd->mmio + VMM_QUEUE_NUM, vq->size);
		wr32(vd->mmio + VMM_QUEUE_ALIGN, VRING_ALIGN);
		wr32(vd->mmio + VMM_QUEUE_PFN, (uintptr_t)mem >> 12);
		break;
	}
	vd->vqs[i] = vq;
	return 0;
}

void virtio_requeue_config(struct virtio_dev *vd, struct virtq *vq,
			   uint16_t size, uint64_t desc_pa)
{
	switch (vd->transport) {
	case VT_PCI:
		wr16(vd->common + VPC_Q_SELECT, vq->index);
		wr16(vd->common + VPC_Q_SIZE, size);
		wr32(vd->common + VPC_Q_DESC, desc_pa);
		wr32(vd->common + VPC_Q_DESC + 4, desc_pa >> 32);
		break;
	case VT_PCI_LEGACY:
		outw(vd->io_base + VPL_QUEUE_SEL, vq->index);
		outl(vd->io_base + VPL_QUEUE_PFN, desc_pa >> 12);
		break;
	case VT_MMIO:
		wr32(vd->mmio + VMM_QUEUE_SEL, vq->index);
		wr32(vd->mmio + VMM_QUEUE_NUM, size);
		wr32(vd->mmio + VMM_QUEUE_DESC_LO, desc_pa);
		wr32(vd->mmio + VMM_QUEUE_DESC_HI, desc_pa >> 32);
		break;
	case VT_MMIO_LEGACY:
		wr32(vd->mmio + VMM_QUEUE_SEL, vq->index);
		wr32(vd->mmio + VMM_QUEUE_NUM, size);
		wr32(vd->mmio + VMM_QUEUE_PFN, desc_pa >> 12);
		break;
	}
}

void virtio_notify_raw(struct virtio_dev *vd, struct virtq *vq, uint16_t val)
{
	switch (vd->transport) {
	case VT_PCI:
		wr16(vd->notify + vq->notify_off, val);
		break;
	case VT_PCI_LEGACY:
		outw(vd->io_base + VPL_QUEUE_NOTIFY, val);
		break;
	default:
		wr32(vd->mmio + VMM_QUEUE_NOTIFY, val);
	}
}

int virtio_init(struct virtio_dev *vd, const struct virtio_opts *o,
		uint64_t want, unsigned int nr_vqs)
{
	uint64_t have;
	bool modern = vd->transport == VT_PCI || vd->transport == VT_MMIO;
	unsigned int i;

	if (nr_vqs > VIRTIO_MAX_VQS)
		return -1;
	virtio_reset(vd);
	vd->nr_vqs = 0;
	virtio_set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);

	have = get_features(vd, 0) | (uint64_t)get_features(vd, 1) << 32;
	if (o->event_idx)
		want |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	if (o->indirect)
		want |= 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	if (modern) {
		if (!(have & (1ULL << VIRTIO_F_VERSION_1))) {
			printf("virtio: device does not offer VERSION_1 (0x%lx)\n",
			       have);
			goto fail;
		}
		want |= 1ULL << VIRTIO_F_VERSION_1;
	} else {
		want &= 0xffffffffULL;
	}
	vd->features = have & want;
	vd->event_idx = vd->features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	vd->indirect = vd->features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	set_features(vd, 0, vd->features);
	set_features(vd, 1, vd->features >> 32);
	if (vd->transport == VT_MMIO_LEGACY)
		wr32(vd->mmio + VMM_GUEST_PAGE_SIZE, 4096);
	if (modern) {
		virtio_set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE |
				  VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
		if (!(virtio_get_status(vd) & VIRTIO_STATUS_FEATURES_OK)) {
			puts("virtio: device refused FEATURES_OK");
			goto fail;
		}
	}

	/* MSI-X first: for legacy PCI it moves the device config by 4. */
	if (irq_setup(vd, nr_vqs))
		goto fail;
	if (vd->irq_mode == VIRQ_MSIX) {
		if (vd->transport == VT_PCI) {
			wr16(vd->common + VPC_MSIX_CONFIG, 0);
			if (rd16(vd->common + VPC_MSIX_CONFIG) != 0) {
				puts("virtio: config MSI-X vector refused");
				goto fail;
			}
		} else {
			outw(vd->io_base + VPL_MSIX_CONFIG, 0);
			if (inw(vd->io_base + VPL_MSIX_CONFIG) != 0) {
				puts("virtio: config MSI-X vector refused");
				goto fail;
			}
		}
	}
	for (i = 0; i < nr_vqs; i++) {
		if (vq_setup(vd, i))
			goto fail;
		vd->nr_vqs = i + 1;
	}
	virtio_set_status(vd, virtio_get_status(vd) | VIRTIO_STATUS_DRIVER_OK);
	printf("virtio: %s irq=%s features 0x%lx event_idx=%d indirect=%d queue size %u\n",
	       virtio_transport_name(vd->transport), virtio_irq_name(vd->irq_mode),
	       vd->features, vd->event_idx, vd->indirect, vd->vqs[0]->size);
	return 0;
fail:
	virtio_set_status(vd, virtio_get_status(vd) | VIRTIO_STATUS_FAILED);
	return -1;
}

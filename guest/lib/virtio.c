// SPDX-License-Identifier: GPL-2.0
/*
 * virtio transports for the test guests: PCI modern (capabilities), PCI
 * legacy (I/O BAR), MMIO v2 and v1; device initialisation, feature
 * negotiation and interrupt set-up (MSI-X, INTx through the IOAPIC, or
 * none).  Finding the device is virtio_probe.c's.  See include/virtio.h
 * for the execution model (CPL3).
 */
#include "virtio-regs.h"

#define VRING_ALIGN		4096
#define QUEUE_SIZE_WANT		256

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

/* ---- interrupts ---- */
static struct virtio_dev *irq_vd;

static void vq_irq(struct trap_frame *tf)
{
	unsigned int q = tf->vector - VIRTIO_VEC_BASE - 1;

	if (irq_vd) {
		irq_count_inc(irq_vd->nr_irqs);
		if (q < irq_vd->nr_vqs && irq_vd->vqs[q])
			irq_count_inc(irq_vd->vqs[q]->nr_irqs);
	}
	lapic_eoi();
}

static void config_irq(struct trap_frame *tf)
{
	(void)tf;
	if (irq_vd)
		irq_count_inc(irq_vd->nr_config_irqs);
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
		WRITE_ONCE(vd->last_isr, vd->last_isr | isr);
		if (isr & 1) {
			irq_count_inc(vd->nr_irqs);
			for (i = 0; i < vd->nr_vqs; i++)
				if (vd->vqs[i])
					irq_count_inc(vd->vqs[i]->nr_irqs);
		}
		if (isr & 2)
			irq_count_inc(vd->nr_config_irqs);
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

// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-mmio transport (virtio 1.2, section 4.2): version 2 (modern)
 * and version 1 (legacy, QueuePFN) register layouts in one 0x200-byte
 * slot.  Registers are translated into core calls under vdev->lock; the
 * interrupt is a level that stays up while InterruptStatus is non-zero.
 *
 * Nothing the guest writes is trusted: a register access that is not an
 * aligned 32-bit access is ignored (reads see 0), queue selectors beyond
 * the device's queues select nothing, and queue configuration is frozen
 * once DRIVER_OK is set.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_mmio.h>

#include "lkvm/arch.h"
#include "lkvm/irq.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/virtio-transport.h"

#define VIRTIO_MMIO_MAGIC	0x74726976	/* "virt" */
#define VIRTIO_MMIO_VENDOR	0x4d564b4c	/* "LKVM" */
#define VIRTIO_MMIO_LEGACY_PAGE	4096		/* Linux's default */

/* Legacy (version 1) queue registers, kept as written. */
struct virtio_mmio_legacy_queue {
	u32 pfn;
	u32 align;
};

struct virtio_mmio {
	struct virtio_device vdev;	/* tops->free frees both */
	u64 base, size;
	unsigned int irq;
	bool legacy;			/* version 1 register layout */
	bool irq_level;			/* last level sent to the irqchip */

	/* Selectors and legacy registers, under vdev.lock. */
	u32 dev_features_sel;
	u32 drv_features_sel;
	u32 queue_sel;
	u32 guest_page_size;
	struct virtio_mmio_legacy_queue lq[VIRTIO_MAX_QUEUES];
};

static struct virtio_mmio *to_mmio(struct virtio_device *vdev)
{
	return vdev->transport;
}

/* Called with vdev->lock held: the line follows InterruptStatus != 0. */
static void virtio_mmio__update_irq(struct virtio_mmio *m, bool repulse)
{
	bool level = m->vdev.isr != 0;

	if (level == m->irq_level && !(level && repulse))
		return;
	if (level && m->irq_level) {
		/*
		 * The ISA pins are edge-triggered: bits left pending after
		 * an ACK need a fresh edge or the driver never comes back.
		 */
		kvm__set_irq_line(m->vdev.kvm, m->irq, 0);
	}
	m->irq_level = level;
	kvm__set_irq_line(m->vdev.kvm, m->irq, level);
}

static void virtio_mmio__interrupt_queue(struct virtio_device *vdev,
				      struct virtio_queue *q __unused)
{
	vdev->isr |= VIRTIO_MMIO_INT_VRING;
	virtio_mmio__update_irq(to_mmio(vdev), false);
}

static void virtio_mmio__interrupt_config(struct virtio_device *vdev)
{
	vdev->isr |= VIRTIO_MMIO_INT_CONFIG;
	virtio_mmio__update_irq(to_mmio(vdev), false);
}

static void virtio_mmio__free(struct virtio_device *vdev)
{
	free(to_mmio(vdev));
}

static const struct virtio_transport_ops virtio_mmio_tops = {
	.interrupt_queue = virtio_mmio__interrupt_queue,
	.interrupt_config = virtio_mmio__interrupt_config,
	.free = virtio_mmio__free,
};

static struct virtio_queue *virtio_mmio__queue(struct virtio_mmio *m)
{
	if (m->queue_sel >= m->vdev.nr_queues)
		return NULL;
	return &m->vdev.queues[m->queue_sel];
}

/*
 * Legacy layout from QueuePFN: descriptors at pfn * GuestPageSize, the
 * avail ring right after them, the used ring at the next QueueAlign
 * boundary.  A layout that cannot be valid gets an address vring_map()
 * refuses, so DRIVER_OK marks the device NEEDS_RESET instead of us
 * guessing what the driver meant.
 */
static void virtio_mmio__legacy_layout(struct virtio_mmio *m,
				       struct virtio_queue *q)
{
	struct virtio_mmio_legacy_queue *lq = &m->lq[q->index];
	u64 desc, avail, used, align = lq->align;
	u64 n = q->ring.size;

	q->enabled = lq->pfn != 0;
	/* Products of two u32 fit in a u64; the rings are < 64 KiB more. */
	desc = (u64)lq->pfn * m->guest_page_size;
	if (!lq->pfn || !align || (align & (align - 1)) ||
	    desc > UINT64_MAX - 2 * align - 32 * VRING_MAX_SIZE) {
		q->ring.desc_gpa = q->ring.avail_gpa = q->ring.used_gpa = 1;
		return;
	}
	avail = desc + 16 * n;
	used = ALIGN_UP(avail + 6 + 2 * n, align);
	q->ring.desc_gpa = desc;
	q->ring.avail_gpa = avail;
	q->ring.used_gpa = used;
}

/* Transport state a device reset clears too (vdev->lock held). */
static void virtio_mmio__reset(struct virtio_mmio *m)
{
	virtio_set_status(&m->vdev, 0);
	m->dev_features_sel = 0;
	m->drv_features_sel = 0;
	m->queue_sel = 0;
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		m->lq[i] = (struct virtio_mmio_legacy_queue){
			.align = VIRTIO_MMIO_LEGACY_PAGE,
		};
	/* The core cleared InterruptStatus: the line goes down with it. */
	virtio_mmio__update_irq(m, false);
}

static u32 virtio_mmio__read(struct virtio_mmio *m, u64 reg)
{
	struct virtio_device *vdev = &m->vdev;
	struct virtio_queue *q = virtio_mmio__queue(m);

	switch (reg) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return m->legacy ? 1 : 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return vdev->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return virtio_get_host_features(vdev, m->dev_features_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? q->max_size : 0;
	case VIRTIO_MMIO_QUEUE_PFN:
		return m->legacy && q ? m->lq[q->index].pfn : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return !m->legacy && q ? q->enabled : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return vdev->isr;
	case VIRTIO_MMIO_STATUS:
		return vdev->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		/* No shared memory regions: a length of -1 says so. */
		return m->legacy ? 0 : 0xffffffff;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return m->legacy ? 0 : vdev->config_generation;
	default:
		/* Write-only and reserved registers read as zero. */
		return 0;
	}
}

/*
 * Sets the low or high half of a 64-bit ring address (modern only); the
 * High registers are the Low ones + 4.
 */
static void virtio_mmio__set_addr(struct virtio_mmio *m, u64 *addr, bool high,
				  u32 v)
{
	struct virtio_queue *q = virtio_mmio__queue(m);

	/* The spec forbids it on a live queue; ignoring it is safe. */
	if (m->legacy || !q || q->enabled ||
	    !virtio_queue_config_allowed(&m->vdev))
		return;
	if (high)
		*addr = (*addr & 0xffffffffULL) | ((u64)v << 32);
	else
		*addr = (*addr & ~0xffffffffULL) | v;
}

static void virtio_mmio__write(struct virtio_mmio *m, u64 reg, u32 v)
{
	struct virtio_device *vdev = &m->vdev;
	struct virtio_queue *q = virtio_mmio__queue(m);
	bool cfg_ok = virtio_queue_config_allowed(vdev);

	switch (reg) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		m->dev_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		virtio_set_guest_features(vdev, m->drv_features_sel, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		m->drv_features_sel = v;
		break;
	case VIRTIO_MMIO_GUEST_PAGE_SIZE:
		if (!m->legacy || !cfg_ok)
			break;
		m->guest_page_size = v;
		for (unsigned int i = 0; i < vdev->nr_queues; i++)
			virtio_mmio__legacy_layout(m, &vdev->queues[i]);
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		m->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (!q || !cfg_ok || (!m->legacy && q->enabled))
			break;
		/* Too big: leave a size vring_map() refuses at DRIVER_OK. */
		q->ring.size = v <= q->max_size ? (u16)v : 0;
		if (m->legacy)
			virtio_mmio__legacy_layout(m, q);
		break;
	case VIRTIO_MMIO_QUEUE_ALIGN:
		if (!m->legacy || !q || !cfg_ok)
			break;
		m->lq[q->index].align = v;
		virtio_mmio__legacy_layout(m, q);
		break;
	case VIRTIO_MMIO_QUEUE_PFN:
		if (!m->legacy || !q || !cfg_ok)
			break;
		m->lq[q->index].pfn = v;
		virtio_mmio__legacy_layout(m, q);
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (m->legacy || !q || !cfg_ok)
			break;
		q->enabled = v & 1;
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Without NOTIFICATION_DATA the value is the queue index. */
		if (v < vdev->nr_queues)
			virtio_queue_kicked(vdev, v);
		else
			pr_debug("virtio-mmio: notify for queue %u ignored", v);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		vdev->isr &= (u8)~v;
		virtio_mmio__update_irq(m, true);
		break;
	case VIRTIO_MMIO_STATUS:
		if (!(v & 0xff))
			virtio_mmio__reset(m);
		else
			virtio_set_status(vdev, (u8)v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (q)
			virtio_mmio__set_addr(m, &q->ring.desc_gpa, reg & 4, v);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		if (q)
			virtio_mmio__set_addr(m, &q->ring.avail_gpa, reg & 4, v);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		if (q)
			virtio_mmio__set_addr(m, &q->ring.used_gpa, reg & 4, v);
		break;
	default:
		pr_debug("virtio-mmio: write 0x%x to read-only/reserved 0x%llx",
			 v, (unsigned long long)reg);
		break;
	}
}

static void virtio_mmio__io(void *opaque, u64 offset, void *data, u32 len,
			    bool is_write)
{
	struct virtio_mmio *m = opaque;
	struct virtio_device *vdev = &m->vdev;
	u32 v;

	if (offset >= VIRTIO_MMIO_CONFIG) {
		/* Device config: any width; the core checks the bounds. */
		u32 off = (u32)(offset - VIRTIO_MMIO_CONFIG);

		pthread_mutex_lock(&vdev->lock);
		if (is_write)
			virtio_write_config(vdev, off, data, len);
		else
			virtio_read_config(vdev, off, data, len);
		pthread_mutex_unlock(&vdev->lock);
		return;
	}
	if (len != 4 || (offset & 3)) {
		/* The spec allows only aligned 32-bit register accesses. */
		pr_debug("virtio-mmio: %u-byte %s at 0x%llx ignored", len,
			 is_write ? "write" : "read",
			 (unsigned long long)offset);
		if (!is_write)
			memset(data, 0, len);
		return;
	}

	pthread_mutex_lock(&vdev->lock);
	if (is_write) {
		memcpy(&v, data, sizeof(v));
		virtio_mmio__write(m, offset, le32toh(v));
	} else {
		v = htole32(virtio_mmio__read(m, offset));
		memcpy(data, &v, sizeof(v));
	}
	pthread_mutex_unlock(&vdev->lock);
}

int virtio_mmio__create(struct kvm *kvm, const struct virtio_device_ops *ops,
			void *priv, bool legacy, struct virtio_device **out)
{
	/* Kept: ops may live in @priv, which a failure frees. */
	const char *name = ops->name;
	struct virtio_mmio *m;
	u64 base, size;
	unsigned int irq;
	int ret;

	ret = arch__virtio_mmio_alloc(kvm, &base, &size, &irq);
	if (ret) {
		pr_err("virtio-%s: no virtio-mmio slot left", name);
		goto err_priv;
	}
	ret = -ENOMEM;
	m = calloc(1, sizeof(*m));
	if (!m)
		goto err_priv;
	m->base = base;
	m->size = size;
	m->irq = irq;
	m->legacy = legacy;
	m->guest_page_size = VIRTIO_MMIO_LEGACY_PAGE;
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		m->lq[i].align = VIRTIO_MMIO_LEGACY_PAGE;

	/* From here on @priv is the core's, on failure too. */
	ret = virtio_device_init(&m->vdev, kvm, ops, &virtio_mmio_tops, m,
				 priv, legacy);
	if (ret) {
		free(m);
		pr_err("virtio-%s: cannot set up the device: %s", name,
		       strerror(-ret));
		return ret;
	}
	/* The core's exit hook frees m (tops->free) from now on. */
	/*
	 * QueueNotify with the queue's index kicks its eventfd inside KVM.
	 * Without it (no VM in unit tests) the write exits to
	 * virtio_mmio__io(), which kicks from user space.
	 */
	for (unsigned int i = 0; i < m->vdev.nr_queues; i++) {
		if (ioeventfd__add(kvm, base + VIRTIO_MMIO_QUEUE_NOTIFY, 4,
				   m->vdev.queues[i].kick_fd,
				   IOEVENTFD_DATAMATCH, i))
			break;
	}
	ret = bus_register(&kvm->mmio_bus, base, size, virtio_mmio__io, m,
			   "virtio-mmio");
	if (!ret)
		ret = arch__virtio_mmio_announce(kvm, base, size, irq);
	if (ret) {
		pr_err("virtio-%s: cannot place virtio-mmio at 0x%llx: %s",
		       name, (unsigned long long)base, strerror(-ret));
		return ret;
	}
	pr_debug("virtio-%s: virtio-mmio v%d at 0x%llx, irq %u", name,
		 legacy ? 1 : 2, (unsigned long long)base, irq);
	if (out)
		*out = &m->vdev;
	return 0;
err_priv:
	if (ops->free)
		ops->free(priv);
	return ret;
}

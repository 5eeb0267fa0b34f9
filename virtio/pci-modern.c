// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-pci modern interface (virtio 1.2, 4.1.4): common config, ISR,
 * device config and notify structures in the 64-bit memory BAR.
 */
#include <endian.h>
#include <string.h>

#include "lkvm/log.h"
#include "pci-int.h"

static void virtio_pci__common_read(struct virtio_pci *vp, u32 off,
				    void *data, u32 len)
{
	struct virtio_device *vdev = &vp->vdev;
	struct virtio_queue *q = virtio_pci__queue(vp);
	struct virtio_pci_common_cfg c = {
		.device_feature_select = htole32(vp->dev_feat_sel),
		.device_feature = htole32(virtio_get_host_features(
			vdev, vp->dev_feat_sel)),
		.guest_feature_select = htole32(vp->drv_feat_sel),
		.guest_feature = htole32(vp->drv_feat_sel > 1 ? 0 :
			(u32)(vdev->guest_features >> (32 * vp->drv_feat_sel))),
		.msix_config = htole16(vdev->config_msix_vector),
		.num_queues = htole16((u16)vdev->nr_queues),
		.device_status = vdev->status,
		.config_generation = vdev->config_generation,
		.queue_select = htole16(vp->queue_sel),
		.queue_msix_vector = htole16(VIRTIO_MSI_NO_VECTOR),
	};

	if (q) {
		c.queue_size = htole16(q->ring.size);
		c.queue_msix_vector = htole16(q->msix_vector);
		c.queue_enable = htole16(q->enabled);
		c.queue_notify_off = htole16((u16)q->index);
		c.queue_desc_lo = htole32((u32)q->ring.desc_gpa);
		c.queue_desc_hi = htole32((u32)(q->ring.desc_gpa >> 32));
		c.queue_avail_lo = htole32((u32)q->ring.avail_gpa);
		c.queue_avail_hi = htole32((u32)(q->ring.avail_gpa >> 32));
		c.queue_used_lo = htole32((u32)q->ring.used_gpa);
		c.queue_used_hi = htole32((u32)(q->ring.used_gpa >> 32));
	}
	/* Reads of any width see the structure; past it, zeros. */
	memset(data, 0, len);
	if (off < VPCI_COMMON_LEN)
		memcpy(data, (u8 *)&c + off, min_t(u32, len,
						   VPCI_COMMON_LEN - off));
}

static void virtio_pci__set_half(u64 *gpa, bool hi, u32 v)
{
	if (hi)
		*gpa = (*gpa & 0xffffffffULL) | (u64)v << 32;
	else
		*gpa = (*gpa & ~0xffffffffULL) | v;
}

/* A queue size the driver may pick: a non-zero power of two <= max. */
static bool virtio_pci__size_ok(const struct virtio_queue *q, u16 size)
{
	return size && !(size & (size - 1)) && size <= q->max_size;
}

static void virtio_pci__queue_write(struct virtio_pci *vp, u32 off, u32 len,
				    u32 v)
{
	struct virtio_device *vdev = &vp->vdev;
	struct virtio_queue *q = virtio_pci__queue(vp);
	u32 field = off & ~7u;

	if (!q)
		return;
	if (off == VIRTIO_PCI_COMMON_Q_MSIX) {
		/* Not ring configuration: vectors may move at any time. */
		if (len == 2)
			q->msix_vector = virtio_pci__check_vector(vp, (u16)v);
		return;
	}
	/* Frozen after DRIVER_OK, and while the queue is enabled. */
	if (!virtio_queue_config_allowed(vdev) || q->enabled)
		return;
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		if (len == 2 && v <= q->max_size)
			q->ring.size = (u16)v;
		return;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		/* The driver may not write 0 (4.1.4.3.2); ignore it. */
		if (len != 2 || v != 1)
			return;
		if (!virtio_pci__size_ok(q, q->ring.size)) {
			pr_debug("virtio-%s: queue %u size %u refused",
				 vdev->ops->name, q->index, q->ring.size);
			return;
		}
		q->enabled = true;
		return;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
	case VIRTIO_PCI_COMMON_Q_USEDLO:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		if (len != 4)
			return;
		if (field == VIRTIO_PCI_COMMON_Q_DESCLO)
			virtio_pci__set_half(&q->ring.desc_gpa, off & 4, v);
		else if (field == VIRTIO_PCI_COMMON_Q_AVAILLO)
			virtio_pci__set_half(&q->ring.avail_gpa, off & 4, v);
		else
			virtio_pci__set_half(&q->ring.used_gpa, off & 4, v);
		return;
	}
}

static void virtio_pci__common_write(struct virtio_pci *vp, u32 off,
				     const void *data, u32 len)
{
	struct virtio_device *vdev = &vp->vdev;
	u64 v64 = 0;
	u32 v;

	if (len > 8 || off >= VPCI_COMMON_LEN)
		return;
	memcpy(&v64, data, len);
	v64 = le64toh(v64);
	/* A 64-bit write to an address pair is its two halves, low first. */
	if (len == 8) {
		if (off < VIRTIO_PCI_COMMON_Q_DESCLO || (off & 7))
			return;
		virtio_pci__queue_write(vp, off, 4, (u32)v64);
		virtio_pci__queue_write(vp, off + 4, 4, (u32)(v64 >> 32));
		return;
	}
	v = (u32)v64;
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		if (len == 4)
			vp->dev_feat_sel = v;
		return;
	case VIRTIO_PCI_COMMON_GFSELECT:
		if (len == 4)
			vp->drv_feat_sel = v;
		return;
	case VIRTIO_PCI_COMMON_GF:
		if (len == 4)
			virtio_set_guest_features(vdev, vp->drv_feat_sel, v);
		return;
	case VIRTIO_PCI_COMMON_MSIX:
		if (len == 2)
			vdev->config_msix_vector =
				virtio_pci__check_vector(vp, (u16)v);
		return;
	case VIRTIO_PCI_COMMON_STATUS:
		if (len == 1)
			virtio_pci__set_status(vp, (u8)v);
		return;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		if (len == 2)
			vp->queue_sel = (u16)v;
		return;
	case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_NUMQ:
	case VIRTIO_PCI_COMMON_CFGGENERATION:
	case VIRTIO_PCI_COMMON_Q_NOFF:
		return;		/* read-only */
	}
	virtio_pci__queue_write(vp, off, len, v);
}

void virtio_pci__modern_io(void *opaque, u64 offset, void *data,
				  u32 len, bool is_write)
{
	struct virtio_pci *vp = opaque;
	struct virtio_device *vdev = &vp->vdev;
	u32 region = (u32)(offset / VPCI_REGION_SIZE) * VPCI_REGION_SIZE;
	u32 off = (u32)(offset % VPCI_REGION_SIZE);

	if (!is_write)
		memset(data, 0, len);
	/* Never straddle two structures. */
	if (offset >= VPCI_MODERN_BAR_SIZE || len > VPCI_REGION_SIZE - off)
		return;

	pthread_mutex_lock(&vdev->lock);
	switch (region) {
	case VPCI_COMMON_OFF:
		virtio_pci__note_interface(vp, false);
		if (is_write)
			virtio_pci__common_write(vp, off, data, len);
		else
			virtio_pci__common_read(vp, off, data, len);
		break;
	case VPCI_ISR_OFF:
		if (!is_write && off == 0)
			*(u8 *)data = virtio_pci__read_isr(vp);
		break;
	case VPCI_DEVCFG_OFF:
		if (is_write)
			virtio_write_config(vdev, off, data, len);
		else
			virtio_read_config(vdev, off, data, len);
		break;
	case VPCI_NOTIFY_OFF:
		/* Only without an ioeventfd (or one of another width). */
		if (is_write && !(off % VPCI_NOTIFY_MULT))
			virtio_queue_kicked(vdev, off / VPCI_NOTIFY_MULT);
		break;
	}
	pthread_mutex_unlock(&vdev->lock);
}


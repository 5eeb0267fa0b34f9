// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-pci legacy interface (virtio 1.2, 4.1.4.10): the I/O BAR register
 * block of pre-1.0 drivers, followed by the device config.  A driver that
 * uses it before feature negotiation ends is a legacy driver.
 */
#include <endian.h>
#include <string.h>

#include "lkvm/log.h"
#include "pci-int.h"

/*
 * Legacy ring layout for a 4096-byte page: descriptors at pfn * 4096, the
 * avail ring (with used_event) right after, the used ring at the next page
 * boundary.  vring_map() validates it at DRIVER_OK.
 */
static void virtio_pci__legacy_pfn(struct virtio_queue *q, u32 pfn)
{
	u64 n = q->max_size;

	if (!pfn) {
		q->enabled = false;
		q->ring.desc_gpa = q->ring.avail_gpa = q->ring.used_gpa = 0;
		return;
	}
	q->ring.size = q->max_size;
	q->ring.desc_gpa = (u64)pfn << VIRTIO_PCI_QUEUE_ADDR_SHIFT;
	q->ring.avail_gpa = q->ring.desc_gpa + 16 * n;
	q->ring.used_gpa = ALIGN_UP(q->ring.avail_gpa + 6 + 2 * n,
				  (u64)VIRTIO_PCI_VRING_ALIGN);
	q->enabled = true;
}

static bool virtio_pci__legacy_read(struct virtio_pci *vp, u32 off, u32 len,
				    u32 *val)
{
	struct virtio_device *vdev = &vp->vdev;
	struct virtio_queue *q = virtio_pci__queue(vp);

	switch (off) {
	case VIRTIO_PCI_HOST_FEATURES:
		*val = virtio_get_host_features(vdev, 0);
		return len == 4;
	case VIRTIO_PCI_GUEST_FEATURES:
		*val = (u32)vdev->guest_features;
		return len == 4;
	case VIRTIO_PCI_QUEUE_PFN:
		*val = q ? (u32)(q->ring.desc_gpa >> VIRTIO_PCI_QUEUE_ADDR_SHIFT) :
			   0;
		return len == 4;
	case VIRTIO_PCI_QUEUE_NUM:
		*val = q ? q->max_size : 0;
		return len == 2;
	case VIRTIO_PCI_QUEUE_SEL:
		*val = vp->queue_sel;
		return len == 2;
	case VIRTIO_PCI_STATUS:
		*val = vdev->status;
		return len == 1;
	case VIRTIO_PCI_ISR:
		if (len != 1)
			return false;
		*val = virtio_pci__read_isr(vp);
		return true;
	case VIRTIO_MSI_CONFIG_VECTOR:
		*val = vdev->config_msix_vector;
		return len == 2;
	case VIRTIO_MSI_QUEUE_VECTOR:
		*val = q ? q->msix_vector : VIRTIO_MSI_NO_VECTOR;
		return len == 2;
	}
	return false;
}

static void virtio_pci__legacy_write(struct virtio_pci *vp, u32 off, u32 len,
				     u32 v)
{
	struct virtio_device *vdev = &vp->vdev;
	struct virtio_queue *q = virtio_pci__queue(vp);

	switch (off) {
	case VIRTIO_PCI_GUEST_FEATURES:
		if (len == 4)
			virtio_set_guest_features(vdev, 0, v);
		return;
	case VIRTIO_PCI_QUEUE_PFN:
		if (len == 4 && q && virtio_queue_config_allowed(vdev))
			virtio_pci__legacy_pfn(q, v);
		return;
	case VIRTIO_PCI_QUEUE_SEL:
		if (len == 2)
			vp->queue_sel = (u16)v;
		return;
	case VIRTIO_PCI_QUEUE_NOTIFY:
		/* Only without an ioeventfd; bad indices are ignored. */
		if (len == 2)
			virtio_queue_kicked(vdev, v);
		return;
	case VIRTIO_PCI_STATUS:
		if (len == 1) {
			virtio_pci__set_status(vp, (u8)v);
			virtio_pci__note_interface(vp, true);
		}
		return;
	case VIRTIO_MSI_CONFIG_VECTOR:
		if (len == 2)
			vdev->config_msix_vector =
				virtio_pci__check_vector(vp, (u16)v);
		return;
	case VIRTIO_MSI_QUEUE_VECTOR:
		if (len == 2 && q)
			q->msix_vector = virtio_pci__check_vector(vp, (u16)v);
		return;
	}
}

void virtio_pci__legacy_io(void *opaque, u64 offset, void *data,
				  u32 len, bool is_write)
{
	struct virtio_pci *vp = opaque;
	struct virtio_device *vdev = &vp->vdev;
	u32 cfg_off, v = 0;

	pthread_mutex_lock(&vdev->lock);
	virtio_pci__note_interface(vp, true);
	/* The MSI-X vector registers exist only while MSI-X is enabled. */
	cfg_off = VIRTIO_PCI_CONFIG_OFF(vp->msix.enabled);
	if (offset >= cfg_off) {
		u32 off = (u32)(offset - cfg_off);

		if (is_write)
			virtio_write_config(vdev, off, data, len);
		else
			virtio_read_config(vdev, off, data, len);
	} else if (is_write) {
		memcpy(&v, data, len <= 4 ? len : 4);
		virtio_pci__legacy_write(vp, (u32)offset, len, le32toh(v));
	} else {
		if (!virtio_pci__legacy_read(vp, (u32)offset, len, &v))
			v = 0;
		v = htole32(v);
		memset(data, 0, len);
		memcpy(data, &v, len <= 4 ? len : 4);
	}
	pthread_mutex_unlock(&vdev->lock);
}


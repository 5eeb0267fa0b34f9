// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-pci transport (virtio 1.2, section 4.1).
 *
 * A transitional device has three BARs:
 *   BAR0  I/O     the legacy register block (4.1.4.10), then device config
 *   BAR1  mem32   MSI-X table at 0, PBA at VPCI_PBA_OFF
 *   BAR4  mem64   the modern structures, one page each: common config,
 *                 ISR, device config, notify (one 4-byte slot per queue)
 * and capabilities: MSI-X, then the vendor capabilities that locate the
 * modern structures, plus the PCI_CFG window that reaches the BARs through
 * config space.  A legacy-only device (pci-legacy) has BAR0, BAR1 and the
 * MSI-X capability only.  A modern-only device (pci-modern, or a type
 * without a transitional ID) has BAR1, BAR4 and the capabilities, device
 * ID 0x1040 + type and revision 1 (4.1.2.1): no legacy driver binds to
 * it, and a driver must accept VIRTIO_F_VERSION_1.
 *
 * Registers become core calls under vdev->lock, taken on the vCPU thread.
 * Kicks normally never reach us: each queue's eventfd is an ioeventfd at
 * its notify address (and, with DATAMATCH on the queue index, at the
 * legacy notify port); the bus handlers kick by hand when KVM could not
 * take an ioeventfd.  Interrupts leave from the device thread: an MSI-X
 * vector is an eventfd bound to an MSI route with an irqfd; INTx is a
 * level that follows ISR != 0.
 *
 * Nothing the guest writes is trusted: register accesses of the wrong
 * width are ignored (reads see 0), selectors beyond the device's queues
 * select nothing, vectors beyond the table read back as NO_VECTOR, and
 * queue configuration freezes at DRIVER_OK.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_pci.h>

#include "lkvm/irq.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/pci.h"
#include "lkvm/virtio-transport.h"
#include "pci-int.h"

/* --- interrupts (vdev->lock held) ---------------------------------------- */

static void virtio_pci__update_intx(struct virtio_pci *vp)
{
	bool status = vp->vdev.isr && !vp->msix.enabled;
	bool level = status && !vp->intx_disabled && vp->pdev.intx_line >= 0;

	/* STATUS.INTERRUPT mirrors ISR whatever INTX_DISABLE says (4.1.4.5). */
	if (status != vp->intx_status) {
		vp->intx_status = status;
		pci__cfg_update16(&vp->pdev, PCI_STATUS, PCI_STATUS_INTERRUPT,
				  status ? PCI_STATUS_INTERRUPT : 0);
	}
	/* Pins are shared between devices: the line is the OR of them all. */
	irq__set_shared_level(vp->kvm, (unsigned int)vp->pdev.intx_line,
			      &vp->intx_level, level);
}

static void virtio_pci__msix_update(void *opaque, unsigned int vec, u64 addr,
				    u32 data)
{
	struct virtio_pci *vp = opaque;
	u32 devid = (u32)vp->pdev.dev << 3;	/* bus 0, function 0 */

	vp->vec_routed[vec] = !irq__update_msi(vp->kvm, vp->vec_gsi[vec], addr,
					       data, devid, vp->msi_devid);
}

static void virtio_pci__msix_fire(void *opaque, unsigned int vec)
{
	struct virtio_pci *vp = opaque;
	const struct msix_entry *e = &vp->msix.entries[vec];
	u64 one = 1;

	if (vp->vec_fd[vec] >= 0 && vp->vec_routed[vec]) {
		/* EAGAIN only if the counter saturated: one is pending. */
		if (write(vp->vec_fd[vec], &one, sizeof(one)) < 0)
			pr_debug("virtio-%s: irqfd: %s", vp->vdev.ops->name,
				 strerror(errno));
		return;
	}
	irq__signal_msi(vp->kvm, (u64)e->addr_hi << 32 | e->addr_lo, e->data,
			(u32)vp->pdev.dev << 3, vp->msi_devid);
}

static const struct msix_ops virtio_pci_msix_ops = {
	.update = virtio_pci__msix_update,
	.fire = virtio_pci__msix_fire,
};

static void virtio_pci__signal(struct virtio_pci *vp, u16 vector, u8 isr)
{
	if (vp->msix.enabled) {
		/* NO_VECTOR with MSI-X on: the driver wants no interrupt. */
		if (vector != VIRTIO_MSI_NO_VECTOR)
			msix_notify(&vp->msix, vector);
		return;
	}
	vp->vdev.isr |= isr;
	virtio_pci__update_intx(vp);
}

static void virtio_pci__interrupt_queue(struct virtio_device *vdev,
				     struct virtio_queue *q)
{
	virtio_pci__signal(to_vpci(vdev), q->msix_vector,
			   VIRTIO_PCI_ISR_QUEUE);
}

static void virtio_pci__interrupt_config(struct virtio_device *vdev)
{
	/* The config bit is set even with MSI-X (4.1.4.5.1). */
	vdev->isr |= VIRTIO_PCI_ISR_CONFIG;
	virtio_pci__signal(to_vpci(vdev), vdev->config_msix_vector,
			   VIRTIO_PCI_ISR_CONFIG);
}

u8 virtio_pci__read_isr(struct virtio_pci *vp)
{
	u8 isr = vp->vdev.isr;

	vp->vdev.isr = 0;
	virtio_pci__update_intx(vp);
	return isr;
}

u16 virtio_pci__check_vector(struct virtio_pci *vp, u16 v)
{
	return v < vp->nr_vectors ? v : VIRTIO_MSI_NO_VECTOR;
}

void virtio_pci__set_status(struct virtio_pci *vp, u8 status)
{
	virtio_set_status(&vp->vdev, status);
	if (!status) {
		vp->dev_feat_sel = vp->drv_feat_sel = 0;
		vp->queue_sel = 0;
		/* The core cleared ISR: drop a level it may have left up. */
		virtio_pci__update_intx(vp);
	}
}

/*
 * Which interface the driver speaks is decided by what it touches before
 * feature negotiation ends; the core refuses FEATURES_OK without
 * VERSION_1 from a modern driver.
 */
void virtio_pci__note_interface(struct virtio_pci *vp, bool legacy)
{
	struct virtio_device *vdev = &vp->vdev;

	if (vdev->legacy_only)
		return;
	if (!(vdev->status & (VIRTIO_CONFIG_S_FEATURES_OK |
			      VIRTIO_CONFIG_S_DRIVER_OK)))
		vdev->legacy = legacy;
}

struct virtio_queue *virtio_pci__queue(struct virtio_pci *vp)
{
	if (vp->queue_sel >= vp->vdev.nr_queues)
		return NULL;
	return &vp->vdev.queues[vp->queue_sel];
}

/* --- MSI-X BAR (BAR1) ---------------------------------------------------- */

static void virtio_pci__msix_io(void *opaque, u64 offset, void *data,
				u32 len, bool is_write)
{
	struct virtio_pci *vp = opaque;

	pthread_mutex_lock(&vp->vdev.lock);
	if (offset < VPCI_PBA_OFF)
		msix_table_access(&vp->msix, offset, data, len, is_write);
	else
		msix_pba_access(&vp->msix, offset - VPCI_PBA_OFF, data, len,
				is_write);
	pthread_mutex_unlock(&vp->vdev.lock);
}

/* --- config space hooks -------------------------------------------------- */

/*
 * VIRTIO_PCI_CAP_PCI_CFG: the driver names a BAR, an offset and a length
 * in the capability, then reads or writes pci_cfg_data; we forward that to
 * the BAR's handler, whether or not the BAR is decoded.
 */
static void virtio_pci__window_access(struct virtio_pci *vp, bool is_write)
{
	const u32 data_off = (u32)vp->pcicfg_cap +
			     offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);
	struct virtio_pci_cfg_cap cap;
	const struct pci_bar *b;
	u32 bar_off, len;
	u8 buf[4];

	pci__cfg_peek(&vp->pdev, (u32)vp->pcicfg_cap, &cap, sizeof(cap));
	bar_off = le32toh(cap.cap.offset);
	len = le32toh(cap.cap.length);
	if (cap.cap.bar >= PCI_NR_BARS || (len != 1 && len != 2 && len != 4))
		return;
	b = &vp->pdev.bars[cap.cap.bar];
	if (!b->handler || (bar_off & (len - 1)) || bar_off >= b->size ||
	    len > b->size - bar_off)
		return;
	memcpy(buf, cap.pci_cfg_data, 4);
	b->handler(b->opaque, bar_off, buf, len, is_write);
	if (!is_write)
		pci__cfg_poke(&vp->pdev, data_off, buf, len);
}

static bool overlaps(u32 off, u32 len, u32 start, u32 size)
{
	return off < start + size && off + len > start;
}

static void virtio_pci__cfg_read(struct pci_device *pdev, u32 offset,
				 void *data, u32 len)
{
	struct virtio_pci *vp = pdev->opaque;
	u32 data_off;

	if (vp->pcicfg_cap <= 0)
		return;
	data_off = (u32)vp->pcicfg_cap +
		   offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);
	if (!overlaps(offset, len, data_off, 4))
		return;
	virtio_pci__window_access(vp, false);
	pci__cfg_peek(pdev, offset, data, len);
}

static void virtio_pci__cfg_write(struct pci_device *pdev, u32 offset,
				  const void *data __unused, u32 len)
{
	struct virtio_pci *vp = pdev->opaque;
	struct virtio_device *vdev = &vp->vdev;
	u16 cmd, ctrl;

	if (overlaps(offset, len, PCI_COMMAND, 2)) {
		pci__cfg_peek(pdev, PCI_COMMAND, &cmd, 2);
		pthread_mutex_lock(&vdev->lock);
		vp->intx_disabled = le16toh(cmd) & PCI_COMMAND_INTX_DISABLE;
		virtio_pci__update_intx(vp);
		pthread_mutex_unlock(&vdev->lock);
	}
	if (overlaps(offset, len, (u32)vp->msix_cap + PCI_MSIX_FLAGS, 2)) {
		pci__cfg_peek(pdev, (u32)vp->msix_cap + PCI_MSIX_FLAGS, &ctrl,
			      2);
		ctrl = le16toh(ctrl);
		pthread_mutex_lock(&vdev->lock);
		msix_set_control(&vp->msix, ctrl & PCI_MSIX_FLAGS_ENABLE,
				 ctrl & PCI_MSIX_FLAGS_MASKALL);
		/* INTx stops while MSI-X is on, and may resume after. */
		virtio_pci__update_intx(vp);
		pthread_mutex_unlock(&vdev->lock);
	}
	if (vp->pcicfg_cap > 0 &&
	    overlaps(offset, len, (u32)vp->pcicfg_cap +
		     offsetof(struct virtio_pci_cfg_cap, pci_cfg_data), 4))
		virtio_pci__window_access(vp, true);
}

static void virtio_pci__bus_master(struct pci_device *pdev, bool enabled)
{
	struct virtio_pci *vp = pdev->opaque;

	pthread_mutex_lock(&vp->vdev.lock);
	/*
	 * MSIs are DMA too.  Off: the device finishes its in-flight work
	 * (and the interrupts owed for it) first, then messages are held.
	 * On: held messages go first, then the queues are looked at.
	 */
	if (enabled)
		msix_set_bus_master(&vp->msix, true);
	virtio_set_dma_enabled(&vp->vdev, enabled);
	if (!enabled)
		msix_set_bus_master(&vp->msix, false);
	pthread_mutex_unlock(&vp->vdev.lock);
}

/* --- ioeventfds ---------------------------------------------------------- */

static void virtio_pci__ioev_set(struct virtio_pci *vp,
				 struct virtio_pci_ioev *ev, int fd, bool on,
				 u64 addr, u32 len, u32 flags, u64 match)
{
	int ret;

	if (ev->on) {
		ioeventfd__del(vp->kvm, ev->addr, ev->len, fd, flags, match);
		ev->on = false;
	}
	if (!on)
		return;
	ret = ioeventfd__add(vp->kvm, addr, len, fd, flags, match);
	if (ret) {
		/* The bus handler kicks instead, at the cost of an exit. */
		pr_debug("virtio-%s: no ioeventfd at %#llx: %s",
			 vp->vdev.ops->name, (unsigned long long)addr,
			 strerror(-ret));
		return;
	}
	*ev = (struct virtio_pci_ioev){ .on = true, .addr = addr, .len = len };
}

static void virtio_pci__bar_moved(struct pci_device *pdev, unsigned int bar,
				  bool mapped, u64 addr)
{
	struct virtio_pci *vp = pdev->opaque;
	struct virtio_device *vdev = &vp->vdev;
	u32 mlen = ioeventfd__any_length(vp->kvm) ? 0 : 2;

	pthread_mutex_lock(&vdev->lock);
	for (unsigned int i = 0; i < vdev->nr_queues; i++) {
		int fd = vdev->queues[i].kick_fd;

		/* Legacy: one port for all queues, told apart by value. */
		if (bar == VPCI_LEGACY_BAR && vp->legacy_bar)
			virtio_pci__ioev_set(vp, &vp->legacy_ioev[i], fd,
					     mapped,
					     addr + VIRTIO_PCI_QUEUE_NOTIFY, 2,
					     IOEVENTFD_PIO |
					     IOEVENTFD_DATAMATCH, i);
		if (bar == VPCI_MODERN_BAR && vp->modern)
			virtio_pci__ioev_set(vp, &vp->modern_ioev[i], fd,
					     mapped,
					     addr + VPCI_NOTIFY_OFF +
					     (u64)i * VPCI_NOTIFY_MULT,
					     mlen, 0, 0);
	}
	pthread_mutex_unlock(&vdev->lock);
}

/* --- creation ------------------------------------------------------------ */

static void virtio_pci__free(struct virtio_device *vdev)
{
	struct virtio_pci *vp = to_vpci(vdev);

	/* The device thread is gone; the VM fd still holds the irqfds. */
	for (unsigned int i = 0; i < VPCI_MAX_VECTORS; i++) {
		if (vp->vec_fd[i] >= 0)
			close(vp->vec_fd[i]);
	}
	free(vp);
}

static const struct virtio_transport_ops virtio_pci_tops = {
	.interrupt_queue = virtio_pci__interrupt_queue,
	.interrupt_config = virtio_pci__interrupt_config,
	.free = virtio_pci__free,
};

struct virtio_pci_ids {
	u32 device_id;			/* VIRTIO_ID_* */
	u16 transitional;		/* PCI device ID, 4.1.2.3 */
	u32 class_code;
};

static const struct virtio_pci_ids virtio_pci_ids[] = {
	{ VIRTIO_ID_NET,	0x1000, 0x020000 },
	{ VIRTIO_ID_BLOCK,	0x1001, 0x010000 },
	{ VIRTIO_ID_BALLOON,	0x1002, 0x050000 },
	{ VIRTIO_ID_CONSOLE,	0x1003, 0x078000 },
	{ VIRTIO_ID_SCSI,	0x1004, 0x010000 },
	{ VIRTIO_ID_RNG,	0x1005, 0xff0000 },
	{ VIRTIO_ID_9P,		0x1009, 0x020000 },
};

static const struct virtio_pci_ids *virtio_pci__ids(u32 device_id)
{
	for (size_t i = 0; i < ARRAY_SIZE(virtio_pci_ids); i++) {
		if (virtio_pci_ids[i].device_id == device_id)
			return &virtio_pci_ids[i];
	}
	return NULL;
}

static int virtio_pci__add_vcap(struct virtio_pci *vp, u8 type, u32 offset,
				u32 length)
{
	struct virtio_pci_cap cap = {
		.cap_len = sizeof(cap),
		.cfg_type = type,
		.bar = VPCI_MODERN_BAR,
		.offset = htole32(offset),
		.length = htole32(length),
	};

	return pci__add_cap(&vp->pdev, PCI_CAP_ID_VNDR, &cap, sizeof(cap));
}

static int virtio_pci__add_caps(struct virtio_pci *vp)
{
	struct pci_device *pdev = &vp->pdev;
	u8 msix[PCI_CAP_MSIX_SIZEOF] = { 0 };
	struct virtio_pci_notify_cap notify = {
		.cap = {
			.cap_len = sizeof(notify),
			.cfg_type = VIRTIO_PCI_CAP_NOTIFY_CFG,
			.bar = VPCI_MODERN_BAR,
			.offset = htole32(VPCI_NOTIFY_OFF),
			.length = htole32(vp->vdev.nr_queues *
					  VPCI_NOTIFY_MULT),
		},
		.notify_off_multiplier = htole32(VPCI_NOTIFY_MULT),
	};
	struct virtio_pci_cfg_cap pcicfg = {
		.cap = {
			.cap_len = sizeof(pcicfg),
			.cfg_type = VIRTIO_PCI_CAP_PCI_CFG,
		},
	};
	u16 ctrl = htole16((u16)(vp->nr_vectors - 1));
	u32 table = htole32(0 | VPCI_MSIX_BAR);
	u32 pba = htole32(VPCI_PBA_OFF | VPCI_MSIX_BAR);
	int off;

	memcpy(&msix[PCI_MSIX_FLAGS], &ctrl, 2);
	memcpy(&msix[PCI_MSIX_TABLE], &table, 4);
	memcpy(&msix[PCI_MSIX_PBA], &pba, 4);
	off = pci__add_cap(pdev, PCI_CAP_ID_MSIX, msix, sizeof(msix));
	if (off < 0)
		return off;
	vp->msix_cap = off;
	/* Enable and Function Mask are the only writable bits. */
	pdev->wmask[off + PCI_MSIX_FLAGS + 1] =
		(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;

	if (!vp->modern)
		return 0;
	off = virtio_pci__add_vcap(vp, VIRTIO_PCI_CAP_COMMON_CFG,
				   VPCI_COMMON_OFF, VPCI_COMMON_LEN);
	if (off >= 0)
		off = pci__add_cap(pdev, PCI_CAP_ID_VNDR, &notify,
				   sizeof(notify));
	if (off >= 0)
		off = virtio_pci__add_vcap(vp, VIRTIO_PCI_CAP_ISR_CFG,
					   VPCI_ISR_OFF, 1);
	if (off >= 0 && vp->vdev.ops->config_size)
		off = virtio_pci__add_vcap(vp, VIRTIO_PCI_CAP_DEVICE_CFG,
					   VPCI_DEVCFG_OFF,
					   vp->vdev.ops->config_size);
	if (off >= 0)
		off = pci__add_cap(pdev, PCI_CAP_ID_VNDR, &pcicfg,
				   sizeof(pcicfg));
	if (off < 0)
		return off;
	vp->pcicfg_cap = off;
	/* bar, offset, length and the data window are the driver's. */
	pdev->wmask[off + VIRTIO_PCI_CAP_BAR] = 0xff;
	memset(&pdev->wmask[off + VIRTIO_PCI_CAP_OFFSET], 0xff, 8);
	memset(&pdev->wmask[off + offsetof(struct virtio_pci_cfg_cap,
					   pci_cfg_data)], 0xff, 4);
	return 0;
}

static int virtio_pci__setup_vectors(struct virtio_pci *vp)
{
	int ret = msix_init(&vp->msix, vp->nr_vectors, &virtio_pci_msix_ops,
			    vp);

	if (ret)
		return ret;
	/* COMMAND.MASTER starts clear (virtio_pci__create). */
	msix_set_bus_master(&vp->msix, vp->vdev.dma_enabled);
	vp->msi_devid = irq__msi_needs_devid(vp->kvm);
	for (unsigned int i = 0; i < vp->nr_vectors; i++) {
		vp->vec_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vp->vec_fd[i] < 0)
			return -errno;
		ret = irq__irqfd(vp->kvm, vp->vec_fd[i], vp->vec_gsi[i], -1,
				 true);
		if (ret) {
			/* KVM_SIGNAL_MSI from the device thread instead. */
			pr_debug("virtio-%s: no irqfd for vector %u: %s",
				 vp->vdev.ops->name, i, strerror(-ret));
			close(vp->vec_fd[i]);
			vp->vec_fd[i] = -1;
		}
	}
	return 0;
}

static u32 virtio_pci__pow2(u32 v)
{
	u32 p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static int virtio_pci__setup(struct virtio_pci *vp,
			     const struct virtio_pci_ids *ids)
{
	const struct virtio_device_ops *ops = vp->vdev.ops;
	struct pci_device *pdev = &vp->pdev;
	u16 device_id = vp->legacy_bar ? ids->transitional :
			(u16)(VPCI_MODERN_ID_BASE + ops->device_id);
	int ret;

	/* Revision 0 for transitional devices, >= 1 for modern-only. */
	pci__init_header(pdev, VPCI_VENDOR, device_id,
			 ids ? ids->class_code : 0xff0000,
			 vp->legacy_bar ? 0 : 1);
	pci__set_subsystem(pdev, VPCI_VENDOR, (u16)ops->device_id);
	pci__use_intx(pdev);
	pdev->name = ops->name;
	pdev->opaque = vp;
	pdev->cfg_read = virtio_pci__cfg_read;
	pdev->cfg_write = virtio_pci__cfg_write;
	pdev->bar_moved = virtio_pci__bar_moved;
	pdev->bus_master = virtio_pci__bus_master;

	if (vp->legacy_bar) {
		vp->legacy_bar_size = virtio_pci__pow2(
			max_t(u32, 32, VIRTIO_PCI_CONFIG_OFF(true) +
				       ops->config_size));
		ret = pci__add_bar(pdev, VPCI_LEGACY_BAR, PCI_BAR_IO,
				   vp->legacy_bar_size, virtio_pci__legacy_io,
				   vp, "virtio-pci-legacy");
		if (ret)
			return ret;
	}
	ret = pci__add_bar(pdev, VPCI_MSIX_BAR, PCI_BAR_MEM32,
			   VPCI_MSIX_BAR_SIZE, virtio_pci__msix_io, vp,
			   "virtio-pci-msix");
	if (ret)
		return ret;
	if (vp->modern) {
		ret = pci__add_bar(pdev, VPCI_MODERN_BAR, PCI_BAR_MEM64,
				   VPCI_MODERN_BAR_SIZE, virtio_pci__modern_io,
				   vp, "virtio-pci");
		if (ret)
			return ret;
	}
	ret = virtio_pci__add_caps(vp);
	if (ret)
		return ret;
	return virtio_pci__setup_vectors(vp);
}

int virtio_pci__create(struct kvm *kvm, const struct virtio_device_ops *ops,
		       void *priv, enum virtio_transport_kind kind,
		       struct virtio_device **out)
{
	/* Kept: ops may live in @priv, which a failure frees. */
	const char *name = ops->name;
	bool legacy_only = kind == VIRTIO_TRANSPORT_PCI_LEGACY;
	bool modern_only = kind == VIRTIO_TRANSPORT_PCI_MODERN;
	const struct virtio_pci_ids *ids = virtio_pci__ids(ops->device_id);
	unsigned int nr_vectors;
	u32 gsi[VPCI_MAX_VECTORS];
	struct virtio_pci *vp;
	int ret;

	if (legacy_only && !ids) {
		pr_err("virtio-%s: no legacy PCI ID for device type %u",
		       name, ops->device_id);
		ret = -ENOTSUP;
		goto err_priv;
	}
	if (ids && !modern_only && ops->config_size > VPCI_LEGACY_CFG_MAX) {
		pr_err("virtio-%s: config space too large for the legacy BAR",
		       name);
		ret = -EINVAL;
		goto err_priv;
	}
	ret = -EINVAL;
	if (ops->config_size > VPCI_REGION_SIZE)
		goto err_priv;
	/*
	 * GSIs first: the routing table's exit hook then predates the
	 * device's, so it is freed after the device thread has stopped.
	 */
	nr_vectors = min_t(unsigned int, ops->nr_queues, VIRTIO_MAX_QUEUES) + 1;
	for (unsigned int i = 0; i < nr_vectors; i++) {
		ret = irq__alloc_msi_gsi(kvm);
		if (ret < 0)
			goto err_priv;
		gsi[i] = (u32)ret;
	}
	ret = -ENOMEM;
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		goto err_priv;
	memcpy(vp->vec_gsi, gsi, nr_vectors * sizeof(gsi[0]));
	vp->kvm = kvm;
	/* A type without a transitional ID can only be modern-only. */
	vp->legacy_bar = ids != NULL && !modern_only;
	vp->modern = !legacy_only;
	for (unsigned int i = 0; i < VPCI_MAX_VECTORS; i++)
		vp->vec_fd[i] = -1;

	/* From here on @priv is the core's, on failure too. */
	ret = virtio_device_init(&vp->vdev, kvm, ops, &virtio_pci_tops, vp,
				 priv, legacy_only);
	if (ret) {
		free(vp);
		goto err;
	}
	/* The core's exit hook frees vp (tops->free) from now on. */
	vp->nr_vectors = vp->vdev.nr_queues + 1;

	pthread_mutex_lock(&vp->vdev.lock);
	/* COMMAND.MASTER starts clear: no DMA until the driver sets it. */
	virtio_set_dma_enabled(&vp->vdev, false);
	pthread_mutex_unlock(&vp->vdev.lock);

	ret = virtio_pci__setup(vp, ids);
	if (!ret)
		ret = pci__register(kvm, &vp->pdev);
	if (ret)
		goto err;
	pr_debug("virtio-%s: virtio-pci%s at 00:%02x.0, INTx %d, %u vectors",
		 name, legacy_only ? " (legacy)" :
		 vp->legacy_bar ? " (transitional)" : " (modern)", vp->pdev.dev,
		 vp->pdev.intx_line, vp->nr_vectors);
	if (out)
		*out = &vp->vdev;
	return 0;
err_priv:
	if (ops->free)
		ops->free(priv);
err:
	pr_err("virtio-%s: cannot set up virtio-pci: %s", name,
	       strerror(-ret));
	return ret;
}

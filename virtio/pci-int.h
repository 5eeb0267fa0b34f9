/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_VIRTIO_PCI_INT_H
#define LKVM_VIRTIO_PCI_INT_H

/* Private to the virtio-pci transport (pci.c, pci-legacy.c, pci-modern.c). */
#include <linux/virtio_pci.h>

#include "lkvm/pci.h"
#include "lkvm/virtio.h"

#define VPCI_VENDOR		0x1af4
#define VIRTIO_PCI_ISR_QUEUE	0x1	/* the UAPI names only the config bit */
#define VPCI_MODERN_ID_BASE	0x1040

#define VPCI_LEGACY_BAR		0
#define VPCI_MSIX_BAR		1
#define VPCI_MODERN_BAR		4

#define VPCI_MSIX_BAR_SIZE	0x1000
#define VPCI_PBA_OFF		0x800

#define VPCI_COMMON_OFF		0x0000
#define VPCI_ISR_OFF		0x1000
#define VPCI_DEVCFG_OFF		0x2000
#define VPCI_NOTIFY_OFF		0x3000
#define VPCI_REGION_SIZE	0x1000
#define VPCI_MODERN_BAR_SIZE	0x4000
#define VPCI_NOTIFY_MULT	4
#define VPCI_COMMON_LEN		((u32)sizeof(struct virtio_pci_common_cfg))

#define VPCI_MAX_VECTORS	(VIRTIO_MAX_QUEUES + 1)
#define VPCI_LEGACY_CFG_MAX	(256 - VIRTIO_PCI_CONFIG_OFF(true))

struct virtio_pci_ioev {
	bool on;
	u64 addr;
	u32 len;
};

struct virtio_pci {
	struct virtio_device vdev;	/* first: tops->free frees both */
	struct pci_device pdev;
	struct kvm *kvm;
	bool legacy_bar, modern;

	/* Under vdev.lock. */
	u32 dev_feat_sel, drv_feat_sel;
	u16 queue_sel;
	bool intx_disabled;		/* COMMAND.INTX_DISABLE */
	bool intx_level;		/* what the irqchip was last told */
	bool intx_status;		/* STATUS.INTERRUPT as last set */
	struct msix_table msix;
	unsigned int nr_vectors;
	int vec_fd[VPCI_MAX_VECTORS];	/* irqfd eventfds, -1: KVM_SIGNAL_MSI */
	u32 vec_gsi[VPCI_MAX_VECTORS];
	bool vec_routed[VPCI_MAX_VECTORS];
	bool msi_devid;
	struct virtio_pci_ioev legacy_ioev[VIRTIO_MAX_QUEUES];
	struct virtio_pci_ioev modern_ioev[VIRTIO_MAX_QUEUES];

	/* Fixed after creation. */
	int msix_cap, pcicfg_cap;
	u32 legacy_bar_size;
};

static inline struct virtio_pci *to_vpci(struct virtio_device *vdev)
{
	return vdev->transport;
}

/* pci.c; all with vdev->lock held. */
u8 virtio_pci__read_isr(struct virtio_pci *vp);
u16 virtio_pci__check_vector(struct virtio_pci *vp, u16 v);
void virtio_pci__set_status(struct virtio_pci *vp, u8 status);
void virtio_pci__note_interface(struct virtio_pci *vp, bool legacy);
struct virtio_queue *virtio_pci__queue(struct virtio_pci *vp);

/* BAR handlers (bus_handler_t): they take vdev->lock. */
void virtio_pci__legacy_io(void *opaque, u64 offset, void *data, u32 len,
			   bool is_write);
void virtio_pci__modern_io(void *opaque, u64 offset, void *data, u32 len,
			   bool is_write);

#endif

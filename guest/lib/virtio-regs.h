/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Register layouts of the three virtio transports and the accessors the
 * test guests' transport code (virtio.c, virtio_probe.c) shares; private
 * to lib/.  MMIO and BAR accesses are volatile because they are device
 * registers, not for ordering: the ring code orders with its barriers.
 */
#ifndef GUEST_LIB_VIRTIO_REGS_H
#define GUEST_LIB_VIRTIO_REGS_H

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

static inline uint8_t rd8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline uint16_t rd16(uintptr_t a) { return *(volatile uint16_t *)a; }
static inline uint32_t rd32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void wr8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline void wr16(uintptr_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline void wr32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }

static inline bool is_pci(const struct virtio_dev *vd)
{
	return vd->transport == VT_PCI || vd->transport == VT_PCI_LEGACY;
}

#endif

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_ARM_LAYOUT_H
#define LKVM_ARM_LAYOUT_H

/*
 * The arm64 machine's guest-physical memory map.  Everything below 2 GiB
 * is MMIO, RAM starts at 2 GiB (as with kvmtool; QEMU's virt has it at
 * 1 GiB) and runs up to whatever -m asks for.  The guest learns all of
 * it from the device tree.
 *
 *   0x0000_0000  +64K    unused (a NULL dereference faults, not RAM)
 *   0x0100_0000  +4K     16550A UART (ttyS0), SPI 0
 *   0x0101_0000  +4K     reserved (kvmtool's RTC; lkvm has none on arm64)
 *   0x0102_0000  +4K     PL061 GPIO, SPI 1; line 3 is the power key
 *   0x0800_0000  +64K    GIC distributor (v2 and v3)
 *   0x0801_0000  +8K     GICv2 CPU interface
 *   0x0802_0000  +4K     GICv2m MSI frame (--irqchip=gicv2m)
 *   0x0808_0000  +128K   GICv3 ITS (--irqchip=gicv3-its)
 *   0x0a00_0000  +32M    GICv3 redistributors, 128K per vCPU (255 max)
 *   0x0c00_0000  +16K    virtio-mmio, 32 slots of 512 bytes, SPIs 16-47
 *   0x3000_0000  +1M     PCI ECAM, bus 0 (pci-host-ecam-generic)
 *   0x3eff_0000  +64K    PCI I/O window: PCI I/O 0x10000-0x1ffff, passed on
 *                        to the port bus (kept clear of 0xcf8/0xcfc there)
 *   0x4000_0000  +1G     PCI 32-bit memory window (1:1 with the CPU view)
 *   0x8000_0000  ...     RAM
 *
 * Interrupts: SPIs are numbered from 0 here (INTID 32 + n), which is
 * also the GSI number lkvm's shared code uses; PPIs as in the GIC
 * binding (INTID 16 + n).
 */

#define ARM_UART_BASE		0x01000000ULL
#define ARM_UART_SIZE		0x1000ULL
#define ARM_UART_SPI		0
#define ARM_UART_CLOCK		1843200	/* the 8250's classic crystal */

#define ARM_RTC_BASE		0x01010000ULL
#define ARM_RTC_SIZE		0x1000ULL

/*
 * The PL061 and its gpio-keys KEY_POWER on line 3 (QEMU virt's line),
 * held for 100 ms per press as QEMU's gpio-key does.  Its APB clock is a
 * fixed-clock node: Linux's AMBA bus will not probe without one.
 */
#define ARM_PL061_BASE		0x01020000ULL
#define ARM_PL061_SPI		1
#define ARM_PL061_POWER_LINE	3
#define ARM_PL061_PRESS_MS	100
#define ARM_APB_CLOCK		24000000

#define ARM_GIC_DIST_BASE	0x08000000ULL
#define ARM_GIC_DIST_SIZE	0x10000ULL
#define ARM_GIC_CPUI_BASE	0x08010000ULL
#define ARM_GIC_CPUI_SIZE	0x2000ULL
#define ARM_GIC_V2M_BASE	0x08020000ULL
#define ARM_GIC_V2M_SIZE	0x1000ULL
#define ARM_GIC_ITS_BASE	0x08080000ULL
#define ARM_GIC_ITS_SIZE	0x20000ULL
#define ARM_GIC_REDIST_BASE	0x0a000000ULL
#define ARM_GIC_REDIST_STRIDE	0x20000ULL	/* RD_base + SGI_base frames */
#define ARM_GIC_REDIST_MAX	(255 * ARM_GIC_REDIST_STRIDE)

#define ARM_VIRTIO_MMIO_BASE	0x0c000000ULL
#define ARM_VIRTIO_MMIO_SLOT	0x200ULL
#define ARM_VIRTIO_MMIO_SLOTS	32
#define ARM_VIRTIO_MMIO_SPI	16

#define ARM_PCI_ECAM_BASE	0x30000000ULL
#define ARM_PCI_ECAM_SIZE	0x100000ULL	/* one bus */
#define ARM_PCI_IO_CPU_BASE	0x3eff0000ULL
#define ARM_PCI_IO_BUS_BASE	0x10000ULL
#define ARM_PCI_IO_SIZE		0x10000ULL
#define ARM_PCI_MMIO_BASE	0x40000000ULL
#define ARM_PCI_MMIO_SIZE	0x40000000ULL
#define ARM_PCI_INTX_SPI	8	/* INTA of slot n: SPI 8 + n % 4 */
#define ARM_PCI_INTX_SPIS	4

/* GICv2m: the SPIs the MSI frame hands out. */
#define ARM_V2M_SPI_BASE	64
#define ARM_V2M_SPIS		64

/* SPIs 0-127 exist: the GIC is sized for 32 SGI/PPI + 128 SPIs. */
#define ARM_GIC_NR_SPIS		128
#define ARM_GIC_NR_IRQS		(32 + ARM_GIC_NR_SPIS)

#define ARM_RAM_BASE		0x80000000ULL
/* The top of the 40-bit IPA space KVM gives every arm64 VM by default. */
#define ARM_RAM_MAX		((1ULL << 40) - ARM_RAM_BASE)

/* PPIs (binding numbers, INTID - 16). */
#define ARM_PPI_TIMER_SEC	13
#define ARM_PPI_TIMER_PHYS	14
#define ARM_PPI_TIMER_VIRT	11
#define ARM_PPI_TIMER_HYP	10
#define ARM_PPI_PMU		7	/* INTID 23, as QEMU and kvmtool */

#define ARM_SPI_INTID(spi)	(32 + (spi))
#define ARM_PPI_INTID(ppi)	(16 + (ppi))

#endif

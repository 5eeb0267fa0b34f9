/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_X86_BOOT_H
#define LKVM_X86_BOOT_H

/*
 * x86 guest-physical memory map and the loaders' internal interface.
 *
 * Low memory, as lkvm lays it out before the first instruction runs.  All
 * of it sits below the EBDA at 0x9fc00, clear of the kernel (loaded at
 * 1 MiB or above) and of each other:
 *
 *   0x00000 - 0x003ff  real-mode IVT (flat binaries only; every vector
 *                      points at the iret stub in the BIOS area)
 *   0x00400 - 0x004ff  BIOS data area, left zero
 *   0x00500 - 0x0052f  boot GDT: null, null, code64 (0x10), data (0x18),
 *                      code32 (0x20), as the Linux boot protocols expect
 *   0x06000 - 0x06fff  PVH hvm_start_info, module list, memory map
 *   0x07000 - 0x07fff  zero page (struct boot_params) for bzImage
 *   0x08000 - 0x08fff  initial stack for 32/64-bit entry (rsp = 0x8ff0)
 *   0x09000 - 0x09fff  PML4
 *   0x0a000 - 0x0afff  PDPT
 *   0x0b000 - 0x0efff  4 page directories: identity map of 0-4 GiB
 *   0x10000 - 0x9fbff  flat binary (real mode cs = 0x1000, ip = 0,
 *                      sp = 0x8000, i.e. the stack tops out at 0x18000)
 *   0x20000 - 0x2ffff  kernel command line (bzImage and PVH)
 *   0x9fc00 - 0x9ffff  EBDA, reserved in the e820 map
 *   0xf0000 - 0xfffff  BIOS area, reserved in the e820 map:
 *   0xf0000            iret stub (one byte)
 *   0xf0100 - 0xf1fff  MP floating pointer and table (5.2 KiB for 255
 *                      vCPUs)
 *   0xf2000 - 0xf3fff  ACPI tables, RSDP first (2.8 KiB for 255 vCPUs).
 *                      Linux finds the RSDP by scanning 0xe0000-0xfffff;
 *                      the PVH start_info and the zero page point at it
 *   0x100000 -         kernel, then the initrd as high as it may go
 *
 * RAM above 3 GiB is moved to 4 GiB so that [3 GiB, 4 GiB) stays free for
 * MMIO (IOAPIC, LAPIC, PCI) and KVM's TSS/identity pages.
 */

#include <asm/bootparam.h>

#include "arch/kvm-arch.h"
#include "lkvm/types.h"

struct guest_mem;
struct kvm_cpuid2;

#define BOOT_GDT_ADDR		0x00500ULL
#define BOOT_GDT_ENTRIES	5
#define BOOT_CS64		0x10
#define BOOT_DS			0x18
#define BOOT_CS32		0x20
#define PVH_START_INFO_ADDR	0x06000ULL
#define BOOT_ZERO_PAGE_ADDR	0x07000ULL
#define BOOT_STACK_TOP		0x08ff0ULL
#define BOOT_PML4_ADDR		0x09000ULL
#define BOOT_PDPT_ADDR		0x0a000ULL
#define BOOT_PD_ADDR		0x0b000ULL	/* 4 pages */
#define BOOT_CMDLINE_ADDR	0x20000ULL
#define BOOT_CMDLINE_MAX	0x10000ULL	/* including the NUL */
#define EBDA_START		0x9fc00ULL
#define BIOS_AREA_START		0xf0000ULL
#define BIOS_AREA_END		0x100000ULL
#define BIOS_IRET_STUB_ADDR	0xf0000ULL
#define MPTABLE_ADDR		0xf0100ULL
#define ACPI_TABLES_ADDR	0xf2000ULL
#define ACPI_TABLES_END		0xf4000ULL
#define ACPI_RSDP_ADDR		ACPI_TABLES_ADDR
#define KERNEL_LOAD_ADDR	0x100000ULL

#define FLAT_SELECTOR		0x1000
#define FLAT_IP			0x0000
#define FLAT_SP			0x8000
#define FLAT_LOAD_ADDR		((u64)FLAT_SELECTOR << 4)

#define X86_PCI_HOLE_START	(3 * SZ_1G)
#define X86_4G			(4 * SZ_1G)

#define X86_TSS_ADDR		0xfffbd000ULL	/* 3 pages */
#define X86_IDENTITY_MAP_ADDR	0xfffbc000ULL	/* 1 page */

/* EFER: long mode enabled (set at entry), active (what the CPU runs). */
#define EFER_LME		(1ULL << 8)
#define EFER_LMA		(1ULL << 10)

/*
 * The 32-bit PCI hole [3 GiB, 4 GiB): PCI memory BARs are allocated from
 * [X86_PCI_MMIO_START, X86_PCI_MMIO_END), virtio-mmio devices sit in
 * their own slots above it (outside the host bridge window the DSDT
 * declares, so Linux never sees the two overlap), then the IOAPIC.
 */
#define X86_PCI_MMIO_START	X86_PCI_HOLE_START
#define X86_PCI_MMIO_END	0xfe000000ULL
#define X86_VIRTIO_MMIO_START	0xfe000000ULL
#define X86_VIRTIO_MMIO_SLOT	0x200ULL
#define X86_VIRTIO_MMIO_SLOTS	16
/* PCI I/O BARs (legacy virtio) come from [0xc000, 0x10000). */
#define X86_PCI_IO_START	0xc000ULL
#define X86_PCI_IO_END		0x10000ULL
#define IOAPIC_ADDR		0xfec00000ULL
#define LAPIC_ADDR		0xfee00000ULL

/* Generated command line words; -p is appended (kvm/cmdline.c). */
#define X86_DEFAULT_CMDLINE	"console=ttyS0 earlyprintk=serial"
/* ... and with --console virtio, where the 8250 is not connected. */
#define X86_VIRTIO_CMDLINE	"console=hvc0"

/* RAM below the PCI hole, i.e. what lies at guest-physical 0. */
static inline u64 x86_ram_below_hole(u64 ram_size)
{
	return ram_size < X86_PCI_HOLE_START ? ram_size : X86_PCI_HOLE_START;
}

/* Everything a kernel loader needs, already read into host memory. */
struct x86_load_args {
	const char *kernel_path;	/* for messages only */
	const void *kernel;
	size_t kernel_len;
	const char *initrd_path;	/* for messages only */
	const void *initrd;		/* NULL if none */
	size_t initrd_len;
	const char *cmdline;		/* NULL: empty */
	u64 ram_size;			/* total, as in kvm->ram_size */
};

/* e820.c: returns the number of entries, or -ENOSPC / -EINVAL. */
int e820__build(u64 ram_size, struct boot_e820_entry *tbl, unsigned int max);

/* boot-common.c */
int boot_tables__setup(struct guest_mem *gm, struct x86_boot_state *bs);
int boot__place_initrd(struct guest_mem *gm, const struct x86_load_args *a,
		       u64 lowest, u64 limit, u64 *addr);
int boot__write_cmdline(struct guest_mem *gm, const char *cmdline,
			u64 max_len, u64 *len);

/* The loaders fill @out; each validates its image and names it on error. */
int bzimage__load(struct guest_mem *gm, const struct x86_load_args *a,
		  struct x86_boot_state *out);
bool bzimage__detect(const void *img, size_t len);
int pvh__load(struct guest_mem *gm, const struct x86_load_args *a,
	      struct x86_boot_state *out);
bool elf__detect(const void *img, size_t len);
int flat__load(struct guest_mem *gm, const struct x86_load_args *a,
	       struct x86_boot_state *out);

/* mptable.c */
struct mptable_cpu_info {
	u32 signature;		/* CPUID.1:EAX */
	u32 features;		/* CPUID.1:EDX */
};
int mptable__build(void *buf, size_t size, u64 gpa, unsigned int nr_cpus,
		   const struct mptable_cpu_info *info);
int mptable__write(struct guest_mem *gm, unsigned int nr_cpus,
		   const struct mptable_cpu_info *info);

/* cpuid.c */
int cpuid__filter(struct kvm_cpuid2 *c, const char *spec);
int cpuid__check_spec(const char *spec);
struct kvm_cpuid_entry2 *cpuid__find(struct kvm_cpuid2 *c, u32 function,
				     u32 index);
int cpuid__get_supported(int sys_fd, struct kvm_cpuid2 **out);
int cpuid__fixup_vcpu(struct kvm_cpuid2 *c, unsigned int id,
		      unsigned int nr_cpus);

#endif

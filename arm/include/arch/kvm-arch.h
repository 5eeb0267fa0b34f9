/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_ARM_KVM_ARCH_H
#define LKVM_ARM_KVM_ARCH_H

#include <stdatomic.h>

#include "arch/layout.h"
#include "lkvm/types.h"

enum arm_irqchip {
	ARM_IRQCHIP_AUTO,
	ARM_IRQCHIP_GICV2,
	ARM_IRQCHIP_GICV2M,
	ARM_IRQCHIP_GICV3,
	ARM_IRQCHIP_GICV3_ITS,
};

struct pl061;

struct arm_virtio_slot {
	u64 base, size;
	unsigned int spi;
};

struct kvm_arch {
	enum arm_irqchip irqchip;	/* resolved: never AUTO after init */
	int gic_fd;
	int its_fd;
	bool pmu;
	bool sve;		/* KVM_ARM_VCPU_SVE on every vCPU */
	bool ptrauth;		/* KVM_ARM_VCPU_PTRAUTH_ADDRESS + _GENERIC */
	/*
	 * KVM_CAP_ARM_NISV_TO_USER is on and an external data abort can be
	 * injected: undecodable MMIO accesses are the guest's problem.
	 */
	bool nisv_abort;
	atomic_bool nisv_logged;	/* said so once */

	struct pl061 *pl061;	/* GPIO with the power key (arm/devices.c) */

	/* Boot state, decided by the loader. */
	u64 entry;		/* PC of the boot vCPU */
	u64 dtb_addr;		/* X0 */
	u64 initrd_start, initrd_size;

	/* virtio-mmio slots handed out; the FDT lists them. */
	struct arm_virtio_slot virtio[ARM_VIRTIO_MMIO_SLOTS];
	unsigned int nr_virtio;
	unsigned int nr_virtio_announced;
};

struct kvm_cpu_arch {
	u64 mpidr;
};

/* arm/gic.c */
struct kvm;
int gic__create(struct kvm *kvm);
int gic__init(struct kvm *kvm);
int gic__generate_fdt(struct kvm *kvm, void *fdt, u32 phandle, u32 msi_phandle);
const char *gic__name(enum arm_irqchip type);
int gic__parse(const char *s, enum arm_irqchip *out);
bool gic__has_msi(const struct kvm *kvm);
int gic__v2m_msi_spi(u64 addr, u32 data);
void gic__exit(struct kvm *kvm);

/* arm/fdt.c */
char *fdt__bootargs(struct kvm *kvm);
int fdt__build(struct kvm *kvm, void *buf, u32 size, const char *cmdline);

/* arm/vcpu.c */
struct kvm_cpu;
int arm__vcpu_init_pmu(struct kvm_cpu *cpu);
int arm__vcpu_nisv(struct kvm_cpu *cpu);

/* arm/pci-ecam.c */
int pci_ecam__init(struct kvm *kvm);

/* Affinity of vCPU @id as KVM assigns it (MPIDR Aff0..2). */
static inline u64 arm_vcpu_mpidr(unsigned int id)
{
	return (id & 0xfULL) | (((id >> 4) & 0xffULL) << 8) |
	       (((id >> 12) & 0xffULL) << 16);
}

#endif

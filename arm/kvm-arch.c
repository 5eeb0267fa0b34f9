// SPDX-License-Identifier: GPL-2.0
/*
 * VM-wide arm64 set-up: capability checks, the vCPU features KVM offers
 * (SVE, pointer authentication: on when available, as in kvmtool), the
 * vGIC (created before any vCPU, initialised after all of them), RAM at
 * 2 GiB, the arm encoding of KVM_IRQ_LINE, and the few exits only arm
 * knows about.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lkvm/exit.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"

static bool arm__has_cap(struct kvm *kvm, long cap)
{
	return ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, cap) > 0;
}

/*
 * Undecodable MMIO (e.g. a load with writeback to device memory) makes
 * KVM_RUN fail with ENOSYS unless the exit is handed to us; we answer it
 * with an external data abort, as QEMU does, so only the guest sees it.
 */
static void arm__enable_nisv(struct kvm *kvm)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_ARM_NISV_TO_USER };

	if (!arm__has_cap(kvm, KVM_CAP_ARM_NISV_TO_USER) ||
	    !arm__has_cap(kvm, KVM_CAP_ARM_INJECT_EXT_DABT)) {
		pr_info("KVM cannot hand undecodable MMIO to lkvm: such an access ends the VM");
		return;
	}
	if (ioctl(kvm->vm_fd, KVM_ENABLE_CAP, &cap)) {
		pr_warn("KVM_ENABLE_CAP(KVM_CAP_ARM_NISV_TO_USER): %s",
			strerror(errno));
		return;
	}
	kvm->arch.nisv_abort = true;
}

int arch__init_vm(struct kvm *kvm)
{
	const struct lkvm_config *cfg = kvm->cfg;

	kvm->arch.gic_fd = kvm->arch.its_fd = -1;
	if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_PSCI_0_2) <= 0) {
		pr_err("KVM lacks KVM_CAP_ARM_PSCI_0_2, which lkvm needs on arm64");
		return -ENOTSUP;
	}
	if (cfg->irqchip && gic__parse(cfg->irqchip, &kvm->arch.irqchip))
		return -EINVAL;	/* arch__check_config() said so already */
	kvm->arch.pmu = cfg->pmu;
	if (kvm->arch.pmu &&
	    ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_PMU_V3) <= 0) {
		pr_err("--pmu: this KVM has no PMUv3 for guests");
		return -ENOTSUP;
	}
	kvm->arch.sve = !cfg->disable_sve && arm__has_cap(kvm, KVM_CAP_ARM_SVE);
	/* KVM takes the two halves of pointer authentication only together. */
	kvm->arch.ptrauth = !cfg->disable_ptrauth &&
			    arm__has_cap(kvm, KVM_CAP_ARM_PTRAUTH_ADDRESS) &&
			    arm__has_cap(kvm, KVM_CAP_ARM_PTRAUTH_GENERIC);
	pr_info("vCPU features: SVE %s, pointer authentication %s",
		kvm->arch.sve ? "on" : "off", kvm->arch.ptrauth ? "on" : "off");
	atomic_init(&kvm->arch.nisv_logged, false);
	arm__enable_nisv(kvm);
	return gic__create(kvm);
}

int arch__setup_ram(struct kvm *kvm)
{
	if (kvm->ram_size > ARM_RAM_MAX) {
		pr_err("at most %llu GiB of RAM fit the arm64 memory map",
		       (unsigned long long)(ARM_RAM_MAX >> 30));
		return -EINVAL;
	}
	return kvm__register_ram(kvm, ARM_RAM_BASE, kvm->ram_size, kvm->ram);
}

/* arm64 has no port I/O exits: its PCI I/O window is MMIO. */
bool arch__handle_io(struct kvm_cpu *cpu __unused)
{
	return false;
}

int arch__post_vcpu_init(struct kvm *kvm)
{
	int ret = gic__init(kvm);

	for (unsigned int i = 0; !ret && kvm->arch.pmu && i < kvm->nr_cpus; i++)
		ret = arm__vcpu_init_pmu(kvm->cpus[i]);
	return ret;
}

/* KVM_IRQ_LINE on arm: type in bits 24-27, then the INTID.  @irq is an SPI. */
u32 arch__irq_line_encode(unsigned int irq)
{
	return ((u32)KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) |
	       (u32)ARM_SPI_INTID(irq);
}

void arch__exit(struct kvm *kvm)
{
	gic__exit(kvm);
}

int arch__handle_exit(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;

	switch (run->exit_reason) {
	case KVM_EXIT_ARM_NISV:
		return arm__vcpu_nisv(cpu);
	default:
		pr_err("vCPU %u: unhandled KVM exit reason %u", cpu->id,
		       run->exit_reason);
		if (cpu->kvm->cfg->debug)
			arch__dump_vcpu(cpu, stderr);
		kvm__request_stop(cpu->kvm, LKVM_EXIT_VMM_ERROR);
		return -ENOSYS;
	}
}

int arch__check_cpu_features(const char *spec, const char *prog)
{
	fprintf(stderr, "lkvm %s: --cpu-features '%s': not supported on arm64\n",
		prog, spec);
	return -EINVAL;
}

int arch__check_config(const struct lkvm_config *cfg, const char *prog)
{
	enum arm_irqchip type;

	if (cfg->irqchip && gic__parse(cfg->irqchip, &type)) {
		fprintf(stderr,
			"lkvm %s: invalid value '%s' for --irqchip: expected auto, gicv2, gicv2m, gicv3 or gicv3-its\n",
			prog, cfg->irqchip);
		return -EINVAL;
	}
	if (cfg->firmware && cfg->kernel) {
		fprintf(stderr, "lkvm %s: --firmware and a kernel exclude each other\n",
			prog);
		return -EINVAL;
	}
	/* Refused, not ignored: arm64 guests have no I/O port to write. */
	if (cfg->debug_exit) {
		fprintf(stderr, "lkvm %s: --debug-exit: not supported on arm64 (an x86 I/O port)\n",
			prog);
		return -EINVAL;
	}
	return 0;
}

static const char *const default_kernels[] = {
	"./arch/arm64/boot/Image",
	NULL,
};

const char *const *arch__default_kernels(void)
{
	return default_kernels;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * arm64 vCPUs: KVM_ARM_VCPU_INIT with the preferred target, PSCI 0.2
 * (so CPU_ON, SYSTEM_OFF and SYSTEM_RESET are handled in the kernel and
 * the last two reach us as KVM_EXIT_SYSTEM_EVENT), secondaries powered
 * off until the guest starts them, SVE (finalised with KVM's default
 * vector lengths) and pointer authentication when arch__init_vm() found
 * them, and the boot CPU's entry registers per the arm64 boot protocol:
 * x0 = DTB, x1-x3 = 0, MMU off, EL1h with DAIF masked.  Also the answer
 * to MMIO accesses KVM cannot decode.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lkvm/exit.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"

#define ARM64_CORE_REG(x)	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | \
				 KVM_REG_ARM_CORE | \
				 (offsetof(struct kvm_regs, x) / sizeof(__u32)))
/* MPIDR_EL1: op0 3, op1 0, CRn 0, CRm 0, op2 5. */
#define ARM64_MPIDR_REG		ARM64_SYS_REG(3, 0, 0, 0, 5)

/* PSR_MODE_EL1h comes from <asm/ptrace.h>; D, A, I and F masked: */
#define PSTATE_DAIF_MASKED	(0xfULL << 6)

static int vcpu__set_reg(struct kvm_cpu *cpu, u64 id, u64 val)
{
	struct kvm_one_reg r = { .id = id, .addr = (u64)(uintptr_t)&val };

	return ioctl(cpu->fd, KVM_SET_ONE_REG, &r) ? -errno : 0;
}

static int vcpu__get_reg(struct kvm_cpu *cpu, u64 id, u64 *val)
{
	struct kvm_one_reg r = { .id = id, .addr = (u64)(uintptr_t)val };

	return ioctl(cpu->fd, KVM_GET_ONE_REG, &r) ? -errno : 0;
}

int arch__vcpu_init(struct kvm_cpu *cpu)
{
	struct kvm *kvm = cpu->kvm;
	struct kvm_vcpu_init init = { 0 };
	int ret;

	if (ioctl(kvm->vm_fd, KVM_ARM_PREFERRED_TARGET, &init)) {
		ret = -errno;
		pr_err("KVM_ARM_PREFERRED_TARGET: %s", strerror(errno));
		return ret;
	}
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (cpu->id)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	if (kvm->arch.pmu)
		init.features[0] |= 1u << KVM_ARM_VCPU_PMU_V3;
	if (kvm->arch.sve)
		init.features[0] |= 1u << KVM_ARM_VCPU_SVE;
	if (kvm->arch.ptrauth)
		init.features[0] |= 1u << KVM_ARM_VCPU_PTRAUTH_ADDRESS |
				    1u << KVM_ARM_VCPU_PTRAUTH_GENERIC;
	if (ioctl(cpu->fd, KVM_ARM_VCPU_INIT, &init)) {
		ret = -errno;
		pr_err("vCPU %u: KVM_ARM_VCPU_INIT: %s", cpu->id,
		       strerror(errno));
		return ret;
	}
	/*
	 * SVE's register sizes are fixed by finalising; KVM refuses
	 * register access and KVM_RUN before that.  Not setting
	 * KVM_REG_ARM64_SVE_VLS first keeps every length KVM offers.
	 */
	if (kvm->arch.sve) {
		int feature = KVM_ARM_VCPU_SVE;

		if (ioctl(cpu->fd, KVM_ARM_VCPU_FINALIZE, &feature)) {
			ret = -errno;
			pr_err("vCPU %u: KVM_ARM_VCPU_FINALIZE(SVE): %s",
			       cpu->id, strerror(errno));
			return ret;
		}
	}
	if (vcpu__get_reg(cpu, ARM64_MPIDR_REG, &cpu->arch.mpidr))
		cpu->arch.mpidr = arm_vcpu_mpidr(cpu->id);
	if ((cpu->arch.mpidr & 0xffffffULL) != arm_vcpu_mpidr(cpu->id))
		pr_warn("vCPU %u: MPIDR %#llx is not what the DTB says",
			cpu->id, (unsigned long long)cpu->arch.mpidr);
	if (cpu->id)
		return 0;

	ret = vcpu__set_reg(cpu, ARM64_CORE_REG(regs.pstate),
			    PSTATE_DAIF_MASKED | PSR_MODE_EL1h);
	if (!ret)
		ret = vcpu__set_reg(cpu, ARM64_CORE_REG(regs.regs[0]),
				    kvm->arch.dtb_addr);
	for (int i = 1; !ret && i < 4; i++)
		ret = vcpu__set_reg(cpu, ARM64_CORE_REG(regs.regs[i]), 0);
	if (!ret)
		ret = vcpu__set_reg(cpu, ARM64_CORE_REG(regs.pc),
				    kvm->arch.entry);
	if (ret)
		pr_err("vCPU 0: cannot set the boot registers: %s",
		       strerror(-ret));
	return ret;
}

/* After all vCPUs exist: PMU wiring, which needs an initialised vGIC. */
int arm__vcpu_init_pmu(struct kvm_cpu *cpu)
{
	int irq = ARM_PPI_INTID(ARM_PPI_PMU);
	struct kvm_device_attr a = {
		.group = KVM_ARM_VCPU_PMU_V3_CTRL,
		.attr = KVM_ARM_VCPU_PMU_V3_IRQ,
		.addr = (u64)(uintptr_t)&irq,
	};

	if (ioctl(cpu->fd, KVM_SET_DEVICE_ATTR, &a))
		goto err;
	a.attr = KVM_ARM_VCPU_PMU_V3_INIT;
	a.addr = 0;
	if (ioctl(cpu->fd, KVM_SET_DEVICE_ATTR, &a))
		goto err;
	return 0;
err:
	pr_err("vCPU %u: cannot set up the PMU: %s", cpu->id, strerror(errno));
	return -errno;
}

/*
 * KVM_EXIT_ARM_NISV: a data abort KVM could not decode (no valid syndrome:
 * a load/store with writeback, a load pair, ... to device memory).  No
 * device model can complete it, so, as QEMU does, the guest gets an
 * external data abort at the faulting instruction and carries on; what it
 * makes of it is its business.  Said once per VM.
 */
int arm__vcpu_nisv(struct kvm_cpu *cpu)
{
	struct kvm *kvm = cpu->kvm;
	struct kvm_vcpu_events ev = { 0 };
	unsigned long long ipa = cpu->run->arm_nisv.fault_ipa;

	if (!atomic_exchange_explicit(&kvm->arch.nisv_logged, true,
				      memory_order_relaxed))
		pr_warn("vCPU %u: undecodable MMIO access at %#llx (e.g. a load with writeback): the guest gets an external data abort (said once)",
			cpu->id, ipa);
	else
		pr_debug("vCPU %u: undecodable MMIO access at %#llx: external data abort",
			 cpu->id, ipa);
	if (kvm->cfg->debug)
		arch__dump_vcpu(cpu, stderr);
	ev.exception.ext_dabt_pending = 1;
	if (ioctl(cpu->fd, KVM_SET_VCPU_EVENTS, &ev)) {
		int ret = -errno;

		pr_err("vCPU %u: cannot inject an external data abort: %s",
		       cpu->id, strerror(errno));
		kvm__request_stop(kvm, LKVM_EXIT_VMM_ERROR);
		return ret;
	}
	return 0;
}

void arch__dump_vcpu(struct kvm_cpu *cpu, FILE *f)
{
	u64 pc = 0, pstate = 0, sp = 0, x[31];

	vcpu__get_reg(cpu, ARM64_CORE_REG(regs.pc), &pc);
	vcpu__get_reg(cpu, ARM64_CORE_REG(regs.pstate), &pstate);
	vcpu__get_reg(cpu, ARM64_CORE_REG(sp_el1), &sp);
	fprintf(f, "vCPU %u: pc %016llx pstate %016llx sp_el1 %016llx mpidr %016llx\n",
		cpu->id, (unsigned long long)pc, (unsigned long long)pstate,
		(unsigned long long)sp, (unsigned long long)cpu->arch.mpidr);
	for (int i = 0; i < 31; i++) {
		x[i] = 0;
		vcpu__get_reg(cpu, ARM64_CORE_REG(regs.regs[i]), &x[i]);
		fprintf(f, " x%-2d %016llx%s", i, (unsigned long long)x[i],
			i % 4 == 3 || i == 30 ? "\n" : "");
	}
}

/* KVM has no NMI for arm64 guests (KVM_NMI is x86's). */
int arch__inject_nmi(struct kvm_cpu *cpu __unused)
{
	return -ENOTSUP;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * VM-wide x86 set-up: the in-kernel irqchip (the PIT comes on first use,
 * x86/pit.c), KVM's private pages in the PCI hole, the RAM layout around
 * that hole, the CPUID table all vCPUs share, and the exits only x86
 * knows about.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>

#include "arch/boot.h"
#include "arch/pit.h"
#include "lkvm/exit.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"

struct x86_cap {
	int cap;
	const char *name;
};

static const struct x86_cap x86_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
};

int x86__vm_ioctl(struct kvm *kvm, unsigned long req, void *arg,
		  const char *name)
{
	if (ioctl(kvm->vm_fd, req, arg) < 0) {
		int err = errno;

		pr_err("%s: %s", name, strerror(err));
		return -err;
	}
	return 0;
}

int arch__init_vm(struct kvm *kvm)
{
	u64 identity = X86_IDENTITY_MAP_ADDR;
	int ret;

	/* Feature checks ask KVM, never CPUID: nested setups lie there. */
	for (size_t i = 0; i < ARRAY_SIZE(x86_caps); i++) {
		if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION,
			  x86_caps[i].cap) <= 0) {
			pr_err("KVM lacks %s, which lkvm needs on x86",
			       x86_caps[i].name);
			return -ENOTSUP;
		}
	}

	/*
	 * Intel needs a TSS and an identity-mapped page table for real mode
	 * emulation; both go in the PCI hole, where no RAM is.  Must happen
	 * before the first vCPU is created.
	 */
	if (ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)X86_TSS_ADDR)) {
		ret = -errno;
		pr_err("KVM_SET_TSS_ADDR: %s", strerror(errno));
		return ret;
	}
	ret = x86__vm_ioctl(kvm, KVM_SET_IDENTITY_MAP_ADDR, &identity,
			    "KVM_SET_IDENTITY_MAP_ADDR");
	if (!ret)
		ret = x86__vm_ioctl(kvm, KVM_CREATE_IRQCHIP, NULL,
				    "KVM_CREATE_IRQCHIP");
	if (ret)
		return ret;
	pthread_mutex_init(&kvm->arch.pit_lock, NULL);

	ret = cpuid__get_supported(kvm->sys_fd, &kvm->arch.cpuid);
	if (ret)
		return ret;
	return cpuid__filter(kvm->arch.cpuid, kvm->cfg->cpu_features);
}

/*
 * RAM is one host mapping: the first min(ram, 3 GiB) at guest 0, the
 * rest at 4 GiB, leaving [3 GiB, 4 GiB) for MMIO.
 */
int arch__setup_ram(struct kvm *kvm)
{
	u64 below = x86_ram_below_hole(kvm->ram_size);
	int ret;

	ret = kvm__register_ram(kvm, 0, below, kvm->ram);
	if (ret || kvm->ram_size == below)
		return ret;
	return kvm__register_ram(kvm, X86_4G, kvm->ram_size - below,
				 (u8 *)kvm->ram + below);
}

void arch__exit(struct kvm *kvm)
{
	free(kvm->arch.cpuid);
	kvm->arch.cpuid = NULL;
}

bool arch__handle_io(struct kvm_cpu *cpu)
{
	return pit__handle_io(cpu);
}

int arch__handle_exit(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;

	switch (run->exit_reason) {
	case KVM_EXIT_HLT:
		/*
		 * With the in-kernel LAPIC KVM waits for interrupts itself;
		 * should a HLT still reach us, resuming simply re-enters it.
		 */
		if (!cpu->arch.halt_warned) {
			pr_debug("vCPU %u: unexpected KVM_EXIT_HLT", cpu->id);
			cpu->arch.halt_warned = true;
		}
		return 0;
	case KVM_EXIT_DEBUG:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
	case KVM_EXIT_TPR_ACCESS:
		return 0;
	default:
		pr_err("vCPU %u: unhandled KVM exit reason %u", cpu->id,
		       run->exit_reason);
		if (cpu->kvm->cfg->debug)
			arch__dump_vcpu(cpu, stderr);
		kvm__request_stop(cpu->kvm, LKVM_EXIT_VMM_ERROR);
		return -ENOSYS;
	}
}

int arch__check_cpu_features(const char *spec, const char *prog __unused)
{
	return cpuid__check_spec(spec);
}

static const char *default_kernels[3];
static char running_kernel[sizeof("/boot/vmlinuz-") +
			   sizeof(((struct utsname *)0)->release)];
static pthread_once_t default_kernels_once = PTHREAD_ONCE_INIT;

static void default_kernels__init(void)
{
	struct utsname u;
	unsigned int n = 0;

	/* A kernel tree's build output first, as kvmtool does. */
	default_kernels[n++] = "./arch/x86/boot/bzImage";
	if (!uname(&u)) {
		snprintf(running_kernel, sizeof(running_kernel),
			 "/boot/vmlinuz-%s", u.release);
		default_kernels[n++] = running_kernel;
	}
	default_kernels[n] = NULL;
}

const char *const *arch__default_kernels(void)
{
	pthread_once(&default_kernels_once, default_kernels__init);
	return default_kernels;
}

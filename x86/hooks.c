// SPDX-License-Identifier: GPL-2.0
/*
 * x86 sides of arch hooks that only other architectures need: nothing
 * to do after vCPU creation, KVM_IRQ_LINE takes the GSI as it is, and
 * the arm64-only options are refused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lkvm/arch.h"
#include "lkvm/config.h"

int arch__post_vcpu_init(struct kvm *kvm __unused)
{
	return 0;
}

u32 arch__irq_line_encode(unsigned int irq)
{
	return irq;
}

int arch__check_config(const struct lkvm_config *cfg, const char *prog)
{
	const char *opt = NULL;

	if (cfg->irqchip && strcmp(cfg->irqchip, "auto"))
		opt = "--irqchip (only 'auto' on x86)";
	else if (cfg->pmu)
		opt = "--pmu";
	else if (cfg->dump_dtb)
		opt = "--dump-dtb (x86 has no device tree)";
	else if (cfg->firmware)
		opt = "--firmware (use -k with a flat binary)";
	else if (cfg->disable_sve)
		opt = "--disable-sve";
	else if (cfg->disable_ptrauth)
		opt = "--disable-ptrauth";
	if (!opt)
		return 0;
	fprintf(stderr, "lkvm %s: %s is not supported on x86\n", prog, opt);
	return -EINVAL;
}

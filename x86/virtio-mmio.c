// SPDX-License-Identifier: GPL-2.0
/*
 * Where virtio-mmio devices live on the PC board, and how Linux hears of
 * them: there is no firmware table for them on x86, so each slot becomes a
 * virtio_mmio.device=<size>@<base>:<irq> entry on the kernel command line
 * (needs CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES, as with kvmtool).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/boot.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"

/*
 * ISA lines no board device uses: not 0-2 (PIT, keyboard, cascade), 4
 * (COM1), 8 (RTC) or 9 (ACPI SCI).  One line per slot: the pins are
 * edge-triggered, and a shared edge-triggered line can lose interrupts.
 */
static const unsigned int virtio_mmio_irqs[] = {
	5, 6, 7, 10, 11, 12, 13, 14, 15,
};

#define NR_VIRTIO_MMIO_SLOTS \
	min_t(unsigned int, X86_VIRTIO_MMIO_SLOTS, ARRAY_SIZE(virtio_mmio_irqs))

int arch__virtio_mmio_alloc(struct kvm *kvm, u64 *base, u64 *size,
			    unsigned int *irq)
{
	unsigned int n = kvm->arch.nr_virtio_mmio;

	if (n >= NR_VIRTIO_MMIO_SLOTS)
		return -ENOSPC;
	kvm->arch.nr_virtio_mmio++;
	*base = X86_VIRTIO_MMIO_START + n * X86_VIRTIO_MMIO_SLOT;
	*size = X86_VIRTIO_MMIO_SLOT;
	*irq = virtio_mmio_irqs[n];
	return 0;
}

int arch__virtio_mmio_announce(struct kvm *kvm, u64 base, u64 size,
			       unsigned int irq)
{
	char *s = kvm->arch.extra_cmdline;
	size_t used = strlen(s);
	int n;

	n = snprintf(s + used, sizeof(kvm->arch.extra_cmdline) - used,
		     "%svirtio_mmio.device=0x%llx@0x%llx:%u", used ? " " : "",
		     (unsigned long long)size, (unsigned long long)base, irq);
	if (n < 0 || (size_t)n >= sizeof(kvm->arch.extra_cmdline) - used) {
		/* Never leave half an entry for the kernel to misparse. */
		s[used] = '\0';
		pr_err("no room on the kernel command line for virtio-mmio at 0x%llx",
		       (unsigned long long)base);
		return -ENOSPC;
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-mmio slots on arm64: a fixed window of 512-byte slots, one
 * level-triggered SPI each.  Announcing a slot records it; the device
 * tree, built once all devices exist, gets a virtio,mmio node for each.
 */
#include <errno.h>

#include "lkvm/kvm.h"
#include "lkvm/log.h"

int arch__virtio_mmio_alloc(struct kvm *kvm, u64 *base, u64 *size,
			    unsigned int *irq)
{
	unsigned int n = kvm->arch.nr_virtio;

	if (n >= ARM_VIRTIO_MMIO_SLOTS)
		return -ENOSPC;
	kvm->arch.nr_virtio++;
	*base = ARM_VIRTIO_MMIO_BASE + n * ARM_VIRTIO_MMIO_SLOT;
	*size = ARM_VIRTIO_MMIO_SLOT;
	*irq = ARM_VIRTIO_MMIO_SPI + n;
	return 0;
}

int arch__virtio_mmio_announce(struct kvm *kvm, u64 base, u64 size,
			       unsigned int irq)
{
	struct arm_virtio_slot *s;

	if (kvm->arch.nr_virtio_announced >= ARM_VIRTIO_MMIO_SLOTS)
		return -ENOSPC;
	s = &kvm->arch.virtio[kvm->arch.nr_virtio_announced++];
	s->base = base;
	s->size = size;
	s->spi = irq;
	return 0;
}

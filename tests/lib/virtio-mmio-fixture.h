/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_TESTS_VIRTIO_MMIO_FIXTURE_H
#define LKVM_TESTS_VIRTIO_MMIO_FIXTURE_H

/* Helpers for the unit tests that drive a device on virtio-mmio. */
#include <string.h>

#include "lkvm/arch.h"
#include "lkvm/kvm.h"

/* Where the arch puts virtio-mmio slot @n (asked on a scratch VM). */
static inline u64 slot_base(unsigned int n)
{
	static struct kvm scratch;
	unsigned int irq;
	u64 base = 0, size;

	memset(&scratch, 0, sizeof(scratch));
	for (unsigned int i = 0; i <= n; i++)
		arch__virtio_mmio_alloc(&scratch, &base, &size, &irq);
	return base;
}

#endif

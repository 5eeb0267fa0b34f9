/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_VIRTIO_TRANSPORT_H
#define LKVM_VIRTIO_TRANSPORT_H

#include "lkvm/virtio.h"

/*
 * Creates a virtio device for @ops on transport @kind: allocates the
 * struct virtio_device, calls virtio_device_init() and makes the device
 * visible to the guest (PCI function, or MMIO slot announced to the
 * kernel).  Must run before the kernel is loaded (the x86 MMIO slots go on
 * the kernel command line).  Takes ownership of @priv: on failure it has
 * already been freed with ops->free; on success it is freed at VM exit,
 * with everything else, after the device's threads stopped.
 */
int virtio_transport__create(struct kvm *kvm, enum virtio_transport_kind kind,
			     const struct virtio_device_ops *ops, void *priv,
			     struct virtio_device **out);

/*
 * The two transports behind it.  @kind: VIRTIO_TRANSPORT_PCI
 * (transitional), _PCI_LEGACY or _PCI_MODERN.
 */
int virtio_pci__create(struct kvm *kvm, const struct virtio_device_ops *ops,
		       void *priv, enum virtio_transport_kind kind,
		       struct virtio_device **out);
int virtio_mmio__create(struct kvm *kvm, const struct virtio_device_ops *ops,
			void *priv, bool legacy, struct virtio_device **out);

#endif

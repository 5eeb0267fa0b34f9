// SPDX-License-Identifier: GPL-2.0
/* Picks the transport a virtio device is created on (--virtio-transport). */
#include <errno.h>

#include "lkvm/log.h"
#include "lkvm/virtio-transport.h"

int virtio_transport__create(struct kvm *kvm, enum virtio_transport_kind kind,
			     const struct virtio_device_ops *ops, void *priv,
			     struct virtio_device **out)
{
	switch (kind) {
	case VIRTIO_TRANSPORT_PCI:
	case VIRTIO_TRANSPORT_PCI_LEGACY:
	case VIRTIO_TRANSPORT_PCI_MODERN:
		return virtio_pci__create(kvm, ops, priv, kind, out);
	case VIRTIO_TRANSPORT_MMIO:
		return virtio_mmio__create(kvm, ops, priv, false, out);
	case VIRTIO_TRANSPORT_MMIO_LEGACY:
		return virtio_mmio__create(kvm, ops, priv, true, out);
	}
	pr_err("virtio-%s: unknown transport %d", ops->name, (int)kind);
	if (ops->free)
		ops->free(priv);
	return -EINVAL;
}

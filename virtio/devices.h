/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_VIRTIO_DEVICES_H
#define LKVM_VIRTIO_DEVICES_H

/*
 * The virtio devices lkvm offers, each created on transport @kind.  Used
 * by virtio/devices.c and by the unit tests, which drive the devices on a
 * fake struct kvm; @out (optional) gets the device.
 */
#include "lkvm/config.h"
#include "lkvm/virtio.h"

int virtio_blk__create(struct kvm *kvm, const struct lkvm_disk *disk,
		       unsigned int index, enum virtio_transport_kind kind,
		       struct virtio_device **out);
int virtio_console__create(struct kvm *kvm, enum virtio_transport_kind kind,
			   struct virtio_device **out);
int virtio_net__create(struct kvm *kvm, const struct lkvm_net *cfg,
		       unsigned int index, enum virtio_transport_kind kind,
		       struct virtio_device **out);
int virtio_rng__create(struct kvm *kvm, enum virtio_transport_kind kind,
		       struct virtio_device **out);

#endif

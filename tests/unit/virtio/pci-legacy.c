// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-pci legacy register block (virtio/pci-legacy.c, virtio 1.2
 * 4.1.4.10) as a pre-1.0 driver drives it, without /dev/kvm: status,
 * feature words, queue selection, the PFN and its ring layout.
 */
#include <errno.h>
#include <string.h>

#include <linux/virtio_pci.h>

#include "lkvm/hw.h"
#include "lkvm/irq.h"
#include "lkvm/kvm.h"
#include "lkvm/pci.h"
#include "lkvm/virtio-transport.h"
#include "tap.h"
#include "virtio-pci-fixture.h"

static void test_legacy(struct virtio_device *vdev)
{
	const struct vring_state *vq = &vdev->queues[1].ring;

	lwr(VIRTIO_PCI_STATUS, 0, 1);
	lwr(VIRTIO_PCI_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
	ok(vdev->legacy, "legacy BAR use marks a legacy driver");
	is_int(lrd(VIRTIO_PCI_HOST_FEATURES, 4),
	       (u32)vdev->host_features, "host features: low word");
	lwr(VIRTIO_PCI_QUEUE_SEL, 1, 2);
	is_int(lrd(VIRTIO_PCI_QUEUE_NUM, 2), 256, "queue 1 size");
	lwr(VIRTIO_PCI_QUEUE_PFN, 0x30, 4);
	ok(vdev->queues[1].enabled && vq->desc_gpa == 0x30000 &&
	   vq->avail_gpa == 0x30000 + 16 * 256 &&
	   vq->used_gpa == 0x32000, "PFN: legacy ring layout, 4 KiB aligned");
	is_int(lrd(VIRTIO_PCI_QUEUE_PFN, 4), 0x30, "PFN reads back");
	lwr(VIRTIO_PCI_QUEUE_SEL, 5, 2);
	is_int(lrd(VIRTIO_PCI_QUEUE_NUM, 2), 0, "nonexistent queue: size 0");
	lwr(VIRTIO_PCI_QUEUE_PFN, 0x40, 4);
	lwr(VIRTIO_PCI_QUEUE_NOTIFY, 42, 2);
	ok(true, "PFN write and notify on a nonexistent queue ignored");
	lwr(VIRTIO_PCI_QUEUE_SEL, 1, 2);
	lwr(VIRTIO_PCI_QUEUE_PFN, 0, 4);
	ok(!vdev->queues[1].enabled, "PFN 0 releases the queue");
	is_int(lrd(VIRTIO_PCI_HOST_FEATURES, 2), 0,
	       "wrong-width register read sees 0");
	lwr(VIRTIO_PCI_STATUS, 0, 1);
}

int main(void)
{
	struct virtio_device *vdev = NULL;

	tap_plan(12);
	fixture_setup(&t_ops, VIRTIO_TRANSPORT_PCI, &vdev,
		      "transitional virtio-pci device created");
	b0 = bar_addr(0);
	test_legacy(vdev);
	kvm__exit(&kvm);
	return tap_done();
}

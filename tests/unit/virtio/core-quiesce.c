// SPDX-License-Identifier: GPL-2.0
/*
 * Bus mastering going off on a multi-queue device (ops->thread_per_queue,
 * as virtio-blk num-queues=N): the device's quiesce completes requests in
 * flight and owes the driver an interrupt for them.  That interrupt must
 * leave before mastering is off, not wait until the driver turns it back
 * on (which it may never do before it waits for those very requests).
 * The device here is the fixture's, with a quiesce that completes one
 * buffer; the test drives virtio-pci as a modern driver with INTx.
 */
#include <endian.h>
#include <string.h>

#include <linux/virtio_pci.h>

#include "lkvm/hw.h"
#include "lkvm/kvm.h"
#include "lkvm/pci.h"
#include "lkvm/virtio-transport.h"
#include "tap.h"
#include "virtio-pci-fixture.h"

#define RING_DESC	0x10000
#define RING_AVAIL	0x11000
#define RING_USED	0x12000

static unsigned int quiesced;

/* What virtio-blk's quiesce does for a request it finishes. */
static void q_quiesce(struct virtio_device *vdev)
{
	struct virtio_queue *q = &vdev->queues[0];

	quiesced++;
	/* Head 0 of the ring as mapped now, as if popped before. */
	virtio_queue_complete(q, (struct vring_id){
		.head = 0, .map_gen = q->ring.map_gen }, 1);
}

int main(void)
{
	struct virtio_device_ops ops = t_ops;
	struct virtio_device *vdev = NULL;

	tap_plan(7);
	ops.thread_per_queue = true;
	ops.quiesce = q_quiesce;
	fixture_setup(&ops, VIRTIO_TRANSPORT_PCI, &vdev,
		      "multi-queue virtio-pci device created");

	bus_master(true);
	wr(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	wr(VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	   VIRTIO_CONFIG_S_DRIVER, 1);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	wr(VIRTIO_PCI_COMMON_GF, 1, 4);
	wr(VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	wr(VIRTIO_PCI_COMMON_Q_SIZE, 8, 2);
	wr(VIRTIO_PCI_COMMON_Q_DESCLO, RING_DESC, 4);
	wr(VIRTIO_PCI_COMMON_Q_AVAILLO, RING_AVAIL, 4);
	wr(VIRTIO_PCI_COMMON_Q_USEDLO, RING_USED, 4);
	wr(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	wr(VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
	is_int(rd(VIRTIO_PCI_COMMON_STATUS, 1), 0x0f, "DRIVER_OK");
	rd(0x1000, 1);	/* start with ISR clear */

	bus_master(false);
	is_int(quiesced, 1, "bus master off quiesced the device");
	is_int(le16toh(((struct vring_used *)(fixture_ram + RING_USED))->idx), 1,
	       "the finished request is on the used ring");
	/*
	 * Before, the queue's interrupt went to the device thread (the
	 * quiescing thread holds vdev->lock), which found mastering off
	 * and kept it until mastering came back.
	 */
	is_int(rd(0x1000, 1), 1 /* queue bit */,
	       "its interrupt was raised before mastering went off");

	bus_master(true);
	wr(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	kvm__exit(&kvm);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio core (virtio/core.c) with chains in flight: a reset that
 * forgets what the device held, bus mastering going off under a broken
 * device, `lkvm stat`'s counts from each thread, a queue stalled for
 * backend room, a reset that waits for handle_queue.  The fixture is
 * tests/lib/virtio-core-fixture.h.
 */
#include "virtio-core-fixture.h"

/*
 * A device holding chains (async I/O) when the driver resets: 2.4.1, after
 * a reset the device must not interact with the queues.
 */
static void case_reset_held(bool pq)
{
	struct t t;
	struct view v;
	u8 before[NQ][sizeof(struct vring_used) + 8 * QSIZE];
	struct vring_id held[NQ];
	unsigned int h[NQ], r0;

	diag("reset with chains in flight, %s", MODE(pq));
	t_new(&t, pq, VIRTIO_TRANSPORT_MMIO);
	atomic_store(&dev.mode, HOLD);
	drv_setup(&t, NQ);
	for (unsigned int i = 0; i < NQ; i++)
		ring_post(&t, i, false);
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK);
	ok(wait_until(dev.handled[0] && dev.handled[1]) && core_flush(&t),
	   "both queues handled");
	ok(dev.holding[0] && dev.holding[1], "the device holds a chain on each");
	for (unsigned int i = 0; i < NQ; i++) {
		held[i] = dev.held[i];
		memcpy(before[i], ring_used(t.ring[i]), sizeof(before[i]));
	}

	r0 = dev.resets;
	drv_status(&t, 0);
	v = core_view(&t);
	is_int(dev.resets, r0 + 1, "ops->reset called");
	ok(!dev.holding[0] && !dev.holding[1], "the device dropped its chains");
	ok(!v.mapped[0] && !v.mapped[1], "rings unmapped");
	/* The backend finishes them now: nothing may reach the old rings. */
	for (unsigned int i = 0; i < NQ; i++) {
		dev_complete(t.vdev, i, held[i], 1);
		h[i] = dev.handled[i];
		drv_notify(&t, i);
	}
	ok(core_flush(&t), "device threads flushed");
	ok(!memcmp(before[0], ring_used(t.ring[0]), sizeof(before[0])) &&
	   !memcmp(before[1], ring_used(t.ring[1]), sizeof(before[1])),
	   "late completions and notifies leave the old used rings alone");
	ok(!sig.queue[0] && !sig.queue[1] && dev.handled[0] == h[0] &&
	   dev.handled[1] == h[1], "no interrupt, no handle_queue");

	/* A new driver, rings elsewhere. */
	atomic_store(&dev.mode, CONSUME);
	for (unsigned int i = 0; i < NQ; i++) {
		t.ring[i] = RING_B(i);
		t.avail_idx[i] = 0;
	}
	drv_setup(&t, NQ);
	ring_post(&t, 0, false);
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK);
	ok(wait_until(ring_used_idx(t.ring[0]) == 1) && core_flush(&t),
	   "the new driver's request is served");
	ok(ring_used_idx(t.ring[0]) == 1 && ring_used_idx(t.ring[1]) == 0 &&
	   ring_used_idx(RING_A(0)) == 0 && ring_used_idx(RING_A(1)) == 0,
	   "the old chains went nowhere, old rings or new");
	core_free(&t);
}

/*
 * virtio.h, ops->quiesce: bus mastering going off finishes everything the
 * device has in flight "so nothing touches guest memory afterwards".  A
 * device the driver broke (NEEDS_RESET) can still hold requests (async
 * I/O popped before the bad chain): virtio-blk's completion writes the
 * status byte into the guest buffer whatever the core's state, so it
 * must be drained before DMA goes off here too.
 */
/*
 * A live device in @mode (HOLD or STALL), each queue of the mask @qs
 * holding the one chain posted on it.
 */
static bool dev_holding(struct t *t, bool pq, int mode, unsigned int qs)
{
	t_new(t, pq, VIRTIO_TRANSPORT_MMIO);
	atomic_store(&dev.mode, mode);
	drv_setup(t, NQ);
	for (unsigned int i = 0; i < NQ; i++)
		if (qs & (1U << i))
			ring_post(t, i, false);
	drv_status(t, S_ACK | S_DRV | S_FOK | S_DOK);
	return wait_until((!(qs & 1) || dev.holding[0]) &&
			  (!(qs & 2) || dev.holding[1])) && core_flush(t);
}

static void case_dma_broken_in_flight(bool pq)
{
	struct t t;

	diag("bus mastering off on a broken device with chains in flight, %s",
	     MODE(pq));
	ok(dev_holding(&t, pq, HOLD, 1U << 0),
	   "the device holds a chain (request in flight)");
	/* 2.1.1: clearing a bit without a reset breaks the device. */
	drv_status(&t, S_ACK | S_DRV | S_FOK);
	ok(core_view(&t).broken, "device broken, request still in flight");
	drv_bus_master(&t, false);
	is_int(dev.quiesces, 1,
	       "mastering off: the broken device's in-flight work is quiesced");
	core_free(&t);
}

/*
 * `lkvm stat`'s requests: a chain completed on the queue's own thread is
 * counted under its lock, one completed by a backend's thread without
 * it; the total has both.
 */
static void case_stats(bool pq)
{
	struct t t;
	struct vring_id held[NQ];

	diag("requests counted on and off the queue's thread, %s", MODE(pq));
	ok(dev_holding(&t, pq, HOLD, (1U << NQ) - 1),
	   "the device holds a chain on each queue");
	atomic_store(&dev.mode, CONSUME);
	for (unsigned int i = 0; i < NQ; i++) {
		held[i] = dev.held[i];
		dev_complete(t.vdev, i, held[i], 1);
	}
	for (int n = 0; n < 3; n++)
		ring_post(&t, 0, false);
	drv_notify(&t, 0);
	ok(wait_until(ring_used_idx(t.ring[0]) == 4 &&
		      ring_used_idx(t.ring[1]) == 1) && core_flush(&t),
	   "two chains completed by another thread, three by the queue's");
	ok(virtio_stat_requests(t.vdev) == 5 &&
	   atomic_load(&t.vdev->nr_requests) == 2 &&
	   atomic_load(&t.vdev->queues[0].nr_requests) == 3,
	   "lkvm stat counts all five, each where it was made");
	core_free(&t);
}

/* A backend's completion that reaches the device thread by an eventfd. */
static struct {
	struct virtio_device *vdev;
	struct vring_id id;
	int fd;
} late;

static void late_cb(void *opaque __unused, u32 events __unused)
{
	u64 cnt;

	if (read(late.fd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return;
	atomic_store(&dev.room, true);
	dev_complete(late.vdev, 1, late.id, 1);
}

/*
 * virtio.h, virtio_queue_stall(): a queue out of backend room runs again
 * after the next completion, here one made in a device watch on the
 * device thread (without queue threads it holds every queue's lock then,
 * and counts the completion without a fence).
 */
static void case_stall(bool pq)
{
	struct virtio_watch w;
	struct t t;

	diag("a stalled queue runs after a device-thread completion, %s",
	     MODE(pq));
	ok(dev_holding(&t, pq, STALL, 1U << 1),
	   "queue 1 holds a chain (a request in flight)");
	ring_post(&t, 0, false);
	drv_notify(&t, 0);
	ok(wait_until(dev.stalls >= 1) && core_flush(&t) &&
	   !ring_used_idx(t.ring[0]), "queue 0 stalls: no backend room");
	late.vdev = t.vdev;
	late.id = dev.held[1];
	late.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ok(late.fd >= 0 &&
	   !virtio_device_watch(t.vdev, &w, late.fd, EPOLLIN, late_cb, NULL) &&
	   write(late.fd, &(u64){ 1 }, sizeof(u64)) == sizeof(u64),
	   "the backend's completion is on its way");
	ok(wait_until(ring_used_idx(t.ring[1]) == 1 &&
		      ring_used_idx(t.ring[0]) == 1),
	   "it frees room, and the stalled queue runs again");
	core_free(&t);
	close(late.fd);
}

static void *reset_thread(void *opaque)
{
	struct t *t = opaque;

	atomic_store(&dev.reset_waiting, true);
	drv_status(t, 0);
	return NULL;
}

/*
 * A reset while handle_queue runs: virtio.h, "a reset ... waits for
 * in-flight work" (vdev->lock, and every queue lock per queue).
 */
static void case_reset_waits(bool pq)
{
	struct t t;
	pthread_t thr;
	unsigned int h0, r0;

	diag("reset during handle_queue, %s", MODE(pq));
	t_new(&t, pq, VIRTIO_TRANSPORT_MMIO);
	atomic_store(&dev.mode, GATE);
	drv_setup(&t, 1);
	ring_post(&t, 0, false);
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK);
	if (!ok(wait_until(atomic_load(&dev.gate_in)),
		"handle_queue holds a chain")) {
		atomic_store(&dev.reset_waiting, true);
		core_free(&t);
		return;
	}
	r0 = dev.resets;
	pthread_create(&thr, NULL, reset_thread, &t);
	pthread_join(thr, NULL);
	ok(atomic_load(&dev.gate_done), "handle_queue finished first");
	is_int(dev.resets_at_gate_exit, r0,
	       "the reset waited for handle_queue to return");
	is_int(dev.resets, r0 + 1, "then ops->reset ran");
	is_int(ring_used_idx(t.ring[0]), 1,
	       "the chain completed before the reset is used");
	ok(!core_view(&t).mapped[0], "rings unmapped");
	h0 = dev.handled[0];
	drv_notify(&t, 0);
	ok(core_flush(&t) && dev.handled[0] == h0,
	   "a notify after the reset runs nothing");
	core_free(&t);
}


int main(void)
{
	tap_plan(2 * 27);
	core_fixture_init();
	for (int pq = 0; pq <= 1; pq++) {
		case_dma_broken_in_flight(pq);
		case_reset_held(pq);
		case_stats(pq);
		case_stall(pq);
		case_reset_waits(pq);
	}
	core_fixture_exit();
	return tap_done();
}

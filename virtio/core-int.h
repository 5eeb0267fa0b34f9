/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_VIRTIO_CORE_INT_H
#define LKVM_VIRTIO_CORE_INT_H

/* Between the two halves of the core: core.c (life cycle) and queue.c. */
#include "lkvm/virtio.h"

static inline bool virtio_per_queue(const struct virtio_device *vdev)
{
	return vdev->ops->thread_per_queue;
}

/* The loop (thread) that serves @q. */
static inline struct evloop *virtio_queue_loop(struct virtio_queue *q)
{
	return virtio_per_queue(q->vdev) ? &q->loop : &q->vdev->loop;
}

/*
 * Which queue locks this thread holds on behalf of device code: one queue
 * (a queue thread), or every queue (vdev->lock on a device without
 * per-queue threads, or vdev->lock and every queue lock).  Completions
 * made under it go straight to the used ring.
 */
struct virtio_ctx {
	struct virtio_device *vdev;
	struct virtio_queue *q;
	bool all;
};

/*
 * vdev->lock held: take (release) every queue lock, in index order; a
 * no-op without queue threads, where vdev->lock is every queue's lock.
 */
void virtio_lock_queues(struct virtio_device *vdev);
/*
 * May the device touch guest memory: the driver's bus mastering is on
 * and lkvm has not paused the device.  Any lock that covers the status.
 */
static inline bool virtio_dma_allowed(const struct virtio_device *vdev)
{
	return vdev->dma_enabled && !vdev->paused;
}

void virtio_unlock_queues(struct virtio_device *vdev);

struct virtio_ctx virtio_ctx_enter(struct virtio_device *vdev,
				   struct virtio_queue *q, bool all);
void virtio_ctx_restore(struct virtio_ctx old);

/* Event-loop callbacks the core registers for each queue / device. */
void virtio_queue__on_kick(void *opaque, u32 events);
bool virtio_queue__poll(void *opaque);
bool virtio_queue__arm(void *opaque);
void virtio_queue__on_done(void *opaque, u32 events);
void virtio_device__on_irq(void *opaque, u32 events);

/*
 * With every lock held: publish completions held back (bus mastering was
 * off, or another thread made them), then interrupt for everything used,
 * including what queue threads left to the device thread.
 */
void virtio_queues__flush(struct virtio_device *vdev);
/* Reset: forget completions, interrupts owed and stalls of every queue. */
void virtio_queues__reset(struct virtio_device *vdev);
/* Queue thread, q->lock dropped: report what virtio_queue_pop() found. */
void virtio_queue__report_broken(struct virtio_queue *q);

#endif

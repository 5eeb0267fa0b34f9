/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_VIRTIO_H
#define LKVM_VIRTIO_H

/*
 * The virtio device model shared by every device and transport.
 *
 *   device (virtio/blk.c, ...)   --ops-->   core (virtio/core.c)
 *   transport (virtio/pci.c, virtio/mmio.c)  --calls-->  core
 *
 * Threads: register accesses arrive on vCPU threads; queue work runs on
 * the device's own event-loop thread, woken by one eventfd per queue (an
 * ioeventfd when the transport can register one, otherwise the transport
 * writes the eventfd itself).  vdev->lock serialises the two: the device
 * thread holds it while it processes a queue, so a reset or a bus-master
 * disable on a vCPU waits for in-flight work and then takes effect.
 *
 * A device may instead ask for one thread per queue (ops->thread_per_queue,
 * virtio-blk num-queues=N): queue i's kick then wakes its own loop
 * (q->loop), and handle_queue runs under q->lock instead of vdev->lock,
 * concurrently with the other queues.  Lock order: vdev->lock, then
 * queues[0].lock ... queues[n-1].lock.  Everything handle_queue reads of
 * the device (status, broken, dma_enabled, the ring layout) only changes
 * with vdev->lock AND every queue lock held (virtio_set_status,
 * virtio_set_dma_enabled), so a reset or a bus-master disable still waits
 * for in-flight work on every queue.  A queue thread never takes
 * vdev->lock while holding q->lock: it interrupts the driver only if
 * vdev->lock is free at once, otherwise the device thread does it
 * (irq_pending), and a broken ring is reported after q->lock is dropped.
 */
#include <pthread.h>
#include <stdatomic.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "lkvm/evloop.h"
#include "lkvm/types.h"
#include "lkvm/vring.h"

#define VIRTIO_MAX_QUEUES	8
#define VIRTIO_NO_VECTOR	0xffff

struct kvm;
struct virtio_device;

enum virtio_transport_kind {
	VIRTIO_TRANSPORT_PCI,		/* transitional: modern + legacy BAR */
	VIRTIO_TRANSPORT_PCI_LEGACY,	/* legacy-only (pre-1.0) PCI */
	VIRTIO_TRANSPORT_MMIO,		/* virtio-mmio version 2 */
	VIRTIO_TRANSPORT_MMIO_LEGACY,	/* virtio-mmio version 1 */
	VIRTIO_TRANSPORT_PCI_MODERN,	/* modern-only (1.0+) PCI, kvmtool's pci */
};

struct virtio_queue {
	struct vring_state ring;
	unsigned int index;
	bool enabled;			/* driver enabled it (or legacy PFN set) */
	u16 max_size;
	u16 msix_vector;		/* VIRTIO_NO_VECTOR if none */
	int kick_fd;			/* eventfd: guest -> device */
	struct evloop_watch kick_watch;
	struct virtio_device *vdev;

	/* ops->thread_per_queue only. */
	pthread_mutex_t lock;		/* held around handle_queue */
	struct evloop loop;		/* this queue's thread */
	pthread_t thread;
	bool thread_started;
	int broken_err;			/* pop failed; reported without q->lock */
};

/* What a device implements. */
struct virtio_device_ops {
	const char *name;		/* "blk", "console", "rng" */
	u32 device_id;			/* VIRTIO_ID_* */
	unsigned int nr_queues;
	u16 queue_max_size;
	u32 config_size;		/* bytes of device config space */
	/*
	 * One event-loop thread and lock per queue (see the top of this
	 * file); handle_queue for different queues may then run at once.
	 */
	bool thread_per_queue;
	/* Device feature bits; the core adds VERSION_1, INDIRECT, EVENT_IDX. */
	u64 features;
	/* Config space accesses, @offset + @len <= config_size. */
	void (*read_config)(struct virtio_device *vdev, u32 offset, void *data,
			    u32 len);
	void (*write_config)(struct virtio_device *vdev, u32 offset,
			     const void *data, u32 len);
	/* DRIVER_OK was set and every enabled queue is mapped. */
	int (*start)(struct virtio_device *vdev);
	/*
	 * Bus mastering is about to go off (vdev->lock and every queue lock
	 * held, DMA still allowed): finish every request the device has in
	 * flight so nothing touches guest memory afterwards.  Optional.
	 */
	void (*quiesce)(struct virtio_device *vdev);
	/* Device reset (status 0): forget per-driver state.  Optional. */
	void (*reset)(struct virtio_device *vdev);
	/*
	 * Buffers may be available on @q.  Runs on the device thread with
	 * vdev->lock held, only while DRIVER_OK is set, the device is not
	 * broken and bus mastering is on.  A device that consumes everything
	 * it is given follows the pattern that cannot lose a kick:
	 *
	 *	do {
	 *		vring_suppress_kicks(&q->ring);
	 *		while ((ret = virtio_queue_pop(vdev, q, elem)) > 0) {
	 *			... handle, virtio_queue_push(vdev, q, head, len);
	 *			if (virtio_queue_yield(vdev, q, &done))
	 *				return;
	 *		}
	 *		virtio_queue_notify(vdev, q);
	 *		if (ret < 0)
	 *			return;		(device already marked broken)
	 *	} while (vring_arm_kicks(&q->ring));
	 *
	 * A device that waits for host data (console rx) may leave buffers
	 * on the ring and must then call vring_arm_kicks() only once.
	 */
	void (*handle_queue)(struct virtio_device *vdev, struct virtio_queue *q);
	/* Frees device state at exit.  Optional. */
	void (*free)(struct virtio_device *vdev);
};

/* What a transport implements. */
struct virtio_transport_ops {
	/* Used-buffer interrupt for @q (MSI-X vector or INTx + ISR bit 0). */
	void (*signal_queue)(struct virtio_device *vdev, struct virtio_queue *q);
	/* Configuration-change interrupt (ISR bit 1 / config vector). */
	void (*signal_config)(struct virtio_device *vdev);
	/*
	 * VM exit, after the device thread has stopped and ops->free ran:
	 * frees the transport's state (and vdev itself if it allocated it).
	 * Transports must not register their own kvm__on_exit hook for this,
	 * or it would run before the device thread is stopped.  Optional.
	 */
	void (*free)(struct virtio_device *vdev);
};

struct virtio_device {
	struct kvm *kvm;
	const struct virtio_device_ops *ops;
	const struct virtio_transport_ops *tops;
	void *transport;		/* transport private state */
	void *priv;			/* device private state */
	enum virtio_transport_kind transport_kind;

	pthread_mutex_t lock;
	u8 status;
	u64 host_features;		/* offered */
	u64 guest_features;		/* accepted by the driver */
	bool legacy;			/* driver uses the legacy interface */
	bool dma_enabled;		/* PCI bus master (always true for MMIO) */
	bool broken;			/* NEEDS_RESET raised, queues stopped */
	u8 isr;				/* ISR status bits (INTx / MMIO) */
	u8 config_generation;
	u16 config_msix_vector;

	struct virtio_queue queues[VIRTIO_MAX_QUEUES];
	unsigned int nr_queues;

	struct evloop loop;		/* the device thread */
	pthread_t thread;
	bool thread_started;
	/* thread_per_queue: queue interrupts left to the device thread. */
	int irq_fd;
	struct evloop_watch irq_watch;
	atomic_uint irq_pending;	/* bit i: signal queue i */

	/* Statistics, for tests and benchmarks. */
	atomic_ulong nr_kicks;
	atomic_ulong nr_interrupts;
};

/*
 * Sets up @vdev for @ops (queues, eventfds, feature bits) and starts its
 * event-loop thread.  The transport registers the device with the guest
 * after this.  Freed automatically at VM exit.
 */
int virtio_device_init(struct virtio_device *vdev, struct kvm *kvm,
		       const struct virtio_device_ops *ops,
		       const struct virtio_transport_ops *tops,
		       enum virtio_transport_kind kind, void *transport,
		       void *priv);

/* Called by transports with vdev->lock held. */
void virtio_set_status(struct virtio_device *vdev, u8 status);
/* Accepts a (partial) feature word from the driver; ignored after FEATURES_OK. */
void virtio_set_guest_features(struct virtio_device *vdev, unsigned int word,
			       u32 value);
u32 virtio_get_host_features(struct virtio_device *vdev, unsigned int word);
/* Queue configuration is ignored once DRIVER_OK is set (cf. CVE-2026-5747). */
bool virtio_queue_config_allowed(struct virtio_device *vdev);
/* Bus master enable/disable; a disable waits for in-flight work. */
void virtio_set_dma_enabled(struct virtio_device *vdev, bool enabled);
/*
 * The loop and lock that serve @q: its own with ops->thread_per_queue,
 * otherwise the device's.  A device watching its own fds for a queue
 * (completions) adds them to this loop and takes this lock.
 */
struct evloop *virtio_queue_loop(struct virtio_device *vdev,
				 struct virtio_queue *q);
void virtio_queue_lock(struct virtio_device *vdev, struct virtio_queue *q);
void virtio_queue_unlock(struct virtio_device *vdev, struct virtio_queue *q);
/* Guest notify without an ioeventfd: forwards to the device thread. */
void virtio_queue_kick(struct virtio_device *vdev, unsigned int index);

/*
 * The driver broke the rules: set NEEDS_RESET, stop every queue, raise a
 * config interrupt.  lkvm itself carries on.  Called with vdev->lock held
 * (and, with thread_per_queue, every queue lock: queue threads go through
 * virtio_queue_pop(), which defers it).
 */
void virtio_device_broken(struct virtio_device *vdev, const char *why, int err);

/* For devices, on the queue's thread (virtio_queue_lock() held). */
int virtio_queue_pop(struct virtio_device *vdev, struct virtio_queue *q,
		     struct vring_chain *elem);
void virtio_queue_push(struct virtio_device *vdev, struct virtio_queue *q,
		       u16 head, u32 len);
/* Interrupts the driver if it asked for it (EVENT_IDX/NO_INTERRUPT). */
void virtio_queue_notify(struct virtio_device *vdev, struct virtio_queue *q);
/*
 * The per-wakeup work bound: call once per chain handled.  After a
 * queue's worth of chains it notifies, re-queues the queue on the device
 * thread and returns true: the handler must then return at once, which
 * drops vdev->lock so vCPUs and the device's other queues get a turn even
 * while a guest keeps the ring full.
 */
bool virtio_queue_yield(struct virtio_device *vdev, struct virtio_queue *q,
			unsigned int *done);

/* The device's config space, as transports present it. */
void virtio_read_config(struct virtio_device *vdev, u32 offset, void *data,
			u32 len);
void virtio_write_config(struct virtio_device *vdev, u32 offset,
			 const void *data, u32 len);

/* Creates the devices asked for on the command line (virtio/devices.c). */
int virtio__init_devices(struct kvm *kvm);

#endif

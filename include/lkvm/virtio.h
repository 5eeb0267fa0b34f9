/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_VIRTIO_H
#define LKVM_VIRTIO_H

/*
 * The virtio device model shared by every device and transport.
 *
 *   device (virtio/blk.c, ...)  --ops-->  core (core.c: status, features,
 *                                          life cycle; queue.c: the queue
 *                                          service devices call)
 *   transport (virtio/pci*.c, virtio/mmio.c)  --calls-->  core
 *   core  --vring_*-->  the pure split-ring layer (vring.c)
 *
 * Names say the direction: the driver KICKS a queue (guest -> device; the
 * device arms or suppresses kicks), the device INTERRUPTS the driver
 * (device -> guest), and the core WAKES a device thread (host-internal).
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
 * queues[0].lock ... queues[n-1].lock, then the leaves (q->done_lock,
 * whatever a backend takes inside).  Everything a queue's work reads of
 * the device (status, broken, dma_enabled, the ring layout) only changes
 * with vdev->lock AND every queue lock held (virtio_set_status,
 * virtio_set_dma_enabled), so a reset or a bus-master disable still waits
 * for in-flight work on every queue.  A queue thread never takes
 * vdev->lock while holding q->lock: it interrupts the driver only if
 * vdev->lock is free at once, otherwise the device thread does it
 * (irq_pending), and a broken ring is reported after q->lock is dropped.
 *
 * Devices never look at that state themselves: they run inside the core's
 * callbacks (handle_queue, start, reset, quiesce, virtio_device_watch())
 * and use the queue service below, which owns the kick-suppression loop,
 * the per-wake-up budget, completion from other threads, interrupts owed
 * and the lock order.
 */
#include <pthread.h>
#include <stdatomic.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "lkvm/evloop.h"
#include "lkvm/seccomp.h"
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

/* A completion handed over by another thread, waiting for the queue's. */
struct virtio_done {
	struct vring_id id;
	u32 len;
};

struct virtio_queue {
	struct vring_state ring;
	unsigned int index;
	bool enabled;			/* driver enabled it (or legacy PFN set) */
	u16 max_size;
	u16 msix_vector;		/* VIRTIO_NO_VECTOR if none */
	int kick_fd;			/* eventfd: driver kicks and wake-ups */
	struct evloop_watch kick_watch;
	struct virtio_device *vdev;

	/* Queue service state, under the queue's lock (see the top). */
	bool irq_owed;			/* used entries since the last check */
	bool kicks_armed;		/* driver kicks asked for (not suppressed) */
	/*
	 * Set once, before the threads: the queue's loop polls, so a queue
	 * going idle leaves kicks off and its loop arms them before it
	 * sleeps (virtio_queue__arm).
	 */
	bool polled;
	struct evloop_poller poller;
	unsigned int served;		/* chains popped in this wake-up */
	unsigned long entry_completions; /* virtio_completions() at entry */
	/*
	 * `lkvm stat` counts made by a holder of the queue's lock: written
	 * only under it, so a load and a store, no locked instruction (see
	 * virtio_queue_complete()); read by anyone.
	 */
	atomic_ulong nr_requests;
	atomic_ulong nr_bytes;
	int broken_err;			/* broken; reported without q->lock */
	const char *broken_why;

	/*
	 * Completions from threads that do not hold the queue's lock, and
	 * those made while bus mastering was off; pushed by the queue's own
	 * thread (done_fd).  done_lock is a leaf.
	 */
	pthread_mutex_t done_lock;
	struct virtio_done *done;
	unsigned int nr_done, done_cap;
	/*
	 * nr_done != 0, readable without done_lock: most runs have nothing
	 * filed, and need not take the lock to learn it.
	 */
	atomic_bool done_filed;
	int done_fd;
	struct evloop_watch done_watch;
	atomic_bool resume;		/* stalled, and a completion came */

	/* ops->thread_per_queue only. */
	pthread_mutex_t lock;		/* held around the queue's work */
	struct evloop loop;		/* this queue's thread */
	pthread_t thread;
	bool thread_started;
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
	/*
	 * Busy-poll window of the device's threads, in microseconds
	 * (evloop_set_poll): for devices whose drivers keep doorbells
	 * coming while busy; 0 sleeps at once.
	 */
	unsigned int poll_us;
	/*
	 * The device thread's seccomp list; SECCOMP_THREAD_NONE (0) means
	 * SECCOMP_THREAD_VIRTIO, the common one.
	 */
	enum seccomp_thread seccomp;
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
	 * Bus mastering is about to go off (every lock held, DMA still
	 * allowed): finish every request the device has in flight, through
	 * virtio_queue_complete(), so nothing touches guest memory
	 * afterwards.  Optional.
	 */
	void (*quiesce)(struct virtio_device *vdev);
	/*
	 * Device reset (status 0, every lock held, rings already unmapped):
	 * forget per-driver state and finish or cancel what is in flight
	 * before returning; completions from now on are dropped.  Optional.
	 */
	void (*reset)(struct virtio_device *vdev);
	/*
	 * @q may have buffers (a kick, a wake-up, DRIVER_OK, bus mastering
	 * back on, or a completion after virtio_queue_stall()).  Runs on the
	 * queue's thread with its lock held, only while
	 * virtio_queue_runnable().  Take chains with virtio_queue_pop() until
	 * it returns 0 (then kicks are armed, or the budget is spent and the
	 * core calls again) or stop early for want of host data or room.
	 */
	void (*handle_queue)(struct virtio_device *vdev, struct virtio_queue *q);
	/*
	 * Frees the private data given to virtio_device_init(), exactly once:
	 * at VM exit after every thread stopped, or when creation fails.
	 */
	void (*free)(void *priv);
};

/* What a transport implements. */
struct virtio_transport_ops {
	/* Used-buffer interrupt for @q (MSI-X vector or INTx + ISR bit 0). */
	void (*interrupt_queue)(struct virtio_device *vdev,
				struct virtio_queue *q);
	/* Configuration-change interrupt (ISR bit 1 / config vector). */
	void (*interrupt_config)(struct virtio_device *vdev);
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

	pthread_mutex_t lock;
	u8 status;
	u64 host_features;		/* offered */
	u64 guest_features;		/* accepted by the driver */
	bool legacy_only;		/* the transport offers no modern interface */
	bool legacy;			/* driver uses the legacy interface */
	bool dma_enabled;		/* PCI bus master (always true for MMIO) */
	bool paused;			/* lkvm pause: like DMA off, lkvm's own */
	bool broken;			/* NEEDS_RESET raised, queues stopped */
	u8 isr;				/* ISR status bits (INTx / MMIO) */
	u8 config_generation;
	u16 config_msix_vector;

	struct virtio_queue queues[VIRTIO_MAX_QUEUES];
	unsigned int nr_queues;

	struct evloop loop;		/* the device thread */
	pthread_t thread;
	bool thread_started;
	bool loop_ready;		/* vdev->loop initialised */
	unsigned int nr_loops;		/* per-queue loops initialised */
	/* thread_per_queue: queue interrupts left to the device thread. */
	int irq_fd;
	struct evloop_watch irq_watch;
	atomic_uint irq_pending;	/* bit i: interrupt for queue i */
	/* thread_per_queue: broken from a device watch, until it returns. */
	int watch_broken_err;
	const char *watch_broken_why;

	/*
	 * virtio_queue_stall(): queues waiting for any completion.
	 * Completions are counted in two: completions_locked by a thread
	 * holding every queue's lock, written only under them;
	 * completions by anyone else (see virtio_release_stalled()).
	 */
	atomic_uint stalled;
	atomic_ulong completions;
	atomic_ulong completions_locked;

	/*
	 * Statistics, for `lkvm stat`, tests and benchmarks.  Requests and
	 * bytes: these, plus each queue's own (virtio_stat_requests()).
	 */
	atomic_ulong nr_kicks;
	atomic_ulong nr_interrupts;
	atomic_ulong nr_requests;	/* chains completed */
	atomic_ulong nr_bytes;		/* payload moved, counted by the device */
	atomic_ulong nr_errors;		/* requests that failed, by the device */
	atomic_ulong nr_needs_reset;	/* times NEEDS_RESET was raised */
};

/*
 * --- For transports -------------------------------------------------------
 *
 * Sets up @vdev for @ops (queues, eventfds, feature bits) and starts its
 * threads.  Takes ownership of @priv: on failure it has been freed with
 * ops->free and nothing of @vdev is left (the transport frees its own
 * state); on success the device is torn down at VM exit (device threads
 * stopped, ops->free, then tops->free).  @legacy_only: the transport has
 * no modern interface (no VERSION_1 offered, the driver is legacy).
 */
/* `lkvm stat` counters a device keeps itself; any thread. */
static inline void virtio_stat_bytes(struct virtio_device *vdev, u64 n)
{
	atomic_fetch_add_explicit(&vdev->nr_bytes, n, memory_order_relaxed);
}

/*
 * The same, for a request of @q: without a locked instruction when this
 * thread holds the queue's lock.  Any thread.
 */
void virtio_queue_stat_bytes(struct virtio_queue *q, u64 n);
/* Chains completed and bytes moved, over the device and its queues. */
unsigned long virtio_stat_requests(struct virtio_device *vdev);
unsigned long virtio_stat_bytes_moved(struct virtio_device *vdev);

static inline void virtio_stat_error(struct virtio_device *vdev)
{
	atomic_fetch_add_explicit(&vdev->nr_errors, 1, memory_order_relaxed);
}

int virtio_device_init(struct virtio_device *vdev, struct kvm *kvm,
		       const struct virtio_device_ops *ops,
		       const struct virtio_transport_ops *tops, void *transport,
		       void *priv, bool legacy_only);

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
 * `lkvm pause`, from the main thread with no device lock held: finish
 * what is in flight, publish and interrupt for it, then take no chain
 * and touch no guest memory until virtio_device_resume().
 */
void virtio_device_pause(struct virtio_device *vdev);
void virtio_device_resume(struct virtio_device *vdev);
/* The driver kicked queue @index and no ioeventfd caught it. */
void virtio_queue_kicked(struct virtio_device *vdev, unsigned int index);

/* The device's config space, as transports present it. */
void virtio_read_config(struct virtio_device *vdev, u32 offset, void *data,
			u32 len);
void virtio_write_config(struct virtio_device *vdev, u32 offset,
			 const void *data, u32 len);

/*
 * --- The queue service, for devices (virtio/queue.c) ----------------------
 *
 * Unless said otherwise: on the queue's thread, inside a core callback or
 * a virtio_device_watch() callback (the queue's lock held).
 */

/* The driver is running (DRIVER_OK), not broken, DMA allowed, @q live. */
bool virtio_queue_runnable(const struct virtio_queue *q);

/*
 * Takes the next chain the driver made available.  Returns 1 with @chain
 * filled; 0 when there is nothing to do now: the ring is empty and driver
 * kicks are armed again (after a re-check, so a buffer added meanwhile is
 * returned instead), or this wake-up's budget is spent and the core calls
 * handle_queue again, or the queue is not runnable; a negative errno when
 * the driver broke the rules (the device is marked broken).  Kicks are
 * suppressed while a device is popping.
 */
int virtio_queue_pop(struct virtio_queue *q, struct vring_chain *chain);

/*
 * Before setting up for a virtio_queue_pop(): false if it would find the
 * ring empty, and then the queue has gone idle as that pop would have left
 * it (kicks armed, interrupt sent); true if a pop should be tried, which
 * may still return 0 or an error.  Saves a device the set-up (backend room,
 * a request) of the pop that ends each run.
 */
bool virtio_queue_more(struct virtio_queue *q);

/*
 * Gives the chain @id (a popped chain's ->id) back to the driver with @len
 * bytes written.  Any thread:
 * on the queue's thread it goes to the used ring at once, from elsewhere
 * the queue's thread publishes it (everything the caller wrote into the
 * buffers first is visible to the driver before it).  The interrupt is
 * sent when the current callback returns.  Dropped if the ring it came
 * from is gone (reset, NEEDS_RESET); held while bus mastering is off.
 */
void virtio_queue_complete(struct virtio_queue *q, struct vring_id id,
			   u32 len);

/*
 * Does this thread hold @q's lock (inside a core callback for @q, or with
 * every lock held)?  A device's own per-queue state written only under
 * it needs no atomic read-modify-write.  Any thread.
 */
bool virtio_queue_held(const struct virtio_queue *q);

/*
 * Adds @n to a counter only ever written under one lock the writer
 * holds: a load and a store.  A locked instruction here would wait for
 * the stores before it to drain, and on the request path those are the
 * status byte and the used ring, cache lines the driver's CPU holds
 * (taking these and the request pool's lock off virtio-blk's request
 * path gave about 6% more IOPS at depth 16).  Atomic only so that
 * readers without the lock (`lkvm stat`) see whole values.
 */
static inline void virtio_count(atomic_ulong *c, unsigned long n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/*
 * The device stopped taking chains for want of backend room that only a
 * completion frees: handle_queue runs again after the next completion on
 * this device (or at once if one came since this callback began).
 */
void virtio_queue_stall(struct virtio_queue *q);

/*
 * Right after virtio_queue_pop() found the ring empty (and armed kicks):
 * the device will look at the ring again on its own shortly (a timer)
 * and would rather take a batch than a kick per buffer, so the driver is
 * asked to kick only after @n more buffers (EVENT_IDX) or not at all.
 * Returns false, changing nothing, if kicks were not armed (the pop
 * stopped for its budget, and the core runs the queue again anyway).
 * The device's next look pops as usual, which arms kicks again if the
 * ring is still empty: nothing waits on the timer alone after that.
 */
bool virtio_queue_kick_after(struct virtio_queue *q, unsigned int n);

/* Runs handle_queue for @q again soon, on its thread.  Any thread. */
void virtio_queue_wake(struct virtio_queue *q);

/*
 * Watches a host fd of the device (stdin, a backend's eventfd) on the
 * device thread.  @cb runs inside the core: vdev->lock held, queues usable
 * (with thread_per_queue only completions, which go to the queues'
 * threads); interrupts owed are sent when it returns.  @w must live as
 * long as the watch.
 */
struct virtio_watch {
	struct evloop_watch ew;
	struct virtio_device *vdev;
	struct virtio_queue *q;		/* virtio_queue_watch() */
	evloop_cb_t cb;
	void *opaque;
};
int virtio_device_watch(struct virtio_device *vdev, struct virtio_watch *w,
			int fd, u32 events, evloop_cb_t cb, void *opaque);
/*
 * The same on @q's thread, for a backend only @q uses (a disk lane): @cb
 * runs as handle_queue does, with the queue's lock and whatever else its
 * queue service allows there.
 */
int virtio_queue_watch(struct virtio_queue *q, struct virtio_watch *w, int fd,
		       u32 events, evloop_cb_t cb, void *opaque);
int virtio_device_watch_mod(struct virtio_watch *w, u32 events);
int virtio_device_unwatch(struct virtio_watch *w);
/*
 * For a callback the device does not get through virtio_device_watch()
 * but that runs on the device thread with vdev->lock held (a net backend's
 * own watches): bracket the queue work with these.
 */
void virtio_device_enter(struct virtio_device *vdev);
void virtio_device_leave(struct virtio_device *vdev);

/* The driver accepted feature @bit. */
static inline bool virtio_has_feature(const struct virtio_device *vdev,
				      unsigned int bit)
{
	return vdev->guest_features & (1ULL << bit);
}

/*
 * The driver broke the rules: set NEEDS_RESET, stop every queue, raise a
 * config interrupt.  lkvm itself carries on.  Inside a core callback (on
 * a queue thread it takes effect once the callback returns).
 */
void virtio_device_broken(struct virtio_device *vdev, const char *why, int err);

/*
 * The device changed its config space (vdev->lock held, the change made
 * under it): bumps config_generation, so a modern driver reading a
 * multi-field config sees the change and reads again, and raises the
 * configuration-change interrupt once the driver is running (before
 * DRIVER_OK the driver reads the config anyway; a broken device already
 * raised one).  Any thread: the transports keep their interrupt state
 * under vdev->lock, and MSI-X holds the message back while bus mastering
 * is off (pending bit).
 */
void virtio_config_changed(struct virtio_device *vdev);

/* Creates the devices asked for on the command line (virtio/devices.c). */
int virtio__init_devices(struct kvm *kvm);

#endif

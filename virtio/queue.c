// SPDX-License-Identifier: GPL-2.0
/*
 * The queue service: how devices take chains, give them back and get the
 * driver interrupted, and the core's event-loop callbacks behind it.  The
 * parts of a virtio device that are easy to get wrong live here once:
 * re-arming driver kicks and re-checking the ring before going idle, the
 * per-wake-up budget, completions from threads that do not own the queue,
 * resuming a queue that waited for backend room, and who may interrupt
 * the driver under which lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lkvm/barrier.h"
#include "lkvm/log.h"
#include "core-int.h"

static __thread struct virtio_ctx ctx;

struct virtio_ctx virtio_ctx_enter(struct virtio_device *vdev,
				   struct virtio_queue *q, bool all)
{
	struct virtio_ctx old = ctx;

	ctx = (struct virtio_ctx){ .vdev = vdev, .q = q, .all = all };
	return old;
}

void virtio_ctx_restore(struct virtio_ctx old)
{
	ctx = old;
}

/* Every queue lock of @vdev is this thread's (a context with all set). */
static bool virtio_ctx_holds_all(const struct virtio_device *vdev)
{
	return ctx.vdev == vdev && ctx.all;
}

bool virtio_queue_held(const struct virtio_queue *q)
{
	return virtio_ctx_holds_all(q->vdev) ||
	       (ctx.vdev == q->vdev && ctx.q == q);
}

void virtio_queue_stat_bytes(struct virtio_queue *q, u64 n)
{
	if (virtio_queue_held(q))
		virtio_count(&q->nr_bytes, n);
	else
		virtio_stat_bytes(q->vdev, n);
}

/* The device's count and its queues' (@bytes: bytes, else requests). */
static unsigned long virtio_stat_sum(struct virtio_device *vdev, bool bytes)
{
	unsigned long n = atomic_load_explicit(bytes ? &vdev->nr_bytes :
						       &vdev->nr_requests,
					       memory_order_relaxed);

	for (unsigned int i = 0; i < vdev->nr_queues; i++) {
		struct virtio_queue *q = &vdev->queues[i];

		n += atomic_load_explicit(bytes ? &q->nr_bytes : &q->nr_requests,
					  memory_order_relaxed);
	}
	return n;
}

unsigned long virtio_stat_requests(struct virtio_device *vdev)
{
	return virtio_stat_sum(vdev, false);
}

unsigned long virtio_stat_bytes_moved(struct virtio_device *vdev)
{
	return virtio_stat_sum(vdev, true);
}

/*
 * Completions so far; compared by the queue that stalls (its lock held).
 * Acquire, pairing with virtio_release_stalled()'s release: what was
 * counted before a completion seen here (virtio-blk's retired[]) is not
 * read older afterwards (message passing).  The locked count came with
 * the locks.
 */
static unsigned long virtio_completions(struct virtio_device *vdev)
{
	return atomic_load_explicit(&vdev->completions, memory_order_acquire) +
	       atomic_load_explicit(&vdev->completions_locked,
				    memory_order_relaxed);
}

static void virtio_queue_lock(struct virtio_queue *q)
{
	struct virtio_device *vdev = q->vdev;

	pthread_mutex_lock(virtio_per_queue(vdev) ? &q->lock : &vdev->lock);
}

static void virtio_queue_unlock(struct virtio_queue *q)
{
	struct virtio_device *vdev = q->vdev;

	pthread_mutex_unlock(virtio_per_queue(vdev) ? &q->lock : &vdev->lock);
}

static void virtio_eventfd_signal(struct virtio_device *vdev, int fd,
				  const char *what)
{
	/* EAGAIN only if the counter saturated: a wake-up is pending. */
	if (write(fd, &(u64){ 1 }, sizeof(u64)) < 0)
		pr_debug("virtio-%s: %s: %s", vdev->ops->name, what,
			 strerror(errno));
}

bool virtio_queue_runnable(const struct virtio_queue *q)
{
	const struct virtio_device *vdev = q->vdev;

	return (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) && !vdev->broken &&
	       virtio_dma_allowed(vdev) && q->enabled && vring_mapped(&q->ring);
}

void virtio_queue_wake(struct virtio_queue *q)
{
	virtio_eventfd_signal(q->vdev, q->kick_fd, "wake");
}

void virtio_queue_kicked(struct virtio_device *vdev, unsigned int index)
{
	if (index < vdev->nr_queues)
		virtio_queue_wake(&vdev->queues[index]);
}

/*
 * The queue's lock held: interrupt the driver for the entries used since
 * the last time, if it asked for one (EVENT_IDX / NO_INTERRUPT).
 */
static void virtio_queue_interrupt(struct virtio_queue *q)
{
	struct virtio_device *vdev = q->vdev;

	if (!q->irq_owed)
		return;
	q->irq_owed = false;
	if (!vring_mapped(&q->ring) || !vring_need_interrupt(&q->ring))
		return;
	q->ring.nr_interrupts++;
	atomic_fetch_add_explicit(&vdev->nr_interrupts, 1,
				  memory_order_relaxed);
	/* Transports keep interrupt state under vdev->lock. */
	if (!virtio_per_queue(vdev) || virtio_ctx_holds_all(vdev)) {
		vdev->tops->interrupt_queue(vdev, q);
		return;
	}
	/*
	 * A queue thread may not wait for vdev->lock while it holds q->lock
	 * (lock order).  If it is free, interrupt now; otherwise hand it to
	 * the device thread.
	 */
	if (!pthread_mutex_trylock(&vdev->lock)) {
		vdev->tops->interrupt_queue(vdev, q);
		pthread_mutex_unlock(&vdev->lock);
		return;
	}
	/*
	 * Release pairs with the acquire atomic_exchange in
	 * virtio_signal_pending(): the used entries published above are
	 * known to the device thread that takes the bit, even before this
	 * irq_fd write reaches it.  Proved needed: tests/models/irqfd.pml,
	 * mutant NO_RELEASE.
	 */
	atomic_fetch_or_explicit(&vdev->irq_pending, 1U << q->index,
				 memory_order_release);
	virtio_eventfd_signal(vdev, vdev->irq_fd, "irq");
}

/* vdev->lock held, DMA allowed: interrupts queue threads left to us. */
static void virtio_signal_pending(struct virtio_device *vdev)
{
	/*
	 * Acquire pairs with the release atomic_fetch_or in
	 * virtio_queue_interrupt(): a bit taken ahead of its irq_fd write
	 * still brings the used entries it covers, which the interrupt
	 * raised below hands on to the guest.  Proved needed:
	 * tests/models/irqfd.pml, mutant NO_ACQUIRE.
	 */
	unsigned int pending = atomic_exchange_explicit(&vdev->irq_pending, 0,
							memory_order_acquire);

	for (unsigned int i = 0; i < vdev->nr_queues; i++)
		if ((pending & (1U << i)) &&
		    virtio_queue_runnable(&vdev->queues[i]))
			vdev->tops->interrupt_queue(vdev, &vdev->queues[i]);
}

/* Device thread (thread_per_queue): interrupts queue threads left us. */
void virtio_device__on_irq(void *opaque, u32 events __unused)
{
	struct virtio_device *vdev = opaque;
	u64 cnt;

	if (read(vdev->irq_fd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return;
	pthread_mutex_lock(&vdev->lock);
	/*
	 * An MSI is a DMA write too: with bus mastering off, leave the
	 * bits for virtio_set_dma_enabled() to re-post when it comes back.
	 */
	if (virtio_dma_allowed(vdev))
		virtio_signal_pending(vdev);
	pthread_mutex_unlock(&vdev->lock);
}

static void virtio_mark_broken(struct virtio_device *vdev, const char *why,
			       int err)
{
	unsigned long n;

	if (vdev->broken)
		return;
	vdev->broken = true;
	vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	n = atomic_fetch_add_explicit(&vdev->nr_needs_reset, 1,
				      memory_order_relaxed) + 1;
	/* A driver may break it in a loop: warn the 1st, 2nd, 4th... time. */
	if (!(n & (n - 1)))
		pr_warn("virtio-%s: %s (%s): device needs reset%s", vdev->ops->name,
			why, strerror(-err),
			n > 1 ? " (again; lkvm stat counts them)" : "");
	if (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)
		vdev->tops->interrupt_config(vdev);
}

void virtio_device_broken(struct virtio_device *vdev, const char *why, int err)
{
	/*
	 * Marking the device broken changes what every queue sees, so it
	 * needs every lock.  A queue thread holds only its own:
	 * virtio_queue_run() reports it once that lock is dropped.
	 */
	if (virtio_per_queue(vdev) && ctx.vdev == vdev && !ctx.all) {
		if (!ctx.q) {
			/*
			 * A device watch, vdev->lock held.  Taking the queue
			 * locks here could invert a queue thread's order if
			 * the callback holds a backend's lock (a completion
			 * inside disk_poll()): virtio_device_leave() does it.
			 */
			if (!vdev->watch_broken_err) {
				vdev->watch_broken_why = why;
				vdev->watch_broken_err = err;
			}
		} else if (!ctx.q->broken_err) {
			ctx.q->broken_why = why;
			ctx.q->broken_err = err;
		}
		return;
	}
	virtio_mark_broken(vdev, why, err);
}

void virtio_queue__report_broken(struct virtio_queue *q)
{
	struct virtio_device *vdev = q->vdev;

	pthread_mutex_lock(&vdev->lock);
	virtio_lock_queues(vdev);
	/* A reset in between cleared broken_err: the new driver is fine. */
	if (q->broken_err)
		virtio_mark_broken(vdev, q->broken_why, q->broken_err);
	virtio_unlock_queues(vdev);
	pthread_mutex_unlock(&vdev->lock);
}

/*
 * The ring was found empty: interrupt for what was used, ask for kicks
 * again, then look once more.  True if a buffer came meanwhile.
 */
static bool virtio_queue_idle(struct virtio_queue *q)
{
	virtio_queue_interrupt(q);
	/*
	 * A polled queue on its own loop's thread: the loop keeps looking
	 * at the ring for its window, kicks left off, and
	 * virtio_queue__arm() asks for them before it sleeps.
	 */
	if (q->polled && evloop_current() == virtio_queue_loop(q))
		return false;
	/*
	 * vring_arm_kicks() has the full barrier that pairs with the
	 * driver's in virtqueue_kick_prepare(): a buffer the driver added
	 * before it saw kicks armed is found here, one added after gets a
	 * kick.  Either way none is left on the ring unseen.
	 */
	if (!vring_arm_kicks(&q->ring)) {
		q->kicks_armed = true;
		return false;
	}
	vring_suppress_kicks(&q->ring);
	return true;
}

bool virtio_queue_more(struct virtio_queue *q)
{
	/* Broken, stopped or over budget: virtio_queue_pop() says so. */
	if (q->broken_err || !virtio_queue_runnable(q) ||
	    q->served >= q->ring.size)
		return true;
	/* A hint; vring_pop() reads the ring with its own barriers. */
	if (vring_has_work(&q->ring))
		return true;
	return virtio_queue_idle(q);
}

int virtio_queue_pop(struct virtio_queue *q, struct vring_chain *chain)
{
	int ret;

	if (q->broken_err)
		return q->broken_err;
	if (!virtio_queue_runnable(q))
		return 0;
	if (q->served >= q->ring.size) {
		/*
		 * A queue's worth per wake-up, then the lock is dropped so
		 * vCPUs and the device's other queues get a turn even while a
		 * guest keeps the ring full.  It also keeps the used index
		 * from running 2^16 entries past the last interrupt check,
		 * which EVENT_IDX arithmetic cannot represent.
		 */
		virtio_queue_interrupt(q);
		virtio_queue_wake(q);
		return 0;
	}
	if (q->kicks_armed) {
		vring_suppress_kicks(&q->ring);
		q->kicks_armed = false;
	}
	ret = vring_pop(&q->ring, chain);
	if (!ret) {
		if (!virtio_queue_idle(q))
			return 0;
		ret = vring_pop(&q->ring, chain);
	}
	if (ret < 0) {
		virtio_device_broken(q->vdev, "malformed descriptor chain", ret);
		return ret;
	}
	q->served += ret;
	return ret;
}

bool virtio_queue_kick_after(struct virtio_queue *q, unsigned int n)
{
	if (!q->kicks_armed || !vring_mapped(&q->ring) || !n)
		return false;
	vring_kick_after(&q->ring, (u16)min_t(unsigned int, n, q->ring.size));
	q->kicks_armed = false;
	return true;
}

/* The queue's lock held, DMA allowed: one used entry, if its ring lives. */
static void virtio_queue_publish(struct virtio_queue *q, struct vring_id id,
				 u32 len)
{
	const struct virtio_device *vdev = q->vdev;

	/*
	 * A reset or NEEDS_RESET since the chain was popped: the driver
	 * has forgotten it, and the ring (maybe remapped, maybe freed) is
	 * not where it was.
	 */
	if (!vring_mapped(&q->ring) || q->ring.map_gen != id.map_gen ||
	    !(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) || vdev->broken)
		return;
	vring_push(&q->ring, id.head, len);
	q->irq_owed = true;
}

/* The queue's lock held: publish what waited on the done list. */
static void virtio_queue_flush_done(struct virtio_queue *q)
{
	if (!virtio_dma_allowed(q->vdev))
		return;		/* published when mastering comes back */
	/*
	 * Nothing filed, or not yet seen: an entry filed by a thread that
	 * does not hold the queue is followed by its done_fd write, and
	 * this thread's read of done_fd runs us again after it (the
	 * eventfd orders the flag before that read); one filed by a holder
	 * of the queue (bus mastering off) was filed under the locks we
	 * hold now.  So a false here never strands an entry.
	 */
	if (!atomic_load_explicit(&q->done_filed, memory_order_relaxed))
		return;
	/*
	 * The completing thread wrote the buffers (a status byte, read
	 * data) before it took done_lock to file the entry; taking it here
	 * orders those writes before vring_push()'s used->idx publication.
	 */
	pthread_mutex_lock(&q->done_lock);
	for (unsigned int i = 0; i < q->nr_done; i++)
		virtio_queue_publish(q, q->done[i].id, q->done[i].len);
	q->nr_done = 0;
	atomic_store_explicit(&q->done_filed, false, memory_order_relaxed);
	pthread_mutex_unlock(&q->done_lock);
}

/*
 * A completion may have freed backend room: queues in virtio_queue_stall()
 * run again.  Store-buffer pair with virtio_queue_stall(): we count the
 * completion, then look for stall bits; it sets its bit, then looks for
 * completions.  With a full fence between the store and the load on both
 * sides, at least one of the two sees the other's store, so no completion
 * can pass a stalling queue unseen.  Proved needed:
 * tests/models/queue-stall.pml, mutant NO_MB_RELEASE (this fence) and
 * NO_MB_STALL (the one in virtio_queue_stall()).
 */
static void virtio_release_stalled(struct virtio_device *vdev)
{
	unsigned int mask;

	if (virtio_ctx_holds_all(vdev)) {
		/*
		 * Every queue's lock is ours, and virtio_queue_stall() runs
		 * under its queue's: no queue stalls meanwhile, the bits of
		 * those that did came to us with the locks, and the next one
		 * sees this count through them.  So no fence, and no locked
		 * instruction (see virtio_count()).
		 */
		virtio_count(&vdev->completions_locked, 1);
	} else {
		/* Release: pairs with the acquire in virtio_completions(). */
		atomic_fetch_add_explicit(&vdev->completions, 1,
					  memory_order_release);
		smp_mb__after_rmw();
	}
	if (!atomic_load_explicit(&vdev->stalled, memory_order_relaxed))
		return;
	mask = atomic_exchange(&vdev->stalled, 0);
	for (unsigned int i = 0; i < vdev->nr_queues; i++) {
		struct virtio_queue *q = &vdev->queues[i];

		if (!(mask & (1U << i)))
			continue;
		/* Read by virtio_queue__on_done() after the eventfd. */
		atomic_store(&q->resume, true);
		virtio_eventfd_signal(vdev, q->done_fd, "resume");
	}
}

void virtio_queue_stall(struct virtio_queue *q)
{
	struct virtio_device *vdev = q->vdev;
	unsigned int bit = 1U << q->index;

	atomic_fetch_or_explicit(&vdev->stalled, bit, memory_order_relaxed);
	/*
	 * Pairs with the fence in virtio_release_stalled() (see there).
	 * Proved needed: tests/models/queue-stall.pml, mutant NO_MB_STALL.
	 */
	smp_mb__after_rmw();
	if (virtio_completions(vdev) == q->entry_completions)
		return;
	/* A completion came since this callback began: try again now. */
	if (atomic_fetch_and(&vdev->stalled, ~bit) & bit) {
		atomic_store(&q->resume, true);
		virtio_eventfd_signal(vdev, q->done_fd, "resume");
	}
}

void virtio_queue_complete(struct virtio_queue *q, struct vring_id id,
			   u32 len)
{
	struct virtio_device *vdev = q->vdev;
	bool held = virtio_queue_held(q), wake = false;

	if (held)
		virtio_count(&q->nr_requests, 1);
	else
		atomic_fetch_add_explicit(&vdev->nr_requests, 1,
					  memory_order_relaxed);
	if (held && virtio_dma_allowed(vdev)) {
		virtio_queue_publish(q, id, len);
	} else {
		pthread_mutex_lock(&q->done_lock);
		if (q->nr_done < q->done_cap) {
			q->done[q->nr_done++] = (struct virtio_done){
				.id = id, .len = len,
			};
			atomic_store_explicit(&q->done_filed, true,
					      memory_order_relaxed);
			wake = !held;
		} else {
			/* Each head is in flight once: a device bug. */
			pr_warn("virtio-%s: queue %u: more completions than buffers; dropped",
				vdev->ops->name, q->index);
		}
		pthread_mutex_unlock(&q->done_lock);
		if (wake)
			virtio_eventfd_signal(vdev, q->done_fd, "done");
	}
	virtio_release_stalled(vdev);
}

/* Starts a callback's worth of work on @q (its lock held). */
static void virtio_queue_begin(struct virtio_queue *q)
{
	q->served = 0;
	q->entry_completions = virtio_completions(q->vdev);
}

/*
 * The queue's thread, its lock held: its context for the core's calls,
 * and what other threads completed published first.
 */
static struct virtio_ctx virtio_queue_enter_locked(struct virtio_queue *q)
{
	struct virtio_device *vdev = q->vdev;
	bool pq = virtio_per_queue(vdev);
	struct virtio_ctx old;

	old = virtio_ctx_enter(vdev, pq ? q : NULL, !pq);
	virtio_queue_flush_done(q);
	return old;
}

static struct virtio_ctx virtio_queue_enter(struct virtio_queue *q)
{
	virtio_queue_lock(q);
	return virtio_queue_enter_locked(q);
}

/* The interrupts the work owes, then the lock goes. */
static void virtio_queue_leave(struct virtio_queue *q, struct virtio_ctx old)
{
	struct virtio_device *vdev = q->vdev;
	bool report;

	if (virtio_per_queue(vdev)) {
		virtio_queue_interrupt(q);
	} else {
		/* Without queue threads the device may have used any queue. */
		for (unsigned int i = 0; i < vdev->nr_queues; i++)
			virtio_queue_interrupt(&vdev->queues[i]);
	}
	report = q->broken_err && !vdev->broken;
	virtio_ctx_restore(old);
	virtio_queue_unlock(q);
	if (report)
		virtio_queue__report_broken(q);
}

/*
 * The queue's thread, its lock held: @q was kicked, woken, or completions
 * wait.  The lock goes on return.
 */
static void virtio_queue_run_locked(struct virtio_queue *q, bool kicked)
{
	struct virtio_device *vdev = q->vdev;
	struct virtio_ctx old = virtio_queue_enter_locked(q);

	if (atomic_exchange(&q->resume, false))
		kicked = true;
	/*
	 * Not runnable: nothing to remember.  DRIVER_OK and bus mastering
	 * coming back on look at every enabled queue.
	 */
	if (kicked && virtio_queue_runnable(q)) {
		virtio_queue_begin(q);
		vdev->ops->handle_queue(vdev, q);
	}
	virtio_queue_leave(q, old);
}

static void virtio_queue_run(struct virtio_queue *q, bool kicked)
{
	virtio_queue_lock(q);
	virtio_queue_run_locked(q, kicked);
}

void virtio_queue__on_kick(void *opaque, u32 events __unused)
{
	struct virtio_queue *q = opaque;
	u64 cnt;

	if (read(q->kick_fd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return;
	atomic_fetch_add_explicit(&q->vdev->nr_kicks, 1, memory_order_relaxed);
	virtio_queue_run(q, true);
}

/*
 * A polled queue may be left with kicks off (virtio_queue_pop()); not
 * while it waits for backend room (a completion's done_fd resumes it,
 * and polling would only retry the stall) or cannot run at all.
 */
static bool virtio_queue_pollable(struct virtio_queue *q)
{
	unsigned int stalled = atomic_load_explicit(&q->vdev->stalled,
						    memory_order_relaxed);

	return !q->kicks_armed && !q->broken_err &&
	       !(stalled & (1U << q->index)) && virtio_queue_runnable(q);
}

/* Evloop poller, the queue's thread: new buffers with kicks off. */
bool virtio_queue__poll(void *opaque)
{
	struct virtio_queue *q = opaque;
	bool work;

	virtio_queue_lock(q);
	/* A hint; vring_pop() reads the ring with its own barriers. */
	work = virtio_queue_pollable(q) && vring_has_work(&q->ring);
	/*
	 * Run it under the lock just taken: with several queues on the
	 * device thread each finds a few requests per turn, and a second
	 * lock round trip per queue showed in its profile.
	 */
	if (work)
		virtio_queue_run_locked(q, true);
	else
		virtio_queue_unlock(q);
	return work;
}

/* Evloop poller, the queue's thread: about to sleep, kicks back on. */
bool virtio_queue__arm(void *opaque)
{
	struct virtio_queue *q = opaque;
	bool work = false;

	virtio_queue_lock(q);
	if (virtio_queue_pollable(q)) {
		/*
		 * The idle path of virtio_queue_pop(), deferred to here:
		 * vring_arm_kicks()'s full barrier pairs with the driver's
		 * in virtqueue_kick_prepare(), so a buffer added before the
		 * driver saw kicks armed is found now (and polled for, kicks
		 * off again), one added after gets a kick.
		 */
		work = vring_arm_kicks(&q->ring);
		if (work)
			vring_suppress_kicks(&q->ring);
		else
			q->kicks_armed = true;
	}
	virtio_queue_unlock(q);
	return work;
}

void virtio_queue__on_done(void *opaque, u32 events __unused)
{
	struct virtio_queue *q = opaque;
	u64 cnt;

	if (read(q->done_fd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return;
	virtio_queue_run(q, false);
}

/* Nesting depth of virtio_device_enter() on this thread, and what it hid. */
static __thread unsigned int enter_depth;
static __thread struct virtio_ctx enter_saved;

void virtio_device_enter(struct virtio_device *vdev)
{
	bool pq = virtio_per_queue(vdev);

	if (enter_depth++)
		return;
	/* With queue threads, vdev->lock holds none of the queues. */
	enter_saved = virtio_ctx_enter(vdev, NULL, !pq);
	for (unsigned int i = 0; !pq && i < vdev->nr_queues; i++)
		virtio_queue_begin(&vdev->queues[i]);
}

void virtio_device_leave(struct virtio_device *vdev)
{
	if (--enter_depth)
		return;
	for (unsigned int i = 0; ctx.all && i < vdev->nr_queues; i++)
		virtio_queue_interrupt(&vdev->queues[i]);
	virtio_ctx_restore(enter_saved);
	if (vdev->watch_broken_err) {
		/* Deferred by virtio_device_broken(); vdev->lock held. */
		virtio_lock_queues(vdev);
		virtio_mark_broken(vdev, vdev->watch_broken_why,
				   vdev->watch_broken_err);
		vdev->watch_broken_err = 0;
		virtio_unlock_queues(vdev);
	}
}

static void virtio_on_watch(void *opaque, u32 events)
{
	struct virtio_watch *w = opaque;
	struct virtio_device *vdev = w->vdev;

	pthread_mutex_lock(&vdev->lock);
	virtio_device_enter(vdev);
	w->cb(w->opaque, events);
	virtio_device_leave(vdev);
	pthread_mutex_unlock(&vdev->lock);
}

static void virtio_on_queue_watch(void *opaque, u32 events)
{
	struct virtio_watch *w = opaque;
	struct virtio_ctx old = virtio_queue_enter(w->q);

	virtio_queue_begin(w->q);
	w->cb(w->opaque, events);
	virtio_queue_leave(w->q, old);
}

/* The loop a watch is on: its queue's, or the device thread's. */
static struct evloop *virtio_watch_loop(const struct virtio_watch *w)
{
	return w->q ? virtio_queue_loop(w->q) : &w->vdev->loop;
}

/* @q: a queue's watch (virtio_queue_watch()), NULL for the device's. */
static int virtio_watch_add(struct virtio_device *vdev, struct virtio_queue *q,
			    struct virtio_watch *w, int fd, u32 events,
			    evloop_cb_t cb, void *opaque)
{
	*w = (struct virtio_watch){
		.vdev = vdev, .q = q, .cb = cb, .opaque = opaque,
		.ew = {
			.fd = fd, .opaque = w,
			.cb = q ? virtio_on_queue_watch : virtio_on_watch,
		},
	};
	return evloop_add(virtio_watch_loop(w), &w->ew, events);
}

int virtio_device_watch(struct virtio_device *vdev, struct virtio_watch *w,
			int fd, u32 events, evloop_cb_t cb, void *opaque)
{
	return virtio_watch_add(vdev, NULL, w, fd, events, cb, opaque);
}

int virtio_queue_watch(struct virtio_queue *q, struct virtio_watch *w, int fd,
		       u32 events, evloop_cb_t cb, void *opaque)
{
	return virtio_watch_add(q->vdev, q, w, fd, events, cb, opaque);
}

int virtio_device_watch_mod(struct virtio_watch *w, u32 events)
{
	return evloop_mod(virtio_watch_loop(w), &w->ew, events);
}

int virtio_device_unwatch(struct virtio_watch *w)
{
	return evloop_del(virtio_watch_loop(w), &w->ew);
}

void virtio_queues__flush(struct virtio_device *vdev)
{
	struct virtio_ctx old = virtio_ctx_enter(vdev, NULL, true);

	for (unsigned int i = 0; i < vdev->nr_queues; i++) {
		virtio_queue_flush_done(&vdev->queues[i]);
		virtio_queue_interrupt(&vdev->queues[i]);
	}
	if (virtio_dma_allowed(vdev))
		virtio_signal_pending(vdev);
	virtio_ctx_restore(old);
}

void virtio_queues__reset(struct virtio_device *vdev)
{
	for (unsigned int i = 0; i < vdev->nr_queues; i++) {
		struct virtio_queue *q = &vdev->queues[i];

		pthread_mutex_lock(&q->done_lock);
		q->nr_done = 0;
		atomic_store_explicit(&q->done_filed, false,
				      memory_order_relaxed);
		pthread_mutex_unlock(&q->done_lock);
		q->irq_owed = false;
		q->kicks_armed = true;
		q->served = 0;
		q->broken_err = 0;
		atomic_store(&q->resume, false);
	}
	atomic_store(&vdev->stalled, 0);
	/* Nothing left to interrupt about; pairs with virtio_device__on_irq(). */
	atomic_store_explicit(&vdev->irq_pending, 0, memory_order_relaxed);
}

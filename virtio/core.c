// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio device model: status and feature negotiation, queue life
 * cycle, the device thread, and what happens when a driver breaks the
 * rules.  Transports translate registers into these calls; devices only
 * see queues.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/virtio.h"

static bool virtio_has_feature(const struct virtio_device *vdev,
			       unsigned int bit)
{
	return vdev->guest_features & (1ULL << bit);
}

static bool virtio_runnable(const struct virtio_device *vdev)
{
	return (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) && !vdev->broken;
}

static bool per_queue(const struct virtio_device *vdev)
{
	return vdev->ops->thread_per_queue;
}

/* vdev->lock held: take every queue lock, in index order. */
static void virtio_lock_queues(struct virtio_device *vdev)
{
	if (!per_queue(vdev))
		return;
	for (unsigned int i = 0; i < vdev->nr_queues; i++)
		pthread_mutex_lock(&vdev->queues[i].lock);
}

static void virtio_unlock_queues(struct virtio_device *vdev)
{
	if (!per_queue(vdev))
		return;
	for (unsigned int i = vdev->nr_queues; i-- > 0;)
		pthread_mutex_unlock(&vdev->queues[i].lock);
}

struct evloop *virtio_queue_loop(struct virtio_device *vdev,
				 struct virtio_queue *q)
{
	return per_queue(vdev) ? &q->loop : &vdev->loop;
}

void virtio_queue_lock(struct virtio_device *vdev, struct virtio_queue *q)
{
	pthread_mutex_lock(per_queue(vdev) ? &q->lock : &vdev->lock);
}

void virtio_queue_unlock(struct virtio_device *vdev, struct virtio_queue *q)
{
	pthread_mutex_unlock(per_queue(vdev) ? &q->lock : &vdev->lock);
}

/*
 * Queue thread, q->lock dropped: virtio_queue_pop() found a malformed
 * chain.  Marking the device broken changes what every queue sees, so it
 * takes all the locks, in order.
 */
static void virtio_report_broken(struct virtio_device *vdev,
				 struct virtio_queue *q)
{
	pthread_mutex_lock(&vdev->lock);
	virtio_lock_queues(vdev);
	/* A reset in between cleared broken_err: the new driver is fine. */
	if (q->broken_err)
		virtio_device_broken(vdev, "malformed descriptor chain",
				     q->broken_err);
	virtio_unlock_queues(vdev);
	pthread_mutex_unlock(&vdev->lock);
}

/* Device or queue thread: a queue's eventfd fired (ioeventfd or kick). */
static void virtio_on_kick(void *opaque, u32 events __unused)
{
	struct virtio_queue *q = opaque;
	struct virtio_device *vdev = q->vdev;
	bool report = false;
	u64 cnt;

	if (read(q->kick_fd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return;
	atomic_fetch_add_explicit(&vdev->nr_kicks, 1, memory_order_relaxed);

	virtio_queue_lock(vdev, q);
	if (!virtio_runnable(vdev) || !q->enabled || !vring_mapped(&q->ring))
		goto out;
	/*
	 * Bus mastering is off: touching the rings now would be DMA the
	 * driver forbade, and its indices may be stale.  Nothing to
	 * remember: virtio_set_dma_enabled() looks at every enabled queue
	 * when mastering comes back.
	 */
	if (!vdev->dma_enabled)
		goto out;
	vdev->ops->handle_queue(vdev, q);
out:
	report = q->broken_err && !vdev->broken;
	virtio_queue_unlock(vdev, q);
	if (report)
		virtio_report_broken(vdev, q);
}

/* vdev->lock held, DMA allowed: signals what queue threads left us. */
static void virtio_signal_pending(struct virtio_device *vdev)
{
	/* Pairs with the atomic_fetch_or in virtio_queue_notify(). */
	unsigned int pending = atomic_exchange_explicit(&vdev->irq_pending, 0,
							memory_order_acquire);

	for (unsigned int i = 0; i < vdev->nr_queues; i++)
		if ((pending & (1U << i)) && virtio_runnable(vdev))
			vdev->tops->signal_queue(vdev, &vdev->queues[i]);
}

/* Device thread (thread_per_queue): interrupts queue threads left us. */
static void virtio_on_irq(void *opaque, u32 events __unused)
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
	if (vdev->dma_enabled)
		virtio_signal_pending(vdev);
	pthread_mutex_unlock(&vdev->lock);
}

static void *virtio_queue_thread(void *opaque)
{
	struct virtio_queue *q = opaque;
	char name[16];
	int ret;

	snprintf(name, sizeof(name), "lkvm-v%s/%u", q->vdev->ops->name,
		 q->index);
	pthread_setname_np(pthread_self(), name);
	ret = evloop_run(&q->loop);
	if (ret)
		pr_err("virtio-%s: queue %u event loop failed: %s",
		       q->vdev->ops->name, q->index, strerror(-ret));
	return NULL;
}

static void *virtio_thread(void *opaque)
{
	struct virtio_device *vdev = opaque;
	char name[16];
	int ret;

	snprintf(name, sizeof(name), "lkvm-v%s", vdev->ops->name);
	pthread_setname_np(pthread_self(), name);
	ret = evloop_run(&vdev->loop);
	if (ret)
		pr_err("virtio-%s: event loop failed: %s", vdev->ops->name,
		       strerror(-ret));
	return NULL;
}

static void virtio_device_free(void *opaque)
{
	struct virtio_device *vdev = opaque;
	/* Read now: ops may live in the device state ops->free releases. */
	bool pq = per_queue(vdev);

	/* Every thread stops before ops->free, which may drain the disk. */
	if (vdev->thread_started) {
		evloop_stop(&vdev->loop);
		pthread_join(vdev->thread, NULL);
	}
	for (unsigned int i = 0; pq && i < vdev->nr_queues; i++) {
		struct virtio_queue *q = &vdev->queues[i];

		if (q->thread_started) {
			evloop_stop(&q->loop);
			pthread_join(q->thread, NULL);
		}
	}
	for (unsigned int i = 0; i < vdev->nr_queues; i++) {
		if (vdev->queues[i].kick_fd >= 0)
			close(vdev->queues[i].kick_fd);
	}
	if (vdev->ops->free)
		vdev->ops->free(vdev);
	for (unsigned int i = 0; pq && i < vdev->nr_queues; i++) {
		evloop_exit(&vdev->queues[i].loop);
		pthread_mutex_destroy(&vdev->queues[i].lock);
	}
	if (vdev->irq_fd >= 0)
		close(vdev->irq_fd);
	evloop_exit(&vdev->loop);
	pthread_mutex_destroy(&vdev->lock);
	/* Last: this may free vdev itself. */
	if (vdev->tops->free)
		vdev->tops->free(vdev);
}

static void virtio_reset_queue(struct virtio_queue *q)
{
	vring_unmap(&q->ring);
	q->ring.size = q->max_size;
	q->ring.desc_gpa = q->ring.avail_gpa = q->ring.used_gpa = 0;
	q->enabled = false;
	q->broken_err = 0;
	q->msix_vector = VIRTIO_NO_VECTOR;
}

int virtio_device_init(struct virtio_device *vdev, struct kvm *kvm,
		       const struct virtio_device_ops *ops,
		       const struct virtio_transport_ops *tops,
		       enum virtio_transport_kind kind, void *transport,
		       void *priv)
{
	bool legacy_only = kind == VIRTIO_TRANSPORT_PCI_LEGACY ||
			   kind == VIRTIO_TRANSPORT_MMIO_LEGACY;
	int ret;

	if (ops->nr_queues > VIRTIO_MAX_QUEUES || !ops->queue_max_size ||
	    ops->queue_max_size > VRING_MAX_SIZE)
		return -EINVAL;

	memset(vdev, 0, sizeof(*vdev));
	vdev->kvm = kvm;
	vdev->ops = ops;
	vdev->tops = tops;
	vdev->transport = transport;
	vdev->priv = priv;
	vdev->transport_kind = kind;
	vdev->legacy = legacy_only;
	vdev->dma_enabled = true;
	vdev->config_msix_vector = VIRTIO_NO_VECTOR;
	vdev->host_features = ops->features |
			      (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
			      (1ULL << VIRTIO_RING_F_EVENT_IDX);
	if (!legacy_only)
		vdev->host_features |= 1ULL << VIRTIO_F_VERSION_1;
	pthread_mutex_init(&vdev->lock, NULL);
	vdev->nr_queues = ops->nr_queues;
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vdev->queues[i].kick_fd = -1;
	vdev->irq_fd = -1;

	ret = evloop_init(&vdev->loop);
	if (ret) {
		pthread_mutex_destroy(&vdev->lock);
		return ret;
	}
	/* Per-queue loops before the exit hook, so it can always free them. */
	for (unsigned int i = 0; ops->thread_per_queue && i < vdev->nr_queues;
	     i++) {
		pthread_mutex_init(&vdev->queues[i].lock, NULL);
		ret = evloop_init(&vdev->queues[i].loop);
		if (ret) {
			while (i-- > 0) {
				evloop_exit(&vdev->queues[i].loop);
				pthread_mutex_destroy(&vdev->queues[i].lock);
			}
			evloop_exit(&vdev->loop);
			pthread_mutex_destroy(&vdev->lock);
			return ret;
		}
	}
	ret = kvm__on_exit(kvm, virtio_device_free, vdev);
	if (ret) {
		for (unsigned int i = 0;
		     ops->thread_per_queue && i < vdev->nr_queues; i++) {
			evloop_exit(&vdev->queues[i].loop);
			pthread_mutex_destroy(&vdev->queues[i].lock);
		}
		evloop_exit(&vdev->loop);
		pthread_mutex_destroy(&vdev->lock);
		return ret;
	}
	if (per_queue(vdev)) {
		vdev->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vdev->irq_fd < 0)
			return -errno;
		vdev->irq_watch = (struct evloop_watch){
			.fd = vdev->irq_fd, .cb = virtio_on_irq, .opaque = vdev,
		};
		ret = evloop_add(&vdev->loop, &vdev->irq_watch, EPOLLIN);
		if (ret)
			return ret;
	}

	for (unsigned int i = 0; i < vdev->nr_queues; i++) {
		struct virtio_queue *q = &vdev->queues[i];

		q->vdev = vdev;
		q->index = i;
		q->max_size = ops->queue_max_size;
		virtio_reset_queue(q);
		q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->kick_fd < 0)
			return -errno;
		q->kick_watch = (struct evloop_watch){
			.fd = q->kick_fd, .cb = virtio_on_kick, .opaque = q,
		};
		ret = evloop_add(virtio_queue_loop(vdev, q), &q->kick_watch,
				 EPOLLIN);
		if (ret)
			return ret;
	}

	ret = pthread_create(&vdev->thread, NULL, virtio_thread, vdev);
	if (ret)
		return -ret;
	vdev->thread_started = true;
	for (unsigned int i = 0; per_queue(vdev) && i < vdev->nr_queues; i++) {
		struct virtio_queue *q = &vdev->queues[i];

		ret = pthread_create(&q->thread, NULL, virtio_queue_thread, q);
		if (ret)
			return -ret;
		q->thread_started = true;
	}
	return 0;
}

/* Status 0: forget everything the driver set up (vdev->lock held). */
static void virtio_reset(struct virtio_device *vdev)
{
	for (unsigned int i = 0; i < vdev->nr_queues; i++)
		virtio_reset_queue(&vdev->queues[i]);
	vdev->status = 0;
	vdev->guest_features = 0;
	vdev->broken = false;
	vdev->isr = 0;
	vdev->config_msix_vector = VIRTIO_NO_VECTOR;
	/* Nothing left to interrupt about; pairs with virtio_on_irq(). */
	atomic_store_explicit(&vdev->irq_pending, 0, memory_order_relaxed);
	if (vdev->transport_kind != VIRTIO_TRANSPORT_PCI_LEGACY &&
	    vdev->transport_kind != VIRTIO_TRANSPORT_MMIO_LEGACY)
		vdev->legacy = false;
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
}

static void virtio_driver_ok(struct virtio_device *vdev)
{
	bool event_idx = virtio_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX);
	bool indirect = virtio_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC);
	int ret;

	for (unsigned int i = 0; i < vdev->nr_queues; i++) {
		struct virtio_queue *q = &vdev->queues[i];

		if (!q->enabled)
			continue;
		ret = vring_map(&q->ring, &vdev->kvm->mem, event_idx, indirect);
		if (ret) {
			virtio_device_broken(vdev, "bad queue layout", ret);
			return;
		}
	}
	if (vdev->ops->start) {
		ret = vdev->ops->start(vdev);
		if (ret) {
			virtio_device_broken(vdev, "device failed to start", ret);
			return;
		}
	}
	/* Buffers may have been queued before DRIVER_OK; look at them. */
	for (unsigned int i = 0; i < vdev->nr_queues; i++)
		if (vdev->queues[i].enabled)
			virtio_queue_kick(vdev, i);
}

static void virtio_set_status_locked(struct virtio_device *vdev, u8 status)
{
	u8 old = vdev->status;

	if (!status) {
		virtio_reset(vdev);
		return;
	}
	/* NEEDS_RESET is the device's to set, never the driver's. */
	status = (status & ~VIRTIO_CONFIG_S_NEEDS_RESET) |
		 (old & VIRTIO_CONFIG_S_NEEDS_RESET);

	if ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
		/*
		 * A modern driver must accept VERSION_1; leaving FEATURES_OK
		 * clear is how the spec says to refuse a feature set.
		 */
		if (!vdev->legacy &&
		    !virtio_has_feature(vdev, VIRTIO_F_VERSION_1)) {
			pr_debug("virtio-%s: driver did not accept VERSION_1",
				 vdev->ops->name);
			status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
		}
	}
	/*
	 * Status bits only go away through a reset.  Clearing DRIVER_OK
	 * without one would re-open queue configuration (sizes, addresses)
	 * under rings that are still mapped and requests still in flight.
	 */
	if (old & ~status & (VIRTIO_CONFIG_S_ACKNOWLEDGE |
			     VIRTIO_CONFIG_S_DRIVER |
			     VIRTIO_CONFIG_S_FEATURES_OK |
			     VIRTIO_CONFIG_S_DRIVER_OK)) {
		virtio_device_broken(vdev, "driver cleared status bits without a reset",
				     -EINVAL);
		return;
	}
	vdev->status = status;
	if ((status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(old & VIRTIO_CONFIG_S_DRIVER_OK) && !vdev->broken)
		virtio_driver_ok(vdev);
}

void virtio_set_status(struct virtio_device *vdev, u8 status)
{
	/* Quiesces every queue thread: handle_queue reads the status. */
	virtio_lock_queues(vdev);
	virtio_set_status_locked(vdev, status);
	virtio_unlock_queues(vdev);
}

void virtio_set_guest_features(struct virtio_device *vdev, unsigned int word,
			       u32 value)
{
	u64 mask, v;

	if (word > 1 || (vdev->status & VIRTIO_CONFIG_S_FEATURES_OK) ||
	    (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK))
		return;
	mask = 0xffffffffULL << (32 * word);
	v = ((u64)value << (32 * word)) & vdev->host_features;
	vdev->guest_features = (vdev->guest_features & ~mask) | v;
}

u32 virtio_get_host_features(struct virtio_device *vdev, unsigned int word)
{
	if (word > 1)
		return 0;
	return (u32)(vdev->host_features >> (32 * word));
}

bool virtio_queue_config_allowed(struct virtio_device *vdev)
{
	return !(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK);
}

void virtio_set_dma_enabled(struct virtio_device *vdev, bool enabled)
{
	bool was = vdev->dma_enabled;

	/* A disable waits for every queue thread's in-flight work. */
	virtio_lock_queues(vdev);
	/*
	 * Requests the backend still has in flight would write guest
	 * buffers after mastering is off: finish them first, while DMA is
	 * still allowed, so none is lost or written late.
	 */
	if (!enabled && was && vdev->ops->quiesce && virtio_runnable(vdev))
		vdev->ops->quiesce(vdev);
	/*
	 * Interrupts owed for work done so far (the quiesce's completions
	 * among them: it runs under vdev->lock, so a queue's notify could
	 * only leave them to the device thread) go now, while they still
	 * may, rather than when, or if, mastering comes back.
	 */
	if (!enabled && was && per_queue(vdev))
		virtio_signal_pending(vdev);
	vdev->dma_enabled = enabled;
	if (enabled && !was && per_queue(vdev) &&
	    atomic_load_explicit(&vdev->irq_pending, memory_order_relaxed)) {
		/* Interrupts held back while mastering was off. */
		if (write(vdev->irq_fd, &(u64){ 1 }, sizeof(u64)) < 0)
			pr_debug("virtio-%s: irq re-post: %s", vdev->ops->name,
				 strerror(errno));
	}
	if (enabled && !was) {
		/*
		 * Look at every enabled queue, not only those kicked
		 * meanwhile: a device with host data waiting (console input)
		 * had buffers posted before mastering went off and will get
		 * no new kick for them.
		 */
		for (unsigned int i = 0; i < vdev->nr_queues; i++) {
			if (vdev->queues[i].enabled)
				virtio_queue_kick(vdev, i);
		}
	}
	virtio_unlock_queues(vdev);
}

void virtio_queue_kick(struct virtio_device *vdev, unsigned int index)
{
	u64 one = 1;

	if (index >= vdev->nr_queues)
		return;
	/* EAGAIN only if the counter saturated: a wake-up is pending. */
	if (write(vdev->queues[index].kick_fd, &one, sizeof(one)) < 0)
		pr_debug("virtio-%s: kick: %s", vdev->ops->name,
			 strerror(errno));
}

void virtio_device_broken(struct virtio_device *vdev, const char *why, int err)
{
	if (vdev->broken)
		return;
	pr_warn("virtio-%s: %s (%s): device needs reset", vdev->ops->name,
		why, strerror(-err));
	vdev->broken = true;
	vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	if (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)
		vdev->tops->signal_config(vdev);
}

int virtio_queue_pop(struct virtio_device *vdev, struct virtio_queue *q,
		     struct vring_chain *elem)
{
	int ret;

	if (q->broken_err)
		return q->broken_err;
	if (vdev->broken || !vdev->dma_enabled)
		return 0;
	ret = vring_pop(&q->ring, elem);
	if (ret < 0 && per_queue(vdev)) {
		/*
		 * Marking the device broken needs every lock; this queue
		 * thread holds only its own.  virtio_on_kick() reports it:
		 * kick ourselves in case we were not called from there.
		 */
		q->broken_err = ret;
		virtio_queue_kick(vdev, q->index);
	} else if (ret < 0) {
		virtio_device_broken(vdev, "malformed descriptor chain", ret);
	}
	return ret;
}

void virtio_queue_push(struct virtio_device *vdev __unused,
		       struct virtio_queue *q, u16 head, u32 len)
{
	vring_push(&q->ring, head, len);
}

void virtio_queue_notify(struct virtio_device *vdev, struct virtio_queue *q)
{
	if (!vring_need_interrupt(&q->ring))
		return;
	q->ring.nr_interrupts++;
	atomic_fetch_add_explicit(&vdev->nr_interrupts, 1,
				  memory_order_relaxed);
	if (!per_queue(vdev)) {
		vdev->tops->signal_queue(vdev, q);
		return;
	}
	/*
	 * Transports keep interrupt state under vdev->lock, which a queue
	 * thread may not wait for while it holds q->lock (lock order).  If
	 * it is free, signal now; otherwise hand it to the device thread.
	 */
	if (!pthread_mutex_trylock(&vdev->lock)) {
		vdev->tops->signal_queue(vdev, q);
		pthread_mutex_unlock(&vdev->lock);
		return;
	}
	/* Pairs with the atomic_exchange in virtio_on_irq(). */
	atomic_fetch_or_explicit(&vdev->irq_pending, 1U << q->index,
				 memory_order_release);
	if (write(vdev->irq_fd, &(u64){ 1 }, sizeof(u64)) < 0)
		pr_debug("virtio-%s: irq: %s", vdev->ops->name,
			 strerror(errno));
}

bool virtio_queue_yield(struct virtio_device *vdev, struct virtio_queue *q,
			unsigned int *done)
{
	/*
	 * One queue's worth also keeps the used index from running 2^16
	 * entries past the last notify check, which EVENT_IDX arithmetic
	 * cannot represent.
	 */
	if (++*done < q->ring.size)
		return false;
	virtio_queue_notify(vdev, q);
	virtio_queue_kick(vdev, q->index);
	return true;
}

void virtio_read_config(struct virtio_device *vdev, u32 offset, void *data,
			u32 len)
{
	const struct virtio_device_ops *ops = vdev->ops;

	if (!ops->read_config || offset > ops->config_size ||
	    len > ops->config_size - offset) {
		memset(data, 0, len);
		return;
	}
	ops->read_config(vdev, offset, data, len);
}

void virtio_write_config(struct virtio_device *vdev, u32 offset,
			 const void *data, u32 len)
{
	const struct virtio_device_ops *ops = vdev->ops;

	if (!ops->write_config || offset > ops->config_size ||
	    len > ops->config_size - offset)
		return;
	ops->write_config(vdev, offset, data, len);
}

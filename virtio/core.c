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
#include "core-int.h"

void virtio_lock_queues(struct virtio_device *vdev)
{
	if (!virtio_per_queue(vdev))
		return;
	for (unsigned int i = 0; i < vdev->nr_queues; i++)
		pthread_mutex_lock(&vdev->queues[i].lock);
}

void virtio_unlock_queues(struct virtio_device *vdev)
{
	if (!virtio_per_queue(vdev))
		return;
	for (unsigned int i = vdev->nr_queues; i-- > 0;)
		pthread_mutex_unlock(&vdev->queues[i].lock);
}

static void *virtio_queue_thread(void *opaque)
{
	struct virtio_queue *q = opaque;
	char name[16];
	int ret;

	snprintf(name, sizeof(name), "lkvm-v%s/%u", q->vdev->ops->name,
		 q->index);
	pthread_setname_np(pthread_self(), name);
	seccomp__thread_enter(SECCOMP_THREAD_VIRTIO_QUEUE);
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
	/* The device and its backend were set up before this thread. */
	seccomp__thread_enter(vdev->ops->seccomp ? vdev->ops->seccomp :
						   SECCOMP_THREAD_VIRTIO);
	seccomp__test_hook();
	ret = evloop_run(&vdev->loop);
	if (ret)
		pr_err("virtio-%s: event loop failed: %s", vdev->ops->name,
		       strerror(-ret));
	return NULL;
}

/*
 * Undoes virtio_device_init(), however far it got: threads stopped first
 * (ops->free may drain a disk), then the device's state, then ours.
 */
static void virtio_device_teardown(struct virtio_device *vdev)
{
	/* Read now: ops may live in the device state ops->free releases. */
	bool pq = virtio_per_queue(vdev);

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
	if (vdev->ops->free)
		vdev->ops->free(vdev->priv);
	vdev->priv = NULL;
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct virtio_queue *q = &vdev->queues[i];

		if (q->kick_fd >= 0)
			close(q->kick_fd);
		if (q->done_fd >= 0)
			close(q->done_fd);
		free(q->done);
		pthread_mutex_destroy(&q->done_lock);
	}
	for (unsigned int i = 0; i < vdev->nr_loops; i++) {
		evloop_exit(&vdev->queues[i].loop);
		pthread_mutex_destroy(&vdev->queues[i].lock);
	}
	if (vdev->irq_fd >= 0)
		close(vdev->irq_fd);
	if (vdev->loop_ready)
		evloop_exit(&vdev->loop);
	pthread_mutex_destroy(&vdev->lock);
}

/* VM exit. */
static void virtio_device_free(void *opaque)
{
	struct virtio_device *vdev = opaque;

	virtio_device_teardown(vdev);
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
	q->msix_vector = VIRTIO_NO_VECTOR;
}

static int virtio_eventfd_watch(struct evloop *loop, int *fd,
				struct evloop_watch *w, evloop_cb_t cb,
				void *opaque)
{
	*fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (*fd < 0)
		return -errno;
	*w = (struct evloop_watch){ .fd = *fd, .cb = cb, .opaque = opaque };
	return evloop_add(loop, w, EPOLLIN);
}

static int virtio_queue_init(struct virtio_device *vdev, unsigned int i)
{
	struct virtio_queue *q = &vdev->queues[i];
	struct evloop *loop;
	int ret;

	q->vdev = vdev;
	q->index = i;
	q->max_size = vdev->ops->queue_max_size;
	q->kicks_armed = true;
	virtio_reset_queue(q);
	/*
	 * Each head is in flight once per ring mapping; twice that leaves
	 * room for stragglers of a mapping a reset just ended.
	 */
	q->done_cap = 2U * q->max_size;
	q->done = calloc(q->done_cap, sizeof(*q->done));
	if (!q->done)
		return -ENOMEM;
	loop = virtio_queue_loop(q);
	if (loop->poll_us) {
		q->polled = true;
		q->poller = (struct evloop_poller){
			.poll = virtio_queue__poll, .arm = virtio_queue__arm,
			.opaque = q,
		};
		evloop_add_poller(loop, &q->poller);
	}
	ret = virtio_eventfd_watch(loop, &q->kick_fd, &q->kick_watch,
				   virtio_queue__on_kick, q);
	if (ret)
		return ret;
	return virtio_eventfd_watch(loop, &q->done_fd, &q->done_watch,
				    virtio_queue__on_done, q);
}

int virtio_device_init(struct virtio_device *vdev, struct kvm *kvm,
		       const struct virtio_device_ops *ops,
		       const struct virtio_transport_ops *tops, void *transport,
		       void *priv, bool legacy_only)
{
	int ret;

	if (ops->nr_queues > VIRTIO_MAX_QUEUES || !ops->queue_max_size ||
	    ops->queue_max_size > VRING_MAX_SIZE) {
		if (ops->free)
			ops->free(priv);
		return -EINVAL;
	}

	memset(vdev, 0, sizeof(*vdev));
	if (kvm) {
		if (kvm->nr_vdevs == KVM_MAX_VDEVS) {
			if (ops->free)
				ops->free(priv);
			return -ENOSPC;
		}
		kvm->vdevs[kvm->nr_vdevs++] = vdev;
	}
	vdev->kvm = kvm;
	vdev->ops = ops;
	vdev->tops = tops;
	vdev->transport = transport;
	vdev->priv = priv;
	vdev->legacy_only = legacy_only;
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
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		vdev->queues[i].kick_fd = -1;
		vdev->queues[i].done_fd = -1;
		pthread_mutex_init(&vdev->queues[i].done_lock, NULL);
	}
	vdev->irq_fd = -1;

	ret = evloop_init(&vdev->loop);
	if (ret)
		goto err;
	/*
	 * Not with a thread per queue: several spinning threads would take
	 * the CPUs their own vCPUs and the host's I/O need (measured: four
	 * polling queue threads and a vCPU on two CPUs, half the IOPS of
	 * four sleeping ones).
	 */
	if (!virtio_per_queue(vdev))
		evloop_set_poll(&vdev->loop, ops->poll_us);
	vdev->loop_ready = true;
	for (; virtio_per_queue(vdev) && vdev->nr_loops < vdev->nr_queues;
	     vdev->nr_loops++) {
		struct virtio_queue *q = &vdev->queues[vdev->nr_loops];

		ret = evloop_init(&q->loop);
		if (ret)
			goto err;
		pthread_mutex_init(&q->lock, NULL);
	}
	if (virtio_per_queue(vdev)) {
		ret = virtio_eventfd_watch(&vdev->loop, &vdev->irq_fd,
					   &vdev->irq_watch,
					   virtio_device__on_irq, vdev);
		if (ret)
			goto err;
	}
	for (unsigned int i = 0; i < vdev->nr_queues; i++) {
		ret = virtio_queue_init(vdev, i);
		if (ret)
			goto err;
	}

	ret = -pthread_create(&vdev->thread, NULL, virtio_thread, vdev);
	if (ret)
		goto err;
	vdev->thread_started = true;
	for (unsigned int i = 0; virtio_per_queue(vdev) && i < vdev->nr_queues;
	     i++) {
		struct virtio_queue *q = &vdev->queues[i];

		ret = -pthread_create(&q->thread, NULL, virtio_queue_thread, q);
		if (ret)
			goto err;
		q->thread_started = true;
	}
	/* Last, so that a failure above never leaves a hook behind. */
	ret = kvm__on_exit(kvm, virtio_device_free, vdev);
	if (ret)
		goto err;
	return 0;
err:
	virtio_device_teardown(vdev);
	if (kvm && kvm->nr_vdevs && kvm->vdevs[kvm->nr_vdevs - 1] == vdev)
		kvm->nr_vdevs--;
	return ret;
}

/* Status 0: forget everything the driver set up (every lock held). */
static void virtio_reset(struct virtio_device *vdev)
{
	for (unsigned int i = 0; i < vdev->nr_queues; i++)
		virtio_reset_queue(&vdev->queues[i]);
	vdev->status = 0;
	vdev->guest_features = 0;
	vdev->broken = false;
	vdev->isr = 0;
	vdev->config_msix_vector = VIRTIO_NO_VECTOR;
	vdev->legacy = vdev->legacy_only;
	/* Its completions are dropped: the rings are already unmapped. */
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
	virtio_queues__reset(vdev);
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
		/* A fresh ring: the driver may kick. */
		q->kicks_armed = true;
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
			virtio_queue_wake(&vdev->queues[i]);
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
	struct virtio_ctx old;

	/* Quiesces every queue thread: their work reads the status. */
	virtio_lock_queues(vdev);
	old = virtio_ctx_enter(vdev, NULL, true);
	virtio_set_status_locked(vdev, status);
	virtio_ctx_restore(old);
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

/* The two things that stop a device's DMA (virtio_dma_allowed()). */
enum virtio_dma_gate {
	VIRTIO_GATE_BUS_MASTER,		/* the driver's PCI COMMAND.MASTER */
	VIRTIO_GATE_PAUSE,		/* lkvm pause */
};

static bool *virtio_gate_field(struct virtio_device *vdev,
			       enum virtio_dma_gate gate)
{
	return gate == VIRTIO_GATE_BUS_MASTER ? &vdev->dma_enabled :
						&vdev->paused;
}

/* Opens or closes @gate; vdev->lock held, queue locks not. */
static void virtio_set_dma_gate(struct virtio_device *vdev,
				enum virtio_dma_gate gate, bool open)
{
	bool was = virtio_dma_allowed(vdev);
	bool *field = virtio_gate_field(vdev, gate);
	/* paused is stored the other way round from an open gate. */
	bool value = gate == VIRTIO_GATE_PAUSE ? !open : open;
	struct virtio_ctx old;

	if (*field == value)
		return;
	/* A disable waits for every queue thread's in-flight work. */
	virtio_lock_queues(vdev);
	old = virtio_ctx_enter(vdev, NULL, true);
	/*
	 * Requests the backend still has in flight would write guest
	 * buffers after DMA stops: finish them first, while DMA is still
	 * allowed, so none is lost or written late.  Then publish and
	 * interrupt for everything done so far, while that still may happen,
	 * rather than when, or if, DMA comes back.
	 */
	if (!open && was) {
		/*
		 * Broken (NEEDS_RESET) too: requests popped before the driver
		 * erred are still in flight and would write guest memory.
		 */
		if (vdev->ops->quiesce &&
		    (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK))
			vdev->ops->quiesce(vdev);
		/* Proved needed: tests/models/dma-gate.pml, mutant NO_FLUSH_OFF. */
		virtio_queues__flush(vdev);
	}
	*field = value;
	if (open && virtio_dma_allowed(vdev)) {
		/* Completions and interrupts held back meanwhile. */
		virtio_queues__flush(vdev);
		/*
		 * Look at every enabled queue, not only those kicked
		 * meanwhile: a device with host data waiting (console input)
		 * had buffers posted before DMA stopped and will get no new
		 * kick for them.  And a kick taken while DMA was off found
		 * the queue not runnable and was dropped.  Proved needed:
		 * tests/models/dma-gate.pml, mutant NO_REWAKE.
		 */
		for (unsigned int i = 0; i < vdev->nr_queues; i++) {
			if (vdev->queues[i].enabled)
				virtio_queue_wake(&vdev->queues[i]);
		}
	}
	virtio_ctx_restore(old);
	virtio_unlock_queues(vdev);
}

void virtio_set_dma_enabled(struct virtio_device *vdev, bool enabled)
{
	virtio_set_dma_gate(vdev, VIRTIO_GATE_BUS_MASTER, enabled);
}

void virtio_device_pause(struct virtio_device *vdev)
{
	pthread_mutex_lock(&vdev->lock);
	virtio_set_dma_gate(vdev, VIRTIO_GATE_PAUSE, false);
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_device_resume(struct virtio_device *vdev)
{
	pthread_mutex_lock(&vdev->lock);
	virtio_set_dma_gate(vdev, VIRTIO_GATE_PAUSE, true);
	pthread_mutex_unlock(&vdev->lock);
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

void virtio_config_changed(struct virtio_device *vdev)
{
	vdev->config_generation++;
	if ((vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) && !vdev->broken)
		vdev->tops->interrupt_config(vdev);
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio core's state machine driven from both sides (virtio/core.c),
 * shared by tests/unit/virtio/core*.c: a fake transport makes the calls
 * virtio-pci/mmio make for a driver's register writes (status, features,
 * queue layout, bus mastering, notifies) and counts the interrupts the
 * core asks it to raise; a fake device records what the core asks of it.
 * The device threads are the real ones; the rings live in a fake VM's
 * malloc'ed guest memory (no /dev/kvm).  Each test runs every case twice:
 * with one device thread, and with a thread per queue
 * (ops->thread_per_queue).
 *
 * Nothing is timed: each wait polls for its event for up to 10 s, and
 * "did not happen" is checked after flushing the device threads (every
 * kick read and handled, see core_flush()).
 */
#ifndef LKVM_TESTS_VIRTIO_CORE_FIXTURE_H
#define LKVM_TESTS_VIRTIO_CORE_FIXTURE_H

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lkvm/barrier.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/virtio.h"
#include "tap.h"

#define MEM_SIZE	(1024 * 1024)
#define NQ		2
#define QSIZE		8
#define RING_A(i)	(0x10000 + (i) * 0x4000)	/* desc, avail, used */
#define RING_B(i)	(0x20000 + (i) * 0x4000)	/* after a reset */
#define BAD_RING	(MEM_SIZE + 0x1000)		/* outside guest RAM */
#define BUF_GPA(i, h)	(0x40000 + (i) * 0x1000 + (h) * 0x100)
#define BUF_LEN		0x100
#define DEV_FEATURES	((1ULL << 3) | (1ULL << 40))
#define S_ACK		VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRV		VIRTIO_CONFIG_S_DRIVER
#define S_FOK		VIRTIO_CONFIG_S_FEATURES_OK
#define S_DOK		VIRTIO_CONFIG_S_DRIVER_OK
#define S_NR		VIRTIO_CONFIG_S_NEEDS_RESET
#define F_V1		(1ULL << VIRTIO_F_VERSION_1)
#define WAIT_MS		10000
#define MODE(pq)	((pq) ? "thread per queue" : "one device thread")

static struct kvm kvm;
static struct lkvm_config cfg;
static void *ram;

/* Waits up to 10 s for @cond; true if it came. */
#define wait_until(cond)						\
	({								\
		int __i = 0;						\
		while (!(cond) && ++__i < WAIT_MS)			\
			usleep(1000);					\
		__i < WAIT_MS;						\
	})

/* A watch on one of the core's event loops, to flush it (core_flush()). */
struct sentinel {
	int fd;
	struct evloop_watch w;
	atomic_uint seen;
};

/* What the core shows a transport, read under vdev->lock. */
struct view {
	u8 status;
	bool broken;
	u8 isr;
	u64 guest_features;
	u16 config_vector;
	u16 vector[NQ];
	bool enabled[NQ];
	bool mapped[NQ];
};

struct t {
	struct virtio_device *vdev;
	bool pq;			/* ops->thread_per_queue */
	unsigned int hooks;		/* kvm exit hooks before this device */
	struct virtio_device_ops ops;
	struct sentinel sent[NQ + 1];	/* one per queue loop, device loop */
	u64 ring[NQ];			/* the driver's ring bases */
	u16 avail_idx[NQ];
};

/* ------------------------------------------------------------------------
 * Every core function this test calls and every core field it reads or
 * sets, in one place: when virtio/core.c renames a function or moves a
 * field behind one, only this block changes (the fake transport below
 * only sets ISR bits, as real ones do).  Transport side first (what
 * virtio-pci/mmio do for a driver's register access, under vdev->lock as
 * they hold it), then device side (what a device's handle_queue and
 * completion path call).
 */
static __unused int core_init(struct t *t, enum virtio_transport_kind kind,
		     const struct virtio_transport_ops *tops)
{
	return virtio_device_init(t->vdev, &kvm, &t->ops, tops, NULL, NULL,
				  kind == VIRTIO_TRANSPORT_PCI_LEGACY ||
				  kind == VIRTIO_TRANSPORT_MMIO_LEGACY);
}

/* The event loop serving queue @i, or the device's own (@i == NQ). */
static __unused struct evloop *core_loop(struct t *t, unsigned int i)
{
	return i < NQ && t->vdev->ops->thread_per_queue ?
	       &t->vdev->queues[i].loop : &t->vdev->loop;
}

/* The eventfd a driver's notify lands on (the ioeventfd). */
static __unused int core_kick_fd(struct t *t, unsigned int i)
{
	return t->vdev->queues[i].kick_fd;
}

static __unused void drv_status(struct t *t, u8 status)
{
	pthread_mutex_lock(&t->vdev->lock);
	virtio_set_status(t->vdev, status);
	pthread_mutex_unlock(&t->vdev->lock);
}

static __unused void drv_features(struct t *t, u64 features)
{
	pthread_mutex_lock(&t->vdev->lock);
	virtio_set_guest_features(t->vdev, 0, (u32)features);
	virtio_set_guest_features(t->vdev, 1, (u32)(features >> 32));
	pthread_mutex_unlock(&t->vdev->lock);
}

static __unused u64 drv_host_features(struct t *t)
{
	return virtio_get_host_features(t->vdev, 0) |
	       (u64)virtio_get_host_features(t->vdev, 1) << 32;
}

static __unused bool drv_queue_config_allowed(struct t *t)
{
	bool ok;

	pthread_mutex_lock(&t->vdev->lock);
	ok = virtio_queue_config_allowed(t->vdev);
	pthread_mutex_unlock(&t->vdev->lock);
	return ok;
}

/* What a transport stores while queue config is open; vectors too. */
static __unused void drv_queue_setup(struct t *t, unsigned int i, u64 base)
{
	struct virtio_queue *q = &t->vdev->queues[i];

	pthread_mutex_lock(&t->vdev->lock);
	q->ring.size = QSIZE;
	q->ring.desc_gpa = base;
	q->ring.avail_gpa = base + 0x1000;
	q->ring.used_gpa = base + 0x2000;
	q->enabled = true;
	q->msix_vector = 1 + i;
	t->vdev->config_msix_vector = 0;
	pthread_mutex_unlock(&t->vdev->lock);
}

static __unused void drv_bus_master(struct t *t, bool on)
{
	pthread_mutex_lock(&t->vdev->lock);
	virtio_set_dma_enabled(t->vdev, on);
	pthread_mutex_unlock(&t->vdev->lock);
}

/* A driver's notify without an ioeventfd. */
static __unused void drv_notify(struct t *t, unsigned int i)
{
	virtio_queue_kicked(t->vdev, i);
}

/* A device changed its config: what virtio_config_changed() is for. */
static __unused u8 core_config_changed(struct t *t)
{
	struct virtio_device *vdev = t->vdev;
	u8 gen;

	pthread_mutex_lock(&vdev->lock);
	virtio_config_changed(vdev);
	gen = vdev->config_generation;
	pthread_mutex_unlock(&vdev->lock);
	return gen;
}

static __unused struct view core_view(struct t *t)
{
	struct virtio_device *vdev = t->vdev;
	struct view v;

	pthread_mutex_lock(&vdev->lock);
	v = (struct view){
		.status = vdev->status, .broken = vdev->broken,
		.isr = vdev->isr, .guest_features = vdev->guest_features,
		.config_vector = vdev->config_msix_vector,
	};
	for (unsigned int i = 0; i < NQ; i++) {
		v.vector[i] = vdev->queues[i].msix_vector;
		v.enabled[i] = vdev->queues[i].enabled;
		v.mapped[i] = vring_mapped(&vdev->queues[i].ring);
	}
	pthread_mutex_unlock(&vdev->lock);
	return v;
}

/* Device side. */
static __unused int dev_pop(struct virtio_device *vdev __unused,
		   struct virtio_queue *q, struct vring_chain *chain)
{
	return virtio_queue_pop(q, chain);
}

static __unused bool dev_more(struct virtio_queue *q)
{
	return virtio_queue_more(q);
}

/* Any thread (the queue service files it for the queue's thread). */
static __unused void dev_complete_id(struct virtio_queue *q, struct vring_id id,
			    u32 len)
{
	virtio_queue_complete(q, id, len);
}

static __unused void dev_push(struct virtio_device *vdev __unused,
		     struct virtio_queue *q, const struct vring_chain *chain,
		     u32 len)
{
	dev_complete_id(q, chain->id, len);
}

/* The core interrupts when the device's callback returns. */
static __unused void dev_interrupt(struct virtio_device *vdev __unused,
			  struct virtio_queue *q __unused)
{
}
/* ---------------------------------------------------------------------- */

/* A backend finishing a chain it held, from a thread of its own. */
static __unused void dev_complete(struct virtio_device *vdev, unsigned int i,
			 struct vring_id id, u32 len)
{
	dev_complete_id(&vdev->queues[i], id, len);
}

static __unused void sentinel_cb(void *opaque, u32 events __unused)
{
	struct sentinel *s = opaque;
	u64 cnt;

	if (read(s->fd, &cnt, sizeof(cnt)) == sizeof(cnt))
		atomic_fetch_add(&s->seen, 1);
}

static __unused int sentinel_add(struct sentinel *s, struct evloop *loop)
{
	s->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->fd < 0)
		return -errno;
	s->w = (struct evloop_watch){ .fd = s->fd, .cb = sentinel_cb,
				      .opaque = s };
	return evloop_add(loop, &s->w, EPOLLIN);
}

static __unused bool sentinel_round_trip(struct sentinel *s)
{
	unsigned int before = atomic_load(&s->seen);

	if (write(s->fd, &(u64){ 1 }, sizeof(u64)) != sizeof(u64))
		return false;
	return wait_until(atomic_load(&s->seen) != before);
}

static __unused bool kick_pending(struct t *t)
{
	for (unsigned int i = 0; i < NQ; i++) {
		struct pollfd p = { .fd = core_kick_fd(t, i), .events = POLLIN };

		if (poll(&p, 1, 0) > 0)
			return true;
	}
	return false;
}

/*
 * Waits until the device threads have read every kick and finished with
 * it: a callback queued behind a kick handler on the same loop runs after
 * it, and the queue loops go first since they may leave interrupts to the
 * device loop.  Repeated while handlers kick again (yield, broken chain).
 */
static __unused bool core_flush(struct t *t)
{
	for (int round = 0; round < 100; round++) {
		if (!wait_until(!kick_pending(t)))
			return false;
		for (unsigned int i = t->pq ? 0 : NQ; i <= NQ; i++)
			if (!sentinel_round_trip(&t->sent[i]))
				return false;
		if (!kick_pending(t))
			return true;
	}
	return false;
}

/* VM exit for this device alone: stops its threads, frees it. */
static __unused void core_free(struct t *t)
{
	while (kvm.nr_exit_hooks > t->hooks) {
		struct kvm_exit_hook *h = &kvm.exit_hooks[--kvm.nr_exit_hooks];

		h->fn(h->opaque);
	}
	for (unsigned int i = 0; i <= NQ; i++)
		if (t->sent[i].fd > 0)
			close(t->sent[i].fd);
}

/* The fake transport: counts interrupts, sets ISR bits as INTx would. */
static struct {
	atomic_uint queue[NQ];
	atomic_uint config;
} sig;

/* Transports call these with vdev->lock held. */
static __unused void fake_signal_queue(struct virtio_device *vdev,
			      struct virtio_queue *q)
{
	vdev->isr |= 1;
	atomic_fetch_add(&sig.queue[q->index], 1);
}

static __unused void fake_signal_config(struct virtio_device *vdev)
{
	vdev->isr |= 2;
	atomic_fetch_add(&sig.config, 1);
}

static __unused void fake_tfree(struct virtio_device *vdev)
{
	free(vdev);
}

static const struct virtio_transport_ops fake_tops = {
	.interrupt_queue = fake_signal_queue,
	.interrupt_config = fake_signal_config,
	.free = fake_tfree,
};

/* The fake device. */
enum dev_mode {
	CONSUME,	/* use every chain at once */
	HOLD,		/* keep one chain per queue in flight (async I/O) */
	STALL,		/* queue 0: stall until room; queue 1: HOLD */
	GATE,		/* queue 0: stay in handle_queue until a reset waits */
};

static struct {
	atomic_int mode;
	atomic_uint handled[NQ], starts, resets, quiesces;
	pthread_t thread[NQ];		/* that ran handle_queue last */
	atomic_bool holding[NQ];	/* HOLD: a chain in flight; publishes held[] */
	struct vring_id held[NQ];
	atomic_bool gate_in, gate_done, reset_waiting;
	atomic_uint resets_at_gate_exit;
	atomic_bool room;		/* STALL: the backend has room */
	atomic_uint stalls;
} dev;

static struct vring_chain elems[NQ];

static __unused void fake_handle_queue(struct virtio_device *vdev,
			      struct virtio_queue *q)
{
	struct vring_chain *e = &elems[q->index];
	unsigned int i = q->index;

	dev.thread[i] = pthread_self();
	switch (atomic_load(&dev.mode)) {
	case STALL:
		if (i == 0) {
			if (!atomic_load(&dev.room)) {
				atomic_fetch_add(&dev.stalls, 1);
				virtio_queue_stall(q);
				break;
			}
			while (dev_pop(vdev, q, e) > 0)
				dev_push(vdev, q, e, 1);
			dev_interrupt(vdev, q);
			break;
		}
		/* Queue 1 holds its chain. */
		/* fallthrough */
	case HOLD:
		if (!dev.holding[i] && dev_pop(vdev, q, e) > 0) {
			dev.held[i] = e->id;
			dev.holding[i] = true;
		}
		break;
	case GATE:
		if (i == 0 && !atomic_load(&dev.gate_done) &&
		    dev_pop(vdev, q, e) > 0) {
			atomic_store(&dev.gate_in, true);
			wait_until(atomic_load(&dev.reset_waiting));
			/*
			 * Give the reset a moment to block on our lock; the
			 * assertion below holds whether or not it got there.
			 */
			usleep(20000);
			dev_push(vdev, q, e, 1);
			dev_interrupt(vdev, q);
			atomic_store(&dev.resets_at_gate_exit,
				     atomic_load(&dev.resets));
			atomic_store(&dev.gate_done, true);
			break;
		}
		/* fallthrough */
	case CONSUME:
		/*
		 * Queue 1 asks virtio_queue_more() first, as virtio-blk
		 * does: the cases below then also prove that a run ending
		 * on its false leaves the queue idle as a pop would (kicks
		 * armed, no buffer unseen, the interrupt sent).
		 */
		while ((i == 0 || dev_more(q)) && dev_pop(vdev, q, e) > 0)
			dev_push(vdev, q, e, 1);
		dev_interrupt(vdev, q);
		break;
	}
	atomic_fetch_add(&dev.handled[i], 1);
}

static __unused int fake_start(struct virtio_device *vdev __unused)
{
	atomic_fetch_add(&dev.starts, 1);
	return 0;
}

/* A device reset forgets the chains it held: their ring is gone. */
static __unused void fake_reset(struct virtio_device *vdev __unused)
{
	for (unsigned int i = 0; i < NQ; i++)
		atomic_store(&dev.holding[i], false);
	atomic_fetch_add(&dev.resets, 1);
}

static __unused void fake_quiesce(struct virtio_device *vdev __unused)
{
	atomic_fetch_add(&dev.quiesces, 1);
}

static const struct virtio_device_ops fake_ops = {
	.name = "fake",
	.device_id = 42,
	.nr_queues = NQ,
	.queue_max_size = QSIZE,
	.features = DEV_FEATURES,
	.start = fake_start,
	.quiesce = fake_quiesce,
	.reset = fake_reset,
	.handle_queue = fake_handle_queue,
};

/* The driver's rings (split layout, virtio 1.2 2.7). */
static __unused void *gpa(u64 addr, u64 len)
{
	return guest_mem_ptr(&kvm.mem, addr, len);
}

static __unused struct vring_used *ring_used(u64 base)
{
	return gpa(base + 0x2000, sizeof(struct vring_used) +
				  QSIZE * sizeof(struct vring_used_elem));
}

/* Makes one device-writable buffer available; @bad: a head out of range. */
static __unused void ring_post(struct t *t, unsigned int i, bool bad)
{
	struct vring_desc *desc = gpa(t->ring[i], 16 * QSIZE);
	struct vring_avail *avail = gpa(t->ring[i] + 0x1000, 6 + 2 * QSIZE);
	u16 head = t->avail_idx[i] % QSIZE;

	desc[head] = (struct vring_desc){
		.addr = htole64(BUF_GPA(i, head)), .len = htole32(BUF_LEN),
		.flags = htole16(VRING_DESC_F_WRITE),
	};
	avail->ring[t->avail_idx[i] % QSIZE] = htole16(bad ? QSIZE + 3 : head);
	/* Release: pairs with the acquire in vring_pop(): entry before index. */
	smp_store_release(&avail->idx, htole16(++t->avail_idx[i]));
}

/* The device asks for notifies (VRING_USED_F_NO_NOTIFY clear). */
static __unused bool ring_kicks_on(u64 base)
{
	return !(le16toh(READ_ONCE(ring_used(base)->flags)) &
		 VRING_USED_F_NO_NOTIFY);
}

static __unused u16 ring_used_idx(u64 base)
{
	/* Acquire: pairs with the release in vring_push(): entries before index. */
	return le16toh(smp_load_acquire(&ring_used(base)->idx));
}

static __unused void t_new(struct t *t, bool pq, enum virtio_transport_kind kind)
{
	int ret;

	memset(t, 0, sizeof(*t));
	memset(&dev, 0, sizeof(dev));
	memset(&sig, 0, sizeof(sig));
	memset(ram, 0, MEM_SIZE);
	t->pq = pq;
	t->ops = fake_ops;
	t->ops.thread_per_queue = pq;
	for (unsigned int i = 0; i < NQ; i++)
		t->ring[i] = RING_A(i);
	t->vdev = calloc(1, sizeof(*t->vdev));
	t->hooks = kvm.nr_exit_hooks;
	ret = core_init(t, kind, &fake_tops);
	for (unsigned int i = 0; i <= NQ && !ret; i++)
		ret = sentinel_add(&t->sent[i], core_loop(t, i));
	if (ret) {
		printf("Bail out! device set-up: %s\n", strerror(-ret));
		exit(1);
	}
}

/* The driver's side of 3.1.1 up to step 7 (queues set up, not live). */
static __unused void drv_setup(struct t *t, unsigned int nr_queues)
{
	drv_status(t, 0);
	drv_status(t, S_ACK | S_DRV);
	drv_features(t, F_V1);
	drv_status(t, S_ACK | S_DRV | S_FOK);
	for (unsigned int i = 0; i < nr_queues; i++)
		drv_queue_setup(t, i, t->ring[i]);
}

/* The fake VM's guest memory; before the first t_new(). */
static __unused void core_fixture_init(void)
{
	log_level = LOG_ERROR;	/* expected NEEDS_RESET warnings */
	kvm.cfg = &cfg;
	kvm.sys_fd = kvm.vm_fd = -1;
	ram = calloc(1, MEM_SIZE);
	guest_mem_add(&kvm.mem, 0, MEM_SIZE, ram);
}

static __unused void core_fixture_exit(void)
{
	free(ram);
}

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio core's state machine (virtio/core.c), driven from both sides:
 * a fake transport makes the calls virtio-pci/mmio make for a driver's
 * register writes (status, features, queue layout, bus mastering,
 * notifies) and counts the interrupts the core asks it to raise; a fake
 * device records what the core asks of it.  The device threads are the
 * real ones; the rings live in a fake VM's malloc'ed guest memory (no
 * /dev/kvm).  Every case runs twice: with one device thread, and with a
 * thread per queue (ops->thread_per_queue).
 *
 * Nothing here is timed: each wait polls for its event for up to 10 s, and
 * "did not happen" is checked after flushing the device threads (every
 * kick read and handled, see core_flush()).
 */
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
static int core_init(struct t *t, enum virtio_transport_kind kind,
		     const struct virtio_transport_ops *tops)
{
	return virtio_device_init(t->vdev, &kvm, &t->ops, tops, NULL, NULL,
				  kind == VIRTIO_TRANSPORT_PCI_LEGACY ||
				  kind == VIRTIO_TRANSPORT_MMIO_LEGACY);
}

/* The event loop serving queue @i, or the device's own (@i == NQ). */
static struct evloop *core_loop(struct t *t, unsigned int i)
{
	return i < NQ && t->vdev->ops->thread_per_queue ?
	       &t->vdev->queues[i].loop : &t->vdev->loop;
}

/* The eventfd a driver's notify lands on (the ioeventfd). */
static int core_kick_fd(struct t *t, unsigned int i)
{
	return t->vdev->queues[i].kick_fd;
}

static void drv_status(struct t *t, u8 status)
{
	pthread_mutex_lock(&t->vdev->lock);
	virtio_set_status(t->vdev, status);
	pthread_mutex_unlock(&t->vdev->lock);
}

static void drv_features(struct t *t, u64 features)
{
	pthread_mutex_lock(&t->vdev->lock);
	virtio_set_guest_features(t->vdev, 0, (u32)features);
	virtio_set_guest_features(t->vdev, 1, (u32)(features >> 32));
	pthread_mutex_unlock(&t->vdev->lock);
}

static u64 drv_host_features(struct t *t)
{
	return virtio_get_host_features(t->vdev, 0) |
	       (u64)virtio_get_host_features(t->vdev, 1) << 32;
}

static bool drv_queue_config_allowed(struct t *t)
{
	bool ok;

	pthread_mutex_lock(&t->vdev->lock);
	ok = virtio_queue_config_allowed(t->vdev);
	pthread_mutex_unlock(&t->vdev->lock);
	return ok;
}

/* What a transport stores while queue config is open; vectors too. */
static void drv_queue_setup(struct t *t, unsigned int i, u64 base)
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

static void drv_bus_master(struct t *t, bool on)
{
	pthread_mutex_lock(&t->vdev->lock);
	virtio_set_dma_enabled(t->vdev, on);
	pthread_mutex_unlock(&t->vdev->lock);
}

/* A driver's notify without an ioeventfd. */
static void drv_notify(struct t *t, unsigned int i)
{
	virtio_queue_kicked(t->vdev, i);
}

/* A device changed its config: what virtio_config_changed() is for. */
static u8 core_config_changed(struct t *t)
{
	struct virtio_device *vdev = t->vdev;
	u8 gen;

	pthread_mutex_lock(&vdev->lock);
	virtio_config_changed(vdev);
	gen = vdev->config_generation;
	pthread_mutex_unlock(&vdev->lock);
	return gen;
}

static struct view core_view(struct t *t)
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
static int dev_pop(struct virtio_device *vdev __unused,
		   struct virtio_queue *q, struct vring_chain *chain)
{
	return virtio_queue_pop(q, chain);
}

static bool dev_more(struct virtio_queue *q)
{
	return virtio_queue_more(q);
}

/* Any thread (the queue service files it for the queue's thread). */
static void dev_complete_id(struct virtio_queue *q, struct vring_id id,
			    u32 len)
{
	virtio_queue_complete(q, id, len);
}

static void dev_push(struct virtio_device *vdev __unused,
		     struct virtio_queue *q, const struct vring_chain *chain,
		     u32 len)
{
	dev_complete_id(q, chain->id, len);
}

/* The core interrupts when the device's callback returns. */
static void dev_interrupt(struct virtio_device *vdev __unused,
			  struct virtio_queue *q __unused)
{
}
/* ---------------------------------------------------------------------- */

/* A backend finishing a chain it held, from a thread of its own. */
static void dev_complete(struct virtio_device *vdev, unsigned int i,
			 struct vring_id id, u32 len)
{
	dev_complete_id(&vdev->queues[i], id, len);
}

static void sentinel_cb(void *opaque, u32 events __unused)
{
	struct sentinel *s = opaque;
	u64 cnt;

	if (read(s->fd, &cnt, sizeof(cnt)) == sizeof(cnt))
		atomic_fetch_add(&s->seen, 1);
}

static int sentinel_add(struct sentinel *s, struct evloop *loop)
{
	s->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->fd < 0)
		return -errno;
	s->w = (struct evloop_watch){ .fd = s->fd, .cb = sentinel_cb,
				      .opaque = s };
	return evloop_add(loop, &s->w, EPOLLIN);
}

static bool sentinel_round_trip(struct sentinel *s)
{
	unsigned int before = atomic_load(&s->seen);

	if (write(s->fd, &(u64){ 1 }, sizeof(u64)) != sizeof(u64))
		return false;
	return wait_until(atomic_load(&s->seen) != before);
}

static bool kick_pending(struct t *t)
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
static bool core_flush(struct t *t)
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
static void core_free(struct t *t)
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
static void fake_signal_queue(struct virtio_device *vdev,
			      struct virtio_queue *q)
{
	vdev->isr |= 1;
	atomic_fetch_add(&sig.queue[q->index], 1);
}

static void fake_signal_config(struct virtio_device *vdev)
{
	vdev->isr |= 2;
	atomic_fetch_add(&sig.config, 1);
}

static void fake_tfree(struct virtio_device *vdev)
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

static void fake_handle_queue(struct virtio_device *vdev,
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

static int fake_start(struct virtio_device *vdev __unused)
{
	atomic_fetch_add(&dev.starts, 1);
	return 0;
}

/* A device reset forgets the chains it held: their ring is gone. */
static void fake_reset(struct virtio_device *vdev __unused)
{
	for (unsigned int i = 0; i < NQ; i++)
		atomic_store(&dev.holding[i], false);
	atomic_fetch_add(&dev.resets, 1);
}

static void fake_quiesce(struct virtio_device *vdev __unused)
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
static void *gpa(u64 addr, u64 len)
{
	return guest_mem_ptr(&kvm.mem, addr, len);
}

static struct vring_used *ring_used(u64 base)
{
	return gpa(base + 0x2000, sizeof(struct vring_used) +
				  QSIZE * sizeof(struct vring_used_elem));
}

/* Makes one device-writable buffer available; @bad: a head out of range. */
static void ring_post(struct t *t, unsigned int i, bool bad)
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
static bool ring_kicks_on(u64 base)
{
	return !(le16toh(READ_ONCE(ring_used(base)->flags)) &
		 VRING_USED_F_NO_NOTIFY);
}

static u16 ring_used_idx(u64 base)
{
	/* Acquire: pairs with the release in vring_push(): entries before index. */
	return le16toh(smp_load_acquire(&ring_used(base)->idx));
}

static void t_new(struct t *t, bool pq, enum virtio_transport_kind kind)
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
static void drv_setup(struct t *t, unsigned int nr_queues)
{
	drv_status(t, 0);
	drv_status(t, S_ACK | S_DRV);
	drv_features(t, F_V1);
	drv_status(t, S_ACK | S_DRV | S_FOK);
	for (unsigned int i = 0; i < nr_queues; i++)
		drv_queue_setup(t, i, t->ring[i]);
}

/* Status up to FEATURES_OK: feature negotiation (3.1.1 steps 2-6). */
static void case_negotiation(bool pq)
{
	struct t t;
	struct view v;

	diag("feature negotiation, %s", MODE(pq));
	t_new(&t, pq, VIRTIO_TRANSPORT_MMIO);
	is_int(drv_host_features(&t),
	       DEV_FEATURES | F_V1 | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
	       (1ULL << VIRTIO_RING_F_EVENT_IDX),
	       "offers the device's features, VERSION_1 and the ring features");
	is_int(core_view(&t).status, 0, "status starts at 0");

	drv_status(&t, S_ACK);
	is_int(core_view(&t).status, S_ACK, "ACKNOWLEDGE");
	drv_status(&t, S_ACK | S_DRV);
	is_int(core_view(&t).status, S_ACK | S_DRV, "DRIVER");

	/* 2.2.1: the driver may only accept what was offered. */
	drv_features(&t, ~0ULL & ~F_V1);
	is_int(core_view(&t).guest_features, DEV_FEATURES |
	       (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
	       (1ULL << VIRTIO_RING_F_EVENT_IDX),
	       "accepted features are masked to the offered ones");
	/*
	 * 6.1: a driver must accept VERSION_1; 2.2.2: a device refuses a
	 * subset it cannot take by leaving FEATURES_OK clear (3.1.1 step 6).
	 */
	drv_status(&t, S_ACK | S_DRV | S_FOK);
	v = core_view(&t);
	ok(v.status == (S_ACK | S_DRV) && !v.broken,
	   "FEATURES_OK without VERSION_1 is refused (not an error)");
	drv_features(&t, F_V1);
	drv_status(&t, S_ACK | S_DRV | S_FOK);
	is_int(core_view(&t).status, S_ACK | S_DRV | S_FOK,
	       "FEATURES_OK with VERSION_1");
	/* 3.1.1 step 5: no new features after FEATURES_OK. */
	drv_features(&t, F_V1 | DEV_FEATURES);
	is_int(core_view(&t).guest_features, F_V1,
	       "features are read-only after FEATURES_OK");
	core_free(&t);

	/* A legacy-only device has no VERSION_1 to insist on. */
	t_new(&t, pq, VIRTIO_TRANSPORT_MMIO_LEGACY);
	ok(!(drv_host_features(&t) & F_V1),
	   "legacy-only: VERSION_1 not offered");
	drv_status(&t, S_ACK | S_DRV);
	drv_features(&t, 0);
	drv_status(&t, S_ACK | S_DRV | S_FOK);
	is_int(core_view(&t).status, S_ACK | S_DRV | S_FOK,
	       "legacy-only: FEATURES_OK without VERSION_1");
	core_free(&t);
}

/* DRIVER_OK, NEEDS_RESET for the driver's mistakes, reset, a new driver. */
static void case_lifecycle(bool pq)
{
	struct t t;
	struct view v;
	unsigned int h0;

	diag("DRIVER_OK, NEEDS_RESET, reset, %s", MODE(pq));
	t_new(&t, pq, VIRTIO_TRANSPORT_MMIO);
	drv_setup(&t, 0);
	ok(drv_queue_config_allowed(&t), "queue config open before DRIVER_OK");
	for (unsigned int i = 0; i < NQ; i++)
		drv_queue_setup(&t, i, t.ring[i]);
	/*
	 * 2.1.2: no buffer is consumed before DRIVER_OK, even if the
	 * driver notifies (which 3.1.1 forbids).
	 */
	ring_post(&t, 0, false);
	drv_notify(&t, 0);
	ok(core_flush(&t), "device threads flushed");
	ok(!dev.handled[0] && !ring_used_idx(t.ring[0]) && !sig.queue[0],
	   "a notify before DRIVER_OK runs nothing");

	/* 3.1.1 step 7: queues may be populated before DRIVER_OK. */
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK);
	v = core_view(&t);
	ok(v.status == (S_ACK | S_DRV | S_FOK | S_DOK) && v.mapped[0] &&
	   v.mapped[1] && dev.starts == 1,
	   "DRIVER_OK maps every enabled queue and starts the device");
	ok(wait_until(ring_used_idx(t.ring[0]) == 1),
	   "a buffer posted before DRIVER_OK is used without a new notify");
	ok(wait_until(sig.queue[0] >= 1), "and its interrupt is raised");
	ok(wait_until(dev.handled[1] >= 1),
	   "the other enabled queue is looked at too");
	/* virtio.h: one thread per queue, or the device's one thread. */
	ok(core_flush(&t) &&
	   pthread_equal(dev.thread[0], dev.thread[1]) == !pq &&
	   !pthread_equal(dev.thread[0], pthread_self()),
	   pq ? "each queue ran on its own thread" :
		"both queues ran on the device thread");
	/* virtio.h: queue config is ignored once DRIVER_OK is set. */
	ok(!drv_queue_config_allowed(&t), "queue config frozen after DRIVER_OK");

	ring_post(&t, 1, false);
	drv_notify(&t, 1);
	ok(wait_until(ring_used_idx(t.ring[1]) == 1), "a notify is served");
	/* Queue 0 went idle through a pop, queue 1 through queue_more. */
	ok(core_flush(&t) && ring_kicks_on(t.ring[0]) &&
	   ring_kicks_on(t.ring[1]),
	   "each queue asks for notifies again once its ring is empty");

	/* 2.1: NEEDS_RESET reports a device error; core.c: never the driver's. */
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK | S_NR);
	v = core_view(&t);
	ok(v.status == (S_ACK | S_DRV | S_FOK | S_DOK) && !v.broken,
	   "the driver cannot set NEEDS_RESET");

	/*
	 * 2.1.1: the driver must not clear a status bit; 2.1.2: the device
	 * sets NEEDS_RESET and, DRIVER_OK being set, sends a config change
	 * notification.
	 */
	drv_status(&t, S_ACK | S_DRV | S_FOK);
	v = core_view(&t);
	ok(v.status == (S_ACK | S_DRV | S_FOK | S_DOK | S_NR) && v.broken,
	   "clearing DRIVER_OK without a reset: NEEDS_RESET, bits kept");
	is_int(sig.config, 1, "config change interrupt for NEEDS_RESET");
	ok(core_flush(&t), "device threads flushed");
	h0 = dev.handled[0];
	ring_post(&t, 0, false);
	drv_notify(&t, 0);
	ok(core_flush(&t), "device threads flushed");
	ok(dev.handled[0] == h0 && ring_used_idx(t.ring[0]) == 1,
	   "a broken device serves no queue");
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK);
	is_int(core_view(&t).status, S_ACK | S_DRV | S_FOK | S_DOK | S_NR,
	       "NEEDS_RESET stays until a reset");

	/* 2.4.1: status 0 after a reset; core.c: all driver set-up goes. */
	drv_status(&t, 0);
	v = core_view(&t);
	ok(v.status == 0 && !v.broken && v.isr == 0 && !v.guest_features,
	   "reset clears status, NEEDS_RESET, broken, ISR and features");
	ok(v.config_vector == VIRTIO_NO_VECTOR &&
	   v.vector[0] == VIRTIO_NO_VECTOR && v.vector[1] == VIRTIO_NO_VECTOR,
	   "reset clears the MSI-X vectors");
	ok(!v.enabled[0] && !v.enabled[1] && !v.mapped[0] && !v.mapped[1],
	   "reset disables and unmaps the queues");
	is_int(dev.resets, 2, "reset reaches the device (drv_setup's, this)");
	ok(drv_queue_config_allowed(&t), "queue config open again");

	/* A new driver: the device works again. */
	t.avail_idx[0] = 0;
	memset(gpa(t.ring[0], 0x3000), 0, 0x3000);
	drv_setup(&t, 1);
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK);
	ring_post(&t, 0, false);
	drv_notify(&t, 0);
	ok(wait_until(ring_used_idx(t.ring[0]) == 1),
	   "after the reset the device serves a new driver");
	core_free(&t);
}

/* A ring outside guest RAM at DRIVER_OK. */
static void case_bad_layout(bool pq)
{
	struct t t;
	struct view v;

	diag("bad ring layout, %s", MODE(pq));
	t_new(&t, pq, VIRTIO_TRANSPORT_MMIO);
	t.ring[1] = BAD_RING;
	drv_setup(&t, NQ);
	ring_post(&t, 0, false);
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK);
	v = core_view(&t);
	/* 2.1.2: NEEDS_RESET, and with DRIVER_OK set a config interrupt. */
	ok(v.broken && v.status == (S_ACK | S_DRV | S_FOK | S_DOK | S_NR),
	   "bad ring layout at DRIVER_OK: NEEDS_RESET");
	is_int(sig.config, 1, "config change interrupt");
	ok(!v.mapped[1] && !dev.starts, "bad queue unmapped, device not started");
	drv_notify(&t, 0);
	ok(core_flush(&t), "device threads flushed");
	ok(!dev.handled[0] && !ring_used_idx(t.ring[0]),
	   "the good queue is not served either");
	core_free(&t);
}

/* A descriptor chain the driver got wrong, found by the device thread. */
static void case_bad_chain(bool pq)
{
	struct t t;
	struct view v;
	unsigned int h[NQ];

	diag("malformed chain, %s", MODE(pq));
	t_new(&t, pq, VIRTIO_TRANSPORT_MMIO);
	drv_setup(&t, NQ);
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK);
	ring_post(&t, 0, true);
	drv_notify(&t, 0);
	ok(wait_until(core_view(&t).broken), "malformed chain: device broken");
	ok(core_flush(&t), "device threads flushed");
	v = core_view(&t);
	is_int(v.status, S_ACK | S_DRV | S_FOK | S_DOK | S_NR,
	       "NEEDS_RESET set (2.1.2)");
	is_int(sig.config, 1, "one config change interrupt");
	is_int(ring_used_idx(t.ring[0]), 0, "nothing used");
	for (unsigned int i = 0; i < NQ; i++) {
		h[i] = dev.handled[i];
		ring_post(&t, i, false);
		drv_notify(&t, i);
	}
	ok(core_flush(&t), "device threads flushed");
	ok(dev.handled[0] == h[0] && dev.handled[1] == h[1] &&
	   !ring_used_idx(t.ring[1]) && !sig.queue[0] && !sig.queue[1],
	   "no more handle_queue calls on any queue, no interrupts");
	core_free(&t);
}

/* Bus mastering off and on again (PCI COMMAND.MASTER). */
static void case_dma(bool pq)
{
	struct t t;
	unsigned int h[NQ], s0;

	diag("bus mastering, %s", MODE(pq));
	t_new(&t, pq, VIRTIO_TRANSPORT_MMIO);
	drv_setup(&t, NQ);
	/* virtio.h: quiesce finishes in-flight work of a live device. */
	drv_bus_master(&t, false);
	drv_bus_master(&t, true);
	is_int(dev.quiesces, 0, "no quiesce before DRIVER_OK");
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK);
	ok(core_flush(&t), "device threads flushed");
	h[0] = dev.handled[0];
	h[1] = dev.handled[1];
	s0 = sig.queue[0];

	drv_bus_master(&t, false);
	is_int(dev.quiesces, 1, "mastering off while DRIVER_OK: quiesced");
	drv_bus_master(&t, false);
	is_int(dev.quiesces, 1, "only when it goes off");
	/* core.c: with mastering off the rings are not touched. */
	ring_post(&t, 0, false);
	drv_notify(&t, 0);
	ok(core_flush(&t), "device threads flushed");
	ok(dev.handled[0] == h[0] && !ring_used_idx(t.ring[0]) &&
	   sig.queue[0] == s0, "DMA off: a notify runs nothing, no interrupt");

	/* core.c: every enabled queue is looked at, kicked meanwhile or not. */
	drv_bus_master(&t, true);
	ok(wait_until(ring_used_idx(t.ring[0]) == 1),
	   "DMA on: work posted meanwhile is handled");
	ok(wait_until(sig.queue[0] > s0), "and its interrupt raised");
	ok(wait_until(dev.handled[1] > h[1]),
	   "the queue nobody notified is looked at too");
	core_free(&t);
}

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

/*
 * 4.1.4.3 / 4.2.2: a device-side config change bumps the generation and,
 * once the driver is running, raises the config-change interrupt (ISR
 * bit 1); before DRIVER_OK and on a broken device it raises none.
 */
static void case_config_changed(bool pq)
{
	struct t t;
	unsigned int c0;
	u8 g0, g1;

	diag("config change from the device, %s", MODE(pq));
	t_new(&t, pq, VIRTIO_TRANSPORT_MMIO);
	drv_setup(&t, 1);
	c0 = atomic_load(&sig.config);
	g0 = t.vdev->config_generation;
	g1 = core_config_changed(&t);
	ok(g1 == (u8)(g0 + 1) && atomic_load(&sig.config) == c0,
	   "before DRIVER_OK: generation bumped, no interrupt");
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK);
	ok(core_config_changed(&t) == (u8)(g1 + 1) &&
	   atomic_load(&sig.config) == c0 + 1 && (core_view(&t).isr & 2),
	   "after DRIVER_OK: generation bumped, config interrupt, ISR bit 1");
	drv_status(&t, S_ACK | S_DRV | S_FOK);	/* breaks the device */
	c0 = atomic_load(&sig.config);
	core_config_changed(&t);
	is_int(atomic_load(&sig.config), c0,
	       "a broken device raises no further config interrupt");
	core_free(&t);
}

int main(void)
{
	tap_plan(2 * 85);
	log_level = LOG_ERROR;	/* expected NEEDS_RESET warnings */
	kvm.cfg = &cfg;
	kvm.sys_fd = kvm.vm_fd = -1;
	ram = calloc(1, MEM_SIZE);
	guest_mem_add(&kvm.mem, 0, MEM_SIZE, ram);

	for (int pq = 0; pq <= 1; pq++) {
		case_negotiation(pq);
		case_lifecycle(pq);
		case_bad_layout(pq);
		case_bad_chain(pq);
		case_dma(pq);
		case_dma_broken_in_flight(pq);
		case_reset_held(pq);
		case_stats(pq);
		case_stall(pq);
		case_reset_waits(pq);
		case_config_changed(pq);
	}
	free(ram);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk (virtio 1.2, section 5.2) on a block backend (disk/): raw
 * images through libaio, qcow2 through its worker thread.  blk-req.c turns
 * each chain into a backend request or an immediate status; this file is
 * the plumbing.  Requests are asynchronous: handle_queue pops and submits
 * as long as the backend has room, and the backend's completions (its
 * eventfd, watched on the device thread) write the status byte and hand
 * the chain back through virtio_queue_complete().  The event loop never
 * waits for the disk.
 *
 * num-queues=N > 1 (VIRTIO_BLK_F_MQ): the device thread serves every
 * queue, polling all their rings while busy, unless queue-threads asks for
 * one thread per queue (ops->thread_per_queue): then on a raw image each
 * queue has a backend lane of its own (disk_open_lane(): its own aio
 * context, eventfd and lock), which its thread submits to and reaps, so
 * queues share no lock on the request path and every completion is made
 * on its queue's thread.  A qcow2 image has one state for all: each queue
 * thread collects whatever it finished, and the core hands completions
 * made on another thread (the device thread's disk watch, another
 * queue's) over to the queue's own.  On a host with few CPUs one thread
 * is the faster (README "Performance": four threads and a vCPU on two
 * CPUs share them).  The disk is thread-safe, and a queue only pops a
 * chain once disk_reserve() has set room aside for it, so a full backend
 * stalls the queue (virtio_queue_stall()) and never fails a request; any
 * completion resumes it.  On a shared disk each queue may have at most
 * its share (depth/N) in flight, so no queue starves the others.
 *
 * A backend error (ENOSPC, EIO) is VIRTIO_BLK_S_IOERR for that request
 * only.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "lkvm/disk.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/virtio-transport.h"
#include "blk-req.h"
#include "devices.h"

#define BLK_QUEUE_SIZE		256

struct virtio_blk;

struct blk_req {
	struct blk_plan plan;		/* plan.dreq: the completion's handle */
	struct virtio_blk *blk;
	struct virtio_queue *q;
	struct blk_req *next;		/* in a free list */
	struct vring_chain chain;
};

struct virtio_blk {
	struct virtio_device *vdev;
	const char *path;
	struct disk *disk;
	/*
	 * queue-threads on a raw image: queue i submits to and reaps from
	 * lanes[i] (lanes[0] is disk), on its own thread, so the queues
	 * share no backend lock and no completion changes threads.
	 * Otherwise every entry is disk.
	 */
	struct disk *lanes[VIRTIO_MAX_QUEUES];
	struct virtio_watch lane_watch[VIRTIO_MAX_QUEUES];
	unsigned int nr_lanes;		/* own lanes; 0 = none */
	struct blk_geometry geo;
	/* Little-endian, as the guest reads it. */
	struct virtio_blk_config config;
	struct virtio_watch disk_watch;

	/* Multi-queue: ops is a copy with the queue count and MQ. */
	bool mq;
	struct virtio_device_ops ops;
	/*
	 * mq: each queue's share of the backend's depth, so that one busy
	 * queue cannot hold every slot and starve the others.  Queue i has
	 * submitted[i] - retired_held[i] - retired[i] in flight: the first
	 * two written only under its lock (virtio_count()), the last by
	 * completions on threads that do not hold it.
	 */
	unsigned int queue_depth;
	atomic_ulong submitted[VIRTIO_MAX_QUEUES];
	atomic_ulong retired_held[VIRTIO_MAX_QUEUES];
	atomic_ulong retired[VIRTIO_MAX_QUEUES];

	/*
	 * Reset or exit: the ring is gone.  The data already went where the
	 * driver asked, but nothing more (the status byte) may be written.
	 * Written with every lock held; read by completions, which run with
	 * vdev->lock held (disk_poll() in a device watch, disk_drain() in
	 * reset/quiesce) or a queue's lock (disk_poll_submitted() on a
	 * queue thread).
	 */
	bool dropping;
	/*
	 * Requests are recycled, not freed: a request (its chain's iovecs)
	 * is 16 KiB, and malloc/free of that per request costs more than
	 * the request itself.  The pool grows to the most ever in flight.
	 * A request given back by a holder of its queue's lock goes on the
	 * queue's own list, local[i], which only that lock guards: no lock
	 * or locked instruction of its own, nothing shared between queues.
	 * One given back elsewhere goes on pool, under pool_lock (a leaf),
	 * where a queue whose own list is empty looks next.
	 */
	struct blk_req *local[VIRTIO_MAX_QUEUES];
	pthread_mutex_t pool_lock;
	struct blk_req *pool;
};

/* Queue @i's lock held. */
static unsigned long blk_inflight(struct virtio_blk *blk, unsigned int i)
{
	return atomic_load_explicit(&blk->submitted[i], memory_order_relaxed) -
	       atomic_load_explicit(&blk->retired_held[i], memory_order_relaxed) -
	       atomic_load_explicit(&blk->retired[i], memory_order_relaxed);
}

static void virtio_blk__read_config(struct virtio_device *vdev, u32 offset,
				    void *data, u32 len)
{
	struct virtio_blk *blk = vdev->priv;

	/* The core checked offset + len against config_size. */
	memcpy(data, (u8 *)&blk->config + offset, len);
}

static struct blk_req *blk_req_get(struct virtio_blk *blk,
				   struct virtio_queue *q)
{
	struct blk_req *r = blk->local[q->index];

	if (r) {
		blk->local[q->index] = r->next;
	} else {
		pthread_mutex_lock(&blk->pool_lock);
		r = blk->pool;
		if (r)
			blk->pool = r->next;
		pthread_mutex_unlock(&blk->pool_lock);
	}
	if (!r)
		r = malloc(sizeof(*r));
	if (r) {
		r->blk = blk;
		r->q = q;
	}
	return r;
}

/* Any thread. */
static void blk_req_put(struct virtio_blk *blk, struct blk_req *r)
{
	if (virtio_queue_held(r->q)) {
		r->next = blk->local[r->q->index];
		blk->local[r->q->index] = r;
		return;
	}
	pthread_mutex_lock(&blk->pool_lock);
	r->next = blk->pool;
	blk->pool = r;
	pthread_mutex_unlock(&blk->pool_lock);
}

/* Status byte, then the chain back to the driver.  Any thread. */
static void blk_req_finish(struct blk_req *r, u8 status)
{
	struct virtio_device *vdev = r->q->vdev;

	if (status == VIRTIO_BLK_S_OK && (r->plan.dreq.op == DISK_OP_READ ||
					  r->plan.dreq.op == DISK_OP_WRITE))
		virtio_queue_stat_bytes(r->q, r->plan.dreq.len);
	else if (status != VIRTIO_BLK_S_OK)
		virtio_stat_error(vdev);
	*r->plan.status = status;
	vring_chain_release(&r->chain);
	virtio_queue_complete(r->q, r->chain.id, r->plan.written + 1);
	blk_req_put(r->blk, r);
}

/* A submitted request is over (completed or dropped).  Any thread. */
static void blk_req_retire(struct blk_req *r)
{
	unsigned int i = r->q->index;

	/*
	 * Before the completion, whose virtio_queue_complete() resumes a
	 * queue stalled on its share: from another thread with a full
	 * fence after counting it (see queue.c); under the queue's lock,
	 * the lock orders it before the queue's next look.
	 */
	if (virtio_queue_held(r->q))
		virtio_count(&r->blk->retired_held[i], 1);
	else
		atomic_fetch_add(&r->blk->retired[i], 1);
}

/* Inside disk_poll()/disk_drain(). */
static void blk_req_done(struct disk_req *dreq, int ret)
{
	struct blk_req *r = (struct blk_req *)((u8 *)dreq -
					       offsetof(struct blk_req, plan.dreq));
	struct virtio_blk *blk = r->blk;

	blk_req_retire(r);
	if (blk->dropping) {
		blk_req_put(blk, r);
		return;
	}
	if (ret) {
		pr_debug("virtio-blk %s: request %llu (type %d at %llu): %s",
			 blk->path, (unsigned long long)dreq->id, dreq->op,
			 (unsigned long long)dreq->offset, strerror(-ret));
		r->plan.written = 0;
	}
	blk_req_finish(r, ret ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

/* A popped chain, with backend room reserved for it. */
static void blk_start(struct virtio_blk *blk, struct blk_req *r)
{
	struct disk *disk = blk->lanes[r->q->index];
	int ret;

	switch (blk_req_plan(&blk->geo, &r->chain, &r->plan)) {
	case BLK_PLAN_NO_STATUS:
		pr_debug("virtio-blk %s: request without status byte",
			 blk->path);
		virtio_stat_error(r->q->vdev);
		disk_unreserve(disk);
		vring_chain_release(&r->chain);
		virtio_queue_complete(r->q, r->chain.id, 0);
		blk_req_put(blk, r);
		return;
	case BLK_PLAN_DONE:
		disk_unreserve(disk);
		if (r->plan.result != VIRTIO_BLK_S_OK)
			virtio_stat_error(r->q->vdev);
		*r->plan.status = r->plan.result;
		vring_chain_release(&r->chain);
		virtio_queue_complete(r->q, r->chain.id, r->plan.written + 1);
		blk_req_put(blk, r);
		return;
	case BLK_PLAN_SUBMIT:
		break;
	}
	r->plan.dreq.done = blk_req_done;
	r->plan.dreq.opaque = r;
	virtio_count(&blk->submitted[r->q->index], 1);
	ret = disk_submit_reserved(disk, &r->plan.dreq);
	if (ret) {
		blk_req_retire(r);
		pr_debug("virtio-blk %s: submit: %s", blk->path,
			 strerror(-ret));
		r->plan.written = 0;
		blk_req_finish(r, VIRTIO_BLK_S_IOERR);
	}
}

static void virtio_blk__handle_queue(struct virtio_device *vdev,
				     struct virtio_queue *q)
{
	struct virtio_blk *blk = vdev->priv;
	struct disk *disk = blk->lanes[q->index];
	unsigned int started = 0;
	struct blk_req *r;

	for (;; started++) {
		/*
		 * The last pop of a run finds the ring empty: learn that
		 * before taking backend room and a request only to give
		 * them back.  With several queues each run takes a few
		 * requests, and those round trips (four locks) showed.
		 */
		if (!virtio_queue_more(q))
			break;
		if ((blk->mq && blk_inflight(blk, q->index) >=
				blk->queue_depth) ||
		    !disk_reserve(disk)) {
			/* Backend full: a completion calls us again. */
			virtio_queue_stall(q);
			break;
		}
		r = blk_req_get(blk, q);
		if (!r) {
			/*
			 * Out of memory: nothing may be in flight to resume
			 * us, so try again on the next turn of the loop.
			 */
			disk_unreserve(disk);
			virtio_queue_wake(q);
			break;
		}
		if (virtio_queue_pop(q, &r->chain) <= 0) {
			/* The ring is empty. */
			disk_unreserve(disk);
			blk_req_put(blk, r);
			break;
		}
		blk_start(blk, r);
	}
	/*
	 * What a buffered file finished during submission goes back to the
	 * driver now, not after another trip through epoll (an eventfd write,
	 * the wake-up, its read); on every path, as disk->poll_after_submit
	 * promises.  Whoever runs this holds every queue a completion may
	 * belong to: the device thread all of them (vdev->lock), a queue
	 * thread its own, and the core hands another queue's completions
	 * to that queue's thread.  Several queues on the device thread:
	 * 4 KiB reads at depth 16 over four queues +6% against collecting
	 * once per turn of the loop through the disk's eventfd.
	 */
	if (started)
		disk_poll_submitted(disk);
}

/*
 * Inside the core: a backend's completion eventfd, on the device thread
 * (blk->disk shared by every queue) or a lane's queue thread.
 */
static void virtio_blk__on_disk(void *opaque, u32 events __unused)
{
	struct disk *disk = opaque;

	disk_poll(disk);
}

/* Every lock held: wait for each backend's requests in flight. */
static void blk_drain_all(struct virtio_blk *blk)
{
	disk_drain(blk->disk);
	for (unsigned int i = 1; i < blk->nr_lanes; i++)
		disk_drain(blk->lanes[i]);
}

static void blk_close_lanes(struct virtio_blk *blk)
{
	for (unsigned int i = 1; i < blk->nr_lanes; i++) {
		disk_close(blk->lanes[i]);
		blk->lanes[i] = blk->disk;
	}
	blk->nr_lanes = 0;
}

/*
 * queue-threads: a lane per queue, or (a format without lanes, or no
 * room for one more aio context) every queue on the one disk as before.
 */
static void blk_open_lanes(struct virtio_blk *blk, unsigned int nr)
{
	char err[256] = "";
	int ret = 0;

	for (blk->nr_lanes = 1; blk->nr_lanes < nr; blk->nr_lanes++) {
		ret = disk_open_lane(blk->disk, &blk->lanes[blk->nr_lanes],
				     err, sizeof(err));
		if (ret)
			break;
	}
	if (ret) {
		/* qcow2: its metadata is one state, -EOPNOTSUPP. */
		if (ret != -EOPNOTSUPP)
			pr_warn("virtio-blk %s: queue-threads without a backend lane per queue: %s",
				blk->path, err);
		blk_close_lanes(blk);
	}
}

/*
 * Bus mastering goes off (every lock held, DMA still allowed): wait for
 * everything in flight and complete it normally, so no request writes
 * guest memory later and none is lost for the driver.
 */
static void virtio_blk__quiesce(struct virtio_device *vdev)
{
	struct virtio_blk *blk = vdev->priv;

	blk_drain_all(blk);
}

/*
 * Status 0 (every lock held, rings already unmapped): wait for every
 * request in flight so no completion writes guest memory afterwards.
 */
static void virtio_blk__reset(struct virtio_device *vdev)
{
	struct virtio_blk *blk = vdev->priv;

	blk->dropping = true;
	blk_drain_all(blk);
	blk->dropping = false;
}

/* Every thread has stopped (or never ran). */
static void virtio_blk__free(void *priv)
{
	struct virtio_blk *blk = priv;

	blk->dropping = true;
	blk_close_lanes(blk);
	disk_close(blk->disk);
	for (unsigned int i = 0; i <= VIRTIO_MAX_QUEUES; i++) {
		struct blk_req **list = i < VIRTIO_MAX_QUEUES ?
					&blk->local[i] : &blk->pool;

		while (*list) {
			struct blk_req *r = *list;

			*list = r->next;
			free(r);
		}
	}
	pthread_mutex_destroy(&blk->pool_lock);
	free(blk);
}

/*
 * A driver with requests in flight adds more within microseconds of a
 * completion: polling the rings for a little longer than that, kicks
 * left off, keeps the device thread running through a burst instead of
 * sleeping and being woken for every batch (the wake-up that on a busy
 * host waits for a CPU), and spares the guest its exits to the doorbell
 * (~16 us each here).  The window must also outlast one I/O to the host
 * disk, or a guest that waits for each request (depth 1) finds kicks
 * armed every time: an O_DIRECT 4 KiB request takes 50-60 us here, and
 * at 50 us the polling missed it on slower days (0.8-1 kick per request,
 * direct depth-1 rows at 0.6x).  100 us, interleaved against 50: direct
 * 4 KiB depth 1 ~1.3x, depth 16 reads ~1.15x, the rest even.  The window
 * adapts (kvm/evloop.c), and an idle disk never polls.
 */
#define BLK_POLL_US	100

/* One ops table per feature combination: ro, discard, write-zeroes. */
#define BLK_OPS_RO	1
#define BLK_OPS_DISCARD	2
#define BLK_OPS_WZ	4
#define VIRTIO_BLK_OPS(v)						\
	{								\
		.name = "blk",						\
		.device_id = VIRTIO_ID_BLOCK,				\
		.nr_queues = 1,						\
		.poll_us = BLK_POLL_US,					\
		.queue_max_size = BLK_QUEUE_SIZE,			\
		.config_size = sizeof(struct virtio_blk_config),	\
		.features = (1ULL << VIRTIO_BLK_F_SEG_MAX) |		\
			    (1ULL << VIRTIO_BLK_F_BLK_SIZE) |		\
			    (1ULL << VIRTIO_BLK_F_FLUSH) |		\
			    (((v) & BLK_OPS_RO) ? 1ULL << VIRTIO_BLK_F_RO : 0) | \
			    (((v) & BLK_OPS_DISCARD) ?			\
			     1ULL << VIRTIO_BLK_F_DISCARD : 0) |	\
			    (((v) & BLK_OPS_WZ) ?			\
			     1ULL << VIRTIO_BLK_F_WRITE_ZEROES : 0),	\
		.read_config = virtio_blk__read_config,			\
		.reset = virtio_blk__reset,				\
		.quiesce = virtio_blk__quiesce,				\
		.handle_queue = virtio_blk__handle_queue,		\
		.free = virtio_blk__free,				\
	}

static const struct virtio_device_ops virtio_blk_ops[8] = {
	VIRTIO_BLK_OPS(0), VIRTIO_BLK_OPS(1), VIRTIO_BLK_OPS(2),
	VIRTIO_BLK_OPS(3), VIRTIO_BLK_OPS(4), VIRTIO_BLK_OPS(5),
	VIRTIO_BLK_OPS(6), VIRTIO_BLK_OPS(7),
};

static void virtio_blk__init_config(struct virtio_blk *blk)
{
	struct virtio_blk_config *c = &blk->config;
	u32 align = blk->disk->block_size >> BLK_SECTOR_SHIFT;

	c->capacity = htole64(blk->geo.capacity);
	c->seg_max = htole32(BLK_QUEUE_SIZE - 2);
	c->blk_size = htole32(blk->disk->block_size);
	c->max_discard_sectors = htole32(BLK_MAX_RANGE_SECTORS);
	c->max_discard_seg = htole32(1);
	c->discard_sector_alignment = htole32(align);
	c->max_write_zeroes_sectors = htole32(BLK_MAX_RANGE_SECTORS);
	c->max_write_zeroes_seg = htole32(1);
	c->write_zeroes_may_unmap = 1;
	c->num_queues = htole16(blk->mq ? blk->ops.nr_queues : 1);
}

int virtio_blk__create(struct kvm *kvm, const struct lkvm_disk *disk,
		       unsigned int index, enum virtio_transport_kind kind,
		       struct virtio_device **out)
{
	struct disk_opts o = {
		.path = disk->path, .format = (enum disk_format)disk->format,
		.readonly = disk->readonly, .direct = disk->direct,
		.backing = (enum disk_backing)disk->backing,
		.backing_path = disk->backing_path,
	};
	char serial[VIRTIO_BLK_ID_BYTES + 1], err[256] = "";
	const struct virtio_device_ops *ops;
	struct virtio_blk *blk;
	struct virtio_device *vdev;
	unsigned int v;
	int ret;

	if (disk->num_queues > VIRTIO_MAX_QUEUES)
		return -EINVAL;
	blk = calloc(1, sizeof(*blk));
	if (!blk)
		return -ENOMEM;
	pthread_mutex_init(&blk->pool_lock, NULL);
	blk->mq = disk->num_queues > 1;
	blk->path = disk->path;
	ret = disk_open(&o, &blk->disk, err, sizeof(err));
	if (ret) {
		pr_err("cannot open disk %s: %s", disk->path, err);
		free(blk);
		return ret;
	}
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		blk->lanes[i] = blk->disk;
	blk->geo = (struct blk_geometry){
		.capacity = blk->disk->size >> BLK_SECTOR_SHIFT,
		.readonly = disk->readonly,
		.can_discard = blk->disk->can_discard,
		.can_write_zeroes = blk->disk->can_write_zeroes,
	};
	v = (disk->readonly ? BLK_OPS_RO : 0) |
	    (blk->disk->can_discard ? BLK_OPS_DISCARD : 0) |
	    (blk->disk->can_write_zeroes ? BLK_OPS_WZ : 0);
	ops = &virtio_blk_ops[v];
	if (blk->mq) {
		blk->ops = virtio_blk_ops[v];
		blk->ops.nr_queues = disk->num_queues;
		blk->ops.features |= 1ULL << VIRTIO_BLK_F_MQ;
		blk->ops.thread_per_queue = disk->queue_threads;
		ops = &blk->ops;
		blk->queue_depth = max_t(unsigned int, 1,
					 blk->disk->depth / disk->num_queues);
		if (disk->queue_threads)
			blk_open_lanes(blk, disk->num_queues);
		/* A lane's depth is its queue's alone. */
		if (blk->nr_lanes)
			blk->queue_depth = blk->disk->depth;
	}
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		blk->lanes[i]->poll_after_submit = true;
	/* Linux shows it in /dev/disk/by-id/virtio-lkvm-<n>. */
	snprintf(serial, sizeof(serial), "lkvm-%u", index);
	memcpy(blk->geo.serial, serial,
	       strnlen(serial, sizeof(blk->geo.serial)));
	virtio_blk__init_config(blk);

	/* The transport owns blk from here, on failure too. */
	ret = virtio_transport__create(kvm, kind, ops, blk, &vdev);
	if (ret)
		return ret;
	blk->vdev = vdev;
	if (blk->nr_lanes) {
		for (unsigned int i = 0; i < blk->nr_lanes && !ret; i++)
			ret = virtio_queue_watch(&vdev->queues[i],
						 &blk->lane_watch[i],
						 blk->lanes[i]->event_fd,
						 EPOLLIN, virtio_blk__on_disk,
						 blk->lanes[i]);
	} else {
		ret = virtio_device_watch(vdev, &blk->disk_watch,
					  blk->disk->event_fd, EPOLLIN,
					  virtio_blk__on_disk, blk->disk);
	}
	if (ret)
		return ret;
	pr_debug("virtio-blk %s: %s, %llu sectors%s%s%s", blk->path,
		 disk_format_name(blk->disk->format),
		 (unsigned long long)blk->geo.capacity,
		 blk->geo.readonly ? ", read-only" : "",
		 blk->disk->direct ? ", O_DIRECT" : "",
		 blk->nr_lanes ? ", a backend lane per queue" : "");
	if (out)
		*out = vdev;
	return 0;
}

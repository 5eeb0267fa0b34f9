// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk (virtio 1.2, section 5.2) on a block backend (disk/): raw
 * images through libaio, qcow2 through its worker thread.  Requests are
 * asynchronous: handle_queue pops and submits as many as the backend
 * takes, completions arrive on the backend's eventfd, watched by this
 * device's own event loop, and are pushed from there under vdev->lock.
 * The event loop never waits for the disk.
 *
 * num-queues=N > 1 (VIRTIO_BLK_F_MQ): the core runs each queue on its own
 * thread under its own lock (ops->thread_per_queue).  The backend wants
 * its calls serialised, so disk_submit/disk_poll/disk_drain then run
 * under blk->disk_lock, a leaf lock.  Completions still arrive on the
 * device thread (disk_watch), which only files each request on its
 * queue's done list and wakes that queue's thread (done_fd); the queue
 * thread writes the status and used entry under its own lock.  Each queue
 * may have depth/N requests in flight, so disk_submit never says EAGAIN
 * and a full queue only waits for its own completions.
 *
 * Every request is checked before the backend sees it: a short header, a
 * data length that is not whole sectors, a range past the end of the
 * disk (overflow included) or a write to a read-only disk ends in
 * VIRTIO_BLK_S_IOERR, an unknown type in VIRTIO_BLK_S_UNSUPP.  A backend
 * error (ENOSPC, EIO) is VIRTIO_BLK_S_IOERR for that request only.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "lkvm/disk.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/virtio-transport.h"
#include "devices.h"

#define BLK_SECTOR_SHIFT	9
#define BLK_SECTOR_SIZE		(1U << BLK_SECTOR_SHIFT)
#define BLK_QUEUE_SIZE		256
/* DISCARD / WRITE_ZEROES: one range per request, at most 2 GiB. */
#define BLK_MAX_RANGE_SECTORS	(1U << 22)

struct virtio_blk;

struct blk_req {
	struct disk_req dreq;		/* first: the completion casts back */
	struct virtio_blk *blk;
	struct virtio_queue *q;
	u8 *status;			/* last byte of the chain, guest RAM */
	u32 written;			/* data bytes for the used length */
	int ret;			/* multi-queue: backend result */
	struct blk_req *next_free;	/* free list, or a done list */
	struct vring_chain elem;
};

struct virtio_blk {
	struct virtio_device *vdev;
	const char *path;
	struct disk *disk;
	bool readonly;
	u64 capacity;			/* in 512-byte sectors */
	/* GET_ID answer: not NUL-terminated if all 20 bytes are used. */
	char serial[VIRTIO_BLK_ID_BYTES];
	/* Little-endian, as the guest reads it. */
	struct virtio_blk_config config;
	struct evloop_watch disk_watch;

	/* Multi-queue (see the top of the file); ops is a copy we adjust. */
	bool mq;
	struct virtio_device_ops ops;
	unsigned int queue_depth;	/* in flight per queue */
	pthread_mutex_t disk_lock;
	int done_fd[VIRTIO_MAX_QUEUES];
	struct evloop_watch done_watch[VIRTIO_MAX_QUEUES];
	/* Under disk_lock (mq). */
	struct blk_req *done[VIRTIO_MAX_QUEUES];
	unsigned int done_mask;

	/*
	 * Under the queue's lock (virtio_queue_lock: vdev->lock, or the
	 * queue's own with mq); quiescing is also under disk_lock with mq.
	 */
	struct blk_req *free_reqs[VIRTIO_MAX_QUEUES];
	bool quiescing;			/* reset/exit: drop completions */
	bool stalled[VIRTIO_MAX_QUEUES];	/* backend was full */
	bool notify[VIRTIO_MAX_QUEUES];	/* pushed since the last notify */
	unsigned int inflight[VIRTIO_MAX_QUEUES];	/* mq only */
};

static void virtio_blk__read_config(struct virtio_device *vdev, u32 offset,
				    void *data, u32 len)
{
	struct virtio_blk *blk = vdev->priv;

	/* The core checked offset + len against config_size. */
	memcpy(data, (u8 *)&blk->config + offset, len);
}

static struct blk_req *req_get(struct virtio_blk *blk, struct virtio_queue *q)
{
	struct blk_req *r = blk->free_reqs[q->index];

	if (r) {
		blk->free_reqs[q->index] = r->next_free;
		r->q = q;
		return r;
	}
	/* Grows to the most requests ever in flight, then stays. */
	r = malloc(sizeof(*r));
	if (r) {
		r->blk = blk;
		r->q = q;
	}
	return r;
}

static void req_put(struct virtio_blk *blk, struct blk_req *r)
{
	r->next_free = blk->free_reqs[r->q->index];
	blk->free_reqs[r->q->index] = r;
}

/* Room to submit on @q: the backend's (mq: this queue's share of it). */
static bool blk_can_submit(struct virtio_blk *blk, struct virtio_queue *q)
{
	if (blk->mq)
		return blk->inflight[q->index] < blk->queue_depth;
	return disk_can_submit(blk->disk);
}

/* Status byte, used ring entry, request back to the pool. */
static void req_finish(struct virtio_blk *blk, struct blk_req *r, u8 status)
{
	struct virtio_queue *q = r->q;

	*r->status = status;
	virtio_queue_push(blk->vdev, q, r->elem.head, r->written + 1);
	blk->notify[q->index] = true;
	req_put(blk, r);
}

/* Whole sectors, entirely inside the disk; no overflow possible. */
static bool blk_range_ok(const struct virtio_blk *blk, u64 sector, u64 len)
{
	if (len % BLK_SECTOR_SIZE)
		return false;
	return sector <= blk->capacity &&
	       (len >> BLK_SECTOR_SHIFT) <= blk->capacity - sector;
}

static bool queue_runnable(struct virtio_device *vdev, struct virtio_queue *q);

static void blk_req_done(struct disk_req *dreq, int ret)
{
	struct blk_req *r = (struct blk_req *)dreq;
	struct virtio_blk *blk = r->blk;

	if (blk->mq) {
		/*
		 * disk_lock held.  Quiescing: reset holds every queue lock,
		 * exit stopped every thread, so the pool is ours.  Otherwise
		 * the queue's thread finishes it (blk_on_done).
		 */
		if (blk->quiescing) {
			blk->inflight[r->q->index]--;
			req_put(blk, r);
			return;
		}
		r->ret = ret;
		r->next_free = blk->done[r->q->index];
		blk->done[r->q->index] = r;
		blk->done_mask |= 1U << r->q->index;
		return;
	}

	/*
	 * After a reset the ring is gone: the data already went where the
	 * driver asked before the reset, but nothing more may be written.
	 */
	if (blk->quiescing || !queue_runnable(blk->vdev, r->q)) {
		req_put(blk, r);
		return;
	}
	if (ret) {
		pr_debug("virtio-blk %s: request %llu (type %d at %llu): %s",
			 blk->path, (unsigned long long)dreq->id, dreq->op,
			 (unsigned long long)dreq->offset, strerror(-ret));
		r->written = 0;
	}
	req_finish(blk, r, ret ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

/* DISCARD / WRITE_ZEROES: one struct virtio_blk_discard_write_zeroes. */
static u8 blk_range_req(struct virtio_blk *blk, struct blk_req *r,
			u32 type, u64 out_data)
{
	struct virtio_blk_discard_write_zeroes seg;
	u64 sector;
	u32 num, flags;

	if (out_data != sizeof(seg))
		return VIRTIO_BLK_S_UNSUPP;	/* max_*_seg is 1 */
	if (vring_chain_read(&r->elem, sizeof(struct virtio_blk_outhdr),
				 &seg, sizeof(seg)) != sizeof(seg))
		return VIRTIO_BLK_S_IOERR;
	sector = le64toh(seg.sector);
	num = le32toh(seg.num_sectors);
	flags = le32toh(seg.flags);
	if ((type == VIRTIO_BLK_T_DISCARD && flags) ||
	    (flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
		return VIRTIO_BLK_S_UNSUPP;
	if (blk->readonly || num > BLK_MAX_RANGE_SECTORS ||
	    !blk_range_ok(blk, sector, (u64)num << BLK_SECTOR_SHIFT))
		return VIRTIO_BLK_S_IOERR;
	r->dreq.op = type == VIRTIO_BLK_T_DISCARD ? DISK_OP_DISCARD :
						    DISK_OP_WRITE_ZEROES;
	r->dreq.offset = sector << BLK_SECTOR_SHIFT;
	r->dreq.len = (u64)num << BLK_SECTOR_SHIFT;
	return 0;
}

/*
 * Turns the chain into a backend request.  Returns 0 when r->dreq is
 * ready to submit, or the status to complete with at once.
 */
static u8 blk_prepare(struct virtio_blk *blk, struct blk_req *r)
{
	struct vring_chain *e = &r->elem;
	struct virtio_blk_outhdr hdr;
	u64 sector, out_data, in_data;
	u32 type;

	if (vring_chain_read(e, 0, &hdr, sizeof(hdr)) != sizeof(hdr))
		return VIRTIO_BLK_S_IOERR;
	type = le32toh(hdr.type);
	sector = le64toh(hdr.sector);
	out_data = e->out_len - sizeof(hdr);
	in_data = e->in_len - 1;	/* the caller saw a status byte */
	r->dreq = (struct disk_req){ .done = blk_req_done, .opaque = r };

	switch (type) {
	case VIRTIO_BLK_T_IN:
		if (!blk_range_ok(blk, sector, in_data))
			return VIRTIO_BLK_S_IOERR;
		/* In place: each slice entry comes from a later one. */
		r->dreq.iovcnt = iov_slice(&e->iov[e->out_num], e->in_num, 0,
					   in_data, e->iov);
		r->dreq.op = DISK_OP_READ;
		r->written = (u32)in_data;
		break;
	case VIRTIO_BLK_T_OUT:
		if (blk->readonly || !blk_range_ok(blk, sector, out_data))
			return VIRTIO_BLK_S_IOERR;
		r->dreq.iovcnt = iov_slice(e->iov, e->out_num, sizeof(hdr),
					   out_data, e->iov);
		r->dreq.op = DISK_OP_WRITE;
		break;
	case VIRTIO_BLK_T_FLUSH:
		r->dreq.op = DISK_OP_FLUSH;
		return 0;
	case VIRTIO_BLK_T_GET_ID:
		r->written = (u32)vring_chain_write(e, 0, blk->serial,
				min_t(u64, in_data, sizeof(blk->serial)));
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_DISCARD:
		if (!blk->disk->can_discard)
			return VIRTIO_BLK_S_UNSUPP;
		return blk_range_req(blk, r, type, out_data);
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (!blk->disk->can_write_zeroes)
			return VIRTIO_BLK_S_UNSUPP;
		return blk_range_req(blk, r, type, out_data);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
	r->dreq.iov = e->iov;
	r->dreq.offset = sector << BLK_SECTOR_SHIFT;
	return 0;
}

static void blk_start(struct virtio_blk *blk, struct virtio_queue *q,
		      struct blk_req *r)
{
	struct vring_chain *e = &r->elem;
	const struct iovec *last;
	u8 status;
	int ret;

	r->q = q;
	r->written = 0;
	if (!e->in_len) {
		/* No room for a status: complete it empty. */
		pr_debug("virtio-blk %s: request without status byte",
			 blk->path);
		virtio_queue_push(blk->vdev, q, e->head, 0);
		blk->notify[q->index] = true;
		req_put(blk, r);
		return;
	}
	/* Zero-length buffers were dropped by vring_pop: last is >= 1 byte. */
	last = &e->iov[e->out_num + e->in_num - 1];
	r->status = (u8 *)last->iov_base + last->iov_len - 1;
	status = blk_prepare(blk, r);
	if (status) {
		r->written = status == VIRTIO_BLK_S_OK ? r->written : 0;
		req_finish(blk, r, status);
		return;
	}
	if (blk->mq) {
		pthread_mutex_lock(&blk->disk_lock);
		ret = disk_submit(blk->disk, &r->dreq);
		pthread_mutex_unlock(&blk->disk_lock);
		if (!ret)
			blk->inflight[q->index]++;
	} else {
		ret = disk_submit(blk->disk, &r->dreq);
	}
	if (ret) {
		pr_debug("virtio-blk %s: submit: %s", blk->path,
			 strerror(-ret));
		r->written = 0;
		req_finish(blk, r, VIRTIO_BLK_S_IOERR);
	}
}

static void virtio_blk__handle_queue(struct virtio_device *vdev,
				     struct virtio_queue *q)
{
	struct virtio_blk *blk = vdev->priv;
	unsigned int done = 0;
	struct blk_req *r;
	bool full = false;
	int ret = 0;

	do {
		vring_suppress_kicks(&q->ring);
		for (;;) {
			r = blk_can_submit(blk, q) ? req_get(blk, q) : NULL;
			if (!r) {
				full = true;
				break;
			}
			ret = virtio_queue_pop(vdev, q, &r->elem);
			if (ret <= 0) {
				req_put(blk, r);
				break;
			}
			blk_start(blk, q, r);
			if (virtio_queue_yield(vdev, q, &done))
				return;
		}
		if (blk->notify[q->index]) {
			blk->notify[q->index] = false;
			virtio_queue_notify(vdev, q);
		}
		if (ret < 0)
			return;	/* virtio_queue_pop() marked it broken */
		if (full) {
			/* Backend full: a completion will call us again. */
			blk->stalled[q->index] = true;
			return;
		}
	} while (vring_arm_kicks(&q->ring));
}

static bool queue_runnable(struct virtio_device *vdev, struct virtio_queue *q)
{
	return (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) && !vdev->broken &&
	       vdev->dma_enabled && q->enabled && vring_mapped(&q->ring);
}

/* After completions: interrupts, and queues that waited for room. */
static void blk_after_completions(struct virtio_blk *blk)
{
	struct virtio_device *vdev = blk->vdev;

	for (unsigned int i = 0; i < vdev->nr_queues; i++) {
		struct virtio_queue *q = &vdev->queues[i];

		if (blk->notify[i]) {
			blk->notify[i] = false;
			if (queue_runnable(vdev, q))
				virtio_queue_notify(vdev, q);
		}
		if (blk->stalled[i] && disk_can_submit(blk->disk)) {
			blk->stalled[i] = false;
			if (queue_runnable(vdev, q))
				vdev->ops->handle_queue(vdev, q);
		}
	}
}

/*
 * mq: finishes a list of completions filed for @q (the caller holds the
 * queue's lock, or every queue lock).  As in blk_req_done(): no ring, no
 * DMA, nothing written.
 */
static void blk_finish_list(struct virtio_blk *blk, struct virtio_queue *q,
			    struct blk_req *r)
{
	struct blk_req *next;

	for (; r; r = next) {
		next = r->next_free;
		blk->inflight[q->index]--;
		if (!queue_runnable(blk->vdev, q)) {
			req_put(blk, r);
			continue;
		}
		if (r->ret)
			r->written = 0;
		req_finish(blk, r, r->ret ? VIRTIO_BLK_S_IOERR :
					    VIRTIO_BLK_S_OK);
	}
}

/*
 * Queue thread (mq): the device thread filed completions for this queue.
 * Finishes them, interrupts, and resumes the queue if it waited for room.
 */
static void virtio_blk__on_done(void *opaque, u32 events __unused)
{
	struct virtio_queue *q = opaque;
	struct virtio_device *vdev = q->vdev;
	struct virtio_blk *blk = vdev->priv;
	unsigned int i = q->index;
	struct blk_req *r;
	u64 cnt;

	if (read(blk->done_fd[i], &cnt, sizeof(cnt)) != sizeof(cnt))
		return;
	virtio_queue_lock(vdev, q);
	pthread_mutex_lock(&blk->disk_lock);
	r = blk->done[i];
	blk->done[i] = NULL;
	pthread_mutex_unlock(&blk->disk_lock);
	blk_finish_list(blk, q, r);
	if (blk->notify[i]) {
		blk->notify[i] = false;
		if (queue_runnable(vdev, q))
			virtio_queue_notify(vdev, q);
	}
	if (blk->stalled[i] && blk_can_submit(blk, q)) {
		blk->stalled[i] = false;
		if (queue_runnable(vdev, q))
			vdev->ops->handle_queue(vdev, q);
	}
	virtio_queue_unlock(vdev, q);
}

/* Device thread: the backend's completion eventfd fired. */
static void virtio_blk__on_disk(void *opaque, u32 events __unused)
{
	struct virtio_blk *blk = opaque;
	struct virtio_device *vdev = blk->vdev;
	unsigned int mask;

	if (blk->mq) {
		pthread_mutex_lock(&blk->disk_lock);
		disk_poll(blk->disk);
		mask = blk->done_mask;
		blk->done_mask = 0;
		pthread_mutex_unlock(&blk->disk_lock);
		for (unsigned int i = 0; i < vdev->nr_queues; i++)
			if ((mask & (1U << i)) &&
			    write(blk->done_fd[i], &(u64){ 1 }, sizeof(u64)) < 0)
				pr_debug("virtio-blk %s: done: %s", blk->path,
					 strerror(errno));
		return;
	}

	pthread_mutex_lock(&vdev->lock);
	disk_poll(blk->disk);
	blk_after_completions(blk);
	pthread_mutex_unlock(&vdev->lock);
}

/*
 * Bus mastering goes off (vdev->lock and every queue lock held, DMA still
 * allowed): wait for everything in flight and complete it normally, so no
 * request writes guest memory later and none is lost for the driver.
 * With mq the interrupts for them reach the core as pending bits (we hold
 * vdev->lock); the core signals those before mastering goes off.  Queues
 * that waited for room stay stalled; turning mastering back on kicks
 * every queue.
 */
static void virtio_blk__quiesce(struct virtio_device *vdev)
{
	struct virtio_blk *blk = vdev->priv;

	if (!blk->mq) {
		disk_drain(blk->disk);
	} else {
		pthread_mutex_lock(&blk->disk_lock);
		disk_drain(blk->disk);
		blk->done_mask = 0;
		pthread_mutex_unlock(&blk->disk_lock);
		for (unsigned int i = 0; i < vdev->nr_queues; i++) {
			struct blk_req *r = blk->done[i];

			/* The queue threads are held off by their locks. */
			blk->done[i] = NULL;
			blk_finish_list(blk, &vdev->queues[i], r);
		}
	}
	for (unsigned int i = 0; i < vdev->nr_queues; i++) {
		struct virtio_queue *q = &vdev->queues[i];

		if (blk->notify[i]) {
			blk->notify[i] = false;
			if (queue_runnable(vdev, q))
				virtio_queue_notify(vdev, q);
		}
	}
}

/*
 * Status 0 (vdev->lock held, rings already unmapped): wait for every
 * request in flight so no completion writes guest memory afterwards.
 */
static void virtio_blk__reset(struct virtio_device *vdev)
{
	struct virtio_blk *blk = vdev->priv;

	if (blk->mq) {
		/* The core holds every queue lock: no queue thread runs. */
		pthread_mutex_lock(&blk->disk_lock);
		blk->quiescing = true;
		disk_drain(blk->disk);
		blk->quiescing = false;
		/* Filed but not yet finished: the ring they were for is gone. */
		for (unsigned int i = 0; i < vdev->nr_queues; i++) {
			struct blk_req *r, *next;

			for (r = blk->done[i]; r; r = next) {
				next = r->next_free;
				req_put(blk, r);
			}
			blk->done[i] = NULL;
			blk->inflight[i] = 0;
		}
		blk->done_mask = 0;
		pthread_mutex_unlock(&blk->disk_lock);
	} else {
		blk->quiescing = true;
		disk_drain(blk->disk);
		blk->quiescing = false;
	}
	memset(blk->stalled, 0, sizeof(blk->stalled));
	memset(blk->notify, 0, sizeof(blk->notify));
}

static void virtio_blk__destroy(struct virtio_blk *blk)
{
	struct blk_req *r;

	/* Every thread has stopped: no lock needed. */
	blk->quiescing = true;
	disk_close(blk->disk);
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		/* Completions filed but never finished (mq). */
		while ((r = blk->done[i])) {
			blk->done[i] = r->next_free;
			free(r);
		}
		while ((r = blk->free_reqs[i])) {
			blk->free_reqs[i] = r->next_free;
			free(r);
		}
		if (blk->done_fd[i] >= 0)
			close(blk->done_fd[i]);
	}
	if (blk->mq)
		pthread_mutex_destroy(&blk->disk_lock);
	free(blk);
}

static void virtio_blk__free(struct virtio_device *vdev)
{
	virtio_blk__destroy(vdev->priv);
}

/* One ops table per feature combination: ro, discard, write-zeroes. */
#define BLK_OPS_RO	1
#define BLK_OPS_DISCARD	2
#define BLK_OPS_WZ	4
#define VIRTIO_BLK_OPS(v)						\
	{								\
		.name = "blk",						\
		.device_id = VIRTIO_ID_BLOCK,				\
		.nr_queues = 1,						\
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

	c->capacity = htole64(blk->capacity);
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
	unsigned int hooks, v;
	int ret;

	blk = calloc(1, sizeof(*blk));
	if (!blk)
		return -ENOMEM;
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		blk->done_fd[i] = -1;
	blk->mq = disk->num_queues > 1;
	blk->path = disk->path;
	blk->readonly = disk->readonly;
	ret = disk_open(&o, &blk->disk, err, sizeof(err));
	if (ret) {
		pr_err("cannot open disk %s: %s", disk->path, err);
		free(blk);
		return ret;
	}
	blk->capacity = blk->disk->size >> BLK_SECTOR_SHIFT;
	v = (blk->readonly ? BLK_OPS_RO : 0) |
	    (blk->disk->can_discard ? BLK_OPS_DISCARD : 0) |
	    (blk->disk->can_write_zeroes ? BLK_OPS_WZ : 0);
	ops = &virtio_blk_ops[v];
	if (blk->mq) {
		if (disk->num_queues > VIRTIO_MAX_QUEUES) {
			disk_close(blk->disk);
			free(blk);
			return -EINVAL;
		}
		blk->ops = virtio_blk_ops[v];
		blk->ops.nr_queues = disk->num_queues;
		blk->ops.features |= 1ULL << VIRTIO_BLK_F_MQ;
		blk->ops.thread_per_queue = true;
		ops = &blk->ops;
		blk->queue_depth = max_t(unsigned int, 1,
					 blk->disk->depth / disk->num_queues);
		pthread_mutex_init(&blk->disk_lock, NULL);
		for (unsigned int i = 0; i < disk->num_queues; i++) {
			blk->done_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (blk->done_fd[i] < 0) {
				ret = -errno;
				virtio_blk__destroy(blk);
				return ret;
			}
		}
	}
	/* Linux shows it in /dev/disk/by-id/virtio-lkvm-<n>. */
	snprintf(serial, sizeof(serial), "lkvm-%u", index);
	memcpy(blk->serial, serial, strnlen(serial, sizeof(blk->serial)));
	virtio_blk__init_config(blk);

	hooks = kvm->nr_exit_hooks;
	ret = virtio_transport__create(kvm, kind, ops, blk, &vdev);
	if (ret) {
		/* Once the core's exit hook exists, ops->free owns blk. */
		if (kvm->nr_exit_hooks == hooks)
			virtio_blk__destroy(blk);
		return ret;
	}
	blk->vdev = vdev;
	blk->disk_watch = (struct evloop_watch){
		.fd = blk->disk->event_fd, .cb = virtio_blk__on_disk,
		.opaque = blk,
	};
	ret = evloop_add(&vdev->loop, &blk->disk_watch, EPOLLIN);
	if (ret)
		return ret;
	for (unsigned int i = 0; blk->mq && i < vdev->nr_queues; i++) {
		struct virtio_queue *q = &vdev->queues[i];

		blk->done_watch[i] = (struct evloop_watch){
			.fd = blk->done_fd[i], .cb = virtio_blk__on_done,
			.opaque = q,
		};
		ret = evloop_add(virtio_queue_loop(vdev, q),
				 &blk->done_watch[i], EPOLLIN);
		if (ret)
			return ret;
	}
	pr_debug("virtio-blk %s: %s, %llu sectors%s%s", blk->path,
		 disk_format_name(blk->disk->format),
		 (unsigned long long)blk->capacity,
		 blk->readonly ? ", read-only" : "",
		 blk->disk->direct ? ", O_DIRECT" : "");
	if (out)
		*out = vdev;
	return 0;
}

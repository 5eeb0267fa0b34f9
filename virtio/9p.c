// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-9p (virtio 1.2, section 5.11): one request queue, the mount tag
 * in config space (VIRTIO_9P_MOUNT_TAG), and a 9P2000.L server (fs/p9.h)
 * that turns each T-message into an R-message.  This file is only the
 * plumbing between the two; it knows nothing of the protocol.
 *
 * A request may touch a slow host filesystem (NFS, a spinning disk, a
 * FUSE mount that hangs), so the device thread never runs one: it pops
 * chains and hands them to a few worker threads, which call the server
 * and give the chain back with virtio_queue_complete() from their own
 * thread (the core publishes it on the queue's).  The hand-off is
 * bounded: with P9_MAX_INFLIGHT requests popped and not yet completed
 * the queue stalls (virtio_queue_stall()) and the next completion
 * resumes it, so a guest cannot make lkvm queue unbounded work, and the
 * event loop never waits for more than taking a lock.
 *
 * Reset and bus-master-off wait for the workers: a request a worker is
 * running writes its reply into guest buffers, which must not happen
 * after the driver was told the device forgot them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <linux/virtio_9p.h>

#include "../fs/p9.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/virtio-transport.h"
#include "devices.h"

#define P9_QUEUE_SIZE		128
#define P9_WORKERS		4
/* Popped and not yet completed: P9_WORKERS running, the rest waiting. */
#define P9_MAX_INFLIGHT		16
/* size[4] Rlerror[1] tag[2] ecode[4]: the least a reply can be. */
#define P9_MIN_REPLY		11

const struct virtio_9p_server_ops virtio_9p_server = {
	.open = p9_server_open,
	.close = p9_server_close,
	.handle = p9_server_handle,
	.reset = p9_server_reset,
};

struct p9_req {
	struct virtio_queue *q;
	struct p9_req *next;		/* hand-off list or free pool */
	struct vring_chain chain;
};

struct virtio_9p {
	struct virtio_device_ops ops;	/* config_size fits the tag */
	const struct virtio_9p_server_ops *sops;
	struct p9_server *srv;
	char *dir;

	/* struct virtio_9p_config: le16 tag_len, then the tag, no NUL. */
	u8 config[2 + LKVM_9P_TAG_MAX];

	/*
	 * The hand-off between the device thread and the workers.  A leaf
	 * lock: taken under vdev->lock (handle_queue, reset, quiesce), never
	 * held while calling the server or the queue service.
	 */
	pthread_mutex_t lock;
	pthread_cond_t work;		/* a request waits, or stop */
	pthread_cond_t idle;		/* inflight and filing both 0 */
	struct p9_req *head, **tail;	/* popped, no worker yet */
	unsigned int inflight;		/* popped, slot not given back */
	/*
	 * Slot given back, completion not yet filed: quiesce and reset
	 * wait for these too, or bus mastering could go off (and the used
	 * ring be flushed) with a completion still to come.
	 */
	unsigned int filing;
	/*
	 * Reset: the rings are gone, so requests still waiting are dropped
	 * unrun and a running one's completion is not given back.
	 */
	bool dropping;
	bool stop;			/* ops->free: workers exit */
	struct p9_req *pool;		/* recycled requests (16 KiB each) */
	pthread_t workers[P9_WORKERS];
	unsigned int nr_workers;

	/* Statistics, for tests: requests handed to the server. */
	atomic_ulong nr_handled;
};

static void virtio_9p__read_config(struct virtio_device *vdev, u32 offset,
				   void *data, u32 len)
{
	struct virtio_9p *p9 = vdev->priv;

	/* The core checked offset + len against config_size. */
	memcpy(data, p9->config + offset, len);
}

/* p9->lock held. */
static void p9_req_put_locked(struct virtio_9p *p9, struct p9_req *r)
{
	r->next = p9->pool;
	p9->pool = r;
}

/* p9->lock held: wakes quiesce and reset once nothing is pending. */
static void p9_check_idle_locked(struct virtio_9p *p9)
{
	if (!p9->inflight && !p9->filing)
		pthread_cond_broadcast(&p9->idle);
}

/* p9->lock held: one request left the device (done or dropped). */
static void p9_req_retire_locked(struct virtio_9p *p9)
{
	p9->inflight--;
	p9_check_idle_locked(p9);
}

static void p9_run(struct virtio_9p *p9, struct p9_req *r)
{
	struct vring_chain *c = &r->chain;
	size_t len;
	bool drop;

	len = p9->sops->handle(p9->srv, c->iov, c->out_num, c->out_len,
			       c->iov + c->out_num, c->in_num, c->in_len);
	atomic_fetch_add_explicit(&p9->nr_handled, 1, memory_order_relaxed);
	if (len > c->in_len) {
		/* A server bug; never tell the driver more than it gave. */
		pr_warn("virtio-9p %s: reply of %zu bytes in %llu", p9->dir,
			len, (unsigned long long)c->in_len);
		len = 0;
	}
	/*
	 * Retire before completing: virtio_queue_complete() resumes a queue
	 * stalled on P9_MAX_INFLIGHT, and its full fence (queue.c) orders
	 * this store before it looks for stalled queues.
	 */
	pthread_mutex_lock(&p9->lock);
	drop = p9->dropping;
	if (!drop)
		p9->filing++;
	p9_req_retire_locked(p9);
	pthread_mutex_unlock(&p9->lock);
	/*
	 * After a reset the core would drop it anyway (the ring's map_gen
	 * changed); not filing it keeps the done list for the new ring.
	 */
	if (!drop) {
		virtio_stat_bytes(r->q->vdev, c->out_len + len);
		vring_chain_release(c);
		virtio_queue_complete(r->q, c->id, (u32)len);
	}
	pthread_mutex_lock(&p9->lock);
	if (!drop) {
		p9->filing--;
		p9_check_idle_locked(p9);
	}
	p9_req_put_locked(p9, r);
	pthread_mutex_unlock(&p9->lock);
}

static void *p9_worker(void *opaque)
{
	struct virtio_9p *p9 = opaque;
	struct p9_req *r;

	/* The export's root fd is open: all a worker opens is beneath it. */
	seccomp__thread_enter(SECCOMP_THREAD_P9);
	pthread_mutex_lock(&p9->lock);
	for (;;) {
		while (!p9->head && !p9->stop)
			pthread_cond_wait(&p9->work, &p9->lock);
		if (p9->stop)
			break;
		r = p9->head;
		p9->head = r->next;
		if (!p9->head)
			p9->tail = &p9->head;
		pthread_mutex_unlock(&p9->lock);
		p9_run(p9, r);
		pthread_mutex_lock(&p9->lock);
	}
	pthread_mutex_unlock(&p9->lock);
	return NULL;
}

static void virtio_9p__handle_queue(struct virtio_device *vdev,
				    struct virtio_queue *q)
{
	struct virtio_9p *p9 = vdev->priv;
	struct p9_req *r;
	int ret;

	for (;;) {
		pthread_mutex_lock(&p9->lock);
		if (p9->inflight >= P9_MAX_INFLIGHT) {
			pthread_mutex_unlock(&p9->lock);
			/* Every slot taken: a worker's completion calls us. */
			virtio_queue_stall(q);
			return;
		}
		r = p9->pool;
		if (r)
			p9->pool = r->next;
		pthread_mutex_unlock(&p9->lock);
		if (!r)
			r = malloc(sizeof(*r));
		if (!r) {
			/*
			 * Out of memory, maybe with nothing in flight to
			 * resume us: try again on the next turn of the loop.
			 */
			virtio_queue_wake(q);
			return;
		}
		ret = virtio_queue_pop(q, &r->chain);
		if (ret <= 0) {
			pthread_mutex_lock(&p9->lock);
			p9_req_put_locked(p9, r);
			pthread_mutex_unlock(&p9->lock);
			return;
		}
		if (r->chain.in_len < P9_MIN_REPLY) {
			/* No room for even an Rlerror: nothing to say. */
			pr_debug("virtio-9p %s: request with %llu bytes of reply room",
				 p9->dir, (unsigned long long)r->chain.in_len);
			virtio_queue_complete(q, r->chain.id, 0);
			pthread_mutex_lock(&p9->lock);
			p9_req_put_locked(p9, r);
			pthread_mutex_unlock(&p9->lock);
			continue;
		}
		r->q = q;
		r->next = NULL;
		pthread_mutex_lock(&p9->lock);
		*p9->tail = r;
		p9->tail = &r->next;
		p9->inflight++;
		pthread_cond_signal(&p9->work);
		pthread_mutex_unlock(&p9->lock);
	}
}

/* Every lock held: waits until no worker runs a request. */
static void p9_wait_idle(struct virtio_9p *p9)
{
	pthread_mutex_lock(&p9->lock);
	while (p9->inflight || p9->filing)
		pthread_cond_wait(&p9->idle, &p9->lock);
	pthread_mutex_unlock(&p9->lock);
}

/*
 * Bus mastering goes off (every lock held, DMA still allowed): let the
 * workers finish everything popped, waiting requests included, and give
 * it back normally, so none is lost for the driver and none writes
 * guest memory later.
 */
static void virtio_9p__quiesce(struct virtio_device *vdev)
{
	p9_wait_idle(vdev->priv);
}

/*
 * Status 0 (every lock held, rings already unmapped): requests no worker
 * took are dropped unrun; those running finish (they write guest
 * buffers) before we return, and their completions are not given back.
 * Then the server forgets the driver's fids.
 */
static void virtio_9p__reset(struct virtio_device *vdev)
{
	struct virtio_9p *p9 = vdev->priv;

	pthread_mutex_lock(&p9->lock);
	p9->dropping = true;
	while (p9->head) {
		struct p9_req *r = p9->head;

		p9->head = r->next;
		p9_req_put_locked(p9, r);
		p9_req_retire_locked(p9);
	}
	p9->tail = &p9->head;
	while (p9->inflight || p9->filing)
		pthread_cond_wait(&p9->idle, &p9->lock);
	p9->dropping = false;
	pthread_mutex_unlock(&p9->lock);
	if (p9->srv)
		p9->sops->reset(p9->srv);
}

/* Every device thread has stopped (or never ran). */
static void virtio_9p__free(void *priv)
{
	struct virtio_9p *p9 = priv;

	pthread_mutex_lock(&p9->lock);
	p9->stop = true;
	pthread_cond_broadcast(&p9->work);
	pthread_mutex_unlock(&p9->lock);
	for (unsigned int i = 0; i < p9->nr_workers; i++)
		pthread_join(p9->workers[i], NULL);
	/* Nobody completes these any more: the VM is gone. */
	while (p9->head) {
		struct p9_req *r = p9->head;

		p9->head = r->next;
		free(r);
	}
	while (p9->pool) {
		struct p9_req *r = p9->pool;

		p9->pool = r->next;
		free(r);
	}
	if (p9->srv)
		p9->sops->close(p9->srv);
	pthread_cond_destroy(&p9->work);
	pthread_cond_destroy(&p9->idle);
	pthread_mutex_destroy(&p9->lock);
	free(p9->dir);
	free(p9);
}

static const struct virtio_device_ops virtio_9p_ops = {
	.name = "9p",
	.device_id = VIRTIO_ID_9P,
	.nr_queues = 1,
	.queue_max_size = P9_QUEUE_SIZE,
	.features = 1ULL << VIRTIO_9P_MOUNT_TAG,
	.read_config = virtio_9p__read_config,
	.quiesce = virtio_9p__quiesce,
	.reset = virtio_9p__reset,
	.handle_queue = virtio_9p__handle_queue,
	.free = virtio_9p__free,
};

/* lkvm's own fds besides the exports': disks, eventfds, sockets, ... */
#define P9_FD_RESERVE	256
/* Below this a share is not usable; the limit then binds first. */
#define P9_FIDS_MIN	64

/*
 * Fids one export may hold.  Each can keep two host fds open (its O_PATH
 * handle and an open file), and the exports together must fit in lkvm's
 * open-file limit with room left, or a guest holding many fids makes
 * every later open fail: control-socket accepts (no lkvm stop), other
 * exports, slirp's sockets.  The soft limit goes up to the hard one
 * first, as file servers do.  Runs before the main thread's seccomp
 * filter, which has no setrlimit.
 */
static unsigned int virtio_9p_max_fids(unsigned int nr_exports)
{
	struct rlimit rl;
	rlim_t room;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return P9_FIDS_MIN;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t cur = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			rl.rlim_cur = cur;
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return P9_FIDS_MAX;
	room = rl.rlim_cur > P9_FD_RESERVE ? rl.rlim_cur - P9_FD_RESERVE : 0;
	room /= 2 * (rlim_t)(nr_exports ? nr_exports : 1);
	if (room < P9_FIDS_MIN)
		return P9_FIDS_MIN;
	return (unsigned int)min_t(rlim_t, room, P9_FIDS_MAX);
}

int virtio_9p__create(struct kvm *kvm, const struct lkvm_9p *cfg,
		      enum virtio_transport_kind kind,
		      const struct virtio_9p_server_ops *sops,
		      struct virtio_device **out)
{
	struct p9_opts o = {
		.root = cfg->dir, .readonly = cfg->readonly,
		.max_fids = virtio_9p_max_fids(kvm->cfg ? kvm->cfg->nr_p9 : 1),
	};
	size_t tag_len = cfg->tag ? strlen(cfg->tag) : 0;
	char err[256] = "";
	struct virtio_9p *p9;
	int ret;

	if (!sops)
		sops = &virtio_9p_server;
	/* The command line refuses these; a caller that did not, here. */
	if (!tag_len || tag_len > LKVM_9P_TAG_MAX) {
		pr_err("--9p %s: mount tag must be 1 to %d bytes", cfg->dir,
		       LKVM_9P_TAG_MAX);
		return -EINVAL;
	}
	p9 = calloc(1, sizeof(*p9));
	if (!p9)
		return -ENOMEM;
	pthread_mutex_init(&p9->lock, NULL);
	pthread_cond_init(&p9->work, NULL);
	pthread_cond_init(&p9->idle, NULL);
	p9->tail = &p9->head;
	p9->sops = sops;
	p9->ops = virtio_9p_ops;
	p9->ops.config_size = (u32)(2 + tag_len);
	p9->config[0] = (u8)tag_len;		/* le16 */
	p9->config[1] = (u8)(tag_len >> 8);
	memcpy(p9->config + 2, cfg->tag, tag_len);
	p9->dir = strdup(cfg->dir);
	if (!p9->dir) {
		ret = -ENOMEM;
		goto err;
	}
	ret = sops->open(&o, &p9->srv, err, sizeof(err));
	if (ret) {
		pr_err("--9p %s: %s", cfg->dir, err[0] ? err : strerror(-ret));
		goto err;
	}
	for (; p9->nr_workers < P9_WORKERS; p9->nr_workers++) {
		ret = -pthread_create(&p9->workers[p9->nr_workers], NULL,
				      p9_worker, p9);
		if (ret) {
			pr_err("virtio-9p %s: worker thread: %s", cfg->dir,
			       strerror(-ret));
			goto err;
		}
	}
	/* The transport owns p9 from here, on failure too. */
	ret = virtio_transport__create(kvm, kind, &p9->ops, p9, out);
	if (ret)
		return ret;
	pr_debug("virtio-9p %s: tag %s%s", cfg->dir, cfg->tag,
		 cfg->readonly ? ", read-only" : "");
	return 0;
err:
	virtio_9p__free(p9);
	return ret;
}

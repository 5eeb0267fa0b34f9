// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-rng (virtio 1.2, section 5.4): one queue whose writable buffers
 * are filled from the host's getrandom(2).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/virtio-transport.h"
#include "devices.h"

#define RNG_QUEUE_SIZE		64
/*
 * At most this much per request: the device thread should not spend a
 * long time on one huge buffer, and the spec lets us fill less.
 */
#define RNG_MAX_PER_REQUEST	(64 * 1024)

struct virtio_rng {
	struct vring_chain chain;	/* under vdev->lock */
};

/* Fills up to @len bytes at @buf; returns how many were filled. */
static size_t rng_fill(void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom((char *)buf + done, len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			pr_debug("virtio-rng: getrandom: %s",
				 n < 0 ? strerror(errno) : "no data");
			break;
		}
		done += (size_t)n;
	}
	return done;
}

static u32 virtio_rng__fill_chain(struct vring_chain *e)
{
	size_t total = 0;

	for (unsigned int i = e->out_num; i < e->out_num + e->in_num; i++) {
		size_t want = min_t(size_t, e->iov[i].iov_len,
				    RNG_MAX_PER_REQUEST - total);
		size_t got = rng_fill(e->iov[i].iov_base, want);

		total += got;
		if (got < want || total == RNG_MAX_PER_REQUEST)
			break;
	}
	return (u32)total;
}

static void virtio_rng__handle_queue(struct virtio_device *vdev,
				     struct virtio_queue *q)
{
	struct virtio_rng *rng = vdev->priv;
	struct vring_chain *c = &rng->chain;

	while (virtio_queue_pop(q, c) > 0) {
		u32 n = virtio_rng__fill_chain(c);

		virtio_stat_bytes(vdev, n);
		vring_chain_release(c);
		virtio_queue_complete(q, c->id, n);
	}
}

static const struct virtio_device_ops virtio_rng_ops = {
	.name = "rng",
	.device_id = VIRTIO_ID_RNG,
	.nr_queues = 1,
	.queue_max_size = RNG_QUEUE_SIZE,
	.config_size = 0,
	.features = 0,
	.handle_queue = virtio_rng__handle_queue,
	.free = free,
};

int virtio_rng__create(struct kvm *kvm, enum virtio_transport_kind kind,
		       struct virtio_device **out)
{
	struct virtio_rng *rng;

	rng = calloc(1, sizeof(*rng));
	if (!rng)
		return -ENOMEM;
	/* The transport owns rng from here, on failure too. */
	return virtio_transport__create(kvm, kind, &virtio_rng_ops, rng, out);
}

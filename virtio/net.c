// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net (virtio 1.2, section 5.1): one queue pair and a control
 * queue, frames to and from a backend in net/ (tap, user, none).
 *
 *   queue 0 (receiveq1):  backend -> guest
 *   queue 1 (transmitq1): guest -> backend
 *   queue 2 (controlq):   rx mode, MAC table, MAC address
 *
 * Receive never drops a frame because the guest is slow: a frame the
 * guest has no buffers for stays in the bounce buffer (possibly half
 * placed, with MRG_RXBUF), the backend stops reading (the frames behind
 * it wait on the host side) and the device waits for the guest's kick
 * (virtio_queue_pop() arms it and re-checks the ring).  Drops
 * are counted only where a frame cannot be delivered at all: larger than
 * every buffer the guest gave, a header this guest cannot take, an empty
 * frame (either way), or a backend that had to drop (its own counters).
 *
 * Each wakeup moves at most NET_BUDGET frames (rx; it relies on the
 * backend's readiness staying up) or a queue's worth of chains (tx, the
 * core's budget) and then yields to the event loop, so a flood on one
 * queue cannot starve others.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/net.h"
#include "lkvm/virtio-transport.h"
#include "devices.h"

#define NET_QUEUE_SIZE		256
#define NET_RXQ			0
#define NET_TXQ			1
#define NET_CTRLQ		2
#define NET_BUDGET		256
#define NET_CTRL_MAX		(2 * (4 + NET_MAC_TABLE_MAX * 6))
/*
 * A frame waiting for receive buffers the guest is handing back one at
 * a time: take them in batches of an eighth of the ring (at most 32), or
 * whatever came within virtio_net_rx_batch_us.  See virtio_net__rx_batch().
 */
#define NET_RX_BATCH_MAX	32

atomic_uint virtio_net_rx_batch_us = 500;

struct virtio_net {
	struct virtio_device *vdev;
	struct virtio_device_ops ops;	/* features depend on the backend */
	struct net_backend be;
	unsigned int index;

	/* Under vdev->lock. */
	u8 mac[6];			/* config space */
	struct net_rx_filter filter;
	size_t hdr_len;			/* 12, or 10 for legacy without MRG */

	/* The frame being received: [guest header | frame] in rx_buf. */
	u8 *rx_buf;
	size_t rx_start;		/* where the guest header starts */
	size_t rx_len;			/* header + frame; 0 = none pending */
	size_t rx_off;			/* bytes placed so far */
	unsigned int rx_nbufs;		/* chains popped for it */
	struct {
		struct vring_id id;
		u32 len;
	} rx_used[VRING_MAX_SIZE];
	struct vring_chain rx_first;	/* holds the header (num_buffers) */
	struct vring_chain chain;

	/* Device thread: the batch's timer (virtio_net__rx_batch()). */
	int rx_timer_fd;
	struct virtio_watch rx_timer_w;
	bool rx_batching;		/* the timer works */
	bool rx_batch_asked;		/* kicks asked for after a batch */
	u64 rx_batch_frames;		/* rx_frames at the last batch */

	u8 *tx_buf;
	struct virtio_net_hdr_v1 tx_hdr;
	struct iovec tx_iov[VRING_MAX_SEGS + 1];

	u64 rx_frames, tx_frames, rx_dropped, tx_dropped, rx_filtered;
};

static bool net_has(const struct virtio_net *n, unsigned int bit)
{
	return virtio_has_feature(n->vdev, bit);
}

static void virtio_net__read_config(struct virtio_device *vdev, u32 offset,
				    void *data, u32 len)
{
	struct virtio_net *n = vdev->priv;
	struct virtio_net_config c = { 0 };

	memcpy(c.mac, n->mac, 6);
	c.status = htole16(VIRTIO_NET_S_LINK_UP);
	c.max_virtqueue_pairs = htole16(1);
	memcpy(data, (u8 *)&c + offset, len);
}

/* Legacy drivers without CTRL_MAC_ADDR set the MAC through config space. */
static void virtio_net__write_config(struct virtio_device *vdev, u32 offset,
				     const void *data, u32 len)
{
	struct virtio_net *n = vdev->priv;

	if (!vdev->legacy || offset >= 6)
		return;
	memcpy(n->mac + offset, data, min_t(u32, len, 6 - offset));
	memcpy(n->filter.mac, n->mac, 6);
}

/*
 * Takes the next frame from the backend into rx_buf.  Returns 1 with a
 * frame pending, 0 if the backend has none, -1 if the frame was not for
 * the guest (filtered or unusable, counted).
 */
static int virtio_net__fetch(struct virtio_net *n)
{
	struct virtio_net_hdr_v1 *h = (void *)n->rx_buf;
	u8 *frame = n->rx_buf + NET_HDR_LEN;
	ssize_t len;
	size_t flen;

	if (n->be.vnet_hdr) {
		len = n->be.ops->recv(&n->be, n->rx_buf,
				      NET_HDR_LEN + NET_MAX_FRAME);
		if (len < 0)
			return 0;
		if ((size_t)len <= NET_HDR_LEN) {	/* no frame */
			n->rx_dropped++;
			virtio_stat_error(n->vdev);
			return -1;
		}
		flen = (size_t)len - NET_HDR_LEN;
		if (net_hdr_check_rx(h, n->vdev->guest_features, flen)) {
			n->rx_dropped++;
			virtio_stat_error(n->vdev);
			return -1;
		}
	} else {
		len = n->be.ops->recv(&n->be, frame, NET_MAX_FRAME);
		if (len < 0)
			return 0;
		if (!len) {
			/* An empty datagram is no frame. */
			n->rx_dropped++;
			virtio_stat_error(n->vdev);
			return -1;
		}
		memset(h, 0, sizeof(*h));
		flen = (size_t)len;
	}
	if (!net_rx_filter_accept(&n->filter, frame, flen)) {
		n->rx_filtered++;
		return -1;
	}
	h->num_buffers = htole16(1);
	/* A 10-byte legacy header ends where the frame starts. */
	n->rx_start = NET_HDR_LEN - n->hdr_len;
	if (n->rx_start)
		memmove(n->rx_buf + n->rx_start, n->rx_buf, n->hdr_len);
	n->rx_len = n->hdr_len + flen;
	n->rx_off = 0;
	n->rx_nbufs = 0;
	return 1;
}

static void virtio_net__rx_drop_pending(struct virtio_net *n,
					struct virtio_queue *q)
{
	/* Chains already taken go back empty; the guest drops them. */
	for (unsigned int i = 0; i < n->rx_nbufs; i++)
		virtio_queue_complete(q, n->rx_used[i].id, 0);
	n->rx_dropped++;
	virtio_stat_error(n->vdev);
	n->rx_len = 0;
	n->rx_nbufs = 0;
}

/*
 * Places the pending frame in the guest's buffers.  Returns 1 when it was
 * handed over (or dropped as too big), 0 if the guest must post more
 * buffers first (what was placed is kept), or a negative errno if the
 * driver broke the rules (the device is marked broken).
 */
static int virtio_net__place(struct virtio_net *n, struct virtio_queue *q)
{
	bool mrg = net_has(n, VIRTIO_NET_F_MRG_RXBUF);
	const u8 *data = n->rx_buf + n->rx_start;
	struct vring_chain *e;
	size_t c;
	int ret;

	while (n->rx_off < n->rx_len) {
		if (n->rx_nbufs == q->ring.size) {
			virtio_net__rx_drop_pending(n, q);
			return 1;
		}
		e = n->rx_nbufs ? &n->chain : &n->rx_first;
		ret = virtio_queue_pop(q, e);
		if (ret <= 0)
			return ret;
		if (e->out_num || !e->in_len) {
			virtio_device_broken(n->vdev, "receive buffer not writable",
					     -EINVAL);
			return -EINVAL;
		}
		/*
		 * Too small: without MRG_RXBUF for the frame, with it for
		 * the header, which goes whole into a frame's first buffer
		 * (num_buffers is written there last).  A driver must post
		 * buffers at least that big (virtio 1.2, 5.1.6.3.1); the
		 * frame is dropped, the buffer handed back empty.
		 */
		if ((!mrg && e->in_len < n->rx_len) ||
		    (mrg && !n->rx_nbufs && e->in_len < n->hdr_len)) {
			n->rx_used[n->rx_nbufs++].id = e->id;
			virtio_net__rx_drop_pending(n, q);
			return 1;
		}
		c = vring_chain_write(e, 0, data + n->rx_off,
				       n->rx_len - n->rx_off);
		vring_chain_release(e);
		n->rx_used[n->rx_nbufs].id = e->id;
		n->rx_used[n->rx_nbufs++].len = (u32)c;
		n->rx_off += c;
	}
	if (n->rx_nbufs > 1) {
		u16 nb = htole16((u16)n->rx_nbufs);

		vring_chain_write(&n->rx_first,
				   offsetof(struct virtio_net_hdr_v1, num_buffers),
				   &nb, sizeof(nb));
		vring_chain_release(&n->rx_first);
	}
	/* The used ring's publication orders the buffer writes first. */
	for (unsigned int i = 0; i < n->rx_nbufs; i++)
		virtio_queue_complete(q, n->rx_used[i].id, n->rx_used[i].len);
	n->rx_frames++;
	virtio_stat_bytes(n->vdev, n->rx_len);
	n->rx_len = 0;
	n->rx_nbufs = 0;
	return 1;
}

/*
 * The guest's receive ring is empty with a frame waiting.  A guest that
 * takes frames more slowly than they come hands buffers back one at a
 * time as it works through the used ring, and the device, idle on its
 * doorbell, would take each as it comes: the ring stays empty and every
 * buffer costs the guest a kick (an exit), which slows it further.  A
 * flood settled there for good (300-900 kicks per 20000-frame run, at
 * about 0.6x the rate of runs that never got there).  Instead the driver
 * is asked to kick after a batch (EVENT_IDX) or not at all, and a timer
 * looks anyway.  Only if a frame went in since the last batch: a guest
 * that stopped taking frames is waited for on its doorbell, not polled.
 */
static void virtio_net__rx_batch(struct virtio_net *n, struct virtio_queue *q)
{
	unsigned int batch = min_t(unsigned int, q->ring.size / 8,
				   NET_RX_BATCH_MAX), us;
	struct itimerspec its = { 0 };

	if (!n->rx_batching || n->rx_frames == n->rx_batch_frames ||
	    !virtio_queue_kick_after(q, batch ?: 1))
		return;
	n->rx_batch_frames = n->rx_frames;
	n->rx_batch_asked = true;
	us = atomic_load_explicit(&virtio_net_rx_batch_us, memory_order_relaxed);
	its.it_value.tv_sec = us / 1000000;
	its.it_value.tv_nsec = us % 1000000 * 1000;
	if (timerfd_settime(n->rx_timer_fd, 0, &its, NULL)) {
		/*
		 * No timer, no batches: look again now, which arms kicks
		 * for good.
		 */
		pr_debug("net%u: receive batch timer: %s", n->index,
			 strerror(errno));
		n->rx_batching = false;
		virtio_queue_wake(q);
	}
}

/*
 * Backend frames -> guest, at most NET_BUDGET of them (inside the core).
 * @look: the batch timer's look, which may find the ring as empty as it
 * was.
 */
static void virtio_net__rx(struct virtio_net *n, bool look)
{
	struct virtio_queue *q = &n->vdev->queues[NET_RXQ];
	unsigned int budget = NET_BUDGET;
	bool stop = false;
	int ret;

	if (!virtio_queue_runnable(q)) {
		n->be.ops->rx_enable(&n->be, false);
		/*
		 * The batch's look, if this was it, is spent: the wake-up
		 * that makes the queue runnable again (resume, bus mastering
		 * back) must look in its place, or the waiting frame stays
		 * until the driver has posted a whole batch.
		 */
		n->rx_batch_asked = false;
		return;
	}
	/*
	 * A batch is asked for and no buffer came since: a wake-up already
	 * on its way when it was asked (the doorbell of the buffer the
	 * frames filled, the core's kick at start, the backend's readiness)
	 * must not look at the empty ring, since that arms kicks for every
	 * buffer again and the batch is lost.  Nothing is lost by waiting:
	 * the driver kicks at the batch's end and the timer looks before.
	 * A stale read of avail->idx only means the same.
	 */
	if (n->rx_batch_asked && n->rx_len && !look &&
	    !vring_has_work(&q->ring))
		return;
	n->rx_batch_asked = false;
	while (budget) {
		if (!n->rx_len) {
			ret = virtio_net__fetch(n);
			if (!ret)
				break;		/* backend is empty */
			if (ret < 0) {
				/* Filtered out: still work, still counted. */
				budget--;
				continue;
			}
		}
		ret = virtio_net__place(n, q);
		if (ret < 0)
			return;		/* broken: no more interrupts */
		if (!ret) {
			/*
			 * No buffers (kicks are armed again) or this wake-up's
			 * budget is spent (the core calls us again): the frame
			 * waits in rx_buf, the ones behind it in the backend.
			 */
			stop = true;
			virtio_net__rx_batch(n, q);
			break;
		}
		budget--;
	}
	n->be.ops->rx_enable(&n->be, !stop);
}

/* Device thread, inside the core: the batch's time is up. */
static void virtio_net__rx_timer(void *opaque, u32 events __unused)
{
	struct virtio_net *n = opaque;
	u64 v;

	if (read(n->rx_timer_fd, &v, sizeof(v)) != sizeof(v))
		return;
	virtio_net__rx(n, true);
}

/* Device thread, vdev->lock held by the backend's watch. */
static void virtio_net__rx_wake(void *opaque)
{
	struct virtio_net *n = opaque;

	virtio_device_enter(n->vdev);
	virtio_net__rx(n, false);
	virtio_device_leave(n->vdev);
}

/* One transmit chain.  Returns 0, or -EINVAL if the device broke. */
static int virtio_net__tx_one(struct virtio_net *n, struct vring_chain *e)
{
	struct virtio_net_hdr_v1 h = { 0 };
	size_t hl = n->hdr_len, flen, skip;
	unsigned int cnt = 0;
	struct iovec one;
	int ret;

	if (e->in_num) {
		virtio_device_broken(n->vdev, "transmit buffer is writable",
				     -EINVAL);
		return -EINVAL;
	}
	/*
	 * A chain that is all header carries no frame, and a writev() of
	 * nothing sends nothing on a socket: counting it as sent would lose
	 * it silently.
	 */
	if (e->out_len <= hl || e->out_len - hl > NET_MAX_FRAME) {
		n->tx_dropped++;
		virtio_stat_error(n->vdev);
		return 0;
	}
	flen = e->out_len - hl;
	vring_chain_read(e, 0, &h, hl);
	if (net_hdr_check_tx(&h, n->vdev->guest_features, flen)) {
		n->tx_dropped++;
		virtio_stat_error(n->vdev);
		return 0;
	}
	if (n->be.vnet_hdr) {
		/* Header, then the guest's segments past its header. */
		n->tx_hdr = h;
		n->tx_hdr.flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM;
		n->tx_hdr.num_buffers = 0;
		n->tx_iov[cnt++] = (struct iovec){ &n->tx_hdr, NET_HDR_LEN };
		skip = hl;
		for (unsigned int i = 0; i < e->out_num; i++) {
			const struct iovec *v = &e->iov[i];

			if (skip >= v->iov_len) {
				skip -= v->iov_len;
				continue;
			}
			n->tx_iov[cnt++] = (struct iovec){
				(u8 *)v->iov_base + skip, v->iov_len - skip,
			};
			skip = 0;
		}
		ret = n->be.ops->send(&n->be, n->tx_iov, cnt);
	} else {
		vring_chain_read(e, hl, n->tx_buf, flen);
		one = (struct iovec){ n->tx_buf, flen };
		ret = n->be.ops->send(&n->be, &one, 1);
	}
	if (ret) {
		n->tx_dropped++;
		virtio_stat_error(n->vdev);
	} else {
		n->tx_frames++;
		virtio_stat_bytes(n->vdev, flen);
	}
	return 0;
}

static void virtio_net__tx(struct virtio_net *n, struct virtio_queue *q)
{
	while (virtio_queue_pop(q, &n->chain) > 0) {
		if (virtio_net__tx_one(n, &n->chain))
			return;
		vring_chain_release(&n->chain);
		virtio_queue_complete(q, n->chain.id, 0);
	}
}

static void virtio_net__ctrl(struct virtio_net *n, struct virtio_queue *q)
{
	struct virtio_device *vdev = n->vdev;
	struct vring_chain *e = &n->chain;
	u8 buf[2 + NET_CTRL_MAX], ack;
	size_t len;

	while (virtio_queue_pop(q, e) > 0) {
		if (e->out_len < 2 || !e->in_len) {
			virtio_device_broken(vdev, "malformed control command",
					     -EINVAL);
			return;
		}
		len = vring_chain_read(e, 0, buf, sizeof(buf));
		ack = VIRTIO_NET_ERR;
		if (e->out_len <= sizeof(buf))
			ack = net_ctrl_command(&n->filter, vdev->guest_features,
					       buf[0], buf[1], buf + 2, len - 2);
		vring_chain_write(e, e->in_len - 1, &ack, 1);
		vring_chain_release(e);
		virtio_queue_complete(q, e->id, 1);
	}
}

static void virtio_net__handle_queue(struct virtio_device *vdev,
				     struct virtio_queue *q)
{
	struct virtio_net *n = vdev->priv;

	switch (q->index) {
	case NET_RXQ:
		virtio_net__rx(n, false); /* the guest posted receive buffers */
		break;
	case NET_TXQ:
		virtio_net__tx(n, q);
		break;
	case NET_CTRLQ:
		virtio_net__ctrl(n, q);
		break;
	}
}

static int virtio_net__start(struct virtio_device *vdev)
{
	struct virtio_net *n = vdev->priv;
	int ret;

	n->hdr_len = (net_has(n, VIRTIO_F_VERSION_1) ||
		      net_has(n, VIRTIO_NET_F_MRG_RXBUF)) ?
		     NET_HDR_LEN : NET_LEGACY_HDR_LEN;
	n->rx_len = 0;
	n->rx_nbufs = 0;
	n->rx_batch_asked = false;
	ret = n->be.ops->set_offload(&n->be, vdev->guest_features);
	if (ret)
		pr_warn("net%u: receive offloads: %s", n->index, strerror(-ret));
	/* The core kicks every queue next; the receiveq kick starts rx. */
	return 0;
}

static void virtio_net__reset(struct virtio_device *vdev)
{
	struct virtio_net *n = vdev->priv;

	/*
	 * Popped chains belong to rings that no longer exist; a frame still
	 * in the bounce buffer has nowhere to go now: dropped, and counted
	 * like every other frame the guest cannot get.
	 */
	if (n->rx_len) {
		n->rx_dropped++;
		virtio_stat_error(vdev);
	}
	n->rx_len = 0;
	n->rx_nbufs = 0;
	n->rx_batch_asked = false;
	net_rx_filter_reset(&n->filter, n->mac);
	n->be.ops->rx_enable(&n->be, false);
}

static void virtio_net__free_state(struct virtio_net *n)
{
	if (n->be.ops)
		n->be.ops->free(&n->be);
	if (n->rx_timer_fd >= 0)
		close(n->rx_timer_fd);
	free(n->rx_buf);
	free(n->tx_buf);
	free(n);
}

static void virtio_net__free(void *priv)
{
	struct virtio_net *n = priv;

	if (n->vdev)
		pr_info("net%u: rx %llu frames (%llu dropped, %llu filtered, backend %llu), "
			"tx %llu frames (%llu dropped, backend %llu)", n->index,
			(unsigned long long)n->rx_frames,
			(unsigned long long)n->rx_dropped,
			(unsigned long long)n->rx_filtered,
			(unsigned long long)n->be.rx_dropped,
			(unsigned long long)n->tx_frames,
			(unsigned long long)n->tx_dropped,
			(unsigned long long)n->be.tx_dropped);
	virtio_net__free_state(n);
}

static const struct virtio_device_ops virtio_net_ops = {
	.name = "net",
	.device_id = VIRTIO_ID_NET,
	.nr_queues = 3,
	.queue_max_size = NET_QUEUE_SIZE,
	.config_size = offsetof(struct virtio_net_config, mtu),
	.features = (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS) |
		    (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
		    (1ULL << VIRTIO_NET_F_CTRL_VQ) |
		    (1ULL << VIRTIO_NET_F_CTRL_RX) |
		    (1ULL << VIRTIO_NET_F_CTRL_MAC_ADDR),
	.read_config = virtio_net__read_config,
	.write_config = virtio_net__write_config,
	.start = virtio_net__start,
	.reset = virtio_net__reset,
	.handle_queue = virtio_net__handle_queue,
	.free = virtio_net__free,
};

int virtio_net__create(struct kvm *kvm, const struct lkvm_net *cfg,
		       unsigned int index, enum virtio_transport_kind kind,
		       struct virtio_device **out)
{
	struct virtio_device *vdev;
	struct virtio_net *n;
	int ret;

	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->index = index;
	n->hdr_len = NET_HDR_LEN;
	n->rx_timer_fd = timerfd_create(CLOCK_MONOTONIC,
					TFD_NONBLOCK | TFD_CLOEXEC);
	n->rx_buf = malloc(NET_HDR_LEN + NET_MAX_FRAME);
	n->tx_buf = malloc(NET_MAX_FRAME);
	if (!n->rx_buf || !n->tx_buf) {
		virtio_net__free_state(n);
		return -ENOMEM;
	}
	if (cfg->mac_set)
		memcpy(n->mac, cfg->mac, 6);
	else
		net_default_mac(kvm->cfg ? kvm->cfg->name : NULL, index, n->mac);
	net_rx_filter_reset(&n->filter, n->mac);
	ret = net_backend_open(&n->be, cfg);
	if (ret) {
		virtio_net__free_state(n);
		return ret;
	}
	n->ops = virtio_net_ops;
	/* slirp runs on the device thread and needs its sockets. */
	if (cfg->mode == NET_MODE_USER)
		n->ops.seccomp = SECCOMP_THREAD_SLIRP;
	n->ops.features |= n->be.features;

	/* The transport owns n from here, on failure too. */
	ret = virtio_transport__create(kvm, kind, &n->ops, n, &vdev);
	if (ret)
		return ret;
	n->vdev = vdev;
	if (n->rx_timer_fd >= 0 &&
	    virtio_device_watch(vdev, &n->rx_timer_w, n->rx_timer_fd, EPOLLIN,
				virtio_net__rx_timer, n)) {
		close(n->rx_timer_fd);
		n->rx_timer_fd = -1;
	}
	n->rx_batching = n->rx_timer_fd >= 0;
	pthread_mutex_lock(&vdev->lock);
	n->be.lock = &vdev->lock;
	n->be.rx_wake = virtio_net__rx_wake;
	n->be.opaque = n;
	ret = n->be.ops->attach(&n->be, &vdev->loop);
	pthread_mutex_unlock(&vdev->lock);
	if (ret) {
		pr_err("net%u: cannot watch the backend: %s", index,
		       strerror(-ret));
		return ret;
	}
	pr_info("net%u: %s, mac %02x:%02x:%02x:%02x:%02x:%02x", index,
		n->be.ops->name, n->mac[0], n->mac[1], n->mac[2], n->mac[3],
		n->mac[4], n->mac[5]);
	if (out)
		*out = vdev;
	return 0;
}

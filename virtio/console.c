// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console (virtio 1.2, section 5.3), one port, no multiport: the
 * guest's hvc0 on lkvm's stdin and stdout.
 *
 *   queue 0 (receiveq):  stdin -> guest
 *   queue 1 (transmitq): guest -> stdout
 *
 * stdin is read on the device thread's own event loop into a small
 * buffer, and handed to the guest as it posts receive buffers.  While the
 * buffer is full stdin is not polled, so input waits in the host's tty or
 * pipe rather than being dropped; the guest's next kick on the receiveq
 * drains the buffer and polling resumes.  Ctrl-A x quits, as with the
 * serial console, when stdin is a raw terminal.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/virtio_console.h>

#include "lkvm/exit.h"
#include "lkvm/term.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/virtio-transport.h"
#include "devices.h"

#define CONSOLE_QUEUE_SIZE	128
#define CONSOLE_RXQ		0
#define CONSOLE_TXQ		1
#define CONSOLE_RX_BUF		4096
#define CTRL_A			0x01

struct virtio_console {
	struct virtio_device *vdev;
	struct kvm *kvm;

	/* Device thread only, under vdev->lock. */
	struct evloop_watch in;
	bool in_watched;
	bool in_eof;
	bool escape;			/* last input byte was Ctrl-A */
	u8 rx[CONSOLE_RX_BUF];		/* stdin bytes not yet delivered */
	size_t rx_len;
	struct virtq_elem elem;
};

static void virtio_console__read_config(struct virtio_device *vdev __unused,
					u32 offset __unused, void *data,
					u32 len)
{
	/* No F_SIZE, F_MULTIPORT or F_EMERG_WRITE: nothing to show. */
	memset(data, 0, len);
}

static void virtio_console__watch_input(struct virtio_console *c, bool on)
{
	if (c->in_eof || c->in_watched == on)
		return;
	if (!evloop_mod(&c->vdev->loop, &c->in, on ? EPOLLIN : 0))
		c->in_watched = on;
}

static bool virtio_console__rx_ready(struct virtio_console *c)
{
	struct virtio_device *vdev = c->vdev;
	struct virtio_queue *q = &vdev->queues[CONSOLE_RXQ];

	return (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) && !vdev->broken &&
	       vdev->dma_enabled && q->enabled && virtq_ready(&q->vq);
}

/* Moves buffered input into the guest's receive buffers. */
static void virtio_console__deliver(struct virtio_console *c)
{
	struct virtio_device *vdev = c->vdev;
	struct virtio_queue *q = &vdev->queues[CONSOLE_RXQ];
	size_t off = 0, n;
	bool pushed = false;

	while (off < c->rx_len && virtio_queue_pop(vdev, q, &c->elem) > 0) {
		n = virtq_elem_copy_to(&c->elem, 0, c->rx + off,
				       c->rx_len - off);
		virtio_queue_push(vdev, q, c->elem.head, (u32)n);
		pushed = true;
		off += n;
	}
	if (off) {
		memmove(c->rx, c->rx + off, c->rx_len - off);
		c->rx_len -= off;
	}
	if (pushed)
		virtio_queue_notify(vdev, q);
}

/*
 * Delivers what it can; input waits while the guest has no buffers.  Ran
 * out of buffers with input left: ask for a kick (virtq_enable_notify)
 * and retry if buffers slipped in meanwhile, so no kick is lost.
 */
static void virtio_console__flush_rx(struct virtio_console *c)
{
	struct virtio_queue *q = &c->vdev->queues[CONSOLE_RXQ];

	while (c->rx_len && virtio_console__rx_ready(c)) {
		virtio_console__deliver(c);
		if (!c->rx_len || !virtio_console__rx_ready(c) ||
		    !virtq_enable_notify(&q->vq))
			break;
	}
	virtio_console__watch_input(c, c->rx_len < sizeof(c->rx));
}

/* Ctrl-A x quits; Ctrl-A Ctrl-A sends one Ctrl-A (as the 8250 console). */
static bool virtio_console__escape(struct virtio_console *c, u8 ch)
{
	if (!term__is_raw())
		return false;
	if (c->escape) {
		c->escape = false;
		if (ch == 'x') {
			kvm__request_stop(c->kvm, LKVM_EXIT_SIGNAL_BASE + 2);
			return true;
		}
		return ch != CTRL_A;
	}
	if (ch == CTRL_A) {
		c->escape = true;
		return true;
	}
	return false;
}

/* Device thread: stdin is readable. */
static void virtio_console__on_input(void *opaque, u32 events __unused)
{
	struct virtio_console *c = opaque;
	struct virtio_device *vdev = c->vdev;
	u8 buf[CONSOLE_RX_BUF];
	ssize_t n;

	pthread_mutex_lock(&vdev->lock);
	if (c->rx_len == sizeof(c->rx)) {
		virtio_console__watch_input(c, false);
		goto out;
	}
	n = read(c->in.fd, buf, sizeof(c->rx) - c->rx_len);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* EOF or an unreadable stdin: stop polling it for good. */
		evloop_del(&vdev->loop, &c->in);
		c->in_eof = true;
		c->in_watched = false;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (!virtio_console__escape(c, buf[i]))
			c->rx[c->rx_len++] = buf[i];
	}
	virtio_console__flush_rx(c);
out:
	pthread_mutex_unlock(&vdev->lock);
}

/* Writes all of @iov to stdout; output that cannot be written is lost. */
static void virtio_console__write_out(struct iovec *iov, unsigned int cnt)
{
	while (cnt && !term__output_lost()) {
		ssize_t n = writev(term__out_fd(), iov, (int)cnt);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			term__output_failed("virtio-console", n < 0 ? errno : EIO);
			return;
		}
		while (cnt && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt) {
			iov->iov_base = (u8 *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
}

static void virtio_console__handle_tx(struct virtio_console *c,
				      struct virtio_queue *q)
{
	struct virtio_device *vdev = c->vdev;
	struct virtq_elem *e = &c->elem;
	unsigned int done = 0;
	int ret;

	do {
		virtq_disable_notify(&q->vq);
		while ((ret = virtio_queue_pop(vdev, q, e)) > 0) {
			/* Writable buffers on the transmitq carry nothing. */
			virtio_console__write_out(e->iov, e->out_num);
			virtio_queue_push(vdev, q, e->head, 0);
			if (virtio_queue_yield(vdev, q, &done))
				return;
		}
		virtio_queue_notify(vdev, q);
		if (ret < 0)
			return;	/* virtio_queue_pop() marked it broken */
	} while (virtq_enable_notify(&q->vq));
}

static void virtio_console__handle_queue(struct virtio_device *vdev,
					 struct virtio_queue *q)
{
	struct virtio_console *c = vdev->priv;

	if (q->index == CONSOLE_TXQ)
		virtio_console__handle_tx(c, q);
	else
		virtio_console__flush_rx(c);
}

static void virtio_console__free(struct virtio_device *vdev)
{
	free(vdev->priv);
}

static const struct virtio_device_ops virtio_console_ops = {
	.name = "console",
	.device_id = VIRTIO_ID_CONSOLE,
	.nr_queues = 2,
	.queue_max_size = CONSOLE_QUEUE_SIZE,
	.config_size = sizeof(struct virtio_console_config),
	.features = 0,
	.read_config = virtio_console__read_config,
	.handle_queue = virtio_console__handle_queue,
	.free = virtio_console__free,
};

int virtio_console__create(struct kvm *kvm, enum virtio_transport_kind kind,
			   struct virtio_device **out)
{
	struct virtio_console *c;
	struct virtio_device *vdev;
	unsigned int hooks = kvm->nr_exit_hooks;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->kvm = kvm;
	ret = virtio_transport__create(kvm, kind, &virtio_console_ops, c,
				       &vdev);
	if (ret) {
		/* Once the core's exit hook exists, ops->free owns c. */
		if (kvm->nr_exit_hooks == hooks)
			free(c);
		return ret;
	}
	c->vdev = vdev;
	c->in = (struct evloop_watch){
		.fd = term__in_fd(), .cb = virtio_console__on_input,
		.opaque = c,
	};
	/*
	 * stdin may be a file or /dev/null (CI), which epoll refuses: then
	 * the guest gets no input.  The lock orders this against the device
	 * thread, which may already run.
	 */
	pthread_mutex_lock(&vdev->lock);
	if (!evloop_add(&vdev->loop, &c->in, EPOLLIN))
		c->in_watched = true;
	else
		c->in_eof = true;
	pthread_mutex_unlock(&vdev->lock);
	if (out)
		*out = vdev;
	return 0;
}

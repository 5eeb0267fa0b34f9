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
 *
 * Output never blocks the device thread, which holds vdev->lock (wanted
 * by lkvm pause, SysRq and the vCPUs' register accesses): it is written
 * without waiting, and what the reader has no room for is copied aside
 * while the transmitq stalls, so a reader that stops reading slows the
 * guest's console down and nothing else.  A socket is sent to with
 * MSG_DONTWAIT.  An fd with no non-blocking form of its own (a pipe that
 * cannot be opened again) is written as before, blocking; one that is
 * non-blocking already drops what does not fit, as before.
 *
 * Further consoles (virtio_console__create_port(), hvc1...) carry a
 * pair of plain fds instead of the terminal: no escape, no raw mode, and
 * output that cannot be written (EPIPE) is dropped from then on.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
#define CTRL_O			0x0f	/* hvc's SysRq prefix */
/*
 * The most of one transmit buffer kept aside while the reader has no
 * room.  Linux's hvc sends at most a page at a time; a guest's larger
 * buffer loses what neither fits the reader nor this, with a warning.
 */
#define CONSOLE_TX_PENDING_MAX	(1024 * 1024)

struct virtio_console {
	struct virtio_device *vdev;
	struct kvm *kvm;
	bool term;			/* lkvm's terminal (hvc0) */
	int in_fd, out_fd;		/* !term: the port's fds */
	bool out_lost;			/* !term: out_fd failed */

	/* Device thread only, under vdev->lock. */
	struct virtio_watch in;
	bool in_watched;
	bool in_eof;
	bool escape;			/* last input byte was Ctrl-A */
	u8 rx[CONSOLE_RX_BUF];		/* stdin bytes not yet delivered */
	size_t rx_len;
	struct vring_chain chain;

	/* Output: the device thread under vdev->lock, then ops->free. */
	int wr_fd;			/* written without blocking; -1: out fd */
	bool wr_own;			/* wr_fd is a description of our own */
	bool wr_sock;			/* wr_fd is a socket: MSG_DONTWAIT */
	struct virtio_watch wr;		/* EPOLLOUT while output waits */
	bool wr_watch, wr_watched;
	u8 *pend;			/* output the reader had no room for */
	size_t pend_cap, pend_off, pend_len;
	bool pend_warned;
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
	if (!virtio_device_watch_mod(&c->in, on ? EPOLLIN : 0))
		c->in_watched = on;
}

/*
 * Moves buffered input into the guest's receive buffers; input waits
 * while the guest has none (virtio_queue_pop() then armed its kicks).
 * Stops polling stdin while the buffer is full.
 */
static void virtio_console__flush_rx(struct virtio_console *c)
{
	struct virtio_queue *q = &c->vdev->queues[CONSOLE_RXQ];
	struct vring_chain *ch = &c->chain;
	size_t off = 0, n;

	while (off < c->rx_len && virtio_queue_pop(q, ch) > 0) {
		n = vring_chain_write(ch, 0, c->rx + off, c->rx_len - off);
		virtio_stat_bytes(c->vdev, (u64)n);
		vring_chain_release(ch);
		virtio_queue_complete(q, ch->id, (u32)n);
		off += n;
	}
	if (off) {
		memmove(c->rx, c->rx + off, c->rx_len - off);
		c->rx_len -= off;
	}
	virtio_console__watch_input(c, c->rx_len < sizeof(c->rx));
}

/* Ctrl-A x quits; Ctrl-A Ctrl-A sends one Ctrl-A (as the 8250 console). */
static bool virtio_console__escape(struct virtio_console *c, u8 ch)
{
	if (!c->term || !term__is_raw())
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

/* Device thread, inside the core (virtio_device_watch): stdin is readable. */
static void virtio_console__on_input(void *opaque, u32 events __unused)
{
	struct virtio_console *c = opaque;
	u8 buf[CONSOLE_RX_BUF];
	ssize_t n;

	if (c->rx_len == sizeof(c->rx)) {
		virtio_console__watch_input(c, false);
		return;
	}
	n = read(c->in.ew.fd, buf, sizeof(c->rx) - c->rx_len);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* EOF or an unreadable stdin: stop polling it for good. */
		virtio_device_unwatch(&c->in);
		c->in_eof = true;
		c->in_watched = false;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (!virtio_console__escape(c, buf[i]))
			c->rx[c->rx_len++] = buf[i];
	}
	virtio_console__flush_rx(c);
}

static bool virtio_console__out_lost(const struct virtio_console *c)
{
	return c->term ? term__output_lost() : c->out_lost;
}

static void virtio_console__out_failed(struct virtio_console *c, int err)
{
	if (c->term) {
		term__output_failed("virtio-console", err);
		return;
	}
	pr_warn("virtio-console: output fd %d: %s; dropping its output",
		c->out_fd, strerror(err));
	c->out_lost = true;
}

static int virtio_console__out_fd(const struct virtio_console *c)
{
	return c->term ? term__out_fd() : c->out_fd;
}

/*
 * A form of the output fd whose writes never block, or -1 if it has none
 * (writes to the fd itself then behave as its flags say).  lkvm
 * must not set O_NONBLOCK on the fd it was given: the flag belongs to the
 * open file description, which the shell and others share.  A pipe or a
 * terminal opened again through /proc/self/fd is a description of its
 * own (*@own); a socket takes MSG_DONTWAIT per call (*@sock).  Set-up
 * only: the main thread, before its filter.
 */
static int virtio_console__open_wr(int fd, bool *own, bool *sock)
{
	char path[32];
	struct stat st;
	int flags, pty;

	*own = *sock = false;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fstat(fd, &st))
		return -1;
	/*
	 * Already non-blocking (--tty's pty, sandbox's status pipe): its
	 * owner chose that what does not fit is dropped, not waited for.
	 */
	if (flags & O_NONBLOCK)
		return -1;
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return fd;		/* no reader to wait for */
	if (S_ISSOCK(st.st_mode)) {
		*sock = true;		/* a journal stream, a socketpair */
		return fd;
	}
	/* Reopening a pty master would make a new pty. */
	if (!S_ISFIFO(st.st_mode) &&
	    (!S_ISCHR(st.st_mode) || !ioctl(fd, TIOCGPTN, &pty)))
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	*own = fd >= 0;
	return fd;
}

/* One write that does not block if wr_fd allows: bytes, or -errno. */
static ssize_t virtio_console__try_write(struct virtio_console *c,
					 const struct iovec *iov,
					 unsigned int cnt)
{
	int fd = c->wr_fd >= 0 ? c->wr_fd : virtio_console__out_fd(c);
	struct msghdr msg = {
		.msg_iov = (struct iovec *)iov, .msg_iovlen = cnt,
	};
	ssize_t n;

	do {
		n = c->wr_sock ? sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) :
				 writev(fd, iov, (int)cnt);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? n : -EIO;
}

static void virtio_console__on_writable(void *opaque, u32 events);

/*
 * Added and removed rather than masked: epoll reports EPOLLERR even with
 * a mask of 0, and a pipe whose reader has gone would spin the thread.
 * False if the watch cannot be had.
 */
static bool virtio_console__watch_wr(struct virtio_console *c, bool on)
{
	if (!c->wr_watch || c->wr_watched == on)
		return c->wr_watched == on;
	if (on ? !virtio_device_watch(c->vdev, &c->wr, c->wr_fd, EPOLLOUT,
				      virtio_console__on_writable, c) :
		 !virtio_device_unwatch(&c->wr))
		c->wr_watched = on;
	return c->wr_watched == on;
}

/*
 * Output waits for room; true while EPOLLOUT is watched to come back.
 * Without the watch (epoll out of memory) nothing would ever wake the
 * transmitq again: what waits is dropped instead.
 */
static bool virtio_console__wait_room(struct virtio_console *c)
{
	if (virtio_console__watch_wr(c, true))
		return true;
	pr_warn("virtio-console: cannot wait for the reader; %zu bytes of output dropped",
		c->pend_len);
	c->pend_off = c->pend_len = 0;
	return false;
}

/*
 * Writes the output kept aside.  True once none waits (written, or lost
 * with the reader); false while the reader has no room, with EPOLLOUT
 * watched to come back.
 */
static bool virtio_console__flush_pending(struct virtio_console *c)
{
	while (c->pend_len && !virtio_console__out_lost(c)) {
		struct iovec iov = {
			.iov_base = c->pend + c->pend_off,
			.iov_len = c->pend_len,
		};
		ssize_t n = virtio_console__try_write(c, &iov, 1);

		if (n == -EAGAIN && c->wr_watch) {
			if (virtio_console__wait_room(c))
				return false;
			break;
		}
		if (n < 0) {
			virtio_console__out_failed(c, (int)-n);
			break;
		}
		c->pend_off += (size_t)n;
		c->pend_len -= (size_t)n;
	}
	c->pend_off = c->pend_len = 0;
	virtio_console__watch_wr(c, false);
	return true;
}

/* Keeps what is left of @iov aside, up to CONSOLE_TX_PENDING_MAX. */
static void virtio_console__keep(struct virtio_console *c,
				 const struct iovec *iov, unsigned int cnt)
{
	size_t left = 0, want;

	for (unsigned int i = 0; i < cnt; i++)
		left += iov[i].iov_len;
	want = left < CONSOLE_TX_PENDING_MAX ? left : CONSOLE_TX_PENDING_MAX;
	if (want > c->pend_cap) {
		u8 *p = realloc(c->pend, want);

		if (p) {
			c->pend = p;
			c->pend_cap = want;
		}
	}
	for (unsigned int i = 0; i < cnt && c->pend_len < c->pend_cap; i++) {
		size_t n = c->pend_cap - c->pend_len;

		if (n > iov[i].iov_len)
			n = iov[i].iov_len;
		memcpy(c->pend + c->pend_len, iov[i].iov_base, n);
		c->pend_len += n;
	}
	if (c->pend_len < left && !c->pend_warned) {
		c->pend_warned = true;
		pr_warn("virtio-console: output waits for its reader and a %zu-byte transmit buffer does not fit aside; %zu bytes dropped (reported once)",
			left, left - c->pend_len);
	}
}

/*
 * Writes @iov out without waiting; what the reader has no room for is
 * kept aside.  Output that cannot be written at all is lost.
 */
static void virtio_console__write_out(struct virtio_console *c,
				      struct iovec *iov, unsigned int cnt)
{
	while (cnt && !virtio_console__out_lost(c)) {
		ssize_t n = virtio_console__try_write(c, iov, cnt);

		if (n == -EAGAIN && c->wr_watch) {
			virtio_console__keep(c, iov, cnt);
			return;
		}
		if (n < 0) {
			virtio_console__out_failed(c, (int)-n);
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

/*
 * Each transmit buffer is used once written or kept aside; while output
 * is kept aside the rest stay in the ring, where the guest sees its
 * reader's pace.
 */
static void virtio_console__handle_tx(struct virtio_console *c,
				      struct virtio_queue *q)
{
	struct vring_chain *ch = &c->chain;

	if (!virtio_console__flush_pending(c))
		return;
	while (virtio_queue_pop(q, ch) > 0) {
		/* Writable buffers on the transmitq carry nothing. */
		virtio_console__write_out(c, ch->iov, ch->out_num);
		virtio_stat_bytes(c->vdev, ch->out_len);
		vring_chain_release(ch);
		virtio_queue_complete(q, ch->id, 0);
		if (c->pend_len && virtio_console__wait_room(c))
			return;
	}
}

/* Device thread, inside the core: the reader made room. */
static void virtio_console__on_writable(void *opaque, u32 events __unused)
{
	struct virtio_console *c = opaque;

	if (virtio_console__flush_pending(c))
		virtio_console__handle_tx(c, &c->vdev->queues[CONSOLE_TXQ]);
}

/*
 * Magic SysRq, main thread: Ctrl-O then @key on hvc0's input, which
 * Linux's hvc driver takes as a SysRq request.  Queued behind whatever
 * input is waiting; the device thread delivers it.
 */
static int virtio_console__sysrq(void *dev, char key)
{
	struct virtio_console *c = dev;
	int ret = 0;

	pthread_mutex_lock(&c->vdev->lock);
	if (sizeof(c->rx) - c->rx_len < 2) {
		ret = -EBUSY;	/* the guest is not reading its console */
	} else {
		c->rx[c->rx_len++] = CTRL_O;
		c->rx[c->rx_len++] = (u8)key;
	}
	pthread_mutex_unlock(&c->vdev->lock);
	if (!ret)
		virtio_queue_wake(&c->vdev->queues[CONSOLE_RXQ]);
	return ret;
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

/*
 * Waits up to 50 ms for SIGINT, SIGTERM or SIGHUP, which lkvm keeps
 * blocked for its signalfd (and its main thread's filter allows
 * rt_sigtimedwait): true if one came.
 */
static bool virtio_console__stop_signal(void)
{
	struct timespec ts = { .tv_nsec = 50 * 1000 * 1000 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	return sigtimedwait(&set, NULL, &ts) > 0;
}

/*
 * VM exit, every thread stopped.  The output kept aside was taken from
 * the guest (its last buffer before the exit, often a panic or "Power
 * down"), so it is owed: it is written now, waiting for the reader as a
 * program's last writes would, until a further SIGINT, SIGTERM or SIGHUP
 * says to give up.  Buffers still in the ring are not read, as with
 * every device at exit.
 */
static void virtio_console__free(void *priv)
{
	struct virtio_console *c = priv;

	while (c->pend_len && !virtio_console__out_lost(c)) {
		struct iovec iov = {
			.iov_base = c->pend + c->pend_off,
			.iov_len = c->pend_len,
		};
		ssize_t n = virtio_console__try_write(c, &iov, 1);

		if (n == -EAGAIN) {
			if (virtio_console__stop_signal())
				break;
			continue;
		}
		if (n < 0)
			break;
		c->pend_off += (size_t)n;
		c->pend_len -= (size_t)n;
	}
	if (c->pend_len && !virtio_console__out_lost(c))
		pr_warn("virtio-console: %zu bytes of the guest's output not written: its reader did not take them",
			c->pend_len);
	if (c->wr_own)
		close(c->wr_fd);
	free(c->pend);
	free(c);
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

static int virtio_console__new(struct kvm *kvm, enum virtio_transport_kind kind,
			       bool term, int in_fd, int out_fd,
			       struct virtio_device **out)
{
	struct virtio_console *c;
	struct virtio_device *vdev;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->kvm = kvm;
	c->term = term;
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->wr_fd = virtio_console__open_wr(virtio_console__out_fd(c),
					   &c->wr_own, &c->wr_sock);
	/* The transport owns c from here, on failure too. */
	ret = virtio_transport__create(kvm, kind, &virtio_console_ops, c,
				       &vdev);
	if (ret)
		return ret;
	c->vdev = vdev;
	/*
	 * stdin may be a file or /dev/null (CI), which epoll refuses: then
	 * the guest gets no input.  The lock orders this against the device
	 * thread, which may already run.
	 */
	pthread_mutex_lock(&vdev->lock);
	if (in_fd >= 0 && !virtio_device_watch(vdev, &c->in, in_fd, EPOLLIN,
					       virtio_console__on_input, c))
		c->in_watched = true;
	else
		c->in_eof = true;
	/*
	 * Only an fd epoll takes can wait for room: a file or /dev/null
	 * never says EAGAIN, and epoll refuses it.
	 */
	if (c->wr_fd >= 0 &&
	    !virtio_device_watch(vdev, &c->wr, c->wr_fd, 0,
				 virtio_console__on_writable, c))
		c->wr_watch = !virtio_device_unwatch(&c->wr);
	/* Not waited on, a description of our own would only drop output. */
	if (!c->wr_watch && c->wr_own) {
		close(c->wr_fd);
		c->wr_own = false;
		c->wr_fd = -1;
	}
	/* And a socket is written as before, blocking. */
	if (!c->wr_watch)
		c->wr_sock = false;
	pthread_mutex_unlock(&vdev->lock);
	if (term)
		kvm__set_console_sysrq(kvm, virtio_console__sysrq, c);
	if (out)
		*out = vdev;
	return 0;
}

int virtio_console__create(struct kvm *kvm, enum virtio_transport_kind kind,
			   struct virtio_device **out)
{
	int in = kvm->cfg && kvm->cfg->console_in_fd ? kvm->cfg->console_in_fd :
						       term__in_fd();

	return virtio_console__new(kvm, kind, true, in, -1, out);
}

int virtio_console__create_port(struct kvm *kvm,
				enum virtio_transport_kind kind,
				const struct lkvm_console_port *port,
				struct virtio_device **out)
{
	if (port->out_fd < 0)
		return -EBADF;
	return virtio_console__new(kvm, kind, false, port->in_fd, port->out_fd,
				   out);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * virtio/console.c when the output's reader stops reading: the device
 * thread must not block in write() while it holds vdev->lock, or lkvm
 * pause (and SysRq, and vCPUs touching the device's registers) would wait
 * for the reader.  The guest's transmit buffers stall instead, every byte
 * arrives once the reader reads again, and what is still waiting when
 * the VM exits is written then.  The output is a pipe of one page that
 * the test reads only when it says so; the buffers are sized from it.
 * console-sock.c builds this file again with STALL_SOCKET: the output is
 * then a stream socket with a small send buffer (a journal's stdout).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_mmio.h>

#include "lkvm/barrier.h"
#include "lkvm/kvm.h"
#include "lkvm/virtio-transport.h"
#include "virtio/devices.h"
#include "tap.h"
#include "virtio-mmio-fixture.h"

#include "virtio-console-driver.h"

/*
 * What the output holds: a pipe, one page (F_SETPIPE_SZ rounds up to it);
 * a socket, at most its send buffer (8 KiB once shrunk), far less than
 * the 64 KiB taken as its unit here.
 */
static size_t pipe_sz;

/* out[0] the test's reading end, out[1] the port's; its room in *@room. */
static int make_output(int out[2], size_t *room)
{
#ifdef STALL_SOCKET
	int small = 4096;

	*room = 64 * 1024;
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out) ||
	       setsockopt(out[1], SOL_SOCKET, SO_SNDBUF, &small,
			  sizeof(small)) ? -1 : 0;
#else
	int sz = page_pipe(out);

	*room = sz > 0 ? (size_t)sz : 0;
	return sz > 0 ? 0 : -1;
#endif
}
#define A_LEN	(2 * pipe_sz)	/* twice the pipe: half kept aside */
#define B_LEN	pipe_sz
#define C_LEN	(2 * pipe_sz)

static u8 byte_at(size_t i)
{
	return (u8)(i * 7 + i / 251);
}

/* Guest bytes at @addr: the pattern from stream offset @from. */
static void fill(u64 addr, size_t len, size_t from)
{
	u8 *p = gpa(addr, len);

	for (size_t i = 0; i < len; i++)
		p[i] = byte_at(from + i);
}

/* Reads exactly @len bytes from @fd within the wait cap. */
static bool read_exact(int fd, u8 *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, WAIT_MS) != 1)
			return false;
		n = read(fd, buf + got, len - got);
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

static bool pattern_ok(const u8 *buf, size_t len, size_t from)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != byte_at(from + i))
			return false;
	return true;
}

struct pauser {
	struct virtio_device *vdev;
	atomic_bool done;
};

static void *pause_thread(void *opaque)
{
	struct pauser *p = opaque;

	virtio_device_pause(p->vdev);
	/* Release: the test's acquire sees the pause complete. */
	atomic_store_explicit(&p->done, true, memory_order_release);
	return NULL;
}

struct reader {
	int fd;
	u8 *buf;
	bool ok;
};

static void *reader_thread(void *opaque)
{
	struct reader *r = opaque;

	r->ok = read_exact(r->fd, r->buf, C_LEN);
	return NULL;
}

int main(void)
{
	struct virtio_device *vdev = NULL;
	struct drv d = { 0 };
	struct pauser pz = { 0 };
	struct reader rd = { 0 };
	pthread_t t, rt;
	int out[2], i;
	bool paused = false;
	u8 *buf;

	tap_plan(11);
	signal(SIGPIPE, SIG_IGN);
	bail_after(60, "stuck for 60 s while the reader read nothing");
	fake_vm();
	if (make_output(out, &pipe_sz)) {
		printf("Bail out! output: %s\n", strerror(errno));
		return 1;
	}
	buf = malloc(A_LEN + B_LEN);
	rd.buf = malloc(C_LEN);
	if (!buf || !rd.buf || BUF_GPA + A_LEN + B_LEN > MEM_SIZE) {
		printf("Bail out! a %zu-byte pipe does not fit the test\n",
		       pipe_sz);
		return 1;
	}
	is_int(port_on_mmio(&d, -1, out[1], &vdev), 0, "port created on mmio");

	/* Twice what the pipe holds, nobody reading. */
	fill(BUF_GPA, A_LEN, 0);
	post(&d, 1, BUF_GPA, A_LEN);
	ok(wait_used(1, 1) == 0,
	   "a buffer larger than the reader's room is used (the rest kept aside)");
	fill(BUF_GPA + A_LEN, B_LEN, A_LEN);
	post(&d, 1, BUF_GPA + A_LEN, B_LEN);
	usleep(200 * 1000);
	is_int(le16toh(smp_load_acquire(&used_ring(1)->idx)), 1,
	       "the next waits in the ring while output is kept aside");

	pz.vdev = vdev;
	if (!vdev || pthread_create(&t, NULL, pause_thread, &pz)) {
		printf("Bail out! no pause thread\n");
		return 1;
	}
	for (i = 0; i < WAIT_MS; i++) {
		/* Acquire: pairs with the release in pause_thread(). */
		if (atomic_load_explicit(&pz.done, memory_order_acquire)) {
			paused = true;
			break;
		}
		usleep(1000);
	}
	ok(paused, "lkvm pause completes while the reader reads nothing");

	/*
	 * The reader reads again.  Output kept aside is the host's copy and
	 * drains while paused; the buffer still in the ring waits for resume.
	 */
	alarm(0);	/* the reader reads from here on */
	ok(read_exact(out[0], buf, A_LEN) && pattern_ok(buf, A_LEN, 0),
	   "what was kept aside arrives whole, in order, while paused");
	pthread_join(t, NULL);
	virtio_device_resume(vdev);
	ok(read_exact(out[0], buf + A_LEN, B_LEN) &&
	   pattern_ok(buf + A_LEN, B_LEN, A_LEN),
	   "after resume the waiting buffer follows it");
	ok(wait_used(1, 2) == 0, "and is used");
	is_int(rd_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET, 0,
	       "the device is not broken by a slow reader");

	/* Output still kept aside at exit is written then, not dropped. */
	fill(BUF_GPA, C_LEN, 0);
	post(&d, 1, BUF_GPA, C_LEN);
	ok(wait_used(1, 3) == 0, "a last buffer is used, half of it kept aside");
	rd.fd = out[0];
	if (pthread_create(&rt, NULL, reader_thread, &rd)) {
		printf("Bail out! no reader thread\n");
		return 1;
	}
	bail_after(60, "VM exit still waits after 60 s of a reader reading");
	kvm__exit(&kvm);
	pthread_join(rt, NULL);
	ok(rd.ok, "VM exit writes what was kept aside");
	ok(pattern_ok(rd.buf, C_LEN, 0), "all of it, in order");
	free(rd.buf);
	free(buf);
	return tap_done();
}

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_TESTS_VIRTIO_CONSOLE_DRIVER_H
#define LKVM_TESTS_VIRTIO_CONSOLE_DRIVER_H

/*
 * A minimal virtio-console driver over virtio-mmio for the unit tests of
 * virtio/console.c (tests/unit/virtio/console*.c): guest RAM, rings, and
 * the helpers that post buffers and wait for the device to use them.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#define MEM_SIZE	(1024 * 1024)
#define QSIZE		16
#define RING(q)		(0x10000 + (q) * 0x4000)
#define BUF_GPA		0x40000
#define WAIT_MS		10000

static struct kvm kvm;
static struct lkvm_config cfg;
static void *ram;

struct drv {
	u64 base;
	u16 avail_idx[2];
};

static void *gpa(u64 addr, u64 len)
{
	return guest_mem_ptr(&kvm.mem, addr, len);
}

static void wr(struct drv *d, u64 off, u32 v)
{
	bus_dispatch(&kvm.mmio_bus, d->base + off, &v, 4, true);
}

static u32 rd_status(struct drv *d)
{
	u32 v = 0;

	bus_dispatch(&kvm.mmio_bus, d->base + VIRTIO_MMIO_STATUS, &v, 4, false);
	return v;
}

static void drv_init(struct drv *d)
{
	wr(d, VIRTIO_MMIO_STATUS, 0);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				  VIRTIO_CONFIG_S_DRIVER);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1);	/* VERSION_1 */
	wr(d, VIRTIO_MMIO_STATUS, 0x0b);
	for (u32 q = 0; q < 2; q++) {
		memset(gpa(RING(q), 0x3000), 0, 0x3000);
		wr(d, VIRTIO_MMIO_QUEUE_SEL, q);
		wr(d, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, RING(q));
		wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, RING(q) + 0x1000);
		wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, RING(q) + 0x2000);
		wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(d, VIRTIO_MMIO_STATUS, 0x0f);
}

/* One buffer of @len at @gpa on queue @q (rx: writable), made available. */
static void post(struct drv *d, u32 q, u64 addr, u32 len)
{
	struct vring_desc *desc = gpa(RING(q), 16 * QSIZE);
	struct vring_avail *avail = gpa(RING(q) + 0x1000, 6 + 2 * QSIZE);
	u16 slot = d->avail_idx[q] % QSIZE;

	desc[slot] = (struct vring_desc){
		.addr = htole64(addr), .len = htole32(len),
		.flags = htole16(q == 0 ? VRING_DESC_F_WRITE : 0),
	};
	avail->ring[slot] = htole16(slot);
	/* Release: pairs with the acquire in vring_pop(): ring entry before idx. */
	smp_store_release(&avail->idx, htole16(++d->avail_idx[q]));
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

static struct vring_used *used_ring(u32 q)
{
	return gpa(RING(q) + 0x2000, 6 + 8 * QSIZE);
}

/* Waits for queue @q's used index to reach @want; its last length. */
static long wait_used(u32 q, u16 want)
{
	struct vring_used *u = used_ring(q);

	for (int i = 0; i < WAIT_MS; i++) {
		/* Acquire: pairs with the used-index release in vring_push(). */
		u16 idx = le16toh(smp_load_acquire(&u->idx));

		if (idx >= want)
			return le32toh(u->ring[(want - 1) % QSIZE].len);
		usleep(1000);
	}
	return -1;
}

/*
 * A port on virtio-mmio slot 0 with fds @in_fd (-1: none) and @out_fd,
 * set up by @d's driver: 0, or virtio_console__create_port()'s -errno.
 */
static inline int port_on_mmio(struct drv *d, int in_fd, int out_fd,
			       struct virtio_device **vdev)
{
	struct lkvm_console_port port = { .in_fd = in_fd, .out_fd = out_fd };
	int ret;

	d->base = slot_base(0);
	ret = virtio_console__create_port(&kvm, VIRTIO_TRANSPORT_MMIO, &port,
					  vdev);
	if (!ret)
		drv_init(d);
	return ret;
}

/*
 * A pipe for a port's output that holds one page (F_SETPIPE_SZ rounds
 * 4096 up to it), read by the test at out[0]: its size, or -1.
 */
static inline int page_pipe(int out[2])
{
	int sz;

	if (pipe2(out, O_CLOEXEC) || fcntl(out[0], F_SETPIPE_SZ, 4096) < 0)
		return -1;
	sz = fcntl(out[0], F_GETPIPE_SZ);
	return sz > 0 ? sz : -1;
}

static const char *bail_why;

static inline void bail_alarm(int sig __unused)
{
	static const char head[] = "Bail out! ", nl[] = "\n";

	/* Only async-signal-safe calls: write() and strlen(). */
	if (write(STDOUT_FILENO, head, sizeof(head) - 1) < 0 ||
	    write(STDOUT_FILENO, bail_why, strlen(bail_why)) < 0 ||
	    write(STDOUT_FILENO, nl, sizeof(nl) - 1) < 0)
		_exit(2);
	_exit(1);
}

/*
 * A device blocked with its lock held blocks the test too, at its next
 * register access or at exit: after @secs the test bails out saying @why
 * instead of hanging.  alarm(0) disarms it.
 */
static inline void bail_after(unsigned int secs, const char *why)
{
	bail_why = why;
	signal(SIGALRM, bail_alarm);
	alarm(secs);
}

/* A VM with MEM_SIZE of RAM at 0 and empty buses. */
static void fake_vm(void)
{
	memset(&kvm, 0, sizeof(kvm));
	kvm.cfg = &cfg;
	kvm.sys_fd = kvm.vm_fd = -1;
	pthread_mutex_init(&kvm.stop_lock, NULL);
	bus_init(&kvm.pio_bus, "pio");
	bus_init(&kvm.mmio_bus, "mmio");
	ram = calloc(1, MEM_SIZE);
	guest_mem_add(&kvm.mem, 0, MEM_SIZE, ram);
}

#endif

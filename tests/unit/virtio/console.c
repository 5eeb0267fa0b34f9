// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console ports beyond hvc0 (virtio_console__create_port(), what
 * `lkvm sandbox` uses for stderr and its status channel): each on
 * virtio-mmio in a fake VM, its fds pipes the test holds.  Output reaches
 * the port's own fd and no other, input comes from its own fd, Ctrl-A is
 * just a byte there, and a reader that went away costs the guest nothing
 * but the output.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_mmio.h>

#include "lkvm/barrier.h"
#include "lkvm/kvm.h"
#include "lkvm/virtio-transport.h"
#include "virtio/devices.h"
#include "tap.h"
#include "virtio-mmio-fixture.h"

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

/* Reads what arrives on @fd within the wait cap, up to @len bytes. */
static ssize_t read_some(int fd, void *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, WAIT_MS) != 1)
		return -1;
	return read(fd, buf, len);
}

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

int main(void)
{
	struct lkvm_console_port bad = { .in_fd = -1, .out_fd = -1 }, port;
	int in[2], out[2], other[2];
	struct drv d = { 0 };
	char buf[64];
	ssize_t n;

	tap_plan(9);
	signal(SIGPIPE, SIG_IGN);
	fake_vm();
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) ||
	    pipe2(other, O_CLOEXEC)) {
		printf("Bail out! pipe: %s\n", strerror(errno));
		return 1;
	}
	is_int(virtio_console__create_port(&kvm, VIRTIO_TRANSPORT_MMIO, &bad,
					   NULL), -EBADF,
	       "a port without an output fd is refused");

	port = (struct lkvm_console_port){ .in_fd = in[0], .out_fd = out[1] };
	d.base = slot_base(0);
	is_int(virtio_console__create_port(&kvm, VIRTIO_TRANSPORT_MMIO, &port,
					   NULL), 0, "port created on mmio");
	drv_init(&d);

	memcpy(gpa(BUF_GPA, 16), "to-the-port", 11);
	post(&d, 1, BUF_GPA, 11);
	ok(wait_used(1, 1) == 0, "transmit chain used");
	n = read_some(out[0], buf, sizeof(buf));
	ok(n == 11 && !memcmp(buf, "to-the-port", 11),
	   "the guest's bytes arrive on the port's out fd");

	/* Ctrl-A x is the terminal's escape, not a port's. */
	post(&d, 0, BUF_GPA + 0x100, 32);
	if (write(in[1], "in\x01x", 4) != 4)
		diag("write: %s", strerror(errno));
	ok(wait_used(0, 1) == 4 && !memcmp(gpa(BUF_GPA + 0x100, 4), "in\x01x", 4),
	   "input from the port's in fd, Ctrl-A x delivered as bytes");
	ok(!kvm__stopping(&kvm), "and it did not stop the VM");

	/* The reader goes away: the guest's writes still complete. */
	close(out[0]);
	memcpy(gpa(BUF_GPA + 0x200, 8), "dropped!", 8);
	post(&d, 1, BUF_GPA + 0x200, 8);
	ok(wait_used(1, 2) == 0, "a write to a closed reader completes");
	post(&d, 1, BUF_GPA + 0x200, 8);
	ok(wait_used(1, 3) == 0, "and so does the next (output dropped)");
	is_int(rd_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET, 0,
	       "the device is not broken by it");

	kvm__exit(&kvm);
	return tap_done();
}

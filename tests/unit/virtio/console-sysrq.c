// SPDX-License-Identifier: GPL-2.0
/*
 * virtio/console.c: Magic SysRq through kvm__sysrq() on hvc0.  Linux's
 * hvc driver takes Ctrl-O followed by the key as a SysRq; the pair goes
 * to the guest through the receiveq, behind input already waiting, and
 * only hvc0 (the terminal's console) registers for it.
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
#include "lkvm/control.h"
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
	struct lkvm_console_port port;
	int in[2], out[2];
	struct drv d = { 0 };

	tap_plan(7);
	signal(SIGPIPE, SIG_IGN);
	fake_vm();
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
		printf("Bail out! pipe: %s\n", strerror(errno));
		return 1;
	}
	/* An extra port (sandbox's stderr) is no console. */
	port = (struct lkvm_console_port){ .in_fd = -1, .out_fd = out[1] };
	is_int(virtio_console__create_port(&kvm, VIRTIO_TRANSPORT_MMIO, &port,
					   NULL), 0, "extra port created");
	is_int(kvm__sysrq(&kvm, 'h'), -ENOTSUP, "an extra port takes no SysRq");

	/* hvc0, its input a pipe instead of the terminal. */
	cfg.console_in_fd = in[0];
	d.base = slot_base(1);
	is_int(virtio_console__create(&kvm, VIRTIO_TRANSPORT_MMIO, NULL), 0,
	       "hvc0 created on mmio");
	drv_init(&d);

	/* Typed input first, then the SysRq: each arrives whole. */
	if (write(in[1], "ab", 2) != 2)
		diag("write: %s", strerror(errno));
	post(&d, 0, BUF_GPA, 32);
	ok(wait_used(0, 1) == 2 && !memcmp(gpa(BUF_GPA, 2), "ab", 2),
	   "typed input reaches the guest");
	is_int(kvm__sysrq(&kvm, 'w'), 0, "SysRq w");
	post(&d, 0, BUF_GPA + 0x100, 32);
	ok(wait_used(0, 2) == 2 && !memcmp(gpa(BUF_GPA + 0x100, 2), "\x0fw", 2),
	   "the guest reads Ctrl-O w");
	ok(!kvm__stopping(&kvm) &&
	   !(rd_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET),
	   "the VM keeps running, the device is not broken");

	kvm__exit(&kvm);
	return tap_done();
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the transport fuzz targets (virtio-pci.c, virtio-mmio.c): a
 * VM without /dev/kvm (as the unit tests fake one) holding one real
 * device -- virtio-rng, or virtio-blk on a temporary raw image -- with
 * its real threads, guest RAM registered through the real accessor, and
 * a decoder that turns the input into register accesses.
 *
 * Input:
 *   0      device: bit 0 virtio-blk (else virtio-rng), bit 1 read-only
 *          disk, bits 2-3 the transport variant (the target's choice)
 *   1..2   length N of the access stream that follows (clamped)
 *   3..    N bytes of accesses, then guest RAM from gpa 0 (rings and
 *          buffers for the device to find when kicked)
 * One access: a byte (bits 0-2 region, bits 3-4 size 1/2/4/8, bit 5
 * write, bit 6 let the device threads settle afterwards), a 16-bit
 * offset, then for a write `size` bytes of value.  Region 7 is guest RAM
 * itself: the driver rewriting rings while the device threads run.
 *
 * No kvm vm_fd: ioeventfds and irqfds cannot be registered, so notify
 * writes kick the queue eventfds from the bus handlers and interrupts go
 * nowhere, exactly as in lkvm when KVM refuses them.
 */
#ifndef LKVM_FUZZ_XPORT_H
#define LKVM_FUZZ_XPORT_H

#include <fcntl.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/virtio.h"
#include "../../virtio/devices.h"

#define XP_RAM_SIZE	0x10000
#define XP_DISK_SIZE	0x10000
#define XP_HDR		3
#define XP_REGION_RAM	7

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

struct xp_op {
	unsigned int region, size;
	bool write, settle;
	u32 off;
	u64 val;
};

/*
 * The last accesses decoded, for the failure report: a finding is read
 * from them, not from re-deriving the input by hand.
 */
#define XP_HIST	24
static struct xp_op xp_hist[XP_HIST];
static unsigned int xp_nops;

/* The target's own context (where its registers are), if it has any. */
static void (*xp_dump_target)(void);

static __unused void xp_dump(void)
{
	unsigned int from = xp_nops > XP_HIST ? xp_nops - XP_HIST : 0;

	if (xp_dump_target)
		xp_dump_target();

	fprintf(stderr, "xport: last accesses (region size w/r offset value):\n");
	for (unsigned int i = from; i < xp_nops; i++) {
		const struct xp_op *op = &xp_hist[i % XP_HIST];

		fprintf(stderr, "  #%u r%u %u %c %#06x", i, op->region,
			op->size, op->write ? 'w' : 'r', op->off);
		if (op->write)
			fprintf(stderr, " %#llx", (unsigned long long)op->val);
		fprintf(stderr, "%s\n", op->settle ? " settle" : "");
	}
}

/* A broken promise: say which, then crash so libFuzzer keeps the input. */
#define xp_fail(...) do {					\
	fprintf(stderr, "xport: " __VA_ARGS__);			\
	fputc('\n', stderr);					\
	xp_dump();						\
	abort();						\
} while (0)

static struct kvm xp_kvm;
static struct lkvm_config xp_cfg;
static u8 *xp_ram;
static char xp_img[64];
static struct virtio_device *xp_vdev;
/* Where reads go, so the compiler keeps them. */
static volatile u64 xp_sink;

static void xp_cleanup(void)
{
	unlink(xp_img);
}

/* The raw image, made once; its bytes do not matter here. */
static void xp_disk_once(void)
{
	int fd;

	if (xp_img[0])
		return;
	/* tmpfs if there is one: flushes to a real disk cost 30 ms a run. */
	strcpy(xp_img, "/dev/shm/lkvm-fuzz-xport.XXXXXX");
	fd = mkstemp(xp_img);
	if (fd < 0) {
		strcpy(xp_img, "/tmp/lkvm-fuzz-xport.XXXXXX");
		fd = mkstemp(xp_img);
	}
	if (fd < 0 || ftruncate(fd, XP_DISK_SIZE))
		abort();
	close(fd);
	atexit(xp_cleanup);
	/* Expected warnings (NEEDS_RESET, bad layouts) would drown the log. */
	log_level = LOG_ERROR;
}

/* kvm__init() without /dev/kvm, and RAM the device reaches via kvm->mem. */
static void xp_vm_init(const u8 *data, size_t size, size_t ram_off)
{
	struct kvm *kvm = &xp_kvm;

	xp_disk_once();
	memset(kvm, 0, sizeof(*kvm));
	xp_nops = 0;
	kvm->cfg = &xp_cfg;
	kvm->sys_fd = kvm->vm_fd = -1;
	pthread_mutex_init(&kvm->stop_lock, NULL);
	pthread_mutex_init(&kvm->pause_lock, NULL);
	pthread_cond_init(&kvm->pause_cond, NULL);
	pthread_cond_init(&kvm->resume_cond, NULL);
	if (evloop_init(&kvm->loop))
		abort();
	bus_init(&kvm->pio_bus, "pio");
	bus_init(&kvm->mmio_bus, "mmio");
	/* Exactly the guest's size: ASan sees any access past it. */
	xp_ram = calloc(1, XP_RAM_SIZE);
	if (!xp_ram || guest_mem_add(&kvm->mem, 0, XP_RAM_SIZE, xp_ram))
		abort();
	if (ram_off < size)
		memcpy(xp_ram, data + ram_off,
		       min_t(size_t, size - ram_off, XP_RAM_SIZE));
}

static int xp_device(enum virtio_transport_kind kind, u8 flags)
{
	struct lkvm_disk disk = { .path = xp_img, .readonly = flags & 2 };

	xp_vdev = NULL;
	if (flags & 1)
		return virtio_blk__create(&xp_kvm, &disk, 0, kind, &xp_vdev);
	return virtio_rng__create(&xp_kvm, kind, &xp_vdev);
}

/* Stops every thread and frees everything: LeakSanitizer checks it. */
static void xp_vm_exit(void)
{
	kvm__exit(&xp_kvm);
	free(xp_ram);
	xp_ram = NULL;
	xp_vdev = NULL;
}

/* Decodes the next access; false at the end of the stream. */
static __unused bool xp_next(const u8 *s, size_t n, size_t *pos, struct xp_op *op)
{
	u8 b;

	if (*pos + 3 > n)
		return false;
	b = s[*pos];
	op->region = b & 7;
	op->size = 1U << ((b >> 3) & 3);
	op->write = b & 0x20;
	op->settle = b & 0x40;
	op->off = s[*pos + 1] | (u32)s[*pos + 2] << 8;
	*pos += 3;
	op->val = 0;
	if (op->write) {
		if (*pos + op->size > n)
			return false;
		memcpy(&op->val, s + *pos, op->size);
		*pos += op->size;
	}
	xp_hist[xp_nops++ % XP_HIST] = *op;
	return true;
}

/* Region 7: the driver writes its RAM while the device may be reading it. */
static __unused void xp_ram_access(const struct xp_op *op)
{
	u32 off = op->off % (XP_RAM_SIZE - 8);

	if (op->write)
		memcpy(xp_ram + off, &op->val, op->size);
}

/*
 * Lets the device threads catch up: every kick eventfd drained by its
 * thread (a generous cap: a queue that never runs is not a finding
 * here), then lkvm pause/resume, which waits for in-flight requests.
 */
static void xp_settle(void)
{
	struct virtio_device *vdev = xp_vdev;

	for (unsigned int i = 0; i < vdev->nr_queues; i++) {
		struct pollfd p = { .fd = vdev->queues[i].kick_fd,
				    .events = POLLIN };

		for (int n = 0; n < 1000 && poll(&p, 1, 0) == 1; n++)
			usleep(100);
	}
	virtio_device_pause(vdev);
	virtio_device_resume(vdev);
}

/*
 * The core's promises after any access: FEATURES_OK only for a subset of
 * what was offered (with VERSION_1 for a modern driver); no ring is in
 * use at status 0.  (A driver may enable a queue before it says
 * ACKNOWLEDGE: a violation of its own, harmless until DRIVER_OK.)
 */
static __unused void xp_check_state(void)
{
	struct virtio_device *vdev = xp_vdev;

	pthread_mutex_lock(&vdev->lock);
	if (vdev->guest_features & ~vdev->host_features)
		xp_fail("features %#llx accepted, only %#llx offered",
			(unsigned long long)vdev->guest_features,
			(unsigned long long)vdev->host_features);
	if ((vdev->status & VIRTIO_CONFIG_S_FEATURES_OK) && !vdev->legacy &&
	    !(vdev->guest_features & (1ULL << VIRTIO_F_VERSION_1)))
		xp_fail("FEATURES_OK for a modern driver without VERSION_1");
	for (unsigned int i = 0; !vdev->status && i < vdev->nr_queues; i++)
		if (vring_mapped(&vdev->queues[i].ring))
			xp_fail("status 0 but queue %u in use", i);
	pthread_mutex_unlock(&vdev->lock);
}

/* Right after the driver wrote status 0: the reset state (4.1.4.3.2, 4.2.2.1). */
static void xp_check_reset(void)
{
	struct virtio_device *vdev = xp_vdev;

	pthread_mutex_lock(&vdev->lock);
	for (unsigned int i = 0; i < vdev->nr_queues; i++)
		if (vdev->queues[i].enabled ||
		    vring_mapped(&vdev->queues[i].ring))
			xp_fail("reset but queue %u enabled %d mapped %d", i,
				vdev->queues[i].enabled,
				vring_mapped(&vdev->queues[i].ring));
	if (vdev->status || vdev->isr || vdev->guest_features)
		xp_fail("reset but status %#x isr %#x features %#llx",
			vdev->status, vdev->isr,
			(unsigned long long)vdev->guest_features);
	pthread_mutex_unlock(&vdev->lock);
}

#endif

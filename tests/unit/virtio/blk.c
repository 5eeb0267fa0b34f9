// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk request handling against a temporary image: the device sits
 * on virtio-mmio in a fake VM (no /dev/kvm), its ring in a malloc'ed
 * "guest memory", and the test calls handle_queue directly under the
 * device lock, as the device thread would.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_mmio.h>

#include "lkvm/barrier.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/virtio-transport.h"
#include "../../virtio/devices.h"
#include "tap.h"
#include "virtio-mmio-fixture.h"

#define MEM_SIZE	(1024 * 1024)
#define DISK_SECTORS	64
#define QSIZE		16
#define HDR_GPA		0x10000
#define STATUS_GPA	0x10100
#define DATA_GPA	0x20000

static struct kvm kvm;
static struct lkvm_config cfg;
static void *ram;

struct seg {
	u64 gpa;
	u32 len;
	bool write;
};

struct drv {
	u64 base;			/* MMIO slot */
	u64 ring;			/* desc, avail, used: 3 pages */
	struct virtio_device *vdev;
	u16 avail_idx;
};

static void *gpa(u64 addr, u64 len)
{
	return guest_mem_ptr(&kvm.mem, addr, len);
}

static void wr(struct drv *d, u64 off, u32 v)
{
	bus_dispatch(&kvm.mmio_bus, d->base + off, &v, 4, true);
}

static u32 rd(struct drv *d, u64 off)
{
	u32 v = 0;

	bus_dispatch(&kvm.mmio_bus, d->base + off, &v, 4, false);
	return v;
}

/* The driver side of initialisation, through the registers. */
static void drv_init(struct drv *d)
{
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				  VIRTIO_CONFIG_S_DRIVER);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1);	/* VERSION_1 only */
	wr(d, VIRTIO_MMIO_STATUS, 0x0b);
	wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)d->ring);
	wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (u32)d->ring + 0x1000);
	wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, (u32)d->ring + 0x2000);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(d, VIRTIO_MMIO_STATUS, 0x0f);
}

/*
 * Makes @segs one chain, runs the device on it and returns the used
 * length (or -1 if nothing was used).
 */
static long run_chain(struct drv *d, const struct seg *segs, unsigned int n)
{
	struct vring_desc *desc = gpa(d->ring, 16 * QSIZE);
	struct vring_avail *avail = gpa(d->ring + 0x1000, 6 + 2 * QSIZE);
	struct vring_used *used = gpa(d->ring + 0x2000, 6 + 8 * QSIZE);
	struct virtio_device *vdev = d->vdev;
	u16 used_before = le16toh(READ_ONCE(used->idx));
	long len = -1;

	for (unsigned int i = 0; i < n; i++) {
		desc[i] = (struct vring_desc){
			.addr = htole64(segs[i].gpa),
			.len = htole32(segs[i].len),
			.flags = htole16(
				(i + 1 < n ? VRING_DESC_F_NEXT : 0) |
				(segs[i].write ? VRING_DESC_F_WRITE : 0)),
			.next = htole16(i + 1),
		};
	}
	pthread_mutex_lock(&vdev->lock);
	avail->ring[d->avail_idx % QSIZE] = 0;
	/* Release: pairs with the acquire in vring_pop(): ring entry before idx. */
	smp_store_release(&avail->idx, htole16(++d->avail_idx));
	if (!vdev->broken)
		vdev->ops->handle_queue(vdev, &vdev->queues[0]);
	pthread_mutex_unlock(&vdev->lock);
	/* Disk I/O completes asynchronously, on the device thread. */
	for (int i = 0; i < 5000 && !vdev->broken &&
	     le16toh(READ_ONCE(used->idx)) == used_before; i++)
		usleep(1000);
	/* Acquire: pairs with the used-index release in vring_push(). */
	if (le16toh(smp_load_acquire(&used->idx)) != used_before)
		len = le32toh(used->ring[used_before % QSIZE].len);
	return len;
}

/* A request in the usual three pieces; returns the status byte. */
static int request(struct drv *d, u32 type, u64 sector, u32 data_len,
		   long *used_len)
{
	struct virtio_blk_outhdr *h = gpa(HDR_GPA, sizeof(*h));
	u8 *status = gpa(STATUS_GPA, 1);
	struct seg segs[3];
	unsigned int n = 0;
	long len;

	h->type = htole32(type);
	h->ioprio = 0;
	h->sector = htole64(sector);
	*status = 0xff;
	segs[n++] = (struct seg){ HDR_GPA, sizeof(*h), false };
	if (data_len)
		segs[n++] = (struct seg){ DATA_GPA, data_len,
					  type != VIRTIO_BLK_T_OUT };
	segs[n++] = (struct seg){ STATUS_GPA, 1, true };
	len = run_chain(d, segs, n);
	if (used_len)
		*used_len = len;
	return *status;
}

static int make_image(char *path)
{
	u8 sector[512];
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	for (unsigned int i = 0; i < DISK_SECTORS; i++) {
		memset(sector, (int)i, sizeof(sector));
		if (write(fd, sector, sizeof(sector)) != sizeof(sector))
			return -1;
	}
	return fd;
}

static void test_rw(struct drv *d, int fd)
{
	u8 *data = gpa(DATA_GPA, 4096);
	u8 buf[1024];
	u64 cap = 0;
	long len;
	bool same;

	bus_dispatch(&kvm.mmio_bus, d->base + VIRTIO_MMIO_CONFIG, &cap, 8,
		     false);
	is_int(le64toh(cap), DISK_SECTORS, "config: capacity in sectors");
	is_int(rd(d, VIRTIO_MMIO_CONFIG + 12), 254,
	       "config: seg_max = max queue size - 2");
	is_int(rd(d, VIRTIO_MMIO_CONFIG + 20), 512, "config: blk_size");

	is_int(request(d, VIRTIO_BLK_T_GET_ID, 0, 20, &len), VIRTIO_BLK_S_OK,
	       "GET_ID ok");
	ok(!memcmp(data, "lkvm-0", 7), "GET_ID: serial lkvm-0");
	is_int(len, 21, "GET_ID: used length");

	is_int(request(d, VIRTIO_BLK_T_IN, 3, 1024, &len), VIRTIO_BLK_S_OK,
	       "read 2 sectors");
	ok(data[0] == 3 && data[511] == 3 && data[512] == 4 &&
	   data[1023] == 4, "read returns the image's sectors");
	is_int(len, 1025, "read: used length counts data and status");

	memset(data, 0xa5, 1024);
	is_int(request(d, VIRTIO_BLK_T_OUT, 10, 1024, &len), VIRTIO_BLK_S_OK,
	       "write 2 sectors");
	is_int(len, 1, "write: used length is the status byte");
	same = pread(fd, buf, 1024, 10 * 512) == 1024;
	for (int i = 0; same && i < 1024; i++)
		same = buf[i] == 0xa5;
	ok(same, "write reached the image");
	is_int(request(d, VIRTIO_BLK_T_FLUSH, 0, 0, NULL), VIRTIO_BLK_S_OK,
	       "flush");

	is_int(request(d, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 512, NULL),
	       VIRTIO_BLK_S_OK, "read of the last sector");
	is_int(request(d, VIRTIO_BLK_T_IN, DISK_SECTORS, 512, NULL),
	       VIRTIO_BLK_S_IOERR, "read past the end: IOERR");
	is_int(request(d, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 1024, NULL),
	       VIRTIO_BLK_S_IOERR, "read straddling the end: IOERR");
	is_int(request(d, VIRTIO_BLK_T_OUT, ~0ULL >> 9, 512, NULL),
	       VIRTIO_BLK_S_IOERR, "write at a huge sector: IOERR");
	is_int(request(d, VIRTIO_BLK_T_OUT, ~0ULL, 512, NULL),
	       VIRTIO_BLK_S_IOERR, "write at sector 2^64-1: IOERR");
	is_int(request(d, VIRTIO_BLK_T_IN, 0, 100, NULL), VIRTIO_BLK_S_IOERR,
	       "partial-sector read: IOERR");
	is_int(request(d, 99, 0, 512, NULL), VIRTIO_BLK_S_UNSUPP,
	       "unknown type: UNSUPP");
	/* request() makes the payload device-writable: no range to read. */
	is_int(request(d, VIRTIO_BLK_T_DISCARD, 0, 16, NULL),
	       VIRTIO_BLK_S_UNSUPP, "DISCARD without a readable range: UNSUPP");
}

static void test_odd_chains(struct drv *d, int fd)
{
	struct virtio_blk_outhdr *h = gpa(HDR_GPA, sizeof(*h));
	u8 *status = gpa(STATUS_GPA, 1);
	u8 *data = gpa(DATA_GPA, 4096);
	u8 buf[512];
	long len;

	/* Header in two pieces, data in three, status alone. */
	h->type = htole32(VIRTIO_BLK_T_OUT);
	h->sector = htole64(20);
	memset(data, 0x3c, 512);
	*status = 0xff;
	len = run_chain(d, (struct seg[]){
		{ HDR_GPA, 8, false }, { HDR_GPA + 8, 8, false },
		{ DATA_GPA, 100, false }, { DATA_GPA + 100, 400, false },
		{ DATA_GPA + 500, 12, false }, { STATUS_GPA, 1, true },
	}, 6);
	ok(*status == VIRTIO_BLK_S_OK && len == 1 &&
	   pread(fd, buf, 512, 20 * 512) == 512 && buf[0] == 0x3c &&
	   buf[511] == 0x3c, "write with split header and data");

	/* Read with the status byte sharing the last data buffer. */
	h->type = htole32(VIRTIO_BLK_T_IN);
	h->sector = htole64(5);
	memset(data, 0, 1024);
	len = run_chain(d, (struct seg[]){
		{ HDR_GPA, 16, false }, { DATA_GPA, 300, true },
		{ DATA_GPA + 300, 213, true },
	}, 3);
	ok(len == 513 && data[0] == 5 && data[511] == 5 &&
	   data[512] == VIRTIO_BLK_S_OK, "read with status in the data buffer");

	*status = 0xff;
	len = run_chain(d, (struct seg[]){
		{ HDR_GPA, 8, false }, { STATUS_GPA, 1, true },
	}, 2);
	ok(*status == VIRTIO_BLK_S_IOERR && len == 1, "short header: IOERR");

	len = run_chain(d, (struct seg[]){
		{ HDR_GPA, 16, false }, { DATA_GPA, 512, false },
	}, 2);
	ok(len == 0 && !d->vdev->broken,
	   "no status byte: completed empty, device fine");

	/* A chain pointing outside the table breaks the device. */
	{
		struct vring_desc *desc = gpa(d->ring, 16 * QSIZE);
		struct vring_avail *avail = gpa(d->ring + 0x1000, 64);
		struct virtio_device *vdev = d->vdev;

		desc[0] = (struct vring_desc){
			.addr = htole64(HDR_GPA), .len = htole32(16),
			.flags = htole16(VRING_DESC_F_NEXT),
			.next = htole16(QSIZE + 3),
		};
		pthread_mutex_lock(&vdev->lock);
		avail->ring[d->avail_idx % QSIZE] = 0;
		/* Release: pairs with the acquire in vring_pop(). */
		smp_store_release(&avail->idx, htole16(++d->avail_idx));
		vdev->ops->handle_queue(vdev, &vdev->queues[0]);
		pthread_mutex_unlock(&vdev->lock);
		ok(vdev->broken &&
		   (rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET),
		   "malformed chain: NEEDS_RESET");
	}
}

static void test_ro(struct drv *d, int fd)
{
	u8 *data = gpa(DATA_GPA, 4096);
	u8 buf[512];

	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ok(rd(d, VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BLK_F_RO),
	   "read-only disk offers VIRTIO_BLK_F_RO");
	memset(data, 0x77, 512);
	is_int(request(d, VIRTIO_BLK_T_OUT, 30, 512, NULL), VIRTIO_BLK_S_IOERR,
	       "write to a read-only disk: IOERR");
	ok(pread(fd, buf, 512, 30 * 512) == 512 && buf[0] == 30 &&
	   buf[511] == 30, "... and the image is unchanged");
	is_int(request(d, VIRTIO_BLK_T_IN, 30, 512, NULL), VIRTIO_BLK_S_OK,
	       "read from a read-only disk");
	is_int(request(d, VIRTIO_BLK_T_FLUSH, 0, 0, NULL), VIRTIO_BLK_S_OK,
	       "flush on a read-only disk");
}

/*
 * num-queues=4: VIRTIO_BLK_F_MQ, num_queues in config space, four
 * queues, and a read on queue 3 served by @who: that queue's own thread
 * (queue-threads) or the device thread (kicked through QUEUE_NOTIFY, not
 * by calling handle_queue).
 */
static void test_mq(struct drv *d, struct drv *single, const char *who)
{
	struct vring_desc *desc = gpa(d->ring, 16 * QSIZE);
	struct vring_avail *avail = gpa(d->ring + 0x1000, 6 + 2 * QSIZE);
	struct vring_used *used = gpa(d->ring + 0x2000, 6 + 8 * QSIZE);
	struct virtio_blk_outhdr *h = gpa(HDR_GPA, sizeof(*h));
	u8 *status = gpa(STATUS_GPA, 1);
	u8 *data = gpa(DATA_GPA, 512);
	u32 off = offsetof(struct virtio_blk_config, num_queues);
	u16 nq = 0;
	int i;

	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ok(rd(d, VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BLK_F_MQ),
	   "num-queues=4 offers VIRTIO_BLK_F_MQ");
	wr(single, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ok(!(rd(single, VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BLK_F_MQ)),
	   "... a single-queue disk does not");
	bus_dispatch(&kvm.mmio_bus, d->base + VIRTIO_MMIO_CONFIG + off, &nq, 2,
		     false);
	is_int(le16toh(nq), 4, "config: num_queues = 4");
	wr(d, VIRTIO_MMIO_QUEUE_SEL, 3);
	ok(rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX) > 0, "queue 3 exists");
	wr(d, VIRTIO_MMIO_QUEUE_SEL, 4);
	is_int(rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX), 0, "queue 4 does not");

	/* Driver side: VERSION_1 + MQ, queue 3 only. */
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				  VIRTIO_CONFIG_S_DRIVER);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_BLK_F_MQ);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(d, VIRTIO_MMIO_STATUS, 0x0b);
	wr(d, VIRTIO_MMIO_QUEUE_SEL, 3);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)d->ring);
	wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (u32)d->ring + 0x1000);
	wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, (u32)d->ring + 0x2000);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(d, VIRTIO_MMIO_STATUS, 0x0f);
	ok(rd(d, VIRTIO_MMIO_STATUS) == 0x0f, "mq driver: DRIVER_OK");

	h->type = htole32(VIRTIO_BLK_T_IN);
	h->ioprio = 0;
	h->sector = htole64(9);
	*status = 0xff;
	memset(data, 0, 512);
	desc[0] = (struct vring_desc){ htole64(HDR_GPA), htole32(sizeof(*h)),
				       htole16(VRING_DESC_F_NEXT), htole16(1) };
	desc[1] = (struct vring_desc){ htole64(DATA_GPA), htole32(512),
				       htole16(VRING_DESC_F_NEXT |
					       VRING_DESC_F_WRITE), htole16(2) };
	desc[2] = (struct vring_desc){ htole64(STATUS_GPA), htole32(1),
				       htole16(VRING_DESC_F_WRITE), 0 };
	avail->ring[0] = 0;
	/* Release: pairs with the acquire in vring_pop(): ring entry before idx. */
	smp_store_release(&avail->idx, htole16(1));
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 3);
	for (i = 0; i < 5000 && !le16toh(READ_ONCE(used->idx)); i++)
		usleep(1000);
	/* Acquire: pairs with the used-index release in vring_push(). */
	is_int(le16toh(smp_load_acquire(&used->idx)), 1, "queue 3: request completed");
	ok(*status == VIRTIO_BLK_S_OK && data[0] == 9 && data[511] == 9,
	   "queue 3: sector 9 read by %s", who);
	/* Reset takes every queue lock and drains the disk. */
	wr(d, VIRTIO_MMIO_STATUS, 0);
	is_int(rd(d, VIRTIO_MMIO_STATUS), 0, "mq device resets");
}

int main(void)
{
	char path[] = "/tmp/lkvm-test-blk-XXXXXX";
	struct lkvm_disk rw = { 0 }, ro = { 0 }, missing = { 0 };
	struct drv d0 = { .base = slot_base(0), .ring = 0x1000 };
	struct drv d1 = { .base = slot_base(1), .ring = 0x4000 };
	struct drv d2 = { .base = slot_base(2), .ring = 0x7000 };
	struct drv d3 = { .base = slot_base(3), .ring = 0xa000 };
	struct lkvm_disk mq = { 0 }, mq_threads = { 0 };
	int fd;

	tap_plan(56);
	log_level = LOG_ERROR;	/* expected NEEDS_RESET warnings */
	kvm.cfg = &cfg;
	kvm.sys_fd = kvm.vm_fd = -1;
	bus_init(&kvm.pio_bus, "pio");
	bus_init(&kvm.mmio_bus, "mmio");
	ram = calloc(1, MEM_SIZE);
	guest_mem_add(&kvm.mem, 0, MEM_SIZE, ram);

	fd = make_image(path);
	if (fd < 0) {
		ok(0, "temporary image");
		return tap_done();
	}
	rw.path = ro.path = mq.path = path;
	mq.readonly = true;
	mq.num_queues = 4;
	mq_threads = mq;
	mq_threads.queue_threads = true;
	ro.readonly = true;
	missing.path = "/nonexistent/lkvm-disk.img";

	is_int(virtio_blk__create(&kvm, &missing, 9, VIRTIO_TRANSPORT_MMIO,
				  NULL), -ENOENT, "missing image: -ENOENT");
	is_int(virtio_blk__create(&kvm, &rw, 0, VIRTIO_TRANSPORT_MMIO,
				  &d0.vdev), 0, "rw disk on virtio-mmio");
	is_int(virtio_blk__create(&kvm, &ro, 1, VIRTIO_TRANSPORT_MMIO,
				  &d1.vdev), 0, "ro disk on virtio-mmio");
	is_int(rd(&d0, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK, "device id 2");
	drv_init(&d0);
	drv_init(&d1);
	ok(vring_mapped(&d0.vdev->queues[0].ring) &&
	   vring_mapped(&d1.vdev->queues[0].ring), "both queues live");

	test_rw(&d0, fd);
	test_ro(&d1, fd);
	test_odd_chains(&d0, fd);
	is_int(virtio_blk__create(&kvm, &mq, 2, VIRTIO_TRANSPORT_MMIO,
				  &d2.vdev), 0, "num-queues=4 disk on virtio-mmio");
	test_mq(&d2, &d0, "the device thread");
	is_int(virtio_blk__create(&kvm, &mq_threads, 3, VIRTIO_TRANSPORT_MMIO,
				  &d3.vdev), 0,
	       "num-queues=4,queue-threads disk on virtio-mmio");
	test_mq(&d3, &d0, "its own thread");

	while (kvm.nr_exit_hooks) {
		struct kvm_exit_hook *h = &kvm.exit_hooks[--kvm.nr_exit_hooks];

		h->fn(h->opaque);
	}
	bus_exit(&kvm.pio_bus);
	bus_exit(&kvm.mmio_bus);
	free(ram);
	close(fd);
	unlink(path);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-balloon against a fake VM: guest RAM is two slots of one private
 * anonymous mapping with a 1 MiB hole between them (as the x86 PCI hole
 * splits real guest RAM), the device sits on virtio-mmio, and the test is
 * the driver: it posts chains of PFNs and calls handle_queue under the
 * device lock, as the device thread would.  What the host did is read
 * back from the mapping (contents, mincore residency) and balloon__info().
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_balloon.h>
#include <linux/virtio_mmio.h>

#include "lkvm/balloon.h"
#include "lkvm/barrier.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "../../virtio/devices.h"
#include "tap.h"
#include "virtio-mmio-fixture.h"

#define MIB		(1024 * 1024)
#define SLOT_A		0			/* gpa and host offset */
#define HOLE		(1 * MIB)		/* [1 MiB, 2 MiB): no RAM */
#define SLOT_B		(2 * MIB)
#define MAP_SIZE	(3 * MIB)
#define QSIZE		16
#define PFN_GPA		0x30000			/* the driver's PFN array */
#define STATS_GPA	0x31000
#define PAGE		4096

static struct kvm kvm;
static struct lkvm_config cfg;
static u8 *ram;

struct drv {
	u64 base;
	struct virtio_device *vdev;
	u64 ring[3];
	u16 avail_idx[3];
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

static void drv_init(struct drv *d)
{
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				  VIRTIO_CONFIG_S_DRIVER);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_BALLOON_F_STATS_VQ);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1);	/* VERSION_1 */
	wr(d, VIRTIO_MMIO_STATUS, 0x0b);
	for (unsigned int q = 0; q < 3; q++) {
		d->ring[q] = 0x1000 + q * 0x3000;
		wr(d, VIRTIO_MMIO_QUEUE_SEL, q);
		wr(d, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)d->ring[q]);
		wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (u32)d->ring[q] + 0x1000);
		wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, (u32)d->ring[q] + 0x2000);
		wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(d, VIRTIO_MMIO_STATUS, 0x0f);
}

struct seg {
	u64 gpa;
	u32 len;
	bool write;
};

static u16 used_idx(struct drv *d, unsigned int q)
{
	struct vring_used *used = gpa(d->ring[q] + 0x2000, 6 + 8 * QSIZE);

	/* Pairs with the used-index release in vring_push(). */
	/* Acquire: pairs with the used-index release in vring_push(). */
	return le16toh(smp_load_acquire(&used->idx));
}

/* Waits up to 5 s for queue @q's used index to pass @before. */
static bool wait_used(struct drv *d, unsigned int q, u16 before)
{
	for (int i = 0; i < 5000 && used_idx(d, q) == before; i++)
		usleep(1000);
	return used_idx(d, q) != before;
}

/* Posts @segs as one chain on queue @q and runs the device on it. */
static void post(struct drv *d, unsigned int q, const struct seg *segs,
		 unsigned int n)
{
	struct vring_desc *desc = gpa(d->ring[q], 16 * QSIZE);
	struct vring_avail *avail = gpa(d->ring[q] + 0x1000, 6 + 2 * QSIZE);
	struct virtio_device *vdev = d->vdev;

	/* One chain in flight per queue at most: descriptors from 0. */
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
	avail->ring[d->avail_idx[q] % QSIZE] = 0;
	/* Release: pairs with the acquire in vring_pop(): ring entry before idx. */
	smp_store_release(&avail->idx, htole16(++d->avail_idx[q]));
	if (!vdev->broken)
		vdev->ops->handle_queue(vdev, &vdev->queues[q]);
	pthread_mutex_unlock(&vdev->lock);
}

/* Sends @pfns on queue @q in one buffer; true once the chain is used. */
static bool send_pfns(struct drv *d, unsigned int q, const u32 *pfns,
		      unsigned int n)
{
	u32 *buf = gpa(PFN_GPA, 4 * n);
	u16 before = used_idx(d, q);

	for (unsigned int i = 0; i < n; i++)
		buf[i] = htole32(pfns[i]);
	post(d, q, &(struct seg){ PFN_GPA, 4 * n, false }, 1);
	return wait_used(d, q, before);
}

static struct balloon_info info(void)
{
	struct balloon_info bi;

	if (balloon__info(&kvm, &bi))
		memset(&bi, 0xff, sizeof(bi));
	return bi;
}

static bool resident(const void *p)
{
	unsigned char v = 0;

	mincore((void *)((uintptr_t)p & ~(uintptr_t)(PAGE - 1)), PAGE, &v);
	return v & 1;
}

static bool page_is(u64 pfn, u8 c)
{
	const u8 *p = gpa(pfn * PAGE, PAGE);

	for (int i = 0; i < PAGE; i++)
		if (p[i] != c)
			return false;
	return true;
}

static void fill(u64 first, u64 n, u8 c)
{
	memset(gpa(first * PAGE, n * PAGE), c, n * PAGE);
}

static void test_inflate(struct drv *d)
{
	struct balloon_info bi;
	u8 *hole = ram + HOLE;

	fill(0x40, 8, 0xaa);
	ok(send_pfns(d, 0, (u32[]){ 0x41, 0x42 }, 2), "inflate 2 pages: used");
	ok(!resident(gpa(0x41 * PAGE, PAGE)) && !resident(gpa(0x42 * PAGE, PAGE)),
	   "inflated pages are no longer resident (madvised)");
	ok(resident(gpa(0x40 * PAGE, PAGE)) && resident(gpa(0x43 * PAGE, PAGE)),
	   "their neighbours still are");
	ok(page_is(0x41, 0) && page_is(0x42, 0), "inflated pages read as zero");
	ok(page_is(0x40, 0xaa) && page_is(0x43, 0xaa),
	   "neighbours keep their contents");
	bi = info();
	ok(bi.inflated_pages == 2 && bi.inflate_requests == 1 && !bi.bad_pfns,
	   "info: 2 pages in the balloon, 1 inflate request, no bad PFN");

	/* Bad PFNs: the hole, past the end, 2^32-1. */
	memset(hole, 0x5c, MIB);
	fill(0xff, 1, 0x11);
	fill(0x200, 1, 0x22);
	ok(send_pfns(d, 0, (u32[]){ HOLE / PAGE, HOLE / PAGE + 0xff,
				    MAP_SIZE / PAGE, 0xffffffff,
				    (MAP_SIZE + 64 * MIB) / PAGE }, 5),
	   "inflate of bad PFNs: used");
	bi = info();
	is_int(bi.bad_pfns, 5, "bad PFNs counted");
	is_int(bi.inflated_pages, 2, "and nothing inflated");
	ok(resident(hole) && hole[0] == 0x5c && hole[MIB - 1] == 0x5c,
	   "the host memory behind the hole is untouched");
	ok(page_is(0xff, 0x11) && page_is(0x200, 0x22),
	   "the RAM pages around the hole are untouched");

	/* The first page of the second slot is RAM; repeats count once. */
	ok(send_pfns(d, 0, (u32[]){ 0x200, 0x200, 0x41, 0x44 }, 4),
	   "inflate with repeats: used");
	bi = info();
	is_int(bi.inflated_pages, 4, "repeated PFNs are counted once");
	is_int(bi.dup_pfns, 2, "the repeats are counted as such");
	ok(page_is(0x200, 0) && page_is(0x44, 0) && page_is(0x45, 0xaa),
	   "the second slot's page and 0x44 released, 0x45 kept");
}

static void test_deflate(struct drv *d)
{
	struct balloon_info bi;

	ok(send_pfns(d, 1, (u32[]){ 0x41, 0x50, HOLE / PAGE }, 3),
	   "deflate: used");
	bi = info();
	is_int(bi.inflated_pages, 3, "deflate takes the page out");
	is_int(bi.dup_pfns, 3, "deflating a page not in the balloon counted");
	is_int(bi.bad_pfns, 6, "deflating a hole PFN counted as bad");
	is_int(bi.deflate_requests, 1, "one deflate request");
	fill(0x41, 1, 0x77);
	ok(page_is(0x41, 0x77), "the deflated page is usable again");
	ok(send_pfns(d, 0, (u32[]){ 0x41 }, 1) && page_is(0x41, 0) &&
	   info().inflated_pages == 4, "and can be inflated again");
}

static void test_malformed(struct drv *d)
{
	struct balloon_info b0 = info(), bi;
	u32 *buf = gpa(PFN_GPA, 64);
	u16 before;

	/* Device-writable PFN buffers: nothing to read, nothing done. */
	buf[0] = htole32(0x46);
	before = used_idx(d, 0);
	post(d, 0, &(struct seg){ PFN_GPA, 4, true }, 1);
	ok(wait_used(d, 0, before), "write-only inflate chain is used");
	bi = info();
	ok(bi.inflated_pages == b0.inflated_pages && page_is(0x46, 0xaa) &&
	   !d->vdev->broken, "... and changes nothing");

	/* 7 bytes: one PFN and three stray bytes. */
	buf[0] = htole32(0x46);
	buf[1] = htole32(0x47);
	before = used_idx(d, 0);
	post(d, 0, &(struct seg){ PFN_GPA, 7, false }, 1);
	ok(wait_used(d, 0, before), "7-byte inflate chain is used");
	ok(page_is(0x46, 0) && page_is(0x47, 0xaa) &&
	   info().inflated_pages == b0.inflated_pages + 1,
	   "only the whole PFN is taken");

	/* A PFN split over two descriptors still is one PFN. */
	buf[0] = htole32(0x47);
	before = used_idx(d, 0);
	post(d, 0, (struct seg[]){ { PFN_GPA, 2, false },
				   { PFN_GPA + 2, 2, false } }, 2);
	ok(wait_used(d, 0, before) && page_is(0x47, 0) &&
	   info().inflated_pages == b0.inflated_pages + 2,
	   "a PFN split across descriptors is read whole");

	/* Zero-length readable buffer next to a writable one. */
	before = used_idx(d, 1);
	post(d, 1, (struct seg[]){ { PFN_GPA, 0, false },
				   { PFN_GPA, 4, true } }, 2);
	ok(wait_used(d, 1, before) && !d->vdev->broken &&
	   info().inflated_pages == b0.inflated_pages + 2,
	   "empty deflate chain: used, nothing changes");
}

static void test_stats(struct drv *d)
{
	u8 *s = gpa(STATS_GPA, 30);
	struct balloon_info bi;
	u16 before = used_idx(d, 2);
	u64 v;

	is_int(balloon__request_stats(&kvm), -EAGAIN,
	       "no stats buffer yet: -EAGAIN");
	/* tag 4 MEMFREE, tag 5 MEMTOT, tag 200 unknown. */
	s[0] = 4; s[1] = 0; v = htole64(1000); memcpy(s + 2, &v, 8);
	s[10] = 5; s[11] = 0; v = htole64(5000); memcpy(s + 12, &v, 8);
	s[20] = 200; s[21] = 0; v = htole64(7); memcpy(s + 22, &v, 8);
	post(d, 2, &(struct seg){ STATS_GPA, 30, false }, 1);
	bi = info();
	ok(bi.stats_valid && bi.stats_updates == 1 &&
	   bi.stats[VIRTIO_BALLOON_S_MEMFREE] == 1000 &&
	   bi.stats[VIRTIO_BALLOON_S_MEMTOT] == 5000 &&
	   bi.stats_tags == ((1u << 4) | (1u << 5)),
	   "stats read by tag, unknown tag ignored");
	usleep(20000);
	is_int(used_idx(d, 2), before, "the stats buffer is kept");
	is_int(balloon__request_stats(&kvm), 0, "request fresh stats");
	ok(wait_used(d, 2, before), "the buffer goes back to the driver");
	is_int(balloon__request_stats(&kvm), -EAGAIN,
	       "until it is posted again: -EAGAIN");
	v = htole64(900);
	memcpy(s + 2, &v, 8);
	post(d, 2, &(struct seg){ STATS_GPA, 20, false }, 1);
	bi = info();
	ok(bi.stats_updates == 2 && bi.stats[VIRTIO_BALLOON_S_MEMFREE] == 900,
	   "the refilled buffer updates the values");
}

/*
 * A stats buffer far longer than any driver sends is read only so far:
 * an entry past the first 64 changes nothing (a 4 GiB chain would
 * otherwise keep the device busy for minutes).
 */
static void test_stats_cap(struct drv *d)
{
	u8 *s = gpa(STATS_GPA, PAGE);
	unsigned int n = PAGE / 10;
	u64 v;

	memset(s, 0, PAGE);
	for (unsigned int i = 0; i < n; i++) {
		s[10 * i] = i ? 200 : 4;	/* MEMFREE, then unknown tags */
		v = htole64(1000);
		memcpy(s + 10 * i + 2, &v, 8);
	}
	s[10 * (n - 1)] = 4;			/* MEMFREE again, at the end */
	v = htole64(4242);
	memcpy(s + 10 * (n - 1) + 2, &v, 8);
	post(d, 2, &(struct seg){ STATS_GPA, 10 * n, false }, 1);
	ok(info().stats[VIRTIO_BALLOON_S_MEMFREE] == 1000,
	   "stats: entries past the first 64 are not read (MEMFREE %llu)",
	   (unsigned long long)info().stats[VIRTIO_BALLOON_S_MEMFREE]);
}

static void test_target(struct drv *d)
{
	u32 gen = rd(d, VIRTIO_MMIO_CONFIG_GENERATION);
	u32 v;

	wr(d, VIRTIO_MMIO_INTERRUPT_ACK, rd(d, VIRTIO_MMIO_INTERRUPT_STATUS));
	is_int(balloon__set_target(&kvm, 2 * MIB / PAGE + 1), -EINVAL,
	       "target beyond guest RAM: -EINVAL");
	ok(!(rd(d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG),
	   "... and no interrupt");
	is_int(balloon__set_target(&kvm, 100), 0, "target 100 pages");
	ok(rd(d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG,
	   "config-change interrupt raised");
	ok(rd(d, VIRTIO_MMIO_CONFIG_GENERATION) != gen,
	   "config generation changed");
	is_int(rd(d, VIRTIO_MMIO_CONFIG +
		     offsetof(struct virtio_balloon_config, num_pages)), 100,
	       "num_pages reads 100");
	/* The driver writes actual; it cannot write num_pages. */
	wr(d, VIRTIO_MMIO_CONFIG +
	      offsetof(struct virtio_balloon_config, actual), 42);
	wr(d, VIRTIO_MMIO_CONFIG +
	      offsetof(struct virtio_balloon_config, num_pages), 7);
	v = rd(d, VIRTIO_MMIO_CONFIG +
		  offsetof(struct virtio_balloon_config, num_pages));
	ok(v == 100 && info().actual_pages == 42 && info().target_pages == 100,
	   "actual is the driver's, num_pages the host's");
}

static void test_reset(struct drv *d)
{
	wr(d, VIRTIO_MMIO_STATUS, 0);
	ok(info().inflated_pages == 0 && info().actual_pages == 0 &&
	   info().target_pages == 100,
	   "reset empties the balloon, keeps the target");
	/* A new driver starts from fresh rings, as Linux's would. */
	memset(gpa(0x1000, 0x9000), 0, 0x9000);
	memset(d->avail_idx, 0, sizeof(d->avail_idx));
	drv_init(d);
}

int main(void)
{
	struct drv d = { .base = slot_base(0) };
	struct lkvm_config cfg2 = { .hugetlbfs = "/dev/hugepages" };
	struct kvm kvm2 = { .cfg = &cfg2 };
	struct balloon_info bi;

	tap_plan(54);
	log_level = LOG_ERROR;	/* the expected bad-PFN warning */
	kvm.cfg = &cfg;
	kvm.sys_fd = kvm.vm_fd = -1;
	bus_init(&kvm.pio_bus, "pio");
	bus_init(&kvm.mmio_bus, "mmio");
	ram = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED) {
		ok(0, "mmap of the fake guest RAM");
		return tap_done();
	}
	kvm.ram = ram;
	kvm.ram_size = 2 * MIB;
	guest_mem_add(&kvm.mem, SLOT_A, 1 * MIB, ram + SLOT_A);
	guest_mem_add(&kvm.mem, SLOT_B, 1 * MIB, ram + SLOT_B);

	is_int(balloon__set_target(&kvm, 1), -ENODEV,
	       "no balloon: set_target -ENODEV");
	is_int(balloon__info(&kvm, &bi), -ENODEV, "no balloon: info -ENODEV");
	is_int(virtio_balloon__create(&kvm2, VIRTIO_TRANSPORT_MMIO, NULL),
	       -EINVAL, "--hugetlbfs: refused");
	is_int(virtio_balloon__create(&kvm, VIRTIO_TRANSPORT_MMIO, &d.vdev), 0,
	       "balloon on virtio-mmio");
	is_int(virtio_balloon__create(&kvm, VIRTIO_TRANSPORT_MMIO, NULL),
	       -EEXIST, "a second balloon: -EEXIST");
	is_int(rd(&d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BALLOON, "device id 5");
	wr(&d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ok((rd(&d, VIRTIO_MMIO_DEVICE_FEATURES) &
	    ((1u << VIRTIO_BALLOON_F_STATS_VQ) |
	     (1u << VIRTIO_BALLOON_F_DEFLATE_ON_OOM))) ==
	   ((1u << VIRTIO_BALLOON_F_STATS_VQ) |
	    (1u << VIRTIO_BALLOON_F_DEFLATE_ON_OOM)),
	   "offers STATS_VQ and DEFLATE_ON_OOM");
	drv_init(&d);
	is_int(rd(&d, VIRTIO_MMIO_STATUS), 0x0f, "driver OK");

	test_inflate(&d);
	test_deflate(&d);
	test_malformed(&d);
	test_stats(&d);
	test_stats_cap(&d);
	test_target(&d);
	test_reset(&d);
	ok(send_pfns(&d, 0, (u32[]){ 0x48 }, 1) && info().inflated_pages == 1,
	   "a new driver inflates again");

	while (kvm.nr_exit_hooks) {
		struct kvm_exit_hook *h = &kvm.exit_hooks[--kvm.nr_exit_hooks];

		h->fn(h->opaque);
	}
	ok(!kvm.balloon, "VM exit frees the balloon and clears kvm->balloon");
	bus_exit(&kvm.pio_bus);
	bus_exit(&kvm.mmio_bus);
	munmap(ram, MAP_SIZE);
	return tap_done();
}

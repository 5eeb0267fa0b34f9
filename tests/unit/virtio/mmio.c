// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-mmio register semantics (v2 and v1) on a fake VM: buses and
 * guest memory but no /dev/kvm (vm_fd -1, so irq-line calls fail
 * harmlessly and notifies take the user-space path).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_mmio.h>

#include "lkvm/barrier.h"
#include "lkvm/kvm.h"
#include "lkvm/virtio-transport.h"
#include "tap.h"
#include "virtio-mmio-fixture.h"

#define MEM_SIZE	(1024 * 1024)
#define DESC_GPA	0x1000
#define AVAIL_GPA	0x2000
#define USED_GPA	0x3000
#define BUF_GPA		0x8000

static struct kvm kvm;
static struct lkvm_config cfg;
static void *ram;

static u8 test_config[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static atomic_int nr_handled;

static void test_read_config(struct virtio_device *vdev __unused, u32 off,
			     void *data, u32 len)
{
	memcpy(data, test_config + off, len);
}

static void test_write_config(struct virtio_device *vdev __unused, u32 off,
			      const void *data, u32 len)
{
	memcpy(test_config + off, data, len);
}

static void test_handle_queue(struct virtio_device *vdev,
			      struct virtio_queue *q)
{
	static struct vring_chain e;

	(void)vdev;
	while (virtio_queue_pop(q, &e) > 0)
		virtio_queue_complete(q, e.id, 0);
	atomic_fetch_add(&nr_handled, 1);
}

static const struct virtio_device_ops test_ops = {
	.name = "test",
	.device_id = 42,
	.nr_queues = 2,
	.queue_max_size = 64,
	.config_size = sizeof(test_config),
	.features = (1ULL << 3) | (1ULL << 40),
	.read_config = test_read_config,
	.write_config = test_write_config,
	.handle_queue = test_handle_queue,
};

static u32 rd(u64 base, u64 off)
{
	u32 v = 0xdeadbeef;

	bus_dispatch(&kvm.mmio_bus, base + off, &v, 4, false);
	return v;
}

static void wr(u64 base, u64 off, u32 v)
{
	bus_dispatch(&kvm.mmio_bus, base + off, &v, 4, true);
}

static void *gpa(u64 addr)
{
	return guest_mem_ptr(&kvm.mem, addr, 1);
}

/* Waits up to 5 s for the device thread. */
static bool wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < 5000; i++) {
		if (atomic_load(v) >= want)
			return true;
		usleep(1000);
	}
	return false;
}

static void fake_vm_init(void)
{
	memset(&kvm, 0, sizeof(kvm));
	kvm.cfg = &cfg;
	kvm.sys_fd = kvm.vm_fd = -1;
	bus_init(&kvm.pio_bus, "pio");
	bus_init(&kvm.mmio_bus, "mmio");
	ram = calloc(1, MEM_SIZE);
	guest_mem_add(&kvm.mem, 0, MEM_SIZE, ram);
}

static void fake_vm_exit(void)
{
	while (kvm.nr_exit_hooks) {
		struct kvm_exit_hook *h = &kvm.exit_hooks[--kvm.nr_exit_hooks];

		h->fn(h->opaque);
	}
	bus_exit(&kvm.pio_bus);
	bus_exit(&kvm.mmio_bus);
	free(ram);
}

static void setup_queue0(u64 b, u32 num)
{
	wr(b, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(b, VIRTIO_MMIO_QUEUE_NUM, num);
	wr(b, VIRTIO_MMIO_QUEUE_DESC_LOW, DESC_GPA);
	wr(b, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	wr(b, VIRTIO_MMIO_QUEUE_AVAIL_LOW, AVAIL_GPA);
	wr(b, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
	wr(b, VIRTIO_MMIO_QUEUE_USED_LOW, USED_GPA);
	wr(b, VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	wr(b, VIRTIO_MMIO_QUEUE_READY, 1);
}

/* One device-readable 16-byte buffer made available on queue 0. */
static void post_buffer(u16 size)
{
	struct vring_desc *d = gpa(DESC_GPA);
	struct vring_avail *a = gpa(AVAIL_GPA);
	u16 idx = a->idx;

	d[idx % size] = (struct vring_desc){ .addr = BUF_GPA, .len = 16 };
	a->ring[idx % size] = idx % size;
	/* Release: pairs with the acquire in vring_pop(): ring entry before idx. */
	smp_store_release(&a->idx, (u16)(idx + 1));
}

static void test_modern(void)
{
	struct virtio_device *vdev;
	struct vring_used *used;
	u64 b = slot_base(0);
	u8 c8 = 0;
	u64 c64 = 0;
	u32 v;

	is_int(virtio_mmio__create(&kvm, &test_ops, NULL, false, &vdev), 0,
	       "v2 device created");
	is_int(rd(b, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976, "magic 'virt'");
	is_int(rd(b, VIRTIO_MMIO_VERSION), 2, "version 2");
	is_int(rd(b, VIRTIO_MMIO_DEVICE_ID), 42, "device id");
	is_int(rd(b, VIRTIO_MMIO_VENDOR_ID), 0x4d564b4c, "vendor 'LKVM'");
#ifdef __x86_64__
	ok(strstr(kvm.arch.extra_cmdline,
		  "virtio_mmio.device=0x200@0xfe000000:5") != NULL,
	   "slot announced on the kernel command line");
#else
	ok(1, "slot announced (x86 only)");
#endif

	/* Feature windows. */
	wr(b, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	v = rd(b, VIRTIO_MMIO_DEVICE_FEATURES);
	ok((v & (1u << 3)) && (v & (1u << VIRTIO_RING_F_EVENT_IDX)) &&
	   (v & (1u << VIRTIO_RING_F_INDIRECT_DESC)), "features word 0");
	wr(b, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	is_int(rd(b, VIRTIO_MMIO_DEVICE_FEATURES), 0x101,
	       "features word 1: VERSION_1 and bit 40");
	wr(b, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 7);
	is_int(rd(b, VIRTIO_MMIO_DEVICE_FEATURES), 0, "features word 7 empty");

	wr(b, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				   VIRTIO_CONFIG_S_DRIVER);
	wr(b, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(b, VIRTIO_MMIO_DRIVER_FEATURES, (1u << 3) | (1u << 5));
	wr(b, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(b, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	is_int(vdev->guest_features, (1ULL << 3) | (1ULL << 32),
	       "driver features masked by what is offered");
	wr(b, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				   VIRTIO_CONFIG_S_DRIVER |
				   VIRTIO_CONFIG_S_FEATURES_OK);
	ok(rd(b, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK,
	   "FEATURES_OK accepted");
	wr(b, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(b, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	is_int(vdev->guest_features, (1ULL << 3) | (1ULL << 32),
	       "feature writes after FEATURES_OK ignored");

	/* Queues. */
	wr(b, VIRTIO_MMIO_QUEUE_SEL, 0);
	is_int(rd(b, VIRTIO_MMIO_QUEUE_NUM_MAX), 64, "queue 0 max size");
	wr(b, VIRTIO_MMIO_QUEUE_SEL, 2);
	is_int(rd(b, VIRTIO_MMIO_QUEUE_NUM_MAX), 0, "queue 2 does not exist");
	wr(b, VIRTIO_MMIO_QUEUE_READY, 1);
	is_int(rd(b, VIRTIO_MMIO_QUEUE_READY), 0, "queue 2 cannot be enabled");
	setup_queue0(b, 16);
	is_int(rd(b, VIRTIO_MMIO_QUEUE_READY), 1, "queue 0 ready");
	ok(vdev->queues[0].ring.size == 16 &&
	   vdev->queues[0].ring.desc_gpa == DESC_GPA &&
	   vdev->queues[0].ring.avail_gpa == AVAIL_GPA &&
	   vdev->queues[0].ring.used_gpa == USED_GPA, "queue 0 layout stored");
	wr(b, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x5000);
	is_int(vdev->queues[0].ring.desc_gpa, DESC_GPA,
	       "address write on a ready queue ignored");

	wr(b, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				   VIRTIO_CONFIG_S_DRIVER |
				   VIRTIO_CONFIG_S_FEATURES_OK |
				   VIRTIO_CONFIG_S_DRIVER_OK);
	ok(vring_mapped(&vdev->queues[0].ring), "DRIVER_OK mapped queue 0");

	/* Frozen after DRIVER_OK. */
	wr(b, VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(b, VIRTIO_MMIO_QUEUE_NUM, 8);
	wr(b, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x5000);
	wr(b, VIRTIO_MMIO_QUEUE_READY, 1);
	ok(vdev->queues[1].ring.size == 64 && vdev->queues[1].ring.desc_gpa == 0 &&
	   !rd(b, VIRTIO_MMIO_QUEUE_READY),
	   "queue config after DRIVER_OK ignored");
	wr(b, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(b, VIRTIO_MMIO_QUEUE_READY, 0);
	is_int(rd(b, VIRTIO_MMIO_QUEUE_READY), 1,
	       "disabling a live queue after DRIVER_OK ignored");

	/* Accesses that are not aligned 32-bit ones. */
	v = 0xffffffff;
	bus_dispatch(&kvm.mmio_bus, b + VIRTIO_MMIO_MAGIC_VALUE, &v, 2, false);
	is_int(v & 0xffff, 0, "16-bit register read is 0");
	v = 0xffffffff;
	bus_dispatch(&kvm.mmio_bus, b + 2, &v, 4, false);
	is_int(v, 0, "misaligned register read is 0");
	c8 = 0;
	bus_dispatch(&kvm.mmio_bus, b + VIRTIO_MMIO_STATUS, &c8, 1, true);
	ok(rd(b, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK,
	   "8-bit status write (would reset) ignored");

	/* Notify: bad index ignored, good one runs the queue. */
	wr(b, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	wr(b, VIRTIO_MMIO_QUEUE_NOTIFY, 0xffff);
	ok(1, "notify for missing queues ignored");
	used = gpa(USED_GPA);
	post_buffer(16);
	{
		int before = atomic_load(&nr_handled);

		wr(b, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
		ok(wait_for(&nr_handled, before + 1) &&
		   READ_ONCE(used->idx) == 1, "notify ran queue 0");
	}
	is_int(rd(b, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING,
	       "used-buffer interrupt pending");
	wr(b, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	is_int(rd(b, VIRTIO_MMIO_INTERRUPT_STATUS), 0, "ACK clears it");

	/* Config space: any width, bounds checked. */
	is_int(rd(b, VIRTIO_MMIO_CONFIG), 0x04030201, "config 32-bit read");
	bus_dispatch(&kvm.mmio_bus, b + VIRTIO_MMIO_CONFIG + 5, &c8, 1, false);
	is_int(c8, 6, "config 8-bit read at an odd offset");
	bus_dispatch(&kvm.mmio_bus, b + VIRTIO_MMIO_CONFIG, &c64, 8, false);
	is_int(c64, 0x0807060504030201ULL, "config 64-bit read");
	is_int(rd(b, VIRTIO_MMIO_CONFIG + 6), 0, "read across the end is 0");
	c8 = 0x99;
	bus_dispatch(&kvm.mmio_bus, b + VIRTIO_MMIO_CONFIG + 1, &c8, 1, true);
	is_int(test_config[1], 0x99, "config write");
	is_int(rd(b, VIRTIO_MMIO_CONFIG_GENERATION), vdev->config_generation,
	       "config generation");
	is_int(rd(b, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff,
	       "no shared memory regions");
	is_int(rd(b, VIRTIO_MMIO_QUEUE_PFN), 0, "legacy QueuePFN absent in v2");

	/*
	 * Clearing DRIVER_OK without a reset would re-open queue config
	 * under live rings: the device breaks instead, and the queue keeps
	 * its size.
	 */
	wr(b, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				   VIRTIO_CONFIG_S_DRIVER |
				   VIRTIO_CONFIG_S_FEATURES_OK);
	wr(b, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(b, VIRTIO_MMIO_QUEUE_READY, 0);
	wr(b, VIRTIO_MMIO_QUEUE_NUM, 0);
	ok((rd(b, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK) &&
	   vdev->broken && vdev->queues[0].ring.size == 16 &&
	   rd(b, VIRTIO_MMIO_QUEUE_READY) == 1,
	   "clearing DRIVER_OK without reset: NEEDS_RESET, queue untouched");

	/* A broken driver gets NEEDS_RESET and a config interrupt. */
	pthread_mutex_lock(&vdev->lock);
	virtio_device_broken(vdev, "test", -EINVAL);
	pthread_mutex_unlock(&vdev->lock);
	ok((rd(b, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET) &&
	   rd(b, VIRTIO_MMIO_INTERRUPT_STATUS) == VIRTIO_MMIO_INT_CONFIG,
	   "NEEDS_RESET with a config interrupt");

	/* Status 0 resets everything. */
	wr(b, VIRTIO_MMIO_STATUS, 0);
	wr(b, VIRTIO_MMIO_QUEUE_SEL, 0);
	ok(rd(b, VIRTIO_MMIO_STATUS) == 0 &&
	   rd(b, VIRTIO_MMIO_INTERRUPT_STATUS) == 0 &&
	   rd(b, VIRTIO_MMIO_QUEUE_READY) == 0 && vdev->guest_features == 0 &&
	   !vring_mapped(&vdev->queues[0].ring) && !vdev->broken,
	   "status 0 resets device, queues and interrupts");

	/* An oversized queue makes DRIVER_OK fail cleanly. */
	wr(b, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				   VIRTIO_CONFIG_S_DRIVER);
	wr(b, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(b, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(b, VIRTIO_MMIO_STATUS, 0x0b);
	setup_queue0(b, 128);
	wr(b, VIRTIO_MMIO_STATUS, 0x0f);
	ok(rd(b, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET,
	   "queue larger than QueueNumMax: NEEDS_RESET");
	wr(b, VIRTIO_MMIO_STATUS, 0);
}

static void test_legacy(void)
{
	struct virtio_device *vdev;
	struct virtio_queue *q;
	u64 b = slot_base(1);

	is_int(virtio_mmio__create(&kvm, &test_ops, NULL, true, &vdev), 0,
	       "v1 device created");
	q = &vdev->queues[0];
	is_int(rd(b, VIRTIO_MMIO_VERSION), 1, "version 1");
	wr(b, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	is_int(rd(b, VIRTIO_MMIO_DEVICE_FEATURES), 0x100,
	       "legacy: no VERSION_1 offered");
	wr(b, VIRTIO_MMIO_STATUS, 3);
	wr(b, VIRTIO_MMIO_GUEST_PAGE_SIZE, 4096);
	wr(b, VIRTIO_MMIO_QUEUE_SEL, 0);
	is_int(rd(b, VIRTIO_MMIO_QUEUE_NUM_MAX), 64, "legacy queue max");
	wr(b, VIRTIO_MMIO_QUEUE_NUM, 16);
	wr(b, VIRTIO_MMIO_QUEUE_ALIGN, 4096);
	wr(b, VIRTIO_MMIO_QUEUE_PFN, 4);
	is_int(rd(b, VIRTIO_MMIO_QUEUE_PFN), 4, "QueuePFN reads back");
	ok(q->enabled && q->ring.desc_gpa == 0x4000 &&
	   q->ring.avail_gpa == 0x4000 + 16 * 16 && q->ring.used_gpa == 0x5000,
	   "legacy ring layout from PFN, num and align");
	is_int(rd(b, VIRTIO_MMIO_QUEUE_READY), 0, "QueueReady absent in v1");
	wr(b, VIRTIO_MMIO_STATUS, 7);
	ok(vring_mapped(&q->ring) && !vdev->broken, "legacy DRIVER_OK maps it");
	wr(b, VIRTIO_MMIO_QUEUE_PFN, 8);
	is_int(q->ring.desc_gpa, 0x4000, "PFN write after DRIVER_OK ignored");

	wr(b, VIRTIO_MMIO_STATUS, 0);
	ok(!q->enabled && rd(b, VIRTIO_MMIO_QUEUE_PFN) == 0,
	   "reset clears QueuePFN");
	wr(b, VIRTIO_MMIO_STATUS, 3);
	wr(b, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(b, VIRTIO_MMIO_QUEUE_NUM, 16);
	wr(b, VIRTIO_MMIO_QUEUE_ALIGN, 3);
	wr(b, VIRTIO_MMIO_QUEUE_PFN, 4);
	wr(b, VIRTIO_MMIO_STATUS, 7);
	ok(vdev->broken &&
	   (rd(b, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET),
	   "QueueAlign not a power of two: NEEDS_RESET");
	wr(b, VIRTIO_MMIO_STATUS, 0);
}

static void test_slots(void)
{
	struct virtio_device *vdev;
	int ret = 0, n = 0;

	/* Two slots are taken; the rest until the arch runs out. */
	while (n < 32 && !(ret = virtio_mmio__create(&kvm, &test_ops, NULL,
						       false, &vdev)))
		n++;
	is_int(ret, -ENOSPC, "slots run out with -ENOSPC");
	ok(n > 0 && n < 32, "a bounded number of slots");
}

int main(void)
{
	tap_plan(53);
	/* Expected NEEDS_RESET warnings would only clutter the TAP output. */
	log_level = LOG_ERROR;
	fake_vm_init();
	test_modern();
	test_legacy();
	test_slots();
	fake_vm_exit();
	return tap_done();
}

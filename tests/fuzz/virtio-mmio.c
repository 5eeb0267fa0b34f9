// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: virtio-mmio (virtio/mmio.c) register access sequences
 * against a live device with its threads (tests/fuzz/xport.h has the
 * VM, the devices and the input format).  Byte 0 bit 2 picks version 1
 * (legacy) instead of version 2.  Regions: 0 the register file, 1 device
 * config, 2..6 anywhere in the slot, 7 guest RAM.
 *
 * Checked besides the sanitizers: the magic value never changes; reserved
 * and write-only registers, and accesses that are not aligned 32-bit,
 * read 0; after the driver writes status 0 the status, InterruptStatus
 * and every QueueReady read 0; the core's state stays consistent
 * (xp_check_state()).
 */
#include <linux/virtio_mmio.h>

#include "lkvm/arch.h"
#include "xport.h"

static u64 slot, slot_size;

static u32 mmio(u32 off, u32 len, bool write, u64 val)
{
	u64 v = val;

	bus_dispatch(&xp_kvm.mmio_bus, slot + off, &v, len, write);
	return (u32)v;
}

static bool readable(u32 reg, bool legacy)
{
	switch (reg) {
	case VIRTIO_MMIO_MAGIC_VALUE:
	case VIRTIO_MMIO_VERSION:
	case VIRTIO_MMIO_DEVICE_ID:
	case VIRTIO_MMIO_VENDOR_ID:
	case VIRTIO_MMIO_DEVICE_FEATURES:
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
	case VIRTIO_MMIO_INTERRUPT_STATUS:
	case VIRTIO_MMIO_STATUS:
		return true;
	case VIRTIO_MMIO_QUEUE_PFN:
		return legacy;
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return !legacy;
	}
	return false;
}

static void check_read(u32 off, u32 len, u32 v, bool legacy)
{
	if (off >= VIRTIO_MMIO_CONFIG)
		return;		/* device config: the device's business */
	if (len != 4 || (off & 3) || !readable(off, legacy)) {
		if (v)
			xp_fail("register %#x+%u read %#x", off, len, v);
		return;
	}
	if ((off == VIRTIO_MMIO_MAGIC_VALUE && v != 0x74726976) ||
	    (off == VIRTIO_MMIO_VERSION && v != (legacy ? 1U : 2U)))
		xp_fail("register %#x read %#x", off, v);
}

/* Status 0 is a reset (4.2.2.1): everything the driver set up is gone. */
static void check_reset(bool legacy)
{
	u32 sel = 0;

	if (mmio(VIRTIO_MMIO_STATUS, 4, false, 0) ||
	    mmio(VIRTIO_MMIO_INTERRUPT_STATUS, 4, false, 0))
		xp_fail("after reset: status %#x, InterruptStatus %#x",
			mmio(VIRTIO_MMIO_STATUS, 4, false, 0),
			mmio(VIRTIO_MMIO_INTERRUPT_STATUS, 4, false, 0));
	for (sel = 0; sel < xp_vdev->nr_queues; sel++) {
		mmio(VIRTIO_MMIO_QUEUE_SEL, 4, true, sel);
		if (mmio(legacy ? VIRTIO_MMIO_QUEUE_PFN :
				  VIRTIO_MMIO_QUEUE_READY, 4, false, 0))
			xp_fail("after reset: queue %u still set up", sel);
	}
	mmio(VIRTIO_MMIO_QUEUE_SEL, 4, true, 0);
	xp_check_reset();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct kvm scratch;
	unsigned int irq;
	size_t n, pos = XP_HDR;
	struct xp_op op;
	bool legacy;
	u32 off, v;

	if (size < XP_HDR)
		return 0;
	n = XP_HDR + min_t(size_t, data[1] | data[2] << 8, size - XP_HDR);
	legacy = data[0] & 4;
	xp_vm_init(data, size, n);
	if (xp_device(legacy ? VIRTIO_TRANSPORT_MMIO_LEGACY :
			       VIRTIO_TRANSPORT_MMIO, data[0]))
		abort();
	/* The device took the first slot; where that is, the arch says. */
	memset(&scratch, 0, sizeof(scratch));
	if (arch__virtio_mmio_alloc(&scratch, &slot, &slot_size, &irq))
		abort();

	while (xp_next(data, n, &pos, &op)) {
		switch (op.region) {
		case 0:
			off = op.off % VIRTIO_MMIO_CONFIG;
			break;
		case 1:
			off = VIRTIO_MMIO_CONFIG + op.off % 0x100;
			break;
		case XP_REGION_RAM:
			xp_ram_access(&op);
			off = ~0U;
			break;
		default:
			off = op.off % slot_size;
			break;
		}
		if (off != ~0U) {
			/* An 8-byte access straddling the slot's end is a bus's business. */
			if (off + op.size > slot_size)
				off = (u32)slot_size - op.size;
			v = mmio(off, op.size, op.write, op.val);
			if (!op.write)
				check_read(off, op.size, v, legacy);
			xp_sink ^= v;
			if (op.write && off == VIRTIO_MMIO_STATUS &&
			    op.size == 4 && !(op.val & 0xff))
				check_reset(legacy);
		}
		if (op.settle)
			xp_settle();
		xp_check_state();
	}
	xp_settle();
	mmio(VIRTIO_MMIO_STATUS, 4, true, 0);
	check_reset(legacy);
	xp_check_state();
	xp_vm_exit();
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * A virtio-pci function as the guest's PCI code sees it, without /dev/kvm:
 * IDs, the capability list (walked from 0x34: bounds, no loops, the virtio
 * structures and where they point), BAR sizing, COMMAND decode and BAR
 * moves (un)registering bus ranges, bus master, and the PCI_CFG window.
 */
#include <errno.h>
#include <string.h>

#include <linux/virtio_pci.h>

#include "lkvm/hw.h"
#include "lkvm/kvm.h"
#include "lkvm/pci.h"
#include "lkvm/virtio-transport.h"
#include "tap.h"
#include "virtio-pci-fixture.h"

/* Standard sizing: write all-ones, read the mask back, restore. */
static u32 bar_size_mask(unsigned int bar)
{
	u32 reg = PCI_BASE_ADDRESS_0 + 4 * bar;
	u32 old = cfg_rd(reg, 4), mask;

	cfg_wr(reg, 0xffffffff, 4);
	mask = cfg_rd(reg, 4);
	cfg_wr(reg, old, 4);
	return mask;
}

static u16 mmio_rd16(u64 addr, bool *claimed)
{
	u16 v = 0;

	*claimed = bus_dispatch(&kvm.mmio_bus, addr, &v, 2, false);
	return v;
}

static u32 msix_rd32(u64 addr)
{
	u32 v = 0;

	bus_dispatch(&kvm.mmio_bus, addr, &v, 4, false);
	return v;
}

static void msix_wr32(u64 addr, u32 v)
{
	bus_dispatch(&kvm.mmio_bus, addr, &v, 4, true);
}

struct caps {
	int msix, common, notify, isr, device, pcicfg, count;
	bool loop, bounds, aligned;
};

static void walk_caps(struct caps *c)
{
	bool seen[PCI_CFG_SPACE] = { false };
	u32 off = cfg_rd(PCI_CAPABILITY_LIST, 1);

	memset(c, 0, sizeof(*c));
	c->bounds = c->aligned = true;
	while (off) {
		u8 id;

		if (off < PCI_CAP_START || off > PCI_CFG_SPACE - 2) {
			c->bounds = false;
			break;
		}
		if (off & 3)
			c->aligned = false;
		if (seen[off]) {
			c->loop = true;
			break;
		}
		seen[off] = true;
		c->count++;
		id = (u8)cfg_rd(off, 1);
		if (id == PCI_CAP_ID_MSIX) {
			c->msix = (int)off;
			if (off + PCI_CAP_MSIX_SIZEOF > PCI_CFG_SPACE)
				c->bounds = false;
		} else if (id == PCI_CAP_ID_VNDR) {
			u8 len = (u8)cfg_rd(off + VIRTIO_PCI_CAP_LEN, 1);
			u8 type = (u8)cfg_rd(off + VIRTIO_PCI_CAP_CFG_TYPE, 1);

			if (len < sizeof(struct virtio_pci_cap) ||
			    off + len > PCI_CFG_SPACE)
				c->bounds = false;
			if (type == VIRTIO_PCI_CAP_COMMON_CFG)
				c->common = (int)off;
			else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
				c->notify = (int)off;
			else if (type == VIRTIO_PCI_CAP_ISR_CFG)
				c->isr = (int)off;
			else if (type == VIRTIO_PCI_CAP_DEVICE_CFG)
				c->device = (int)off;
			else if (type == VIRTIO_PCI_CAP_PCI_CFG)
				c->pcicfg = (int)off;
		}
		off = cfg_rd(off + PCI_CAP_LIST_NEXT, 1);
	}
}

/* A virtio cap points inside its BAR: bar, offset + length <= size. */
static bool vcap_ok(int off, u32 bar_size, u32 min_len)
{
	u32 bar = cfg_rd((u32)off + VIRTIO_PCI_CAP_BAR, 1);
	u32 o = cfg_rd((u32)off + VIRTIO_PCI_CAP_OFFSET, 4);
	u32 l = cfg_rd((u32)off + VIRTIO_PCI_CAP_LENGTH, 4);

	return bar == 4 && l >= min_len && o < bar_size && l <= bar_size - o;
}

static void test_ids_and_caps(void)
{
	struct caps c;
	u32 bar4_size, ctrl;

	is_int(cfg_rd(PCI_VENDOR_ID, 2), 0x1af4, "vendor 1af4");
	is_int(cfg_rd(PCI_DEVICE_ID, 2), 0x1005, "transitional rng is 1005");
	is_int(cfg_rd(PCI_SUBSYSTEM_ID, 2), VIRTIO_ID_RNG,
	       "subsystem id is the virtio device id");
	is_int(cfg_rd(PCI_REVISION_ID, 1), 0, "transitional: revision 0");
	is_int(cfg_rd(PCI_INTERRUPT_PIN, 1), 1, "INTA");
	ok(cfg_rd(PCI_INTERRUPT_LINE, 1) == arch__pci_intx_line(slot),
	   "interrupt line is the arch's choice for the slot");
	ok(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, "STATUS.CAP_LIST set");

	walk_caps(&c);
	ok(!c.loop, "capability list has no loop");
	ok(c.bounds, "every capability inside config space");
	ok(c.aligned, "capabilities dword-aligned");
	is_int(c.count, 6, "MSI-X + 5 virtio capabilities");
	ok(c.msix && c.common && c.notify && c.isr && c.device && c.pcicfg,
	   "MSI-X, common, notify, ISR, device and PCI_CFG caps present");

	ctrl = cfg_rd((u32)c.msix + PCI_MSIX_FLAGS, 2);
	is_int(ctrl & PCI_MSIX_FLAGS_QSIZE, NR_QUEUES, "nr_queues + 1 vectors");
	is_int(cfg_rd((u32)c.msix + PCI_MSIX_TABLE, 4), 0x1,
	       "table in BAR1 at 0");
	is_int(cfg_rd((u32)c.msix + PCI_MSIX_PBA, 4), 0x801,
	       "PBA in BAR1 at 0x800");
	cfg_wr((u32)c.msix + PCI_MSIX_FLAGS, 0x3fff, 2);
	is_int(cfg_rd((u32)c.msix + PCI_MSIX_FLAGS, 2), ctrl,
	       "table size is read-only");

	bar4_size = ~(bar_size_mask(4) & PCI_BASE_ADDRESS_MEM_MASK) + 1;
	ok(vcap_ok(c.common, bar4_size,
		   sizeof(struct virtio_pci_common_cfg)),
	   "common cfg inside BAR4");
	ok(vcap_ok(c.isr, bar4_size, 1), "ISR inside BAR4");
	ok(vcap_ok(c.device, bar4_size, CONFIG_SIZE), "device cfg inside BAR4");
	ok(vcap_ok(c.notify, bar4_size, NR_QUEUES * 4),
	   "notify area inside BAR4, one slot per queue");
	is_int(cfg_rd((u32)c.notify + sizeof(struct virtio_pci_cap), 4), 4,
	       "notify_off_multiplier 4");
	is_int(cfg_rd((u32)c.notify + VIRTIO_PCI_CAP_LEN, 1),
	       sizeof(struct virtio_pci_notify_cap), "notify cap length");
	is_int(cfg_rd((u32)c.pcicfg + VIRTIO_PCI_CAP_LEN, 1),
	       sizeof(struct virtio_pci_cfg_cap), "PCI_CFG cap length");
	cfg_wr((u32)c.common + VIRTIO_PCI_CAP_OFFSET, 0, 4);
	ok(vcap_ok(c.common, bar4_size, 1), "virtio caps are read-only");
}

static void test_bars(void)
{
	u32 m;

	m = bar_size_mask(0);
	ok(m & PCI_BASE_ADDRESS_SPACE_IO, "BAR0 is I/O");
	m &= PCI_BASE_ADDRESS_IO_MASK & 0xffff;
	ok(m && !((~m + 1) & 0xffff & (~m & 0xffff)),
	   "BAR0 size mask is a power of two");
	is_int(bar_size_mask(1), 0xfffff000, "BAR1: 4 KiB, mem32");
	is_int(bar_size_mask(4) & 0xf, PCI_BASE_ADDRESS_MEM_TYPE_64,
	       "BAR4 is mem64");
	is_int(bar_size_mask(4), 0xffffc004, "BAR4: 16 KiB");
	is_int(bar_size_mask(5), 0xffffffff, "BAR5 (BAR4's upper half) all ones");
	is_int(bar_size_mask(2), 0, "BAR2 unimplemented");
	is_int(bar_size_mask(3), 0, "BAR3 unimplemented");
	ok(bar_addr(1) >= 0xc0000000 && !(bar_addr(1) & 0xfff),
	   "BAR1 allocated in the window, aligned");
	ok(!(bar_addr(4) & 0x3fff), "BAR4 naturally aligned");
	ok(bar_addr(0) >= 0xc000, "BAR0 in the I/O window");
}

static void test_decode(struct virtio_device *vdev)
{
	u64 bar4 = bar_addr(4), nb4 = 0xd0000000;
	u16 cmd = (u16)cfg_rd(PCI_COMMAND, 2);
	bool claimed;
	u16 v;

	ok(cmd & PCI_COMMAND_MEMORY, "memory decode on, as firmware leaves it");
	v = mmio_rd16(bar4 + VIRTIO_PCI_COMMON_NUMQ, &claimed);
	ok(claimed && v == NR_QUEUES, "num_queues through BAR4");

	cfg_wr(PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY, 2);
	mmio_rd16(bar4 + VIRTIO_PCI_COMMON_NUMQ, &claimed);
	ok(!claimed, "memory decode off: BAR4 unclaimed");

	cfg_wr(PCI_BASE_ADDRESS_4, (u32)nb4, 4);
	cfg_wr(PCI_BASE_ADDRESS_5, 0, 4);
	mmio_rd16(nb4 + VIRTIO_PCI_COMMON_NUMQ, &claimed);
	ok(!claimed, "moved while decode is off: still unclaimed");
	cfg_wr(PCI_COMMAND, cmd, 2);
	v = mmio_rd16(nb4 + VIRTIO_PCI_COMMON_NUMQ, &claimed);
	ok(claimed && v == NR_QUEUES, "decode on: BAR4 at its new address");
	mmio_rd16(bar4 + VIRTIO_PCI_COMMON_NUMQ, &claimed);
	ok(!claimed, "old address released");

	/* Moving a decoded BAR takes effect at once. */
	cfg_wr(PCI_BASE_ADDRESS_4, (u32)bar4, 4);
	v = mmio_rd16(bar4 + VIRTIO_PCI_COMMON_NUMQ, &claimed);
	ok(claimed && v == NR_QUEUES, "live move: claimed at the new address");
	mmio_rd16(nb4 + VIRTIO_PCI_COMMON_NUMQ, &claimed);
	ok(!claimed, "live move: old address released");

	/*
	 * Put on top of BAR1, BAR4 stays undecoded (PCI leaves overlapping
	 * BARs undefined): BAR1 keeps its range and nothing answers in
	 * BAR4's upper pages; moved away again, it decodes.  The fuzz
	 * harness relies on this to tell its accesses' targets apart.
	 */
	cfg_wr(PCI_BASE_ADDRESS_4, (u32)bar_addr(1), 4);
	msix_wr32(bar_addr(1) + PCI_MSIX_ENTRY_DATA, 0x1234);
	ok(msix_rd32(bar_addr(1) + PCI_MSIX_ENTRY_DATA) == 0x1234,
	   "BAR4 on top of BAR1: BAR1 keeps its range");
	mmio_rd16(bar_addr(1) + 0x3000, &claimed);
	ok(!claimed, "BAR4 on top of BAR1: BAR4 not decoded");
	cfg_wr(PCI_BASE_ADDRESS_4, (u32)bar4, 4);
	v = mmio_rd16(bar4 + VIRTIO_PCI_COMMON_NUMQ, &claimed);
	ok(claimed && v == NR_QUEUES, "moved off BAR1: BAR4 decodes again");

	cfg_wr(PCI_COMMAND, cmd & ~PCI_COMMAND_IO, 2);
	v = 0;
	ok(!bus_dispatch(&kvm.pio_bus, bar_addr(0) + VIRTIO_PCI_QUEUE_NUM, &v,
			 2, false), "I/O decode off: BAR0 unclaimed");
	cfg_wr(PCI_COMMAND, cmd, 2);
	ok(bus_dispatch(&kvm.pio_bus, bar_addr(0) + VIRTIO_PCI_QUEUE_NUM, &v,
			2, false) && v == 256, "I/O decode on: QUEUE_NUM 256");

	ok(!vdev->dma_enabled, "bus master off: no DMA");
	cfg_wr(PCI_COMMAND, cmd | PCI_COMMAND_MASTER, 2);
	ok(vdev->dma_enabled, "bus master on: DMA enabled");
	cfg_wr(PCI_COMMAND, cmd, 2);
	ok(!vdev->dma_enabled, "bus master off again: DMA disabled");
}

static void test_window(void)
{
	struct caps c;
	u32 data_off;

	walk_caps(&c);
	data_off = (u32)c.pcicfg + offsetof(struct virtio_pci_cfg_cap,
					    pci_cfg_data);
	cfg_wr((u32)c.pcicfg + VIRTIO_PCI_CAP_BAR, 4, 1);
	cfg_wr((u32)c.pcicfg + VIRTIO_PCI_CAP_OFFSET,
	       VIRTIO_PCI_COMMON_NUMQ, 4);
	cfg_wr((u32)c.pcicfg + VIRTIO_PCI_CAP_LENGTH, 2, 4);
	is_int(cfg_rd(data_off, 2), NR_QUEUES,
	       "PCI_CFG window reads num_queues from BAR4");

	cfg_wr((u32)c.pcicfg + VIRTIO_PCI_CAP_OFFSET,
	       VIRTIO_PCI_COMMON_Q_SELECT, 4);
	cfg_wr(data_off, 1, 2);
	cfg_wr((u32)c.pcicfg + VIRTIO_PCI_CAP_OFFSET,
	       VIRTIO_PCI_COMMON_Q_SELECT, 4);
	is_int(cfg_rd(data_off, 2), 1, "PCI_CFG window write selects queue 1");

	cfg_wr(data_off, 0x5555, 2);
	cfg_wr((u32)c.pcicfg + VIRTIO_PCI_CAP_OFFSET, 0x3fff, 4);
	cfg_wr((u32)c.pcicfg + VIRTIO_PCI_CAP_LENGTH, 4, 4);
	is_int(cfg_rd(data_off, 2), 0x5555,
	       "window past the BAR's end: no access");
	cfg_wr((u32)c.pcicfg + VIRTIO_PCI_CAP_OFFSET, 0xffffffff, 4);
	cfg_wr((u32)c.pcicfg + VIRTIO_PCI_CAP_LENGTH, 0xffffffff, 4);
	is_int(cfg_rd(data_off, 2), 0x5555, "huge offset/length: no access");
	cfg_wr((u32)c.pcicfg + VIRTIO_PCI_CAP_BAR, 3, 1);
	cfg_wr((u32)c.pcicfg + VIRTIO_PCI_CAP_OFFSET, 0, 4);
	cfg_wr((u32)c.pcicfg + VIRTIO_PCI_CAP_LENGTH, 1, 4);
	is_int(cfg_rd(data_off, 2), 0x5555, "unimplemented BAR: no access");
}

int main(void)
{
	struct virtio_device *vdev = NULL;

	tap_plan(59);
	fixture_setup(&t_ops, VIRTIO_TRANSPORT_PCI, &vdev,
		      "virtio-pci device created");

	test_ids_and_caps();
	test_bars();
	test_decode(vdev);
	test_window();

	kvm__exit(&kvm);
	return tap_done();
}

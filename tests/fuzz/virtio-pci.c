// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: virtio-pci (virtio/pci.c, pci-modern.c, pci-legacy.c,
 * msix.c and hw/pci.c's config space) register access sequences against
 * a live device with its threads (tests/fuzz/xport.h has the VM, the
 * devices and the input format).  Byte 0 bits 2-3 pick the variant:
 * transitional, legacy-only, modern-only, transitional.
 *
 * Regions, each found the way a driver finds it (BAR addresses are read
 * back from config space at every access, so a driver moving or
 * disabling a BAR is followed):
 *   0  config space          1  capability (offset >> 8) of the list,
 *                               at (offset & 0x1f) in it: MSI-X control,
 *                               the PCI_CFG window, ...
 *   2  BAR0, legacy I/O      3  BAR1, MSI-X table and PBA
 *   4  BAR4 common config    5  BAR4 ISR, device config, notify
 *   6  BAR4 at any offset    7  guest RAM
 *
 * Checked besides the sanitizers, for accesses the BAR in question
 * decoded itself (not another BAR it was moved on top of): reads past
 * the common config structure, of the ISR page past its byte, of the
 * notify page, of device config past its end and of legacy registers at
 * a wrong width or offset see 0; after status 0 the status reads 0 and
 * the device is in its reset state (xp_check_reset()).  After every
 * access, the core's state stays consistent (xp_check_state()).  A
 * failure prints the BAR layout and the last accesses.
 */
#include <linux/virtio_pci.h>

#include "lkvm/hw.h"
#include "lkvm/pci.h"
#include "xport.h"
#include "../../virtio/pci-int.h"

#define COMMON_LEN	((u32)sizeof(struct virtio_pci_common_cfg))

static u8 slot;
/* The device's transport: where its BARs really are on the bus. */
static struct virtio_pci *vpci;

static u32 cfg_rd(u32 off, u32 len)
{
	u32 v = 0;

	pci__cfg_read(&xp_kvm, 0, slot, 0, off, &v, len);
	return v;
}

static void cfg_wr(u32 off, u32 v, u32 len)
{
	pci__cfg_write(&xp_kvm, 0, slot, 0, off, &v, len);
}

/* The address BAR registers @lo (and the next one, @hi) hold. */
static u64 bar_decode(u32 lo, u32 hi)
{
	if (lo & PCI_BASE_ADDRESS_SPACE_IO)
		return lo & PCI_BASE_ADDRESS_IO_MASK;
	if ((lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
	    PCI_BASE_ADDRESS_MEM_TYPE_64)
		return (lo & PCI_BASE_ADDRESS_MEM_MASK) | (u64)hi << 32;
	return lo & PCI_BASE_ADDRESS_MEM_MASK;
}

static u64 bar_addr(unsigned int bar)
{
	u32 reg = PCI_BASE_ADDRESS_0 + 4 * bar;
	u32 lo = cfg_rd(reg, 4);

	if (!(lo & PCI_BASE_ADDRESS_SPACE_IO) &&
	    (lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
	    PCI_BASE_ADDRESS_MEM_TYPE_64)
		return bar_decode(lo, cfg_rd(reg + 4, 4));
	return bar_decode(lo, 0);
}

/*
 * An access to BAR @n at the address config space gives it; @hit says
 * whether BAR @n itself decoded it, so that the checks hold it to what
 * the device promises.  A driver may have moved the BAR away or turned
 * decoding off (the bus reads all ones), or moved it on top of another
 * BAR, where it stays unmapped (PCI leaves overlapping BARs undefined;
 * lkvm keeps the range with the BAR that had it first): the access still
 * goes out, to whatever holds that address, but says nothing about BAR
 * @n.  Decided before the access, which may itself move BARs (the config
 * ports, when BAR0 points at them).
 */
static u64 bar(unsigned int n, u64 off, u32 len, bool write, u64 val,
	       bool *hit)
{
	const struct pci_bar *b = &vpci->pdev.bars[n];
	u64 at = bar_addr(n);
	bool ours = b->mapped && b->addr == at;
	u64 v = val;

	*hit = bus_dispatch(n ? &xp_kvm.mmio_bus : &xp_kvm.pio_bus,
			    at + off, &v, len, write) && ours;
	return v;
}

/* The config offset of capability @n in the list (0 if there is none). */
static u32 cap(unsigned int n)
{
	u32 off = cfg_rd(PCI_CAPABILITY_LIST, 1);

	for (unsigned int i = 0; off && i < 48; i++, n--) {
		if (!n)
			return off;
		off = cfg_rd(off + 1, 1);
	}
	return 0;
}

static void check_legacy_read(u64 off, u32 len, u64 v)
{
	static const u8 regs[][2] = {
		{ VIRTIO_PCI_HOST_FEATURES, 4 }, { VIRTIO_PCI_GUEST_FEATURES, 4 },
		{ VIRTIO_PCI_QUEUE_PFN, 4 }, { VIRTIO_PCI_QUEUE_NUM, 2 },
		{ VIRTIO_PCI_QUEUE_SEL, 2 }, { VIRTIO_PCI_STATUS, 1 },
		{ VIRTIO_PCI_ISR, 1 },
	};

	/* Below 0x14 is always the header, MSI-X on or off. */
	if (off >= VIRTIO_PCI_CONFIG_OFF(false))
		return;
	for (unsigned int i = 0; i < ARRAY_SIZE(regs); i++)
		if (off == regs[i][0] && len == regs[i][1])
			return;
	if (v)
		xp_fail("legacy register %#llx+%u read %#llx",
			(unsigned long long)off, len, (unsigned long long)v);
}

/* Reads of BAR4 at @off (a read of @len bytes returned @v). */
static void check_modern_read(u64 off, u32 len, u64 v)
{
	u32 page = (u32)off & 0xfff;

	if (off >= 0x4000 || (off & 0xfff) + len > 0x1000) {
		if (v && off < 0x4000)
			xp_fail("BAR4 %#llx+%u straddles two structures, read %#llx",
				(unsigned long long)off, len,
				(unsigned long long)v);
		return;
	}
	if ((off >> 12 == 0 && page >= COMMON_LEN) ||
	    (off >> 12 == 1 && page) ||
	    (off >> 12 == 2 && page + len > xp_vdev->ops->config_size) ||
	    off >> 12 == 3)
		if (v)
			xp_fail("BAR4 %#llx+%u is reserved but read %#llx",
				(unsigned long long)off, len,
				(unsigned long long)v);
}

/*
 * Right after the driver wrote status 0 through @bar_no: it reads back 0
 * there (trivially so if the BAR is not decoded: the write went nowhere
 * either).
 */
static void check_reset(unsigned int bar_no)
{
	bool hit;

	if (bar(bar_no, bar_no ? VIRTIO_PCI_COMMON_STATUS : VIRTIO_PCI_STATUS,
		1, false, 0, &hit) && hit)
		xp_fail("BAR%u: status 0 written, not read back", bar_no);
	if (hit)
		xp_check_reset();
}

/*
 * For a failure report: where config space puts each BAR and where it
 * decodes.  Peeks (a config transaction could take the device lock,
 * which the failing check may hold); unlocked reads of the rest, which
 * the harness thread alone changes or which only need to be roughly right.
 */
static void dump_bars(void)
{
	struct pci_device *pdev = &vpci->pdev;
	u32 regs[PCI_NR_BARS + 1] = { 0 };
	u16 cmd;

	pci__cfg_peek(pdev, PCI_BASE_ADDRESS_0, regs, 4 * PCI_NR_BARS);
	pci__cfg_peek(pdev, PCI_COMMAND, &cmd, 2);
	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		const struct pci_bar *b = &pdev->bars[i];

		if (b->type == PCI_BAR_NONE)
			continue;
		fprintf(stderr, "xport: BAR%u config %#llx, ", i,
			(unsigned long long)bar_decode(regs[i], regs[i + 1]));
		if (b->mapped)
			fprintf(stderr, "decoded at %#llx\n",
				(unsigned long long)b->addr);
		else
			fprintf(stderr, "not decoded\n");
	}
	fprintf(stderr, "xport: COMMAND %#x, status %#x, %s interface\n",
		cmd, xp_vdev->status, xp_vdev->legacy ? "legacy" : "modern");
}

static void find_device(void)
{
	u32 id = 0;

	for (slot = 0; slot < PCI_MAX_DEVICES; slot++) {
		pci__cfg_read(&xp_kvm, 0, slot, 0, 0, &id, 4);
		if ((id & 0xffff) == 0x1af4)
			return;
	}
	abort();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static const enum virtio_transport_kind kinds[] = {
		VIRTIO_TRANSPORT_PCI, VIRTIO_TRANSPORT_PCI_LEGACY,
		VIRTIO_TRANSPORT_PCI_MODERN, VIRTIO_TRANSPORT_PCI,
	};
	size_t n, pos = XP_HDR;
	struct xp_op op;
	u32 len, c;
	bool hit;
	u64 v;

	if (size < XP_HDR)
		return 0;
	n = XP_HDR + min_t(size_t, data[1] | data[2] << 8, size - XP_HDR);
	xp_vm_init(data, size, n);
	if (pci_host__init(&xp_kvm, &xp_kvm.pio_bus) ||
	    xp_device(kinds[(data[0] >> 2) & 3], data[0]))
		abort();
	find_device();
	vpci = xp_vdev->transport;
	xp_dump_target = dump_bars;

	while (xp_next(data, n, &pos, &op)) {
		len = op.size;
		v = 0;
		switch (op.region) {
		case 0:
		case 1:
			len = min_t(u32, len, 4);
			c = op.region ? cap(op.off >> 8) : 0;
			if (op.region && !c)
				break;
			c += op.region ? op.off & 0x1f : op.off & 0xff;
			if (c + len > 256)
				c = 256 - len;
			if (op.write)
				cfg_wr(c, (u32)op.val, len);
			else
				v = cfg_rd(c, len);
			break;
		case 2:
			v = bar(0, op.off % 0x100, len, op.write, op.val, &hit);
			if (hit && !op.write)
				check_legacy_read(op.off % 0x100, len, v);
			if (hit && op.write && op.off % 0x100 == VIRTIO_PCI_STATUS &&
			    len == 1 && !(u8)op.val)
				check_reset(0);
			break;
		case 3:
			v = bar(1, op.off % 0x1000, len, op.write, op.val, &hit);
			break;
		case 4:
		case 5:
		case 6:
			c = op.region == 4 ? op.off % 0x40 :
			    op.region == 5 ? 0x1000 + op.off % 0x3000 : op.off;
			v = bar(4, c, len, op.write, op.val, &hit);
			if (hit && !op.write)
				check_modern_read(c, len, v);
			if (hit && op.write && c == VIRTIO_PCI_COMMON_STATUS &&
			    len == 1 && !(u8)op.val)
				check_reset(4);
			break;
		case XP_REGION_RAM:
			xp_ram_access(&op);
			break;
		}
		xp_sink ^= v;
		if (op.settle)
			xp_settle();
		xp_check_state();
	}
	xp_settle();
	pthread_mutex_lock(&xp_vdev->lock);
	virtio_set_status(xp_vdev, 0);
	pthread_mutex_unlock(&xp_vdev->lock);
	xp_check_reset();
	xp_vm_exit();
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * PCI bus 0 with a host bridge, reached through configuration mechanism #1
 * (0xcf8 address, 0xcfc data) as PC firmware and Linux expect.  0xcf9 in
 * the middle of the address register is the PIIX reset control register.
 *
 * Devices get BARs (allocated from the arch's windows, sized and moved by
 * the guest through the usual write-all-ones protocol, decoded on the
 * buses only while COMMAND enables them), a capability list and an INTx
 * line chosen by the arch.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/exit.h"
#include "lkvm/hw.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/pci.h"

#define PCI_CONFIG_ADDRESS	0xcf8
#define PCI_CONFIG_DATA		0xcfc
#define PCI_CONFIG_ENABLE	0x80000000u

#define RST_CNT_SYS_RST		0x02
#define RST_CNT_RST_CPU		0x04

/*
 * Locking: @cfg_lock serialises config transactions (a guest access with
 * the BAR moves and device callbacks it causes), so devices see them in
 * order; it is taken only by vCPU threads and at set-up, never by a
 * thread holding a device lock.  @lock is the innermost lock: it guards
 * @devices and every device's @cfg/@wmask bytes, and is never held while
 * calling out of this file (bus registration excepted: the bus lock is a
 * leaf).  Order: cfg_lock -> device locks (vdev->lock) -> lock.
 */
struct pci_host {
	struct kvm *kvm;
	pthread_mutex_t cfg_lock;
	pthread_mutex_t lock;
	_Atomic u32 config_address;	/* per guest, not per vCPU, as on a PC */
	struct pci_device *devices[PCI_MAX_DEVICES];
	struct pci_device bridge;
};

/* One VM per process: the host bridge state is the process's. */
static struct pci_host pci_host;

/* BAR address allocation; devices are created before the guest runs. */
static struct {
	pthread_mutex_t lock;
	bool init;
	struct pci_windows w;
	u64 next_mmio, next_io;
} pci_alloc = { .lock = PTHREAD_MUTEX_INITIALIZER };

void pci__init_header(struct pci_device *pdev, u16 vendor, u16 device,
		      u32 class_code, u8 revision)
{
	memset(pdev->cfg, 0, sizeof(pdev->cfg));
	memset(pdev->wmask, 0, sizeof(pdev->wmask));
	memset(pdev->bars, 0, sizeof(pdev->bars));
	pdev->cap_end = PCI_CAP_START;
	pdev->last_cap = 0;
	pdev->intx_line = -1;
	memcpy(&pdev->cfg[PCI_VENDOR_ID], &vendor, 2);
	memcpy(&pdev->cfg[PCI_DEVICE_ID], &device, 2);
	pdev->cfg[PCI_REVISION_ID] = revision;
	pdev->cfg[PCI_CLASS_PROG] = class_code & 0xff;
	pdev->cfg[PCI_CLASS_DEVICE] = (class_code >> 8) & 0xff;
	pdev->cfg[PCI_CLASS_DEVICE + 1] = (class_code >> 16) & 0xff;
	pdev->cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	/* The command bits a driver legitimately toggles. */
	pdev->wmask[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
				   PCI_COMMAND_MASTER | PCI_COMMAND_PARITY;
	pdev->wmask[PCI_COMMAND + 1] = (PCI_COMMAND_SERR |
					PCI_COMMAND_INTX_DISABLE) >> 8;
	pdev->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	pdev->wmask[PCI_LATENCY_TIMER] = 0xff;
	pdev->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

void pci__set_subsystem(struct pci_device *pdev, u16 vendor, u16 device)
{
	memcpy(&pdev->cfg[PCI_SUBSYSTEM_VENDOR_ID], &vendor, 2);
	memcpy(&pdev->cfg[PCI_SUBSYSTEM_ID], &device, 2);
}

static void pci__alloc_init(void)
{
	if (pci_alloc.init)
		return;
	arch__pci_windows(&pci_alloc.w);
	pci_alloc.next_mmio = pci_alloc.w.mmio_start;
	pci_alloc.next_io = pci_alloc.w.io_start;
	pci_alloc.init = true;
}

/* Naturally aligned, so a BAR's size mask never cuts into its address. */
static int pci__alloc(u64 *next, u64 end, u64 size, u64 *addr)
{
	u64 a;

	if (!size || (size & (size - 1)))
		return -EINVAL;
	a = ALIGN_UP(*next, size);
	if (a < *next || a > end || end - a < size)
		return -ENOSPC;
	*next = a + size;
	*addr = a;
	return 0;
}

int pci__alloc_mmio(u64 size, u64 *addr)
{
	int ret;

	pthread_mutex_lock(&pci_alloc.lock);
	pci__alloc_init();
	ret = pci__alloc(&pci_alloc.next_mmio, pci_alloc.w.mmio_end, size,
			 addr);
	pthread_mutex_unlock(&pci_alloc.lock);
	return ret;
}

int pci__alloc_io(u64 size, u64 *addr)
{
	int ret;

	pthread_mutex_lock(&pci_alloc.lock);
	pci__alloc_init();
	ret = pci__alloc(&pci_alloc.next_io, pci_alloc.w.io_end, size, addr);
	pthread_mutex_unlock(&pci_alloc.lock);
	return ret;
}

static u32 cfg_get32(const struct pci_device *pdev, u32 off)
{
	u32 v;

	memcpy(&v, &pdev->cfg[off], 4);
	return v;
}

static void cfg_set32(u8 *space, u32 off, u32 v)
{
	memcpy(&space[off], &v, 4);
}

int pci__add_bar(struct pci_device *pdev, unsigned int bar,
		 enum pci_bar_type type, u64 size, bus_handler_t handler,
		 void *opaque, const char *name)
{
	u32 reg = PCI_BASE_ADDRESS_0 + 4 * bar;
	u64 addr;
	int ret;

	if (bar >= PCI_NR_BARS || !handler || !size || (size & (size - 1)))
		return -EINVAL;
	if (pdev->bars[bar].type != PCI_BAR_NONE ||
	    (bar && pdev->bars[bar - 1].type == PCI_BAR_MEM64))
		return -EBUSY;

	switch (type) {
	case PCI_BAR_IO:
		/* 16-bit decode: an x86 port number, and at most 256 ports. */
		if (size < 4 || size > 256)
			return -EINVAL;
		ret = pci__alloc_io(size, &addr);
		if (ret)
			return ret;
		cfg_set32(pdev->cfg, reg, (u32)addr | PCI_BASE_ADDRESS_SPACE_IO);
		cfg_set32(pdev->wmask, reg, ~(u32)(size - 1) & 0xfffc);
		break;
	case PCI_BAR_MEM32:
		if (size < 16 || size > SZ_1G)
			return -EINVAL;
		ret = pci__alloc_mmio(size, &addr);
		if (ret)
			return ret;
		cfg_set32(pdev->cfg, reg, (u32)addr |
			  PCI_BASE_ADDRESS_MEM_TYPE_32);
		cfg_set32(pdev->wmask, reg, ~(u32)(size - 1) &
			  PCI_BASE_ADDRESS_MEM_MASK);
		break;
	case PCI_BAR_MEM64:
		if (bar + 1 >= PCI_NR_BARS || pdev->bars[bar + 1].type ||
		    size < 16 || size > SZ_1G)
			return -EINVAL;
		ret = pci__alloc_mmio(size, &addr);
		if (ret)
			return ret;
		cfg_set32(pdev->cfg, reg, (u32)addr |
			  PCI_BASE_ADDRESS_MEM_TYPE_64);
		cfg_set32(pdev->cfg, reg + 4, (u32)(addr >> 32));
		cfg_set32(pdev->wmask, reg, ~(u32)(size - 1) &
			  PCI_BASE_ADDRESS_MEM_MASK);
		cfg_set32(pdev->wmask, reg + 4, 0xffffffff);
		break;
	default:
		return -EINVAL;
	}
	pdev->bars[bar] = (struct pci_bar){
		.type = type, .size = size, .handler = handler,
		.opaque = opaque, .name = name,
	};
	return 0;
}

int pci__add_cap(struct pci_device *pdev, u8 id, const void *data, u32 len)
{
	u32 off = ALIGN_UP((u32)(pdev->cap_end ? pdev->cap_end :
				 PCI_CAP_START), 4);

	if (len < 2 || !data)
		return -EINVAL;
	if (off > PCI_CFG_SPACE || len > PCI_CFG_SPACE - off)
		return -ENOSPC;
	memcpy(&pdev->cfg[off], data, len);
	pdev->cfg[off + PCI_CAP_LIST_ID] = id;
	pdev->cfg[off + PCI_CAP_LIST_NEXT] = 0;
	memset(&pdev->wmask[off], 0, len);
	if (pdev->last_cap)
		pdev->cfg[pdev->last_cap + PCI_CAP_LIST_NEXT] = (u8)off;
	else
		pdev->cfg[PCI_CAPABILITY_LIST] = (u8)off;
	pdev->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	pdev->last_cap = (u16)off;
	pdev->cap_end = (u16)(off + len);
	return (int)off;
}

void pci__use_intx(struct pci_device *pdev)
{
	pdev->cfg[PCI_INTERRUPT_PIN] = 1;	/* INTA# */
}

void pci__cfg_peek(struct pci_device *pdev, u32 offset, void *data, u32 len)
{
	if (offset >= PCI_CFG_SPACE || len > PCI_CFG_SPACE - offset) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&pci_host.lock);
	memcpy(data, &pdev->cfg[offset], len);
	pthread_mutex_unlock(&pci_host.lock);
}

void pci__cfg_poke(struct pci_device *pdev, u32 offset, const void *data,
		   u32 len)
{
	if (offset >= PCI_CFG_SPACE || len > PCI_CFG_SPACE - offset)
		return;
	pthread_mutex_lock(&pci_host.lock);
	memcpy(&pdev->cfg[offset], data, len);
	pthread_mutex_unlock(&pci_host.lock);
}

void pci__cfg_update16(struct pci_device *pdev, u32 offset, u16 clear,
		       u16 set)
{
	u16 v;

	if (offset > PCI_CFG_SPACE - 2)
		return;
	pthread_mutex_lock(&pci_host.lock);
	memcpy(&v, &pdev->cfg[offset], 2);
	v = (v & ~clear) | set;
	memcpy(&pdev->cfg[offset], &v, 2);
	pthread_mutex_unlock(&pci_host.lock);
}

/* Where BAR @bar decodes according to config space (caller holds lock). */
static u64 pci__bar_cfg_addr(const struct pci_device *pdev, unsigned int bar)
{
	u32 reg = PCI_BASE_ADDRESS_0 + 4 * bar;
	u32 lo = cfg_get32(pdev, reg);

	switch (pdev->bars[bar].type) {
	case PCI_BAR_IO:
		return lo & PCI_BASE_ADDRESS_IO_MASK;
	case PCI_BAR_MEM32:
		return lo & PCI_BASE_ADDRESS_MEM_MASK;
	case PCI_BAR_MEM64:
		return (lo & PCI_BASE_ADDRESS_MEM_MASK) |
		       (u64)cfg_get32(pdev, reg + 4) << 32;
	default:
		return 0;
	}
}

/*
 * Makes the bus match config space: a BAR decodes when its enable bit in
 * COMMAND is set and it has a non-zero address.  Every BAR that changes is
 * unregistered first, so BARs swapping places across two writes do not
 * collide with their own old ranges.  A BAR the guest puts on top of
 * something else stays unmapped (and is retried on the next change).
 * Called with cfg_lock held; device callbacks run without @lock.
 */
static void pci__update_bars(struct pci_device *pdev)
{
	struct kvm *kvm = pdev->kvm;
	bool want[PCI_NR_BARS], changed[PCI_NR_BARS] = { false };
	u64 addr[PCI_NR_BARS];
	u16 cmd;

	if (!kvm)
		return;
	pthread_mutex_lock(&pci_host.lock);
	memcpy(&cmd, &pdev->cfg[PCI_COMMAND], 2);
	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		const struct pci_bar *b = &pdev->bars[i];
		u16 en = b->type == PCI_BAR_IO ? PCI_COMMAND_IO :
						 PCI_COMMAND_MEMORY;

		addr[i] = pci__bar_cfg_addr(pdev, i);
		want[i] = b->type != PCI_BAR_NONE && (cmd & en) && addr[i] &&
			  addr[i] + b->size > addr[i];
	}
	pthread_mutex_unlock(&pci_host.lock);

	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		struct pci_bar *b = &pdev->bars[i];
		struct bus *bus = b->type == PCI_BAR_IO ? &kvm->pio_bus :
							  &kvm->mmio_bus;

		if (!b->mapped || (want[i] && addr[i] == b->addr))
			continue;
		bus_unregister(bus, b->addr);
		b->mapped = false;
		changed[i] = true;
	}
	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		struct pci_bar *b = &pdev->bars[i];
		struct bus *bus = b->type == PCI_BAR_IO ? &kvm->pio_bus :
							  &kvm->mmio_bus;
		int ret;

		if (!want[i] || b->mapped)
			continue;
		ret = bus_register(bus, addr[i], b->size, b->handler,
				   b->opaque, b->name);
		if (ret) {
			pr_debug("pci %02x: %s BAR%u at %#llx not mapped: %d",
				 pdev->dev, pdev->name, i,
				 (unsigned long long)addr[i], ret);
			continue;
		}
		b->mapped = true;
		b->addr = addr[i];
		changed[i] = true;
	}
	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		if (changed[i] && pdev->bar_moved)
			pdev->bar_moved(pdev, i, pdev->bars[i].mapped,
					pdev->bars[i].addr);
	}
}

int pci__register(struct kvm *kvm, struct pci_device *pdev)
{
	int ret = -ENOSPC;
	u16 cmd = 0;

	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		if (pdev->bars[i].type == PCI_BAR_IO)
			cmd |= PCI_COMMAND_IO;
		else if (pdev->bars[i].type != PCI_BAR_NONE)
			cmd |= PCI_COMMAND_MEMORY;
	}

	pthread_mutex_lock(&pci_host.cfg_lock);
	pthread_mutex_lock(&pci_host.lock);
	for (u8 dev = 0; dev < PCI_MAX_DEVICES; dev++) {
		if (!pci_host.devices[dev]) {
			pdev->dev = dev;
			pdev->kvm = kvm;
			/* As firmware leaves it: BARs assigned and decoded. */
			pdev->cfg[PCI_COMMAND] |= cmd;
			if (pdev->cfg[PCI_INTERRUPT_PIN]) {
				pdev->intx_line = (int)arch__pci_intx_line(dev);
				pdev->cfg[PCI_INTERRUPT_LINE] =
					(u8)pdev->intx_line;
			}
			pci_host.devices[dev] = pdev;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&pci_host.lock);
	if (!ret)
		pci__update_bars(pdev);
	pthread_mutex_unlock(&pci_host.cfg_lock);
	return ret;
}

static struct pci_device *pci__find(u8 bus, u8 dev, u8 fn)
{
	if (bus != 0 || fn != 0 || dev >= PCI_MAX_DEVICES)
		return NULL;
	return pci_host.devices[dev];
}

/* Accesses must stay within config space; callers check alignment. */
static bool pci__cfg_range_ok(u32 offset, u32 len)
{
	return len && len <= 4 && offset < PCI_CFG_SPACE &&
	       len <= PCI_CFG_SPACE - offset;
}

static bool overlaps(u32 off, u32 len, u32 start, u32 end)
{
	return off < end && off + len > start;
}

void pci__cfg_read(struct kvm *kvm __unused, u8 bus, u8 dev, u8 fn,
		   u32 offset, void *data, u32 len)
{
	struct pci_device *pdev;

	memset(data, 0xff, len);
	if (!pci__cfg_range_ok(offset, len))
		return;
	pthread_mutex_lock(&pci_host.cfg_lock);
	pthread_mutex_lock(&pci_host.lock);
	pdev = pci__find(bus, dev, fn);
	if (pdev)
		memcpy(data, &pdev->cfg[offset], len);
	pthread_mutex_unlock(&pci_host.lock);
	if (pdev && pdev->cfg_read)
		pdev->cfg_read(pdev, offset, data, len);
	pthread_mutex_unlock(&pci_host.cfg_lock);
}

void pci__cfg_write(struct kvm *kvm __unused, u8 bus, u8 dev, u8 fn,
		    u32 offset, const void *data, u32 len)
{
	struct pci_device *pdev;
	const u8 *p = data;
	u16 old_cmd = 0, new_cmd = 0;

	if (!pci__cfg_range_ok(offset, len))
		return;
	pthread_mutex_lock(&pci_host.cfg_lock);
	pthread_mutex_lock(&pci_host.lock);
	pdev = pci__find(bus, dev, fn);
	if (pdev) {
		memcpy(&old_cmd, &pdev->cfg[PCI_COMMAND], 2);
		for (u32 i = 0; i < len; i++) {
			u8 m = pdev->wmask[offset + i];

			pdev->cfg[offset + i] = (pdev->cfg[offset + i] & ~m) |
						(p[i] & m);
		}
		memcpy(&new_cmd, &pdev->cfg[PCI_COMMAND], 2);
	}
	pthread_mutex_unlock(&pci_host.lock);
	if (!pdev)
		goto out;

	if (overlaps(offset, len, PCI_COMMAND, PCI_COMMAND + 2) ||
	    overlaps(offset, len, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_5 + 4))
		pci__update_bars(pdev);
	if (((old_cmd ^ new_cmd) & PCI_COMMAND_MASTER) && pdev->bus_master)
		pdev->bus_master(pdev, new_cmd & PCI_COMMAND_MASTER);
	if (pdev->cfg_write)
		pdev->cfg_write(pdev, offset, data, len);
out:
	pthread_mutex_unlock(&pci_host.cfg_lock);
}

static void pci__address_io(void *opaque, u64 offset, void *data, u32 len,
			    bool is_write)
{
	struct pci_host *h = opaque;
	u8 rst;

	if (offset == 0 && len == 4) {
		u32 v;

		/* Relaxed: the guest itself must serialise 0xcf8/0xcfc users. */
		if (is_write) {
			memcpy(&v, data, 4);
			atomic_store_explicit(&h->config_address, v,
					      memory_order_relaxed);
		} else {
			v = atomic_load_explicit(&h->config_address,
						 memory_order_relaxed);
			memcpy(data, &v, 4);
		}
		return;
	}
	if (offset == 1 && len == 1) {
		if (!is_write) {
			*(u8 *)data = 0;
			return;
		}
		rst = *(u8 *)data;
		if ((rst & RST_CNT_RST_CPU) && (rst & RST_CNT_SYS_RST)) {
			pr_info("guest reset through 0xcf9");
			kvm__request_stop(h->kvm, LKVM_EXIT_RESET);
		}
		return;
	}
	if (!is_write)
		memset(data, 0xff, len);
}

static void pci__data_io(void *opaque, u64 offset, void *data, u32 len,
			 bool is_write)
{
	struct pci_host *h = opaque;
	u32 addr = atomic_load_explicit(&h->config_address,
					memory_order_relaxed);
	u8 bus = (addr >> 16) & 0xff, dev = (addr >> 11) & 0x1f;
	u8 fn = (addr >> 8) & 0x7;
	u32 reg = (addr & 0xfc) + (u32)offset;

	if (!(addr & PCI_CONFIG_ENABLE)) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (is_write)
		pci__cfg_write(h->kvm, bus, dev, fn, reg, data, len);
	else
		pci__cfg_read(h->kvm, bus, dev, fn, reg, data, len);
}

static void pci__free(void *opaque __unused)
{
	pthread_mutex_destroy(&pci_host.lock);
	pthread_mutex_destroy(&pci_host.cfg_lock);
	memset(&pci_host, 0, sizeof(pci_host));
	pthread_mutex_lock(&pci_alloc.lock);
	pci_alloc.init = false;
	pthread_mutex_unlock(&pci_alloc.lock);
}

int pci_host__init(struct kvm *kvm, struct bus *bus)
{
	struct pci_host *h = &pci_host;
	int ret;

	memset(h, 0, sizeof(*h));
	h->kvm = kvm;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->cfg_lock, NULL);
	ret = kvm__on_exit(kvm, pci__free, h);
	if (ret) {
		pthread_mutex_destroy(&h->lock);
		pthread_mutex_destroy(&h->cfg_lock);
		return ret;
	}

	/* Red Hat's "QEMU PCIe host bridge" ID: guests know it, no quirks. */
	h->bridge.name = "host-bridge";
	pci__init_header(&h->bridge, 0x1b36, 0x0008, 0x060000, 0);
	h->bridge.cfg[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY;
	ret = pci__register(kvm, &h->bridge);
	if (ret)
		return ret;

	ret = bus_register(bus, PCI_CONFIG_ADDRESS, 4, pci__address_io, h,
			   "pci-config-address");
	if (ret)
		return ret;
	return bus_register(bus, PCI_CONFIG_DATA, 4, pci__data_io, h,
			    "pci-config-data");
}

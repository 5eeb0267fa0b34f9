// SPDX-License-Identifier: GPL-2.0
/*
 * PCI bus 0 with a host bridge, reached through configuration mechanism #1
 * (0xcf8 address, 0xcfc data) as PC firmware and Linux expect.  0xcf9 in
 * the middle of the address register is the PIIX reset control register.
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

struct pci_host {
	struct kvm *kvm;
	pthread_mutex_t lock;
	_Atomic u32 config_address;	/* per guest, not per vCPU, as on a PC */
	struct pci_device *devices[PCI_MAX_DEVICES];
	struct pci_device bridge;
};

/* One VM per process: the host bridge state is the process's. */
static struct pci_host pci_host;

void pci__init_header(struct pci_device *pdev, u16 vendor, u16 device,
		      u32 class_code, u8 revision)
{
	memset(pdev->cfg, 0, sizeof(pdev->cfg));
	memset(pdev->wmask, 0, sizeof(pdev->wmask));
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

int pci__register(struct kvm *kvm __unused, struct pci_device *pdev)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&pci_host.lock);
	for (u8 dev = 0; dev < PCI_MAX_DEVICES; dev++) {
		if (!pci_host.devices[dev]) {
			pdev->dev = dev;
			pci_host.devices[dev] = pdev;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&pci_host.lock);
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

void pci__cfg_read(struct kvm *kvm __unused, u8 bus, u8 dev, u8 fn,
		   u32 offset, void *data, u32 len)
{
	struct pci_device *pdev;

	memset(data, 0xff, len);
	if (!pci__cfg_range_ok(offset, len))
		return;
	pthread_mutex_lock(&pci_host.lock);
	pdev = pci__find(bus, dev, fn);
	if (pdev)
		memcpy(data, &pdev->cfg[offset], len);
	pthread_mutex_unlock(&pci_host.lock);
}

void pci__cfg_write(struct kvm *kvm __unused, u8 bus, u8 dev, u8 fn,
		    u32 offset, const void *data, u32 len)
{
	struct pci_device *pdev;
	const u8 *p = data;

	if (!pci__cfg_range_ok(offset, len))
		return;
	pthread_mutex_lock(&pci_host.lock);
	pdev = pci__find(bus, dev, fn);
	if (pdev) {
		for (u32 i = 0; i < len; i++) {
			u8 m = pdev->wmask[offset + i];

			pdev->cfg[offset + i] = (pdev->cfg[offset + i] & ~m) |
						(p[i] & m);
		}
	}
	pthread_mutex_unlock(&pci_host.lock);
	if (pdev && pdev->cfg_write)
		pdev->cfg_write(pdev, offset, len);
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
	memset(&pci_host, 0, sizeof(pci_host));
}

int pci_host__init(struct kvm *kvm, struct bus *bus)
{
	struct pci_host *h = &pci_host;
	int ret;

	memset(h, 0, sizeof(*h));
	h->kvm = kvm;
	pthread_mutex_init(&h->lock, NULL);
	ret = kvm__on_exit(kvm, pci__free, h);
	if (ret) {
		pthread_mutex_destroy(&h->lock);
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

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_TESTS_VIRTIO_PCI_FIXTURE_H
#define LKVM_TESTS_VIRTIO_PCI_FIXTURE_H

/*
 * A do-nothing virtio device and config-space accessors for the virtio-pci
 * unit tests (one test file each; everything here is static).
 */
#include "lkvm/kvm.h"
#include "lkvm/pci.h"
#include "lkvm/virtio.h"

#define NR_QUEUES	2
#define CONFIG_SIZE	8

static struct kvm kvm;
static u8 slot;
/* BAR4 (the modern structures), as fixture_setup() found it. */
static u64 b4;
/* The guest's RAM: 1 MiB at guest physical 0. */
static u8 fixture_ram[1 << 20] __attribute__((aligned(4096)));

static void t_read_config(struct virtio_device *vdev __unused, u32 offset,
			  void *data, u32 len)
{
	for (u32 i = 0; i < len; i++)
		((u8 *)data)[i] = (u8)(0xc0 + offset + i);
}

static void t_handle_queue(struct virtio_device *vdev __unused,
			   struct virtio_queue *q __unused)
{
}

static const struct virtio_device_ops t_ops = {
	.name = "test",
	.device_id = VIRTIO_ID_RNG,
	.nr_queues = NR_QUEUES,
	.queue_max_size = 256,
	.config_size = CONFIG_SIZE,
	.read_config = t_read_config,
	.handle_queue = t_handle_queue,
};

static u32 cfg_rd(u32 off, u32 len)
{
	u32 v = 0;

	pci__cfg_read(&kvm, 0, slot, 0, off, &v, len);
	return v;
}

static void cfg_wr(u32 off, u32 v, u32 len)
{
	pci__cfg_write(&kvm, 0, slot, 0, off, &v, len);
}

static u64 bar_addr(unsigned int bar)
{
	u32 lo = cfg_rd(PCI_BASE_ADDRESS_0 + 4 * bar, 4);

	if (lo & PCI_BASE_ADDRESS_SPACE_IO)
		return lo & PCI_BASE_ADDRESS_IO_MASK;
	if ((lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
	    PCI_BASE_ADDRESS_MEM_TYPE_64)
		return (lo & PCI_BASE_ADDRESS_MEM_MASK) |
		       (u64)cfg_rd(PCI_BASE_ADDRESS_0 + 4 * bar + 4, 4) << 32;
	return lo & PCI_BASE_ADDRESS_MEM_MASK;
}

/* The modern registers (common config at 0, ISR at 0x1000, ...) in BAR4. */
static __unused u32 rd(u64 off, u32 len)
{
	u64 v = 0;

	bus_dispatch(&kvm.mmio_bus, b4 + off, &v, len, false);
	return (u32)v;
}

static __unused void wr(u64 off, u64 v, u32 len)
{
	bus_dispatch(&kvm.mmio_bus, b4 + off, &v, len, true);
}

/* The legacy register block in BAR0 (its address in b0). */
static u64 b0;

static __unused u32 lrd(u64 off, u32 len)
{
	u32 v = 0;

	bus_dispatch(&kvm.pio_bus, b0 + off, &v, len, false);
	return v;
}

static __unused void lwr(u64 off, u32 v, u32 len)
{
	bus_dispatch(&kvm.pio_bus, b0 + off, &v, len, true);
}

/* COMMAND.MASTER on (with memory decoding) or off. */
static __unused void bus_master(bool on)
{
	u32 cmd = cfg_rd(PCI_COMMAND, 2);

	cmd = on ? cmd | PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY :
		   cmd & ~PCI_COMMAND_MASTER;
	cfg_wr(PCI_COMMAND, cmd, 2);
}

/*
 * A VM without KVM (no vCPU, no irqchip): RAM, the two buses, the host
 * bridge, and one virtio-pci device made from @ops, found on bus 0, its
 * BAR4 in b4.  Three TAP checks; @what names the device in the second.
 */
static void fixture_setup(const struct virtio_device_ops *ops,
			  enum virtio_transport_kind transport,
			  struct virtio_device **vdev, const char *what)
{
	static struct lkvm_config cfg;
	u32 id = 0;

	memset(&kvm, 0, sizeof(kvm));
	kvm.cfg = &cfg;
	kvm.sys_fd = kvm.vm_fd = -1;
	pthread_mutex_init(&kvm.stop_lock, NULL);
	evloop_init(&kvm.loop);
	bus_init(&kvm.pio_bus, "pio");
	bus_init(&kvm.mmio_bus, "mmio");
	guest_mem_add(&kvm.mem, 0, sizeof(fixture_ram), fixture_ram);

	is_int(pci_host__init(&kvm, &kvm.pio_bus), 0, "host bridge");
	is_int(virtio_pci__create(&kvm, ops, NULL, transport, vdev), 0, what);
	for (slot = 0; slot < PCI_MAX_DEVICES; slot++) {
		pci__cfg_read(&kvm, 0, slot, 0, 0, &id, 4);
		if ((id & 0xffff) == 0x1af4)
			break;
	}
	ok(slot < PCI_MAX_DEVICES && *vdev, "found on bus 0");
	b4 = bar_addr(4);
}

#endif

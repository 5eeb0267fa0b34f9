// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-pci registers as a driver drives them, without /dev/kvm: common
 * config (feature words, queue selection and sizing, vectors, freezing at
 * DRIVER_OK, reset), ISR and INTx status, MSI-X through BAR1 with route
 * pushes.  The legacy register block is tests/unit/virtio/pci-legacy.c.
 */
#include <errno.h>
#include <string.h>

#include <linux/virtio_pci.h>

#include "lkvm/hw.h"
#include "lkvm/irq.h"
#include "lkvm/kvm.h"
#include "lkvm/pci.h"
#include "lkvm/virtio-transport.h"
#include "tap.h"
#include "virtio-pci-fixture.h"

static u64 b1;

static int find_msix_cap(void)
{
	u32 off = cfg_rd(PCI_CAPABILITY_LIST, 1);

	for (int n = 0; off && n < 48; n++) {
		if (cfg_rd(off, 1) == PCI_CAP_ID_MSIX)
			return (int)off;
		off = cfg_rd(off + 1, 1);
	}
	return -1;
}

static void test_common(struct virtio_device *vdev)
{
	wr(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	wr(VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	ok(rd(VIRTIO_PCI_COMMON_DF, 4) & 1, "VERSION_1 offered (bit 32)");
	wr(VIRTIO_PCI_COMMON_DFSELECT, 7, 4);
	is_int(rd(VIRTIO_PCI_COMMON_DF, 4), 0, "feature word 7 reads 0");

	wr(VIRTIO_PCI_COMMON_Q_SELECT, 9, 2);
	is_int(rd(VIRTIO_PCI_COMMON_Q_SIZE, 2), 0,
	       "out-of-range queue reads size 0");
	wr(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	is_int(rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0,
	       "enabling a nonexistent queue does nothing");

	wr(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	is_int(rd(VIRTIO_PCI_COMMON_Q_SIZE, 2), 256, "queue 0 max size 256");
	is_int(rd(VIRTIO_PCI_COMMON_Q_NOFF, 2), 0, "queue 0 notify_off 0");
	wr(VIRTIO_PCI_COMMON_Q_MSIX, 7, 2);
	is_int(rd(VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR,
	       "vector beyond the table reads NO_VECTOR");
	wr(VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	is_int(rd(VIRTIO_PCI_COMMON_Q_MSIX, 2), 1, "vector 1 accepted");
	wr(VIRTIO_PCI_COMMON_MSIX, 3, 2);
	is_int(rd(VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR,
	       "config vector 3 of 3 refused");

	wr(VIRTIO_PCI_COMMON_Q_SIZE, 100, 2);
	wr(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	is_int(rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0,
	       "size 100 (not a power of two): queue stays disabled");
	wr(VIRTIO_PCI_COMMON_Q_SIZE, 512, 2);
	is_int(rd(VIRTIO_PCI_COMMON_Q_SIZE, 2), 100,
	       "size above the maximum ignored");
	wr(VIRTIO_PCI_COMMON_Q_SIZE, 64, 2);
	wr(VIRTIO_PCI_COMMON_Q_DESCLO, 0x10000, 4);
	wr(VIRTIO_PCI_COMMON_Q_DESCHI, 0, 4);
	wr(VIRTIO_PCI_COMMON_Q_AVAILLO, 0x11000, 8);
	wr(VIRTIO_PCI_COMMON_Q_USEDLO, 0x12000, 4);
	wr(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	is_int(rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1, "queue 0 enabled");
	ok(vdev->queues[0].ring.size == 64 &&
	   vdev->queues[0].ring.desc_gpa == 0x10000 &&
	   vdev->queues[0].ring.avail_gpa == 0x11000 &&
	   vdev->queues[0].ring.used_gpa == 0x12000,
	   "enable stored size and ring addresses (64-bit write too)");
	wr(VIRTIO_PCI_COMMON_Q_DESCLO, 0x20000, 4);
	is_int(vdev->queues[0].ring.desc_gpa, 0x10000,
	       "an enabled queue's address is frozen");
	wr(VIRTIO_PCI_COMMON_Q_SIZE, 0x40, 4);
	wr(VIRTIO_PCI_COMMON_STATUS, 0x12345678, 4);
	is_int(rd(VIRTIO_PCI_COMMON_STATUS, 1), 0, "wrong-width writes ignored");

	wr(VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	   VIRTIO_CONFIG_S_DRIVER, 1);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	wr(VIRTIO_PCI_COMMON_GF, 0, 4);
	wr(VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
	ok(!(rd(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_FEATURES_OK),
	   "modern driver without VERSION_1: FEATURES_OK refused");
	wr(VIRTIO_PCI_COMMON_GF, 1, 4);
	wr(VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
	ok(rd(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_FEATURES_OK,
	   "with VERSION_1: FEATURES_OK");
	wr(VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
	is_int(rd(VIRTIO_PCI_COMMON_STATUS, 1), 0x0f, "DRIVER_OK");
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	wr(VIRTIO_PCI_COMMON_Q_SIZE, 32, 2);
	wr(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	ok(!vdev->queues[1].enabled && vdev->queues[1].ring.size == 256,
	   "queue configuration ignored after DRIVER_OK");

	is_int(rd(VIRTIO_PCI_COMMON_Q_SELECT, 2), 1, "queue_select reads back");
	is_int(rd(0x2000 + 2, 2), 0xc3c2, "device config through BAR4");
	is_int(rd(0x2000 + 7, 2), 0, "device config read past its end: 0");

	wr(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	ok(rd(VIRTIO_PCI_COMMON_STATUS, 1) == 0 && !vdev->queues[0].enabled,
	   "reset disables the queues");
}

static void test_isr_intx(struct virtio_device *vdev)
{
	pthread_mutex_lock(&vdev->lock);
	vdev->tops->interrupt_config(vdev);
	pthread_mutex_unlock(&vdev->lock);
	ok(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT,
	   "config change: STATUS.INTERRUPT set");
	is_int(rd(0x1000, 1), VIRTIO_PCI_ISR_CONFIG, "ISR reads the config bit");
	is_int(rd(0x1000, 1), 0, "ISR read cleared it");
	ok(!(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT),
	   "STATUS.INTERRUPT follows ISR");
}

static void test_msix(struct virtio_device *vdev)
{
	int cap = find_msix_cap();
	unsigned long routes;
	u32 v, cfg0;

	ok(cap > 0, "MSI-X capability");
	cfg_wr((u32)cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	ok(cfg_rd((u32)cap + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_ENABLE,
	   "MSI-X enabled");
	routes = irq__nr_route_updates();
	v = 0xfee00000;
	bus_dispatch(&kvm.mmio_bus, b1, &v, 4, true);
	v = 0x4021;
	bus_dispatch(&kvm.mmio_bus, b1 + 8, &v, 4, true);
	is_int(irq__nr_route_updates(), routes, "masked entry: no route push");
	v = 0;
	bus_dispatch(&kvm.mmio_bus, b1 + 12, &v, 4, true);
	is_int(irq__nr_route_updates(), routes + 1,
	       "unmask pushes the routing table once");
	v = 0xffffffff;
	bus_dispatch(&kvm.mmio_bus, b1 + 0x800, &v, 4, true);
	bus_dispatch(&kvm.mmio_bus, b1 + 0x800, &v, 4, false);
	is_int(v, 0, "PBA is read-only");

	/* Vector 1 still masked: the config interrupt pends. */
	wr(VIRTIO_PCI_COMMON_MSIX, 1, 2);
	pthread_mutex_lock(&vdev->lock);
	vdev->tops->interrupt_config(vdev);
	pthread_mutex_unlock(&vdev->lock);
	bus_dispatch(&kvm.mmio_bus, b1 + 0x800, &v, 4, false);
	is_int(v, 2, "masked config vector: PBA bit 1");
	ok(!(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT),
	   "no INTx with MSI-X enabled");
	rd(0x1000, 1);

	cfg0 = lrd(VIRTIO_PCI_CONFIG_OFF(true), 1);
	is_int(cfg0, 0xc0, "legacy device config moves to 0x18 with MSI-X");
	lwr(VIRTIO_MSI_CONFIG_VECTOR, 0, 2);
	is_int(lrd(VIRTIO_MSI_CONFIG_VECTOR, 2), 0, "legacy config vector");
	cfg_wr((u32)cap + PCI_MSIX_FLAGS, 0, 2);
	is_int(lrd(VIRTIO_PCI_CONFIG_OFF(false), 1), 0xc0,
	       "and back to 0x14 without");
}

static u32 pba(void)
{
	u32 v = 0;

	bus_dispatch(&kvm.mmio_bus, b1 + 0x800, &v, 4, false);
	return v;
}

/*
 * An MSI is a memory write by the device: with COMMAND.MASTER clear none
 * may leave, whether the vector was pending and gets unmasked or the
 * device raises NEEDS_RESET.  Both wait in the PBA until mastering is on.
 */
static void test_msix_bus_master(struct virtio_device *vdev)
{
	int cap = find_msix_cap();
	u32 v;

	bus_master(false);
	wr(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	cfg_wr((u32)cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	v = 0xfee00000;
	bus_dispatch(&kvm.mmio_bus, b1 + 16, &v, 4, true);
	v = 0x4022;
	bus_dispatch(&kvm.mmio_bus, b1 + 16 + 8, &v, 4, true);
	v = 0;
	bus_dispatch(&kvm.mmio_bus, b1 + 16 + 12, &v, 4, true);
	/* What test_msix() left pending goes out; then mastering off. */
	bus_master(true);
	bus_master(false);

	wr(VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	   VIRTIO_CONFIG_S_DRIVER, 1);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	wr(VIRTIO_PCI_COMMON_GF, 1, 4);
	wr(VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
	wr(VIRTIO_PCI_COMMON_MSIX, 1, 2);
	wr(VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
	is_int(pba(), 0, "bus master off, DRIVER_OK: nothing pending");
	/* Clearing status bits without a reset: NEEDS_RESET, config irq. */
	wr(VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
	ok(vdev->broken, "device broken (NEEDS_RESET)");
	is_int(pba(), 2,
	       "NEEDS_RESET interrupt waits in the PBA while bus mastering is off");
	v = 1;
	bus_dispatch(&kvm.mmio_bus, b1 + 16 + 12, &v, 4, true);
	v = 0;
	bus_dispatch(&kvm.mmio_bus, b1 + 16 + 12, &v, 4, true);
	is_int(pba(), 2, "unmasking a pending vector without bus mastering: still pending");
	bus_master(true);
	is_int(pba(), 0, "bus mastering on delivers it");
	bus_master(false);
	wr(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	cfg_wr((u32)cap + PCI_MSIX_FLAGS, 0, 2);
}

/*
 * --virtio-transport pci-modern: device ID 0x1040 + type, revision 1, no
 * legacy I/O BAR, and a driver must accept VERSION_1 (virtio 1.2, 4.1.2).
 */
static void test_modern_only(void)
{
	u8 transitional = slot;
	u64 tb4 = b4;
	struct virtio_device *m = NULL;
	u32 id = 0;

	is_int(cfg_rd(PCI_DEVICE_ID, 2), 0x1005,
	       "pci: transitional device ID 0x1000 + (type - 1)");
	is_int(cfg_rd(PCI_REVISION_ID, 1), 0, "pci: revision 0");

	is_int(virtio_pci__create(&kvm, &t_ops, NULL,
				  VIRTIO_TRANSPORT_PCI_MODERN, &m), 0,
	       "pci-modern device created");
	for (slot = transitional + 1; slot < PCI_MAX_DEVICES; slot++) {
		pci__cfg_read(&kvm, 0, slot, 0, 0, &id, 4);
		if ((id & 0xffff) == 0x1af4)
			break;
	}
	if (!ok(slot < PCI_MAX_DEVICES && m, "pci-modern device on bus 0"))
		goto out;
	is_int(cfg_rd(PCI_DEVICE_ID, 2), 0x1040 + VIRTIO_ID_RNG,
	       "pci-modern: device ID 0x1040 + type");
	is_int(cfg_rd(PCI_REVISION_ID, 1), 1, "pci-modern: revision 1");
	is_int(cfg_rd(PCI_SUBSYSTEM_ID, 2), VIRTIO_ID_RNG,
	       "pci-modern: subsystem ID is the type");
	cfg_wr(PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	is_int(cfg_rd(PCI_BASE_ADDRESS_0, 4), 0,
	       "pci-modern: no BAR0, so no legacy register block");
	b4 = bar_addr(4);
	ok(b4 != 0, "pci-modern: BAR4 holds the modern structures");
	wr(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	wr(VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	   VIRTIO_CONFIG_S_DRIVER, 1);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	wr(VIRTIO_PCI_COMMON_GF, 0, 4);
	wr(VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
	ok(!(rd(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_FEATURES_OK) &&
	   !m->legacy, "pci-modern: no VERSION_1, no FEATURES_OK");
	wr(VIRTIO_PCI_COMMON_GF, 1, 4);
	wr(VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
	ok(rd(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_FEATURES_OK,
	   "pci-modern: VERSION_1 accepted");
	wr(VIRTIO_PCI_COMMON_STATUS, 0, 1);
out:
	slot = transitional;
	b4 = tb4;
}

int main(void)
{
	struct virtio_device *vdev = NULL;

	tap_plan(56);
	fixture_setup(&t_ops, VIRTIO_TRANSPORT_PCI, &vdev,
		      "virtio-pci device created");
	b0 = bar_addr(0);
	b1 = bar_addr(1);

	test_common(vdev);
	test_isr_intx(vdev);
	test_msix(vdev);
	test_msix_bus_master(vdev);
	test_modern_only();

	kvm__exit(&kvm);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_transport__create() owns the device's private data from the call
 * on: every failure, on either transport and at every stage, frees it
 * exactly once through ops->free, and a device that was created frees it
 * once at VM exit.  Before, devices guessed ownership from whether the
 * number of exit hooks had changed, which other hooks (the MSI routing
 * table's, registered on the first GSI) made wrong.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/hw.h"
#include "lkvm/kvm.h"
#include "lkvm/virtio-transport.h"
#include "tap.h"

static struct kvm kvm;
static struct lkvm_config cfg;
static u8 ram[1 << 20];
static int nr_freed;

static void t_free(void *priv)
{
	nr_freed++;
	free(priv);
}

static void t_handle_queue(struct virtio_device *vdev __unused,
			   struct virtio_queue *q __unused)
{
}

static const struct virtio_device_ops t_ops = {
	.name = "test",
	.device_id = VIRTIO_ID_RNG,
	.nr_queues = 1,
	.queue_max_size = 64,
	.handle_queue = t_handle_queue,
	.free = t_free,
};

static void fake_vm_init(void)
{
	memset(&kvm, 0, sizeof(kvm));
	kvm.cfg = &cfg;
	kvm.sys_fd = kvm.vm_fd = -1;
	pthread_mutex_init(&kvm.stop_lock, NULL);
	evloop_init(&kvm.loop);
	bus_init(&kvm.pio_bus, "pio");
	bus_init(&kvm.mmio_bus, "mmio");
	guest_mem_add(&kvm.mem, 0, sizeof(ram), ram);
	pci_host__init(&kvm, &kvm.pio_bus);
}

/* Creates a device from @ops; returns the error and how often it freed. */
static int create(const struct virtio_device_ops *ops,
		  enum virtio_transport_kind kind, int *freed)
{
	int before = nr_freed, ret;

	ret = virtio_transport__create(&kvm, kind, ops, malloc(64), NULL);
	*freed = nr_freed - before;
	return ret;
}

static void noop_hook(void *opaque __unused)
{
}

int main(void)
{
	struct virtio_device_ops bad = t_ops, legacy = t_ops;
	unsigned int hooks;
	int ret, freed;

	tap_plan(13);
	fake_vm_init();

	ret = create(&t_ops, (enum virtio_transport_kind)99, &freed);
	ok(ret == -EINVAL && freed == 1, "unknown transport: -EINVAL, freed once");

	/*
	 * The first virtio-pci device allocates MSI GSIs, which registers
	 * the routing table's exit hook, then fails in the core.
	 */
	bad.queue_max_size = 0;
	hooks = kvm.nr_exit_hooks;
	ret = create(&bad, VIRTIO_TRANSPORT_PCI, &freed);
	ok(ret == -EINVAL && freed == 1,
	   "pci, core refuses the ops after the GSIs: freed once");
	ok(kvm.nr_exit_hooks == hooks + 1,
	   "only the routing table's hook was left behind");
	ret = create(&bad, VIRTIO_TRANSPORT_MMIO, &freed);
	ok(ret == -EINVAL && freed == 1, "mmio, core refuses the ops: freed once");

	legacy.device_id = 42;	/* no transitional PCI ID */
	ret = create(&legacy, VIRTIO_TRANSPORT_PCI_LEGACY, &freed);
	ok(ret == -ENOTSUP && freed == 1, "pci-legacy without an ID: freed once");

	/* No room for the core's exit hook: nothing may stay behind. */
	hooks = kvm.nr_exit_hooks;
	while (kvm.nr_exit_hooks < KVM_MAX_EXIT_HOOKS)
		kvm__on_exit(&kvm, noop_hook, NULL);
	ret = create(&t_ops, VIRTIO_TRANSPORT_MMIO, &freed);
	ok(ret < 0 && freed == 1, "mmio, exit hooks full: freed once");
	ret = create(&t_ops, VIRTIO_TRANSPORT_PCI_MODERN, &freed);
	ok(ret < 0 && freed == 1, "pci, exit hooks full: freed once");
	ok(kvm.nr_exit_hooks == KVM_MAX_EXIT_HOOKS, "no hook was added");
	kvm.nr_exit_hooks = hooks;

	/* Created: the device's data lives until VM exit, then goes once. */
	ret = create(&t_ops, VIRTIO_TRANSPORT_MMIO, &freed);
	ok(!ret && !freed, "mmio device created, data kept");
	ret = create(&t_ops, VIRTIO_TRANSPORT_PCI, &freed);
	ok(!ret && !freed, "pci device created, data kept");
	freed = nr_freed;
	kvm__exit(&kvm);
	is_int(nr_freed - freed, 2, "VM exit freed both, once each");

	/* Every mmio slot taken: each failure frees. */
	fake_vm_init();
	freed = 0;
	do {
		int f;

		ret = create(&t_ops, VIRTIO_TRANSPORT_MMIO, &f);
		freed = f;
	} while (!ret);
	ok(ret == -ENOSPC && freed == 1, "mmio slots exhausted: freed once");
	freed = nr_freed;
	kvm__exit(&kvm);
	ok(nr_freed > freed, "the devices created before it freed at exit");
	return tap_done();
}

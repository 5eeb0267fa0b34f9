// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio devices the command line asks for, all on the one transport
 * --virtio-transport names.  Called from kvm__init() before the kernel is
 * loaded, since virtio-mmio slots end up on the kernel command line.
 */
#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/virtio.h"
#include "devices.h"

int virtio__init_devices(struct kvm *kvm)
{
	const struct lkvm_config *cfg = kvm->cfg;
	enum virtio_transport_kind kind = cfg->virtio_transport;
	int ret = 0;

	/* The console first: it is hvc0 whatever else exists. */
	if (cfg->console == CONSOLE_VIRTIO)
		ret = virtio_console__create(kvm, kind, NULL);
	/* Then the extra ports: hvc1, hvc2, ... in order. */
	for (unsigned int i = 0; !ret && i < cfg->nr_console_ports; i++)
		ret = virtio_console__create_port(kvm, kind,
						  &cfg->console_ports[i], NULL);
	/* In command-line order, so the first -d is vda. */
	for (unsigned int i = 0; !ret && i < cfg->nr_disks; i++)
		ret = virtio_blk__create(kvm, &cfg->disks[i], i, kind, NULL);
	for (unsigned int i = 0; !ret && i < cfg->nr_nets; i++)
		ret = virtio_net__create(kvm, &cfg->nets[i], i, kind, NULL);
	for (unsigned int i = 0; !ret && i < cfg->nr_p9; i++)
		ret = virtio_9p__create(kvm, &cfg->p9[i], kind, NULL, NULL);
	if (!ret && cfg->rng)
		ret = virtio_rng__create(kvm, kind, NULL);
	if (!ret && cfg->balloon)
		ret = virtio_balloon__create(kvm, kind, NULL);
	return ret;
}

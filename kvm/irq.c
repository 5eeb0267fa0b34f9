// SPDX-License-Identifier: GPL-2.0
/*
 * GSI routing, irqfd and ioeventfd.  KVM_SET_GSI_ROUTING replaces the whole
 * table, so the table lives here: the arch's default irqchip routes first,
 * then one route per allocated MSI GSI that has been programmed: an MSI
 * route, or an irqchip route where the board turns the message into a
 * wired input (arch__msi_to_line: arm's GICv2m, whose MSIs KVM's own MSI
 * path would drop for want of an ITS).
 *
 * One VM per process, like the PCI host: the table is the process's,
 * created on first use and freed at VM exit.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lkvm/irq.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"

#define IRQ_MAX_ROUTES		1024	/* well below KVM's 4096 */
#define IRQ_ARCH_ROUTES_MAX	64

struct irq_table {
	pthread_mutex_t lock;
	bool init;
	struct kvm *kvm;
	struct kvm_irq_routing *r;	/* header + IRQ_MAX_ROUTES entries */
	u32 msi_base;			/* first GSI for MSI routes */
	u32 next_gsi;
	u32 max_gsi;			/* exclusive */
	int any_length;			/* -1 unknown, else 0/1 */
};

static struct irq_table irq_table = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.any_length = -1,
};
static atomic_ulong irq_route_updates;

/*
 * Level-triggered lines that several devices may drive (PCI INTx pins are
 * shared once there are more devices than pins).  KVM_IRQ_LINE gives all
 * of userspace one interrupt source, so the last caller would decide the
 * level; instead the line is the OR of the devices' levels, kept as a
 * count of asserting devices.  The lock is a leaf.
 */
#define IRQ_SHARED_LINES	256

static struct {
	pthread_mutex_t lock;
	u16 asserted[IRQ_SHARED_LINES];
} irq_shared = { .lock = PTHREAD_MUTEX_INITIALIZER };

int irq__set_shared_level(struct kvm *kvm, unsigned int line, bool *cur,
			  bool level)
{
	int ret = 0;

	if (line >= IRQ_SHARED_LINES)
		return -EINVAL;
	pthread_mutex_lock(&irq_shared.lock);
	if (*cur != level) {
		*cur = level;
		if (level && irq_shared.asserted[line]++ == 0)
			ret = kvm__set_irq_line(kvm, line, 1);
		else if (!level && --irq_shared.asserted[line] == 0)
			ret = kvm__set_irq_line(kvm, line, 0);
	}
	pthread_mutex_unlock(&irq_shared.lock);
	return ret;
}

static void irq__free(void *opaque __unused)
{
	pthread_mutex_lock(&irq_table.lock);
	free(irq_table.r);
	irq_table.r = NULL;
	irq_table.init = false;
	irq_table.kvm = NULL;
	irq_table.any_length = -1;
	pthread_mutex_unlock(&irq_table.lock);
}

/* Caller holds the lock. */
static int irq__init_locked(struct kvm *kvm)
{
	struct kvm_irq_routing_entry def[IRQ_ARCH_ROUTES_MAX];
	unsigned int n;
	u32 first_free = 0;
	int ret;

	if (irq_table.init)
		return irq_table.kvm == kvm ? 0 : -EBUSY;

	irq_table.r = calloc(1, sizeof(*irq_table.r) +
			     IRQ_MAX_ROUTES * sizeof(irq_table.r->entries[0]));
	if (!irq_table.r)
		return -ENOMEM;
	ret = kvm__on_exit(kvm, irq__free, NULL);
	if (ret) {
		free(irq_table.r);
		irq_table.r = NULL;
		return ret;
	}
	n = arch__irq_default_routes(def, ARRAY_SIZE(def), &first_free);
	memcpy(irq_table.r->entries, def, n * sizeof(def[0]));
	irq_table.r->nr = n;
	irq_table.msi_base = irq_table.next_gsi = first_free;
	irq_table.max_gsi = IRQ_MAX_ROUTES;
	if (kvm->vm_fd >= 0) {
		/* KVM_CAP_IRQ_ROUTING answers with the number of GSIs. */
		int nr = ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION,
			       KVM_CAP_IRQ_ROUTING);

		if (nr > 0 && (u32)nr < irq_table.max_gsi)
			irq_table.max_gsi = (u32)nr;
	}
	irq_table.kvm = kvm;
	irq_table.init = true;
	return 0;
}

/* Caller holds the lock. */
static int irq__push_locked(struct kvm *kvm)
{
	atomic_fetch_add_explicit(&irq_route_updates, 1, memory_order_relaxed);
	if (kvm->vm_fd < 0)
		return 0;
	if (ioctl(kvm->vm_fd, KVM_SET_GSI_ROUTING, irq_table.r)) {
		int err = errno;

		pr_err("KVM_SET_GSI_ROUTING (%u routes): %s", irq_table.r->nr,
		       strerror(err));
		return -err;
	}
	return 0;
}

unsigned long irq__nr_route_updates(void)
{
	return atomic_load_explicit(&irq_route_updates, memory_order_relaxed);
}

int irq__alloc_msi_gsi(struct kvm *kvm)
{
	int ret;

	pthread_mutex_lock(&irq_table.lock);
	ret = irq__init_locked(kvm);
	if (!ret) {
		if (irq_table.next_gsi >= irq_table.max_gsi)
			ret = -ENOSPC;
		else
			ret = (int)irq_table.next_gsi++;
	}
	pthread_mutex_unlock(&irq_table.lock);
	return ret;
}

static struct kvm_irq_routing_entry *irq__find_locked(u32 gsi)
{
	for (u32 i = 0; i < irq_table.r->nr; i++) {
		if (irq_table.r->entries[i].gsi == gsi)
			return &irq_table.r->entries[i];
	}
	return NULL;
}

/*
 * Drops @gsi's route from the table (caller holds the lock); whether to
 * push the table is the caller's business.  Only MSI GSIs, whatever their
 * route became.
 */
static bool irq__drop_locked(u32 gsi)
{
	struct kvm_irq_routing_entry *slot;

	if (gsi < irq_table.msi_base)
		return false;
	slot = irq__find_locked(gsi);
	if (!slot)
		return false;
	*slot = irq_table.r->entries[--irq_table.r->nr];
	return true;
}

int irq__update_msi(struct kvm *kvm, u32 gsi, u64 addr, u32 data, u32 devid,
		    bool valid_devid)
{
	struct kvm_irq_routing_entry e = {
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_MSI,
		.flags = valid_devid ? KVM_MSI_VALID_DEVID : 0,
		.u.msi = {
			.address_lo = (u32)addr,
			.address_hi = (u32)(addr >> 32),
			.data = data,
		},
	};
	struct kvm_irq_routing_entry *slot;
	unsigned int line;
	int ret, kind;

	if (valid_devid)
		e.u.msi.devid = devid;
	kind = arch__msi_to_line(kvm, addr, data, &line);
	if (kind > 0) {
		/*
		 * The message is a wired input: route the GSI to it.  All
		 * zero first, the union's MSI bytes too, so the unchanged
		 * test below compares like with like.
		 */
		memset(&e, 0, sizeof(e));
		e.gsi = gsi;
		e.type = KVM_IRQ_ROUTING_IRQCHIP;
		e.u.irqchip.pin = line;
	}

	pthread_mutex_lock(&irq_table.lock);
	ret = irq__init_locked(kvm);
	if (ret)
		goto out;
	/* Only GSIs handed out by irq__alloc_msi_gsi(); never an irqchip's. */
	if (gsi < irq_table.msi_base || gsi >= irq_table.next_gsi) {
		ret = -EINVAL;
		goto out;
	}
	if (kind < 0) {
		/* Goes nowhere: no route, so no stale one fires either. */
		if (irq__drop_locked(gsi))
			irq__push_locked(kvm);
		ret = kind;
		goto out;
	}
	slot = irq__find_locked(gsi);
	if (slot && !memcmp(slot, &e, sizeof(e)))
		goto out;	/* unchanged: spare KVM the RCU update */
	if (!slot) {
		if (irq_table.r->nr >= IRQ_MAX_ROUTES) {
			ret = -ENOSPC;
			goto out;
		}
		slot = &irq_table.r->entries[irq_table.r->nr++];
	}
	*slot = e;
	ret = irq__push_locked(kvm);
out:
	pthread_mutex_unlock(&irq_table.lock);
	return ret;
}

bool irq__msi_needs_devid(struct kvm *kvm)
{
	if (kvm->vm_fd < 0)
		return false;
	return ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MSI_DEVID) > 0;
}

int irq__remove_route(struct kvm *kvm, u32 gsi)
{
	int ret;

	pthread_mutex_lock(&irq_table.lock);
	ret = irq__init_locked(kvm);
	if (!ret)
		ret = irq__drop_locked(gsi) ? irq__push_locked(kvm) : -ENOENT;
	pthread_mutex_unlock(&irq_table.lock);
	return ret;
}

int irq__signal_msi(struct kvm *kvm, u64 addr, u32 data, u32 devid,
		    bool valid_devid)
{
	struct kvm_msi msi = {
		.address_lo = (u32)addr,
		.address_hi = (u32)(addr >> 32),
		.data = data,
		.flags = valid_devid ? KVM_MSI_VALID_DEVID : 0,
		.devid = valid_devid ? devid : 0,
	};
	static atomic_bool warned;
	unsigned int line;
	int ret;

	if (kvm->vm_fd < 0)
		return -ENODEV;
	ret = arch__msi_to_line(kvm, addr, data, &line);
	if (ret > 0) {
		/* An edge: the line's inputs latch it (GICv2m SPIs). */
		ret = kvm__set_irq_line(kvm, line, 1);
		if (!ret)
			ret = kvm__set_irq_line(kvm, line, 0);
		return ret;
	}
	if (!ret) {
		ret = ioctl(kvm->vm_fd, KVM_SIGNAL_MSI, &msi);
		/*
		 * > 0: delivered.  0: not delivered; on x86 the guest masked
		 * its LAPIC, its business; with device IDs (arm ITS) the ITS
		 * could not translate the (device, event) pair.  A guest
		 * that has not mapped it yet (driver set-up, tear-down) gets
		 * that too, so it is no warning: only an error is.
		 */
		if (ret == 0 && valid_devid) {
			pr_debug("MSI %#llx <- %#x (device %#x): the ITS has no translation for it",
				 (unsigned long long)addr, data, devid);
			return -ENOENT;
		}
		if (ret >= 0)
			return 0;
		ret = -errno;
	}
	if (!atomic_exchange_explicit(&warned, true, memory_order_relaxed))
		pr_warn("injecting the MSI %#llx <- %#x (device %#x) failed: %s; "
			"further failures are not reported",
			(unsigned long long)addr, data, valid_devid ? devid : 0,
			strerror(-ret));
	return ret;
}

int irq__irqfd(struct kvm *kvm, int fd, u32 gsi, int resample_fd,
	       bool assign)
{
	struct kvm_irqfd irqfd = {
		.fd = (u32)fd,
		.gsi = gsi,
	};

	if (kvm->vm_fd < 0)
		return -ENODEV;
	if (!assign) {
		irqfd.flags = KVM_IRQFD_FLAG_DEASSIGN;
	} else if (resample_fd >= 0) {
		irqfd.flags = KVM_IRQFD_FLAG_RESAMPLE;
		irqfd.resamplefd = (u32)resample_fd;
	}
	return ioctl(kvm->vm_fd, KVM_IRQFD, &irqfd) ? -errno : 0;
}

bool ioeventfd__any_length(struct kvm *kvm)
{
	bool ret;

	if (kvm->sys_fd < 0 && kvm->vm_fd < 0)
		return false;
	pthread_mutex_lock(&irq_table.lock);
	if (irq_table.any_length < 0) {
		int fd = kvm->vm_fd >= 0 ? kvm->vm_fd : kvm->sys_fd;

		irq_table.any_length =
			ioctl(fd, KVM_CHECK_EXTENSION,
			      KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0;
	}
	ret = irq_table.any_length > 0;
	pthread_mutex_unlock(&irq_table.lock);
	return ret;
}

static int ioeventfd__ctl(struct kvm *kvm, u64 addr, u32 len, int fd,
			  u32 flags, u64 datamatch, bool assign)
{
	struct kvm_ioeventfd ioev = {
		.addr = addr,
		.len = len,
		.fd = fd,
		.datamatch = (flags & IOEVENTFD_DATAMATCH) ? datamatch : 0,
	};

	if (kvm->vm_fd < 0)
		return -ENODEV;
	if (len != 0 && len != 1 && len != 2 && len != 4 && len != 8)
		return -EINVAL;
	/* KVM refuses these combinations; say so before it does. */
	if (!len && (flags & IOEVENTFD_DATAMATCH))
		return -EINVAL;
	if (flags & IOEVENTFD_PIO)
		ioev.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (flags & IOEVENTFD_DATAMATCH)
		ioev.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
	if (!assign)
		ioev.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	return ioctl(kvm->vm_fd, KVM_IOEVENTFD, &ioev) ? -errno : 0;
}

int ioeventfd__add(struct kvm *kvm, u64 addr, u32 len, int fd, u32 flags,
		   u64 datamatch)
{
	return ioeventfd__ctl(kvm, addr, len, fd, flags, datamatch, true);
}

int ioeventfd__del(struct kvm *kvm, u64 addr, u32 len, int fd, u32 flags,
		   u64 datamatch)
{
	return ioeventfd__ctl(kvm, addr, len, fd, flags, datamatch, false);
}

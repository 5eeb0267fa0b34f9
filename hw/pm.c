// SPDX-License-Identifier: GPL-2.0
/*
 * ACPI fixed-feature PM1a registers at the ports QEMU's PC machine
 * (SeaBIOS) uses, so bare-metal guests shut down the same way under lkvm
 * and under QEMU:
 *
 *   evt + 0  PM1_STS  16-bit, write 1 to clear; PWRBTN_STS (bit 8)
 *   evt + 2  PM1_EN   16-bit; PWRBTN_EN (bit 8)
 *   cnt + 0  PM1_CNT  16-bit; SCI_EN (bit 0), SLP_EN (bit 13) powers off
 *
 * The power button is the only event source.  The SCI is a level: it is
 * asserted while SCI_EN is set and an enabled status bit is set, and
 * drops when the guest clears the status (or the enable).  The FADT has
 * no SMI_CMD, so the machine is always in ACPI mode and SCI_EN starts set.
 *
 * vCPU threads (register accesses) and the main thread (the button) share
 * the state under one mutex; the line is driven under it too, so the
 * levels KVM sees follow the register updates in order.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/bus.h"
#include "lkvm/exit.h"
#include "lkvm/hw.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"

#define PM1_STS_PWRBTN	(1u << 8)
#define PM1_EN_PWRBTN	(1u << 8)
#define PM1_CNT_SCI_EN	(1u << 0)
#define PM1_CNT_SLP_EN	(1u << 13)
/* SCI_EN, BM_RLD and SLP_TYP hold what is written; GBL_RLS/SLP_EN read 0. */
#define PM1_CNT_STORED	(PM1_CNT_SCI_EN | (1u << 1) | (7u << 10))

struct pm {
	struct kvm *kvm;
	pthread_mutex_t lock;
	unsigned int sci;
	bool sci_level;		/* what the line was last driven to */
	u16 sts, en, cnt;
};

/* Called with pm->lock held. */
static void pm__update_sci(struct pm *pm)
{
	bool level = (pm->cnt & PM1_CNT_SCI_EN) && (pm->sts & pm->en);

	if (level == pm->sci_level)
		return;
	pm->sci_level = level;
	kvm__set_irq_line(pm->kvm, pm->sci, level);
}

static void pm__evt_io(void *opaque, u64 offset, void *data, u32 len,
		       bool is_write)
{
	struct pm *pm = opaque;
	u8 *b = data;

	pthread_mutex_lock(&pm->lock);
	/* Byte by byte: a dword access spans both registers. */
	for (u32 i = 0; i < len; i++) {
		unsigned int at = (unsigned int)offset + i;
		unsigned int shift = 8 * (at & 1);
		u16 *reg = at < 2 ? &pm->sts : &pm->en;

		if (!is_write)
			b[i] = (u8)(*reg >> shift);
		else if (at < 2)
			pm->sts &= (u16)~((u16)b[i] << shift);
		else
			pm->en = (u16)(((pm->en & ~(0xffu << shift)) |
					((u16)b[i] << shift)) & PM1_EN_PWRBTN);
	}
	if (is_write)
		pm__update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

static void pm__cnt_io(void *opaque, u64 offset, void *data, u32 len,
		       bool is_write)
{
	struct pm *pm = opaque;
	bool off = false;
	u16 v;

	pthread_mutex_lock(&pm->lock);
	v = pm->cnt;
	/* The bus only passes accesses inside the 2-byte register. */
	if (!is_write) {
		memcpy(data, (u8 *)&v + offset, len);
	} else {
		memcpy((u8 *)&v + offset, data, len);
		off = v & PM1_CNT_SLP_EN;
		pm->cnt = v & PM1_CNT_STORED;
		pm__update_sci(pm);
	}
	pthread_mutex_unlock(&pm->lock);
	if (off) {
		pr_info("guest powered off");
		kvm__request_stop(pm->kvm, LKVM_EXIT_POWEROFF);
	}
}

int pm__press_power_button(struct pm *pm)
{
	if (!pm)
		return -ENOTSUP;
	pthread_mutex_lock(&pm->lock);
	pm->sts |= PM1_STS_PWRBTN;
	pm__update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

static void pm__free(void *opaque)
{
	struct pm *pm = opaque;

	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

int pm__init(struct kvm *kvm, struct bus *bus, u64 evt_port, u64 cnt_port,
	     unsigned int sci, struct pm **out)
{
	struct pm *pm = calloc(1, sizeof(*pm));
	int ret;

	if (!pm)
		return -ENOMEM;
	pm->kvm = kvm;
	pm->sci = sci;
	pm->cnt = PM1_CNT_SCI_EN;
	pthread_mutex_init(&pm->lock, NULL);
	ret = bus_register(bus, evt_port, 4, pm__evt_io, pm, "acpi-pm1a-evt");
	if (ret)
		goto err_free;
	ret = bus_register(bus, cnt_port, 2, pm__cnt_io, pm, "acpi-pm1a-cnt");
	if (ret)
		goto err_evt;
	ret = kvm__on_exit(kvm, pm__free, pm);
	if (ret)
		goto err_cnt;
	*out = pm;
	return 0;

err_cnt:
	bus_unregister(bus, cnt_port);
err_evt:
	bus_unregister(bus, evt_port);
err_free:
	pm__free(pm);
	return ret;
}

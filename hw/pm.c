// SPDX-License-Identifier: GPL-2.0
/*
 * Power-off through an ACPI PM1a control register at the port QEMU's PC
 * machine (SeaBIOS) uses, 0x604: setting SLP_EN powers off.  Bare-metal
 * guests thus shut down the same way under lkvm and under QEMU.
 */
#include <pthread.h>
#include <string.h>

#include "lkvm/exit.h"
#include "lkvm/hw.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"

#define PM1_CNT_SLP_EN	(1u << 13)

struct pm {
	struct kvm *kvm;
	pthread_mutex_t lock;	/* any vCPU may write the register */
	u16 cnt;
};

static void pm__io(void *opaque, u64 offset, void *data, u32 len,
		   bool is_write)
{
	struct pm *pm = opaque;
	bool off = false;
	u16 v;

	pthread_mutex_lock(&pm->lock);
	v = pm->cnt;
	/* The bus only passes accesses inside the 2-byte register. */
	if (!is_write) {
		/* SLP_EN always reads back as zero. */
		memcpy(data, (u8 *)&v + offset, len);
	} else {
		memcpy((u8 *)&v + offset, data, len);
		off = v & PM1_CNT_SLP_EN;
		if (!off)
			pm->cnt = v;
	}
	pthread_mutex_unlock(&pm->lock);
	if (off) {
		pr_info("guest powered off");
		kvm__request_stop(pm->kvm, LKVM_EXIT_POWEROFF);
	}
}

int pm__init(struct kvm *kvm, struct bus *bus, u64 port)
{
	static struct pm pm = { .lock = PTHREAD_MUTEX_INITIALIZER };

	pm.kvm = kvm;
	pm.cnt = 0;
	return bus_register(bus, port, 2, pm__io, &pm, "acpi-pm1a-cnt");
}

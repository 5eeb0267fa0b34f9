// SPDX-License-Identifier: GPL-2.0
/*
 * hw/pm.c: the PM1a event block and the SCI it drives.  The power button
 * sets PWRBTN_STS; the SCI follows (PM1_STS & PM1_EN) while SCI_EN is set
 * and drops when the guest clears the status; SLP_EN still powers off.
 * kvm__set_irq_line is wrapped to record the line's level.
 */
#include <errno.h>
#include <string.h>

#include "lkvm/exit.h"
#include "lkvm/hw.h"
#include "lkvm/kvm.h"
#include "tap.h"

#define EVT	0x600
#define CNT	0x604
#define SCI	9

static struct kvm kvm;
static struct lkvm_config cfg;
static int sci_level = -1, sci_calls;

int __wrap_kvm__set_irq_line(struct kvm *k, unsigned int irq, int level);
int __wrap_kvm__set_irq_line(struct kvm *k, unsigned int irq, int level)
{
	(void)k;
	if (irq == SCI) {
		sci_level = level;
		sci_calls++;
	}
	return 0;
}

static u16 in16(u64 port)
{
	u16 v = 0xdead;

	bus_dispatch(&kvm.pio_bus, port, &v, 2, false);
	return v;
}

static void out16(u64 port, u16 v)
{
	bus_dispatch(&kvm.pio_bus, port, &v, 2, true);
}

int main(void)
{
	struct pm *pm = NULL;
	u32 d;
	u8 b;

	tap_plan(22);
	kvm.cfg = &cfg;
	kvm.sys_fd = kvm.vm_fd = -1;
	pthread_mutex_init(&kvm.stop_lock, NULL);
	evloop_init(&kvm.loop);
	bus_init(&kvm.pio_bus, "pio");
	bus_init(&kvm.mmio_bus, "mmio");

	is_int(pm__press_power_button(NULL), -ENOTSUP,
	       "no PM device: the button is -ENOTSUP");
	is_int(pm__init(&kvm, &kvm.pio_bus, EVT, CNT, SCI, &pm), 0, "init");
	is_int(in16(EVT), 0, "PM1_STS reads 0 at reset");
	is_int(in16(EVT + 2), 0, "PM1_EN reads 0 at reset");
	is_int(in16(CNT) & 1, 1, "SCI_EN set at reset (always in ACPI mode)");

	/* A guest that never enables the button ignores it. */
	is_int(pm__press_power_button(pm), 0, "button pressed, not enabled");
	is_int(in16(EVT) & 0x100, 0x100, "PWRBTN_STS set");
	is_int(sci_calls, 0, "no SCI while PWRBTN_EN is clear");

	/* Enabling with the status pending raises the SCI at once. */
	out16(EVT + 2, 0x0100);
	is_int(in16(EVT + 2), 0x100, "PWRBTN_EN reads back");
	is_int(sci_level, 1, "SCI asserted when a pending event is enabled");

	/* Writing 0 to the status leaves it; writing 1 clears it. */
	out16(EVT, 0);
	is_int(in16(EVT) & 0x100, 0x100, "writing 0 leaves PWRBTN_STS");
	is_int(sci_level, 1, "SCI still asserted");
	out16(EVT, 0x0100);
	is_int(in16(EVT), 0, "writing 1 clears PWRBTN_STS");
	is_int(sci_level, 0, "SCI deasserted once the status is clear");

	/* A dword access spans both registers. */
	sci_calls = 0;
	pm__press_power_button(pm);
	is_int(sci_level, 1, "second press: SCI asserted");
	d = 0;
	bus_dispatch(&kvm.pio_bus, EVT, &d, 4, false);
	is_int(d, 0x01000100, "dword read: status and enable");
	d = 0x00000100;		/* clear the status and disable */
	bus_dispatch(&kvm.pio_bus, EVT, &d, 4, true);
	ok(in16(EVT) == 0 && in16(EVT + 2) == 0 && sci_level == 0,
	   "dword write: status cleared, enable cleared, SCI low");
	is_int(sci_calls, 2, "one assert, one deassert: no redundant calls");

	/* SCI_EN clear: events go nowhere (there is no SMI). */
	out16(EVT + 2, 0x0100);
	out16(CNT, 0);
	pm__press_power_button(pm);
	is_int(sci_level, 0, "SCI_EN clear: no SCI");
	out16(CNT, 1);
	is_int(sci_level, 1, "setting SCI_EN raises the pending SCI");

	/* SLP_EN powers off and reads back as zero. */
	ok(!kvm__stopping(&kvm), "still running");
	b = 0x20;		/* SLP_EN is bit 13: the high byte's bit 5 */
	bus_dispatch(&kvm.pio_bus, CNT + 1, &b, 1, true);
	ok(kvm__stopping(&kvm) && kvm.exit_code == LKVM_EXIT_POWEROFF &&
	   !(in16(CNT) & 0x2000), "SLP_EN: powered off, reads back 0");

	kvm__exit(&kvm);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The PC board: which of the hw/ devices exist on x86 and at which ports
 * and IRQs, following the standard PC layout so Linux finds them without
 * being told.
 */
#include <errno.h>

#include "arch/acpi.h"
#include "lkvm/control.h"
#include "lkvm/hw.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"

#define COM1_PORT	0x3f8
#define COM1_IRQ	4
#define RTC_PORT	0x70
#define DEBUG_EXIT_PORT	0xf4

int arch__init_devices(struct kvm *kvm)
{
	struct bus *pio = &kvm->pio_bus;
	int ret;

	/* With --console virtio, COM1 exists but is wired to nothing. */
	ret = serial8250__init(kvm, pio, COM1_PORT, COM1_IRQ,
			       kvm->cfg->console == CONSOLE_SERIAL);
	if (!ret)
		ret = rtc__init(kvm, pio, RTC_PORT);
	if (!ret)
		ret = i8042__init(kvm, pio);
	if (!ret)
		ret = pci_host__init(kvm, pio);
	if (!ret)
		ret = pm__init(kvm, pio, ACPI_PM1A_EVT_PORT,
			      ACPI_PM1A_CNT_PORT, ACPI_SCI_IRQ,
			      &kvm->arch.pm);
	if (!ret && kvm->cfg->debug_exit)
		ret = debug_exit__init(kvm, pio, DEBUG_EXIT_PORT);
	if (ret)
		pr_err("cannot set up the PC devices: error %d", ret);
	return ret;
}

/* The ACPI fixed-feature power button; the guest decides what it means. */
int arch__request_poweroff(struct kvm *kvm)
{
	return pm__press_power_button(kvm->arch.pm);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The PC board: which of the hw/ devices exist on x86 and at which ports
 * and IRQs, following the standard PC layout so Linux finds them without
 * being told.
 */
#include "lkvm/hw.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"

#define COM1_PORT	0x3f8
#define COM1_IRQ	4
#define RTC_PORT	0x70
#define DEBUG_EXIT_PORT	0xf4
#define PM1A_CNT_PORT	0x604	/* where QEMU's PC machine has it */

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
		ret = pm__init(kvm, pio, PM1A_CNT_PORT);
	if (!ret && kvm->cfg->debug_exit)
		ret = debug_exit__init(kvm, pio, DEBUG_EXIT_PORT);
	if (ret)
		pr_err("cannot set up the PC devices: error %d", ret);
	return ret;
}

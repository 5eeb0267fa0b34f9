// SPDX-License-Identifier: GPL-2.0
/*
 * The arm64 board: the 16550A UART and the PCI host bridge behind an
 * ECAM window, all on the MMIO bus at the addresses in arch/layout.h
 * (the device tree tells the guest).  The UART is the console unless
 * --console virtio asked for hvc0.  No RTC: the MC146818 has no arm64
 * driver in Linux.
 */
#include <errno.h>

#include "lkvm/control.h"
#include "lkvm/hw.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"

int arch__init_devices(struct kvm *kvm)
{
	int ret;

	/* With --console virtio the UART stays, unwired (as in kvmtool). */
	ret = serial8250__init(kvm, &kvm->mmio_bus, ARM_UART_BASE, ARM_UART_SPI,
			       kvm->cfg->console == CONSOLE_SERIAL);
	if (!ret)
		ret = pci_ecam__init(kvm);
	if (ret)
		pr_err("cannot set up the arm64 board devices: error %d", ret);
	return ret;
}

/*
 * No guest-visible power button on arm64 yet (a PL061 with a gpio-keys
 * KEY_POWER is the plan): `lkvm stop` goes straight to its forced stop.
 */
int arch__request_poweroff(struct kvm *kvm __unused)
{
	return -ENOTSUP;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The arm64 board: the 16550A UART, a PL061 GPIO whose line 3 is the
 * power key (gpio-keys, as on QEMU's virt) and the PCI host bridge behind
 * an ECAM window, all on the MMIO bus at the addresses in arch/layout.h
 * (the device tree tells the guest).  The UART is the console unless
 * --console virtio asked for hvc0.  No RTC: the MC146818 has no arm64
 * driver in Linux.
 */

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
		ret = pl061__init(kvm, &kvm->mmio_bus, ARM_PL061_BASE,
				  ARM_PL061_SPI, &kvm->arch.pl061);
	if (!ret)
		ret = pci_ecam__init(kvm);
	if (ret)
		pr_err("cannot set up the arm64 board devices: error %d", ret);
	return ret;
}

/*
 * A press of the gpio-keys KEY_POWER: Linux's gpio-keys reports it,
 * systemd-logind, acpid or busybox init's handler decides what it means;
 * a guest without gpio-keys ignores it and lkvm stop forces the stop.
 */
int arch__request_poweroff(struct kvm *kvm)
{
	return pl061__press(kvm->arch.pl061, ARM_PL061_POWER_LINE,
			    ARM_PL061_PRESS_MS);
}

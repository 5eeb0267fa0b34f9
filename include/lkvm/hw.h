/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_HW_H
#define LKVM_HW_H

#include "lkvm/types.h"

struct kvm;
struct bus;
struct pm;

/* Board devices in hw/; each registers itself on the bus it is given. */
int serial8250__init(struct kvm *kvm, struct bus *bus, u64 base,
		     unsigned int irq, bool is_console);
int rtc__init(struct kvm *kvm, struct bus *bus, u64 base);
int i8042__init(struct kvm *kvm, struct bus *bus);
int pci_host__init(struct kvm *kvm, struct bus *bus);
int debug_exit__init(struct kvm *kvm, struct bus *bus, u64 port);
/*
 * ACPI PM1a event block at @evt_port (4 bytes) and control register at
 * @cnt_port, raising @sci; *@out is freed at VM exit.
 */
int pm__init(struct kvm *kvm, struct bus *bus, u64 evt_port, u64 cnt_port,
	     unsigned int sci, struct pm **out);
/* Sets PWRBTN_STS, raising the SCI if the guest enabled it; any thread. */
int pm__press_power_button(struct pm *pm);

#endif

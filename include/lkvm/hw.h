/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_HW_H
#define LKVM_HW_H

#include "lkvm/types.h"

struct kvm;
struct bus;
struct pm;
struct pl061;

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

/* ARM PL061 GPIO controller: 8 lines, 4 KiB of registers, one interrupt. */
#define PL061_LINES	8
#define PL061_SIZE	0x1000ULL
/* At @base on @bus, raising @irq (level); *@out is freed at VM exit. */
int pl061__init(struct kvm *kvm, struct bus *bus, u64 base, unsigned int irq,
		struct pl061 **out);
/* The board drives input @line to @level; any thread.  -ENOTSUP if !@g. */
int pl061__set_input(struct pl061 *g, unsigned int line, bool level);
/*
 * A key on input @line: pressed (high) now, released @hold_ms later by a
 * timer on the main loop; pressing a held key restarts the hold.
 */
int pl061__press(struct pl061 *g, unsigned int line, unsigned int hold_ms);

#endif

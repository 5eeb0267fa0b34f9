/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_HW_H
#define LKVM_HW_H

#include "lkvm/types.h"

struct kvm;
struct bus;

/* Board devices in hw/; each registers itself on the bus it is given. */
int serial8250__init(struct kvm *kvm, struct bus *bus, u64 base,
		     unsigned int irq, bool is_console);
int rtc__init(struct kvm *kvm, struct bus *bus, u64 base);
int i8042__init(struct kvm *kvm, struct bus *bus);
int pci_host__init(struct kvm *kvm, struct bus *bus);
int debug_exit__init(struct kvm *kvm, struct bus *bus, u64 port);
int pm__init(struct kvm *kvm, struct bus *bus, u64 port);

#endif

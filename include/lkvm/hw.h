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

/* Terminal handling for the console; restored on every exit path. */
void term__init(void);
/* The console's fds: stdin/stdout, or the pty of term__open_pty(). */
int term__in_fd(void);
int term__out_fd(void);
/* --tty N: moves the console to a new pty and prints its name. */
int term__open_pty(unsigned int n);
void term__restore(void);
bool term__is_raw(void);
bool term__output_lost(void);
void term__output_failed(const char *who, int err);

#endif

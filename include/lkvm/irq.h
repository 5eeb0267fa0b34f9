/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_IRQ_H
#define LKVM_IRQ_H

/*
 * Interrupt plumbing into KVM: the GSI routing table (kept here and pushed
 * whole with KVM_SET_GSI_ROUTING), MSI routes, irqfds and ioeventfds.
 *
 * Every function is safe from any thread; the routing table has its own
 * lock, which is a leaf (taken under device locks, never the reverse).
 * With kvm->vm_fd < 0 (unit tests) nothing reaches KVM: routing changes
 * are kept and succeed, irqfd/ioeventfd calls return -ENODEV, and callers
 * fall back to their slow paths.
 */
#include <linux/kvm.h>

#include "lkvm/types.h"

struct kvm;

/* Allocates a GSI for an MSI route (above the irqchip's), or -ENOSPC. */
/*
 * Drives a shared level-triggered line (PCI INTx) to the OR of all its
 * devices' levels; @cur is the calling device's own level, updated here.
 */
int irq__set_shared_level(struct kvm *kvm, unsigned int line, bool *cur,
			  bool level);

int irq__alloc_msi_gsi(struct kvm *kvm);
/*
 * Points @gsi at the MSI (@addr, @data) and pushes the table.  With
 * @valid_devid, @devid is the requester ID (KVM_MSI_VALID_DEVID, which the
 * arm ITS needs).  A message arch__msi_to_line() maps to an irqchip line
 * gets an irqchip route to that line instead; one that reaches nothing
 * gets no route and -EINVAL.
 */
int irq__update_msi(struct kvm *kvm, u32 gsi, u64 addr, u32 data, u32 devid,
		    bool valid_devid);
/* Whether MSIs must carry a device ID here (KVM_CAP_MSI_DEVID: arm ITS). */
bool irq__msi_needs_devid(struct kvm *kvm);
/* Removes @gsi's route (the GSI stays allocated). */
int irq__remove_route(struct kvm *kvm, u32 gsi);
/*
 * Injects one MSI directly (KVM_SIGNAL_MSI, or an edge on the line
 * arch__msi_to_line names): the path without an irqfd.  The first
 * failure is reported with a warning.
 */
int irq__signal_msi(struct kvm *kvm, u64 addr, u32 data, u32 devid,
		    bool valid_devid);

/*
 * Binds (@assign) or unbinds eventfd @fd to @gsi.  @resample_fd >= 0 makes
 * it a level-triggered irqfd (KVM_IRQFD_FLAG_RESAMPLE).
 */
int irq__irqfd(struct kvm *kvm, int fd, u32 gsi, int resample_fd,
	       bool assign);

/* Number of times the table was pushed (tests, statistics). */
unsigned long irq__nr_route_updates(void);

#define IOEVENTFD_PIO		(1u << 0)	/* port I/O, else MMIO */
#define IOEVENTFD_DATAMATCH	(1u << 1)	/* only when the value matches */

/*
 * Guest writes of @len bytes (0: any length, only when KVM has
 * KVM_CAP_IOEVENTFD_ANY_LENGTH; never with DATAMATCH) to @addr signal @fd
 * inside KVM, without an exit to lkvm.  -ENODEV without a VM.
 */
int ioeventfd__add(struct kvm *kvm, u64 addr, u32 len, int fd, u32 flags,
		   u64 datamatch);
int ioeventfd__del(struct kvm *kvm, u64 addr, u32 len, int fd, u32 flags,
		   u64 datamatch);
/* Whether length-0 (any width) ioeventfds work on this host. */
bool ioeventfd__any_length(struct kvm *kvm);

/*
 * Arch hook (<arch>/irq.c): the routes the irqchip needs by default (on
 * x86 the IOAPIC pins and the PIC inputs), since KVM_SET_GSI_ROUTING
 * replaces KVM's own default table.  Fills at most @max entries and
 * returns how many, and sets @first_free to the first GSI past them.
 */
unsigned int arch__irq_default_routes(struct kvm_irq_routing_entry *e,
				      unsigned int max, u32 *first_free);

/*
 * Arch hook: what a device's MSI (@addr, @data) really is on this board.
 * 0: a message for KVM's MSI controller (KVM_IRQ_ROUTING_MSI,
 * KVM_SIGNAL_MSI).  1: a wired irqchip input, *@line (a GSI with an
 * irqchip route, as kvm__set_irq_line takes it), edge-triggered: arm's
 * GICv2m frame turns a write of an SPI number to its doorbell into that
 * SPI, which KVM's MSI path would drop.  -EINVAL: the message reaches
 * nothing here (a doorbell the board lacks, an SPI outside the frame).
 */
int arch__msi_to_line(struct kvm *kvm, u64 addr, u32 data, unsigned int *line);

#endif

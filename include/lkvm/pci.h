/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_PCI_H
#define LKVM_PCI_H

#include <linux/pci_regs.h>

#include "lkvm/types.h"

#define PCI_CFG_SPACE		256
#define PCI_MAX_DEVICES		32	/* bus 0 only, function 0 only */

struct kvm;
struct pci_device;

/*
 * A function on bus 0.  Config space is a plain byte array; @wmask says
 * which bits the guest may change, so read-only fields stay read-only
 * without per-device code.  @cfg_write, if set, runs after a write has
 * been applied (to act on BAR or command changes).
 */
struct pci_device {
	const char *name;
	u8 dev;			/* slot number, filled in by pci__register() */
	u8 cfg[PCI_CFG_SPACE];
	u8 wmask[PCI_CFG_SPACE];
	void (*cfg_write)(struct pci_device *pdev, u32 offset, u32 len);
	void *opaque;
};

/* Sets the standard header fields (type 0) and their write masks. */
void pci__init_header(struct pci_device *pdev, u16 vendor, u16 device,
		      u32 class_code, u8 revision);
/* Puts @pdev in the first free slot (or -ENOSPC). */
int pci__register(struct kvm *kvm, struct pci_device *pdev);

/* Config space accessors used by every transport (0xcf8/0xcfc, ECAM). */
void pci__cfg_read(struct kvm *kvm, u8 bus, u8 dev, u8 fn, u32 offset,
		   void *data, u32 len);
void pci__cfg_write(struct kvm *kvm, u8 bus, u8 dev, u8 fn, u32 offset,
		    const void *data, u32 len);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_PCI_H
#define LKVM_PCI_H

#include <linux/pci_regs.h>

#include "lkvm/bus.h"
#include "lkvm/types.h"

#define PCI_CFG_SPACE		256
#define PCI_MAX_DEVICES		32	/* bus 0 only, function 0 only */
#define PCI_NR_BARS		6
#define PCI_CAP_START		0x40	/* first byte after the type 0 header */

struct kvm;
struct pci_device;

enum pci_bar_type {
	PCI_BAR_NONE,
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,		/* takes this BAR and the next */
};

/*
 * A BAR: its decoder follows the guest-programmed address in config space
 * and the decode enables in COMMAND.  @mapped/@addr say where it is on the
 * bus right now; they change only under the host's config lock.
 */
struct pci_bar {
	enum pci_bar_type type;
	u64 size;		/* power of two */
	bus_handler_t handler;
	void *opaque;
	const char *name;
	bool mapped;		/* registered on the bus */
	u64 addr;		/* valid if @mapped */
};

/*
 * A function on bus 0.  Config space is a plain byte array; @wmask says
 * which bits the guest may change, so read-only fields stay read-only
 * without per-device code.
 *
 * Callbacks run on the vCPU thread doing the config access, under the
 * host's config lock (which serialises config transactions, so they
 * arrive in order) but never under the lock protecting @cfg: they may
 * take their device's own locks and call pci__cfg_peek/poke.  Nothing
 * that holds a device lock may start a config transaction.
 */
struct pci_device {
	const char *name;
	struct kvm *kvm;
	u8 dev;			/* slot number, filled in by pci__register() */
	u8 cfg[PCI_CFG_SPACE];
	u8 wmask[PCI_CFG_SPACE];
	u16 cap_end;		/* where the next capability goes */
	u16 last_cap;		/* offset of the last capability, 0 if none */
	int intx_line;		/* irqchip input for INTA, -1 if none */
	struct pci_bar bars[PCI_NR_BARS];

	/* After a guest write has been applied (BARs already moved). */
	void (*cfg_write)(struct pci_device *pdev, u32 offset,
			  const void *data, u32 len);
	/* After a read was served from @cfg; may overwrite @data. */
	void (*cfg_read)(struct pci_device *pdev, u32 offset, void *data,
			 u32 len);
	/* BAR @bar was (un)mapped or moved; @addr is valid if @mapped. */
	void (*bar_moved)(struct pci_device *pdev, unsigned int bar,
			  bool mapped, u64 addr);
	/* COMMAND.MASTER changed. */
	void (*bus_master)(struct pci_device *pdev, bool enabled);
	void *opaque;
};

/* Sets the standard header fields (type 0) and their write masks. */
void pci__init_header(struct pci_device *pdev, u16 vendor, u16 device,
		      u32 class_code, u8 revision);
void pci__set_subsystem(struct pci_device *pdev, u16 vendor, u16 device);

/*
 * Declares BAR @bar (before pci__register): allocates an address from the
 * arch window, naturally aligned, and sets the read-only type bits and the
 * write mask that makes sizing work.  @size is a power of two (>= 16 for
 * memory, >= 4 for I/O).  Accesses reach @handler with offsets relative to
 * the BAR.
 */
int pci__add_bar(struct pci_device *pdev, unsigned int bar,
		 enum pci_bar_type type, u64 size, bus_handler_t handler,
		 void *opaque, const char *name);

/*
 * Appends a capability: @data is the whole structure, including the two
 * header bytes (id and next), which this fills in.  Returns its offset in
 * config space, or -ENOSPC / -EINVAL.  Its bytes are read-only until the
 * caller sets @wmask for them.
 */
int pci__add_cap(struct pci_device *pdev, u8 id, const void *data, u32 len);

/*
 * The function uses INTx: sets the interrupt pin to INTA; pci__register()
 * picks the irqchip input (level-triggered) the arch wires it to, writes
 * it to INTERRUPT_LINE and @intx_line.
 */
void pci__use_intx(struct pci_device *pdev);

/*
 * Puts @pdev in the first free slot (or -ENOSPC) and, as firmware would,
 * enables decoding of the BARs it has.  bar_moved() is called for each.
 */
int pci__register(struct kvm *kvm, struct pci_device *pdev);

/* Config space accessors used by every transport (0xcf8/0xcfc, ECAM). */
void pci__cfg_read(struct kvm *kvm, u8 bus, u8 dev, u8 fn, u32 offset,
		   void *data, u32 len);
void pci__cfg_write(struct kvm *kvm, u8 bus, u8 dev, u8 fn, u32 offset,
		    const void *data, u32 len);

/*
 * Device-side access to its own config bytes (no write mask, no
 * callbacks).  Safe from any thread, with or without device locks held.
 */
void pci__cfg_peek(struct pci_device *pdev, u32 offset, void *data, u32 len);
void pci__cfg_poke(struct pci_device *pdev, u32 offset, const void *data,
		   u32 len);
/* Sets or clears bits in a 16-bit config register (e.g. STATUS). */
void pci__cfg_update16(struct pci_device *pdev, u32 offset, u16 clear,
		       u16 set);

/* Allocators for the BAR windows; 0, or -ENOSPC when exhausted. */
int pci__alloc_mmio(u64 size, u64 *addr);
int pci__alloc_io(u64 size, u64 *addr);

/*
 * MSI-X table and PBA emulation (virtio/msix.c), pure state with callbacks
 * so it is tested without KVM.  The caller serialises every call (the
 * device lock).  Entry layout is the PCI one: address low/high, data,
 * vector control (bit 0: mask); 16 bytes each.
 */
#define MSIX_MAX_VECTORS	64

struct msix_ops {
	/* Vector @vec's message changed and it may fire: update its route. */
	void (*update)(void *opaque, unsigned int vec, u64 addr, u32 data);
	/* Deliver @vec now (its route is current). */
	void (*fire)(void *opaque, unsigned int vec);
};

struct msix_entry {
	u32 addr_lo, addr_hi, data, ctrl;
};

struct msix_table {
	unsigned int nr;
	struct msix_entry entries[MSIX_MAX_VECTORS];
	u64 pba;			/* pending bits */
	u64 dirty;			/* message changed, route not updated */
	bool enabled;			/* MSI-X Enable in Message Control */
	bool func_masked;		/* Function Mask in Message Control */
	bool no_bus_master;		/* COMMAND.MASTER clear: hold messages */
	const struct msix_ops *ops;
	void *opaque;
};

/* @nr vectors (1..MSIX_MAX_VECTORS), all masked, MSI-X disabled. */
int msix_init(struct msix_table *t, unsigned int nr,
	      const struct msix_ops *ops, void *opaque);
/*
 * Accesses to the table (offset from its start) and to the PBA.  Only
 * aligned 4- and 8-byte accesses inside them count; anything else is
 * ignored and reads 0.  The PBA is read-only.  Returns whether the access
 * was honoured.
 */
bool msix_table_access(struct msix_table *t, u64 offset, void *data,
		       u32 len, bool is_write);
bool msix_pba_access(struct msix_table *t, u64 offset, void *data, u32 len,
		     bool is_write);
static inline u32 msix_table_size(const struct msix_table *t)
{
	return t->nr * PCI_MSIX_ENTRY_SIZE;
}
static inline u32 msix_pba_size(const struct msix_table *t)
{
	return ((t->nr + 63) / 64) * 8;
}
/* The Message Control bits changed (config space write). */
void msix_set_control(struct msix_table *t, bool enabled, bool func_masked);
/*
 * COMMAND.MASTER changed.  An MSI is a memory write by the function, so
 * without bus mastering a signal only sets its pending bit; mastering
 * coming back delivers what is pending on unmasked vectors.  A table
 * starts with mastering allowed.
 */
void msix_set_bus_master(struct msix_table *t, bool enabled);
/*
 * Signals @vec: delivered through ops->fire() if unmasked and bus
 * mastering is on, else its pending bit is set and it is delivered when
 * both hold again.  Returns 1 delivered,
 * 0 pending, -EINVAL for a vector that does not exist or with MSI-X
 * disabled.
 */
int msix_notify(struct msix_table *t, unsigned int vec);
bool msix_masked(const struct msix_table *t, unsigned int vec);
bool msix_pending(const struct msix_table *t, unsigned int vec);

/*
 * Arch hooks (<arch>/irq.c): where PCI BARs may go (the windows the
 * firmware tables declare for the host bridge), and which irqchip input
 * INTA of slot @dev is wired to.
 */
struct pci_windows {
	u64 mmio_start, mmio_end;	/* [start, end) */
	u64 io_start, io_end;
};
void arch__pci_windows(struct pci_windows *w);
unsigned int arch__pci_intx_line(unsigned int dev);

#endif

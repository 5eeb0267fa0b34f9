// SPDX-License-Identifier: GPL-2.0
/*
 * MSI-X table and pending-bit array (PCI Local Bus 3.0, section 6.8.2).
 *
 * A vector delivers only while it is "live": MSI-X enabled, the function
 * not masked, its own mask bit clear.  Otherwise a signal sets its pending
 * bit, and the transition to live delivers it.  The message is pushed to
 * the route (ops->update) lazily: a driver reprograms a masked entry one
 * dword at a time, and only the finished message matters, so the route is
 * updated when the entry goes live, or at once if the driver rewrites a
 * live entry.  With bus mastering off a live vector still gets its route
 * (that is not DMA) but its messages wait in the PBA.
 */
#include <errno.h>
#include <string.h>

#include "lkvm/pci.h"

static u64 bit(unsigned int vec)
{
	return 1ULL << vec;
}

static bool msix_live(const struct msix_table *t, unsigned int vec)
{
	return t->enabled && !t->func_masked &&
	       !(t->entries[vec].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static u64 msix_addr(const struct msix_entry *e)
{
	return (u64)e->addr_hi << 32 | e->addr_lo;
}

int msix_init(struct msix_table *t, unsigned int nr,
	      const struct msix_ops *ops, void *opaque)
{
	if (!nr || nr > MSIX_MAX_VECTORS || !ops || !ops->update || !ops->fire)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->nr = nr;
	t->ops = ops;
	t->opaque = opaque;
	/* Every entry starts masked (PCI 3.0 6.8.2.9). */
	for (unsigned int i = 0; i < nr; i++)
		t->entries[i].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT;
	return 0;
}

/* @vec may have become live: bring its route up to date, then deliver. */
static void msix_kick(struct msix_table *t, unsigned int vec)
{
	const struct msix_entry *e = &t->entries[vec];

	if (!msix_live(t, vec))
		return;
	if (t->dirty & bit(vec)) {
		t->dirty &= ~bit(vec);
		t->ops->update(t->opaque, vec, msix_addr(e), e->data);
	}
	if ((t->pba & bit(vec)) && !t->no_bus_master) {
		t->pba &= ~bit(vec);
		t->ops->fire(t->opaque, vec);
	}
}

static void msix_write_dword(struct msix_table *t, unsigned int vec,
			     unsigned int reg, u32 v)
{
	struct msix_entry *e = &t->entries[vec];
	u32 *field;

	switch (reg) {
	case PCI_MSIX_ENTRY_LOWER_ADDR:
		/* Bits 1:0 are reserved: the address is dword-aligned. */
		field = &e->addr_lo;
		v &= ~3u;
		break;
	case PCI_MSIX_ENTRY_UPPER_ADDR:
		field = &e->addr_hi;
		break;
	case PCI_MSIX_ENTRY_DATA:
		field = &e->data;
		break;
	default:
		/* Vector control: only the mask bit exists. */
		e->ctrl = v & PCI_MSIX_ENTRY_CTRL_MASKBIT;
		msix_kick(t, vec);
		return;
	}
	if (*field == v)
		return;
	*field = v;
	t->dirty |= bit(vec);
	msix_kick(t, vec);
}

static u32 msix_read_dword(const struct msix_table *t, unsigned int vec,
			   unsigned int reg)
{
	const struct msix_entry *e = &t->entries[vec];

	switch (reg) {
	case PCI_MSIX_ENTRY_LOWER_ADDR:
		return e->addr_lo;
	case PCI_MSIX_ENTRY_UPPER_ADDR:
		return e->addr_hi;
	case PCI_MSIX_ENTRY_DATA:
		return e->data;
	default:
		return e->ctrl;
	}
}

/* Aligned 4- or 8-byte access wholly inside [0, size). */
static bool msix_access_ok(u64 offset, u32 len, u32 size)
{
	return (len == 4 || len == 8) && !(offset & (len - 1)) &&
	       offset < size && len <= size - offset;
}

bool msix_table_access(struct msix_table *t, u64 offset, void *data,
		       u32 len, bool is_write)
{
	if (!msix_access_ok(offset, len, msix_table_size(t))) {
		if (!is_write)
			memset(data, 0, len);
		return false;
	}
	/* An 8-byte access is two dwords of the same entry, low first. */
	for (u32 i = 0; i < len; i += 4) {
		u64 off = offset + i;
		unsigned int vec = (unsigned int)(off / PCI_MSIX_ENTRY_SIZE);
		unsigned int reg = (unsigned int)(off % PCI_MSIX_ENTRY_SIZE);
		u32 v;

		if (is_write) {
			memcpy(&v, (u8 *)data + i, 4);
			msix_write_dword(t, vec, reg, v);
		} else {
			v = msix_read_dword(t, vec, reg);
			memcpy((u8 *)data + i, &v, 4);
		}
	}
	return true;
}

bool msix_pba_access(struct msix_table *t, u64 offset, void *data, u32 len,
		     bool is_write)
{
	if (is_write || !msix_access_ok(offset, len, msix_pba_size(t))) {
		if (!is_write)
			memset(data, 0, len);
		return false;
	}
	/* One u64 holds every bit; little-endian, as the guest sees it. */
	for (u32 i = 0; i < len; i++)
		((u8 *)data)[i] = (u8)(t->pba >> (8 * (offset + i)));
	return true;
}

void msix_set_control(struct msix_table *t, bool enabled, bool func_masked)
{
	t->enabled = enabled;
	t->func_masked = func_masked;
	for (unsigned int i = 0; i < t->nr; i++)
		msix_kick(t, i);
}

void msix_set_bus_master(struct msix_table *t, bool enabled)
{
	t->no_bus_master = !enabled;
	for (unsigned int i = 0; i < t->nr; i++)
		msix_kick(t, i);
}

int msix_notify(struct msix_table *t, unsigned int vec)
{
	if (vec >= t->nr || !t->enabled)
		return -EINVAL;
	if (!msix_live(t, vec) || t->no_bus_master) {
		t->pba |= bit(vec);
		return 0;
	}
	if (t->dirty & bit(vec)) {
		/* Cannot happen (live entries are never dirty); be safe. */
		t->dirty &= ~bit(vec);
		t->ops->update(t->opaque, vec, msix_addr(&t->entries[vec]),
			       t->entries[vec].data);
	}
	t->ops->fire(t->opaque, vec);
	return 1;
}

bool msix_masked(const struct msix_table *t, unsigned int vec)
{
	return vec >= t->nr || !msix_live(t, vec);
}

bool msix_pending(const struct msix_table *t, unsigned int vec)
{
	return vec < t->nr && (t->pba & bit(vec));
}

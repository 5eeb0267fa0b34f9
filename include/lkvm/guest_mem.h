/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_GUEST_MEM_H
#define LKVM_GUEST_MEM_H

#include "lkvm/types.h"

#define GUEST_MEM_MAX_REGIONS 8

/* One contiguous piece of guest-physical RAM backed by host memory. */
struct guest_region {
	u64 gpa;
	u64 size;
	u8 *hva;
};

struct guest_mem {
	struct guest_region regions[GUEST_MEM_MAX_REGIONS];
	unsigned int nr;
};

int guest_mem_add(struct guest_mem *gm, u64 gpa, u64 size, void *hva);

/*
 * The one way into guest memory: returns a host pointer to [gpa, gpa + len)
 * only if the whole range lies inside one RAM region, NULL otherwise
 * (including when gpa + len wraps).  A zero length is valid at any address
 * inside a region or at its end.
 */
void *guest_mem_ptr(const struct guest_mem *gm, u64 gpa, u64 len);

/* Copy helpers built on guest_mem_ptr(); return 0 or -EFAULT. */
int guest_mem_read(const struct guest_mem *gm, u64 gpa, void *buf, u64 len);
int guest_mem_write(const struct guest_mem *gm, u64 gpa, const void *buf,
		    u64 len);

/* Highest guest-physical address + 1 of any region. */
u64 guest_mem_end(const struct guest_mem *gm);

#endif

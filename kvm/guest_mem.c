// SPDX-License-Identifier: GPL-2.0
/*
 * The checked guest-memory accessor.  Every guest-physical address lkvm
 * dereferences comes through guest_mem_ptr(): it refuses ranges that leave
 * a RAM region, touch MMIO holes, or wrap around the 64-bit space.
 */
#include <errno.h>
#include <string.h>

#include "lkvm/guest_mem.h"

int guest_mem_add(struct guest_mem *gm, u64 gpa, u64 size, void *hva)
{
	if (!size || gpa + size < gpa || !hva)
		return -EINVAL;
	if (gm->nr == GUEST_MEM_MAX_REGIONS)
		return -ENOSPC;
	for (unsigned int i = 0; i < gm->nr; i++) {
		const struct guest_region *r = &gm->regions[i];

		if (gpa < r->gpa + r->size && r->gpa < gpa + size)
			return -EEXIST;
	}
	gm->regions[gm->nr++] = (struct guest_region){
		.gpa = gpa, .size = size, .hva = hva,
	};
	return 0;
}

void *guest_mem_ptr(const struct guest_mem *gm, u64 gpa, u64 len)
{
	for (unsigned int i = 0; i < gm->nr; i++) {
		const struct guest_region *r = &gm->regions[i];
		u64 off;

		if (gpa < r->gpa)
			continue;
		off = gpa - r->gpa;
		/* Written as subtractions so that no sum can wrap. */
		if (off > r->size || len > r->size - off)
			continue;
		return r->hva + off;
	}
	return NULL;
}

int guest_mem_read(const struct guest_mem *gm, u64 gpa, void *buf, u64 len)
{
	const void *p = guest_mem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int guest_mem_write(const struct guest_mem *gm, u64 gpa, const void *buf,
		    u64 len)
{
	void *p = guest_mem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

u64 guest_mem_end(const struct guest_mem *gm)
{
	u64 end = 0;

	for (unsigned int i = 0; i < gm->nr; i++) {
		const struct guest_region *r = &gm->regions[i];

		if (r->gpa + r->size > end)
			end = r->gpa + r->size;
	}
	return end;
}

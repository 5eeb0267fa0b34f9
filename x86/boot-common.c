// SPDX-License-Identifier: GPL-2.0
/*
 * Pieces shared by the bzImage and PVH loaders: the boot GDT, the identity
 * page tables for 64-bit entry, initrd placement and the command line.
 */
#include <errno.h>
#include <string.h>

#include "arch/boot.h"
#include "lkvm/guest_mem.h"
#include "lkvm/log.h"

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)
#define PAGE_SIZE	4096ULL
#define PT_ENTRIES	512

/*
 * Flat descriptors (base 0, limit 4 GiB).  The selectors 0x10/0x18 are the
 * __BOOT_CS/__BOOT_DS the 64-bit boot protocol asks for; 0x20 is a 32-bit
 * code segment for PVH entry, which only needs "a" flat code segment.
 */
static const u64 boot_gdt[BOOT_GDT_ENTRIES] = {
	0,
	0,
	0x00af9b000000ffffULL,	/* 0x10: code, L=1, DPL 0 */
	0x00cf93000000ffffULL,	/* 0x18: data, D/B=1, writable */
	0x00cf9b000000ffffULL,	/* 0x20: code, D/B=1 */
};

/*
 * Identity-maps the first 4 GiB with 2 MiB pages: enough for the kernel,
 * zero page, command line and initrd, all of which stay below 4 GiB.  2 MiB
 * pages work on every 64-bit CPU, unlike 1 GiB pages (pdpe1gb).
 */
static int boot_tables__page_tables(struct guest_mem *gm)
{
	u64 *pml4, *pdpt, *pd;

	pml4 = guest_mem_ptr(gm, BOOT_PML4_ADDR, PAGE_SIZE);
	pdpt = guest_mem_ptr(gm, BOOT_PDPT_ADDR, PAGE_SIZE);
	pd = guest_mem_ptr(gm, BOOT_PD_ADDR, 4 * PAGE_SIZE);
	if (!pml4 || !pdpt || !pd)
		return -EFAULT;

	memset(pml4, 0, PAGE_SIZE);
	memset(pdpt, 0, PAGE_SIZE);
	pml4[0] = BOOT_PDPT_ADDR | PTE_P | PTE_RW;
	for (u64 i = 0; i < 4; i++) {
		pdpt[i] = (BOOT_PD_ADDR + i * PAGE_SIZE) | PTE_P | PTE_RW;
		for (u64 j = 0; j < PT_ENTRIES; j++)
			pd[i * PT_ENTRIES + j] = (i << 30) | (j << 21) |
						 PTE_P | PTE_RW | PTE_PS;
	}
	return 0;
}

int boot_tables__setup(struct guest_mem *gm, struct x86_boot_state *bs)
{
	int ret;

	ret = guest_mem_write(gm, BOOT_GDT_ADDR, boot_gdt, sizeof(boot_gdt));
	if (ret)
		return ret;
	ret = boot_tables__page_tables(gm);
	if (ret)
		return ret;
	bs->gdt = BOOT_GDT_ADDR;
	bs->pml4 = BOOT_PML4_ADDR;
	return 0;
}

/*
 * Puts the initrd as high as possible below @limit (exclusive), page
 * aligned, but not below @lowest (the end of the kernel).  Sets *addr = 0
 * when there is no initrd.
 */
int boot__place_initrd(struct guest_mem *gm, const struct x86_load_args *a,
		       u64 lowest, u64 limit, u64 *addr)
{
	u64 start;

	*addr = 0;
	if (!a->initrd || !a->initrd_len)
		return 0;

	lowest = ALIGN_UP(lowest, PAGE_SIZE);
	if (a->initrd_len > limit || limit - a->initrd_len < lowest) {
		pr_err("initrd %s (%zu bytes) does not fit in guest RAM between 0x%llx and 0x%llx; give the guest more memory",
		       a->initrd_path ? a->initrd_path : "", a->initrd_len,
		       (unsigned long long)lowest, (unsigned long long)limit);
		return -EINVAL;
	}
	start = ALIGN_DOWN(limit - a->initrd_len, PAGE_SIZE);
	if (start < lowest || guest_mem_write(gm, start, a->initrd,
					      a->initrd_len)) {
		pr_err("initrd %s does not fit in guest RAM",
		       a->initrd_path ? a->initrd_path : "");
		return -EINVAL;
	}
	*addr = start;
	return 0;
}

/*
 * Copies the command line to BOOT_CMDLINE_ADDR, NUL-terminated.  @max_len
 * counts the NUL; a longer line is refused with -E2BIG, never cut.
 */
int boot__write_cmdline(struct guest_mem *gm, const char *cmdline,
			u64 max_len, u64 *len)
{
	size_t n = cmdline ? strlen(cmdline) : 0;
	char *dst;

	if (max_len > BOOT_CMDLINE_MAX)
		max_len = BOOT_CMDLINE_MAX;
	if (!max_len)
		return -EINVAL;
	/*
	 * Cutting it would silently drop what comes last, which includes
	 * lkvm's own virtio_mmio.device= entries: refuse instead.
	 */
	if (n > max_len - 1) {
		pr_err("kernel command line is %zu bytes; this kernel accepts at most %llu",
		       n, (unsigned long long)(max_len - 1));
		return -E2BIG;
	}
	dst = guest_mem_ptr(gm, BOOT_CMDLINE_ADDR, n + 1);
	if (!dst)
		return -EFAULT;
	if (n)
		memcpy(dst, cmdline, n);
	dst[n] = '\0';
	*len = n;
	return 0;
}

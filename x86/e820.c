// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's e820 memory map, shared by the bzImage zero page and the PVH
 * start_info memory map so both boot paths describe the same machine.
 */
#include <errno.h>

#include <asm/e820.h>

#include "arch/boot.h"

static int e820__add(struct boot_e820_entry *tbl, unsigned int max,
		     unsigned int *n, u64 addr, u64 size, u32 type)
{
	if (*n >= max)
		return -ENOSPC;
	tbl[*n] = (struct boot_e820_entry){
		.addr = addr, .size = size, .type = type,
	};
	(*n)++;
	return 0;
}

/*
 * Layout: conventional memory up to the EBDA, the EBDA and the BIOS area
 * (where the MP table lives) reserved, extended memory up to the PCI hole
 * and whatever did not fit below the hole moved up to 4 GiB.  The VGA/ROM
 * window [0xa0000, 0xf0000) is simply left out.
 */
int e820__build(u64 ram_size, struct boot_e820_entry *tbl, unsigned int max)
{
	u64 below = x86_ram_below_hole(ram_size);
	unsigned int n = 0;
	int ret;

	/* Guests need at least some extended memory to exist at all. */
	if (ram_size <= BIOS_AREA_END)
		return -EINVAL;

	ret = e820__add(tbl, max, &n, 0, EBDA_START, E820_RAM);
	if (!ret)
		ret = e820__add(tbl, max, &n, EBDA_START,
				ISA_START_ADDRESS - EBDA_START, E820_RESERVED);
	if (!ret)
		ret = e820__add(tbl, max, &n, BIOS_AREA_START,
				BIOS_AREA_END - BIOS_AREA_START, E820_RESERVED);
	if (!ret)
		ret = e820__add(tbl, max, &n, BIOS_AREA_END,
				below - BIOS_AREA_END, E820_RAM);
	if (!ret && ram_size > below)
		ret = e820__add(tbl, max, &n, X86_4G, ram_size - below,
				E820_RAM);
	return ret ? ret : (int)n;
}

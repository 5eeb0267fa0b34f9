// SPDX-License-Identifier: GPL-2.0
/* Print the e820 map and prove the top of low RAM is backed. */
#include "guest.h"

void guest_main(struct boot_info *bi)
{
	uint64_t total = 0, top = 0;
	volatile uint64_t *p;
	uint32_t i;

	for (i = 0; i < bi->e820_entries; i++) {
		const struct e820_entry *e = &bi->e820[i];
		uint64_t end = e->addr + e->size;

		printf("e820: %016lx-%016lx type %u\n", e->addr, end - 1,
		       e->type);
		if (e->type != E820_TYPE_RAM)
			continue;
		total += e->size;
		/* Only the first 4 GiB are mapped. */
		if (end <= 0x100000000ULL && end > top)
			top = end;
	}
	printf("mem: total %lu KiB\n", total >> 10);
	/*
	 * Firmware holes (640K-1M, BIOS reserved areas) only ever subtract
	 * from -m, so round up to get back to the configured size.
	 */
	printf("mem_mib=%lu\n", (total + (1 << 20) - 1) >> 20);

	if (top < 0x200000) {
		puts("mem: no RAM above 2 MiB");
		guest_exit(1);
	}
	p = (volatile uint64_t *)(uintptr_t)(top - 64);
	*p = 0x5a5aa5a5deadbeefULL ^ top;
	if (*p != (0x5a5aa5a5deadbeefULL ^ top)) {
		printf("mem: top FAILED at %lx\n", top - 64);
		guest_exit(1);
	}
	printf("mem: top ok (%lx)\n", top - 64);
	guest_exit(0);
}

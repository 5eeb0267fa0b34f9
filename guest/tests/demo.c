// SPDX-License-Identifier: GPL-2.0
/* Show what the VM looks like from inside, then power off. */
#include "guest.h"

void guest_main(struct boot_info *bi)
{
	struct mp_info mi;
	uint64_t total = 0;
	uint32_t i;
	int c;

	puts("lkvm demo guest");
	printf("cmdline: %s\n", bi->cmdline);

	if (mptable_parse(&mi)) {
		printf("vcpus: %d (apic ids:", mi.ncpus);
		for (c = 0; c < mi.ncpus; c++)
			printf(" %u%s", mi.apic_id[c], mi.bsp[c] ? "*" : "");
		puts(")");
	} else {
		puts("vcpus: no MP table");
	}

	for (i = 0; i < bi->e820_entries; i++)
		if (bi->e820[i].type == E820_TYPE_RAM)
			total += bi->e820[i].size;
	printf("memory: %lu KiB (%lu MiB)\n", total >> 10,
	       (total + (1 << 20) - 1) >> 20);

	printf("pci: %d functions on bus 0\n", pci_scan_bus0(false));
	pci_scan_bus0(true);

	puts("demo: powering off");
	guest_poweroff();
	/* QEMU acts on poweroff and reset asynchronously: give it time. */
	udelay(5000000);
	puts("demo: poweroff failed");
	guest_exit(3);
}

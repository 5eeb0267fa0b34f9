// SPDX-License-Identifier: GPL-2.0
/*
 * Poke I/O ports and MMIO nobody claims.  The VMM must not die; the values
 * read are printed for comparison but not checked.
 */
#include "guest.h"

static const uint16_t ports[] = { 0x200, 0x201, 0x204, 0x208, 0x20f, 0x510 };
static const uintptr_t mmio[] = { 0xd0000000, 0xd0001004, 0xe0000000,
				  0xe0100000 };

void guest_main(struct boot_info *bi)
{
	unsigned int i;

	(void)bi;
	for (i = 0; i < ARRAY_SIZE(ports); i++) {
		uint16_t p = ports[i];

		outb(p, 0xa5);
		printf("unclaimed: inb(%x)=%02x", p, inb(p));
		outw(p, 0xa55a);
		printf(" inw=%04x", inw(p));
		outl(p, 0xdeadbeef);
		printf(" inl=%08x\n", inl(p));
	}
	for (i = 0; i < ARRAY_SIZE(mmio); i++) {
		uintptr_t a = mmio[i];

		printf("unclaimed: mmio %lx read %08x", a, mmio_read32(a));
		mmio_write32(a, 0xcafef00d);
		printf(" after write %08x\n", mmio_read32(a));
	}
	puts("unclaimed: survived");
	guest_exit(0);
}

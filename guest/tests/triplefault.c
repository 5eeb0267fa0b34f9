// SPDX-License-Identifier: GPL-2.0
/*
 * Triple fault: with an empty IDT no exception can be delivered, so the
 * #UD below escalates to #DF and then to shutdown.  The VMM must end the
 * run with its guest-fault status rather than hang or restart the guest.
 */
#include "guest.h"

void guest_main(struct boot_info *bi)
{
	static const struct {
		unsigned short limit;
		unsigned long base;
	} __attribute__((packed)) empty_idt = { 0, 0 };

	(void)bi;
	puts("triplefault: loading an empty IDT");
	asm volatile("lidt %0\n\tud2" : : "m"(empty_idt));
	puts("triplefault: still running");
	guest_exit(1);
}

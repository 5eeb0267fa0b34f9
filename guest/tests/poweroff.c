// SPDX-License-Identifier: GPL-2.0
#include "guest.h"

void guest_main(struct boot_info *bi)
{
	(void)bi;
	puts("poweroff: bye");
	guest_poweroff();
	/* QEMU acts on poweroff and reset asynchronously: give it time. */
	udelay(5000000);
	puts("poweroff: still running");
	guest_exit(3);
}

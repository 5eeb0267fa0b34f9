// SPDX-License-Identifier: GPL-2.0
#include "guest.h"

void guest_main(struct boot_info *bi)
{
	(void)bi;
	puts("reset: bye");
	guest_reset();
	udelay(100000);
	puts("reset: still running");
	guest_exit(3);
}

// SPDX-License-Identifier: GPL-2.0
#include "guest.h"

void guest_main(struct boot_info *bi)
{
	(void)bi;
	puts("poweroff: bye");
	guest_poweroff();
	udelay(100000);
	puts("poweroff: still running");
	guest_exit(3);
}

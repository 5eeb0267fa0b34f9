// SPDX-License-Identifier: GPL-2.0
#include "guest.h"

void guest_main(struct boot_info *bi)
{
	(void)bi;
	puts("Hello from lkvm guest");
	guest_exit(0);
}

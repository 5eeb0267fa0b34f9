// SPDX-License-Identifier: GPL-2.0
/*
 * Says it is up, then halts forever with interrupts on, ignoring every
 * power-off request: a long-lived VM for the control-socket tests, which
 * stop it from the host.
 */
#include "guest.h"

void guest_main(struct boot_info *bi)
{
	(void)bi;
	puts("idle: ready");
	for (;;)
		asm volatile("sti; hlt" ::: "memory");
}

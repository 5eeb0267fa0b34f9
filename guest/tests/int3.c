// SPDX-License-Identifier: GPL-2.0
/*
 * int3 at CPL0.  Real hardware and QEMU deliver #BP to our handler; on the
 * emulated-CPL0 host KVM cannot emulate it and the VMM should report an
 * internal error instead.
 */
#include "guest.h"

static void bp_handler(struct trap_frame *tf)
{
	printf("int3: caught #BP at rip=%lx\n", tf->rip);
	guest_exit(0);
}

void guest_main(struct boot_info *bi)
{
	(void)bi;
	set_trap_handler(3, bp_handler);
	puts("int3: executing int3 at CPL0");
	asm volatile("int3");
	puts("int3: returned without a trap");
	guest_exit(1);
}

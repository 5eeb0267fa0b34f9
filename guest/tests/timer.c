// SPDX-License-Identifier: GPL-2.0
/* Count LAPIC timer interrupts in periodic mode. */
#include "guest.h"

#define TIMER_VECTOR	0x20
#define WANT_TICKS	100

static volatile int ticks;

static void timer_irq(struct trap_frame *tf)
{
	(void)tf;
	ticks++;
	lapic_eoi();
}

void guest_main(struct boot_info *bi)
{
	uint64_t end;

	(void)bi;
	set_trap_handler(TIMER_VECTOR, timer_irq);
	lapic_enable();
	end = rdtsc() + 5000 * tsc_khz();
	/* ~1 ms with the usual 1 GHz KVM/QEMU APIC clock and divide by 16. */
	lapic_timer_periodic(TIMER_VECTOR, 62500);
	while (ticks < WANT_TICKS && rdtsc() < end)
		asm volatile("sti; hlt; cli" ::: "memory");
	lapic_timer_stop();

	if (ticks < WANT_TICKS) {
		printf("timer: timeout after %d ticks\n", ticks);
		guest_exit(1);
	}
	printf("timer: %d ticks\n", WANT_TICKS);
	guest_exit(0);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Waits for the ACPI fixed-feature power button (PM1a event block at
 * 0x600, SCI on IRQ 9 as the FADT/MADT say), then powers off through
 * SLP_EN.  With ignore=1 it never enables the button and runs forever,
 * which is what `lkvm stop` must force.
 */
#include "guest.h"

#define PM1_STS		0x600
#define PM1_EN		0x602
#define PM1_CNT		0x604
#define PWRBTN		(1u << 8)
#define SCI_EN		(1u << 0)
#define SCI_PIN		9
#define SCI_VECTOR	0x30
#define TICK_VECTOR	0x20

static int pressed_by_sci;	/* sci_irq(); READ_ONCE() outside */
static int pressed_by_poll;

static void sci_irq(struct trap_frame *tf)
{
	(void)tf;
	/* Level-triggered: the status must be clear before the EOI. */
	if (inw(PM1_STS) & PWRBTN) {
		outw(PM1_STS, PWRBTN);
		WRITE_ONCE(pressed_by_sci, 1);
	}
	lapic_eoi();
}

/* A slow tick so the loop below also polls, should the SCI never come. */
static void tick_irq(struct trap_frame *tf)
{
	(void)tf;
	lapic_eoi();
}

void guest_main(struct boot_info *bi)
{
	long ignore = 0;

	(void)bi;
	if (cmdline_get_int("ignore", &ignore) && ignore) {
		puts("pwrbtn: ignoring");
		for (;;)
			asm volatile("cli; hlt" ::: "memory");
	}

	set_trap_handler(SCI_VECTOR, sci_irq);
	set_trap_handler(TICK_VECTOR, tick_irq);
	lapic_enable();
	/* Level-triggered (bit 15), active high, unmasked, to this CPU. */
	ioapic_write(0x10 + 2 * SCI_PIN, 1 << 16);
	ioapic_write(0x11 + 2 * SCI_PIN, lapic_id() << 24);
	ioapic_write(0x10 + 2 * SCI_PIN, (1 << 15) | SCI_VECTOR);

	outw(PM1_STS, 0xffff);			/* nothing stale */
	outw(PM1_EN, PWRBTN);
	if (!(inw(PM1_CNT) & SCI_EN))
		printf("pwrbtn: SCI_EN is clear (PM1_CNT 0x%x)\n", inw(PM1_CNT));
	printf("pwrbtn: armed (PM1_EN 0x%x)\n", inw(PM1_EN));

	/* ~100 ms ticks with the usual 1 GHz APIC clock, divide by 16. */
	lapic_timer_periodic(TICK_VECTOR, 6250000);
	while (!READ_ONCE(pressed_by_sci)) {
		asm volatile("sti; hlt; cli" ::: "memory");
		/* Let an SCI that is already pending in before polling. */
		asm volatile("sti; nop; cli" ::: "memory");
		if (!READ_ONCE(pressed_by_sci) && (inw(PM1_STS) & PWRBTN)) {
			outw(PM1_STS, PWRBTN);
			pressed_by_poll = 1;
			break;
		}
	}
	lapic_timer_stop();

	printf("pwrbtn: pressed (via %s)\n",
	       READ_ONCE(pressed_by_sci) ? "sci" : "poll");
	guest_poweroff();
	udelay(5000000);
	puts("pwrbtn: still running");
	guest_exit(3);
}

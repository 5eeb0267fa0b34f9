// SPDX-License-Identifier: GPL-2.0
/*
 * Serial input, interrupt driven: COM1's receive interrupt (ISA IRQ 4,
 * IOAPIC pin 4) wakes the guest, which reports each byte it reads until a
 * newline or 'q'.  Proves the host terminal -> UART FIFO -> IRQ path.
 */
#include "guest.h"

#define COM1		0x3f8
#define ECHO_VECTOR	0x24
#define MAX_BYTES	64

/* Written by com1_irq(): READ_ONCE() outside it. */
static int nr;
static bool done;
static uint8_t got[MAX_BYTES];

static void com1_irq(struct trap_frame *tf)
{
	(void)tf;
	/* Drain the FIFO: one interrupt may stand for several bytes. */
	while (inb(COM1 + 5) & 0x01) {
		uint8_t c = inb(COM1);

		if (nr < MAX_BYTES) {
			got[nr] = c;
			WRITE_ONCE(nr, nr + 1);
		}
		if (c == '\n' || c == 'q')
			WRITE_ONCE(done, true);
	}
	lapic_eoi();
}

void guest_main(struct boot_info *bi)
{
	uint64_t end;
	int n;

	(void)bi;
	set_trap_handler(ECHO_VECTOR, com1_irq);
	lapic_enable();
	ioapic_set_irq(4, ECHO_VECTOR, (uint8_t)lapic_id(), false);
	/* FIFO on, DTR|RTS|OUT2 (OUT2 gates the IRQ on a PC), RX interrupt. */
	outb(COM1 + 2, 0x01);
	outb(COM1 + 4, 0x0b);
	outb(COM1 + 1, 0x01);
	puts("echo: ready");

	end = rdtsc() + 20000 * tsc_khz();
	while (!READ_ONCE(done) && rdtsc() < end)
		asm volatile("sti; hlt; cli" ::: "memory");
	outb(COM1 + 1, 0x00);

	n = READ_ONCE(nr);
	printf("echo: %d bytes:", n);
	for (int i = 0; i < n; i++)
		printf(" %02x", got[i]);
	printf("\n");
	guest_exit(READ_ONCE(done) ? 0 : 1);
}

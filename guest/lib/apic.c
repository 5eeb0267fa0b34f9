// SPDX-License-Identifier: GPL-2.0
/* xAPIC (MMIO) and IOAPIC helpers. */
#include "../include/guest.h"

#define IOAPIC_REGSEL	0x00
#define IOAPIC_WIN	0x10
#define ICR_BUSY	(1 << 12)

uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(LAPIC_BASE + reg);
}

void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}

void lapic_enable(void)
{
	/* Software-enable with the spurious vector, which we ignore. */
	lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VECTOR);
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void lapic_send_ipi(uint32_t apic_id, uint32_t icr_lo)
{
	int spins = 1000000;

	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr_lo);
	while ((lapic_read(LAPIC_ICR_LO) & ICR_BUSY) && --spins)
		cpu_relax();
}

void lapic_timer_periodic(uint8_t vector, uint32_t count)
{
	lapic_write(LAPIC_TIMER_DIV, 0x3);		/* divide by 16 */
	lapic_write(LAPIC_LVT_TIMER, (1 << 17) | vector);	/* periodic */
	lapic_write(LAPIC_TIMER_INIT, count);
}

void lapic_timer_stop(void)
{
	lapic_write(LAPIC_LVT_TIMER, 1 << 16);	/* masked */
	lapic_write(LAPIC_TIMER_INIT, 0);
}

void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	mmio_write32(IOAPIC_BASE + IOAPIC_WIN, v);
}

uint32_t ioapic_read(uint32_t reg)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	return mmio_read32(IOAPIC_BASE + IOAPIC_WIN);
}

/* Edge triggered, active high, fixed delivery, physical destination. */
void ioapic_set_irq(int pin, uint8_t vector, uint8_t dest_apic, bool masked)
{
	/* Mask while the destination changes. */
	ioapic_write(0x10 + 2 * pin, 1 << 16);
	ioapic_write(0x11 + 2 * pin, (uint32_t)dest_apic << 24);
	ioapic_write(0x10 + 2 * pin, (masked ? 1 << 16 : 0) | vector);
}

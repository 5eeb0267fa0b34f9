// SPDX-License-Identifier: GPL-2.0
/* mptable__build()/mptable__write(): MP spec 1.4 tables for 1..N vCPUs. */
#include <errno.h>

#include "tap.h"
#include "arch/boot.h"
#include "lkvm/guest_mem.h"

static u8 sum(const u8 *p, size_t len)
{
	u8 s = 0;

	while (len--)
		s += *p++;
	return s;
}

static u16 get16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 get32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 |
	       (u32)p[3] << 24;
}

static void check(unsigned int nr, const u8 *buf, u64 gpa, int len)
{
	const struct mptable_cpu_info info = { 0x806ea, 0xbfebfbff };
	const u8 *mpc, *e;
	unsigned int cpus = 0, buses = 0, ioapics = 0, intsrc = 0, lint = 0;
	unsigned int count, bsp = 0;
	bool ids_ok = true, order_ok = true, irq0_pin2 = false;
	int last_type = 0;
	u8 ioapic_id = 0xee;

	(void)info;
	ok(len > 0, "%u cpus: built (%d bytes)", nr, len);
	ok(!memcmp(buf, "_MP_", 4), "%u cpus: floating pointer signature", nr);
	is_int(sum(buf, 16), 0, "floating pointer checksum");
	is_int(buf[8], 1, "floating pointer length 1 (16 bytes)");
	is_int(buf[9], 4, "spec revision 1.4");
	is_int(get32(buf + 4), gpa + 16, "physptr points at the table");

	mpc = buf + 16;
	ok(!memcmp(mpc, "PCMP", 4), "config table signature");
	is_int(sum(mpc, get16(mpc + 4)), 0, "config table checksum");
	is_int(16 + get16(mpc + 4), len, "table length matches");
	is_int(get32(mpc + 36), 0xfee00000, "LAPIC address");
	count = get16(mpc + 34);

	e = mpc + 44;
	for (unsigned int i = 0; i < count; i++) {
		if (e[0] < last_type)
			order_ok = false;
		last_type = e[0];
		switch (e[0]) {
		case 0:
			if (e[1] != cpus || !(e[3] & 1))
				ids_ok = false;
			if (e[3] & 2)
				bsp++;
			if (e[3] & 2 && e[1] != 0)
				ids_ok = false;
			if (get32(e + 4) != 0x806ea)
				ids_ok = false;
			cpus++;
			e += 20;
			continue;
		case 1:
			buses++;
			break;
		case 2:
			ioapics++;
			ioapic_id = e[1];
			if (get32(e + 4) != 0xfec00000 || e[2] != 0x11)
				ioapic_id = 0xee;
			break;
		case 3:
			intsrc++;
			if (e[5] == 0 && e[7] == 2 && e[6] == ioapic_id)
				irq0_pin2 = true;
			break;
		case 4:
			lint++;
			break;
		}
		e += 8;
	}
	is_int(e - mpc, get16(mpc + 4), "entries fill the table exactly");
	is_int(cpus, nr, "one processor entry per vCPU");
	ok(ids_ok, "APIC IDs are 0..n-1, enabled, signature set");
	is_int(bsp, 1, "exactly one BSP");
	is_int(buses, 2, "PCI and ISA buses");
	is_int(ioapics, 1, "one IOAPIC");
	is_int(ioapic_id, nr, "IOAPIC id = nr_cpus");
	is_int(intsrc, 15, "15 ISA interrupt entries (no cascade)");
	ok(irq0_pin2, "ISA IRQ 0 routed to IOAPIC pin 2");
	is_int(lint, 2, "ExtINT and NMI local interrupts");
	ok(order_ok, "entries sorted by type");
}

int main(void)
{
	const struct mptable_cpu_info info = { 0x806ea, 0xbfebfbff };
	static u8 buf[8192];
	struct guest_mem gm = { 0 };
	u8 *ram;
	int len;

	tap_plan(3 * 21 + 6);

	len = mptable__build(buf, sizeof(buf), MPTABLE_ADDR, 1, &info);
	check(1, buf, MPTABLE_ADDR, len);
	len = mptable__build(buf, sizeof(buf), MPTABLE_ADDR, 4, &info);
	check(4, buf, MPTABLE_ADDR, len);
	len = mptable__build(buf, sizeof(buf), MPTABLE_ADDR, 255, &info);
	check(255, buf, MPTABLE_ADDR, len);

	is_int(mptable__build(buf, 100, MPTABLE_ADDR, 4, &info), -EINVAL,
	       "too small buffer refused");
	is_int(mptable__build(buf, sizeof(buf), MPTABLE_ADDR + 4, 4, &info),
	       -EINVAL, "unaligned address refused");
	is_int(mptable__build(buf, sizeof(buf), MPTABLE_ADDR, 0, &info),
	       -EINVAL, "zero CPUs refused");

	ram = calloc(1, 2 * SZ_1M);
	guest_mem_add(&gm, 0, 2 * SZ_1M, ram);
	is_int(mptable__write(&gm, 2, &info), 0, "written to guest memory");
	ok(!memcmp(ram + MPTABLE_ADDR, "_MP_", 4) &&
	   MPTABLE_ADDR >= 0xf0000 && MPTABLE_ADDR < 0x100000,
	   "floating pointer in the BIOS area");
	free(ram);

	ram = calloc(1, 512 * SZ_1K);
	memset(&gm, 0, sizeof(gm));
	guest_mem_add(&gm, 0, 512 * SZ_1K, ram);
	is_int(mptable__write(&gm, 2, &info), -EFAULT,
	       "no RAM at the BIOS area: -EFAULT");
	free(ram);
	return tap_done();
}

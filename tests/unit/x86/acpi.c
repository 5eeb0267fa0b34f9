// SPDX-License-Identifier: GPL-2.0
/* acpi__build()/acpi__write(): RSDP, XSDT/RSDT, FADT, FACS, DSDT, MADT. */
#include <errno.h>

#include "tap.h"
#include "arch/acpi.h"
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

static u64 get64(const u8 *p)
{
	return get32(p) | (u64)get32(p + 4) << 32;
}

/*
 * The table at guest address @addr inside @buf (built for @gpa, @len
 * bytes), or NULL if it does not lie wholly inside, has the wrong
 * signature or a bad checksum.
 */
static const u8 *table(const u8 *buf, u64 gpa, int len, u64 addr,
		       const char *sig)
{
	const u8 *t;

	if (addr < gpa || addr + 36 > gpa + (u64)len)
		return NULL;
	t = buf + (addr - gpa);
	if (memcmp(t, sig, 4) || addr + get32(t + 4) > gpa + (u64)len ||
	    get32(t + 4) < 36 || sum(t, get32(t + 4)))
		return NULL;
	return t;
}

static bool has_oem_ids(const u8 *t)
{
	return !memcmp(t + 10, "LKVM  ", 6) && !memcmp(t + 16, "LKVMTABL", 8) &&
	       !memcmp(t + 28, "LKVM", 4);
}

/* Walks the MADT; returns false on any malformed entry. */
static void check_madt(unsigned int nr, const u8 *m)
{
	unsigned int lapics = 0, ioapics = 0, nmis = 0, isos = 0;
	bool ids_ok = true, walk_ok = true, irq0 = false, sci = false;
	u32 mlen = get32(m + 4);
	const u8 *e = m + 44;
	int ioapic_id = -1;

	is_int(get32(m + 36), 0xfee00000, "MADT: LAPIC address");
	is_int(get32(m + 40), 1, "MADT: PCAT_COMPAT");
	while (e < m + mlen) {
		if (e[1] < 2 || e + e[1] > m + mlen) {
			walk_ok = false;
			break;
		}
		switch (e[0]) {
		case 0:
			if (e[1] != 8 || e[2] != lapics || e[3] != lapics ||
			    get32(e + 4) != 1)
				ids_ok = false;
			lapics++;
			break;
		case 1:
			ioapics++;
			if (e[1] == 12 && get32(e + 4) == 0xfec00000 &&
			    get32(e + 8) == 0)
				ioapic_id = e[2];
			break;
		case 2:
			isos++;
			if (e[1] == 10 && e[2] == 0 && e[3] == 0 &&
			    get32(e + 4) == 2 && get16(e + 8) == 0)
				irq0 = true;
			if (e[1] == 10 && e[3] == 9 && get32(e + 4) == 9 &&
			    get16(e + 8) == 0x0d)
				sci = true;
			break;
		case 4:
			if (e[1] == 6 && e[2] == 0xff && e[5] == 1)
				nmis++;
			break;
		default:
			walk_ok = false;
		}
		e += e[1];
	}
	ok(walk_ok && e == m + mlen, "MADT: entries fill the table exactly");
	is_int(lapics, nr, "MADT: one LAPIC per vCPU");
	ok(ids_ok, "MADT: ACPI ids = APIC ids = 0..n-1, all enabled");
	is_int(ioapics, 1, "MADT: one IOAPIC at 0xfec00000, GSI base 0");
	is_int(ioapic_id, nr, "MADT: IOAPIC id = nr_cpus (as the MP table)");
	is_int(isos, 2, "MADT: two interrupt source overrides");
	ok(irq0, "MADT: ISA IRQ 0 -> GSI 2, conforming");
	ok(sci, "MADT: SCI IRQ 9 -> GSI 9, level, active high");
	is_int(nmis, 1, "MADT: LINT1 NMI for all processors");
}

/* The "_S5_" name and a PNP0A03 host bridge in the AML. */
static bool aml_has(const u8 *dsdt, const void *needle, size_t n)
{
	u32 len = get32(dsdt + 4);

	for (u32 i = 36; i + n <= len; i++)
		if (!memcmp(dsdt + i, needle, n))
			return true;
	return false;
}

static void check(unsigned int nr, const u8 *buf, u64 gpa, int len)
{
	static const u8 s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04,
				 0, 0, 0, 0 };
	static const u8 pnp0a03[] = { 0x08, '_', 'H', 'I', 'D', 0x0c,
				      0x41, 0xd0, 0x0a, 0x03 };
	const u8 *xsdt, *rsdt, *fadt, *madt, *dsdt, *facs;
	const u8 *rsdp = buf;
	u64 x_fadt, x_madt;

	ok(len > 0 && gpa + (u64)len <= ACPI_TABLES_END,
	   "%u cpus: built (%d bytes), fits below ACPI_TABLES_END", nr, len);
	if (len <= 0)
		len = 36;
	ok(!memcmp(rsdp, "RSD PTR ", 8), "RSDP signature");
	is_int(sum(rsdp, 20), 0, "RSDP checksum (20 bytes)");
	is_int(sum(rsdp, 36), 0, "RSDP extended checksum (36 bytes)");
	is_int(rsdp[15], 2, "RSDP revision 2");
	is_int(get32(rsdp + 20), 36, "RSDP length 36");

	xsdt = table(buf, gpa, len, get64(rsdp + 24), "XSDT");
	rsdt = table(buf, gpa, len, get32(rsdp + 16), "RSDT");
	ok(xsdt && get32(xsdt + 4) == 36 + 2 * 8, "XSDT valid, two entries");
	ok(rsdt && get32(rsdt + 4) == 36 + 2 * 4, "RSDT valid, two entries");
	if (!xsdt || !rsdt) {
		diag("no XSDT/RSDT: skipping the rest");
		return;
	}
	ok(has_oem_ids(xsdt) && has_oem_ids(rsdt), "OEM and creator ids");
	x_fadt = get64(xsdt + 36);
	x_madt = get64(xsdt + 44);
	ok(x_fadt == get32(rsdt + 36) && x_madt == get32(rsdt + 40),
	   "RSDT and XSDT point at the same tables");

	fadt = table(buf, gpa, len, x_fadt, "FACP");
	madt = table(buf, gpa, len, x_madt, "APIC");
	ok(fadt && get32(fadt + 4) == 276 && fadt[8] == 6,
	   "FADT valid, revision 6, 276 bytes");
	ok(madt != NULL, "MADT valid");
	if (!fadt || !madt) {
		diag("no FADT/MADT: skipping the rest");
		return;
	}

	dsdt = table(buf, gpa, len, get32(fadt + 40), "DSDT");
	ok(dsdt && get64(fadt + 140) == get32(fadt + 40),
	   "FADT: DSDT and X_DSDT point at a valid DSDT");
	facs = get32(fadt + 36) >= gpa &&
	       get32(fadt + 36) + 64 <= gpa + (u64)len ?
	       buf + (get32(fadt + 36) - gpa) : NULL;
	ok(facs && !memcmp(facs, "FACS", 4) && get32(facs + 4) == 64 &&
	   !(get32(fadt + 36) & 63), "FADT: 64-byte aligned FACS");
	is_int(get16(fadt + 46), 9, "FADT: SCI_INT 9");
	is_int(get32(fadt + 48), 0, "FADT: no SMI_CMD (always in ACPI mode)");
	is_int(get32(fadt + 64), 0x604, "FADT: PM1a_CNT_BLK 0x604");
	is_int(fadt[89], 2, "FADT: PM1_CNT_LEN 2");
	ok(fadt[172] == 1 && fadt[173] == 16 && get64(fadt + 176) == 0x604,
	   "FADT: X_PM1a_CNT_BLK is 16-bit system I/O at 0x604");
	ok(get32(fadt + 56) == 0x600 && fadt[88] == 4 && fadt[148] == 1 &&
	   fadt[149] == 32 && get64(fadt + 152) == 0x600,
	   "FADT: PM1a_EVT_BLK 0x600, 4 bytes, X_ form agrees");
	ok(get32(fadt + 112) & (1u << 10), "FADT: RESET_REG_SUP");
	ok(fadt[116] == 1 && fadt[117] == 8 && get64(fadt + 120) == 0xcf9 &&
	   fadt[128] == 6, "FADT: reset register 0xcf9, value 6");
	ok(!(get32(fadt + 112) & (1u << 20)), "FADT: not hardware-reduced");
	ok(!(get32(fadt + 112) & (1u << 4)),
	   "FADT: PWR_BUTTON clear (fixed-feature power button present)");
	is_int(get16(fadt + 109), 0x7,
	       "FADT: boot arch: legacy devices, 8042, no VGA");

	ok(dsdt && aml_has(dsdt, s5, sizeof(s5)),
	   "DSDT: Name (_S5_, Package (4) { 0, 0, 0, 0 })");
	ok(dsdt && aml_has(dsdt, pnp0a03, sizeof(pnp0a03)),
	   "DSDT: PCI host bridge PNP0A03");
	check_madt(nr, madt);
}

#define CHECKS_PER_BUILD	38

int main(void)
{
	static const unsigned int cpus[] = { 1, 2, 64, 255 };
	static u8 buf[8192];
	struct guest_mem gm = { 0 };
	struct boot_params *zp;
	u8 *ram;
	int len;

	tap_plan((int)ARRAY_SIZE(cpus) * CHECKS_PER_BUILD + 11);

	for (unsigned int i = 0; i < ARRAY_SIZE(cpus); i++) {
		memset(buf, 0xa5, sizeof(buf));
		len = acpi__build(buf, sizeof(buf), ACPI_TABLES_ADDR, cpus[i]);
		check(cpus[i], buf, ACPI_TABLES_ADDR, len);
	}

	len = acpi__build(buf, sizeof(buf), ACPI_TABLES_ADDR, 4);
	is_int(acpi__build(buf, (size_t)len - 1, ACPI_TABLES_ADDR, 4), -ENOSPC,
	       "too small buffer refused with -ENOSPC");
	is_int(acpi__build(buf, sizeof(buf), ACPI_TABLES_ADDR + 4, 4), -EINVAL,
	       "unaligned address refused");
	is_int(acpi__build(buf, sizeof(buf), ACPI_TABLES_ADDR, 0), -EINVAL,
	       "zero CPUs refused");
	is_int(acpi__build(buf, sizeof(buf), ACPI_TABLES_ADDR, 256), -EINVAL,
	       "256 CPUs refused (8-bit APIC ids)");

	/* The largest MP table must end before the ACPI tables begin. */
	len = mptable__build(buf, sizeof(buf), MPTABLE_ADDR, 255, NULL);
	ok(len > 0 && MPTABLE_ADDR + (u64)len <= ACPI_TABLES_ADDR,
	   "255-vCPU MP table (%d bytes) ends before the ACPI tables", len);

	ram = calloc(1, 2 * SZ_1M);
	guest_mem_add(&gm, 0, 2 * SZ_1M, ram);
	is_int(acpi__write(&gm, 2), 0, "written to guest memory");
	ok(!memcmp(ram + ACPI_RSDP_ADDR, "RSD PTR ", 8) &&
	   !(ACPI_RSDP_ADDR & 15) && ACPI_RSDP_ADDR >= 0xe0000 &&
	   ACPI_TABLES_END <= 0x100000,
	   "RSDP on a 16-byte boundary in the BIOS area Linux scans");

	zp = (struct boot_params *)(ram + BOOT_ZERO_PAGE_ADDR);
	zp->hdr.version = 0x020d;
	acpi__set_boot_params_rsdp(&gm, BOOT_ZERO_PAGE_ADDR);
	is_int(zp->acpi_rsdp_addr, 0, "boot protocol 2.13: zero page untouched");
	zp->hdr.version = 0x020f;
	is_int(acpi__set_boot_params_rsdp(&gm, BOOT_ZERO_PAGE_ADDR), 0,
	       "boot protocol 2.15: zero page updated");
	is_int(zp->acpi_rsdp_addr, ACPI_RSDP_ADDR,
	       "boot_params.acpi_rsdp_addr points at the RSDP");
	free(ram);

	ram = calloc(1, 512 * SZ_1K);
	memset(&gm, 0, sizeof(gm));
	guest_mem_add(&gm, 0, 512 * SZ_1K, ram);
	is_int(acpi__write(&gm, 2), -EFAULT, "no RAM at the BIOS area: -EFAULT");
	free(ram);
	return tap_done();
}

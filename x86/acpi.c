// SPDX-License-Identifier: GPL-2.0
/*
 * ACPI tables for x86 guests.  Kernels built without CONFIG_X86_MPPARSE
 * (Debian's cloud kernel among them) ignore the MP table and would see a
 * single CPU; with an RSDP in the BIOS area they find the MADT instead.
 *
 * The set is the smallest one Linux accepts without complaint:
 *
 *   RSDP (rev 2) -> XSDT and RSDT -> FADT -> FACS, DSDT
 *                                 -> MADT
 *
 * The FADT describes the PM1a registers at 0x600 and 0x604 (hw/pm.c) so
 * that Linux powers off through ACPI (S5) and sees the fixed-feature power
 * button, and the 0xcf9 reset register (hw/pci.c) so that it reboots
 * through ACPI.  The DSDT holds the \_S5_
 * sleep type and a PCI host bridge: once Linux uses ACPI it only scans the
 * PCI buses that the namespace declares.  This file lays the tables out
 * and sums them; what the DSDT says is written below with the AML
 * encoder in x86/aml.c.
 *
 * Layout, each table 16-byte aligned (the FACS 64-byte aligned) from the
 * guest address the caller gives, the RSDP first:
 *
 *   RSDP, XSDT, RSDT, FADT, FACS, DSDT, MADT
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "arch/acpi.h"
#include "arch/aml.h"
#include "arch/boot.h"
#include "lkvm/guest_mem.h"
#include "lkvm/log.h"

#define ACPI_OEM_ID		"LKVM  "
#define ACPI_OEM_TABLE_ID	"LKVMTABL"
#define ACPI_OEM_REVISION	1
#define ACPI_CREATOR_ID		"LKVM"
#define ACPI_CREATOR_REVISION	1

struct acpi_rsdp {
	char signature[8];	/* "RSD PTR " */
	u8 checksum;		/* over the first 20 bytes (ACPI 1.0 part) */
	char oem_id[6];
	u8 revision;		/* 2: ACPI 2.0+, XSDT present */
	u32 rsdt_address;
	u32 length;
	u64 xsdt_address;
	u8 extended_checksum;	/* over all 36 bytes */
	u8 reserved[3];
} __attribute__((packed));

struct acpi_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	char creator_id[4];
	u32 creator_revision;
} __attribute__((packed));

/* Generic Address Structure */
struct acpi_gas {
	u8 space_id;
	u8 bit_width;
	u8 bit_offset;
	u8 access_size;		/* 0: legacy, 1: byte, 2: word, ... */
	u64 address;
} __attribute__((packed));

#define ACPI_GAS_SYSTEM_IO	1
#define ACPI_GAS_ACCESS_BYTE	1

/* FADT as of ACPI 6.0 (revision 6, minor 0): 276 bytes. */
struct acpi_fadt {
	struct acpi_header h;
	u32 firmware_ctrl;	/* FACS */
	u32 dsdt;
	u8 reserved0;
	u8 preferred_pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable;
	u8 acpi_disable;
	u8 s4bios_req;
	u8 pstate_cnt;
	u32 pm1a_evt_blk;
	u32 pm1b_evt_blk;
	u32 pm1a_cnt_blk;
	u32 pm1b_cnt_blk;
	u32 pm2_cnt_blk;
	u32 pm_tmr_blk;
	u32 gpe0_blk;
	u32 gpe1_blk;
	u8 pm1_evt_len;
	u8 pm1_cnt_len;
	u8 pm2_cnt_len;
	u8 pm_tmr_len;
	u8 gpe0_blk_len;
	u8 gpe1_blk_len;
	u8 gpe1_base;
	u8 cst_cnt;
	u16 p_lvl2_lat;
	u16 p_lvl3_lat;
	u16 flush_size;
	u16 flush_stride;
	u8 duty_offset;
	u8 duty_width;
	u8 day_alrm;
	u8 mon_alrm;
	u8 century;
	u16 iapc_boot_arch;
	u8 reserved1;
	u32 flags;
	struct acpi_gas reset_reg;
	u8 reset_value;
	u16 arm_boot_arch;
	u8 minor_version;
	u64 x_firmware_ctrl;
	u64 x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	u64 hypervisor_vendor_id;
} __attribute__((packed));

/* FADT flags */
#define FADT_WBINVD		(1u << 0)
#define FADT_PROC_C1		(1u << 2)
#define FADT_PWR_BUTTON		(1u << 4)	/* set: no fixed-feature button */
#define FADT_SLP_BUTTON		(1u << 5)
#define FADT_RESET_REG_SUP	(1u << 10)

/* FADT IA-PC boot architecture flags */
#define BOOT_ARCH_LEGACY_DEVICES	(1u << 0)
#define BOOT_ARCH_8042			(1u << 1)
#define BOOT_ARCH_NO_VGA		(1u << 2)

#define RTC_CENTURY_INDEX	0x32	/* hw/rtc.c keeps the century there */

struct acpi_facs {
	char signature[4];	/* "FACS" */
	u32 length;
	u32 hardware_signature;
	u32 firmware_waking_vector;
	u32 global_lock;
	u32 flags;
	u64 x_firmware_waking_vector;
	u8 version;
	u8 reserved0[3];
	u32 ospm_flags;
	u8 reserved1[24];
} __attribute__((packed));

struct acpi_madt {
	struct acpi_header h;
	u32 lapic_address;
	u32 flags;
} __attribute__((packed));

#define MADT_PCAT_COMPAT	(1u << 0)	/* dual 8259s present */

enum {
	MADT_LAPIC = 0,
	MADT_IOAPIC = 1,
	MADT_INT_SRC_OVERRIDE = 2,
	MADT_LAPIC_NMI = 4,
};

struct madt_lapic {
	u8 type;
	u8 length;
	u8 acpi_processor_uid;
	u8 apic_id;
	u32 flags;
} __attribute__((packed));

#define MADT_LAPIC_ENABLED	(1u << 0)

struct madt_ioapic {
	u8 type;
	u8 length;
	u8 ioapic_id;
	u8 reserved;
	u32 address;
	u32 gsi_base;
} __attribute__((packed));

struct madt_int_src_override {
	u8 type;
	u8 length;
	u8 bus;			/* 0: ISA */
	u8 source;		/* ISA IRQ */
	u32 gsi;
	u16 flags;		/* MPS INTI flags */
} __attribute__((packed));

/* MPS INTI flags: polarity in bits 0-1, trigger mode in bits 2-3. */
#define MPS_INTI_CONFORMS	0x0000
#define MPS_INTI_ACTIVE_HIGH	0x0001
#define MPS_INTI_LEVEL		0x000c

struct madt_lapic_nmi {
	u8 type;
	u8 length;
	u8 acpi_processor_uid;	/* 0xff: all processors */
	u16 flags;
	u8 lint;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_rsdp) == 36, "rsdp");
_Static_assert(sizeof(struct acpi_header) == 36, "header");
_Static_assert(sizeof(struct acpi_gas) == 12, "gas");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "fadt flags");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "fadt x_dsdt");
_Static_assert(sizeof(struct acpi_fadt) == 276, "fadt");
_Static_assert(sizeof(struct acpi_facs) == 64, "facs");
_Static_assert(sizeof(struct acpi_madt) == 44, "madt");
_Static_assert(sizeof(struct madt_lapic) == 8, "madt lapic");
_Static_assert(sizeof(struct madt_ioapic) == 12, "madt ioapic");
_Static_assert(sizeof(struct madt_int_src_override) == 10, "madt iso");
_Static_assert(sizeof(struct madt_lapic_nmi) == 6, "madt nmi");

/* Two's complement so that all bytes, checksum included, sum to zero. */
static u8 acpi_checksum(const void *p, size_t len)
{
	const u8 *b = p;
	u8 sum = 0;

	while (len--)
		sum += *b++;
	return (u8)-sum;
}

static void acpi_header_init(struct acpi_header *h, const char *sig,
			     u32 length, u8 revision)
{
	memcpy(h->signature, sig, 4);
	h->length = length;
	h->revision = revision;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = ACPI_OEM_REVISION;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = ACPI_CREATOR_REVISION;
}

/* Sets the checksum of the complete table at @h (length already set). */
static void acpi_table_sum(void *table)
{
	struct acpi_header *h = table;

	h->checksum = 0;
	h->checksum = acpi_checksum(table, h->length);
}

/*
 * The DSDT's AML, in ASL:
 *
 *   Name (_S5, Package () { 0, 0, 0, 0 })
 *   Device (\_SB.PCI0) {
 *       Name (_HID, EisaId ("PNP0A03"))
 *       Name (_UID, 0)
 *       Name (_CRS, ResourceTemplate () {
 *           WordBusNumber (0x00 - 0xff)
 *           IO (Decode16, 0xcf8, 0xcf8, 1, 8)
 *           WordIO (0x0000 - 0x0cf7)
 *           WordIO (0x0d00 - 0xffff)
 *           DWordMemory (X86_PCI_MMIO_START - X86_PCI_MMIO_END - 1)
 *       })
 *   }
 *
 * SLP_TYP 0 for S5 is QEMU's PIIX convention; hw/pm.c ignores SLP_TYP
 * anyway and powers off on SLP_EN.
 */
static int acpi__dsdt_aml(struct aml *out)
{
	struct aml dev = { .n = 0 }, crs = { .n = 0 };

	aml_name_zero_package(out, "_S5_", 4);

	aml_res_word(&crs, AML_RES_TYPE_BUS, 0, 0x00, 0xff);
	aml_res_io_port(&crs, 0xcf8, 8);
	aml_res_word(&crs, AML_RES_TYPE_IO, AML_RES_IO_ENTIRE_RANGE,
		     0x0000, 0x0cf7);
	aml_res_word(&crs, AML_RES_TYPE_IO, AML_RES_IO_ENTIRE_RANGE,
		     0x0d00, 0xffff);
	aml_res_dword_memory(&crs, (u32)X86_PCI_MMIO_START,
			     (u32)X86_PCI_MMIO_END - 1);
	aml_res_end(&crs);

	aml_byte(&dev, AML_ROOT_CHAR);
	aml_byte(&dev, AML_DUAL_NAME_PREFIX);
	aml_nameseg(&dev, "_SB_");
	aml_nameseg(&dev, "PCI0");
	aml_name_int(&dev, "_HID", aml_eisaid("PNP0A03"));
	aml_name_int(&dev, "_UID", 0);
	aml_name_buffer(&dev, "_CRS", &crs);
	aml_device(out, &dev);

	return out->overflow ? -E2BIG : 0;
}

/* Where each table goes, as offsets from the RSDP. */
struct acpi_layout {
	size_t xsdt, rsdt, fadt, facs, dsdt, madt, end;
	size_t dsdt_len, madt_len;
};

#define ACPI_NR_ENTRIES		2	/* FADT, MADT */
#define MADT_NR_OVERRIDES	2	/* IRQ 0 -> GSI 2, SCI */

static void acpi__layout(struct acpi_layout *l, unsigned int nr_cpus,
			 size_t aml_len)
{
	l->dsdt_len = sizeof(struct acpi_header) + aml_len;
	l->madt_len = sizeof(struct acpi_madt) +
		      nr_cpus * sizeof(struct madt_lapic) +
		      sizeof(struct madt_ioapic) +
		      MADT_NR_OVERRIDES * sizeof(struct madt_int_src_override) +
		      sizeof(struct madt_lapic_nmi);

	l->xsdt = ALIGN_UP(sizeof(struct acpi_rsdp), 16);
	l->rsdt = ALIGN_UP(l->xsdt + sizeof(struct acpi_header) +
			   ACPI_NR_ENTRIES * sizeof(u64), 16);
	l->fadt = ALIGN_UP(l->rsdt + sizeof(struct acpi_header) +
			   ACPI_NR_ENTRIES * sizeof(u32), 16);
	l->facs = ALIGN_UP(l->fadt + sizeof(struct acpi_fadt), 64);
	l->dsdt = l->facs + sizeof(struct acpi_facs);
	l->madt = ALIGN_UP(l->dsdt + l->dsdt_len, 16);
	l->end = l->madt + l->madt_len;
}

static void acpi__build_fadt(struct acpi_fadt *f, u64 facs, u64 dsdt)
{
	const struct acpi_gas pm1a_evt = {
		.space_id = ACPI_GAS_SYSTEM_IO,
		.bit_width = 32,
		.address = ACPI_PM1A_EVT_PORT,
	};
	const struct acpi_gas pm1a_cnt = {
		.space_id = ACPI_GAS_SYSTEM_IO,
		.bit_width = 16,
		.address = ACPI_PM1A_CNT_PORT,
	};

	acpi_header_init(&f->h, "FACP", sizeof(*f), 6);
	f->minor_version = 0;
	/*
	 * The FACS only through the 32-bit field: with both set, Linux
	 * installs it twice.  The DSDT through both, as the spec asks.
	 */
	f->firmware_ctrl = (u32)facs;
	f->dsdt = (u32)dsdt;
	f->x_dsdt = dsdt;
	f->sci_int = ACPI_SCI_IRQ;
	/* No SMI_CMD: the machine is always in ACPI mode. */
	f->smi_cmd = 0;
	/*
	 * PM1_STS and PM1_EN (hw/pm.c): the fixed-feature power button
	 * raises the SCI there, which `lkvm stop` uses to ask for a clean
	 * shutdown.
	 */
	f->pm1a_evt_blk = ACPI_PM1A_EVT_PORT;
	f->pm1_evt_len = 4;
	f->x_pm1a_evt_blk = pm1a_evt;
	f->pm1a_cnt_blk = ACPI_PM1A_CNT_PORT;
	f->pm1_cnt_len = 2;
	f->x_pm1a_cnt_blk = pm1a_cnt;
	/* No PM timer (optional since ACPI 5.0A), no GPE blocks. */
	f->p_lvl2_lat = 0x0fff;	/* > 100: C2 not supported */
	f->p_lvl3_lat = 0x0fff;	/* > 1000: C3 not supported */
	f->century = RTC_CENTURY_INDEX;
	/* Serial, RTC and i8042 are there; no VGA. */
	f->iapc_boot_arch = BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042 |
			    BOOT_ARCH_NO_VGA;
	/* PWR_BUTTON clear: the fixed-feature power button exists. */
	f->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON |
		   FADT_RESET_REG_SUP;
	f->reset_reg = (struct acpi_gas){
		.space_id = ACPI_GAS_SYSTEM_IO,
		.bit_width = 8,
		.access_size = ACPI_GAS_ACCESS_BYTE,
		.address = ACPI_RESET_PORT,
	};
	f->reset_value = ACPI_RESET_VALUE;
	acpi_table_sum(f);
}

static size_t acpi__build_madt(u8 *p, unsigned int nr_cpus)
{
	struct acpi_madt *madt = (struct acpi_madt *)p;
	u8 ioapic_id = (u8)nr_cpus;	/* as in the MP table */
	u8 *e = p + sizeof(*madt);

	madt->lapic_address = (u32)LAPIC_ADDR;
	madt->flags = MADT_PCAT_COMPAT;

	/* ACPI processor UID = APIC ID = vCPU index, as in the MP table. */
	for (unsigned int i = 0; i < nr_cpus; i++) {
		struct madt_lapic lapic = {
			.type = MADT_LAPIC,
			.length = sizeof(lapic),
			.acpi_processor_uid = (u8)i,
			.apic_id = (u8)i,
			.flags = MADT_LAPIC_ENABLED,
		};

		memcpy(e, &lapic, sizeof(lapic));
		e += sizeof(lapic);
	}

	struct madt_ioapic ioapic = {
		.type = MADT_IOAPIC,
		.length = sizeof(ioapic),
		.ioapic_id = ioapic_id,
		.address = (u32)IOAPIC_ADDR,
		.gsi_base = 0,
	};
	memcpy(e, &ioapic, sizeof(ioapic));
	e += sizeof(ioapic);

	/*
	 * The PIT's IRQ 0 is wired to IOAPIC pin 2, as on a PC and in the
	 * MP table; the other ISA IRQs are identity-mapped by default.  The
	 * SCI is level-triggered, active high (QEMU's PIIX convention).
	 */
	struct madt_int_src_override iso[MADT_NR_OVERRIDES] = {
		{ .type = MADT_INT_SRC_OVERRIDE, .length = sizeof(iso[0]),
		  .bus = 0, .source = 0, .gsi = 2,
		  .flags = MPS_INTI_CONFORMS },
		{ .type = MADT_INT_SRC_OVERRIDE, .length = sizeof(iso[0]),
		  .bus = 0, .source = ACPI_SCI_IRQ, .gsi = ACPI_SCI_IRQ,
		  .flags = MPS_INTI_ACTIVE_HIGH | MPS_INTI_LEVEL },
	};
	memcpy(e, iso, sizeof(iso));
	e += sizeof(iso);

	/* NMIs arrive on every LAPIC's LINT1. */
	struct madt_lapic_nmi nmi = {
		.type = MADT_LAPIC_NMI,
		.length = sizeof(nmi),
		.acpi_processor_uid = 0xff,
		.flags = MPS_INTI_CONFORMS,
		.lint = 1,
	};
	memcpy(e, &nmi, sizeof(nmi));
	e += sizeof(nmi);

	acpi_header_init(&madt->h, "APIC", (u32)(e - p), 4);
	acpi_table_sum(madt);
	return (size_t)(e - p);
}

int acpi__build(void *buf, size_t size, u64 gpa, unsigned int nr_cpus)
{
	struct aml aml = { .n = 0 };
	struct acpi_layout l;
	struct acpi_rsdp *rsdp = buf;
	struct acpi_header *h;
	u8 *p = buf;
	int ret;

	if (!nr_cpus || nr_cpus > 255 || (gpa & 15))
		return -EINVAL;
	ret = acpi__dsdt_aml(&aml);
	if (ret)
		return ret;
	acpi__layout(&l, nr_cpus, aml.n);
	/* The RSDT holds 32-bit pointers. */
	if (gpa + l.end > 0x100000000ULL)
		return -EINVAL;
	if (size < l.end)
		return -ENOSPC;
	memset(buf, 0, l.end);

	/* XSDT and RSDT: FADT first, then MADT. */
	h = (struct acpi_header *)(p + l.xsdt);
	acpi_header_init(h, "XSDT", sizeof(*h) + ACPI_NR_ENTRIES * sizeof(u64),
			 1);
	u64 x[ACPI_NR_ENTRIES] = { gpa + l.fadt, gpa + l.madt };
	memcpy(h + 1, x, sizeof(x));
	acpi_table_sum(h);

	h = (struct acpi_header *)(p + l.rsdt);
	acpi_header_init(h, "RSDT", sizeof(*h) + ACPI_NR_ENTRIES * sizeof(u32),
			 1);
	u32 r[ACPI_NR_ENTRIES] = { (u32)(gpa + l.fadt), (u32)(gpa + l.madt) };
	memcpy(h + 1, r, sizeof(r));
	acpi_table_sum(h);

	acpi__build_fadt((struct acpi_fadt *)(p + l.fadt), gpa + l.facs,
			 gpa + l.dsdt);

	struct acpi_facs *facs = (struct acpi_facs *)(p + l.facs);
	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = 2;

	/* DSDT revision 2: AML integers are 64 bits wide. */
	h = (struct acpi_header *)(p + l.dsdt);
	acpi_header_init(h, "DSDT", (u32)l.dsdt_len, 2);
	memcpy(h + 1, aml.b, aml.n);
	acpi_table_sum(h);

	acpi__build_madt(p + l.madt, nr_cpus);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, ACPI_OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->rsdt_address = (u32)(gpa + l.rsdt);
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = gpa + l.xsdt;
	rsdp->checksum = acpi_checksum(rsdp, 20);
	rsdp->extended_checksum = acpi_checksum(rsdp, sizeof(*rsdp));

	return (int)l.end;
}

int acpi__write(struct guest_mem *gm, unsigned int nr_cpus)
{
	size_t len = ACPI_TABLES_END - ACPI_TABLES_ADDR;
	void *dst;
	int ret;

	dst = guest_mem_ptr(gm, ACPI_TABLES_ADDR, len);
	if (!dst) {
		pr_err("guest RAM does not cover the ACPI tables at 0x%llx",
		       (unsigned long long)ACPI_TABLES_ADDR);
		return -EFAULT;
	}
	ret = acpi__build(dst, len, ACPI_TABLES_ADDR, nr_cpus);
	return ret < 0 ? ret : 0;
}

int acpi__set_boot_params_rsdp(struct guest_mem *gm, u64 zero_page)
{
	struct boot_params *zp;

	zp = guest_mem_ptr(gm, zero_page, sizeof(*zp));
	if (!zp)
		return -EFAULT;
	/* Older boot protocols do not define the field: leave it alone. */
	if (zp->hdr.version >= 0x020e)
		zp->acpi_rsdp_addr = ACPI_RSDP_ADDR;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Intel MultiProcessor Specification 1.4 tables, so that guests without
 * ACPI (Linux included) find every vCPU, the IOAPIC and the ISA interrupt
 * routing.  The floating pointer lives in the BIOS area, where the spec
 * says to search, followed directly by the configuration table.
 */
#include <errno.h>
#include <string.h>

#include "arch/boot.h"
#include "lkvm/guest_mem.h"
#include "lkvm/log.h"

#define MPC_SPEC_REV		4	/* 1.4 */
#define MP_LAPIC_VERSION	0x14
#define MP_IOAPIC_VERSION	0x11
#define MP_BUS_PCI		0
#define MP_BUS_ISA		1
#define MP_ISA_IRQS		16
#define MP_ALL_LAPICS		0xff

enum {
	MP_PROCESSOR = 0,
	MP_BUS = 1,
	MP_IOAPIC = 2,
	MP_INTSRC = 3,
	MP_LINTSRC = 4,
};

enum {
	MP_IRQ_INT = 0,
	MP_IRQ_NMI = 1,
	MP_IRQ_EXTINT = 3,
};

#define CPU_ENABLED		(1 << 0)
#define CPU_BOOTPROCESSOR	(1 << 1)
#define IOAPIC_ENABLED		(1 << 0)

struct mpf_intel {
	char signature[4];	/* "_MP_" */
	u32 physptr;
	u8 length;		/* in 16-byte units */
	u8 specification;
	u8 checksum;
	u8 feature1;		/* 0: a configuration table is present */
	u8 feature2;		/* bit 7: IMCR present (no) */
	u8 feature3;
	u8 feature4;
	u8 feature5;
} __attribute__((packed));

struct mpc_table {
	char signature[4];	/* "PCMP" */
	u16 length;
	u8 spec;
	u8 checksum;
	char oem[8];
	char productid[12];
	u32 oemptr;
	u16 oemsize;
	u16 oemcount;		/* number of entries */
	u32 lapic;
	u16 ext_length;
	u8 ext_checksum;
	u8 reserved;
} __attribute__((packed));

struct mpc_cpu {
	u8 type;
	u8 apicid;
	u8 apicver;
	u8 cpuflag;
	u32 cpufeature;		/* CPUID.1:EAX signature */
	u32 featureflag;	/* CPUID.1:EDX */
	u32 reserved[2];
} __attribute__((packed));

struct mpc_bus {
	u8 type;
	u8 busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	u8 type;
	u8 apicid;
	u8 apicver;
	u8 flags;
	u32 apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
	u8 type;
	u8 irqtype;
	u16 irqflag;		/* 0: conforms to the bus */
	u8 srcbus;
	u8 srcbusirq;
	u8 dstapic;
	u8 dstirq;
} __attribute__((packed));

_Static_assert(sizeof(struct mpf_intel) == 16, "mpf_intel");
_Static_assert(sizeof(struct mpc_table) == 44, "mpc_table");
_Static_assert(sizeof(struct mpc_cpu) == 20, "mpc_cpu");
_Static_assert(sizeof(struct mpc_bus) == 8, "mpc_bus");
_Static_assert(sizeof(struct mpc_ioapic) == 8, "mpc_ioapic");
_Static_assert(sizeof(struct mpc_intsrc) == 8, "mpc_intsrc");

/* Two's complement so that all bytes, checksum included, sum to zero. */
static u8 mp_checksum(const void *p, size_t len)
{
	const u8 *b = p;
	u8 sum = 0;

	while (len--)
		sum += *b++;
	return (u8)-sum;
}

static size_t mptable__size(unsigned int nr_cpus)
{
	/* ISA IRQ 2 is the PIC cascade and gets no entry. */
	return sizeof(struct mpf_intel) + sizeof(struct mpc_table) +
	       nr_cpus * sizeof(struct mpc_cpu) + 2 * sizeof(struct mpc_bus) +
	       sizeof(struct mpc_ioapic) +
	       (MP_ISA_IRQS - 1) * sizeof(struct mpc_intsrc) +
	       2 * sizeof(struct mpc_intsrc);
}

/*
 * Builds floating pointer + table into @buf as they will appear at guest
 * address @gpa.  Returns the number of bytes used or a negative errno.
 */
int mptable__build(void *buf, size_t size, u64 gpa, unsigned int nr_cpus,
		   const struct mptable_cpu_info *info)
{
	size_t len = mptable__size(nr_cpus);
	u8 ioapic_id = (u8)nr_cpus;
	struct mpf_intel *mpf = buf;
	struct mpc_table *mpc;
	u16 count = 0;
	u8 *p;

	if (!nr_cpus || nr_cpus > 255 || (gpa & 15) || size < len ||
	    gpa + len > 0x100000000ULL)
		return -EINVAL;
	memset(buf, 0, len);

	mpc = (struct mpc_table *)(mpf + 1);
	p = (u8 *)(mpc + 1);

	for (unsigned int i = 0; i < nr_cpus; i++) {
		struct mpc_cpu cpu = {
			.type = MP_PROCESSOR,
			.apicid = (u8)i,
			.apicver = MP_LAPIC_VERSION,
			.cpuflag = CPU_ENABLED | (i == 0 ? CPU_BOOTPROCESSOR : 0),
			.cpufeature = info ? info->signature : 0,
			.featureflag = info ? info->features : 0,
		};

		memcpy(p, &cpu, sizeof(cpu));
		p += sizeof(cpu);
		count++;
	}

	struct mpc_bus buses[] = {
		{ .type = MP_BUS, .busid = MP_BUS_PCI, .bustype = "PCI   " },
		{ .type = MP_BUS, .busid = MP_BUS_ISA, .bustype = "ISA   " },
	};
	memcpy(p, buses, sizeof(buses));
	p += sizeof(buses);
	count += ARRAY_SIZE(buses);

	struct mpc_ioapic ioapic = {
		.type = MP_IOAPIC,
		.apicid = ioapic_id,
		.apicver = MP_IOAPIC_VERSION,
		.flags = IOAPIC_ENABLED,
		.apicaddr = (u32)IOAPIC_ADDR,
	};
	memcpy(p, &ioapic, sizeof(ioapic));
	p += sizeof(ioapic);
	count++;

	/* The PIT's IRQ 0 is wired to IOAPIC pin 2, the rest 1:1. */
	for (u8 irq = 0; irq < MP_ISA_IRQS; irq++) {
		struct mpc_intsrc src = {
			.type = MP_INTSRC,
			.irqtype = MP_IRQ_INT,
			.srcbus = MP_BUS_ISA,
			.srcbusirq = irq,
			.dstapic = ioapic_id,
			.dstirq = irq == 0 ? 2 : irq,
		};

		if (irq == 2)
			continue;
		memcpy(p, &src, sizeof(src));
		p += sizeof(src);
		count++;
	}

	/* The 8259 reaches every LAPIC's LINT0, NMIs arrive on LINT1. */
	struct mpc_intsrc lint[] = {
		{ .type = MP_LINTSRC, .irqtype = MP_IRQ_EXTINT,
		  .srcbus = MP_BUS_ISA, .dstapic = MP_ALL_LAPICS, .dstirq = 0 },
		{ .type = MP_LINTSRC, .irqtype = MP_IRQ_NMI,
		  .srcbus = MP_BUS_ISA, .dstapic = MP_ALL_LAPICS, .dstirq = 1 },
	};
	memcpy(p, lint, sizeof(lint));
	p += sizeof(lint);
	count += ARRAY_SIZE(lint);

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = (u16)(p - (u8 *)mpc);
	mpc->spec = MPC_SPEC_REV;
	memcpy(mpc->oem, "LKVM    ", 8);
	memcpy(mpc->productid, "LKVM VM     ", 12);
	mpc->oemcount = count;
	mpc->lapic = (u32)LAPIC_ADDR;
	mpc->checksum = mp_checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = (u32)(gpa + sizeof(*mpf));
	mpf->length = 1;
	mpf->specification = MPC_SPEC_REV;
	mpf->checksum = mp_checksum(mpf, sizeof(*mpf));

	return (int)(p - (u8 *)buf);
}

int mptable__write(struct guest_mem *gm, unsigned int nr_cpus,
		   const struct mptable_cpu_info *info)
{
	size_t len = mptable__size(nr_cpus);
	void *dst;
	int ret;

	if (MPTABLE_ADDR + len > BIOS_AREA_END)
		return -E2BIG;
	dst = guest_mem_ptr(gm, MPTABLE_ADDR, len);
	if (!dst) {
		pr_err("guest RAM does not cover the MP table at 0x%llx",
		       (unsigned long long)MPTABLE_ADDR);
		return -EFAULT;
	}
	ret = mptable__build(dst, len, MPTABLE_ADDR, nr_cpus, info);
	return ret < 0 ? ret : 0;
}

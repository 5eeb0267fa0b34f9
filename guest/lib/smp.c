// SPDX-License-Identifier: GPL-2.0
/*
 * Intel MP table parsing and AP bring-up (INIT-SIPI-SIPI).
 *
 * APs are started one at a time and each runs its callback to completion
 * before the next one is woken: output stays ordered and no atomic
 * read-modify-write is needed beyond the console's xchg lock.
 */
#include "../include/guest.h"

#define AP_STACK_SIZE	4096

struct mp_fps {
	char sig[4];		/* "_MP_" */
	uint32_t config;	/* physical address of "PCMP" table */
	uint8_t length;		/* in 16-byte units */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t features[5];
} __attribute__((packed));

struct mp_config {
	char sig[4];		/* "PCMP" */
	uint16_t length;
	uint8_t spec_rev;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oem_table;
	uint16_t oem_size;
	uint16_t entries;
	uint32_t lapic_addr;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mp_processor {
	uint8_t type;		/* 0 */
	uint8_t apic_id;
	uint8_t apic_ver;
	uint8_t flags;		/* bit 0: enabled, bit 1: BSP */
	uint32_t signature;
	uint32_t features;
	uint32_t reserved[2];
} __attribute__((packed));

extern char ap_trampoline[], ap_trampoline_end[];

/*
 * Hand-over to the AP being started.  The BSP writes ap_boot_stack (read
 * by ap_start64 in head.S), ap_boot_idx and ap_fn before the INIT-SIPI,
 * which the AP cannot run ahead of; ap_started and ap_done come back
 * with release stores that wait_flag()'s acquire loads pair with.
 */
uint64_t ap_boot_stack;
static uint8_t ap_stacks[MAX_CPUS][AP_STACK_SIZE] __attribute__((aligned(16)));
static int ap_boot_idx;
static int ap_started, ap_done;
static void (*ap_fn)(int idx, uint32_t apic);

static uint8_t checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (n--)
		sum += *b++;
	return sum;
}

static struct mp_fps *mp_scan(uintptr_t start, size_t len)
{
	uintptr_t p;

	for (p = start; p + sizeof(struct mp_fps) <= start + len; p += 16) {
		struct mp_fps *f = (struct mp_fps *)p;

		if (!memcmp(f->sig, "_MP_", 4) && f->length &&
		    !checksum(f, f->length * 16))
			return f;
	}
	return NULL;
}

bool mptable_parse(struct mp_info *mi)
{
	uintptr_t ebda = (uintptr_t)*(volatile uint16_t *)0x40e << 4;
	struct mp_fps *fps = NULL;
	struct mp_config *cfg;
	uint8_t *e;
	int i;

	memset(mi, 0, sizeof(*mi));
	mi->lapic_addr = LAPIC_BASE;

	/* Search order from the MP spec, section 4. */
	if (ebda >= 0x80000 && ebda < 0xa0000)
		fps = mp_scan(ebda, 1024);
	if (!fps)
		fps = mp_scan(0x9fc00, 1024);
	if (!fps)
		fps = mp_scan(0xf0000, 0x10000);
	if (!fps || !fps->config)
		return false;

	cfg = (struct mp_config *)(uintptr_t)fps->config;
	if (memcmp(cfg->sig, "PCMP", 4))
		return false;
	mi->lapic_addr = cfg->lapic_addr;

	e = (uint8_t *)(cfg + 1);
	for (i = 0; i < cfg->entries; i++) {
		if (e[0] == 0) {
			struct mp_processor *p = (struct mp_processor *)e;

			if ((p->flags & 1) && mi->ncpus < MAX_CPUS) {
				mi->apic_id[mi->ncpus] = p->apic_id;
				mi->bsp[mi->ncpus] = p->flags & 2;
				mi->ncpus++;
			}
			e += 20;
		} else {
			e += 8;		/* bus, ioapic, irq, local irq */
		}
	}
	return mi->ncpus > 0;
}

void ap_main(void);
void ap_main(void)
{
	int idx = READ_ONCE(ap_boot_idx);
	void (*fn)(int idx, uint32_t apic) = READ_ONCE(ap_fn);

	load_idt();
	lapic_enable();
	__atomic_store_n(&ap_started, 1, __ATOMIC_RELEASE);
	if (fn)
		fn(idx, lapic_id());
	/* What fn wrote is the BSP's once it sees this (wait_flag()). */
	__atomic_store_n(&ap_done, 1, __ATOMIC_RELEASE);
	/* halt_forever() in head.S follows */
}

static bool wait_flag(int *flag, uint64_t timeout_ms)
{
	uint64_t end = rdtsc() + timeout_ms * tsc_khz();

	/* Pairs with ap_main()'s release stores. */
	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (rdtsc() > end)
			return false;
		cpu_relax();
	}
	return true;
}

int smp_start_aps(const struct mp_info *mi, void (*fn)(int idx, uint32_t apic),
		  unsigned int timeout_ms)
{
	uint32_t self = lapic_id();
	int i, idx = 1, online = 1;

	lapic_enable();
	memcpy((void *)AP_TRAMPOLINE_ADDR, ap_trampoline,
	       ap_trampoline_end - ap_trampoline);
	WRITE_ONCE(ap_fn, fn);

	for (i = 0; i < mi->ncpus; i++) {
		uint32_t apic = mi->apic_id[i];

		if (apic == self)
			continue;
		if (idx >= MAX_CPUS)
			break;

		WRITE_ONCE(ap_boot_stack,
			   (uintptr_t)ap_stacks[idx] + AP_STACK_SIZE);
		WRITE_ONCE(ap_boot_idx, idx);
		WRITE_ONCE(ap_started, 0);
		WRITE_ONCE(ap_done, 0);
		/*
		 * The IPI below is a device store, which x86 keeps after
		 * these; only the compiler must not sink them past it.
		 */
		barrier();

		lapic_send_ipi(apic, 0x4500);		/* INIT, assert */
		udelay(10000);
		lapic_send_ipi(apic, 0x4600 | (AP_TRAMPOLINE_ADDR >> 12));
		if (!wait_flag(&ap_started, 10))
			lapic_send_ipi(apic, 0x4600 | (AP_TRAMPOLINE_ADDR >> 12));

		if (!wait_flag(&ap_started, timeout_ms) ||
		    !wait_flag(&ap_done, timeout_ms)) {
			printf("smp: apic %u did not come up\n", apic);
			/* A late AP must not share the next one's stack. */
			idx++;
			continue;
		}
		online++;
		idx++;
	}
	return online;
}

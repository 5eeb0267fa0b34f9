// SPDX-License-Identifier: GPL-2.0
/*
 * C side of the runtime: boot info, IDT/TSS, exceptions, exit paths,
 * command line and TSC timing.
 */
#include "../include/guest.h"

#define EXIT_PORT	0xf4	/* isa-debug-exit compatible */
#define PM1A_CNT	0x604
#define PM1_SLP_EN	0x2000
#define KBD_CMD		0x64

#define VEC_USER_RETURN	0x80
#define PIC_VECTOR_BASE	0x70

struct boot_info boot_info;
static char cmdline_buf[2048];

struct idt_entry {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
} __attribute__((packed));

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

static struct idt_entry idt[256] __attribute__((aligned(16)));
static trap_handler_t trap_handlers[256];
static struct tss64 tss __attribute__((aligned(16)));
/* Stack for traps taken from CPL3 (TSS.RSP0). */
static uint8_t trap_stack[8192] __attribute__((aligned(16)));

extern char trap_stubs[], user_int80[];
extern uint64_t gdt_tss[2];
void user_return(long ret) __noreturn;
void runtime_start(void *zero_page);

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
	"#OF overflow", "#BR bound range", "#UD invalid opcode",
	"#NM device not available", "#DF double fault",
	"coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault",
	"#GP general protection", "#PF page fault", "reserved 15",
	"#MF x87 FP", "#AC alignment check", "#MC machine check",
	"#XM SIMD FP", "#VE virtualization", "#CP control protection",
	"reserved 22", "reserved 23", "reserved 24", "reserved 25",
	"reserved 26", "reserved 27", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security", "reserved 31",
};

void guest_exit(int v)
{
	outl(EXIT_PORT, v);
	halt_forever();
}

void guest_poweroff(void)
{
	outw(PM1A_CNT, PM1_SLP_EN);	/* SLP_TYP 0 = S5 on lkvm and QEMU */
}

void guest_reset(void)
{
	outb(KBD_CMD, 0xfe);		/* i8042 pulse reset line */
}

void set_trap_handler(int vector, trap_handler_t fn)
{
	trap_handlers[vector & 0xff] = fn;
}

void trap_dispatch(struct trap_frame *tf);
void trap_dispatch(struct trap_frame *tf)
{
	uint64_t cr2;

	if (trap_handlers[tf->vector]) {
		trap_handlers[tf->vector](tf);
		return;
	}
	if ((tf->cs & 3) == 3 && (tf->vector == VEC_USER_RETURN ||
	    (tf->vector == 6 && tf->rip == (uintptr_t)user_int80)))
		user_return(tf->rdi);
	/* LAPIC and 8259 spurious interrupts need no EOI. */
	if (tf->vector == SPURIOUS_VECTOR || tf->vector == PIC_VECTOR_BASE + 7 ||
	    tf->vector == PIC_VECTOR_BASE + 15)
		return;

	console_force_unlock();
	if (tf->vector < 32) {
		asm volatile("mov %%cr2, %0" : "=r"(cr2));
		printf("EXCEPTION %lu (%s) at rip=%lx err=%lx cs=%lx rsp=%lx cr2=%lx\n",
		       tf->vector, exc_names[tf->vector], tf->rip, tf->error,
		       tf->cs, tf->rsp, cr2);
	} else {
		printf("UNEXPECTED INTERRUPT %lu at rip=%lx\n", tf->vector,
		       tf->rip);
	}
	guest_exit(0x7f);
}

static void set_gate(int vec, uint8_t dpl)
{
	uintptr_t addr = (uintptr_t)trap_stubs + 16 * vec;
	struct idt_entry *e = &idt[vec];

	e->off_lo = addr & 0xffff;
	e->sel = SEL_KCODE;
	e->ist = 0;
	e->type = 0x8e | (dpl << 5);	/* present, 64-bit interrupt gate */
	e->off_mid = (addr >> 16) & 0xffff;
	e->off_hi = addr >> 32;
	e->zero = 0;
}

void load_idt(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(idt) - 1, (uintptr_t)idt };

	asm volatile("lidt %0" : : "m"(ptr));
}

static void setup_traps(void)
{
	uintptr_t base = (uintptr_t)&tss;
	int i;

	for (i = 0; i < 256; i++)
		set_gate(i, 0);
	/* int3 and the user-return gate must be reachable from CPL3. */
	set_gate(3, 3);
	set_gate(VEC_USER_RETURN, 3);
	load_idt();

	tss.rsp[0] = (uintptr_t)trap_stack + sizeof(trap_stack);
	tss.iomap_base = sizeof(tss);	/* no bitmap: IOPL decides */
	gdt_tss[0] = (sizeof(tss) - 1) | ((base & 0xffffff) << 16) |
		     (0x89ULL << 40) | (((base >> 24) & 0xff) << 56);
	gdt_tss[1] = base >> 32;
	asm volatile("ltr %w0" : : "r"(SEL_TSS));
}

static void copy_boot_params(void *zp)
{
	uint8_t *bp = zp;
	uint64_t cmd;
	uint32_t n;

	boot_info.zero_page = zp;
	boot_info.cmdline = cmdline_buf;
	if (!zp)
		return;

	cmd = *(uint32_t *)(bp + BP_CMD_LINE_PTR) |
	      (uint64_t)*(uint32_t *)(bp + BP_EXT_CMD_LINE_PTR) << 32;
	/* Only the identity-mapped first 4 GiB are reachable. */
	if (cmd && cmd < 0x100000000ULL) {
		const char *s = (const char *)(uintptr_t)cmd;
		size_t i;

		for (i = 0; i < sizeof(cmdline_buf) - 1 && s[i]; i++)
			cmdline_buf[i] = s[i];
		cmdline_buf[i] = '\0';
	}

	n = bp[BP_E820_ENTRIES];
	if (n > E820_MAX_ENTRIES)
		n = E820_MAX_ENTRIES;
	boot_info.e820_entries = n;
	memcpy(boot_info.e820, bp + BP_E820_TABLE, n * sizeof(struct e820_entry));
}

/*
 * The BIOS leaves the 8259s programmed with IRQ0 on vector 8, where a PIT
 * tick would look like a double fault.  Move them out of the exception
 * range and mask everything; tests use the (IO)APIC.
 */
static void pic_disable(void)
{
	outb(0x20, 0x11);		/* ICW1: init, ICW4 follows */
	outb(0xa0, 0x11);
	outb(0x21, PIC_VECTOR_BASE);	/* ICW2: vector base */
	outb(0xa1, PIC_VECTOR_BASE + 8);
	outb(0x21, 0x04);		/* ICW3: slave on IRQ2 */
	outb(0xa1, 0x02);
	outb(0x21, 0x01);		/* ICW4: 8086 mode */
	outb(0xa1, 0x01);
	outb(0x21, 0xff);		/* mask all */
	outb(0xa1, 0xff);
}

void runtime_start(void *zero_page)
{
	serial_init();
	pic_disable();
	setup_traps();
	/* Copy now: the zero page may sit where the AP trampoline goes. */
	copy_boot_params(zero_page);
	guest_main(&boot_info);
	guest_exit(0);
}

/*
 * ---- command line: space separated key[=value] words ----
 * The VMM puts its own words (console=, root=) before the user's -p, as
 * kvmtool does; like Linux, the last occurrence of a key wins.
 */

bool cmdline_get_str(const char *key, char *buf, size_t size)
{
	const char *p = boot_info.cmdline, *val = NULL;
	size_t klen = strlen(key);

	while (p && *p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen) && (p[klen] == '=' ||
		    p[klen] == ' ' || !p[klen])) {
			val = p + klen;
			if (*val == '=')
				val++;
		}
		while (*p && *p != ' ')
			p++;
	}
	if (!val)
		return false;
	if (size) {
		size_t i = 0;

		while (val[i] && val[i] != ' ' && i + 1 < size) {
			buf[i] = val[i];
			i++;
		}
		buf[i] = '\0';
	}
	return true;
}

uint64_t parse_uint(const char **pp)
{
	const char *p = *pp;
	uint64_t v = 0;
	int base = 10;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (;; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		v = v * base + d;
	}
	*pp = p;
	return v;
}

bool cmdline_get_int(const char *key, long *val)
{
	char buf[32];
	const char *p = buf;
	bool neg = false;
	long v;

	if (!cmdline_get_str(key, buf, sizeof(buf)) || !buf[0])
		return false;
	if (*p == '-') {
		neg = true;
		p++;
	}
	v = (long)parse_uint(&p);
	if (*p)
		return false;
	*val = neg ? -v : v;
	return true;
}

/* ---- TSC timing ---- */

#define PIT_HZ			1193182
#define FALLBACK_TSC_KHZ	3000000	/* too fast a guess = longer waits */
#define TSC_KHZ_MIN		100000	/* sane rates: 100 MHz .. 10 GHz */
#define TSC_KHZ_MAX		10000000

/* KVM's paravirtual clock (Linux Documentation/virt/kvm/x86/msr.rst). */
#define KVM_CPUID_SIGNATURE	0x40000000
#define KVM_CPUID_FEATURES	0x40000001
#define KVM_FEATURE_CLOCKSOURCE2	(1U << 3)
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01

/* The ABI's struct pvclock_vcpu_time_info, 32 bytes, never across a page. */
struct pvclock_time {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed, aligned(32)));

static uint64_t tsc_khz_cached;
static const char *tsc_khz_src = "none";

static bool tsc_khz_sane(uint64_t khz)
{
	return khz >= TSC_KHZ_MIN && khz <= TSC_KHZ_MAX;
}

/*
 * The TSC rate as the host kernel converts it to nanoseconds, from the
 * kvmclock page of this vCPU: the exact figure rather than a measurement,
 * and there under any KVM VMM, also one without a PIT speaker port
 * (QEMU -M microvm).  0 when not under KVM.
 */
uint64_t tsc_khz_kvmclock(void)
{
	static struct pvclock_time pvti;
	uint32_t a, b, c, d, v, mul = 0;
	int8_t shift = 0;
	uint64_t khz;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1U << 31)))			/* no hypervisor */
		return 0;
	cpuid(KVM_CPUID_SIGNATURE, 0, &a, &b, &c, &d);
	if (b != 0x4b4d564b || c != 0x564b4d56 || d != 0x4d)	/* "KVMKVMKVM" */
		return 0;
	/* A maximum leaf of 0 means 0x40000001 (older KVM). */
	if (a && a < KVM_CPUID_FEATURES)
		return 0;
	cpuid(KVM_CPUID_FEATURES, 0, &a, &b, &c, &d);
	if (!(a & KVM_FEATURE_CLOCKSOURCE2))
		return 0;

	/* Guest memory is identity-mapped: the address is the physical one. */
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uintptr_t)&pvti | 1);
	for (int tries = 0; tries < 1000; tries++) {
		v = __atomic_load_n(&pvti.version, __ATOMIC_ACQUIRE);
		if (!v || (v & 1)) {
			cpu_relax();
			continue;
		}
		mul = __atomic_load_n(&pvti.tsc_to_system_mul, __ATOMIC_RELAXED);
		shift = __atomic_load_n(&pvti.tsc_shift, __ATOMIC_RELAXED);
		/*
		 * Pairs with the host's write barrier between the fields and
		 * the version's second increment (message passing): the
		 * fields are read before the version is read again, so an
		 * unchanged even version means they are one update's.
		 */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&pvti.version, __ATOMIC_RELAXED) == v)
			break;
		mul = 0;
	}
	/* The host would otherwise keep writing into pvti. */
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);
	if (!mul)
		return 0;
	/* ns = ticks * 2^shift * mul / 2^32, so kHz = 10^6 * 2^32 / mul / 2^shift. */
	khz = (1000000ULL << 32) / mul;
	if (shift < 0)
		khz <<= -shift;
	else
		khz >>= shift;
	return tsc_khz_sane(khz) ? khz : 0;
}

/*
 * PIT channel 2's count, latched between two TSC reads: the best (the
 * narrowest) of a few tries, so a vCPU preempted inside one costs only
 * that try.  *tsc is the bracket's middle.
 */
static uint16_t pit_sample(uint64_t *tsc)
{
	uint64_t a, b, width = ~0ULL;
	uint16_t count = 0;
	uint8_t lo, hi;

	for (int i = 0; i < 5; i++) {
		a = rdtsc();
		outb(0x43, 0x80);	/* latch channel 2 */
		lo = inb(0x42);
		hi = inb(0x42);
		b = rdtsc();
		if (b - a < width) {
			width = b - a;
			count = (uint16_t)(hi << 8 | lo);
			*tsc = a + width / 2;
		}
	}
	return count;
}

/*
 * The TSC against PIT channel 2 counting down from 0xffff (gated by port
 * 0x61): a sample at each end of about 30 ms.  Both clocks run while the
 * vCPU is preempted, so only a preemption inside a sample's bracket
 * counts, and pit_sample() retries those.  Timing one interval by
 * polling for its end instead was 18-24% slow in a quarter of the runs
 * beside two busy processes.  0 when there is no PIT to time against
 * (no port 0x61: the count never moves), or it wrapped (OUT2 high: the
 * vCPU was away for the whole 55 ms).
 */
uint64_t tsc_khz_pit(void)
{
	const unsigned int want = PIT_HZ / 33;	/* ~30 ms of ticks */
	uint64_t t0, t1, khz;
	uint16_t c0, c1;
	uint8_t v;

	for (int round = 0; round < 3; round++) {
		v = inb(0x61);
		if (v == 0xff)			/* no port 0x61 */
			return 0;
		v = (v & ~0x02) | 0x01;		/* gate on, speaker off */
		outb(0x61, v & ~0x01);		/* gate low while programming */
		outb(0x43, 0xb0);		/* ch2, lo/hi, mode 0, binary */
		outb(0x42, 0xff);
		outb(0x42, 0xff);
		outb(0x61, v);			/* rising gate edge: counting */
		c0 = pit_sample(&t0);
		/* A count that never moves: give up after ~2^32 cycles. */
		do {
			c1 = pit_sample(&t1);
		} while ((uint16_t)(c0 - c1) < want && t1 - t0 < (1ULL << 32));
		if ((uint16_t)(c0 - c1) < want || (inb(0x61) & 0x20))
			continue;
		khz = (t1 - t0) * PIT_HZ / (uint16_t)(c0 - c1) / 1000;
		return tsc_khz_sane(khz) ? khz : 0;
	}
	return 0;
}

/*
 * kvmclock first: the PIT's is a measurement, and a VMM without port
 * 0x61 left every timed figure on a guess (QEMU microvm: 3 GHz against
 * a 2.6 GHz TSC, 16% too fast a rate for everything the bench timed).
 */
uint64_t tsc_khz(void)
{
	uint64_t khz;

	if (tsc_khz_cached)
		return tsc_khz_cached;
	if ((khz = tsc_khz_kvmclock())) {
		tsc_khz_src = "kvmclock";
	} else if ((khz = tsc_khz_pit())) {
		tsc_khz_src = "pit";
	} else {
		khz = FALLBACK_TSC_KHZ;
		tsc_khz_src = "guess";
	}
	tsc_khz_cached = khz;
	return khz;
}

const char *tsc_khz_source(void)
{
	tsc_khz();
	return tsc_khz_src;
}

void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + us * tsc_khz() / 1000;

	while (rdtsc() < end)
		cpu_relax();
}

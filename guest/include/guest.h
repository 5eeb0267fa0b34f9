/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tiny bare-metal runtime for lkvm test guests.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "bootparam.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define __noreturn	__attribute__((noreturn))
#define __printf(a, b)	__attribute__((format(printf, a, b)))

#define MAX_CPUS	64

/* ---- port and MMIO access ---- */
static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t mmio_read32(uintptr_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v),
		     "d"((uint32_t)(v >> 32)) : "memory");
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a,
			 uint32_t *b, uint32_t *c, uint32_t *d)
{
	asm volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
		     : "a"(leaf), "c"(sub));
}

static inline void cpu_relax(void)
{
	asm volatile("pause" ::: "memory");
}

static inline void barrier(void)
{
	asm volatile("" ::: "memory");
}

/*
 * A load or store the compiler makes exactly once, whole and where it is
 * written: for data an interrupt handler or another CPU changes.  These
 * are relaxed C11 atomics and order nothing; the acquire/release forms
 * and virt_mb() order where a pairing needs it.  irq_count_inc() is an
 * interrupt handler's counter: the handler is its only writer, on the
 * CPU that reads it, so no locked read-modify-write is needed.
 */
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define irq_count_inc(c)	WRITE_ONCE((c), (c) + 1)

/* ---- spinlock: plain xchg, nothing fancier is emulated reliably ---- */
typedef struct {
	uint32_t locked;
} spinlock_t;

static inline void spin_lock(spinlock_t *l)
{
	/*
	 * xchg (what this compiles to) is a full barrier on x86; acquire is
	 * what the lock needs: the critical section's accesses stay after
	 * it.  Pairs with the release store in spin_unlock().
	 */
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (READ_ONCE(l->locked))
			cpu_relax();
}

static inline void spin_unlock(spinlock_t *l)
{
	/* Pairs with spin_lock()'s acquire: the section's stores first. */
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/* ---- boot information ---- */
struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

struct boot_info {
	void *zero_page;		/* struct boot_params as handed to us */
	const char *cmdline;		/* copy, never NULL */
	uint32_t e820_entries;
	struct e820_entry e820[E820_MAX_ENTRIES];
};

extern struct boot_info boot_info;

/* Provided by each test program. */
void guest_main(struct boot_info *bi);

/* ---- console ---- */
void serial_init(void);
void serial_putc(char c);
void console_force_unlock(void);
void puts(const char *s);
int printf(const char *fmt, ...) __printf(1, 2);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/* ---- termination ---- */
void guest_exit(int v) __noreturn;	/* VMM exits with (v << 1) | 1 */
void guest_poweroff(void);
void guest_reset(void);
void halt_forever(void) __noreturn;

/* ---- traps ---- */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*trap_handler_t)(struct trap_frame *tf);
void set_trap_handler(int vector, trap_handler_t fn);
void load_idt(void);

/* Run fn(arg) at CPL3 with IOPL=3 and return its result. */
long run_user(long (*fn)(long), long arg);
/*
 * Emulate IN/OUT/CLI/STI from CPL3 in the #GP handler, for hosts that run
 * CPL3 with IOPL 0 regardless (see lib/user_io.c).
 */
void user_io_init(void);

/* ---- command line ---- */
bool cmdline_get_str(const char *key, char *buf, size_t size);
bool cmdline_get_int(const char *key, long *val);
/* Decimal or 0x-hex digits at *@pp; *@pp is left at the first other byte. */
uint64_t parse_uint(const char **pp);

/* ---- time ---- */
/*
 * The TSC rate: KVM's kvmclock figure, else timed against the PIT, else
 * a guess; tsc_khz_source() says which ("kvmclock", "pit", "guess").
 * The first call must run at CPL0 (an MSR write, port I/O).
 */
uint64_t tsc_khz(void);
const char *tsc_khz_source(void);
uint64_t tsc_khz_kvmclock(void);	/* 0: not under KVM */
uint64_t tsc_khz_pit(void);		/* 0: no PIT channel 2 */
void udelay(uint64_t us);

/* ---- PCI ---- */
uint32_t pci_read32(int bus, int dev, int fn, int off);
void pci_write32(int bus, int dev, int fn, int off, uint32_t v);
int pci_scan_bus0(bool print);

/* ---- LAPIC / IOAPIC ---- */
#define LAPIC_BASE		0xfee00000UL
#define IOAPIC_BASE		0xfec00000UL
#define LAPIC_ID		0x020
#define LAPIC_EOI		0x0b0
#define LAPIC_SVR		0x0f0
#define LAPIC_ICR_LO		0x300
#define LAPIC_ICR_HI		0x310
#define LAPIC_LVT_TIMER		0x320
#define LAPIC_TIMER_INIT	0x380
#define LAPIC_TIMER_CUR		0x390
#define LAPIC_TIMER_DIV		0x3e0
#define SPURIOUS_VECTOR		0xff

uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
void lapic_enable(void);
void lapic_eoi(void);
uint32_t lapic_id(void);
void lapic_send_ipi(uint32_t apic_id, uint32_t icr_lo);
void lapic_timer_periodic(uint8_t vector, uint32_t count);
void lapic_timer_stop(void);
void ioapic_write(uint32_t reg, uint32_t v);
uint32_t ioapic_read(uint32_t reg);
void ioapic_set_irq(int pin, uint8_t vector, uint8_t dest_apic, bool masked);

/* ---- MP table / SMP ---- */
struct mp_info {
	int ncpus;
	uint8_t apic_id[MAX_CPUS];
	bool bsp[MAX_CPUS];
	uint32_t lapic_addr;
};

bool mptable_parse(struct mp_info *mi);
/*
 * Start all APs listed in the MP table; each runs fn(index, apic_id) and
 * then halts.  Returns the number of CPUs online including the BSP, which
 * is index 0.  Gives up on an AP after timeout_ms.
 */
int smp_start_aps(const struct mp_info *mi, void (*fn)(int idx, uint32_t apic),
		  unsigned int timeout_ms);

/* ---- libc bits ---- */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

#endif

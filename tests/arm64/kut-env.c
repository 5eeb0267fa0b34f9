// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in for a kvm-unit-tests arm64 test: runs at EL1 with the MMU
 * off, finds its environment the way kvm-unit-tests does (the initrd
 * named by /chosen/linux,initrd-start/-end in the DTB whose address is in
 * x0), echoes every line of it, prints "EXIT: STATUS=<n>" and ends with
 * PSCI SYSTEM_OFF.  All output goes to the 8250 at 0x1000000, byte
 * stores only (MMU off: memory is Device, no unaligned accesses).
 *
 * Like a kvm-unit-tests .flat file it is a raw binary without arm64
 * Image header: the VMM loads it at RAM + 0x80000 and enters it there
 * (kvmtool's rule), so scripts/arm64-initramfs.sh links it at
 * 0x80080000 (lkvm's and kvmtool's RAM base + 0x80000).  The stack is the
 * 1 MiB after the start of the binary: RAM the VMM leaves free (initrd
 * and DTB sit at the top of RAM).
 *
 * Words in the command line (/chosen/bootargs, lkvm's -p) add checks:
 *   kut.id     print ID_AA64PFR0_EL1.SVE and ID_AA64ISAR1_EL1's pointer
 *              authentication fields ("kut: id sve=<n> apa=<n> ...")
 *   kut.nisv   install a vector table, then do a load with writeback
 *              (ldr w0, [x1], #4) from the UART: KVM cannot decode it, the
 *              VMM must answer with an external data abort, which the
 *              handler records and skips ("kut: nisv exc=1 ec=0x25 ...")
 */
typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long u64;

#define UART_THR	((volatile u8 *)0x1000000UL)
#define PSCI_SYSTEM_OFF	0x84000008UL

#define FDT_MAGIC	0xd00dfeed
#define FDT_BEGIN_NODE	1
#define FDT_END_NODE	2
#define FDT_PROP	3
#define FDT_NOP		4
#define FDT_END		9

/* What the exception handler saw; read after the faulting access. */
u64 kut_exc_count, kut_exc_esr, kut_exc_far;

__asm__(
"	.section .text.head, \"ax\"\n"
"	.globl	_start\n"
"_start:\n"			/* no header: the first word is code */
"	adr	x1, _start\n"
"	add	x1, x1, #0x100000\n"
"	mov	sp, x1\n"
"	bl	kut_main\n"
"1:	b	1b\n"
/*
 * VBAR_EL1 table: 16 slots of 0x80 bytes, all to one handler that counts
 * the exception, keeps ESR_EL1 and FAR_EL1 and resumes after the faulting
 * instruction (only kut.nisv's synchronous data abort is expected).
 */
"	.balign	0x800\n"
"	.globl	kut_vectors\n"
"kut_vectors:\n"
"	.rept	16\n"
"	b	kut_exc\n"
"	.balign	0x80\n"
"	.endr\n"
"kut_exc:\n"
"	stp	x0, x1, [sp, #-16]!\n"
"	adr	x0, kut_exc_count\n"
"	ldr	x1, [x0]\n"
"	add	x1, x1, #1\n"
"	str	x1, [x0]\n"
"	adr	x0, kut_exc_esr\n"
"	mrs	x1, esr_el1\n"
"	str	x1, [x0]\n"
"	adr	x0, kut_exc_far\n"
"	mrs	x1, far_el1\n"
"	str	x1, [x0]\n"
"	mrs	x1, elr_el1\n"
"	add	x1, x1, #4\n"
"	msr	elr_el1, x1\n"
"	ldp	x0, x1, [sp], #16\n"
"	eret\n"
);

static void putc_uart(char c)
{
	*UART_THR = (u8)c;
}

static void puts_uart(const char *s)
{
	while (*s)
		putc_uart(*s++);
}

static void putu(u64 v)
{
	char buf[24];
	int i = 0;

	do {
		buf[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		putc_uart(buf[--i]);
}

static u32 be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static u64 be_cells(const u8 *p, u32 len)
{
	return len == 8 ? (u64)be32(p) << 32 | be32(p + 4) : be32(p);
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/*
 * The initrd's bounds from /chosen; 0 if there is none.  Also the
 * command line (/chosen/bootargs) in @args, if there is one.
 */
static int fdt_initrd(const u8 *fdt, u64 *start, u64 *end, const char **args)
{
	const u8 *p = fdt + be32(fdt + 8);
	const char *strings = (const char *)fdt + be32(fdt + 12);
	int depth = 0, in_chosen = 0, found = 0;

	if (be32(fdt) != FDT_MAGIC)
		return 0;
	for (;;) {
		u32 tag = be32(p);

		p += 4;
		switch (tag) {
		case FDT_BEGIN_NODE: {
			const char *name = (const char *)p;
			u32 n = 0;

			while (p[n])
				n++;
			depth++;
			in_chosen = depth == 2 && streq(name, "chosen");
			p += (n + 4) & ~3U;
			break;
		}
		case FDT_END_NODE:
			depth--;
			in_chosen = 0;
			break;
		case FDT_PROP: {
			u32 len = be32(p), off = be32(p + 4);
			const char *name = strings + off;

			if (in_chosen && streq(name, "linux,initrd-start")) {
				*start = be_cells(p + 8, len);
				found |= 1;
			}
			if (in_chosen && streq(name, "bootargs"))
				*args = (const char *)p + 8;
			if (in_chosen && streq(name, "linux,initrd-end")) {
				*end = be_cells(p + 8, len);
				found |= 2;
			}
			p += 8 + ((len + 3) & ~3U);
			break;
		}
		case FDT_NOP:
			break;
		default:	/* FDT_END or garbage */
			return found == 3;
		}
	}
}

/* Is @word one of the space-separated words of @s? */
static int has_word(const char *s, const char *word)
{
	while (s && *s) {
		const char *w = word;

		while (*s == ' ')
			s++;
		while (*w && *s == *w) {
			s++;
			w++;
		}
		if (!*w && (!*s || *s == ' '))
			return 1;
		while (*s && *s != ' ')
			s++;
	}
	return 0;
}

static void puthex(u64 v)
{
	int sh = 60;

	puts_uart("0x");
	while (sh > 0 && !((v >> sh) & 0xf))
		sh -= 4;
	for (; sh >= 0; sh -= 4)
		putc_uart("0123456789abcdef"[(v >> sh) & 0xf]);
}

/* The CPU features the VMM gave this vCPU, as the ID registers say. */
static void check_id(void)
{
	u64 pfr0, isar1;

	__asm__ volatile("mrs %0, id_aa64pfr0_el1" : "=r"(pfr0));
	__asm__ volatile("mrs %0, id_aa64isar1_el1" : "=r"(isar1));
	puts_uart("kut: id sve=");
	putu((pfr0 >> 32) & 0xf);
	puts_uart(" apa=");
	putu((isar1 >> 4) & 0xf);
	puts_uart(" api=");
	putu((isar1 >> 8) & 0xf);
	puts_uart(" gpa=");
	putu((isar1 >> 24) & 0xf);
	puts_uart(" gpi=");
	putu((isar1 >> 28) & 0xf);
	puts_uart("\n");
}

/*
 * A post-indexed load from the UART's MCR: its syndrome has no valid ISV,
 * so KVM cannot emulate it.  The handler skips it, so neither the
 * destination nor the base register may change.  Returns 0 if all went as it should.
 */
static int check_nisv(void)
{
	extern const u8 kut_vectors[];
	u64 val = 0x5a5a, addr = (u64)UART_THR + 4, ec;

	__asm__ volatile("msr vbar_el1, %0\n\tisb" : : "r"(kut_vectors) : "memory");
	__asm__ volatile("ldr %w0, [%1], #4" : "+r"(val), "+r"(addr) : : "memory");
	/* EC is ESR bits [31:26]; some KVMs set bits above 31 on injection. */
	ec = (kut_exc_esr >> 26) & 0x3f;
	puts_uart("kut: nisv exc=");
	putu(kut_exc_count);
	puts_uart(" ec=");
	puthex(ec);
	puts_uart(" far=");
	puthex(kut_exc_far);
	puts_uart(" base-moved=");
	putu(addr - ((u64)UART_THR + 4));
	puts_uart(" esr=");
	puthex(kut_exc_esr);
	puts_uart("\n");
	/* 0x25: data abort taken without a change in exception level. */
	return !(kut_exc_count == 1 && ec == 0x25 && val == 0x5a5a &&
		 addr == (u64)UART_THR + 4);
}

static void psci_system_off(void)
{
	register u64 x0 __asm__("x0") = PSCI_SYSTEM_OFF;

	__asm__ volatile("hvc #0" : "+r"(x0) : : "memory");
}

void kut_main(const u8 *fdt);

void kut_main(const u8 *fdt)
{
	u64 start = 0, end = 0;
	const char *args = 0;
	const u8 *p;
	int status = 0, bol = 1;

	puts_uart("kut: hello from EL1, dtb at 0x");
	for (int sh = 60; sh >= 0; sh -= 4)
		putc_uart("0123456789abcdef"[((u64)fdt >> sh) & 0xf]);
	puts_uart("\n");
	if (!fdt_initrd(fdt, &start, &end, &args) || end <= start) {
		puts_uart("kut: FAIL: no initrd in /chosen\n");
		status = 1;
	} else {
		puts_uart("kut: initrd bytes=");
		putu(end - start);
		puts_uart("\n");
		/* Echo the environment, one "ENV: " line per line. */
		for (p = (const u8 *)start; p < (const u8 *)end; p++) {
			if (bol)
				puts_uart("ENV: ");
			putc_uart((char)*p);
			bol = *p == '\n';
		}
		if (!bol)
			putc_uart('\n');
	}
	if (has_word(args, "kut.id"))
		check_id();
	if (has_word(args, "kut.nisv")) {
		if (check_nisv()) {
			puts_uart("kut: FAIL: nisv\n");
			status = 1;
		} else {
			puts_uart("kut: nisv survived\n");
		}
	}
	/* kvm-unit-tests: exit(code) prints (code << 1) | 1. */
	puts_uart("\nEXIT: STATUS=");
	putu(((u64)status << 1) | 1);
	puts_uart("\n");
	psci_system_off();
	puts_uart("kut: FAIL: still running after SYSTEM_OFF\n");
}

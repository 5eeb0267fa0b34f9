// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in for a kvm-unit-tests arm64 test: runs at EL1 with the MMU
 * off, finds its environment the way kvm-unit-tests does (the initrd
 * named by /chosen/linux,initrd-start/-end in the DTB whose address is in
 * x0), echoes every line of it, prints "EXIT: STATUS=<n>" and ends with
 * PSCI SYSTEM_OFF.  All output goes to the 8250 at 0x1000000, byte
 * stores only (MMU off: memory is Device, no unaligned accesses).
 *
 * It carries an arm64 Image header (text_offset 0), so it boots with -k
 * as well as with --firmware.  Built freestanding by
 * scripts/arm64-initramfs.sh.
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

__asm__(
"	.section .text.head, \"ax\"\n"
"	.globl	_start\n"
"_start:\n"
"	b	1f\n"			/* code0 */
"	.long	0\n"			/* code1 */
"	.quad	0\n"			/* text_offset */
"	.quad	0x100000\n"		/* image_size: code + 1 MiB stack */
"	.quad	0xa\n"			/* LE, 4K pages, place anywhere */
"	.quad	0, 0, 0\n"
"	.ascii	\"ARM\\x64\"\n"		/* magic */
"	.long	0\n"
"1:	adr	x1, _start\n"
"	add	x1, x1, #0x100000\n"
"	mov	sp, x1\n"
"	bl	kut_main\n"
"2:	b	2b\n"
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

/* The initrd's bounds from /chosen; 0 if there is none. */
static int fdt_initrd(const u8 *fdt, u64 *start, u64 *end)
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

static void psci_system_off(void)
{
	register u64 x0 __asm__("x0") = PSCI_SYSTEM_OFF;

	__asm__ volatile("hvc #0" : "+r"(x0) : : "memory");
}

void kut_main(const u8 *fdt);

void kut_main(const u8 *fdt)
{
	u64 start = 0, end = 0;
	const u8 *p;
	int status = 0, bol = 1;

	puts_uart("kut: hello from EL1, dtb at 0x");
	for (int sh = 60; sh >= 0; sh -= 4)
		putc_uart("0123456789abcdef"[((u64)fdt >> sh) & 0xf]);
	puts_uart("\n");
	if (!fdt_initrd(fdt, &start, &end) || end <= start) {
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
	/* kvm-unit-tests: exit(code) prints (code << 1) | 1. */
	puts_uart("\nEXIT: STATUS=");
	putu(((u64)status << 1) | 1);
	puts_uart("\n");
	psci_system_off();
	puts_uart("kut: FAIL: still running after SYSTEM_OFF\n");
}

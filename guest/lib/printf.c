// SPDX-License-Identifier: GPL-2.0
/*
 * Polled 8250 console on COM1 and a small printf.
 */
#include "../include/guest.h"

#define COM1		0x3f8
#define UART_THR	0
#define UART_IER	1
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_LSR_THRE	0x20

/* Serialises whole printf() calls so lines from several CPUs don't mix. */
static spinlock_t console_lock;

/*
 * Fatal paths may interrupt a printf() on this CPU; garbled output beats
 * a silent deadlock.
 */
void console_force_unlock(void)
{
	spin_unlock(&console_lock);
}

void serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);	/* polled: no interrupts */
	outb(COM1 + UART_LCR, 0x80);	/* DLAB */
	outb(COM1 + 0, 0x01);		/* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + UART_LCR, 0x03);	/* 8n1 */
	outb(COM1 + UART_FCR, 0x07);	/* enable and clear FIFOs */
	outb(COM1 + UART_MCR, 0x03);	/* DTR | RTS */
}

void serial_putc(char c)
{
	int spins = 100000;

	if (c == '\n')
		serial_putc('\r');
	/* Bounded wait: a missing UART must not hang the test. */
	while (!(inb(COM1 + UART_LSR) & UART_LSR_THRE) && --spins)
		;
	outb(COM1 + UART_THR, c);
}

static void serial_write(const char *s, int n)
{
	while (n-- > 0)
		serial_putc(*s++);
}

void puts(const char *s)
{
	spin_lock(&console_lock);
	serial_write(s, strlen(s));
	serial_putc('\n');
	spin_unlock(&console_lock);
}

struct outbuf {
	char *buf;
	size_t size;
	size_t len;
};

static void out_char(struct outbuf *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_num(struct outbuf *o, unsigned long long v, int base,
		    bool neg, int width, char pad, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (neg)
		width--;
	if (neg && pad == '0')
		out_char(o, '-');
	for (; width > n; width--)
		out_char(o, pad);
	if (neg && pad != '0')
		out_char(o, '-');
	while (n)
		out_char(o, tmp[--n]);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct outbuf o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		int width = 0, lng = 0;
		bool left = false;
		char pad = ' ';
		unsigned long long u;
		long long s;
		const char *str;

		if (*fmt != '%') {
			out_char(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '-') {
			left = true;
			fmt++;
		}
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + *fmt++ - '0';
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		if (*fmt == 'z') {
			lng = 1;
			fmt++;
		}

		switch (*fmt) {
		case 'd':
		case 'i':
			s = lng ? va_arg(ap, long long) : va_arg(ap, int);
			u = s < 0 ? -(unsigned long long)s : (unsigned long long)s;
			out_num(&o, u, 10, s < 0, width, pad, false);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = lng ? va_arg(ap, unsigned long long) :
				  va_arg(ap, unsigned int);
			out_num(&o, u, *fmt == 'u' ? 10 : 16, false, width, pad,
				*fmt == 'X');
			break;
		case 'p':
			out_char(&o, '0');
			out_char(&o, 'x');
			out_num(&o, (uintptr_t)va_arg(ap, void *), 16, false,
				width, pad, false);
			break;
		case 'c':
			out_char(&o, (char)va_arg(ap, int));
			break;
		case 's':
			str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			width -= strlen(str);
			while (!left && width-- > 0)
				out_char(&o, ' ');
			while (*str)
				out_char(&o, *str++);
			while (left && width-- > 0)
				out_char(&o, ' ');
			break;
		case '%':
			out_char(&o, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			out_char(&o, '%');
			out_char(&o, *fmt);
			break;
		}
	}
	if (o.size)
		o.buf[o.len < o.size ? o.len : o.size - 1] = '\0';
	return o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);

	spin_lock(&console_lock);
	serial_write(buf, n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1);
	spin_unlock(&console_lock);
	return n;
}

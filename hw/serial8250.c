// SPDX-License-Identifier: GPL-2.0
/*
 * A 16550A UART, enough for Linux's 8250 driver (autoconfig scratch,
 * loopback and FIFO probes) and for polled bare-metal consoles.  Output
 * goes to stdout as soon as the guest writes it, so THR is always empty;
 * input comes from stdin through the main event loop.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lkvm/exit.h"
#include "lkvm/hw.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/term.h"

#define UART_FIFO_SIZE	16

/* Register offsets. */
#define UART_RX		0	/* RBR/THR, or DLL with DLAB */
#define UART_IER	1	/* or DLM with DLAB */
#define UART_IIR	2	/* read: IIR, write: FCR */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define UART_IER_RDI	0x01
#define UART_IER_THRI	0x02
#define UART_IER_RLSI	0x04
#define UART_IER_MSI	0x08

#define UART_IIR_NO_INT	0x01
#define UART_IIR_MSI	0x00
#define UART_IIR_THRI	0x02
#define UART_IIR_RDI	0x04
#define UART_IIR_RLSI	0x06
#define UART_IIR_FIFO	0xc0

#define UART_FCR_ENABLE	0x01
#define UART_FCR_CLR_RX	0x02

#define UART_LCR_DLAB	0x80

#define UART_MCR_DTR	0x01
#define UART_MCR_RTS	0x02
#define UART_MCR_OUT1	0x04
#define UART_MCR_OUT2	0x08
#define UART_MCR_LOOP	0x10

#define UART_LSR_DR	0x01
#define UART_LSR_BI	0x10
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40
#define UART_LSR_FIFOE	0x80

#define UART_MSR_CTS	0x10
#define UART_MSR_DSR	0x20
#define UART_MSR_RI	0x40
#define UART_MSR_DCD	0x80

#define CTRL_A		0x01

struct serial8250 {
	struct kvm *kvm;
	pthread_mutex_t lock;
	unsigned int irq;
	bool irq_level;
	bool is_console;

	u8 dll, dlm, ier, fcr, lcr, mcr, msr, scr;
	bool thr_ipending;	/* THR-empty interrupt not yet acknowledged */

	u8 rx[UART_FIFO_SIZE];
	bool rx_brk[UART_FIFO_SIZE];	/* received with a break condition */
	unsigned int rx_head, rx_count;

	struct evloop_watch in;
	bool in_watched;	/* stdin polled only while the FIFO has room */
	bool in_eof;
	bool escape;		/* last input byte was Ctrl-A */

	/*
	 * Bytes the guest transmitted during one access, written to stdout
	 * after `lock` is dropped: a stdout nobody reads blocks that vCPU
	 * only, not the main thread's input and SysRq, which take `lock`.
	 */
	u8 tx[8];
	unsigned int nr_tx;
	pthread_mutex_t out_lock;	/* one writer to stdout at a time */
};

static u8 serial8250__iir(const struct serial8250 *s)
{
	u8 fifo = (s->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0;

	/*
	 * Priority order of the 16550: line status (a break at the top of
	 * the FIFO), receive data, THR empty, modem.
	 */
	if ((s->ier & UART_IER_RLSI) && s->rx_count && s->rx_brk[s->rx_head])
		return fifo | UART_IIR_RLSI;
	if ((s->ier & UART_IER_RDI) && s->rx_count)
		return fifo | UART_IIR_RDI;
	if ((s->ier & UART_IER_THRI) && s->thr_ipending)
		return fifo | UART_IIR_THRI;
	if ((s->ier & UART_IER_MSI) && (s->msr & 0x0f))
		return fifo | UART_IIR_MSI;
	return fifo | UART_IIR_NO_INT;
}

/* Called with s->lock held; only edges are sent to the irqchip. */
static void serial8250__update_irq(struct serial8250 *s)
{
	bool level = !(serial8250__iir(s) & UART_IIR_NO_INT);

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	kvm__set_irq_line(s->kvm, s->irq, level);
}

static void serial8250__watch_input(struct serial8250 *s, bool on)
{
	if (!s->is_console || s->in_eof || s->in_watched == on)
		return;
	if (evloop_mod(&s->kvm->loop, &s->in, on ? EPOLLIN : 0) == 0)
		s->in_watched = on;
}

static void serial8250__push_rx_brk(struct serial8250 *s, u8 c, bool brk)
{
	unsigned int at = (s->rx_head + s->rx_count) % UART_FIFO_SIZE;

	if (s->rx_count == UART_FIFO_SIZE)
		return;	/* only loopback can get here: the wire drops it */
	s->rx[at] = c;
	s->rx_brk[at] = brk;
	s->rx_count++;
}

static void serial8250__push_rx(struct serial8250 *s, u8 c)
{
	serial8250__push_rx_brk(s, c, false);
}

/* LSR: data ready, and the error bits of the character at the top. */
static u8 serial8250__lsr(const struct serial8250 *s)
{
	u8 v = UART_LSR_THRE | UART_LSR_TEMT;

	if (!s->rx_count)
		return v;
	v |= UART_LSR_DR;
	if (s->rx_brk[s->rx_head])
		v |= UART_LSR_BI;
	for (unsigned int i = 0; i < s->rx_count; i++)
		if ((s->fcr & UART_FCR_ENABLE) &&
		    s->rx_brk[(s->rx_head + i) % UART_FIFO_SIZE])
			v |= UART_LSR_FIFOE;
	return v;
}

static void serial8250__output(struct serial8250 *s, u8 c)
{
	if (s->mcr & UART_MCR_LOOP) {
		serial8250__push_rx(s, c);
		return;
	}
	if (!s->is_console)
		return;
	/* serial8250__io() writes it: an access is at most 8 bytes wide. */
	if (s->nr_tx < sizeof(s->tx))
		s->tx[s->nr_tx++] = c;
}

/*
 * After `lock` is dropped.  A vCPU's bytes keep their order (its accesses
 * come one after another); two vCPUs transmitting at once may interleave,
 * as on the wire.
 */
static void serial8250__flush_tx(struct serial8250 *s, const u8 *buf,
				 unsigned int n)
{
	ssize_t w;

	/* A console that cannot be written is not worth stopping the guest. */
	if (!n || term__output_lost())
		return;
	pthread_mutex_lock(&s->out_lock);
	while (n) {
		w = write(term__out_fd(), buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			term__output_failed("serial", w < 0 ? errno : EIO);
			break;
		}
		buf += w;
		n -= (unsigned int)w;
	}
	pthread_mutex_unlock(&s->out_lock);
}

static u8 serial8250__read(struct serial8250 *s, unsigned int reg)
{
	u8 v;

	switch (reg) {
	case UART_RX:
		if (s->lcr & UART_LCR_DLAB)
			return s->dll;
		if (!s->rx_count)
			return 0;
		v = s->rx[s->rx_head];
		s->rx_head = (s->rx_head + 1) % UART_FIFO_SIZE;
		s->rx_count--;
		serial8250__watch_input(s, true);
		return v;
	case UART_IER:
		return (s->lcr & UART_LCR_DLAB) ? s->dlm : s->ier;
	case UART_IIR:
		v = serial8250__iir(s);
		/* Reading IIR acknowledges a THR-empty interrupt. */
		if ((v & 0x0f) == UART_IIR_THRI)
			s->thr_ipending = false;
		return v;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return serial8250__lsr(s);
	case UART_MSR:
		if (s->mcr & UART_MCR_LOOP) {
			/* Loopback wires the modem outputs to the inputs. */
			v = 0;
			if (s->mcr & UART_MCR_DTR)
				v |= UART_MSR_DSR;
			if (s->mcr & UART_MCR_RTS)
				v |= UART_MSR_CTS;
			if (s->mcr & UART_MCR_OUT1)
				v |= UART_MSR_RI;
			if (s->mcr & UART_MCR_OUT2)
				v |= UART_MSR_DCD;
			return v;
		}
		v = s->msr;
		s->msr &= 0xf0;	/* delta bits clear on read */
		return v;
	default:
		return s->scr;
	}
}

static void serial8250__write(struct serial8250 *s, unsigned int reg, u8 v)
{
	switch (reg) {
	case UART_RX:
		if (s->lcr & UART_LCR_DLAB) {
			s->dll = v;
			break;
		}
		/* Sent at once, so the THR is empty again straight away. */
		serial8250__output(s, v);
		s->thr_ipending = true;
		break;
	case UART_IER:
		if (s->lcr & UART_LCR_DLAB) {
			s->dlm = v;
			break;
		}
		/* Enabling THRI while THR is empty raises it, as on a 16550. */
		if (!(s->ier & UART_IER_THRI) && (v & UART_IER_THRI))
			s->thr_ipending = true;
		s->ier = v & 0x0f;
		break;
	case UART_IIR:
		if (v & UART_FCR_CLR_RX) {
			s->rx_count = 0;
			serial8250__watch_input(s, true);
		}
		s->fcr = v & (UART_FCR_ENABLE | 0xc0);
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_LSR:
	case UART_MSR:
		break;	/* read-only on real hardware too */
	default:
		s->scr = v;
		break;
	}
}

static void serial8250__io(void *opaque, u64 offset, void *data, u32 len,
			   bool is_write)
{
	struct serial8250 *s = opaque;
	u8 *p = data, tx[sizeof(s->tx)];
	unsigned int nr_tx;

	pthread_mutex_lock(&s->lock);
	/* Wider accesses act byte by byte on consecutive registers. */
	for (u32 i = 0; i < len && offset + i < 8; i++) {
		if (is_write)
			serial8250__write(s, (unsigned int)(offset + i), p[i]);
		else
			p[i] = serial8250__read(s, (unsigned int)(offset + i));
	}
	serial8250__update_irq(s);
	nr_tx = s->nr_tx;
	memcpy(tx, s->tx, nr_tx);
	s->nr_tx = 0;
	pthread_mutex_unlock(&s->lock);
	serial8250__flush_tx(s, tx, nr_tx);
}

/*
 * Ctrl-A x quits (as in QEMU) when stdin is a raw terminal, since Ctrl-C
 * then goes to the guest; Ctrl-A Ctrl-A sends one Ctrl-A.
 */
static bool serial8250__escape(struct serial8250 *s, u8 c)
{
	if (!term__is_raw())
		return false;
	if (s->escape) {
		s->escape = false;
		if (c == 'x') {
			kvm__request_stop(s->kvm, LKVM_EXIT_SIGNAL_BASE + 2);
			return true;
		}
		return c != CTRL_A;
	}
	if (c == CTRL_A) {
		s->escape = true;
		return true;
	}
	return false;
}

static void serial8250__on_input(void *opaque, u32 events __unused)
{
	struct serial8250 *s = opaque;
	u8 buf[UART_FIFO_SIZE];
	ssize_t n;

	pthread_mutex_lock(&s->lock);
	/*
	 * Filled meanwhile by loopback or a SysRq: wait for room (a read of
	 * 0 bytes would return 0, which looks like end of file).
	 */
	if (s->rx_count == UART_FIFO_SIZE) {
		serial8250__watch_input(s, false);
		pthread_mutex_unlock(&s->lock);
		return;
	}
	n = read(s->in.fd, buf, UART_FIFO_SIZE - s->rx_count);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* EOF or an unreadable stdin: stop polling it for good. */
		evloop_del(&s->kvm->loop, &s->in);
		s->in_eof = true;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (!serial8250__escape(s, buf[i]))
			serial8250__push_rx(s, buf[i]);
	}
	if (s->rx_count == UART_FIFO_SIZE)
		serial8250__watch_input(s, false);
	serial8250__update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

/*
 * Magic SysRq, main thread: a break (received as a NUL with LSR BI, which
 * Linux's 8250 driver hands to uart_handle_break()) and then @key, which
 * the driver takes as the SysRq command within the next five seconds.
 */
static int serial8250__sysrq(void *dev, char key)
{
	struct serial8250 *s = dev;
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	if (UART_FIFO_SIZE - s->rx_count < 2) {
		ret = -EBUSY;	/* the guest is not reading its console */
	} else {
		serial8250__push_rx_brk(s, 0, true);
		serial8250__push_rx(s, (u8)key);
		serial8250__update_irq(s);
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static void serial8250__free(void *opaque)
{
	struct serial8250 *s = opaque;

	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->out_lock);
	free(s);
}

int serial8250__init(struct kvm *kvm, struct bus *bus, u64 base,
		     unsigned int irq, bool is_console)
{
	struct serial8250 *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->out_lock, NULL);
	s->kvm = kvm;
	s->irq = irq;
	s->is_console = is_console;
	s->mcr = UART_MCR_OUT2;
	s->msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	s->in.fd = term__in_fd();
	s->in.cb = serial8250__on_input;
	s->in.opaque = s;

	ret = kvm__on_exit(kvm, serial8250__free, s);
	if (ret) {
		serial8250__free(s);
		return ret;
	}
	ret = bus_register(bus, base, 8, serial8250__io, s, "serial8250");
	if (ret)
		return ret;
	if (is_console) {
		kvm__set_console_sysrq(kvm, serial8250__sysrq, s);
		/* stdin may be a file or /dev/null (CI): then input is off. */
		if (evloop_add(&kvm->loop, &s->in, EPOLLIN) == 0)
			s->in_watched = true;
		else
			s->in_eof = true;
	}
	return 0;
}

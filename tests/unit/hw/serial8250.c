// SPDX-License-Identifier: GPL-2.0
/*
 * hw/serial8250.c: Magic SysRq through kvm__sysrq().  Linux's 8250 driver
 * sees a SysRq as a break (LSR BI with a NUL received) followed by the
 * key; the break raises the line-status interrupt and BI belongs to the
 * NUL only.  A UART that is not the console takes no SysRq.  Console
 * input that arrives while the FIFO is full (here: SysRqs the guest has
 * not read) waits for room instead of being taken for end of file.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "lkvm/control.h"
#include "lkvm/hw.h"
#include "lkvm/kvm.h"
#include "tap.h"

#define COM1	0x3f8
#define LSR	(COM1 + 5)
#define IIR	(COM1 + 2)
#define IER	(COM1 + 1)

static struct kvm kvm;
static struct lkvm_config cfg;

int __wrap_kvm__set_irq_line(struct kvm *k, unsigned int irq, int level);
int __wrap_kvm__set_irq_line(struct kvm *k, unsigned int irq, int level)
{
	(void)k;
	(void)irq;
	(void)level;
	return 0;
}

static u8 in8(u64 port)
{
	u8 v = 0xaa;

	bus_dispatch(&kvm.pio_bus, port, &v, 1, false);
	return v;
}

static void out8(u64 port, u8 v)
{
	bus_dispatch(&kvm.pio_bus, port, &v, 1, true);
}

static void *loop_thread(void *arg)
{
	evloop_run(arg);
	return NULL;
}

/* Reads COM1 until @c arrives: true, or false after 10 s. */
static bool receive(u8 c)
{
	for (int i = 0; i < 100000; i++) {
		if ((in8(LSR) & 0x01) && in8(COM1) == c)
			return true;
		usleep(100);
	}
	return false;
}

int main(void)
{
	int ret = 0, in[2];
	pthread_t loop;

	tap_plan(15);
	/* The console's input: a pipe on stdin, as term__in_fd() reads. */
	if (pipe(in) || dup2(in[0], STDIN_FILENO) < 0 ||
	    fcntl(STDIN_FILENO, F_SETFL, O_NONBLOCK) < 0)
		return 1;
	kvm.cfg = &cfg;
	kvm.sys_fd = kvm.vm_fd = -1;
	pthread_mutex_init(&kvm.stop_lock, NULL);
	evloop_init(&kvm.loop);
	bus_init(&kvm.pio_bus, "pio");
	bus_init(&kvm.mmio_bus, "mmio");

	is_int(kvm__sysrq(&kvm, 'h'), -ENOTSUP, "no console: -ENOTSUP");
	is_int(serial8250__init(&kvm, &kvm.pio_bus, 0x2f8, 3, false), 0,
	       "a UART that is not the console");
	is_int(kvm__sysrq(&kvm, 'h'), -ENOTSUP,
	       "... takes no SysRq (--console virtio)");
	is_int(serial8250__init(&kvm, &kvm.pio_bus, COM1, 4, true), 0,
	       "the console UART");
	is_int(kvm__sysrq(&kvm, 0), -EINVAL, "NUL is not a SysRq key");

	out8(COM1 + 2, 0x01);		/* FIFO on, as Linux runs it */
	out8(IER, 0x05);		/* RDI | RLSI */
	is_int(kvm__sysrq(&kvm, 't'), 0, "SysRq t");
	is_int(in8(LSR) & 0x91, 0x91, "LSR: DR, BI and FIFO error");
	is_int(in8(IIR) & 0x0f, 0x06, "IIR: line status interrupt");
	is_int(in8(COM1), 0, "the break is received as a NUL");
	is_int(in8(LSR) & 0x91, 0x01, "LSR: the key that follows has no BI");
	is_int(in8(IIR) & 0x0f, 0x04, "IIR: received data");
	is_int(in8(COM1), 't', "then the key");
	is_int(in8(LSR) & 0x01, 0, "FIFO empty");

	/* A guest that never reads its console: the FIFO fills up. */
	for (int i = 0; i < 10 && !ret; i++)
		ret = kvm__sysrq(&kvm, 's');
	is_int(ret, -EBUSY, "full FIFO: -EBUSY, nothing half-sent");

	/* A key typed now waits until the guest has read the FIFO. */
	if (write(in[1], "x", 1) != 1 ||
	    pthread_create(&loop, NULL, loop_thread, &kvm.loop))
		return 1;
	usleep(100000);
	ok(receive('x'), "input while the FIFO was full arrives once it has room");
	evloop_stop(&kvm.loop);
	pthread_join(loop, NULL);

	kvm__exit(&kvm);
	return tap_done();
}

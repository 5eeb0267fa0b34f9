// SPDX-License-Identifier: GPL-2.0
/*
 * hw/serial8250.c: Magic SysRq through kvm__sysrq().  Linux's 8250 driver
 * sees a SysRq as a break (LSR BI with a NUL received) followed by the
 * key; the break raises the line-status interrupt and BI belongs to the
 * NUL only.  A UART that is not the console takes no SysRq.
 */
#include <errno.h>

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

int main(void)
{
	int ret = 0;

	tap_plan(14);
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

	kvm__exit(&kvm);
	return tap_done();
}

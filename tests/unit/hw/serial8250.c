// SPDX-License-Identifier: GPL-2.0
/*
 * hw/serial8250.c: Magic SysRq through kvm__sysrq().  Linux's 8250 driver
 * sees a SysRq as a break (LSR BI with a NUL received) followed by the
 * key; the break raises the line-status interrupt and BI belongs to the
 * NUL only.  A UART that is not the console takes no SysRq.  Console
 * input that arrives while the FIFO is full (here: SysRqs the guest has
 * not read) waits for room instead of being taken for end of file.  A
 * vCPU blocked writing a stdout nobody reads does not hold up a SysRq
 * (the main thread's).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
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

static void *thr_thread(void *arg)
{
	(void)arg;
	out8(COM1, 'A');	/* blocks in write() until stdout drains */
	return NULL;
}

static int sysrq_ret = 1;

static void *sysrq_thread(void *arg)
{
	(void)arg;
	__atomic_store_n(&sysrq_ret, kvm__sysrq(&kvm, 'h'), __ATOMIC_RELEASE);
	return NULL;
}

/*
 * stdout a full pipe: a vCPU's THR write blocks; a SysRq must still get
 * through within 10 s.  Returns whether it did; prints nothing while
 * stdout is the pipe.
 */
static bool sysrq_while_output_blocked(void)
{
	int out[2], saved, flags, done = 0;
	pthread_t thr, rq;
	char junk[4096];

	fflush(stdout);
	if (pipe(out) || (saved = dup(STDOUT_FILENO)) < 0)
		return false;
	flags = fcntl(out[1], F_GETFL);
	fcntl(out[1], F_SETFL, flags | O_NONBLOCK);
	memset(junk, 'j', sizeof(junk));
	while (write(out[1], junk, sizeof(junk)) > 0)
		;
	fcntl(out[1], F_SETFL, flags);
	dup2(out[1], STDOUT_FILENO);
	pthread_create(&thr, NULL, thr_thread, NULL);
	usleep(200 * 1000);			/* into its write() */
	pthread_create(&rq, NULL, sysrq_thread, NULL);
	for (int i = 0; i < 1000 && !done; i++) {
		done = __atomic_load_n(&sysrq_ret, __ATOMIC_ACQUIRE) <= 0;
		usleep(10 * 1000);
	}
	fcntl(out[0], F_SETFL, O_NONBLOCK);	/* drain: the write ends */
	for (int i = 0; i < 1000; i++) {
		if (read(out[0], junk, sizeof(junk)) <= 0 && i > 10)
			break;
		usleep(1000);
	}
	pthread_join(thr, NULL);
	pthread_join(rq, NULL);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(out[0]);
	close(out[1]);
	return done;
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

	tap_plan(16);
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

	ok(sysrq_while_output_blocked(),
	   "a SysRq gets through while a vCPU waits on a stdout nobody reads");

	kvm__exit(&kvm);
	return tap_done();
}

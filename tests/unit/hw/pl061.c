// SPDX-License-Identifier: GPL-2.0
/*
 * hw/pl061.c: the PL061 GPIO registers as ARM DDI 0190 describes them
 * (GPIODATA's address mask, direction, edge and level interrupts, raw and
 * masked status, GPIOIC, the PrimeCell IDs), the interrupt line it
 * drives, and the timed key press lkvm stop uses on arm64, driven the
 * way Linux's gpio-pl061 + gpio-keys drive it.  kvm__set_irq_line is
 * wrapped to record the line's level and every change of it.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "lkvm/hw.h"
#include "lkvm/kvm.h"
#include "tap.h"

#define BASE	0x9030000ULL
#define IRQ	7

#define DIR	0x400
#define IS	0x404
#define IBE	0x408
#define IEV	0x40c
#define IE	0x410
#define RIS	0x414
#define MIS	0x418
#define IC	0x41c
#define AFSEL	0x420

static struct kvm kvm;
static struct lkvm_config cfg;
static struct pl061 *g;
static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static int irq_level = -1, irq_calls, irq_repeats;

int __wrap_kvm__set_irq_line(struct kvm *k, unsigned int irq, int level);
int __wrap_kvm__set_irq_line(struct kvm *k, unsigned int irq, int level)
{
	(void)k;
	if (irq != IRQ)
		return 0;
	pthread_mutex_lock(&rec_lock);
	/* The device drives changes only: the same level twice is a bug. */
	if (level == irq_level)
		irq_repeats++;
	irq_level = level;
	irq_calls++;
	pthread_mutex_unlock(&rec_lock);
	return 0;
}

static u32 rd(u64 off)
{
	u32 v = 0xdeadbeef;

	bus_dispatch(&kvm.mmio_bus, BASE + off, &v, 4, false);
	return v;
}

static u8 rdb(u64 off)
{
	u8 v = 0xee;

	bus_dispatch(&kvm.mmio_bus, BASE + off, &v, 1, false);
	return v;
}

static void wr(u64 off, u32 v)
{
	bus_dispatch(&kvm.mmio_bus, BASE + off, &v, 4, true);
}

/* Linux's gpio-pl061 uses byte accesses throughout. */
static void wrb(u64 off, u8 v)
{
	bus_dispatch(&kvm.mmio_bus, BASE + off, &v, 1, true);
}

/* GPIODATA with every line in the mask / with only @mask in it. */
#define DATA_ALL	0x3fc
#define DATA(mask)	((u64)(mask) << 2)

static void reset_irq_config(void)
{
	wr(IE, 0);
	wr(IS, 0);
	wr(IBE, 0);
	wr(IEV, 0);
	wr(IC, 0xff);
	wr(DIR, 0);
}

static void test_ids_reset(void)
{
	static const u8 want[8] = { 0x61, 0x10, 0x04, 0x00,
				    0x0d, 0xf0, 0x05, 0xb1 };
	bool ids = true;

	for (int i = 0; i < 8; i++)
		ids &= rd(0xfe0 + 4 * (u64)i) == want[i];
	ok(ids, "PeriphID0-3 61 10 04 00, PCellID0-3 0d f0 05 b1");
	ok(rd(DIR) == 0 && rd(IS) == 0 && rd(IBE) == 0 && rd(IEV) == 0 &&
	   rd(IE) == 0 && rd(RIS) == 0 && rd(MIS) == 0 && rd(AFSEL) == 0,
	   "reset: every line an input, no interrupt configured or pending");
	is_int(rd(DATA_ALL), 0, "reset: GPIODATA reads 0 (nothing driven)");
	is_int(rd(0x424), 0, "reserved register reads 0");
	wr(AFSEL, 0x5a);
	is_int(rd(AFSEL), 0x5a, "GPIOAFSEL stores what is written");
	wr(AFSEL, 0);
	wr(DIR, 0x1ff);
	is_int(rd(DIR), 0xff, "registers hold 8 bits: the upper 24 read 0");
	wrb(DIR + 1, 0xff);
	is_int(rd(DIR), 0xff, "a byte write above bit 7 changes nothing");
	is_int(rdb(0xfe0 + 1), 0, "a byte read above bit 7 reads 0");
	wr(DIR, 0);
}

static void test_data_mask(void)
{
	wr(DIR, 0x0f);			/* lines 0-3 out, 4-7 in */
	wr(DATA_ALL, 0xff);
	is_int(rd(DATA_ALL), 0x0f, "write of 0xff: only the outputs take it");
	wr(DATA(0x01), 0x00);
	is_int(rd(DATA_ALL), 0x0e, "write through mask 0x01 clears line 0 only");
	wr(DATA(0x0c), 0x00);
	is_int(rd(DATA_ALL), 0x02, "write through mask 0x0c clears lines 2, 3");
	wr(DATA(0x00), 0xff);
	is_int(rd(DATA_ALL), 0x02, "write through an empty mask changes nothing");
	is_int(rd(DATA(0x02)), 0x02, "read through mask 0x02 sees line 1");
	is_int(rd(DATA(0xfd)), 0, "read through a mask without line 1: 0");

	pl061__set_input(g, 6, true);
	is_int(rd(DATA_ALL), 0x42, "an input driven high reads 1");
	is_int(rd(DATA(0x40)), 0x40, "... through a mask with its bit");
	is_int(rd(DATA(0x0f)), 0x02, "... and 0 through a mask without it");
	pl061__set_input(g, 1, false);
	is_int(rd(DATA(0x02)), 0x02, "an output ignores what drives its input");
	wr(DIR, 0x00);
	is_int(rd(DATA_ALL), 0x40, "turned into an input, line 1 reads its input");
	pl061__set_input(g, 6, false);
	wr(DIR, 0x0f);
	wr(DATA_ALL, 0);
	is_int(rd(DATA_ALL), 0, "outputs cleared");
	wr(DIR, 0);
	is_int(pl061__set_input(g, PL061_LINES, true), -EINVAL,
	       "line 8 does not exist: -EINVAL");
	is_int(pl061__set_input(NULL, 0, true), -ENOTSUP,
	       "no PL061: -ENOTSUP");
}

static void test_edges(void)
{
	reset_irq_config();
	irq_calls = 0;

	/* Rising edge on line 3, masked first. */
	wr(IEV, 0x08);
	pl061__set_input(g, 3, true);
	ok(rd(RIS) == 0x08 && rd(MIS) == 0, "rising edge: RIS set, MIS not (IE clear)");
	is_int(irq_calls, 0, "no interrupt while masked");
	wr(IE, 0x08);
	ok(rd(MIS) == 0x08 && irq_level == 1,
	   "unmasking a latched edge raises the interrupt");
	pl061__set_input(g, 3, false);
	ok(rd(RIS) == 0x08 && irq_level == 1,
	   "an edge stays latched when the line falls again");
	wr(IC, 0x04);
	ok(rd(RIS) == 0x08 && irq_level == 1, "GPIOIC of another line: no effect");
	wr(IC, 0x08);
	ok(rd(RIS) == 0 && rd(MIS) == 0 && irq_level == 0,
	   "GPIOIC clears the edge and drops the interrupt");
	pl061__set_input(g, 3, false);
	is_int(rd(RIS), 0, "no change, no edge");

	/* Falling edge only. */
	wr(IEV, 0);
	pl061__set_input(g, 3, true);
	ok(rd(RIS) == 0 && irq_level == 0, "IEV=0: a rising edge is not latched");
	pl061__set_input(g, 3, false);
	ok(rd(RIS) == 0x08 && irq_level == 1, "IEV=0: a falling edge is");
	wr(IC, 0x08);

	/* Both edges: GPIOIEV does not matter. */
	wr(IBE, 0x08);
	pl061__set_input(g, 3, true);
	ok(rd(RIS) == 0x08 && irq_level == 1, "IBE: rising edge latched");
	wr(IC, 0x08);
	pl061__set_input(g, 3, false);
	ok(rd(RIS) == 0x08 && irq_level == 1, "IBE: falling edge latched");
	wr(IC, 0x08);
	is_int(irq_level, 0, "cleared");

	/* An output line makes edges too. */
	reset_irq_config();
	wr(DIR, 0x01);
	wr(IEV, 0x01);
	wr(IE, 0x01);
	wr(DATA(0x01), 0x01);
	ok(rd(RIS) == 0x01 && irq_level == 1, "an output driven high: rising edge");
	wr(IC, 0x01);
	wr(DATA(0x01), 0x00);
	wr(DIR, 0);
	is_int(irq_repeats, 0, "the line is only ever driven to a new level");
}

static void test_levels(void)
{
	reset_irq_config();
	wr(IS, 0x20);
	wr(IEV, 0x20);
	wr(IE, 0x20);
	is_int(irq_level, 0, "level high, line low: no interrupt");
	pl061__set_input(g, 5, true);
	ok(rd(RIS) == 0x20 && irq_level == 1, "level high: raised while high");
	wr(IC, 0x20);
	ok(rd(RIS) == 0x20 && irq_level == 1, "GPIOIC does not clear a level");
	pl061__set_input(g, 5, false);
	ok(rd(RIS) == 0 && irq_level == 0, "level gone: interrupt dropped");
	wr(IEV, 0);
	ok(rd(RIS) == 0x20 && irq_level == 1, "level low (IEV=0): raised while low");
	wr(IE, 0);
	ok(rd(RIS) == 0x20 && rd(MIS) == 0 && irq_level == 0,
	   "masked: RIS still set, MIS and the interrupt clear");
	/* A level line never latches: turned edge, nothing is pending. */
	wr(IS, 0);
	wr(IE, 0x20);
	is_int(rd(RIS), 0, "switched to edge: no stale level status");
	reset_irq_config();
	is_int(irq_repeats, 0, "still no redundant line changes");
}

static void test_access_shapes(void)
{
	u32 v = 0xffffffff;

	wr(IEV, 0x12);
	v = 0;
	bus_dispatch(&kvm.mmio_bus, BASE + IEV - 2, &v, 4, false);
	is_int(v, 0, "a word read straddling two registers reads 0");
	v = 0xffffffff;
	bus_dispatch(&kvm.mmio_bus, BASE + IEV - 2, &v, 4, true);
	is_int(rd(IEV), 0x12, "a word write straddling two registers is dropped");
	is_int(rdb(IEV), 0x12, "a byte read of a register's bits 7:0");
	wrb(IEV, 0x34);
	is_int(rd(IEV), 0x34, "a byte write of them (as Linux's driver does)");
	wr(IEV, 0);
}

/*
 * What Linux does for gpio-keys on line 3: gpio-pl061 sets the line to
 * both edges and unmasks it; its handler reads GPIOMIS, acks with GPIOIC;
 * gpio-keys then reads the line through GPIODATA's mask.
 */
static void *loop_thread(void *arg)
{
	evloop_run(arg);
	return NULL;
}

static void test_press(void)
{
	struct timespec t0, t1;
	pthread_t th;
	bool released = false;
	u8 mis, lvl;
	double ms;

	reset_irq_config();
	wrb(IBE, 0x08);
	wrb(IE, 0x08);
	irq_calls = 0;
	is_int(pl061__press(NULL, 3, 100), -ENOTSUP, "press without a PL061: -ENOTSUP");
	is_int(pl061__press(g, 8, 100), -EINVAL, "press of line 8: -EINVAL");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(pl061__press(g, 3, 100), 0, "press line 3 for 100 ms");
	is_int(irq_level, 1, "press: interrupt raised");
	mis = rdb(MIS);
	wrb(IC, mis);
	lvl = rdb(DATA(0x08));
	ok(mis == 0x08 && lvl == 0x08 && irq_level == 0,
	   "handler: MIS names line 3, acked; the line reads pressed");

	pthread_create(&th, NULL, loop_thread, &kvm.loop);
	/* The release comes from the main loop's timer: wait, capped at 10 s. */
	for (int i = 0; i < 10000 && !released; i++) {
		struct timespec d = { 0, 1000000 };

		pthread_mutex_lock(&rec_lock);
		released = irq_level == 1;
		pthread_mutex_unlock(&rec_lock);
		if (!released)
			nanosleep(&d, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	evloop_stop(&kvm.loop);
	pthread_join(th, NULL);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	ok(released, "release: the falling edge raises the interrupt again");
	diag("press to release: %.1f ms (hold 100 ms)", ms);
	mis = rdb(MIS);
	wrb(IC, mis);
	lvl = rdb(DATA(0x08));
	ok(mis == 0x08 && lvl == 0 && irq_level == 0,
	   "handler: MIS names line 3, acked; the line reads released");
	is_int(irq_calls, 4, "one press, one release: four line changes");
	reset_irq_config();
}

/*
 * vCPU threads and the main thread at once: one thread toggles an input,
 * another acks and reads; the line must still only ever move to a new
 * level, and end consistent with the registers.
 */
static void *toggler(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20000; i++)
		pl061__set_input(g, 2, i & 1);
	return NULL;
}

static void *acker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20000; i++) {
		u8 m = rdb(MIS);

		if (m)
			wrb(IC, m);
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t a, b;

	reset_irq_config();
	wr(IBE, 0x04);
	wr(IE, 0x04);
	irq_repeats = 0;
	pthread_create(&a, NULL, toggler, NULL);
	pthread_create(&b, NULL, acker, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	is_int(irq_repeats, 0, "threads: the line never driven to the level it had");
	ok(irq_level == ((rd(MIS) & 0x04) != 0),
	   "threads: the line ends equal to GPIOMIS != 0");
	reset_irq_config();
}

int main(void)
{
	tap_plan(59);
	kvm.cfg = &cfg;
	kvm.sys_fd = kvm.vm_fd = -1;
	pthread_mutex_init(&kvm.stop_lock, NULL);
	evloop_init(&kvm.loop);
	bus_init(&kvm.pio_bus, "pio");
	bus_init(&kvm.mmio_bus, "mmio");

	is_int(pl061__init(&kvm, &kvm.mmio_bus, BASE, IRQ, &g), 0, "init");
	test_ids_reset();
	test_data_mask();
	test_edges();
	test_levels();
	test_access_shapes();
	test_press();
	test_threads();

	kvm__exit(&kvm);
	return tap_done();
}

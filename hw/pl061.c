// SPDX-License-Identifier: GPL-2.0
/*
 * ARM PrimeCell PL061 GPIO controller (ARM DDI 0190), 8 lines, as QEMU's
 * virt board has one: there its line 3 is a gpio-keys KEY_POWER, which
 * is how `lkvm stop` asks an arm64 guest to power off.
 *
 *   0x000-0x3fc GPIODATA   address bits 9:2 mask the access: a read sees
 *                          only the masked lines (others read 0), a write
 *                          changes only masked lines that are outputs
 *   0x400 GPIODIR    1 = output
 *   0x404 GPIOIS     1 = level-sensitive, 0 = edge
 *   0x408 GPIOIBE    1 = both edges (GPIOIEV ignored)
 *   0x40c GPIOIEV    1 = rising edge / high level
 *   0x410 GPIOIE     1 = interrupt unmasked
 *   0x414 GPIORIS    raw status: latched edges, current level matches
 *   0x418 GPIOMIS    GPIORIS & GPIOIE; the interrupt line is its OR
 *   0x41c GPIOIC     write 1 to clear a latched edge
 *   0x420 GPIOAFSEL  stored; there is no hardware control to hand over to
 *   0xfe0-0xffc      peripheral ID 0x00041061, PrimeCell ID 0xb105f00d,
 *                    one byte per word (Linux's AMBA bus matches on them)
 *
 * A line's level is its output latch when it is an output, else what
 * the board drives into it (pl061__set_input).  Every register holds 8
 * bits; the upper 24 read 0 and ignore writes.
 *
 * vCPU threads (register accesses) and the main thread (inputs, the key
 * timer) share the state under one mutex; the interrupt line is driven
 * under it too, so the levels KVM sees follow the register updates in
 * order.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lkvm/bus.h"
#include "lkvm/hw.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"

#define PL061_DATA_END	0x400
#define PL061_DIR	0x400
#define PL061_IS	0x404
#define PL061_IBE	0x408
#define PL061_IEV	0x40c
#define PL061_IE	0x410
#define PL061_RIS	0x414
#define PL061_MIS	0x418
#define PL061_IC	0x41c
#define PL061_AFSEL	0x420
#define PL061_ID_BASE	0xfe0

static const u8 pl061_ids[8] = {
	0x61, 0x10, 0x04, 0x00,		/* GPIOPeriphID0-3: part 0x061, ARM */
	0x0d, 0xf0, 0x05, 0xb1,		/* GPIOPCellID0-3 */
};

struct pl061 {
	struct kvm *kvm;
	struct bus *bus;
	u64 base;
	pthread_mutex_t lock;
	unsigned int irq;
	bool irq_level;		/* what the line was last driven to */
	u8 out;			/* GPIODATA output latch */
	u8 in;			/* levels the board drives into the lines */
	u8 pins;		/* line levels as last seen by the edge logic */
	u8 dir, is, ibe, iev, ie, afsel;
	u8 edges;		/* latched edge status (GPIORIS of edge lines) */
	/* pl061__press: lines to release when the timer fires. */
	u8 held;
	struct evloop_watch timer;
	bool timer_added;
};

static u8 pl061__levels(const struct pl061 *g)
{
	return (u8)((g->out & g->dir) | (g->in & ~g->dir));
}

static u8 pl061__ris(const struct pl061 *g)
{
	/* Level lines report "level matches GPIOIEV" for as long as it does. */
	u8 level = (u8)(~(g->pins ^ g->iev) & g->is);

	return (u8)((g->edges & ~g->is) | level);
}

/*
 * Called with g->lock held after anything that can move a line or the
 * interrupt configuration: latches the edges the lines just made, then
 * drives the interrupt to GPIOMIS != 0.
 */
static void pl061__update(struct pl061 *g)
{
	u8 now = pl061__levels(g), changed = now ^ g->pins;
	u8 rising = changed & now, falling = changed & g->pins;
	u8 edge = (u8)((changed & g->ibe) |
		       (~g->ibe & ((rising & g->iev) | (falling & ~g->iev))));
	bool level;

	g->edges |= (u8)(edge & ~g->is);
	g->pins = now;
	level = (pl061__ris(g) & g->ie) != 0;
	if (level == g->irq_level)
		return;
	g->irq_level = level;
	kvm__set_irq_line(g->kvm, g->irq, level);
}

/* The 32-bit register at @reg; called with g->lock held. */
static u32 pl061__read(struct pl061 *g, u64 reg)
{
	if (reg < PL061_DATA_END)
		return pl061__levels(g) & (u8)(reg >> 2);
	switch (reg) {
	case PL061_DIR:		return g->dir;
	case PL061_IS:		return g->is;
	case PL061_IBE:		return g->ibe;
	case PL061_IEV:		return g->iev;
	case PL061_IE:		return g->ie;
	case PL061_RIS:		return pl061__ris(g);
	case PL061_MIS:		return pl061__ris(g) & g->ie;
	case PL061_AFSEL:	return g->afsel;
	}
	if (reg >= PL061_ID_BASE)
		return pl061_ids[(reg - PL061_ID_BASE) / 4];
	return 0;	/* GPIOIC is write-only; the rest is reserved */
}

static void pl061__write(struct pl061 *g, u64 reg, u8 v)
{
	u8 mask;

	if (reg < PL061_DATA_END) {
		mask = (u8)(reg >> 2) & g->dir;
		g->out = (u8)((g->out & ~mask) | (v & mask));
		return;
	}
	switch (reg) {
	case PL061_DIR:		g->dir = v; break;
	case PL061_IS:		g->is = v; break;
	case PL061_IBE:		g->ibe = v; break;
	case PL061_IEV:		g->iev = v; break;
	case PL061_IE:		g->ie = v; break;
	case PL061_IC:		g->edges &= (u8)~v; break;
	case PL061_AFSEL:	g->afsel = v; break;
	}
}

static void pl061__mmio(void *opaque, u64 offset, void *data, u32 len,
			bool is_write)
{
	struct pl061 *g = opaque;
	u64 reg = offset & ~3ULL;
	unsigned int shift = 8 * (unsigned int)(offset & 3);
	u32 v = 0;

	/* Registers are words; an access that straddles two is not decoded. */
	if ((offset & 3) + len > 4) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&g->lock);
	if (is_write) {
		memcpy(&v, data, len);
		/* Only bits 7:0 hold anything: a write above them is lost. */
		if (!shift) {
			pl061__write(g, reg, (u8)v);
			pl061__update(g);
		}
	} else {
		v = pl061__read(g, reg) >> shift;
		memcpy(data, &v, len);
	}
	pthread_mutex_unlock(&g->lock);
}

int pl061__set_input(struct pl061 *g, unsigned int line, bool level)
{
	if (!g)
		return -ENOTSUP;
	if (line >= PL061_LINES)
		return -EINVAL;
	pthread_mutex_lock(&g->lock);
	if (level)
		g->in |= (u8)(1u << line);
	else
		g->in &= (u8)~(1u << line);
	pl061__update(g);
	pthread_mutex_unlock(&g->lock);
	return 0;
}

static void pl061__release(void *opaque, u32 events __unused)
{
	struct pl061 *g = opaque;
	u64 n;

	if (read(g->timer.fd, &n, sizeof(n)) != sizeof(n))
		return;
	pthread_mutex_lock(&g->lock);
	g->in &= (u8)~g->held;
	g->held = 0;
	pl061__update(g);
	pthread_mutex_unlock(&g->lock);
}

int pl061__press(struct pl061 *g, unsigned int line, unsigned int hold_ms)
{
	struct itimerspec its = {
		.it_value.tv_sec = hold_ms / 1000,
		.it_value.tv_nsec = (long)(hold_ms % 1000) * 1000000L,
	};
	int ret = 0;

	if (!g)
		return -ENOTSUP;
	if (line >= PL061_LINES || !hold_ms)
		return -EINVAL;
	pthread_mutex_lock(&g->lock);
	/* Pressed again while held: the hold starts over, no new edge. */
	if (timerfd_settime(g->timer.fd, 0, &its, NULL)) {
		ret = -errno;
	} else {
		g->held |= (u8)(1u << line);
		g->in |= (u8)(1u << line);
		pl061__update(g);
	}
	pthread_mutex_unlock(&g->lock);
	return ret;
}

static void pl061__free(void *opaque)
{
	struct pl061 *g = opaque;

	if (g->timer_added)
		evloop_del(&g->kvm->loop, &g->timer);
	if (g->timer.fd >= 0)
		close(g->timer.fd);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* The exit hook: the bus range goes first, so no vCPU reaches @g after. */
static void pl061__exit(void *opaque)
{
	struct pl061 *g = opaque;

	bus_unregister(g->bus, g->base);
	pl061__free(g);
}

int pl061__init(struct kvm *kvm, struct bus *bus, u64 base, unsigned int irq,
		struct pl061 **out)
{
	struct pl061 *g = calloc(1, sizeof(*g));
	int ret;

	if (!g)
		return -ENOMEM;
	g->kvm = kvm;
	g->bus = bus;
	g->base = base;
	g->irq = irq;
	pthread_mutex_init(&g->lock, NULL);
	g->timer.opaque = g;
	g->timer.cb = pl061__release;
	g->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (g->timer.fd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = evloop_add(&kvm->loop, &g->timer, EPOLLIN);
	if (ret)
		goto err_free;
	g->timer_added = true;
	ret = bus_register(bus, base, PL061_SIZE, pl061__mmio, g, "pl061");
	if (ret)
		goto err_free;
	ret = kvm__on_exit(kvm, pl061__exit, g);
	if (ret)
		goto err_bus;
	*out = g;
	return 0;

err_bus:
	bus_unregister(bus, base);
err_free:
	pr_err("cannot set up the PL061 GPIO at %#llx: error %d",
	       (unsigned long long)base, ret);
	pl061__free(g);
	return ret;
}

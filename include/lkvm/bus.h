/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_BUS_H
#define LKVM_BUS_H

#include <pthread.h>
#include <stdatomic.h>

#include "lkvm/types.h"

/*
 * An I/O bus (port I/O or MMIO): devices claim non-overlapping ranges, and
 * vCPU exits are dispatched to whichever range contains the whole access.
 * @offset is relative to the start of the claimed range.  Handlers run
 * without the bus lock and may (un)register ranges; a device must outlive
 * every vCPU that can reach it.
 */
typedef void (*bus_handler_t)(void *opaque, u64 offset, void *data, u32 len,
			      bool is_write);

struct bus_range {
	u64 base;
	u64 len;
	bus_handler_t handler;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name;
	pthread_rwlock_t lock;
	struct bus_range *ranges;	/* sorted by base, never overlapping */
	size_t nr;
	size_t cap;
	_Atomic u64 unclaimed;		/* accesses nobody claimed */
};

int bus_init(struct bus *bus, const char *name);
void bus_exit(struct bus *bus);

/* Returns 0, -EINVAL for an empty or wrapping range, -EEXIST on overlap. */
int bus_register(struct bus *bus, u64 base, u64 len, bus_handler_t handler,
		 void *opaque, const char *name);
/* Removes the range starting exactly at @base; -ENOENT if there is none. */
int bus_unregister(struct bus *bus, u64 base);

/*
 * Dispatches one access.  Returns true if a device claimed it; otherwise
 * reads see all-ones (an undriven bus), writes are dropped, and the access
 * is logged at debug level.
 */
bool bus_dispatch(struct bus *bus, u64 addr, void *data, u32 len,
		  bool is_write);

#endif

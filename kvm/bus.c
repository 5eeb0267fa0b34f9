// SPDX-License-Identifier: GPL-2.0
/*
 * Port-I/O and MMIO dispatch.  Ranges are kept sorted so a lookup is a
 * binary search; a reader/writer lock lets vCPUs dispatch concurrently
 * while a device (e.g. a PCI BAR being moved) re-registers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/bus.h"
#include "lkvm/log.h"

int bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	return -pthread_rwlock_init(&bus->lock, NULL);
}

void bus_exit(struct bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->nr = bus->cap = 0;
	pthread_rwlock_destroy(&bus->lock);
}

/* Index of the first range whose end is above @addr (caller holds lock). */
static size_t bus_lower_bound(const struct bus *bus, u64 addr)
{
	size_t lo = 0, hi = bus->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->ranges[mid];

		if (r->base + (r->len - 1) < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *bus, u64 base, u64 len, bus_handler_t handler,
		 void *opaque, const char *name)
{
	size_t i;
	int ret = 0;

	/* base + len may equal 2^64 (a range ending at the top) but not more. */
	if (!len || !handler || base + (len - 1) < base)
		return -EINVAL;

	pthread_rwlock_wrlock(&bus->lock);
	i = bus_lower_bound(bus, base);
	if (i < bus->nr && bus->ranges[i].base <= base + (len - 1)) {
		pr_debug("%s: %s [%#llx+%#llx] overlaps %s", bus->name, name,
			 (unsigned long long)base, (unsigned long long)len,
			 bus->ranges[i].name);
		ret = -EEXIST;
		goto out;
	}
	if (bus->nr == bus->cap) {
		size_t cap = bus->cap ? bus->cap * 2 : 16;
		struct bus_range *n = realloc(bus->ranges, cap * sizeof(*n));

		if (!n) {
			ret = -ENOMEM;
			goto out;
		}
		bus->ranges = n;
		bus->cap = cap;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i],
		(bus->nr - i) * sizeof(bus->ranges[0]));
	bus->ranges[i] = (struct bus_range){
		.base = base, .len = len, .handler = handler,
		.opaque = opaque, .name = name,
	};
	bus->nr++;
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus_unregister(struct bus *bus, u64 base)
{
	size_t i;
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	i = bus_lower_bound(bus, base);
	if (i < bus->nr && bus->ranges[i].base == base) {
		memmove(&bus->ranges[i], &bus->ranges[i + 1],
			(bus->nr - i - 1) * sizeof(bus->ranges[0]));
		bus->nr--;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

bool bus_dispatch(struct bus *bus, u64 addr, void *data, u32 len,
		  bool is_write)
{
	struct bus_range hit;
	bool found = false;
	size_t i;

	if (!len)
		return false;

	pthread_rwlock_rdlock(&bus->lock);
	i = bus_lower_bound(bus, addr);
	if (i < bus->nr) {
		const struct bus_range *r = &bus->ranges[i];

		/* The whole access must fit in the range; no wrap past it. */
		if (addr >= r->base && len <= r->len &&
		    addr - r->base <= r->len - len) {
			hit = *r;
			found = true;
		}
	}
	pthread_rwlock_unlock(&bus->lock);

	/*
	 * Called without the lock so a handler may move ranges (a BAR
	 * write); devices outlive the vCPUs, so @hit.opaque stays valid.
	 */
	if (found) {
		hit.handler(hit.opaque, addr - hit.base, data, len, is_write);
		return true;
	}

	atomic_fetch_add_explicit(&bus->unclaimed, 1, memory_order_relaxed);
	if (!is_write)
		memset(data, 0xff, len);
	pr_debug("%s: unclaimed %s of %u bytes at %#llx", bus->name,
		 is_write ? "write" : "read", len, (unsigned long long)addr);
	return false;
}

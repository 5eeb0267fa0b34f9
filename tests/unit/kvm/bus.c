// SPDX-License-Identifier: GPL-2.0
/* Bus registration, overlap rejection, lookup and unclaimed accesses. */
#include <errno.h>
#include <string.h>

#include "lkvm/bus.h"
#include "tap.h"

struct hit {
	int calls;
	u64 offset;
	u32 len;
	bool write;
};

static void handler(void *opaque, u64 offset, void *data, u32 len,
		    bool is_write)
{
	struct hit *h = opaque;

	h->calls++;
	h->offset = offset;
	h->len = len;
	h->write = is_write;
	if (!is_write)
		memset(data, 0x5a, len);
}

int main(void)
{
	struct hit a = { 0 }, b = { 0 }, top = { 0 };
	struct bus bus;
	u32 v;

	tap_plan(26);
	bus_init(&bus, "test");

	is_int(bus_register(&bus, 0x3f8, 8, handler, &a, "a"), 0, "register a");
	is_int(bus_register(&bus, 0x70, 2, handler, &b, "b"), 0,
	       "register b below a");
	is_int(bus_register(&bus, 0x3f0, 9, handler, &b, "x"), -EEXIST,
	       "overlap at the start of a refused");
	is_int(bus_register(&bus, 0x3ff, 1, handler, &b, "x"), -EEXIST,
	       "overlap at the last byte of a refused");
	is_int(bus_register(&bus, 0x3f0, 0x20, handler, &b, "x"), -EEXIST,
	       "range covering a refused");
	is_int(bus_register(&bus, 0x400, 0, handler, &b, "x"), -EINVAL,
	       "empty range refused");
	is_int(bus_register(&bus, ~0ULL, 2, handler, &b, "x"), -EINVAL,
	       "wrapping range refused");
	is_int(bus_register(&bus, ~0ULL - 0xf, 0x10, handler, &top, "top"), 0,
	       "range ending at 2^64 accepted");
	is_int(bus_register(&bus, 0x3f0, 8, handler, &b, "adjacent"), 0,
	       "adjacent range below a accepted");

	ok(bus_dispatch(&bus, 0x3fd, &v, 1, false), "read inside a claimed");
	is_int(a.calls, 1, "a's handler ran once");
	is_int(a.offset, 5, "offset is relative to the range");
	is_int(v & 0xff, 0x5a, "handler's data returned");
	ok(bus_dispatch(&bus, 0x3f8, &v, 4, true) && a.write && a.len == 4,
	   "write of 4 bytes reaches a");
	ok(!bus_dispatch(&bus, 0x3fe, &v, 4, false),
	   "access straddling a's end is unclaimed");
	is_int(a.calls, 2, "a's handler did not see the straddling access");

	v = 0;
	ok(!bus_dispatch(&bus, 0x500, &v, 4, false), "unclaimed read");
	is_int(v, 0xffffffff, "unclaimed read sees all-ones");
	ok(!bus_dispatch(&bus, 0x500, &v, 2, true), "unclaimed write dropped");
	is_int(bus.unclaimed, 3, "unclaimed accesses counted");

	ok(bus_dispatch(&bus, ~0ULL - 3, &v, 4, false) && top.calls == 1,
	   "access at the very top of the space");
	ok(!bus_dispatch(&bus, ~0ULL - 1, &v, 4, false),
	   "access wrapping past 2^64 unclaimed");

	is_int(bus_unregister(&bus, 0x3f8), 0, "unregister a");
	ok(!bus_dispatch(&bus, 0x3f8, &v, 1, false), "a's range now unclaimed");
	is_int(bus_unregister(&bus, 0x3f9), -ENOENT,
	       "unregister needs the exact base");
	is_int(bus_register(&bus, 0x3f8, 8, handler, &a, "a"), 0,
	       "a's range can be claimed again");

	bus_exit(&bus);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0
/* The checked guest-memory accessor: bounds, holes and wrap-around. */
#include <errno.h>
#include <stdlib.h>

#include "lkvm/guest_mem.h"
#include "tap.h"

int main(void)
{
	static u8 low[0x10000], high[0x1000];
	struct guest_mem gm = { 0 };
	u8 buf[16] = { 1, 2, 3, 4 };
	const u64 hi = 0x100000000ULL;

	tap_plan(22);

	is_int(guest_mem_add(&gm, 0, sizeof(low), low), 0, "add low region");
	is_int(guest_mem_add(&gm, hi, sizeof(high), high), 0, "add high region");
	is_int(guest_mem_add(&gm, 0x8000, 0x10, low), -EEXIST,
	       "overlapping region refused");
	is_int(guest_mem_add(&gm, ~0ULL - 4, 16, low), -EINVAL,
	       "wrapping region refused");
	is_int(guest_mem_add(&gm, 0x200000, 0, low), -EINVAL,
	       "empty region refused");

	ok(guest_mem_ptr(&gm, 0, 1) == low, "first byte");
	ok(guest_mem_ptr(&gm, 0xffff, 1) == low + 0xffff, "last byte");
	ok(guest_mem_ptr(&gm, 0, sizeof(low)) == low, "whole region");
	ok(!guest_mem_ptr(&gm, 0xffff, 2), "access running off the end");
	ok(!guest_mem_ptr(&gm, 0x10000, 1), "first byte past the end");
	ok(guest_mem_ptr(&gm, 0x10000, 0) == low + 0x10000,
	   "empty access at the end is fine");
	ok(!guest_mem_ptr(&gm, 0x20000, 4), "hole between regions");
	ok(guest_mem_ptr(&gm, hi + 0xff0, 0x10) == high + 0xff0,
	   "high region tail");
	ok(!guest_mem_ptr(&gm, 0x8000, ~0ULL), "huge length does not wrap");
	ok(!guest_mem_ptr(&gm, ~0ULL, 2), "address + length wraps to 0");
	ok(!guest_mem_ptr(&gm, 0xfff0, 0x20), "region straddle refused");
	ok(!guest_mem_ptr(&gm, hi - 8, 16), "no access spans two regions");

	is_int(guest_mem_write(&gm, 0x100, buf, 4), 0, "write inside");
	is_int(guest_mem_read(&gm, 0x100, buf + 8, 4), 0, "read inside");
	ok(buf[8] == 1 && buf[11] == 4, "read back what was written");
	is_int(guest_mem_write(&gm, 0xfffe, buf, 4), -EFAULT,
	       "write across the end is -EFAULT");
	is_int(guest_mem_end(&gm), hi + sizeof(high), "end of guest memory");

	return tap_done();
}

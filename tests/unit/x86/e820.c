// SPDX-License-Identifier: GPL-2.0
/* e820__build(): the guest memory map for various RAM sizes. */
#include <errno.h>

#include <asm/e820.h>

#include "tap.h"
#include "arch/boot.h"

#define MiB SZ_1M
#define GiB SZ_1G

struct want {
	u64 addr, size;
	u32 type;
};

static void check(const char *name, u64 ram, const struct want *w,
		  unsigned int nw)
{
	struct boot_e820_entry t[16];
	int n = e820__build(ram, t, 16);
	bool same = n == (int)nw, sorted = true;

	for (unsigned int i = 0; same && i < nw; i++)
		same = t[i].addr == w[i].addr && t[i].size == w[i].size &&
		       t[i].type == w[i].type;
	for (int i = 1; i < n; i++)
		if (t[i].addr < t[i - 1].addr + t[i - 1].size)
			sorted = false;
	ok(same, "%s: %d entries as expected", name, n);
	if (!same)
		for (int i = 0; i < n; i++)
			diag("  %llx +%llx type %u",
			     (unsigned long long)t[i].addr,
			     (unsigned long long)t[i].size, t[i].type);
	ok(sorted && n > 0, "%s: sorted, no overlaps", name);
}

#define LOW { 0, 0x9fc00, E820_RAM }, { 0x9fc00, 0x400, E820_RESERVED }, \
	    { 0xf0000, 0x10000, E820_RESERVED }

int main(void)
{
	struct boot_e820_entry t[4];

	tap_plan(13);

	check("64 MiB", 64 * MiB, (struct want[]){
		LOW, { MiB, 63 * MiB, E820_RAM } }, 4);
	check("2 MiB", 2 * MiB, (struct want[]){
		LOW, { MiB, MiB, E820_RAM } }, 4);
	check("3 GiB", 3 * GiB, (struct want[]){
		LOW, { MiB, 3 * GiB - MiB, E820_RAM } }, 4);
	check("3 GiB + 1 MiB", 3 * GiB + MiB, (struct want[]){
		LOW, { MiB, 3 * GiB - MiB, E820_RAM },
		{ 4 * GiB, MiB, E820_RAM } }, 5);
	check("8 GiB", 8 * GiB, (struct want[]){
		LOW, { MiB, 3 * GiB - MiB, E820_RAM },
		{ 4 * GiB, 5 * GiB, E820_RAM } }, 5);

	is_int(e820__build(MiB, t, 4), -EINVAL, "1 MiB is too little RAM");
	is_int(e820__build(8 * GiB, t, 4), -ENOSPC,
	       "table too small is -ENOSPC");
	is_int(e820__build(64 * MiB, t, 4), 4, "exact fit works");
	return tap_done();
}

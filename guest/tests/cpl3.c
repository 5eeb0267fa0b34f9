// SPDX-License-Identifier: GPL-2.0
/*
 * Run a long arithmetic loop at CPL3, which executes natively even where
 * CPL0 is emulated, and time it.
 */
#include "guest.h"

#define ITERATIONS	100000000UL

static long user_loop(long n)
{
	uint64_t x = 1;
	long i;

	for (i = 0; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		/* Keep gcc from collapsing the loop. */
		asm volatile("" : "+r"(x));
	}
	return x;
}

static long user_cpl(long unused)
{
	uint16_t cs;

	(void)unused;
	asm volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3;
}

void guest_main(struct boot_info *bi)
{
	uint64_t t0, t1;
	long cpl, r, n;

	(void)bi;
	cpl = run_user(user_cpl, 0);
	printf("cpl3: user code ran at cpl %ld\n", cpl);
	if (cpl != 3)
		guest_exit(1);

	t0 = rdtsc();
	r = run_user(user_loop, ITERATIONS);
	t1 = rdtsc();
	printf("cpl3: %lu iterations in %lu ms\n", ITERATIONS,
	       (t1 - t0) / tsc_khz());
	printf("cpl3: result=%lx\n", r);

	/*
	 * Optional comparison: cpl0_iters=N runs the same loop at CPL0,
	 * which the nested host here emulates instruction by instruction.
	 */
	if (cmdline_get_int("cpl0_iters", &n) && n > 0) {
		t0 = rdtsc();
		r = user_loop(n);
		t1 = rdtsc();
		printf("cpl3: cpl0 loop of %ld iterations took %lu ms (result=%lx)\n",
		       n, (t1 - t0) / tsc_khz(), r);
	}
	guest_exit(0);
}

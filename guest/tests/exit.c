// SPDX-License-Identifier: GPL-2.0
/* Exit through the test port with the code given as exit=N. */
#include "guest.h"

void guest_main(struct boot_info *bi)
{
	long v = 0;

	(void)bi;
	if (!cmdline_get_int("exit", &v))
		puts("exit: no exit=N on the command line, using 0");
	printf("exit: %ld\n", v);
	guest_exit(v);
}

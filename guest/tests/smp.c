// SPDX-License-Identifier: GPL-2.0
/* Bring up every CPU in the MP table; each one reports in. */
#include "guest.h"

static void ap_report(int idx, uint32_t apic)
{
	printf("cpu %d apic %u online\n", idx, apic);
}

void guest_main(struct boot_info *bi)
{
	struct mp_info mi;
	int online;

	(void)bi;
	if (!mptable_parse(&mi)) {
		puts("smp: no MP table");
		guest_exit(1);
	}
	printf("smp: MP table lists %d cpus\n", mi.ncpus);
	ap_report(0, lapic_id());
	online = smp_start_aps(&mi, ap_report, 5000);
	printf("smp: %d cpus online\n", online);
	guest_exit(online == mi.ncpus ? 0 : 1);
}

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_CTL_BALLOON_H
#define LKVM_CTL_BALLOON_H

/*
 * What `lkvm balloon` and `lkvm stat` need of virtio-balloon, in bytes.
 * Both return -ENODEV when the VM has no balloon (ctl/stubs.c: -ENOSYS
 * until the balloon is connected).
 */
#include "lkvm/types.h"

struct kvm;

#define CTL_BALLOON_MAX_STATS	16

struct ctl_balloon_figures {
	u64 target_bytes;		/* what the host asked the guest for */
	u64 actual_bytes;		/* what the guest has handed over */
	unsigned int nr_stats;		/* the guest's last stats-queue report */
	struct {
		const char *name;	/* "free_memory", "swap_in", ... */
		u64 value;
	} stats[CTL_BALLOON_MAX_STATS];
};

int ctl_balloon_figures(struct kvm *kvm, struct ctl_balloon_figures *f);
/*
 * Asks the guest for fresh statistics; it answers at its own pace, so
 * the next ctl_balloon_figures() shows them, this one the last sent.
 */
void ctl_balloon_refresh_stats(struct kvm *kvm);
/* Asks the guest to hold @bytes (a whole number of 4 KiB pages). */
int ctl_balloon_set_target(struct kvm *kvm, u64 bytes);

#endif

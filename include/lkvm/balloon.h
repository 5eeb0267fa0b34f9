/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_BALLOON_H
#define LKVM_BALLOON_H

/*
 * The virtio-balloon of a VM started with --balloon (virtio/balloon.c), as
 * the control socket steers it.  Called from the main thread; every call
 * returns -ENODEV on a VM without a balloon.
 */
#include "lkvm/types.h"

struct kvm;

/* Statistics tags the guest may report (VIRTIO_BALLOON_S_*) that we keep. */
#define BALLOON_NR_STATS	16

/* Pages are 4 KiB (VIRTIO_BALLOON_PFN_SHIFT), whatever the host's size. */
#define BALLOON_PAGE_SHIFT	12

struct balloon_info {
	u64 target_pages;	/* num_pages: what the host asks for */
	u64 actual_pages;	/* actual: what the guest says it gave */
	u64 inflated_pages;	/* pages lkvm holds released, its own count */
	u64 bad_pfns;		/* PFNs outside guest RAM, ignored */
	u64 dup_pfns;		/* inflated twice / deflated while not inflated */
	u64 inflate_requests;	/* chains on the inflate queue */
	u64 deflate_requests;	/* chains on the deflate queue */
	/* The last buffer on the stats queue (VIRTIO_BALLOON_F_STATS_VQ). */
	bool stats_valid;	/* the guest sent at least one */
	u64 stats_updates;	/* how many it sent */
	u32 stats_tags;		/* bit t: stats[t] was reported */
	u64 stats[BALLOON_NR_STATS];
};

/*
 * Asks the guest to hold @pages 4 KiB pages in the balloon (0 deflates it
 * fully).  -EINVAL if that is more than guest RAM.  The guest sees a
 * config-change interrupt and adjusts at its own pace.
 */
int balloon__set_target(struct kvm *kvm, u64 pages);
int balloon__info(struct kvm *kvm, struct balloon_info *out);
/*
 * Gives the guest its stats buffer back so it refills it; the new values
 * show in balloon__info() once it has.  -EAGAIN if the guest has no
 * buffer posted (stats queue not negotiated, or a request is pending).
 */
int balloon__request_stats(struct kvm *kvm);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * ctl/balloon.h over virtio-balloon's own interface (lkvm/balloon.h):
 * bytes instead of 4 KiB pages, and the guest's statistics by the names
 * the virtio spec gives their tags, followed by lkvm's own counts.
 */
#include <errno.h>
#include <string.h>

#include "balloon.h"
#include "lkvm/balloon.h"

/* VIRTIO_BALLOON_S_* in tag order (virtio 1.2, 5.5.6.3). */
static const char *const stat_names[] = {
	"swap_in", "swap_out", "major_faults", "minor_faults",
	"free_memory", "total_memory", "available_memory", "disk_caches",
	"hugetlb_allocations", "hugetlb_failures",
};

static void ctl_balloon_add(struct ctl_balloon_figures *f, const char *name,
			    u64 value)
{
	if (f->nr_stats == CTL_BALLOON_MAX_STATS)
		return;
	f->stats[f->nr_stats].name = name;
	f->stats[f->nr_stats++].value = value;
}

int ctl_balloon_figures(struct kvm *kvm, struct ctl_balloon_figures *f)
{
	struct balloon_info info;
	int ret = balloon__info(kvm, &info);

	if (ret)
		return ret;
	memset(f, 0, sizeof(*f));
	f->target_bytes = info.target_pages << BALLOON_PAGE_SHIFT;
	f->actual_bytes = info.actual_pages << BALLOON_PAGE_SHIFT;
	for (unsigned int t = 0; info.stats_valid && t < BALLOON_NR_STATS &&
			 t < sizeof(stat_names) / sizeof(stat_names[0]); t++)
		if (info.stats_tags & (1u << t))
			ctl_balloon_add(f, stat_names[t], info.stats[t]);
	ctl_balloon_add(f, "released_pages", info.inflated_pages);
	ctl_balloon_add(f, "bad_pfns", info.bad_pfns);
	ctl_balloon_add(f, "dup_pfns", info.dup_pfns);
	return 0;
}

void ctl_balloon_refresh_stats(struct kvm *kvm)
{
	/* -EAGAIN: no buffer posted, nothing to ask; -ENODEV: no balloon. */
	balloon__request_stats(kvm);
}

int ctl_balloon_set_target(struct kvm *kvm, u64 bytes)
{
	return balloon__set_target(kvm, bytes >> BALLOON_PAGE_SHIFT);
}

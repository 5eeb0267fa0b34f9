// SPDX-License-Identifier: GPL-2.0
/*
 * Stand-ins, until the merge, for what the control socket calls in other
 * people's code.  The lead deletes this file when those land; nothing but
 * the link depends on it.
 *
 * From include/lkvm/control.h: kvm__pause, kvm__resume, kvm__paused,
 * arch__request_poweroff, kvm_cpu__dump_text, kvm_cpu__inject_nmi,
 * kvm__sysrq.
 *
 * From ctl/balloon.h, to be written over include/lkvm/balloon.h's
 * balloon__info() (figures) and balloon__set_target(kvm, pages):
 * ctl_balloon_figures (target/actual in bytes = pages * 4096, plus the
 * guest's stats as name/value pairs; -ENODEV without a balloon) and
 * ctl_balloon_set_target (bytes / 4096 pages).
 */
#include <errno.h>

#include "balloon.h"
#include "lkvm/control.h"

int kvm__pause(struct kvm *kvm __unused)
{
	return -ENOSYS;
}

int kvm__resume(struct kvm *kvm __unused)
{
	return -ENOSYS;
}

bool kvm__paused(struct kvm *kvm __unused)
{
	return false;
}

int arch__request_poweroff(struct kvm *kvm __unused)
{
	return -ENOSYS;
}

int kvm_cpu__dump_text(struct kvm *kvm __unused, unsigned int id __unused,
		       char **out __unused)
{
	return -ENOSYS;
}

int kvm_cpu__inject_nmi(struct kvm *kvm __unused, unsigned int id __unused)
{
	return -ENOSYS;
}

int kvm__sysrq(struct kvm *kvm __unused, char key __unused)
{
	return -ENOSYS;
}

int ctl_balloon_figures(struct kvm *kvm __unused,
			struct ctl_balloon_figures *f __unused)
{
	return -ENOSYS;
}

int ctl_balloon_set_target(struct kvm *kvm __unused, u64 bytes __unused)
{
	return -ENOSYS;
}

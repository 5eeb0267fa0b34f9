// SPDX-License-Identifier: GPL-2.0
/*
 * Magic SysRq for `lkvm debug --sysrq`: the key goes to whichever device
 * carries the guest's console, in the form that console's Linux driver
 * recognises (a break on the 8250, Ctrl-O on hvc0).
 */
#include <errno.h>

#include "lkvm/control.h"
#include "lkvm/kvm.h"

void kvm__set_console_sysrq(struct kvm *kvm,
			    int (*fn)(void *dev, char key), void *dev)
{
	kvm->console_dev = dev;
	kvm->console_sysrq = fn;
}

int kvm__sysrq(struct kvm *kvm, char key)
{
	/* NUL is what the break itself delivers; it names no command. */
	if (!key)
		return -EINVAL;
	if (!kvm->console_sysrq)
		return -ENOTSUP;
	return kvm->console_sysrq(kvm->console_dev, key);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD shim for the dynamic arm64 lkvm in the nested suite: a KVM
 * without the ITS device.  L1's KVM always offers one next to a vGICv3,
 * yet --irqchip=auto must cope with a host where it does not (its ITS
 * step failing once left a vGICv3 behind that made every later choice
 * fail with EEXIST).  KVM_CREATE_DEVICE of the ITS type, probe or not,
 * fails the way KVM fails for a type it lacks; every other ioctl goes
 * straight to the kernel.
 */
#include <errno.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/kvm.h>

int ioctl(int fd, unsigned long req, ...);

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (req == KVM_CREATE_DEVICE && arg &&
	    ((struct kvm_create_device *)arg)->type == KVM_DEV_TYPE_ARM_VGIC_ITS) {
		errno = ENODEV;
		return -1;
	}
	return (int)syscall(SYS_ioctl, fd, req, arg);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Test exit port, compatible with QEMU's isa-debug-exit: a write of v ends
 * lkvm with status (v << 1) | 1.  Odd statuses can therefore never be
 * mistaken for lkvm's own (even) ones, and test guests run unchanged under
 * QEMU with -device isa-debug-exit,iobase=0xf4,iosize=4.
 */
#include <string.h>

#include "lkvm/hw.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"

static void debug_exit__io(void *opaque, u64 offset __unused, void *data,
			   u32 len, bool is_write)
{
	struct kvm *kvm = opaque;
	u32 v = 0;

	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	memcpy(&v, data, len < sizeof(v) ? len : sizeof(v));
	pr_info("guest wrote %#x to the test exit port", v);
	kvm__request_stop(kvm, (int)(((v << 1) | 1) & 0xff));
}

int debug_exit__init(struct kvm *kvm, struct bus *bus, u64 port)
{
	return bus_register(bus, port, 4, debug_exit__io, kvm, "debug-exit");
}

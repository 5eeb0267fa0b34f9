// SPDX-License-Identifier: GPL-2.0
/*
 * virtio/console.c: Magic SysRq through kvm__sysrq() on hvc0.  Linux's
 * hvc driver takes Ctrl-O followed by the key as a SysRq; the pair goes
 * to the guest through the receiveq, behind input already waiting, and
 * only hvc0 (the terminal's console) registers for it.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_mmio.h>

#include "lkvm/barrier.h"
#include "lkvm/control.h"
#include "lkvm/kvm.h"
#include "lkvm/virtio-transport.h"
#include "virtio/devices.h"
#include "tap.h"
#include "virtio-mmio-fixture.h"

#include "virtio-console-driver.h"

int main(void)
{
	struct lkvm_console_port port;
	int in[2], out[2];
	struct drv d = { 0 };

	tap_plan(7);
	signal(SIGPIPE, SIG_IGN);
	fake_vm();
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
		printf("Bail out! pipe: %s\n", strerror(errno));
		return 1;
	}
	/* An extra port (sandbox's stderr) is no console. */
	port = (struct lkvm_console_port){ .in_fd = -1, .out_fd = out[1] };
	is_int(virtio_console__create_port(&kvm, VIRTIO_TRANSPORT_MMIO, &port,
					   NULL), 0, "extra port created");
	is_int(kvm__sysrq(&kvm, 'h'), -ENOTSUP, "an extra port takes no SysRq");

	/* hvc0, its input a pipe instead of the terminal. */
	cfg.console_in_fd = in[0];
	d.base = slot_base(1);
	is_int(virtio_console__create(&kvm, VIRTIO_TRANSPORT_MMIO, NULL), 0,
	       "hvc0 created on mmio");
	drv_init(&d);

	/* Typed input first, then the SysRq: each arrives whole. */
	if (write(in[1], "ab", 2) != 2)
		diag("write: %s", strerror(errno));
	post(&d, 0, BUF_GPA, 32);
	ok(wait_used(0, 1) == 2 && !memcmp(gpa(BUF_GPA, 2), "ab", 2),
	   "typed input reaches the guest");
	is_int(kvm__sysrq(&kvm, 'w'), 0, "SysRq w");
	post(&d, 0, BUF_GPA + 0x100, 32);
	ok(wait_used(0, 2) == 2 && !memcmp(gpa(BUF_GPA + 0x100, 2), "\x0fw", 2),
	   "the guest reads Ctrl-O w");
	ok(!kvm__stopping(&kvm) &&
	   !(rd_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET),
	   "the VM keeps running, the device is not broken");

	kvm__exit(&kvm);
	return tap_done();
}

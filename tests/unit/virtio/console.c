// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console ports beyond hvc0 (virtio_console__create_port(), what
 * `lkvm sandbox` uses for stderr and its status channel): each on
 * virtio-mmio in a fake VM, its fds pipes the test holds.  Output reaches
 * the port's own fd and no other, input comes from its own fd, Ctrl-A is
 * just a byte there, and a reader that went away costs the guest nothing
 * but the output.
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
#include "lkvm/kvm.h"
#include "lkvm/virtio-transport.h"
#include "virtio/devices.h"
#include "tap.h"
#include "virtio-mmio-fixture.h"

#include "virtio-console-driver.h"

/* Reads what arrives on @fd within the wait cap, up to @len bytes. */
static ssize_t read_some(int fd, void *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, WAIT_MS) != 1)
		return -1;
	return read(fd, buf, len);
}

int main(void)
{
	struct lkvm_console_port bad = { .in_fd = -1, .out_fd = -1 };
	int in[2], out[2], other[2];
	struct drv d = { 0 };
	char buf[64];
	ssize_t n;

	tap_plan(9);
	signal(SIGPIPE, SIG_IGN);
	fake_vm();
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) ||
	    pipe2(other, O_CLOEXEC)) {
		printf("Bail out! pipe: %s\n", strerror(errno));
		return 1;
	}
	is_int(virtio_console__create_port(&kvm, VIRTIO_TRANSPORT_MMIO, &bad,
					   NULL), -EBADF,
	       "a port without an output fd is refused");

	is_int(port_on_mmio(&d, in[0], out[1], NULL), 0, "port created on mmio");

	memcpy(gpa(BUF_GPA, 16), "to-the-port", 11);
	post(&d, 1, BUF_GPA, 11);
	ok(wait_used(1, 1) == 0, "transmit chain used");
	n = read_some(out[0], buf, sizeof(buf));
	ok(n == 11 && !memcmp(buf, "to-the-port", 11),
	   "the guest's bytes arrive on the port's out fd");

	/* Ctrl-A x is the terminal's escape, not a port's. */
	post(&d, 0, BUF_GPA + 0x100, 32);
	if (write(in[1], "in\x01x", 4) != 4)
		diag("write: %s", strerror(errno));
	ok(wait_used(0, 1) == 4 && !memcmp(gpa(BUF_GPA + 0x100, 4), "in\x01x", 4),
	   "input from the port's in fd, Ctrl-A x delivered as bytes");
	ok(!kvm__stopping(&kvm), "and it did not stop the VM");

	/* The reader goes away: the guest's writes still complete. */
	close(out[0]);
	memcpy(gpa(BUF_GPA + 0x200, 8), "dropped!", 8);
	post(&d, 1, BUF_GPA + 0x200, 8);
	ok(wait_used(1, 2) == 0, "a write to a closed reader completes");
	post(&d, 1, BUF_GPA + 0x200, 8);
	ok(wait_used(1, 3) == 0, "and so does the next (output dropped)");
	is_int(rd_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET, 0,
	       "the device is not broken by it");

	kvm__exit(&kvm);
	return tap_done();
}

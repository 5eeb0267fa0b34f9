// SPDX-License-Identifier: GPL-2.0
/*
 * virtio/console.c when the output's reader goes away while output waits
 * for room: the kept-aside bytes are dropped (EPIPE), the guest's buffers
 * are still used, and the device thread goes back to sleep.  epoll keeps
 * reporting EPOLLERR on a pipe without a reader whatever the mask, so a
 * watch that were only masked would keep the thread spinning.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <linux/virtio_mmio.h>

#include "lkvm/barrier.h"
#include "lkvm/kvm.h"
#include "lkvm/virtio-transport.h"
#include "virtio/devices.h"
#include "tap.h"
#include "virtio-mmio-fixture.h"

#include "virtio-console-driver.h"

/* This process's CPU time so far, in ms. */
static long cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000L +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

int main(void)
{
	struct drv d = { 0 };
	long before, used;
	int out[2], sz;

	tap_plan(5);
	signal(SIGPIPE, SIG_IGN);
	fake_vm();
	if ((sz = page_pipe(out)) < 0) {
		printf("Bail out! pipe: %s\n", strerror(errno));
		return 1;
	}
	/* The pipe is a page; the buffer twice that. */
	if (BUF_GPA + 2 * (u64)sz > MEM_SIZE) {
		printf("Bail out! a %d-byte pipe does not fit the test\n", sz);
		return 1;
	}
	is_int(port_on_mmio(&d, -1, out[1], NULL), 0, "port created on mmio");

	/* Twice what the pipe holds: half of it kept aside, EPOLLOUT watched. */
	memset(gpa(BUF_GPA, 2 * (u64)sz), 'x', 2 * (size_t)sz);
	post(&d, 1, BUF_GPA, 2 * (u32)sz);
	ok(wait_used(1, 1) == 0, "a buffer the reader has no room for is used");
	post(&d, 1, BUF_GPA, 16);

	close(out[0]);
	ok(wait_used(1, 2) == 0,
	   "the reader goes away: the waiting buffer is used (output dropped)");

	/* A thread that spins uses a CPU's worth; a sleeping one nothing. */
	before = cpu_ms();
	usleep(1000 * 1000);
	used = cpu_ms() - before;
	ok(used < 500, "the device thread sleeps afterwards (%ld ms of CPU in 1 s)",
	   used);
	is_int(rd_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET, 0,
	       "the device is not broken by it");

	kvm__exit(&kvm);
	return tap_done();
}

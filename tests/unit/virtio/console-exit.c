// SPDX-License-Identifier: GPL-2.0
/*
 * virtio/console.c at VM exit with output kept aside and a reader that
 * never reads: the exit waits for it, as a program's last writes would,
 * but a further SIGTERM (which lkvm keeps blocked for its signalfd) ends
 * the wait, so lkvm can always be stopped without SIGKILL.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/virtio_mmio.h>

#include "lkvm/barrier.h"
#include "lkvm/kvm.h"
#include "lkvm/virtio-transport.h"
#include "virtio/devices.h"
#include "tap.h"
#include "virtio-mmio-fixture.h"

#include "virtio-console-driver.h"

static atomic_bool exited;

/* Sends SIGTERM once the exit has had time to start waiting. */
static void *terminator(void *opaque __unused)
{
	usleep(300 * 1000);
	/* Acquire: pairs with the release after kvm__exit() in main(). */
	if (!atomic_load_explicit(&exited, memory_order_acquire))
		kill(getpid(), SIGTERM);
	return NULL;
}

int main(void)
{
	struct drv d = { 0 };
	sigset_t term;
	pthread_t t;
	int out[2], sz, queued = -1;

	tap_plan(4);
	signal(SIGPIPE, SIG_IGN);
	/* As kvm__run() does: blocked everywhere, for its signalfd. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, NULL);
	fake_vm();
	if ((sz = page_pipe(out)) < 0 || BUF_GPA + 2 * (u64)sz > MEM_SIZE) {
		printf("Bail out! pipe: %s\n", strerror(errno));
		return 1;
	}
	is_int(port_on_mmio(&d, -1, out[1], NULL), 0, "port created on mmio");
	memset(gpa(BUF_GPA, 2 * (u64)sz), 'x', 2 * (size_t)sz);
	post(&d, 1, BUF_GPA, 2 * (u32)sz);
	ok(wait_used(1, 1) == 0, "a buffer twice the pipe is used, half kept aside");
	is_int(rd_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET, 0,
	       "the device is not broken by it");

	if (pthread_create(&t, NULL, terminator, NULL)) {
		printf("Bail out! no thread\n");
		return 1;
	}
	bail_after(60, "VM exit still waits for the reader after SIGTERM");
	kvm__exit(&kvm);
	/* Release: pairs with the acquire in terminator(). */
	atomic_store_explicit(&exited, true, memory_order_release);
	alarm(0);
	pthread_join(t, NULL);
	ioctl(out[0], FIONREAD, &queued);
	is_int(queued, sz, "SIGTERM ends the wait; the reader has what fit");
	return tap_done();
}

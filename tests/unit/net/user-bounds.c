// SPDX-License-Identifier: GPL-2.0
/*
 * net/user.c resource bounds: the backlog of frames for a guest that
 * does not take them.  The test plays a guest that sends 4 x
 * NET_USER_QLEN ARP requests for the gateway and never reads: slirp
 * answers each, the backend keeps NET_USER_QLEN answers and drops and
 * counts the rest, and this process's RSS grows by at most the backlog
 * (NET_USER_QLEN x NET_USER_SLOT).  A frame for the guest longer than a
 * slot is never queued either (slirp's MTU keeps it from making one).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "lkvm/net.h"
#include "guest-frames.h"
#include "tap.h"
#include "rss.h"

#define SLACK_KIB	1024	/* malloc arenas, stdio, page tables */

static void rx_wake(void *opaque __unused)
{
	/* The guest takes nothing: frames stay in the backlog. */
}

int main(void)
{
	static struct lkvm_net ncfg = { .mode = NET_MODE_USER, .fd = -1 };
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct net_backend be = { .lock = &lock, .rx_wake = rx_wake };
	long before, peak, budget;
	struct evloop loop;
	u8 frame[60], buf[NET_MAX_FRAME];
	struct iovec iov = { .iov_base = frame };
	int sent = 0, got = 0;
	ssize_t n;

	tap_plan(6);
	evloop_init(&loop);
	be.cfg = &ncfg;
	is_int(net_backend_open(&be, &ncfg), 0, "user backend opens");
	pthread_mutex_lock(&lock);
	is_int(be.ops->attach(&be, &loop), 0, "attached to the loop");
	be.ops->rx_enable(&be, true);
	iov.iov_len = guest_arp_request(frame);
	budget = (long)NET_USER_QLEN * NET_USER_SLOT / 1024 + SLACK_KIB;
	before = rss_kib(0);
	hwm_reset();
	for (int i = 0; i < 4 * NET_USER_QLEN; i++)
		sent += be.ops->send(&be, &iov, 1) == 0;
	peak = hwm_kib(0);
	while ((n = be.ops->recv(&be, buf, sizeof(buf))) > 0) {
		if (n >= 42 && buf[12] == 0x08 && buf[13] == 0x06 && buf[21] == 2)
			got++;
	}
	pthread_mutex_unlock(&lock);
	is_int(sent, 4 * NET_USER_QLEN, "every ARP request went to slirp");
	is_int(got, NET_USER_QLEN, "NET_USER_QLEN ARP replies were kept");
	is_int(be.rx_dropped, 3 * NET_USER_QLEN, "the rest were dropped and counted");
	diag("rx backlog: RSS %ld KiB before, peak %ld KiB; budget %ld KiB",
	     before, peak, budget);
	rss_within(peak - before, budget, "one backlog at most");
	be.ops->free(&be);
	evloop_exit(&loop);
	return tap_done();
}

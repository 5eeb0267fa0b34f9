// SPDX-License-Identifier: GPL-2.0
/*
 * net/user.c keeps slirp's timers running on its own: the timerfd is
 * set again only when a deadline comes earlier than the one it holds, so
 * a cycle that forgot a timer that fired would leave slirp's TCP timers
 * dead.  The test plays a guest that opens connections to a host
 * listener and sends a byte with the handshake's last ACK: slirp delays
 * the ACK for it and sends it from its fast timer, with nothing else left
 * to wake the event loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lkvm/net.h"
#include "guest-frames.h"
#include "listener.h"
#include "tap.h"

#define CAP_S	120	/* a cap only: the delayed ACK comes in ~2 ms */

static struct evloop loop;
static struct net_backend *bep;
static bool capped;

/* The host's side of the connection, from the guest's point of view. */
static u32 host_seq, host_ack;
static bool got_synack;

/* The guest: notes the SYN-ACK, then the host's acknowledgements. */
static void rx_wake(void *opaque __unused)
{
	u8 f[2048], *tcp = f + 14 + 20;
	u32 v;
	ssize_t n;

	while ((n = bep->ops->recv(bep, f, sizeof(f))) > 0) {
		if (n < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00 ||
		    f[14 + 9] != IPPROTO_TCP)
			continue;
		memcpy(&v, tcp + 8, 4);
		host_ack = ntohl(v);
		if ((tcp[13] & 0x12) == 0x12) {
			memcpy(&v, tcp + 4, 4);
			host_seq = ntohl(v);
			got_synack = true;
		}
		evloop_stop(&loop);
	}
}

static void on_cap(void *opaque __unused, u32 events __unused)
{
	capped = true;
	evloop_stop(&loop);
}

int main(void)
{
	static struct lkvm_net ncfg = { .mode = NET_MODE_USER, .fd = -1 };
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct net_backend be = { .lock = &lock, .rx_wake = rx_wake };
	struct itimerspec cap = { .it_value.tv_sec = CAP_S };
	struct evloop_watch cap_w;
	struct iovec iov;
	u8 frame[128];
	char got[1];
	int lfd, cfd, afd;
	u16 port;

	tap_plan(8);
	bep = &be;
	lfd = loopback_listener(4, &port);
	if (lfd < 0) {
		ok(0, "loopback listener: %s", strerror(-lfd));
		return tap_done();
	}

	evloop_init(&loop);
	cfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	cap_w = (struct evloop_watch){ .fd = cfd, .cb = on_cap };
	if (cfd < 0 || evloop_add(&loop, &cap_w, EPOLLIN) ||
	    timerfd_settime(cfd, 0, &cap, NULL)) {
		ok(0, "cap timer: %s", strerror(errno));
		return tap_done();
	}

	be.cfg = &ncfg;
	is_int(net_backend_open(&be, &ncfg), 0, "user backend opens");
	pthread_mutex_lock(&lock);
	is_int(be.ops->attach(&be, &loop), 0, "attached to the loop");
	be.ops->rx_enable(&be, true);
	iov = (struct iovec){ frame, guest_arp_request(frame) };
	be.ops->send(&be, &iov, 1);
	pthread_mutex_unlock(&lock);

	/*
	 * Two connections, one after the other.  Each handshake's last ACK
	 * carries one byte; slirp delays the ACK for it (TF_DELACK, a
	 * segment on the slow path) and sends it from its fast timer: the
	 * only thing left to wake the loop.  The second needs the timerfd
	 * set anew after it fired for the first.
	 */
	for (int i = 0; i < 2; i++) {
		u16 sport = (u16)(40000 + i);

		got_synack = false;
		pthread_mutex_lock(&lock);
		iov = (struct iovec){ frame, guest_tcp(frame, sport, port, 1, 0,
						      0x02, NULL, 0) };
		be.ops->send(&be, &iov, 1);
		pthread_mutex_unlock(&lock);
		while (!got_synack && !capped)
			evloop_run(&loop), atomic_store(&loop.stop, false);
		ok(got_synack, "connection %d: slirp answered the SYN", i);

		host_ack = 0;
		pthread_mutex_lock(&lock);
		iov = (struct iovec){ frame, guest_tcp(frame, sport, port, 2,
						      host_seq + 1, 0x18,
						      &"xy"[i], 1) };
		be.ops->send(&be, &iov, 1);
		pthread_mutex_unlock(&lock);
		while (host_ack != 3 && !capped)
			evloop_run(&loop), atomic_store(&loop.stop, false);
		ok(host_ack == 3,
		   "connection %d: the byte acknowledged from slirp's timer (ack %u)",
		   i, host_ack);
	}

	for (int i = 0; i < 2; i++) {
		afd = accept(lfd, NULL, NULL);
		ok(afd >= 0 && read(afd, got, 1) == 1 && got[0] == "xy"[i],
		   "connection %d: the byte reached the host", i);
		if (afd >= 0)
			close(afd);
	}

	be.ops->free(&be);
	evloop_exit(&loop);
	close(cfd);
	close(lfd);
	return tap_done();
}

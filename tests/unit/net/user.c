// SPDX-License-Identifier: GPL-2.0
/*
 * User-mode networking (net/user.c) driven directly: the test plays the
 * guest (TCP SYNs handed to ops->send) and runs the backend's event loop
 * one epoll batch at a time.  What it checks: slirp's fd table may grow
 * while an epoll_wait batch still holds watches for other slirp sockets,
 * and those watches must still be valid when the batch reaches them.
 * The use-after-free this guards against shows as an ASan report (make
 * SANITIZE=1); in a plain build the test checks the connections only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lkvm/net.h"
#include "guest-frames.h"
#include "listener.h"
#include "tap.h"

#define NR_EARLY	8	/* sockets whose events wait in the batch */

static struct evloop loop;
static int stop_fd;
static struct evloop_watch stop_w;

static void on_stop(void *opaque __unused, u32 events __unused)
{
	u64 v;

	if (read(stop_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: already drained. */
	}
	evloop_stop(&loop);
}

/*
 * Runs the loop until the stopper fires: every event ready now (slirp's
 * sockets, its poke eventfd, the stopper) comes back in one epoll_wait
 * batch, which evloop_run() finishes before it looks at the stop flag.
 */
static void run_batch(void)
{
	u64 one = 1;

	if (write(stop_fd, &one, sizeof(one)) < 0)
		return;
	evloop_run(&loop);
	atomic_store(&loop.stop, false);
}

static int send_syn(struct net_backend *be, u16 sport, u16 dport)
{
	u8 frame[64];
	struct iovec iov = { .iov_base = frame };
	int ret;

	iov.iov_len = guest_tcp(frame, sport, dport, 1, 0, 0x02, NULL, 0);
	pthread_mutex_lock(be->lock);
	ret = be->ops->send(be, &iov, 1);
	pthread_mutex_unlock(be->lock);
	return ret;
}

static void rx_wake(void *opaque __unused)
{
	/* Frames for the guest (SYN-ACKs) stay queued: nobody reads them. */
}

/* Accepts what the listener has; returns how many, closing them. */
static int drain_accepts(int lfd)
{
	int n = 0, c;

	while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		close(c);
		n++;
	}
	return n;
}

int main(void)
{
	static struct lkvm_net ncfg = { .mode = NET_MODE_USER, .fd = -1 };
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct net_backend be = { .lock = &lock, .rx_wake = rx_wake };
	int fillers[128], nr_fillers = 0, lfd, accepted = 0, fd;
	u16 port;

	tap_plan(6);
	lfd = loopback_listener(256, &port);
	if (lfd < 0) {
		ok(0, "loopback listener: %s", strerror(-lfd));
		return tap_done();
	}

	evloop_init(&loop);
	stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	stop_w = (struct evloop_watch){ .fd = stop_fd, .cb = on_stop };
	evloop_add(&loop, &stop_w, EPOLLIN);

	be.cfg = &ncfg;
	is_int(net_backend_open(&be, &ncfg), 0, "user backend opens");
	pthread_mutex_lock(&lock);
	is_int(be.ops->attach(&be, &loop), 0, "attached to the loop");
	be.ops->rx_enable(&be, true);
	pthread_mutex_unlock(&lock);
	run_batch();

	/* Sockets slirp watches for their connect to finish (EPOLLOUT). */
	for (int i = 0; i < NR_EARLY; i++)
		send_syn(&be, (u16)(40000 + i), port);
	run_batch();

	/*
	 * Take every free fd below 64, the table's first size, so the next
	 * socket slirp creates lies beyond it.  Then, with the early sockets'
	 * events ready, one batch holds them all: its first callback runs a
	 * cycle that must grow the table for the new socket.
	 */
	while (nr_fillers < (int)ARRAY_SIZE(fillers) &&
	       (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0) {
		if (fd >= 64) {
			close(fd);
			break;
		}
		fillers[nr_fillers++] = fd;
	}
	ok(nr_fillers < (int)ARRAY_SIZE(fillers),
	   "fds below 64 taken (%d fillers)", nr_fillers);
	is_int(send_syn(&be, 41000, port), 0, "SYN for a socket beyond fd 63");
	run_batch();
	diag("the batch with the table growth is over");

	/* Let the last connect finish and slirp see it. */
	for (int i = 0; i < 100 && accepted < NR_EARLY + 1; i++) {
		run_batch();
		accepted += drain_accepts(lfd);
		if (accepted < NR_EARLY + 1)
			usleep(10000);
	}
	is_int(accepted, NR_EARLY + 1,
	       "every guest connection reached the host listener");
	ok(be.rx_dropped == 0, "no frame dropped (%llu)",
	   (unsigned long long)be.rx_dropped);

	for (int i = 0; i < nr_fillers; i++)
		close(fillers[i]);
	be.ops->free(&be);
	evloop_exit(&loop);
	close(stop_fd);
	close(lfd);
	return tap_done();
}

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

static u16 csum(const void *p, size_t len, u32 sum)
{
	const u8 *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (u32)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (u32)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)~sum;
}

/* A guest SYN from 10.0.2.15:@sport to 10.0.2.2:@dport (host loopback). */
static size_t make_syn(u8 *f, u16 sport, u16 dport)
{
	static const u8 dst_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
	static const u8 src_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	u8 *ip = f + 14, *tcp = ip + 20, pseudo[12];
	u32 saddr = htonl(0x0a00020f), daddr = htonl(0x0a000202);
	u16 v;

	memset(f, 0, 14 + 20 + 20);
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	v = htons(40);
	memcpy(ip + 2, &v, 2);
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, &saddr, 4);
	memcpy(ip + 16, &daddr, 4);
	v = htons(csum(ip, 20, 0));
	memcpy(ip + 10, &v, 2);

	v = htons(sport);
	memcpy(tcp, &v, 2);
	v = htons(dport);
	memcpy(tcp + 2, &v, 2);
	tcp[7] = 1;			/* sequence number */
	tcp[12] = 5 << 4;		/* data offset */
	tcp[13] = 0x02;			/* SYN */
	v = htons(8192);
	memcpy(tcp + 14, &v, 2);
	memcpy(pseudo, &saddr, 4);
	memcpy(pseudo + 4, &daddr, 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	v = htons(20);
	memcpy(pseudo + 10, &v, 2);
	{
		u32 sum = 0;

		for (int i = 0; i < 12; i += 2)
			sum += (u32)pseudo[i] << 8 | pseudo[i + 1];
		v = htons(csum(tcp, 20, sum));
	}
	memcpy(tcp + 16, &v, 2);
	return 14 + 20 + 20;
}

static int send_syn(struct net_backend *be, u16 sport, u16 dport)
{
	u8 frame[64];
	struct iovec iov = { .iov_base = frame };
	int ret;

	iov.iov_len = make_syn(frame, sport, dport);
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
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	int fillers[128], nr_fillers = 0, lfd, accepted = 0, fd;
	u16 port;

	tap_plan(6);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(lfd, 256) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen)) {
		ok(0, "loopback listener: %s", strerror(errno));
		return tap_done();
	}
	port = ntohs(sa.sin_port);

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

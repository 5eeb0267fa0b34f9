// SPDX-License-Identifier: GPL-2.0
/*
 * net/user.c keeps slirp's timers running on its own: the timerfd is
 * set again only when a deadline comes earlier than the one it holds, so
 * a cycle that forgot to re-arm after it fired would leave slirp's TCP
 * timers dead.  The test plays a guest that sends a SYN to a host
 * listener and never answers the SYN-ACK: with nothing else to wake the
 * event loop, the second SYN-ACK (slirp's retransmission) can only come
 * from its timers firing.
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
#include "tap.h"

#define CAP_S	120	/* slirp's first retransmission comes after ~3 s */

static struct evloop loop;
static struct net_backend *bep;
static bool capped;

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

static const u8 guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/*
 * "Who has 10.0.2.2? Tell 10.0.2.15": slirp learns the guest's address
 * from it, and sends IP frames to the guest without asking first.
 */
static size_t make_arp(u8 *f)
{
	static const u8 spa[4] = { 10, 0, 2, 15 }, tpa[4] = { 10, 0, 2, 2 };

	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08; f[13] = 0x06;
	f[14] = 0; f[15] = 1;			/* Ethernet */
	f[16] = 0x08; f[17] = 0x00;		/* IPv4 */
	f[18] = 6; f[19] = 4;
	f[20] = 0; f[21] = 1;			/* request */
	memcpy(f + 22, guest_mac, 6);
	memcpy(f + 28, spa, 4);
	memcpy(f + 38, tpa, 4);
	return 60;
}

/*
 * A guest TCP segment from 10.0.2.15:@sport to 10.0.2.2:@dport (host
 * loopback) with @flags and @len bytes of @data.
 */
static size_t make_tcp(u8 *f, u16 sport, u16 dport, u32 seq, u32 ack,
		       u8 flags, const void *data, u16 len)
{
	static const u8 dst_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
	u8 *ip = f + 14, *tcp = ip + 20, pseudo[12] = { 0 };
	u32 saddr = htonl(0x0a00020f), daddr = htonl(0x0a000202), sum = 0;
	u16 v;

	memset(f, 0, 14 + 20 + 20);
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	v = htons((u16)(40 + len));
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
	seq = htonl(seq);
	memcpy(tcp + 4, &seq, 4);
	ack = htonl(ack);
	memcpy(tcp + 8, &ack, 4);
	tcp[12] = 5 << 4;		/* data offset */
	tcp[13] = flags;
	v = htons(8192);
	memcpy(tcp + 14, &v, 2);
	memcpy(tcp + 20, data, len);
	memcpy(pseudo, &saddr, 4);
	memcpy(pseudo + 4, &daddr, 4);
	pseudo[9] = IPPROTO_TCP;
	v = htons((u16)(20 + len));
	memcpy(pseudo + 10, &v, 2);
	for (int i = 0; i < 12; i += 2)
		sum += (u32)pseudo[i] << 8 | pseudo[i + 1];
	v = htons(csum(tcp, 20 + len, sum));
	memcpy(tcp + 16, &v, 2);
	return 14 + 20 + 20 + len;
}

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
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct itimerspec cap = { .it_value.tv_sec = CAP_S };
	socklen_t salen = sizeof(sa);
	struct evloop_watch cap_w;
	struct iovec iov;
	u8 frame[128];
	char got[1];
	int lfd, cfd, afd;
	u16 port;

	tap_plan(8);
	bep = &be;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(lfd, 4) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen)) {
		ok(0, "loopback listener: %s", strerror(errno));
		return tap_done();
	}
	port = ntohs(sa.sin_port);

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
	iov = (struct iovec){ frame, make_arp(frame) };
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
		iov = (struct iovec){ frame, make_tcp(frame, sport, port, 1, 0,
						      0x02, NULL, 0) };
		be.ops->send(&be, &iov, 1);
		pthread_mutex_unlock(&lock);
		while (!got_synack && !capped)
			evloop_run(&loop), atomic_store(&loop.stop, false);
		ok(got_synack, "connection %d: slirp answered the SYN", i);

		host_ack = 0;
		pthread_mutex_lock(&lock);
		iov = (struct iovec){ frame, make_tcp(frame, sport, port, 2,
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

// SPDX-License-Identifier: GPL-2.0
/*
 * User-mode networking with libslirp: DHCP, DNS, NAT through the host's
 * own sockets and port forwards, no privileges.  The default network is
 * QEMU's: 10.0.2.0/24, the host (and its loopback) at 10.0.2.2, DNS at
 * 10.0.2.3, the guest's lease 10.0.2.15.
 *
 * Everything runs on the device thread.  slirp's sockets are watched by
 * the device's event loop (one epoll watch per fd slirp asks about, kept
 * by the fd table in net/user-fds.c) and its timers by one timerfd;
 * whenever one fires, or after the guest sent something, one "cycle"
 * runs: expired timers, a zero-timeout poll() over slirp's fds for their
 * revents, slirp_pollfds_poll(), delivery of queued frames to the guest,
 * slirp_pollfds_fill() and a resync of the watches.  No threads, none
 * per connection.  This file holds slirp's callbacks and the backend.
 *
 * Frames slirp emits wait in a bounded queue until the guest posts
 * buffers.  While the queue is three quarters full (or the guest takes
 * nothing) slirp's sockets are not read, so host data waits in the
 * kernel (TCP windows close) rather than being dropped; only a frame
 * that still finds the queue full is dropped, and counted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "lkvm/log.h"
#include "lkvm/net.h"
#include "slirp-dl.h"
#include "user-fds.h"

#define USER_QLEN	NET_USER_QLEN
#define USER_SLOT	NET_USER_SLOT

struct user_timer {
	SlirpTimerCb cb;
	void *cb_opaque;
	s64 expire_ms;
	bool armed;
	struct user_timer *next;
};

struct net_user {
	struct net_backend *be;
	const struct slirp_api *api;	/* libslirp, loaded on first use */
	Slirp *slirp;
	int poke_fd, timer_fd;
	s64 timer_at;			/* when timer_fd fires; -1: not armed */
	struct evloop_watch poke_w, timer_w;
	bool poked, rx_on, congested, in_cycle;

	struct user_fds fds;		/* the sockets slirp polls */

	struct user_timer *timers;

	u8 (*q)[USER_SLOT];
	u16 qlen[USER_QLEN];
	unsigned int qhead, qcount;
};

static s64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (s64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void user_poke(struct net_user *u)
{
	u64 one = 1;

	if (u->poked)
		return;
	u->poked = true;
	if (write(u->poke_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, a wake-up is pending. */
	}
}

/* ---- slirp callbacks ---- */

static ssize_t user_send_packet(const void *buf, size_t len,
				      void *opaque)
{
	struct net_user *u = opaque;
	unsigned int slot;

	if (len > USER_SLOT || u->qcount == USER_QLEN) {
		u->be->rx_dropped++;
		return (ssize_t)len;
	}
	slot = (u->qhead + u->qcount) % USER_QLEN;
	memcpy(u->q[slot], buf, len);
	u->qlen[slot] = (u16)len;
	u->qcount++;
	/* Inside a cycle, the cycle delivers it (or pokes if it cannot). */
	if (!u->in_cycle)
		user_poke(u);
	return (ssize_t)len;
}

static void user_guest_error(const char *msg, void *opaque __unused)
{
	pr_debug("net: slirp: guest error: %s", msg);
}

static int64_t user_clock_ns(void *opaque __unused)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *user_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct net_user *u = opaque;
	struct user_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cb = cb;
	t->cb_opaque = cb_opaque;
	t->next = u->timers;
	u->timers = t;
	return t;
}

static void user_timer_free(void *timer, void *opaque)
{
	struct net_user *u = opaque;

	for (struct user_timer **p = &u->timers; *p; p = &(*p)->next) {
		if (*p == timer) {
			*p = ((struct user_timer *)timer)->next;
			free(timer);
			return;
		}
	}
}

static void user_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct user_timer *t = timer;

	t->expire_ms = expire_ms;
	t->armed = true;
	user_poke(opaque);	/* re-arm the timerfd in the next cycle */
}

static void user_register_fd(int fd __unused, void *opaque __unused)
{
}

/* slirp is about to close @fd: forget its watch first. */
static void user_unregister_fd(int fd, void *opaque)
{
	struct net_user *u = opaque;

	user_fds_forget(&u->fds, fd);
}

static void user_notify(void *opaque)
{
	user_poke(opaque);
}

static const SlirpCb user_cbs = {
	.send_packet = user_send_packet,
	.guest_error = user_guest_error,
	.clock_get_ns = user_clock_ns,
	.timer_new = user_timer_new,
	.timer_free = user_timer_free,
	.timer_mod = user_timer_mod,
	.register_poll_fd = user_register_fd,
	.unregister_poll_fd = user_unregister_fd,
	.notify = user_notify,
};

/* ---- slirp's pollfds: SLIRP_POLL_* <-> poll(2), into the fd table ---- */

static int user_add_poll(int fd, int events, void *opaque)
{
	struct net_user *u = opaque;
	short ev = 0;

	/* Congested: do not read host sockets, let the data wait there. */
	if ((events & SLIRP_POLL_IN) && !u->congested)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if ((events & SLIRP_POLL_PRI) && !u->congested)
		ev |= POLLPRI;
	return user_fds_add(&u->fds, fd, ev);
}

static int user_get_revents(int idx, void *opaque)
{
	struct net_user *u = opaque;
	short r = user_fds_revents(&u->fds, idx);
	int ev = 0;

	if (r & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (r & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (r & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (r & POLLERR)
		ev |= SLIRP_POLL_ERR;
	if (r & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

/*
 * The timerfd is set again only when the next deadline comes before the
 * one it holds (or it holds none): firing early only runs a cycle with
 * nothing expired, and under load, with a cycle per datagram, this saves
 * a timerfd_settime() on almost every one.
 */
static void user_arm_timer(struct net_user *u, u32 timeout_ms)
{
	struct itimerspec its = { 0 };
	s64 now = now_ms(), delay = timeout_ms == UINT32_MAX ? -1 : (s64)timeout_ms;

	for (struct user_timer *t = u->timers; t; t = t->next) {
		s64 d = t->expire_ms - now;

		if (!t->armed)
			continue;
		if (d < 0)
			d = 0;
		if (delay < 0 || d < delay)
			delay = d;
	}
	if (u->timer_at >= 0 && u->timer_at <= now)
		u->timer_at = -1;	/* fired, or about to: one-shot */
	if (delay < 0 || (u->timer_at >= 0 && u->timer_at <= now + delay))
		return;
	its.it_value.tv_sec = delay / 1000;
	its.it_value.tv_nsec = (delay % 1000) * 1000000;
	if (!delay)
		its.it_value.tv_nsec = 1;	/* 0 would disarm */
	if (!timerfd_settime(u->timer_fd, 0, &its, NULL))
		u->timer_at = now + delay;
}

static void user_run_timers(struct net_user *u)
{
	s64 now = now_ms();
	bool again = true;

	/* A callback may free or re-arm timers: restart after each one. */
	for (unsigned int n = 0; again && n < 64; n++) {
		again = false;
		for (struct user_timer *t = u->timers; t; t = t->next) {
			if (t->armed && t->expire_ms <= now) {
				t->armed = false;
				t->cb(t->cb_opaque);
				again = true;
				break;
			}
		}
	}
}

/* One cycle, be->lock held (see the top of the file). */
static void user_cycle(struct net_user *u)
{
	struct net_backend *be = u->be;
	u32 timeout = UINT32_MAX;
	int n;

	u->in_cycle = true;
	user_run_timers(u);
	if (u->fds.nr_pfds) {
		n = user_fds_poll(&u->fds);
		u->api->slirp_pollfds_poll(u->slirp, n < 0, user_get_revents, u);
	}
	if (u->qcount && u->rx_on)
		be->rx_wake(be->opaque);
	u->congested = !u->rx_on || u->qcount >= USER_QLEN * 3 / 4;
	user_fds_reset(&u->fds);
	u->api->slirp_pollfds_fill(u->slirp, &timeout, user_add_poll, u);
	user_fds_sync(&u->fds);
	user_arm_timer(u, timeout);
	u->in_cycle = false;
	/* Frames left over (work budget): come back after other work. */
	if (u->qcount && u->rx_on)
		user_poke(u);
}

static void user_on_event(void *opaque, u32 events __unused)
{
	struct net_user *u = opaque;

	pthread_mutex_lock(u->be->lock);
	user_cycle(u);
	pthread_mutex_unlock(u->be->lock);
}

static void user_on_poke(void *opaque, u32 events __unused)
{
	struct net_user *u = opaque;
	u64 v;

	pthread_mutex_lock(u->be->lock);
	if (read(u->poke_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing was pending; run the cycle anyway. */
	}
	u->poked = false;
	user_cycle(u);
	pthread_mutex_unlock(u->be->lock);
}

static void user_on_timer(void *opaque, u32 events __unused)
{
	struct net_user *u = opaque;
	u64 v;

	pthread_mutex_lock(u->be->lock);
	if (read(u->timer_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: disarmed meanwhile. */
	}
	user_cycle(u);
	pthread_mutex_unlock(u->be->lock);
}

/* ---- backend ops ---- */

static int user_attach(struct net_backend *be, struct evloop *loop)
{
	struct net_user *u = be->priv;
	int ret;

	u->fds.loop = loop;
	u->poke_w = (struct evloop_watch){
		.fd = u->poke_fd, .cb = user_on_poke, .opaque = u,
	};
	u->timer_w = (struct evloop_watch){
		.fd = u->timer_fd, .cb = user_on_timer, .opaque = u,
	};
	ret = evloop_add(loop, &u->poke_w, EPOLLIN);
	if (!ret)
		ret = evloop_add(loop, &u->timer_w, EPOLLIN);
	if (!ret) {
		u->poked = false;
		user_poke(u);	/* first fill: port forwards' listeners */
	}
	return ret;
}

static int user_send(struct net_backend *be, const struct iovec *iov,
		     unsigned int cnt)
{
	struct net_user *u = be->priv;

	/* The device hands slirp one contiguous frame without a header. */
	if (cnt != 1 || iov->iov_len > NET_MAX_FRAME) {
		be->tx_dropped++;
		return -EINVAL;
	}
	u->api->slirp_input(u->slirp, iov->iov_base, (int)iov->iov_len);
	user_poke(u);	/* new sockets to watch, replies to deliver */
	return 0;
}

static ssize_t user_recv(struct net_backend *be, void *buf, size_t len)
{
	struct net_user *u = be->priv;
	size_t n;

	if (!u->qcount)
		return -EAGAIN;
	n = u->qlen[u->qhead];
	if (n > len)
		n = len;
	memcpy(buf, u->q[u->qhead], n);
	u->qhead = (u->qhead + 1) % USER_QLEN;
	u->qcount--;
	/* Room again: let the next cycle read host sockets. */
	if (u->congested && u->qcount < USER_QLEN / 2)
		user_poke(u);
	return (ssize_t)n;
}

static void user_rx_enable(struct net_backend *be, bool on)
{
	struct net_user *u = be->priv;

	if (u->rx_on == on)
		return;
	u->rx_on = on;
	if (on)
		user_poke(u);
}

static int user_set_offload(struct net_backend *be __unused, u64 f __unused)
{
	return 0;
}

static void user_free(struct net_backend *be)
{
	struct net_user *u = be->priv;

	if (u->slirp)
		u->api->slirp_cleanup(u->slirp);
	while (u->timers)
		user_timer_free(u->timers, u);
	if (u->poke_fd >= 0)
		close(u->poke_fd);
	if (u->timer_fd >= 0)
		close(u->timer_fd);
	user_fds_free(&u->fds);
	free(u->q);
	free(u);
}

static const struct net_backend_ops user_ops = {
	.name = "user",
	.attach = user_attach,
	.send = user_send,
	.recv = user_recv,
	.rx_enable = user_rx_enable,
	.set_offload = user_set_offload,
	.free = user_free,
};

static int user_add_fwds(struct net_user *u, const struct lkvm_net *cfg,
			 struct in_addr guest)
{
	for (unsigned int i = 0; i < cfg->nr_hostfwd; i++) {
		struct net_hostfwd f;
		struct in_addr h, g;

		if (net_parse_hostfwd(cfg->hostfwd[i], &f))
			return -EINVAL;
		/* No address: loopback only, never every interface. */
		h.s_addr = f.host_addr ? f.host_addr : htonl(INADDR_LOOPBACK);
		g.s_addr = f.guest_addr ? f.guest_addr : guest.s_addr;
		if (u->api->slirp_add_hostfwd(u->slirp, f.udp, h, f.host_port,
					      g, f.guest_port) < 0) {
			pr_err("net: hostfwd=%s: cannot listen there",
			       cfg->hostfwd[i]);
			return -EADDRINUSE;
		}
	}
	return 0;
}

int net_user_open(struct net_backend *be, const struct lkvm_net *cfg)
{
	struct net_user *u = calloc(1, sizeof(*u));
	struct in_addr host, net, mask, dhcp, dns;
	SlirpConfig sc;
	int ret = -ENOMEM;

	if (!u)
		return -ENOMEM;
	u->be = be;
	u->poke_fd = u->timer_fd = -1;
	u->timer_at = -1;
	u->api = slirp_dl();
	if (!u->api) {
		free(u);
		return -ENOTSUP;	/* said why */
	}
	user_fds_init(&u->fds, user_on_event, u);
	be->priv = u;
	be->ops = &user_ops;
	u->q = calloc(USER_QLEN, sizeof(*u->q));
	if (!u->q)
		goto err;
	u->poke_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	u->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (u->poke_fd < 0 || u->timer_fd < 0) {
		ret = -errno;
		goto err;
	}

	inet_pton(AF_INET, cfg->host_ip ? cfg->host_ip : "10.0.2.2", &host);
	mask.s_addr = htonl(0xffffff00);
	net.s_addr = host.s_addr & mask.s_addr;
	dns.s_addr = net.s_addr | htonl(3);
	if (cfg->guest_ip)
		inet_pton(AF_INET, cfg->guest_ip, &dhcp);
	else
		dhcp.s_addr = net.s_addr | htonl(15);
	if ((dhcp.s_addr & mask.s_addr) != net.s_addr ||
	    host.s_addr == dhcp.s_addr || host.s_addr == dns.s_addr) {
		pr_err("net: guest_ip and host_ip must differ, in one /24, not .3");
		ret = -EINVAL;
		goto err;
	}
	sc = (SlirpConfig){
		.version = 1,
		.in_enabled = true,
		.vnetwork = net,
		.vnetmask = mask,
		.vhost = host,
		.vdhcp_start = dhcp,
		.vnameserver = dns,
		.vhostname = "lkvm",
	};
	u->slirp = u->api->slirp_new(&sc, &user_cbs, u);
	if (!u->slirp) {
		pr_err("net: slirp_new failed");
		ret = -EIO;
		goto err;
	}
	ret = user_add_fwds(u, cfg, dhcp);
	if (ret)
		goto err;
	return 0;
err:
	user_free(be);
	be->priv = NULL;
	be->ops = NULL;
	return ret;
}

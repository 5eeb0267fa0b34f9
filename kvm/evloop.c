// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lkvm/evloop.h"

int evloop_init(struct evloop *el)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int ret;

	atomic_init(&el->stop, false);
	el->wake_efd = -1;
	el->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (el->epfd < 0)
		return -errno;
	el->wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (el->wake_efd < 0)
		goto err_close_ep;
	/* data.ptr == NULL marks the internal wake-up eventfd. */
	if (epoll_ctl(el->epfd, EPOLL_CTL_ADD, el->wake_efd, &ev))
		goto err_close_efd;
	return 0;

err_close_efd:
	ret = -errno;
	close(el->wake_efd);
	el->wake_efd = -1;
	goto err_out;
err_close_ep:
	ret = -errno;
err_out:
	close(el->epfd);
	el->epfd = -1;
	return ret;
}

void evloop_exit(struct evloop *el)
{
	if (el->wake_efd >= 0)
		close(el->wake_efd);
	if (el->epfd >= 0)
		close(el->epfd);
	el->wake_efd = el->epfd = -1;
}

static int evloop_ctl(struct evloop *el, int op, struct evloop_watch *w,
		      u32 events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(el->epfd, op, w->fd, &ev) ? -errno : 0;
}

int evloop_add(struct evloop *el, struct evloop_watch *w, u32 events)
{
	return evloop_ctl(el, EPOLL_CTL_ADD, w, events);
}

int evloop_mod(struct evloop *el, struct evloop_watch *w, u32 events)
{
	return evloop_ctl(el, EPOLL_CTL_MOD, w, events);
}

int evloop_del(struct evloop *el, struct evloop_watch *w)
{
	return evloop_ctl(el, EPOLL_CTL_DEL, w, 0);
}

int evloop_run(struct evloop *el)
{
	struct epoll_event evs[16];

	/* Pairs with the release store in evloop_stop(). */
	while (!atomic_load_explicit(&el->stop, memory_order_acquire)) {
		int n = epoll_wait(el->epfd, evs, ARRAY_SIZE(evs), -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			struct evloop_watch *w = evs[i].data.ptr;
			u64 cnt;

			if (!w) {
				if (read(el->wake_efd, &cnt, sizeof(cnt)) < 0 &&
				    errno != EAGAIN)
					return -errno;
				continue;
			}
			w->cb(w->opaque, evs[i].events);
		}
	}
	return 0;
}

void evloop_stop(struct evloop *el)
{
	u64 one = 1;

	/*
	 * Release: whatever the stopper wrote before is visible to the loop
	 * once it sees the flag (message passing, pairs with the acquire
	 * load in evloop_run()).  The eventfd write wakes epoll_wait().
	 */
	atomic_store_explicit(&el->stop, true, memory_order_release);
	if (write(el->wake_efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, so a wake-up is pending. */
	}
}

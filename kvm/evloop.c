// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lkvm/evloop.h"

int evloop_init(struct evloop *el)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int ret;

	atomic_init(&el->stop, false);
	el->wake_efd = -1;
	el->poll_us = 0;
	el->pollers = NULL;
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

void evloop_set_poll(struct evloop *el, unsigned int us)
{
	el->poll_us = us;
}

void evloop_add_poller(struct evloop *el, struct evloop_poller *p)
{
	p->next = el->pollers;
	el->pollers = p;
}

static __thread struct evloop *current_loop;

struct evloop *evloop_current(void)
{
	return current_loop;
}

static bool evloop_poll(struct evloop *el)
{
	bool found = false;

	for (struct evloop_poller *p = el->pollers; p; p = p->next)
		found |= p->poll(p->opaque);
	return found;
}

/* Every poller armed, or the work one of them found: no sleeping. */
static bool evloop_arm(struct evloop *el)
{
	bool found = false;

	for (struct evloop_poller *p = el->pollers; p; p = p->next)
		found |= p->arm(p->opaque);
	return found;
}

static u64 evloop_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

/*
 * Busy polling adapts, as QEMU's does, on how long each wait for the
 * next event really was (polling and sleeping together): no longer than
 * the window, fine; longer than poll_us, the events are further apart
 * than polling can wait for and spinning only takes a CPU from the vCPU
 * or the host's own I/O work, so the window halves; in between, polling
 * a little longer would have saved the sleep and the wake-up, so it
 * doubles (from POLL_MIN_NS).
 */
#define POLL_MIN_NS	4000ULL

/*
 * While the loop polls (its pollers finding work, or within the window),
 * the fds are asked only this often.  An epoll_wait() per turn was a
 * system call (and a seccomp filter run) for every few requests of a
 * device spread over several queues; in an idle window it made each look
 * at the rings some 200 ns longer, and at depth 1 the next request waits
 * for that look.  Fd work of a polling loop (a done_fd, a backend's
 * eventfd, a kick of a queue with kicks on) waits at most this long on top.
 */
#define FD_CHECK_NS	20000ULL

int evloop_run(struct evloop *el)
{
	u64 max_ns = el->poll_us * 1000ULL, window = max_ns, wait_start = 0;
	u64 fds_checked = 0;
	struct epoll_event evs[16];
	bool found = false;

	current_loop = el;
	/* Pairs with the release store in evloop_stop(). */
	while (!atomic_load_explicit(&el->stop, memory_order_acquire)) {
		int timeout = -1, n = 0;
		u64 seen = 0, now = 0;

		/*
		 * Within the window: look without sleeping (see evloop.h).
		 * Past it the pollers ask for their fds' announcements
		 * again before the sleep, or say what came in meanwhile.
		 * The pollers found work last turn (wait_start is when it
		 * ended), or the window is still open: straight back to
		 * them, the fds at FD_CHECK_NS.  Without a window wait_start
		 * stays 0 and cannot bound it.
		 */
		if (found && max_ns && wait_start - fds_checked < FD_CHECK_NS) {
			timeout = 0;
			goto poll;
		}
		if (wait_start) {
			now = evloop_now_ns();
			if (now - wait_start < window) {
				timeout = 0;
				if (el->pollers && now - fds_checked < FD_CHECK_NS)
					goto poll;
			}
		}
		fds_checked = now ? now : wait_start;
		if (timeout && el->pollers && evloop_arm(el))
			timeout = 0;
		n = epoll_wait(el->epfd, evs, ARRAY_SIZE(evs), timeout);
		if (n < 0) {
			found = false;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n > 0 && max_ns)
			seen = evloop_now_ns();
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
		found = false;
poll:
		if (!timeout && el->pollers) {
			/* An idle look: the time read above will do. */
			u64 before = !max_ns || seen ? 0 :
				     now ? now : evloop_now_ns();

			found = evloop_poll(el);
			if (found && !seen)
				seen = before;
		}
		if (seen && wait_start) {
			u64 waited = seen - wait_start;

			if (waited > max_ns)
				window /= 2;
			else if (waited > window)
				window = window ? window * 2 : POLL_MIN_NS;
			if (window > max_ns)
				window = max_ns;
		}
		/* The next wait starts once this turn's work is done. */
		if ((n > 0 || found) && max_ns)
			wait_start = evloop_now_ns();
	}
	current_loop = NULL;
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

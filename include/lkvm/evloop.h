/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_EVLOOP_H
#define LKVM_EVLOOP_H

#include <stdatomic.h>
#include <stdbool.h>

#include "lkvm/types.h"

/*
 * An epoll-based event loop, one per thread that runs it.  Callbacks run on
 * that thread; watches may be added, changed or removed from any thread.
 */
typedef void (*evloop_cb_t)(void *opaque, u32 events);

struct evloop_watch {
	int fd;
	evloop_cb_t cb;
	void *opaque;
};

/*
 * Work no fd announces while the loop polls: a virtqueue whose driver
 * kicks are turned off because its thread is looking at the ring anyway.
 * poll() looks (and does the work): true if there was any.  arm() runs
 * before the loop sleeps and turns the fd announcement back on: true if
 * work came in meanwhile, and then the loop does not sleep.  Both run on
 * the loop's thread.
 */
struct evloop_poller {
	bool (*poll)(void *opaque);
	bool (*arm)(void *opaque);
	void *opaque;
	struct evloop_poller *next;
};

struct evloop {
	int epfd;
	int wake_efd;
	atomic_bool stop;
	/*
	 * Longest busy-poll window (evloop_set_poll): after a turn that ran
	 * a callback the loop keeps looking without sleeping for up to this
	 * long (the window adapts, see evloop_run()): its pollers on every
	 * turn and epoll every 20 us, or epoll on every turn if it has no
	 * pollers.  So the next doorbell of a busy device finds its thread
	 * on a CPU instead of waking it through the scheduler.  0: always
	 * sleep.
	 */
	unsigned int poll_us;
	struct evloop_poller *pollers;	/* set before evloop_run() */
};

int evloop_init(struct evloop *el);
void evloop_set_poll(struct evloop *el, unsigned int us);
/* Before the loop's thread runs it; only useful with a poll window. */
void evloop_add_poller(struct evloop *el, struct evloop_poller *p);
/* The loop the calling thread runs, or NULL. */
struct evloop *evloop_current(void);
void evloop_exit(struct evloop *el);
/* @w must stay valid until removed; @events are EPOLLIN/EPOLLOUT/... */
int evloop_add(struct evloop *el, struct evloop_watch *w, u32 events);
int evloop_mod(struct evloop *el, struct evloop_watch *w, u32 events);
int evloop_del(struct evloop *el, struct evloop_watch *w);
/* Runs callbacks until evloop_stop(); returns 0 or a negative errno. */
int evloop_run(struct evloop *el);
void evloop_stop(struct evloop *el);

#endif

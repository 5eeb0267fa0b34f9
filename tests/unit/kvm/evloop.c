// SPDX-License-Identifier: GPL-2.0
/*
 * The event loop's pollers: work found by polling is done and keeps the
 * loop polling, the loop arms every poller before it sleeps, and an arm
 * that finds work keeps it awake.  A lost arm is a lost guest kick, so
 * every sleep must come after one.  A loop whose pollers always find work
 * asks its fds less often, but still answers them, and so does a loop
 * that polls an idle window.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lkvm/evloop.h"
#include "tap.h"

struct fake {
	struct evloop *el;
	atomic_int polls, arms, found, work;	/* work: what poll() will find */
	atomic_bool armed;
	atomic_int arm_finds;	/* arms left that report work */
	atomic_int misuse;	/* misuse seen (a failed check) */
	atomic_int events;	/* eventfd wake-ups read */
	int efd;
};

static bool fake_poll(void *opaque)
{
	struct fake *f = opaque;

	atomic_fetch_add(&f->polls, 1);
	if (evloop_current() != f->el)
		atomic_fetch_add(&f->misuse, 100);
	if (atomic_load(&f->work) <= 0)
		return false;
	atomic_fetch_sub(&f->work, 1);
	atomic_fetch_add(&f->found, 1);
	atomic_store(&f->armed, false);	/* busy again: kicks off */
	return true;
}

static bool fake_arm(void *opaque)
{
	struct fake *f = opaque;

	atomic_fetch_add(&f->arms, 1);
	if (atomic_load(&f->arm_finds) > 0) {
		atomic_fetch_sub(&f->arm_finds, 1);
		atomic_fetch_add(&f->work, 1);
		return true;
	}
	atomic_store(&f->armed, true);
	return false;
}

/* A watched eventfd: what wakes the loop and opens a poll window. */
static void on_event(void *opaque, u32 events __unused)
{
	struct fake *f = opaque;
	u64 cnt;

	if (read(f->efd, &cnt, sizeof(cnt)) != sizeof(cnt))
		atomic_fetch_add(&f->misuse, 1000);
	atomic_fetch_add(&f->events, 1);
}

static void *loop_thread(void *opaque)
{
	struct evloop *el = opaque;

	return (void *)(long)evloop_run(el);
}

/* Wait (generously) until @cond holds. */
#define WAIT_FOR(cond)							\
	do {								\
		for (int __i = 0; __i < 10000 && !(cond); __i++)	\
			usleep(1000);					\
	} while (0)

int main(void)
{
	struct evloop el;
	struct fake f = { .el = &el };
	struct evloop_poller p = { .poll = fake_poll, .arm = fake_arm,
				   .opaque = &f };
	struct evloop_watch w;
	pthread_t t;
	void *ret;
	int efd, polls;
	u64 one = 1;

	tap_plan(16);
	is_int(evloop_init(&el), 0, "evloop_init");
	ok(evloop_current() == NULL, "no loop on the test thread");
	evloop_set_poll(&el, 200);
	evloop_add_poller(&el, &p);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f.efd = efd;
	w = (struct evloop_watch){ .fd = efd, .cb = on_event, .opaque = &f };
	is_int(evloop_add(&el, &w, EPOLLIN), 0, "watch an eventfd");
	is_int(pthread_create(&t, NULL, loop_thread, &el), 0, "loop thread");

	/* Idle from the start: the first sleep comes after an arm. */
	WAIT_FOR(atomic_load(&f.arms) >= 1 && atomic_load(&f.armed));
	ok(atomic_load(&f.armed), "armed before the first sleep");

	/*
	 * An event starts a poll window; work polled in it is done, then
	 * the loop arms again before it sleeps.  An arm that finds work
	 * (a buffer added as kicks came back on) is polled, not slept on.
	 */
	atomic_store(&f.work, 3);
	atomic_store(&f.arm_finds, 1);
	atomic_store(&f.armed, false);
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		return 1;
	WAIT_FOR(atomic_load(&f.found) >= 4 && atomic_load(&f.armed));
	is_int(atomic_load(&f.found), 4,
	       "the polled work and the work an arm found were all done");
	ok(atomic_load(&f.armed) && !atomic_load(&f.arm_finds),
	   "armed again once idle");
	is_int(atomic_load(&f.misuse), 0,
	       "pollers run on the loop's own thread; the event was read");

	/*
	 * Pollers that never run dry: the loop keeps going back to them,
	 * and an fd's event is still read, and it still stops.
	 */
	atomic_store(&f.work, 1 << 30);
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		return 1;		/* the loop sleeps: wake it */
	WAIT_FOR(atomic_load(&f.found) >= 1000);
	atomic_store(&f.events, 0);
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		return 1;
	WAIT_FOR(atomic_load(&f.events) >= 1);
	is_int(atomic_load(&f.events), 1,
	       "an event is read while the pollers keep finding work");
	ok(atomic_load(&f.work) > 0, "the pollers were still busy then");
	atomic_store(&f.work, 0);
	WAIT_FOR(atomic_load(&f.armed));
	ok(atomic_load(&f.armed), "armed again once the work ran out");

	evloop_stop(&el);
	pthread_join(t, &ret);
	is_int((int)(long)ret, 0, "the loop stops cleanly");
	evloop_exit(&el);

	/*
	 * A window longer than the test may wait: once an event opened it
	 * the loop only polls, finding nothing, and must still ask its fds
	 * now and then, or a kick or a done_fd sits there until it closes.
	 */
	atomic_store(&f.work, 0);
	atomic_store(&f.events, 0);
	is_int(evloop_init(&el), 0, "a loop with a 30 s window");
	evloop_set_poll(&el, 30 * 1000 * 1000);
	evloop_add_poller(&el, &p);
	w = (struct evloop_watch){ .fd = efd, .cb = on_event, .opaque = &f };
	if (evloop_add(&el, &w, EPOLLIN) ||
	    pthread_create(&t, NULL, loop_thread, &el))
		return 1;
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		return 1;
	WAIT_FOR(atomic_load(&f.events) >= 1);
	polls = atomic_load(&f.polls);
	WAIT_FOR(atomic_load(&f.polls) > polls + 1000);
	ok(atomic_load(&f.polls) > polls + 1000,
	   "the event opened the window: the loop polls");
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		return 1;
	WAIT_FOR(atomic_load(&f.events) >= 2);
	is_int(atomic_load(&f.events), 2,
	       "an event is read while the loop polls an idle window");
	evloop_stop(&el);
	pthread_join(t, &ret);
	is_int((int)(long)ret, 0, "the polling loop stops cleanly");
	close(efd);
	evloop_exit(&el);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * net/user-fds.c on its own, without slirp: the pollfd round (indices in
 * order, kept across growth, revents by index from a real poll(2)), the
 * chunked watch table (range, chunks allocated on demand, slots that never
 * move) and the sync to a real epoll set (what is registered, with which
 * mask, checked in /proc/self/fdinfo; watches dropped when slirp stops
 * asking or forgets an fd, and registered again when it asks again).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/user-fds.h"
#include "tap.h"

static struct evloop loop;
static int marker;
static int calls;

static void on_event(void *opaque, u32 events __unused)
{
	if (opaque == &marker)
		calls++;
}

/*
 * The epoll mask the kernel holds for @fd in the loop's set (EPOLLERR and
 * EPOLLHUP, which epoll always adds, left out), or -1 if @fd is not there.
 */
static long epoll_mask(int fd)
{
	char path[64], line[256];
	long mask = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", loop.epfd);
	f = fopen(path, "r");
	if (!f)
		return -2;
	while (fgets(line, sizeof(line), f)) {
		int tfd;
		unsigned int ev;

		if (sscanf(line, "tfd: %d events: %x", &tfd, &ev) == 2 &&
		    tfd == fd)
			mask = ev & ~(unsigned int)(EPOLLERR | EPOLLHUP);
	}
	fclose(f);
	return mask;
}

/*
 * Dispatches what epoll has ready now, as evloop_run() would; returns
 * whether one of the events came through @w.
 */
static bool ready_through(const struct evloop_watch *w)
{
	struct epoll_event evs[16];
	bool seen = false;
	int n = epoll_wait(loop.epfd, evs, 16, 0);

	for (int i = 0; i < n; i++) {
		struct evloop_watch *e = evs[i].data.ptr;

		if (!e)
			continue;	/* the loop's own wake-up eventfd */
		if (e == w)
			seen = true;
		e->cb(e->opaque, evs[i].events);
	}
	return seen;
}

/* One round: slirp asks for @fd with poll(2) @events, then the sync. */
static void round1(struct user_fds *t, int fd, short events)
{
	user_fds_reset(t);
	user_fds_add(t, fd, events);
	user_fds_sync(t);
}

static void test_round(void)
{
	struct user_fds t;
	bool in_order = true, kept = true;
	int p[4][2], idx[4];

	user_fds_init(&t, on_event, &marker);
	is_int(user_fds_revents(&t, 0), 0, "empty table: no revents at 0");

	/* 100 > 32, the first allocation: the array grows twice. */
	for (int i = 0; i < 100; i++)
		if (user_fds_add(&t, 1000 + i, (short)(i & 1 ? POLLIN : POLLOUT)) != i)
			in_order = false;
	ok(in_order, "indices are handed out 0, 1, 2, ... in order");
	for (int i = 0; i < 100; i++)
		if (t.pfds[i].fd != 1000 + i ||
		    t.pfds[i].events != (i & 1 ? POLLIN : POLLOUT))
			kept = false;
	ok(kept, "every fd and its events kept across the growth");
	user_fds_reset(&t);
	is_int(user_fds_revents(&t, 5), 0, "a new round forgets old indices");

	for (int i = 0; i < 4; i++)
		if (pipe2(p[i], O_CLOEXEC | O_NONBLOCK))
			return (void)ok(0, "pipes: %s", strerror(errno));
	if (write(p[0][1], "x", 1) != 1)
		return (void)ok(0, "pipe write: %s", strerror(errno));
	close(p[3][1]);
	p[3][1] = -1;
	idx[0] = user_fds_add(&t, p[0][0], POLLIN);	/* data waiting */
	idx[1] = user_fds_add(&t, p[1][0], POLLIN);	/* nothing */
	idx[2] = user_fds_add(&t, p[2][1], POLLOUT);	/* room */
	idx[3] = user_fds_add(&t, p[3][0], POLLIN);	/* writer gone */
	is_int(idx[0] == 0 && idx[3] == 3, 1, "a new round starts at index 0");
	is_int(user_fds_poll(&t), 3, "poll: three of four fds ready");
	is_int(user_fds_revents(&t, idx[0]), POLLIN, "readable pipe: POLLIN");
	is_int(user_fds_revents(&t, idx[1]), 0, "empty pipe: nothing");
	is_int(user_fds_revents(&t, idx[2]), POLLOUT, "pipe with room: POLLOUT");
	ok(user_fds_revents(&t, idx[3]) & POLLHUP, "closed writer: POLLHUP");
	is_int(user_fds_revents(&t, 4), 0, "index past the round: 0");
	is_int(user_fds_revents(&t, -1), 0, "negative index: 0");

	for (int i = 0; i < 4; i++) {
		close(p[i][0]);
		if (p[i][1] >= 0)
			close(p[i][1]);
	}
	user_fds_free(&t);
}

static void test_chunks(void)
{
	struct user_fds t;
	struct user_fd *f5, *f63, *last;

	user_fds_init(&t, on_event, &marker);
	ok(!user_fds_get(&t, -1, true), "fd -1: no slot");
	ok(!user_fds_get(&t, USER_MAX_FDS, true), "fd USER_MAX_FDS: no slot");
	ok(!user_fds_get(&t, 5, false), "no slot before its chunk exists");
	f5 = user_fds_get(&t, 5, true);
	ok(f5 && user_fds_get(&t, 5, false) == f5, "created, then found");
	f63 = user_fds_get(&t, USER_FD_CHUNK - 1, false);
	ok(f63 == f5 + USER_FD_CHUNK - 1 - 5, "a chunk holds fds 0..63");
	ok(!user_fds_get(&t, USER_FD_CHUNK, false),
	   "the next fd is in a chunk not yet allocated");
	last = user_fds_get(&t, USER_MAX_FDS - 1, true);
	ok(last && user_fds_get(&t, 5, false) == f5,
	   "allocating the last chunk moves no slot of the first");
	user_fds_free(&t);
}

static void test_sync(void)
{
	struct user_fds t;
	struct user_fd *f;
	int s[2], s2[2], far[2] = { 200, 1000 }, nul;
	void *before;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, s))
		return (void)ok(0, "socketpair: %s", strerror(errno));
	user_fds_init(&t, on_event, &marker);
	t.loop = &loop;

	round1(&t, s[0], POLLIN);
	f = user_fds_get(&t, s[0], false);
	is_int(epoll_mask(s[0]), EPOLLIN, "POLLIN: watched for EPOLLIN");
	ok(f && f->events == EPOLLIN && f->w.fd == s[0],
	   "the slot records the watch");
	ok(!ready_through(&f->w), "nothing to read: no event");
	if (write(s[1], "x", 1) != 1)
		diag("write: %s", strerror(errno));
	calls = 0;
	ok(ready_through(&f->w) && calls == 1,
	   "readable: the event comes through the slot's watch, to the table's callback");

	round1(&t, s[0], POLLOUT | POLLPRI);
	is_int(epoll_mask(s[0]), EPOLLOUT | EPOLLPRI,
	       "POLLOUT|POLLPRI: the watch is changed in place");
	round1(&t, s[0], 0);
	is_int(epoll_mask(s[0]), -1, "asking for nothing: unwatched");
	ok(f->events == 0 && user_fds_get(&t, s[0], false) == f,
	   "the slot stays where it was");
	round1(&t, s[0], POLLIN);
	is_int(epoll_mask(s[0]), EPOLLIN, "asked again: watched again");

	user_fds_reset(&t);
	user_fds_sync(&t);
	is_int(epoll_mask(s[0]), -1, "missing from the round: unwatched");

	round1(&t, s[0], POLLIN);
	user_fds_forget(&t, s[0]);
	is_int(epoll_mask(s[0]), -1, "forgotten (slirp closes it): unwatched");
	user_fds_forget(&t, 3000);
	user_fds_forget(&t, -1);
	ok(1, "forgetting fds the table never saw is harmless");

	/* slirp closes the fd and the next socket gets its number. */
	before = f;
	close(s[0]);
	close(s[1]);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, s))
		return (void)ok(0, "socketpair: %s", strerror(errno));
	f = user_fds_get(&t, s[0], true);
	round1(&t, s[0], POLLIN);
	is_int(epoll_mask(s[0]), EPOLLIN, "a reused fd number is watched");
	diag("reused fd %d: %s slot", s[0], (void *)f == before ? "same" : "another");

	/*
	 * Growth while watched: the same socket also at fds in later chunks.
	 * The first chunk's watch, which epoll points at, must not move.
	 */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, s2) ||
	    dup2(s2[0], far[0]) != far[0] || dup2(s2[0], far[1]) != far[1])
		return (void)ok(0, "fds 200 and 1000: %s", strerror(errno));
	nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	user_fds_reset(&t);
	user_fds_add(&t, s[0], POLLIN);
	user_fds_add(&t, far[0], POLLIN);
	user_fds_add(&t, USER_MAX_FDS + 5, POLLIN);	/* beyond the table */
	user_fds_add(&t, nul, POLLIN);			/* epoll refuses it */
	user_fds_add(&t, far[1], POLLIN);
	user_fds_sync(&t);
	ok(user_fds_get(&t, s[0], false) == f,
	   "new chunks leave existing watches where epoll has them");
	is_int(epoll_mask(far[0]) == EPOLLIN && epoll_mask(far[1]) == EPOLLIN, 1,
	       "fds in later chunks watched");
	is_int(epoll_mask(s[0]), EPOLLIN,
	       "an fd past the table or one epoll refuses is skipped, the rest watched");
	ok(user_fds_get(&t, nul, false)->events == 0,
	   "refused by epoll: recorded as not watched");
	if (write(s[1], "y", 1) != 1)
		diag("write: %s", strerror(errno));
	ok(ready_through(&f->w), "and events still arrive through it");

	close(far[0]);
	close(far[1]);
	close(nul);
	close(s2[0]);
	close(s2[1]);
	close(s[0]);
	close(s[1]);
	user_fds_free(&t);
}

int main(void)
{
	if (evloop_init(&loop)) {
		printf("1..0 # SKIP no epoll: %s\n", strerror(errno));
		return 0;
	}
	if (epoll_mask(-1) == -2) {
		printf("1..0 # SKIP no /proc/self/fdinfo to read the epoll set\n");
		return 0;
	}
	tap_plan(36);
	test_round();
	test_chunks();
	test_sync();
	evloop_exit(&loop);
	return tap_done();
}

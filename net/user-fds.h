/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_NET_USER_FDS_H
#define LKVM_NET_USER_FDS_H

/*
 * The host fds slirp polls (net/user-fds.c), internal to net/user*.c.
 *
 * Each cycle slirp lists the fds it wants polled (slirp_pollfds_fill ->
 * add_poll, which hands slirp an index), the cycle polls them once, and
 * slirp asks for each index's revents (get_revents).  Between cycles the
 * same fds are epoll watches on the device's event loop, so that a
 * socket becoming ready starts the next cycle.  The table speaks poll(2)
 * and epoll flags only; turning slirp's SLIRP_POLL_* into them, and the
 * policy of what to ask for, stay with the callbacks in net/user.c.
 */
#include <poll.h>
#include <stdbool.h>

#include "lkvm/evloop.h"
#include "lkvm/types.h"

#define USER_MAX_FDS	4096
#define USER_FD_CHUNK	64		/* watches allocated together */
#define USER_NR_CHUNKS	(USER_MAX_FDS / USER_FD_CHUNK)

struct user_fd {
	struct evloop_watch w;
	u32 events;			/* registered epoll events, 0 = none */
	bool seen;			/* in the last round of pollfds */
};

struct user_fds {
	struct evloop *loop;		/* set before the first sync */
	evloop_cb_t cb;			/* what every watch calls ... */
	void *opaque;			/* ... and with what */

	/* This round's pollfds; slirp's index is the array index. */
	struct pollfd *pfds;
	unsigned int nr_pfds, cap_pfds;
	/*
	 * Watches by fd number, in chunks that never move and are freed
	 * only with the table: epoll holds pointers to them, and so does
	 * the epoll_wait batch being dispatched, which may still reach a
	 * watch that an earlier callback in it has just removed.
	 */
	struct user_fd *chunks[USER_NR_CHUNKS];
};

/* An empty table whose watches will call @cb(@opaque, events). */
void user_fds_init(struct user_fds *t, evloop_cb_t cb, void *opaque);
/* Unwatches nothing (slirp closed its fds already); frees the memory. */
void user_fds_free(struct user_fds *t);

/* Starts a new round of pollfds; earlier indices are gone. */
void user_fds_reset(struct user_fds *t);
/* Adds @fd wanting poll(2) @events; its index, or -1 without memory. */
int user_fds_add(struct user_fds *t, int fd, short events);
/* poll(2), zero timeout, over this round's pollfds: poll's result. */
int user_fds_poll(struct user_fds *t);
/* The poll(2) revents at @idx from the last user_fds_poll(); 0 if none. */
short user_fds_revents(const struct user_fds *t, int idx);

/*
 * @fd's watch, allocating its chunk if @create; NULL when @fd is out of
 * range, or has no chunk (and !@create, or no memory).  A watch never
 * moves while the table lives.
 */
struct user_fd *user_fds_get(struct user_fds *t, int fd, bool create);
/* slirp is about to close @fd: stop watching it (the slot stays). */
void user_fds_forget(struct user_fds *t, int fd);
/*
 * Makes the epoll watches match this round's pollfds: POLLIN/OUT/PRI
 * become EPOLLIN/OUT/PRI, fds wanting nothing or missing from the round
 * are unwatched.  An fd that cannot be watched is skipped.
 */
void user_fds_sync(struct user_fds *t);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * The table of host fds slirp polls: this cycle's pollfds, indexed the
 * way slirp's add_poll/get_revents callbacks expect, and the epoll
 * watches that wake the device thread for the next cycle (see
 * net/user-fds.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "lkvm/log.h"
#include "user-fds.h"

void user_fds_init(struct user_fds *t, evloop_cb_t cb, void *opaque)
{
	memset(t, 0, sizeof(*t));
	t->cb = cb;
	t->opaque = opaque;
}

void user_fds_free(struct user_fds *t)
{
	free(t->pfds);
	t->pfds = NULL;
	t->nr_pfds = t->cap_pfds = 0;
	for (unsigned int c = 0; c < USER_NR_CHUNKS; c++) {
		free(t->chunks[c]);
		t->chunks[c] = NULL;
	}
}

void user_fds_reset(struct user_fds *t)
{
	t->nr_pfds = 0;
}

int user_fds_add(struct user_fds *t, int fd, short events)
{
	if (t->nr_pfds == t->cap_pfds) {
		unsigned int cap = t->cap_pfds ? 2 * t->cap_pfds : 32;
		struct pollfd *p = realloc(t->pfds, cap * sizeof(*p));

		if (!p)
			return -1;
		t->pfds = p;
		t->cap_pfds = cap;
	}
	t->pfds[t->nr_pfds] = (struct pollfd){ .fd = fd, .events = events };
	return (int)t->nr_pfds++;
}

int user_fds_poll(struct user_fds *t)
{
	return poll(t->pfds, t->nr_pfds, 0);
}

short user_fds_revents(const struct user_fds *t, int idx)
{
	if (idx < 0 || (unsigned int)idx >= t->nr_pfds)
		return 0;
	return t->pfds[idx].revents;
}

struct user_fd *user_fds_get(struct user_fds *t, int fd, bool create)
{
	struct user_fd **chunk;

	if (fd < 0 || fd >= USER_MAX_FDS)
		return NULL;
	chunk = &t->chunks[fd / USER_FD_CHUNK];
	if (!*chunk && create)
		*chunk = calloc(USER_FD_CHUNK, sizeof(**chunk));
	return *chunk ? &(*chunk)[fd % USER_FD_CHUNK] : NULL;
}

/*
 * Stops watching through @f.  The watch stays where it is: an event for
 * it already in the current batch then finds a valid watch and only runs
 * one more cycle, which is harmless.
 */
static void user_fds_unwatch(struct user_fds *t, struct user_fd *f)
{
	if (f->events)
		evloop_del(t->loop, &f->w);
	f->events = 0;
}

void user_fds_forget(struct user_fds *t, int fd)
{
	struct user_fd *f = user_fds_get(t, fd, false);

	if (f)
		user_fds_unwatch(t, f);
}

void user_fds_sync(struct user_fds *t)
{
	struct user_fd *f;

	for (unsigned int c = 0; c < USER_NR_CHUNKS; c++)
		for (unsigned int i = 0; t->chunks[c] && i < USER_FD_CHUNK; i++)
			t->chunks[c][i].seen = false;
	for (unsigned int i = 0; i < t->nr_pfds; i++) {
		int fd = t->pfds[i].fd;
		u32 ev = 0;
		int ret;

		f = user_fds_get(t, fd, true);
		if (!f) {
			pr_debug("net: slirp fd %d cannot be watched", fd);
			continue;
		}
		f->seen = true;
		if (t->pfds[i].events & POLLIN)
			ev |= EPOLLIN;
		if (t->pfds[i].events & POLLOUT)
			ev |= EPOLLOUT;
		if (t->pfds[i].events & POLLPRI)
			ev |= EPOLLPRI;
		if (ev == f->events)
			continue;
		if (!ev) {
			user_fds_unwatch(t, f);
			continue;
		}
		f->w = (struct evloop_watch){
			.fd = fd, .cb = t->cb, .opaque = t->opaque,
		};
		ret = f->events ? evloop_mod(t->loop, &f->w, ev) : -ENOENT;
		if (ret == -ENOENT)
			ret = evloop_add(t->loop, &f->w, ev);
		if (ret == -EEXIST)
			ret = evloop_mod(t->loop, &f->w, ev);
		f->events = ret ? 0 : ev;
	}
	for (unsigned int c = 0; c < USER_NR_CHUNKS; c++) {
		for (unsigned int i = 0; t->chunks[c] && i < USER_FD_CHUNK; i++) {
			f = &t->chunks[c][i];
			if (!f->seen && f->events)
				user_fds_unwatch(t, f);
		}
	}
}

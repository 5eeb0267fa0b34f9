// SPDX-License-Identifier: GPL-2.0
/*
 * Resolution beneath the export's root.
 *
 * A fid remembers two things: an O_PATH fd of the inode it was walked to
 * and that inode's path from the root (components only, never "." or
 * ".."; renames through this server keep it current).  Every lookup by
 * path starts at the root fd with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS) and O_NOFOLLOW: the kernel
 * refuses "..", absolute and relative symlinks, /proc magic links and
 * any symlink planted in a directory since the walk, in every component,
 * atomically with the lookup.  The server never needs to follow a
 * symlink: 9P2000.L clients read the link and walk its target themselves.
 *
 * Opening a walked fid (Tlopen, a truncate) cannot go through the O_PATH
 * fd (Linux has no open-by-fd without /proc/self/fd, which we refuse to
 * rely on), so a directory is opened as "." relative to its own O_PATH fd
 * (no lookup at all), anything else by its path from the root followed by
 * a check that the inode is the one the fid was walked to; a file or
 * symlink swapped in between Twalk and Tlopen gets ESTALE, never opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "p9-int.h"

int p9_name_check(const char *name)
{
	if (!name[0] || strchr(name, '/'))
		return -EINVAL;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int p9_open_beneath(struct p9_server *s, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (u64)(flags | O_NOFOLLOW | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_SYMLINKS,
	};
	int tries = 0;
	long fd;

	/* EAGAIN: the kernel saw a rename race it cannot rule out; retry. */
	do
		fd = syscall(SYS_openat2, s->root_fd, path[0] ? path : ".",
			     &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN && ++tries < 8);
	return fd < 0 ? -errno : (int)fd;
}

char *p9_path_walk(const char *dir, const char *name, int *err)
{
	size_t dl = strlen(dir), nl = strlen(name);
	const char *slash;
	char *p;

	if (!strcmp(name, "..")) {
		/* The root's parent is the root, as in 9P. */
		slash = strrchr(dir, '/');
		p = strndup(dir, slash ? (size_t)(slash - dir) : 0);
		goto done;
	}
	*err = p9_name_check(name);
	if (*err)
		return NULL;
	if (dl + 1 + nl >= PATH_MAX) {
		*err = -ENAMETOOLONG;
		return NULL;
	}
	p = malloc(dl + 1 + nl + 1);
	if (p) {
		if (dl)
			sprintf(p, "%s/%s", dir, name);
		else
			strcpy(p, name);
	}
done:
	if (!p)
		*err = -ENOMEM;
	return p;
}

static bool same_inode(const struct p9_fid *f, const struct stat *st)
{
	return st->st_dev == f->dev && st->st_ino == f->ino;
}

int p9_reopen(struct p9_server *s, struct p9_fid *f, int flags)
{
	struct stat st;
	char *path;
	int fd;

	if (S_ISDIR(f->type)) {
		fd = openat(f->pfd, ".", flags | O_DIRECTORY | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	path = p9_fid_path(s, f);
	if (!path)
		return -ENOMEM;
	fd = p9_open_beneath(s, path, flags, 0);
	free(path);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) || !same_inode(f, &st)) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

int p9_parent(struct p9_server *s, struct p9_fid *f, char *name, size_t size)
{
	struct stat st;
	char *path, *slash, *base;
	int fd;

	path = p9_fid_path(s, f);
	if (!path)
		return -ENOMEM;
	if (!path[0]) {
		free(path);
		return -EBUSY;
	}
	slash = strrchr(path, '/');
	if (slash) {
		*slash = '\0';
		base = slash + 1;
	} else {
		base = path;
	}
	if (strlen(base) >= size) {
		free(path);
		return -ENAMETOOLONG;
	}
	strcpy(name, base);
	fd = p9_open_beneath(s, slash ? path : "", O_PATH | O_DIRECTORY, 0);
	free(path);
	if (fd < 0)
		return fd;
	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) || !same_inode(f, &st)) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

void p9_paths_renamed(struct p9_server *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), i;
	struct p9_fid *f;
	char *np;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < ARRAY_SIZE(s->fids); i++) {
		for (f = s->fids[i]; f; f = f->next) {
			if (strncmp(f->path, from, fl) ||
			    (f->path[fl] && f->path[fl] != '/'))
				continue;
			np = malloc(tl + strlen(f->path + fl) + 1);
			if (!np)
				continue;	/* stale: its next reopen says ESTALE */
			strcpy(np, to);
			strcpy(np + tl, f->path + fl);
			free(f->path);
			f->path = np;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

// SPDX-License-Identifier: GPL-2.0
/* Where control sockets live, and which names and directories are safe. */
#include <errno.h>
#include <sys/file.h>
#include <limits.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"

int ctl_dir(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	const char *home = getenv("HOME");
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(buf, size, "%s/lkvm", xdg);
	else if (home && home[0] == '/')
		n = snprintf(buf, size, "%s/.lkvm", home);
	else
		return -ENOENT;
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

int ctl_name_check(const char *dir, const char *name, const char **why)
{
	struct sockaddr_un sa;

	if (!*name) {
		*why = "must not be empty";
		return -EINVAL;
	}
	if (name[0] == '.') {
		*why = "must not start with '.'";
		return -EINVAL;
	}
	for (const char *p = name; *p; p++) {
		if (*p == '/') {
			*why = "must not contain '/'";
			return -EINVAL;
		}
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*why = "must not contain control characters";
			return -EINVAL;
		}
	}
	if (strlen(dir) + 1 + strlen(name) + strlen(CTL_SOCK_SUFFIX) >=
	    sizeof(sa.sun_path)) {
		*why = "is too long for a socket path in the control directory";
		return -ENAMETOOLONG;
	}
	return 0;
}

int ctl_sock_addr(const char *dir, const char *name, struct sockaddr_un *sa)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s%s", dir, name,
		     CTL_SOCK_SUFFIX);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int ctl_sock_tmp_addr(const char *dir, const char *name,
		      struct sockaddr_un *sa)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/.%s.tmp", dir,
		     name);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int ctl_dir_lock(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/.lock", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX)) {
		if (errno != EINTR) {
			int ret = -errno;

			close(fd);
			return ret;
		}
	}
	return fd;
}

void ctl_dir_unlock(int fd)
{
	if (fd >= 0)
		close(fd);	/* drops the flock */
}

int ctl_dir_prepare(const char *dir, bool create, const char **why)
{
	struct stat st;

	if (create && mkdir(dir, 0700) && errno != EEXIST) {
		*why = strerror(errno);
		return -errno;
	}
	/* lstat: a symlink planted in our place is not our directory. */
	if (lstat(dir, &st)) {
		*why = strerror(errno);
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		*why = "is not a directory";
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid()) {
		*why = "belongs to another user";
		return -EPERM;
	}
	if (st.st_mode & 077) {
		*why = "is accessible to group or others (chmod 700 it)";
		return -EPERM;
	}
	return 0;
}

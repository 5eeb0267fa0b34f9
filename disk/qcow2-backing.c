// SPDX-License-Identifier: GPL-2.0
/*
 * qcow2 backing files.  An image is data, perhaps someone else's, and
 * its backing file name is a path on our host: followed blindly, a
 * hostile image shows the guest any file lkvm can read.  So, by default
 * (DISK_BACKING_SAFE), only a regular file at or below the directory of
 * the image naming it is opened, resolved with openat2(RESOLVE_BENEATH)
 * so that neither "..", a symlink nor an absolute name leads out (an
 * absolute name inside that directory counts as the relative name it
 * amounts to).  backing=on follows any name, relative ones from the
 * image's directory as QEMU does; backing=off refuses images that need a
 * backing file; backing=PATH opens PATH instead.  Below a backing file
 * the same rules apply, backing=on staying on and PATH becoming the
 * default.
 *
 * "The image's directory" is a descriptor carried down the chain, never
 * a name looked up again: each level's directory part is opened (below
 * the previous one) before the last component is opened in it, and that
 * directory bounds the next level.  Whoever can rename things in there
 * cannot move a later level's bound elsewhere between two lookups, and
 * a symlink as last component stays in the directory that holds it.
 *
 * The format is the one the header names (the backing format
 * extension), never a guess; only for images that name none is the
 * backing file probed, as QEMU still does for such older images.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "qcow2.h"

static long sys_openat2(int dfd, const char *path, struct open_how *how,
			size_t size)
{
	return syscall(SYS_openat2, dfd, path, how, size);
}

void (*qcow2_backing_hook)(const struct disk *d, unsigned int depth);
long (*qcow2_openat2)(int dfd, const char *path, struct open_how *how,
		      size_t size) = sys_openat2;

/* @path lies at or below the directory @real (itself resolved). */
static bool is_beneath(const char *real, const char *path, bool or_at)
{
	size_t n = strlen(real);

	if (!strcmp(real, "/"))
		return path[0] == '/';
	return !strncmp(path, real, n) &&
	       (path[n] == '/' || (or_at && !path[n]));
}

/*
 * Where @fd is, as the kernel knows it: no lookup by name that someone
 * renaming things could redirect.  malloc'd, or NULL with errno set.
 */
static char *fd_path(int fd)
{
	char link[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	if (n >= (ssize_t)sizeof(buf) - 1 || buf[0] != '/') {
		errno = ENAMETOOLONG;	/* or not a path: "anon_inode:" */
		return NULL;
	}
	buf[n] = '\0';
	return strdup(buf);
}

/*
 * An O_PATH descriptor (with @flags) for @rel at or below the directory
 * @dfd, never leaving it: -EXDEV or -ELOOP if the name leads out.
 */
static int open_beneath(int dfd, const char *rel, int flags)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | (unsigned int)flags,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	char *real, *got = NULL;
	int fd, ret;

	fd = (int)qcow2_openat2(dfd, rel, &how, sizeof(how));
	if (fd >= 0 || errno != ENOSYS)
		return fd >= 0 ? fd : -errno;
	/*
	 * Before Linux 5.6: open, then check where we ended up, both
	 * places as the kernel names the open descriptors.
	 */
	fd = openat(dfd, rel, O_PATH | O_CLOEXEC | flags);
	if (fd < 0)
		return -errno;
	real = fd_path(dfd);
	if (real)
		got = fd_path(fd);
	if (!got)
		ret = -errno;
	else
		ret = is_beneath(real, got, true) ? fd : -EXDEV;
	if (ret != fd)
		close(fd);
	free(real);
	free(got);
	return ret;
}

/*
 * Opens @name (relative to @dfd, the image's directory) under the
 * default rules: a regular file below @dfd.  Returns the descriptor,
 * read-only, and in *@dir_fd the directory it was found in (which bounds
 * the next level), or -errno with the reason in @why.
 */
static int open_safe(int dfd, const char *name, int *dir_fd, const char **why)
{
	const char *rel = name, *base;
	char *real = NULL, *dir = NULL, link[64];
	int ndfd = -1, fd = -1, ret;
	struct stat st;

	*why = NULL;
	if (name[0] == '/') {
		real = fd_path(dfd);
		if (!real)
			return -errno;
		if (!is_beneath(real, name, false)) {
			*why = "an absolute path outside the image's directory (backing=on allows it)";
			ret = -EPERM;
			goto out;
		}
		rel = name + strlen(real) + (strcmp(real, "/") ? 1 : 0);
	}
	/*
	 * The directory, then the file in it: that directory is what the
	 * file's own backing file must stay below, held open, so nothing
	 * renamed later moves it.
	 */
	dir = disk_split_path(rel, &base);
	if (!dir) {
		ret = -ENOMEM;
		goto out;
	}
	ndfd = open_beneath(dfd, dir, O_DIRECTORY);
	if (ndfd >= 0)
		fd = open_beneath(ndfd, base, 0);
	ret = ndfd < 0 ? ndfd : fd;
	if (ret == -EXDEV || ret == -ELOOP) {
		*why = "it leads outside the image's directory (backing=on allows it)";
		ret = -EPERM;
		goto out;
	}
	if (ret < 0)
		goto out;
	/* Checked on the O_PATH descriptor: opening a device may act. */
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file (backing=on allows devices)";
		ret = -EPERM;
		goto out;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ret = open(link, O_RDONLY | O_CLOEXEC);
	if (ret < 0) {
		ret = -errno;
		goto out;
	}
	*dir_fd = ndfd;
	ndfd = -1;
out:
	if (fd >= 0)
		close(fd);
	if (ndfd >= 0)
		close(ndfd);
	free(dir);
	free(real);
	return ret;
}

int qcow2_open_backing(struct qcow2 *q, const u8 *hdr, int dir_fd,
		       const struct disk_opts *opts, unsigned int depth,
		       char *err, size_t errlen)
{
	struct disk_opts o = {
		.readonly = true,
		.backing = opts->backing == DISK_BACKING_ON ? DISK_BACKING_ON :
							      DISK_BACKING_SAFE,
	};
	char name[QCOW2_MAX_BACKING_LEN + 1] = "", *dir, *path = NULL, why[200];
	const char *img = q->d->path, *reason = NULL, *base;
	int fd, ndfd = -1, ret;

	if (qcow2_backing_hook)
		qcow2_backing_hook(q->d, depth);
	if (q->h.backing_offset) {
		memcpy(name, hdr + q->h.backing_offset, q->h.backing_len);
		name[q->h.backing_len] = '\0';
	}
	if (opts->backing == DISK_BACKING_OFF) {
		disk_err(err, errlen, "%s names backing file '%s', and backing=off",
			 img, name);
		return -EPERM;
	}
	if (q->h.backing_fmt[0] &&
	    (disk_parse_format(q->h.backing_fmt, &o.format) ||
	     o.format == DISK_FORMAT_AUTO)) {
		disk_err(err, errlen, "%s: backing format '%s' of '%s' not supported",
			 img, q->h.backing_fmt, name);
		return -ENOTSUP;
	}
	if (opts->backing == DISK_BACKING_PATH) {
		o.path = opts->backing_path;
		ret = disk_open_depth(&o, &q->backing, depth + 1, why,
				      sizeof(why));
		goto done;
	}
	/* The directory by name only for messages and backing=on. */
	dir = disk_split_path(img, &base);
	if (!dir) {
		disk_err(err, errlen, "backing file of %s: out of memory", img);
		return -ENOMEM;
	}
	/* Relative names are relative to the image, as in QEMU. */
	if (name[0] == '/')
		path = strdup(name);
	else if (asprintf(&path, "%s/%s", dir, name) < 0)
		path = NULL;
	if (!path) {
		free(dir);
		disk_err(err, errlen, "backing file of %s: out of memory", img);
		return -ENOMEM;
	}
	o.path = path;
	if (opts->backing == DISK_BACKING_ON) {
		ret = disk_open_depth(&o, &q->backing, depth + 1, why,
				      sizeof(why));
	} else {
		fd = open_safe(dir_fd, name, &ndfd, &reason);
		ret = fd < 0 ? fd : disk_open_fd(&o, fd, ndfd, &q->backing,
						 depth + 1, why, sizeof(why));
		if (fd < 0)
			snprintf(why, sizeof(why), "%s",
				 reason ? reason : strerror(-fd));
	}
	free(dir);
done:
	if (ret)
		disk_err(err, errlen, "backing file '%s' of %s: %s",
			 o.path, img, why);
	free(path);
	return ret;
}

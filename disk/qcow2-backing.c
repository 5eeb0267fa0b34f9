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
 * The format is the one the header names (the backing format
 * extension), never a guess; only for images that name none is the
 * backing file probed, as QEMU still does for such older images.
 */
#include <errno.h>
#include <fcntl.h>
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

/* The directory part of @path ("." if none). */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	return slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
}

/* @path lies at or below the directory @real (itself resolved). */
static bool is_beneath(const char *real, const char *path)
{
	size_t n = strlen(real);

	if (!strcmp(real, "/"))
		return path[0] == '/';
	return !strncmp(path, real, n) && path[n] == '/';
}

/*
 * An O_PATH descriptor for @rel below the directory @dfd (whose resolved
 * name is @real), never leaving it: -EXDEV if the name leads out.
 */
static int open_beneath(int dfd, const char *real, const char *rel)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	char link[64], *got;
	int fd;

	fd = (int)qcow2_openat2(dfd, rel, &how, sizeof(how));
	if (fd >= 0 || errno != ENOSYS)
		return fd >= 0 ? fd : -errno;
	/* Before Linux 5.6: open, then check where we ended up. */
	fd = openat(dfd, rel, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	got = realpath(link, NULL);
	if (!got || !is_beneath(real, got)) {
		free(got);
		close(fd);
		return -EXDEV;
	}
	free(got);
	return fd;
}

/*
 * Opens @name (relative to @dir, the image's directory) under the
 * default rules: a regular file below @dir.  Returns the descriptor,
 * read-only, or -errno with the reason in @why.
 */
static int open_safe(const char *dir, const char *name, const char **why)
{
	char *real = realpath(dir, NULL), link[64];
	const char *rel = name;
	struct stat st;
	int dfd = -1, fd = -1, ret;

	*why = NULL;
	if (!real)
		return -errno;
	if (name[0] == '/') {
		if (!is_beneath(real, name)) {
			*why = "an absolute path outside the image's directory (backing=on allows it)";
			ret = -EPERM;
			goto out;
		}
		rel = name + strlen(real) + (strcmp(real, "/") ? 1 : 0);
	}
	dfd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		ret = -errno;
		goto out;
	}
	fd = open_beneath(dfd, real, rel);
	if (fd == -EXDEV || fd == -ELOOP) {
		*why = "it leads outside the image's directory (backing=on allows it)";
		ret = -EPERM;
		fd = -1;
		goto out;
	}
	if (fd < 0) {
		ret = fd;
		goto out;
	}
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
	if (ret < 0)
		ret = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(real);
	return ret;
}

int qcow2_open_backing(struct qcow2 *q, const u8 *hdr,
		       const struct disk_opts *opts, unsigned int depth,
		       char *err, size_t errlen)
{
	struct disk_opts o = {
		.readonly = true,
		.backing = opts->backing == DISK_BACKING_ON ? DISK_BACKING_ON :
							      DISK_BACKING_SAFE,
	};
	char name[QCOW2_MAX_BACKING_LEN + 1] = "", *dir, *path = NULL, why[200];
	const char *img = q->d->path, *reason = NULL;
	int fd, ret;

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
	dir = dir_of(img);
	if (!dir)
		return -ENOMEM;
	/* Relative names are relative to the image, as in QEMU. */
	if (name[0] == '/')
		path = strdup(name);
	else if (asprintf(&path, "%s/%s", dir, name) < 0)
		path = NULL;
	if (!path) {
		free(dir);
		return -ENOMEM;
	}
	o.path = path;
	if (opts->backing == DISK_BACKING_ON) {
		ret = disk_open_depth(&o, &q->backing, depth + 1, why,
				      sizeof(why));
	} else {
		fd = open_safe(dir, name, &reason);
		ret = fd < 0 ? fd : disk_open_fd(&o, fd, &q->backing, depth + 1,
						 why, sizeof(why));
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

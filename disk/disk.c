// SPDX-License-Identifier: GPL-2.0
/*
 * The format-independent half of the block layer: opening an image
 * (format detection, block devices, the mounted-device check) and the
 * request checks every backend relies on.  Backends see only requests
 * that are whole sectors, inside the disk and allowed on it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/fs.h>

#include "disk-int.h"

static const char *const format_names[] = {
	[DISK_FORMAT_AUTO] = "auto",
	[DISK_FORMAT_RAW] = "raw",
	[DISK_FORMAT_QCOW2] = "qcow2",
};

const char *disk_format_name(enum disk_format f)
{
	return (unsigned int)f < ARRAY_SIZE(format_names) ?
	       format_names[f] : "?";
}

int disk_parse_backing(const char *s, enum disk_backing *mode,
		       const char **path)
{
	*path = NULL;
	if (!strcmp(s, "off"))
		*mode = DISK_BACKING_OFF;
	else if (!strcmp(s, "on"))
		*mode = DISK_BACKING_ON;
	else if (*s)
		*mode = DISK_BACKING_PATH, *path = s;
	else
		return -EINVAL;
	return 0;
}

int disk_parse_format(const char *s, enum disk_format *out)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(format_names); i++) {
		if (!strcmp(s, format_names[i])) {
			*out = (enum disk_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* The dev_t in sysfs file @dir/dev ("MAJ:MIN"); 0 if unreadable. */
static dev_t sysfs_dev(int dirfd, const char *name)
{
	unsigned int maj, min;
	char path[300], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/dev", name);
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return sscanf(buf, "%u:%u", &maj, &min) == 2 ? makedev(maj, min) : 0;
}

#define MAX_RELATED	256	/* a disk and its partitions (GPT: up to 128) */

/*
 * @rdev and the block devices that share its sectors: its partitions if
 * it is a whole disk, the whole disk if it is a partition.  sysfs lists
 * a disk's partitions as subdirectories holding a "partition" file.
 */
static unsigned int related_devs(dev_t rdev, dev_t *out)
{
	char path[64];
	unsigned int n = 0;
	struct dirent *e;
	DIR *dir;
	int dfd;

	out[n++] = rdev;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(rdev),
		 minor(rdev));
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return n;
	if (!faccessat(dfd, "partition", F_OK, 0)) {
		dev_t parent = sysfs_dev(dfd, "..");

		if (parent)
			out[n++] = parent;
	}
	dir = fdopendir(dfd);
	if (!dir) {
		close(dfd);
		return n;
	}
	while ((e = readdir(dir)) && n < MAX_RELATED) {
		char part[300];
		dev_t d;

		if (e->d_name[0] == '.')
			continue;
		snprintf(part, sizeof(part), "%s/partition", e->d_name);
		if (faccessat(dirfd(dir), part, F_OK, 0))
			continue;
		d = sysfs_dev(dirfd(dir), e->d_name);
		if (d)
			out[n++] = d;
	}
	closedir(dir);
	return n;
}

/*
 * A mounted file system on the device we are about to hand to a guest
 * would be corrupted by both sides writing, also when it is on one of
 * the device's partitions (or on the disk a partition belongs to).
 * Compare device numbers, so /dev/disk/by-id links and bind-mounted /dev
 * nodes are caught too.
 */
static int check_not_mounted(dev_t rdev, char *err, size_t errlen)
{
	const char *tables[] = { "/proc/self/mounts", "/proc/mounts" };
	dev_t devs[MAX_RELATED];
	unsigned int ndevs;
	struct mntent ent;
	char buf[4096];
	FILE *f = NULL;

	for (unsigned int i = 0; !f && i < ARRAY_SIZE(tables); i++)
		f = setmntent(tables[i], "re");
	if (!f)
		return 0;	/* no /proc: nothing to compare against */
	ndevs = related_devs(rdev, devs);
	while (getmntent_r(f, &ent, buf, sizeof(buf))) {
		struct stat st;
		unsigned int i;

		if (ent.mnt_fsname[0] != '/' || stat(ent.mnt_fsname, &st) ||
		    !S_ISBLK(st.st_mode))
			continue;
		for (i = 0; i < ndevs && devs[i] != st.st_rdev; i++)
			;
		if (i == ndevs)
			continue;
		if (i)
			disk_err(err, errlen, "block device shares its sectors with %s, which is mounted on %s",
				 ent.mnt_fsname, ent.mnt_dir);
		else
			disk_err(err, errlen, "block device is mounted on %s",
				 ent.mnt_dir);
		endmntent(f);
		return -EBUSY;
	}
	endmntent(f);
	return 0;
}

enum disk_format disk_probe(const u8 *buf, size_t len)
{
	return len >= 4 && !memcmp(buf, "QFI\xfb", 4) ? DISK_FORMAT_QCOW2 :
							 DISK_FORMAT_RAW;
}

static int detect_format(int fd, enum disk_format *fmt)
{
	u8 magic[4];
	ssize_t n = pread(fd, magic, sizeof(magic), 0);

	if (n < 0)
		return -errno;
	*fmt = disk_probe(magic, (size_t)n);
	return 0;
}

char *disk_split_path(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		*base = path;
		return strdup(".");
	}
	*base = slash[1] ? slash + 1 : ".";
	return slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
}

/* Undoes disk_alloc(); the backend and the fd are the caller's. */
static void disk_free(struct disk *d)
{
	if (d->event_fd >= 0)
		close(d->event_fd);
	pthread_mutex_destroy(&d->lock);
	free(d->path);
	free(d);
}

/*
 * A struct disk for @path with what every disk has of its own: its lock,
 * its completion eventfd, no fd yet.  The caller fills in the rest.
 */
static int disk_alloc(const char *path, struct disk **out, char *err,
		      size_t errlen)
{
	struct disk *d = calloc(1, sizeof(*d));
	int ret;

	if (!d) {
		disk_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d->path = strdup(path);
	d->fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	d->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!d->path || d->event_fd < 0) {
		ret = d->path ? -errno : -ENOMEM;
		disk_err(err, errlen, "%s", strerror(-ret));
		disk_free(d);
		return ret;
	}
	*out = d;
	return 0;
}

int disk_open_depth(const struct disk_opts *opts, struct disk **out,
		    unsigned int depth, char *err, size_t errlen)
{
	int flags = (opts->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	int dir_fd, fd, ret;
	const char *base;
	char *dir;

	/*
	 * The directory first, then the file in it: the directory that
	 * bounds a backing file is then the one the image really was in,
	 * whatever is renamed later.
	 */
	dir = disk_split_path(opts->path, &base);
	if (!dir) {
		disk_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* Before free(), which may change errno. */
	ret = dir_fd < 0 ? -errno : 0;
	free(dir);
	fd = dir_fd < 0 ? -1 : openat(dir_fd, base, flags);
	if (fd < 0) {
		if (!ret)
			ret = -errno;
		disk_err(err, errlen, "%s", strerror(-ret));
		if (dir_fd >= 0)
			close(dir_fd);
		return ret;
	}
	return disk_open_fd(opts, fd, dir_fd, out, depth, err, errlen);
}

int disk_open_fd(const struct disk_opts *opts, int fd, int dir_fd,
		 struct disk **out, unsigned int depth, char *err,
		 size_t errlen)
{
	enum disk_format fmt = opts->format;
	bool probed = false;
	struct disk *d;
	struct stat st;
	int ret;

	/* Here, not in disk_open_depth(): the default rule comes this way. */
	if (depth > DISK_MAX_BACKING_DEPTH) {
		disk_err(err, errlen, "backing file chain deeper than %d",
			 DISK_MAX_BACKING_DEPTH);
		ret = -ELOOP;
		goto out_close;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		disk_err(err, errlen, "%s", strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		disk_err(err, errlen, "not a regular file or block device");
		ret = -EINVAL;
		goto out_close;
	}
	if (S_ISBLK(st.st_mode)) {
		ret = check_not_mounted(st.st_rdev, err, errlen);
		if (ret)
			goto out_close;
	}
	if (fmt == DISK_FORMAT_AUTO) {
		ret = detect_format(fd, &fmt);
		if (ret) {
			disk_err(err, errlen, "%s", strerror(-ret));
			goto out_close;
		}
		probed = fmt == DISK_FORMAT_RAW;
	}
	if (opts->backing == DISK_BACKING_PATH && fmt != DISK_FORMAT_QCOW2) {
		disk_err(err, errlen, "'backing=' is only for qcow2 images");
		ret = -EINVAL;
		goto out_close;
	}
	if (opts->direct && fmt != DISK_FORMAT_RAW) {
		disk_err(err, errlen, "'direct' is only supported for raw images");
		ret = -EINVAL;
		goto out_close;
	}

	ret = disk_alloc(opts->path, &d, err, errlen);
	if (ret)
		goto out_close;
	d->format = fmt;
	d->probed = probed;
	d->readonly = opts->readonly;
	d->direct = opts->direct;
	d->block_size = DISK_SECTOR_SIZE;
	d->depth = DISK_MAX_INFLIGHT;
	ret = fmt == DISK_FORMAT_QCOW2 ? qcow2_open(d, fd, dir_fd, opts, depth,
						    err, errlen) :
					 raw_open(d, fd, err, errlen);
	if (ret)
		goto out_free;
	/* The backend owns fd now; the backing chain is open. */
	close(dir_fd);
	*out = d;
	return 0;

out_free:
	disk_free(d);
	close(dir_fd);
	return ret;
out_close:
	close(fd);
	close(dir_fd);
	return ret;
}

int disk_open(const struct disk_opts *opts, struct disk **out, char *err,
	      size_t errlen)
{
	return disk_open_depth(opts, out, 0, err, errlen);
}

int disk_open_lane(struct disk *d, struct disk **out, char *err,
		   size_t errlen)
{
	struct disk *l;
	int ret;

	if (!d->ops->open_lane) {
		disk_err(err, errlen, "%s images have no lanes",
			 disk_format_name(d->format));
		return -EOPNOTSUPP;
	}
	ret = disk_alloc(d->path, &l, err, errlen);
	if (ret)
		return ret;
	l->format = d->format;
	l->size = d->size;
	l->block_size = d->block_size;
	l->readonly = d->readonly;
	l->direct = d->direct;
	l->probed = d->probed;
	l->can_discard = d->can_discard;
	l->can_write_zeroes = d->can_write_zeroes;
	l->depth = d->depth;
	ret = d->ops->open_lane(d, l, err, errlen);
	if (ret) {
		disk_free(l);
		return ret;
	}
	*out = l;
	return 0;
}

void disk_close(struct disk *d)
{
	if (!d)
		return;
	disk_drain(d);
	d->ops->close(d);
	if (d->fd >= 0)
		close(d->fd);
	disk_free(d);
}

static bool is_write_op(enum disk_op op)
{
	return op == DISK_OP_WRITE || op == DISK_OP_DISCARD ||
	       op == DISK_OP_WRITE_ZEROES;
}

static bool disk_has_room(const struct disk *d)
{
	return d->inflight + d->reserved < d->depth;
}

static int disk_submit_locked(struct disk *d, struct disk_req *req)
{
	bool overflow;
	int ret;

	if (d->readonly && (is_write_op(req->op) || req->op == DISK_OP_FLUSH)) {
		/* A flush on a read-only disk has nothing to make durable. */
		if (req->op != DISK_OP_FLUSH)
			return -EROFS;
	}
	switch (req->op) {
	case DISK_OP_READ:
	case DISK_OP_WRITE:
		req->len = iov_total(req->iov, req->iovcnt, &overflow);
		if (overflow)
			return -EINVAL;
		break;
	case DISK_OP_FLUSH:
		req->len = 0;
		req->offset = 0;
		break;
	case DISK_OP_DISCARD:
		if (!d->can_discard)
			return -EOPNOTSUPP;
		break;
	case DISK_OP_WRITE_ZEROES:
		if (!d->can_write_zeroes)
			return -EOPNOTSUPP;
		break;
	default:
		return -EINVAL;
	}
	if ((req->offset | req->len) % DISK_SECTOR_SIZE ||
	    req->offset > d->size || req->len > d->size - req->offset)
		return -EINVAL;
	if (!disk_has_room(d))
		return -EAGAIN;
	req->id = d->next_id++;
	req->ret = 0;
	d->inflight++;
	ret = d->ops->submit(d, req);
	if (ret)
		d->inflight--;
	return ret;
}

int disk_submit(struct disk *d, struct disk_req *req)
{
	int ret;

	pthread_mutex_lock(&d->lock);
	ret = disk_submit_locked(d, req);
	pthread_mutex_unlock(&d->lock);
	return ret;
}

int disk_submit_reserved(struct disk *d, struct disk_req *req)
{
	int ret;

	pthread_mutex_lock(&d->lock);
	/* Our reservation becomes the request's room, atomically. */
	d->reserved--;
	ret = disk_submit_locked(d, req);
	pthread_mutex_unlock(&d->lock);
	return ret;
}

bool disk_can_submit(struct disk *d)
{
	bool ret;

	pthread_mutex_lock(&d->lock);
	ret = disk_has_room(d);
	pthread_mutex_unlock(&d->lock);
	return ret;
}

bool disk_reserve(struct disk *d)
{
	bool ret;

	pthread_mutex_lock(&d->lock);
	ret = disk_has_room(d);
	if (ret)
		d->reserved++;
	pthread_mutex_unlock(&d->lock);
	return ret;
}

void disk_unreserve(struct disk *d)
{
	pthread_mutex_lock(&d->lock);
	d->reserved--;
	pthread_mutex_unlock(&d->lock);
}

void disk_complete(struct disk *d, struct disk_req *req, int ret)
{
	d->inflight--;
	req->done(req, ret);
}

/* The callbacks of what the backend finished, under its lock. */
static void disk_reap(struct disk *d)
{
	pthread_mutex_lock(&d->lock);
	d->ops->poll(d);
	pthread_mutex_unlock(&d->lock);
}

void disk_poll(struct disk *d)
{
	u64 cnt;

	/* Reset the eventfd before looking, so no completion is missed. */
	if (read(d->event_fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return;
	disk_reap(d);
}

/*
 * No read of event_fd here, which would be a system call per batch: what
 * finished inside disk_submit() never signalled it, and anything that did
 * signal it (libaio, the worker) and is collected now leaves one wake-up
 * that finds nothing, never a completion that waits.
 */
void disk_poll_submitted(struct disk *d)
{
	if (!d->direct)
		disk_reap(d);
}

void disk_drain(struct disk *d)
{
	pthread_mutex_lock(&d->lock);
	if (d->inflight)
		d->ops->drain(d);
	pthread_mutex_unlock(&d->lock);
}

int disk_pread(struct disk *d, void *buf, size_t len, u64 offset)
{
	if (offset > d->size || len > d->size - offset)
		return -EINVAL;
	return d->ops->pread(d, buf, len, offset);
}

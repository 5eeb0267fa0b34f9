// SPDX-License-Identifier: GPL-2.0
/*
 * 9P2000.L operations on one fid: open, create, read, write, attributes,
 * directory listing, statfs, fsync, locks, readlink.
 *
 * Attribute calls go through the fid's O_PATH fd with AT_EMPTY_PATH (no
 * lookup, so nothing can be swapped under them); anything that needs a
 * real open file goes through p9_reopen() (fs/p9-path.c).  Files are
 * created as the user lkvm runs as; the guest's uid/gid are not mapped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "p9-int.h"

/* Linux's v9fs open flags (P9_DOTL_*), independent of the host's O_*. */
#define P9_DOTL_ACCMODE		03
#define P9_DOTL_CREATE		0100
#define P9_DOTL_EXCL		0200
#define P9_DOTL_TRUNC		01000
#define P9_DOTL_APPEND		02000
#define P9_DOTL_DSYNC		010000
#define P9_DOTL_DIRECTORY	0200000
#define P9_DOTL_SYNC		04000000

#define P9_SETATTR_MODE		0x001
#define P9_SETATTR_UID		0x002
#define P9_SETATTR_GID		0x004
#define P9_SETATTR_SIZE		0x008
#define P9_SETATTR_ATIME	0x010
#define P9_SETATTR_MTIME	0x020
#define P9_SETATTR_ATIME_SET	0x080
#define P9_SETATTR_MTIME_SET	0x100

#define P9_GETATTR_BASIC	0x7ffull

#define P9_LOCK_RDLCK		0
#define P9_LOCK_WRLCK		1
#define P9_LOCK_UNLCK		2
#define P9_LOCK_SUCCESS		0
#define P9_LOCK_BLOCKED		1

#ifndef SYS_fchmodat2
#define SYS_fchmodat2		452	/* the same on x86-64 and arm64 */
#endif

/*
 * The host flags for a guest's open.  O_DIRECT is dropped (the guest's
 * buffers reach us unaligned), O_NOATIME too (EPERM on others' files),
 * O_NONBLOCK and O_NOCTTY are always set so no open blocks a worker or
 * grabs a terminal; O_CREAT/O_EXCL only mean something to Tlcreate.
 */
static int host_flags(u32 fl)
{
	int h = (fl & P9_DOTL_ACCMODE) == 1 ? O_WRONLY :
		(fl & P9_DOTL_ACCMODE) == 2 ? O_RDWR : O_RDONLY;

	if (fl & P9_DOTL_APPEND)
		h |= O_APPEND;
	if (fl & P9_DOTL_DSYNC)
		h |= O_DSYNC;
	if (fl & P9_DOTL_SYNC)
		h |= O_SYNC;
	return h | O_NOCTTY | O_NONBLOCK;
}

static int parsed(struct p9_in *in)
{
	if (in->err)
		return in->err;
	return in->pos == in->len ? 0 : -EPROTO;
}

static bool bad_offset(u64 v)
{
	return v > (u64)INT64_MAX;
}

/* Only regular files and directories are opened on the host: a guest
 * never reads a host device through its node, and a FIFO never blocks. */
static int openable(mode_t type)
{
	return S_ISREG(type) || S_ISDIR(type) ? 0 : -EPERM;
}

int p9_op_lopen(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 fid = p9_get_u32(in), fl = p9_get_u32(in);
	struct p9_fid *f;
	int ret = parsed(in), fd, h;

	if (ret)
		return ret;
	if ((fl & P9_DOTL_ACCMODE) == 3)
		return -EINVAL;
	if (s->readonly && ((fl & P9_DOTL_ACCMODE) || (fl & P9_DOTL_TRUNC)))
		return -EROFS;
	f = p9_fid_get(s, fid);
	if (!f)
		return -EBADF;
	h = host_flags(fl);
	ret = openable(f->type);
	if (!ret && (fl & P9_DOTL_DIRECTORY) && !S_ISDIR(f->type))
		ret = -ENOTDIR;
	if (!ret && S_ISDIR(f->type) && (h & O_ACCMODE) != O_RDONLY)
		ret = -EISDIR;
	if (ret)
		goto out;
	pthread_mutex_lock(&f->lock);
	if (f->ofd >= 0) {
		ret = -EINVAL;		/* a fid is opened once */
		goto unlock;
	}
	fd = p9_reopen(s, f, h);
	if (fd < 0) {
		ret = fd;
		goto unlock;
	}
	/* Truncate only once we know it is the walked inode. */
	if ((fl & P9_DOTL_TRUNC) && S_ISREG(f->type) && ftruncate(fd, 0)) {
		ret = -errno;
		close(fd);
		goto unlock;
	}
	f->ofd = fd;
	f->oflags = h;
	p9_put_qid(out, &f->qid);
	p9_put_u32(out, 0);		/* iounit: the client's msize rules */
unlock:
	pthread_mutex_unlock(&f->lock);
out:
	p9_fid_put(s, f);
	return ret;
}

/* Restores the permission bits the process umask took from a new file. */
static void undo_umask(struct p9_server *s, int dfd, const char *name, int fd, mode_t mode)
{
	if (!(mode & s->umask))
		return;
	if (fd >= 0)
		(void)!fchmod(fd, mode);
	else
		(void)!syscall(SYS_fchmodat2, dfd, name, mode, AT_SYMLINK_NOFOLLOW);
}

int p9_op_lcreate(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char name[NAME_MAX + 1];
	u32 dfid = p9_get_u32(in), fl, mode;
	struct p9_fid *d, *nf;
	struct stat st;
	char *dpath, *path;
	int ret, fd, pfd, h;
	bool created = true;

	p9_get_str(in, name, sizeof(name));
	fl = p9_get_u32(in);
	mode = p9_get_u32(in) & 07777;
	p9_get_u32(in);			/* gid: created as lkvm's user */
	ret = parsed(in);
	if (ret)
		return ret;
	ret = p9_name_check(name);
	if (ret)
		return ret;
	if ((fl & P9_DOTL_ACCMODE) == 3)
		return -EINVAL;
	d = p9_fid_get(s, dfid);
	if (!d)
		return -EBADF;
	if (!S_ISDIR(d->type)) {
		ret = -ENOTDIR;
		goto out;
	}
	h = host_flags(fl) | O_NOFOLLOW | O_CLOEXEC;
	/* One component in the fid's own directory: nothing to resolve. */
	fd = openat(d->pfd, name, h | O_CREAT | O_EXCL, mode);
	if (fd < 0 && errno == EEXIST && !(fl & P9_DOTL_EXCL)) {
		created = false;
		fd = openat(d->pfd, name, h | ((fl & P9_DOTL_TRUNC) ? O_TRUNC : 0));
	}
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		close(fd);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = S_ISDIR(st.st_mode) ? -EISDIR : -EPERM;
		close(fd);
		goto out;
	}
	if (created)
		undo_umask(s, -1, NULL, fd, mode);
	pfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	dpath = p9_fid_path(s, d);
	path = dpath ? p9_path_walk(dpath, name, &ret) : NULL;
	free(dpath);
	if (pfd < 0 || !path) {
		ret = pfd < 0 ? -errno : -ENOMEM;
		if (pfd >= 0)
			close(pfd);
		free(path);
		close(fd);
		goto out;
	}
	nf = p9_fid_new(pfd, path, &st);
	if (!nf) {
		close(fd);
		ret = -ENOMEM;
		goto out;
	}
	nf->ofd = fd;
	nf->oflags = h;
	/* dfid now stands for the new, open file. */
	ret = p9_fid_install(s, dfid, nf, true);
	if (!ret) {
		p9_put_qid(out, &nf->qid);
		p9_put_u32(out, 0);
	}
	p9_fid_put(s, nf);
out:
	p9_fid_put(s, d);
	return ret;
}

/* The fid's open fd, with a reference held on the fid, or -EBADF. */
static int open_fid(struct p9_server *s, u32 no, struct p9_fid **fp)
{
	struct p9_fid *f = p9_fid_get(s, no);
	int fd;

	*fp = f;
	if (!f)
		return -EBADF;
	fd = p9_fid_ofd(f);
	return fd < 0 ? -EBADF : fd;
}

int p9_op_read(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 fid = p9_get_u32(in), count;
	u64 off = p9_get_u64(in);
	struct p9_fid *f;
	size_t start;
	ssize_t n;
	u8 *data;
	int ret, fd;

	count = p9_get_u32(in);
	ret = parsed(in);
	if (ret)
		return ret;
	if (bad_offset(off))
		return -EINVAL;
	fd = open_fid(s, fid, &f);
	if (fd < 0 || S_ISDIR(f->type)) {
		ret = fd < 0 ? fd : -EISDIR;
		goto out;
	}
	/* Never more than the reply can carry. */
	count = min_t(size_t, count, out->cap - out->pos - 4);
	start = out->pos;
	p9_put_u32(out, 0);
	data = p9_put_space(out, count);
	do
		n = pread(fd, data, count, (off_t)off);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		ret = -errno;
		goto out;
	}
	out->pos = start;
	p9_put_u32(out, (u32)n);
	out->pos += n;
out:
	p9_fid_put(s, f);
	return ret;
}

int p9_op_write(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 fid = p9_get_u32(in), count;
	u64 off = p9_get_u64(in);
	const u8 *data;
	struct p9_fid *f;
	size_t done = 0;
	ssize_t n;
	int ret, fd;

	count = p9_get_u32(in);
	data = p9_get_bytes(in, count);	/* a count past the message: EPROTO */
	ret = parsed(in);
	if (ret)
		return ret;
	if (bad_offset(off) || count > (u64)INT64_MAX - off)
		return -EINVAL;
	fd = open_fid(s, fid, &f);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	if ((f->oflags & O_ACCMODE) == O_RDONLY) {
		ret = -EBADF;
		goto out;
	}
	while (done < count) {
		n = pwrite(fd, data + done, count - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += n;
	}
	if (!done && count) {
		ret = n < 0 ? -errno : -EIO;
		goto out;
	}
	p9_put_u32(out, (u32)done);
out:
	p9_fid_put(s, f);
	return ret;
}

int p9_op_getattr(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 fid = p9_get_u32(in);
	struct p9_fid *f;
	struct stat st;
	int ret;

	p9_get_u64(in);			/* request mask: we always give the basics */
	ret = parsed(in);
	if (ret)
		return ret;
	f = p9_fid_get(s, fid);
	if (!f)
		return -EBADF;
	if (fstatat(f->pfd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) {
		ret = -errno;
		goto out;
	}
	p9_put_u64(out, P9_GETATTR_BASIC);
	p9_put_qid(out, &f->qid);
	p9_put_u32(out, st.st_mode);
	p9_put_u32(out, st.st_uid);
	p9_put_u32(out, st.st_gid);
	p9_put_u64(out, st.st_nlink);
	p9_put_u64(out, st.st_rdev);
	p9_put_u64(out, st.st_size);
	p9_put_u64(out, st.st_blksize);
	p9_put_u64(out, st.st_blocks);
	p9_put_u64(out, st.st_atim.tv_sec);
	p9_put_u64(out, st.st_atim.tv_nsec);
	p9_put_u64(out, st.st_mtim.tv_sec);
	p9_put_u64(out, st.st_mtim.tv_nsec);
	p9_put_u64(out, st.st_ctim.tv_sec);
	p9_put_u64(out, st.st_ctim.tv_nsec);
	p9_put_u64(out, 0);		/* btime, gen, data_version: not given */
	p9_put_u64(out, 0);
	p9_put_u64(out, 0);
	p9_put_u64(out, 0);
out:
	p9_fid_put(s, f);
	return ret;
}

/*
 * chmod without following anything: fchmodat2(AT_EMPTY_PATH) on the
 * O_PATH fd (Linux 6.6+); before that, only regular files and
 * directories, through a real open of the walked inode.
 */
static int chmod_fid(struct p9_server *s, struct p9_fid *f, mode_t mode)
{
	int fd, ret;

	if (!syscall(SYS_fchmodat2, f->pfd, "", mode, AT_EMPTY_PATH))
		return 0;
	if (errno != ENOSYS)
		return -errno;
	if (!S_ISREG(f->type) && !S_ISDIR(f->type))
		return -EOPNOTSUPP;
	fd = p9_reopen(s, f, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return fd;
	ret = fchmod(fd, mode) ? -errno : 0;
	close(fd);
	return ret;
}

static int truncate_fid(struct p9_server *s, struct p9_fid *f, u64 size)
{
	int fd, ret;

	if (bad_offset(size))
		return -EINVAL;
	if (S_ISDIR(f->type))
		return -EISDIR;
	if (!S_ISREG(f->type))
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	if (f->ofd >= 0 && (f->oflags & O_ACCMODE) != O_RDONLY) {
		ret = ftruncate(f->ofd, (off_t)size) ? -errno : 0;
		pthread_mutex_unlock(&f->lock);
		return ret;
	}
	pthread_mutex_unlock(&f->lock);
	fd = p9_reopen(s, f, O_WRONLY | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return fd;
	ret = ftruncate(fd, (off_t)size) ? -errno : 0;
	close(fd);
	return ret;
}

int p9_op_setattr(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 fid = p9_get_u32(in), valid = p9_get_u32(in);
	u32 mode = p9_get_u32(in), uid = p9_get_u32(in), gid = p9_get_u32(in);
	u64 size = p9_get_u64(in);
	struct timespec ts[2];
	struct p9_fid *f;
	int ret, i;

	(void)out;
	for (i = 0; i < 2; i++) {
		ts[i].tv_sec = (time_t)p9_get_u64(in);
		ts[i].tv_nsec = (long)p9_get_u64(in);
	}
	ret = parsed(in);
	if (ret)
		return ret;
	f = p9_fid_get(s, fid);
	if (!f)
		return -EBADF;
	if (valid & P9_SETATTR_MODE)
		ret = chmod_fid(s, f, mode & 07777);
	if (!ret && (valid & (P9_SETATTR_UID | P9_SETATTR_GID)) &&
	    fchownat(f->pfd, "", (valid & P9_SETATTR_UID) ? uid : (uid_t)-1,
		     (valid & P9_SETATTR_GID) ? gid : (gid_t)-1,
		     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		ret = -errno;
	if (!ret && (valid & P9_SETATTR_SIZE))
		ret = truncate_fid(s, f, size);
	if (!ret && (valid & (P9_SETATTR_ATIME | P9_SETATTR_MTIME))) {
		/* Without *_SET the guest means "now". */
		if (!(valid & P9_SETATTR_ATIME))
			ts[0].tv_nsec = UTIME_OMIT;
		else if (!(valid & P9_SETATTR_ATIME_SET))
			ts[0].tv_nsec = UTIME_NOW;
		if (!(valid & P9_SETATTR_MTIME))
			ts[1].tv_nsec = UTIME_OMIT;
		else if (!(valid & P9_SETATTR_MTIME_SET))
			ts[1].tv_nsec = UTIME_NOW;
		if (utimensat(f->pfd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
			ret = -errno;
	}
	p9_fid_put(s, f);
	return ret;
}

static u8 dtype_qid(unsigned char t)
{
	return t == DT_DIR ? P9_QTDIR : t == DT_LNK ? P9_QTSYMLINK : P9_QTFILE;
}

/*
 * Entries are qid[13] offset[8] type[1] name[s]; offset is the host's
 * d_off cookie, which a later Treaddir hands back for lseek().  Entries
 * that do not fit are read again next time from the last offset sent.
 */
int p9_op_readdir(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 fid = p9_get_u32(in), count;
	u64 off = p9_get_u64(in);
	struct p9_fid *f;
	size_t start, end, pos;
	ssize_t n;
	char *buf = NULL;
	int ret, fd;

	count = p9_get_u32(in);
	ret = parsed(in);
	if (ret)
		return ret;
	if (bad_offset(off))
		return -EINVAL;
	fd = open_fid(s, fid, &f);
	if (fd < 0 || !S_ISDIR(f->type)) {
		ret = fd < 0 ? fd : -ENOTDIR;
		goto out;
	}
	count = min_t(size_t, count, out->cap - out->pos - 4);
	start = out->pos;
	p9_put_u32(out, 0);
	end = out->pos + count;
	buf = malloc(count + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	/* The fd's position is shared: one listing at a time per fid. */
	pthread_mutex_lock(&f->lock);
	if (lseek(fd, (off_t)off, SEEK_SET) < 0)
		n = -1;
	else
		n = getdents64(fd, buf, count + 1);
	if (n < 0)
		ret = -errno;
	pthread_mutex_unlock(&f->lock);
	for (pos = 0; n > 0 && pos < (size_t)n;) {
		struct dirent64 *de = (struct dirent64 *)(buf + pos);
		size_t len = strlen(de->d_name);
		struct p9_qid q = {
			.type = dtype_qid(de->d_type),
			.path = (u64)de->d_ino ^ ((u64)f->dev << 48),
		};

		if (out->pos + P9_QID_SIZE + 8 + 1 + 2 + len > end)
			break;
		p9_put_qid(out, &q);
		p9_put_u64(out, (u64)de->d_off);
		p9_put_u8(out, de->d_type);
		p9_put_str(out, de->d_name, len);
		pos += de->d_reclen;
	}
	if (!ret) {
		size_t e = out->pos;

		out->pos = start;
		p9_put_u32(out, (u32)(e - start - 4));
		out->pos = e;
	}
out:
	free(buf);
	p9_fid_put(s, f);
	return ret;
}

int p9_op_statfs(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 fid = p9_get_u32(in);
	struct p9_fid *f;
	struct statfs sf;
	u64 fsid;
	int ret = parsed(in);

	if (ret)
		return ret;
	f = p9_fid_get(s, fid);
	if (!f)
		return -EBADF;
	if (fstatfs(f->pfd, &sf)) {
		ret = -errno;
		goto out;
	}
	memcpy(&fsid, &sf.f_fsid, sizeof(fsid));
	p9_put_u32(out, (u32)sf.f_type);
	p9_put_u32(out, (u32)sf.f_bsize);
	p9_put_u64(out, sf.f_blocks);
	p9_put_u64(out, sf.f_bfree);
	p9_put_u64(out, sf.f_bavail);
	p9_put_u64(out, sf.f_files);
	p9_put_u64(out, sf.f_ffree);
	p9_put_u64(out, fsid);
	p9_put_u32(out, (u32)sf.f_namelen);
out:
	p9_fid_put(s, f);
	return ret;
}

int p9_op_fsync(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 fid = p9_get_u32(in), datasync = p9_get_u32(in);
	struct p9_fid *f;
	int ret = parsed(in), fd;

	(void)out;
	if (ret)
		return ret;
	fd = open_fid(s, fid, &f);
	if (fd < 0)
		ret = fd;
	else if (datasync ? fdatasync(fd) : fsync(fd))
		ret = -errno;
	p9_fid_put(s, f);
	return ret;
}

/*
 * Byte-range locks are open-file-description locks on the fid's open fd,
 * so two guest opens conflict as two host opens would (classic POSIX
 * locks would all belong to lkvm and never conflict).  Never blocking:
 * a conflict answers BLOCKED and Linux's client polls again.
 */
static int lock_args(struct p9_in *in, struct flock *fl, u8 *type, bool with_flags)
{
	char client[256];
	u64 start, len;

	*type = p9_get_u8(in);
	if (with_flags)
		p9_get_u32(in);		/* BLOCK/RECLAIM: we never wait */
	start = p9_get_u64(in);
	len = p9_get_u64(in);
	p9_get_u32(in);			/* proc_id */
	p9_get_str(in, client, sizeof(client));
	if (parsed(in))
		return parsed(in);
	if (*type > P9_LOCK_UNLCK || bad_offset(start) || bad_offset(len))
		return -EINVAL;
	memset(fl, 0, sizeof(*fl));
	fl->l_type = *type == P9_LOCK_RDLCK ? F_RDLCK :
		     *type == P9_LOCK_WRLCK ? F_WRLCK : F_UNLCK;
	fl->l_whence = SEEK_SET;
	fl->l_start = (off_t)start;
	fl->l_len = (off_t)len;		/* 0: to the end of the file */
	return 0;
}

int p9_op_lock(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 fid = p9_get_u32(in);
	struct p9_fid *f;
	struct flock fl;
	u8 type;
	int ret = lock_args(in, &fl, &type, true), fd;

	if (ret)
		return ret;
	fd = open_fid(s, fid, &f);
	if (fd < 0)
		ret = fd;
	else if (!fcntl(fd, F_OFD_SETLK, &fl))
		p9_put_u8(out, P9_LOCK_SUCCESS);
	else if (errno == EAGAIN || errno == EACCES)
		p9_put_u8(out, P9_LOCK_BLOCKED);
	else
		ret = -errno;
	p9_fid_put(s, f);
	return ret;
}

int p9_op_getlock(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 fid = p9_get_u32(in);
	struct p9_fid *f;
	struct flock fl;
	u8 type;
	int ret = lock_args(in, &fl, &type, false), fd;

	if (ret)
		return ret;
	fd = open_fid(s, fid, &f);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	if (fl.l_type != F_UNLCK && fcntl(fd, F_OFD_GETLK, &fl)) {
		ret = -errno;
		goto out;
	}
	p9_put_u8(out, fl.l_type == F_RDLCK ? P9_LOCK_RDLCK :
		       fl.l_type == F_WRLCK ? P9_LOCK_WRLCK : P9_LOCK_UNLCK);
	p9_put_u64(out, (u64)fl.l_start);
	p9_put_u64(out, (u64)fl.l_len);
	p9_put_u32(out, 0);		/* the holder is another open, not a guest pid */
	p9_put_str(out, "", 0);
out:
	p9_fid_put(s, f);
	return ret;
}

int p9_op_readlink(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 fid = p9_get_u32(in);
	char buf[PATH_MAX];
	struct p9_fid *f;
	ssize_t n;
	int ret = parsed(in);

	if (ret)
		return ret;
	f = p9_fid_get(s, fid);
	if (!f)
		return -EBADF;
	n = S_ISLNK(f->type) ? readlinkat(f->pfd, "", buf, sizeof(buf)) : -1;
	if (!S_ISLNK(f->type))
		ret = -EINVAL;
	else if (n < 0)
		ret = -errno;
	else if ((size_t)n >= sizeof(buf))
		ret = -ENAMETOOLONG;
	else
		p9_put_str(out, buf, (size_t)n);
	p9_fid_put(s, f);
	return ret;
}

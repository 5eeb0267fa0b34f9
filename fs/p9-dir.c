// SPDX-License-Identifier: GPL-2.0
/*
 * 9P2000.L operations on directory entries: mkdir, symlink, mknod,
 * rename, renameat, unlinkat, link, remove.
 *
 * Each names one component (checked: no '/', not "." or "..") in a
 * directory fid, and acts through that fid's O_PATH fd, so nothing is
 * resolved but the component itself, with no symlink followed.  Files
 * are created as lkvm's user with the guest's permission bits.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "p9-int.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2		452
#endif

static int parsed(struct p9_in *in)
{
	if (in->err)
		return in->err;
	return in->pos == in->len ? 0 : -EPROTO;
}

/* A referenced directory fid, and @name checked as one component. */
static struct p9_fid *dir_fid(struct p9_server *s, u32 no, const char *name, int *err)
{
	struct p9_fid *d;

	*err = name ? p9_name_check(name) : 0;
	if (*err)
		return NULL;
	d = p9_fid_get(s, no);
	if (!d) {
		*err = -EBADF;
		return NULL;
	}
	if (!S_ISDIR(d->type)) {
		p9_fid_put(s, d);
		*err = -ENOTDIR;
		return NULL;
	}
	return d;
}

/* The qid of @name just made in @d, and the umask's bits given back. */
static int made(struct p9_server *s, struct p9_fid *d, const char *name,
		mode_t mode, struct p9_out *out)
{
	struct p9_qid q;
	struct stat st;

	/*
	 * fchmodat2 (Linux 6.6) changes the mode without following a symlink
	 * swapped in meanwhile; older kernels keep the umask's mode.
	 */
	if ((mode & s->umask) && !S_ISLNK(mode))
		(void)!syscall(SYS_fchmodat2, d->pfd, name, mode & 07777,
			       AT_SYMLINK_NOFOLLOW);
	if (fstatat(d->pfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	p9_qid_from_stat(&q, &st);
	p9_put_qid(out, &q);
	return 0;
}

int p9_op_mkdir(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char name[NAME_MAX + 1];
	u32 dfid = p9_get_u32(in), mode;
	struct p9_fid *d;
	int ret;

	p9_get_str(in, name, sizeof(name));
	mode = p9_get_u32(in) & 07777;
	p9_get_u32(in);			/* gid */
	ret = parsed(in);
	if (ret)
		return ret;
	d = dir_fid(s, dfid, name, &ret);
	if (!d)
		return ret;
	if (mkdirat(d->pfd, name, mode))
		ret = -errno;
	else
		ret = made(s, d, name, S_IFDIR | mode, out);
	p9_fid_put(s, d);
	return ret;
}

int p9_op_symlink(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char name[NAME_MAX + 1], target[PATH_MAX];
	u32 dfid = p9_get_u32(in);
	struct p9_fid *d;
	int ret;

	p9_get_str(in, name, sizeof(name));
	p9_get_str(in, target, sizeof(target));
	p9_get_u32(in);			/* gid */
	ret = parsed(in);
	if (ret)
		return ret;
	/* The target is stored, never followed by us: any text will do. */
	d = dir_fid(s, dfid, name, &ret);
	if (!d)
		return ret;
	if (symlinkat(target, d->pfd, name))
		ret = -errno;
	else
		ret = made(s, d, name, S_IFLNK, out);
	p9_fid_put(s, d);
	return ret;
}

/*
 * FIFOs, sockets and empty regular files only: a device node made by the
 * guest would give whoever opens it on the host (lkvm, when it runs as
 * root) the guest's choice of device.
 */
int p9_op_mknod(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char name[NAME_MAX + 1];
	u32 dfid = p9_get_u32(in), mode;
	struct p9_fid *d;
	int ret;

	p9_get_str(in, name, sizeof(name));
	mode = p9_get_u32(in);
	p9_get_u32(in);			/* major, minor: no device nodes */
	p9_get_u32(in);
	p9_get_u32(in);			/* gid */
	ret = parsed(in);
	if (ret)
		return ret;
	switch (mode & S_IFMT) {
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFREG:
		break;
	case S_IFCHR:
	case S_IFBLK:
		return -EPERM;
	default:
		return -EINVAL;
	}
	d = dir_fid(s, dfid, name, &ret);
	if (!d)
		return ret;
	if (mknodat(d->pfd, name, mode & (S_IFMT | 07777), 0))
		ret = -errno;
	else
		ret = made(s, d, name, mode & (S_IFMT | 07777), out);
	p9_fid_put(s, d);
	return ret;
}

static char *join(struct p9_server *s, struct p9_fid *d, const char *name)
{
	char *dp = p9_fid_path(s, d), *p;
	int err;

	p = dp ? p9_path_walk(dp, name, &err) : NULL;
	free(dp);
	return p;
}

/* After a rename through us, the fids under the old name follow it. */
static void renamed(struct p9_server *s, struct p9_fid *od, const char *on,
		    struct p9_fid *nd, const char *nn)
{
	char *from = join(s, od, on), *to = join(s, nd, nn);

	if (from && to)
		p9_paths_renamed(s, from, to);
	free(from);
	free(to);
}

int p9_op_renameat(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char on[NAME_MAX + 1], nn[NAME_MAX + 1];
	u32 odfid = p9_get_u32(in), ndfid;
	struct p9_fid *od, *nd = NULL;
	int ret;

	(void)out;
	p9_get_str(in, on, sizeof(on));
	ndfid = p9_get_u32(in);
	p9_get_str(in, nn, sizeof(nn));
	ret = parsed(in);
	if (ret)
		return ret;
	od = dir_fid(s, odfid, on, &ret);
	if (od)
		nd = dir_fid(s, ndfid, nn, &ret);
	if (!nd)
		goto out;
	if (renameat(od->pfd, on, nd->pfd, nn))
		ret = -errno;
	else
		renamed(s, od, on, nd, nn);
out:
	p9_fid_put(s, nd);
	p9_fid_put(s, od);
	return ret;
}

/* The old form: the fid itself moves into dfid as name. */
int p9_op_rename(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char on[NAME_MAX + 1], nn[NAME_MAX + 1];
	u32 fid = p9_get_u32(in), dfid = p9_get_u32(in);
	struct p9_fid *f = NULL, *d;
	char *from = NULL, *to = NULL;
	int ret, pfd;

	(void)out;
	p9_get_str(in, nn, sizeof(nn));
	ret = parsed(in);
	if (ret)
		return ret;
	d = dir_fid(s, dfid, nn, &ret);
	if (!d)
		return ret;
	f = p9_fid_get(s, fid);
	if (!f) {
		ret = -EBADF;
		goto out;
	}
	pfd = p9_parent(s, f, on, sizeof(on));
	if (pfd < 0) {
		ret = pfd;
		goto out;
	}
	from = p9_fid_path(s, f);
	to = join(s, d, nn);
	if (renameat(pfd, on, d->pfd, nn))
		ret = -errno;
	else if (from && to)
		p9_paths_renamed(s, from, to);
	close(pfd);
out:
	free(from);
	free(to);
	p9_fid_put(s, f);
	p9_fid_put(s, d);
	return ret;
}

int p9_op_unlinkat(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char name[NAME_MAX + 1];
	u32 dfid = p9_get_u32(in), flags;
	struct p9_fid *d;
	int ret;

	(void)out;
	p9_get_str(in, name, sizeof(name));
	flags = p9_get_u32(in);
	ret = parsed(in);
	if (ret)
		return ret;
	if (flags & ~(u32)AT_REMOVEDIR)
		return -EINVAL;
	d = dir_fid(s, dfid, name, &ret);
	if (!d)
		return ret;
	if (unlinkat(d->pfd, name, (int)flags))
		ret = -errno;
	p9_fid_put(s, d);
	return ret;
}

int p9_op_link(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char name[NAME_MAX + 1], on[NAME_MAX + 1];
	u32 dfid = p9_get_u32(in), fid = p9_get_u32(in);
	struct p9_fid *d, *f;
	int ret, pfd;

	(void)out;
	p9_get_str(in, name, sizeof(name));
	ret = parsed(in);
	if (ret)
		return ret;
	d = dir_fid(s, dfid, name, &ret);
	if (!d)
		return ret;
	f = p9_fid_get(s, fid);
	if (!f) {
		ret = -EBADF;
		goto out;
	}
	/*
	 * linkat(AT_EMPTY_PATH) would need CAP_DAC_READ_SEARCH; the name in
	 * its parent, checked to still be this inode, does not (flags 0:
	 * a symlink is linked, not followed).
	 */
	pfd = p9_parent(s, f, on, sizeof(on));
	if (pfd < 0) {
		ret = pfd;
		goto out;
	}
	if (linkat(pfd, on, d->pfd, name, 0))
		ret = -errno;
	close(pfd);
out:
	p9_fid_put(s, f);
	p9_fid_put(s, d);
	return ret;
}

/* Tremove clunks the fid whatever happens, even on a read-only export. */
int p9_op_remove(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char name[NAME_MAX + 1];
	u32 fid = p9_get_u32(in);
	struct p9_fid *f;
	int ret = parsed(in), pfd;

	(void)out;
	if (ret)
		return ret;
	f = p9_fid_get(s, fid);
	if (!f)
		return -EBADF;
	if (s->readonly) {
		ret = -EROFS;
		goto out;
	}
	pfd = p9_parent(s, f, name, sizeof(name));
	if (pfd < 0) {
		ret = pfd;
		goto out;
	}
	if (unlinkat(pfd, name, S_ISDIR(f->type) ? AT_REMOVEDIR : 0))
		ret = -errno;
	close(pfd);
out:
	p9_fid_clunk(s, fid);
	p9_fid_put(s, f);
	return ret;
}

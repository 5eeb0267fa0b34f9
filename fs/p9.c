// SPDX-License-Identifier: GPL-2.0
/*
 * 9P2000.L server: the message codec, the fid table, session messages
 * (version, attach, walk, clunk, flush, auth, xattr) and the dispatch.
 *
 * A request is copied out of the driver's buffers into one bounded
 * buffer (its size field, checked against what the driver gave and the
 * negotiated msize) and parsed with cursors that never read past it; the
 * reply is built in a buffer no larger than min(msize, the driver's room)
 * and copied back.  Every parse error and every failed operation becomes
 * an Rlerror.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p9-int.h"

/* --- codec: little-endian, strings are u16 length + bytes --- */

static const u8 *in_take(struct p9_in *in, size_t n)
{
	const u8 *p;

	if (in->err)
		return NULL;
	if (n > in->len - in->pos) {
		in->err = -EPROTO;
		return NULL;
	}
	p = in->buf + in->pos;
	in->pos += n;
	return p;
}

const u8 *p9_get_bytes(struct p9_in *in, size_t n)
{
	return in_take(in, n);
}

u8 p9_get_u8(struct p9_in *in)
{
	const u8 *p = in_take(in, 1);

	return p ? p[0] : 0;
}

u16 p9_get_u16(struct p9_in *in)
{
	const u8 *p = in_take(in, 2);

	return p ? (u16)(p[0] | p[1] << 8) : 0;
}

u32 p9_get_u32(struct p9_in *in)
{
	const u8 *p = in_take(in, 4);

	return p ? (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 |
		   (u32)p[3] << 24 : 0;
}

u64 p9_get_u64(struct p9_in *in)
{
	u64 lo = p9_get_u32(in);

	return lo | (u64)p9_get_u32(in) << 32;
}

int p9_get_str(struct p9_in *in, char *dst, size_t size)
{
	u16 len = p9_get_u16(in);
	const u8 *p = in_take(in, len);

	dst[0] = '\0';
	if (!p)
		return in->err;
	if (memchr(p, '\0', len))
		return in->err = -EINVAL;
	if (len >= size)
		return in->err = -ENAMETOOLONG;
	memcpy(dst, p, len);
	dst[len] = '\0';
	return 0;
}

u8 *p9_put_space(struct p9_out *out, size_t n)
{
	u8 *p;

	if (out->overflow || n > out->cap - out->pos) {
		out->overflow = true;
		return NULL;
	}
	p = out->buf + out->pos;
	out->pos += n;
	return p;
}

static void put_le(struct p9_out *out, u64 v, size_t n)
{
	u8 *p = p9_put_space(out, n);
	size_t i;

	if (p)
		for (i = 0; i < n; i++)
			p[i] = (u8)(v >> (8 * i));
}

void p9_put_u8(struct p9_out *out, u8 v) { put_le(out, v, 1); }
void p9_put_u16(struct p9_out *out, u16 v) { put_le(out, v, 2); }
void p9_put_u32(struct p9_out *out, u32 v) { put_le(out, v, 4); }
void p9_put_u64(struct p9_out *out, u64 v) { put_le(out, v, 8); }

void p9_put_str(struct p9_out *out, const char *s, size_t len)
{
	u8 *p;

	if (len > 0xffff) {
		out->overflow = true;
		return;
	}
	p9_put_u16(out, (u16)len);
	p = p9_put_space(out, len);
	if (p)
		memcpy(p, s, len);
}

void p9_put_qid(struct p9_out *out, const struct p9_qid *qid)
{
	p9_put_u8(out, qid->type);
	p9_put_u32(out, qid->version);
	p9_put_u64(out, qid->path);
}

/*
 * qid.path must be unique within the export: the inode number, with the
 * device folded into the top bits so that two mounts inside the export
 * (host "/" exports /proc, /sys, ...) rarely collide.  version stays 0,
 * which tells Linux's v9fs not to use it for cache validation.
 */
void p9_qid_from_stat(struct p9_qid *qid, const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		qid->type = P9_QTDIR;
	else if (S_ISLNK(st->st_mode))
		qid->type = P9_QTSYMLINK;
	else
		qid->type = P9_QTFILE;
	qid->version = 0;
	qid->path = (u64)st->st_ino ^ ((u64)st->st_dev << 48);
}

/* --- the fid table --- */

static struct p9_fid **fid_slot(struct p9_server *s, u32 no)
{
	struct p9_fid **pp = &s->fids[no % ARRAY_SIZE(s->fids)];

	while (*pp && (*pp)->no != no)
		pp = &(*pp)->next;
	return pp;
}

struct p9_fid *p9_fid_new(int pfd, char *path, const struct stat *st)
{
	struct p9_fid *f = calloc(1, sizeof(*f));

	if (!f) {
		close(pfd);
		free(path);
		return NULL;
	}
	f->refs = 1;
	f->pfd = pfd;
	f->path = path;
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->type = st->st_mode & S_IFMT;
	p9_qid_from_stat(&f->qid, st);
	f->ofd = -1;
	pthread_mutex_init(&f->lock, NULL);
	return f;
}

static void fid_free(struct p9_fid *f)
{
	if (f->ofd >= 0 && f->ofd != f->pfd)
		close(f->ofd);
	close(f->pfd);
	pthread_mutex_destroy(&f->lock);
	free(f->path);
	free(f);
}

struct p9_fid *p9_fid_get(struct p9_server *s, u32 no)
{
	struct p9_fid *f;

	pthread_mutex_lock(&s->lock);
	f = *fid_slot(s, no);
	if (f)
		f->refs++;
	pthread_mutex_unlock(&s->lock);
	return f;
}

void p9_fid_put(struct p9_server *s, struct p9_fid *f)
{
	unsigned int refs;

	if (!f)
		return;
	pthread_mutex_lock(&s->lock);
	refs = --f->refs;
	pthread_mutex_unlock(&s->lock);
	if (!refs)
		fid_free(f);
}

int p9_fid_install(struct p9_server *s, u32 no, struct p9_fid *f, bool replace)
{
	struct p9_fid **pp, *old = NULL;

	if (no == P9_NOFID)
		return -EBADF;
	pthread_mutex_lock(&s->lock);
	pp = fid_slot(s, no);
	if (*pp && !replace) {
		pthread_mutex_unlock(&s->lock);
		return -EEXIST;
	}
	if (!*pp && s->nfids >= s->max_fids) {
		pthread_mutex_unlock(&s->lock);
		return -EMFILE;
	}
	if (*pp) {
		old = *pp;
		*pp = old->next;
		s->nfids--;
	}
	f->no = no;
	f->refs++;
	f->next = s->fids[no % ARRAY_SIZE(s->fids)];
	s->fids[no % ARRAY_SIZE(s->fids)] = f;
	s->nfids++;
	pthread_mutex_unlock(&s->lock);
	p9_fid_put(s, old);
	return 0;
}

int p9_fid_clunk(struct p9_server *s, u32 no)
{
	struct p9_fid **pp, *f;

	pthread_mutex_lock(&s->lock);
	pp = fid_slot(s, no);
	f = *pp;
	if (f) {
		*pp = f->next;
		s->nfids--;
	}
	pthread_mutex_unlock(&s->lock);
	if (!f)
		return -EBADF;
	p9_fid_put(s, f);
	return 0;
}

char *p9_fid_path(struct p9_server *s, struct p9_fid *f)
{
	char *p;

	pthread_mutex_lock(&s->lock);
	p = strdup(f->path);
	pthread_mutex_unlock(&s->lock);
	return p;
}

int p9_fid_ofd(struct p9_fid *f)
{
	int fd;

	pthread_mutex_lock(&f->lock);
	fd = f->ofd;
	pthread_mutex_unlock(&f->lock);
	return fd;
}

u32 p9_msize(struct p9_server *s)
{
	u32 m;

	pthread_mutex_lock(&s->lock);
	m = s->msize;
	pthread_mutex_unlock(&s->lock);
	return m;
}

void p9_server_reset(struct p9_server *s)
{
	struct p9_fid *list = NULL, *f;
	size_t i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < ARRAY_SIZE(s->fids); i++) {
		while ((f = s->fids[i])) {
			s->fids[i] = f->next;
			f->next = list;
			list = f;
		}
	}
	s->nfids = 0;
	s->msize = s->max_msize;
	pthread_mutex_unlock(&s->lock);
	while ((f = list)) {
		list = f->next;
		p9_fid_put(s, f);
	}
}

/* --- session messages --- */

/* The message must end exactly where its fields do. */
static int parsed(struct p9_in *in)
{
	if (in->err)
		return in->err;
	return in->pos == in->len ? 0 : -EPROTO;
}

static int op_version(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	static const char ver[] = "9P2000.L";
	u32 msize = p9_get_u32(in);
	u16 len = p9_get_u16(in);
	const u8 *v = p9_get_bytes(in, len);
	bool known;
	int ret = parsed(in);

	if (ret)
		return ret;
	if (msize < P9_MSIZE_MIN)
		return -EINVAL;
	known = len == sizeof(ver) - 1 && !memcmp(v, ver, len);
	/* A new session: whatever the old one held is gone. */
	p9_server_reset(s);
	if (msize > s->max_msize)
		msize = s->max_msize;
	pthread_mutex_lock(&s->lock);
	s->msize = msize;
	pthread_mutex_unlock(&s->lock);
	p9_put_u32(out, msize);
	if (known)
		p9_put_str(out, ver, sizeof(ver) - 1);
	else
		p9_put_str(out, "unknown", 7);
	return 0;
}

static int op_attach(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char uname[256], aname[PATH_MAX];
	u32 fid = p9_get_u32(in), n_uname;
	struct p9_fid *f;
	struct stat st;
	char *path;
	int fd, ret;

	p9_get_u32(in);			/* afid: no authentication */
	p9_get_str(in, uname, sizeof(uname));
	p9_get_str(in, aname, sizeof(aname));
	n_uname = p9_get_u32(in);
	ret = parsed(in);
	if (ret)
		return ret;
	/*
	 * aname is ignored: every attach gets the export's root, never a
	 * path the guest names.  n_uname is recorded, not mapped: files are
	 * created as the user lkvm runs as.
	 */
	fd = p9_open_beneath(s, "", O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	path = strdup("");
	f = path ? p9_fid_new(fd, path, &st) : NULL;
	if (!f) {
		if (!path)
			close(fd);
		return -ENOMEM;
	}
	ret = p9_fid_install(s, fid, f, false);
	if (!ret) {
		pthread_mutex_lock(&s->lock);
		s->attach_uid = n_uname;
		pthread_mutex_unlock(&s->lock);
		p9_put_qid(out, &f->qid);
	}
	p9_fid_put(s, f);
	return ret;
}

static int op_walk(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char names[P9_MAXWELEM][NAME_MAX + 1];
	u32 fid = p9_get_u32(in), newfid = p9_get_u32(in);
	u16 nwname = p9_get_u16(in), i, nq = 0;
	struct p9_qid qids[P9_MAXWELEM];
	struct p9_fid *f, *nf;
	struct stat st;
	mode_t type;
	char *path, *np;
	int fd = -1, ret = 0;

	if (nwname > P9_MAXWELEM)
		return in->err ? in->err : -EINVAL;
	for (i = 0; i < nwname; i++)
		p9_get_str(in, names[i], sizeof(names[i]));
	ret = parsed(in);
	if (ret)
		return ret;
	f = p9_fid_get(s, fid);
	if (!f)
		return -EBADF;
	path = p9_fid_path(s, f);
	if (!path) {
		p9_fid_put(s, f);
		return -ENOMEM;
	}
	type = f->type;
	for (i = 0; i < nwname; i++) {
		int nfd;

		if (!S_ISDIR(type)) {
			ret = -ENOTDIR;
			break;
		}
		np = p9_path_walk(path, names[i], &ret);
		if (!np)
			break;
		nfd = p9_open_beneath(s, np, O_PATH, 0);
		if (nfd < 0 || fstat(nfd, &st)) {
			ret = nfd < 0 ? nfd : -errno;
			if (nfd >= 0)
				close(nfd);
			free(np);
			break;
		}
		if (fd >= 0)
			close(fd);
		fd = nfd;
		free(path);
		path = np;
		type = st.st_mode & S_IFMT;
		p9_qid_from_stat(&qids[nq++], &st);
	}
	if (nwname && !nq)
		goto out;		/* the first name failed: Rlerror */
	ret = 0;
	if (nq == nwname && !(nwname == 0 && newfid == fid)) {
		if (!nwname) {
			fd = fcntl(f->pfd, F_DUPFD_CLOEXEC, 0);
			if (fd < 0 || fstat(fd, &st)) {
				ret = -errno;
				goto out;
			}
		}
		nf = p9_fid_new(fd, path, &st);
		fd = -1;
		path = NULL;
		if (!nf) {
			ret = -ENOMEM;
			goto out;
		}
		ret = p9_fid_install(s, newfid, nf, newfid == fid);
		p9_fid_put(s, nf);
		if (ret)
			goto out;
	}
	/* A partial walk (nq < nwname) answers with the qids it got. */
	p9_put_u16(out, nq);
	for (i = 0; i < nq; i++)
		p9_put_qid(out, &qids[i]);
out:
	if (fd >= 0)
		close(fd);
	free(path);
	p9_fid_put(s, f);
	return ret;
}

static int op_clunk(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 fid = p9_get_u32(in);
	int ret = parsed(in);

	(void)out;
	return ret ? ret : p9_fid_clunk(s, fid);
}

/*
 * Requests run to completion on the thread that took them, so by the
 * time a Tflush is read the request it names has either been answered
 * or is being answered on another thread; there is nothing to cancel.
 * (virtio matches replies to buffers, not tags, so a late reply to a
 * flushed tag cannot be mistaken for a new request's.)
 */
static int op_flush(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	(void)s;
	(void)out;
	p9_get_u16(in);
	return parsed(in);
}

static int op_xattrwalk(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char name[256];
	u32 fid = p9_get_u32(in);
	struct p9_fid *f;
	int ret;

	(void)out;
	p9_get_u32(in);			/* newfid */
	p9_get_str(in, name, sizeof(name));
	ret = parsed(in);
	if (ret)
		return ret;
	f = p9_fid_get(s, fid);
	if (!f)
		return -EBADF;
	p9_fid_put(s, f);
	/* No extended attributes: Linux treats this as "none here". */
	return -EOPNOTSUPP;
}

static int op_xattrcreate(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char name[256];
	u32 fid = p9_get_u32(in);
	struct p9_fid *f;
	int ret;

	(void)out;
	p9_get_str(in, name, sizeof(name));
	p9_get_u64(in);
	p9_get_u32(in);
	ret = parsed(in);
	if (ret)
		return ret;
	f = p9_fid_get(s, fid);
	if (!f)
		return -EBADF;
	p9_fid_put(s, f);
	return -EOPNOTSUPP;
}

/* --- dispatch --- */

static const struct {
	p9_op_fn *fn;
	bool mutates;			/* refused with EROFS on a ro export */
} ops[256] = {
	[P9_TVERSION]	= { op_version },
	[P9_TATTACH]	= { op_attach },
	[P9_TWALK]	= { op_walk },
	[P9_TCLUNK]	= { op_clunk },
	[P9_TFLUSH]	= { op_flush },
	[P9_TXATTRWALK]	= { op_xattrwalk },
	[P9_TXATTRCREATE] = { op_xattrcreate, true },
	[P9_TLOPEN]	= { p9_op_lopen },	/* checks its flags itself */
	[P9_TLCREATE]	= { p9_op_lcreate, true },
	[P9_TREAD]	= { p9_op_read },
	[P9_TWRITE]	= { p9_op_write, true },
	[P9_TGETATTR]	= { p9_op_getattr },
	[P9_TSETATTR]	= { p9_op_setattr, true },
	[P9_TREADDIR]	= { p9_op_readdir },
	[P9_TSTATFS]	= { p9_op_statfs },
	[P9_TFSYNC]	= { p9_op_fsync },
	[P9_TLOCK]	= { p9_op_lock },
	[P9_TGETLOCK]	= { p9_op_getlock },
	[P9_TREADLINK]	= { p9_op_readlink },
	[P9_TMKDIR]	= { p9_op_mkdir, true },
	[P9_TSYMLINK]	= { p9_op_symlink, true },
	[P9_TMKNOD]	= { p9_op_mknod, true },
	[P9_TRENAME]	= { p9_op_rename, true },
	[P9_TRENAMEAT]	= { p9_op_renameat, true },
	[P9_TUNLINKAT]	= { p9_op_unlinkat, true },
	[P9_TLINK]	= { p9_op_link, true },
	[P9_TREMOVE]	= { p9_op_remove },	/* must clunk even on ro */
};

static void iov_gather(const struct iovec *iov, unsigned int n, u8 *dst, size_t len)
{
	unsigned int i;
	size_t c;

	for (i = 0; i < n && len; i++) {
		c = min_t(size_t, iov[i].iov_len, len);
		memcpy(dst, iov[i].iov_base, c);
		dst += c;
		len -= c;
	}
}

static void iov_scatter(const struct iovec *iov, unsigned int n, const u8 *src, size_t len)
{
	unsigned int i;
	size_t c;

	for (i = 0; i < n && len; i++) {
		c = min_t(size_t, iov[i].iov_len, len);
		memcpy(iov[i].iov_base, src, c);
		src += c;
		len -= c;
	}
}

static size_t iov_total(const struct iovec *iov, unsigned int n)
{
	size_t t = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

size_t p9_server_handle(struct p9_server *s, const struct iovec *req,
			unsigned int nreq, size_t req_len,
			const struct iovec *resp, unsigned int nresp,
			size_t resp_len)
{
	struct p9_out out = { 0 };
	struct p9_in in = { 0 };
	u8 hdr[P9_HDR], type = 0, *msg = NULL;
	u16 tag = P9_NOTAG;
	u32 size, msize = p9_msize(s);
	int ret;

	req_len = min_t(size_t, req_len, iov_total(req, nreq));
	resp_len = min_t(size_t, resp_len, iov_total(resp, nresp));
	if (resp_len < P9_HDR + 4)
		return 0;
	out.cap = min_t(size_t, resp_len, msize);
	out.buf = malloc(out.cap);
	if (!out.buf)
		return 0;
	out.pos = P9_HDR;

	if (req_len < P9_HDR) {
		ret = -EPROTO;
		goto reply;
	}
	iov_gather(req, nreq, hdr, P9_HDR);
	size = (u32)hdr[0] | (u32)hdr[1] << 8 | (u32)hdr[2] << 16 | (u32)hdr[3] << 24;
	type = hdr[4];
	tag = (u16)(hdr[5] | hdr[6] << 8);
	/* The size field may not claim more than the driver gave or msize. */
	if (size < P9_HDR || size > req_len || size > msize) {
		ret = -EPROTO;
		goto reply;
	}
	msg = malloc(size);
	if (!msg) {
		ret = -ENOMEM;
		goto reply;
	}
	iov_gather(req, nreq, msg, size);
	in.buf = msg;
	in.len = size;
	in.pos = P9_HDR;

	if (!ops[type].fn)
		ret = (type & 1) ? -EPROTO : -EOPNOTSUPP;	/* R-types, Tauth, 9P2000(.u) */
	else if (ops[type].mutates && s->readonly)
		ret = -EROFS;
	else
		ret = ops[type].fn(s, &in, &out);
	if (!ret && out.overflow)
		ret = -ENOBUFS;		/* an answer that does not fit msize or the buffers */
reply:
	if (ret) {
		out.overflow = false;
		out.pos = P9_HDR;
		p9_put_u32(&out, (u32)-ret);
		type = P9_TLERROR;
	}
	out.buf[0] = (u8)out.pos;
	out.buf[1] = (u8)(out.pos >> 8);
	out.buf[2] = (u8)(out.pos >> 16);
	out.buf[3] = (u8)(out.pos >> 24);
	out.buf[4] = type + 1;
	out.buf[5] = (u8)tag;
	out.buf[6] = (u8)(tag >> 8);
	iov_scatter(resp, nresp, out.buf, out.pos);
	free(msg);
	free(out.buf);
	return out.pos;
}

/* --- life cycle --- */

int p9_server_open(const struct p9_opts *opts, struct p9_server **out,
		   char *err, size_t errlen)
{
	struct p9_server *s;
	struct stat st;
	int ret;

	*out = NULL;
	if (!opts->root || !opts->root[0]) {
		snprintf(err, errlen, "9p: no directory to export");
		return -EINVAL;
	}
	if (opts->max_msize && (opts->max_msize < P9_MSIZE_MIN ||
				opts->max_msize > P9_MSIZE_MAX)) {
		snprintf(err, errlen, "9p: msize %u outside [%u, %u]",
			 opts->max_msize, P9_MSIZE_MIN, P9_MSIZE_MAX);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "9p: out of memory");
		return -ENOMEM;
	}
	s->readonly = opts->readonly;
	s->max_msize = opts->max_msize ? opts->max_msize : P9_MSIZE_MAX;
	s->msize = s->max_msize;
	s->max_fids = opts->max_fids ? opts->max_fids : P9_FIDS_MAX;
	/* Read once, before any worker runs: umask() can only be read by setting it. */
	s->umask = umask(0);
	umask(s->umask);
	pthread_mutex_init(&s->lock, NULL);

	s->root_fd = open(opts->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->root_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "9p: %s: %s", opts->root,
			 errno == ENOTDIR ? "not a directory" : strerror(errno));
		goto fail;
	}
	if (fstat(s->root_fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "9p: %s: %s", opts->root, strerror(errno));
		goto fail;
	}
	s->root_dev = st.st_dev;
	s->root_ino = st.st_ino;
	/* Everything rests on openat2: refuse to serve without it. */
	ret = p9_open_beneath(s, "", O_PATH | O_DIRECTORY, 0);
	if (ret < 0) {
		snprintf(err, errlen, "9p: %s: %s", opts->root,
			 ret == -ENOSYS ? "the host kernel lacks openat2 (Linux 5.6 or later needed)"
					: strerror(-ret));
		goto fail;
	}
	close(ret);
	*out = s;
	return 0;
fail:
	if (s->root_fd >= 0)
		close(s->root_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return ret;
}

void p9_server_close(struct p9_server *s)
{
	if (!s)
		return;
	p9_server_reset(s);
	close(s->root_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

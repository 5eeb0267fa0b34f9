/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_TESTS_P9_CLIENT_H
#define LKVM_TESTS_P9_CLIENT_H

/*
 * A small 9P2000.L client for the server's unit tests: builds T-messages
 * byte by byte (little-endian, u16-length strings), hands them to
 * p9_server_handle() in one buffer or chopped into many (as a virtqueue
 * chain would), and reads the R-message back.  Also makes the temporary
 * export: DIR/export is shared, DIR/outside holds what must stay out of
 * reach.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/p9.h"
#include "fs/p9-int.h"

#define CL_BUF		(1 << 20)

static struct p9_server *srv;
static char tmpdir[] = "/tmp/lkvm-p9-XXXXXX";
static char export_dir[256], outside_dir[256];

static u8 tb[CL_BUF], rb[CL_BUF];
static size_t tpos, rlen, rpos;
static u8 ttype;
static u16 ttag = 1;
static int split_mode;		/* chop request and reply into odd pieces */
static size_t resp_room = CL_BUF;

static inline void t_begin(u8 type)
{
	ttype = type;
	tpos = P9_HDR;
}

static inline void t_le(u64 v, int n)
{
	for (int i = 0; i < n; i++)
		tb[tpos++] = (u8)(v >> (8 * i));
}

static inline void t8(u8 v) { t_le(v, 1); }
static inline void t16(u16 v) { t_le(v, 2); }
static inline void t32(u32 v) { t_le(v, 4); }
static inline void t64(u64 v) { t_le(v, 8); }

static inline void tstrn(const char *s, size_t len)
{
	t16((u16)len);
	memcpy(tb + tpos, s, len);
	tpos += len;
}

static inline void tstr(const char *s) { tstrn(s, strlen(s)); }

static inline void t_hdr(u32 size)
{
	tb[0] = (u8)size;
	tb[1] = (u8)(size >> 8);
	tb[2] = (u8)(size >> 16);
	tb[3] = (u8)(size >> 24);
	tb[4] = ttype;
	tb[5] = (u8)ttag;
	tb[6] = (u8)(ttag >> 8);
}

/* Chops [buf, buf+len) into iovecs of varying small sizes. */
static inline unsigned int chop(u8 *buf, size_t len, struct iovec *iov,
				unsigned int max, unsigned int seed)
{
	static const size_t sizes[] = { 1, 3, 7, 2, 64, 5, 4096, 11 };
	unsigned int n = 0;
	size_t off = 0;

	while (off < len && n < max - 1) {
		size_t c = sizes[(n + seed) % 8];

		if (c > len - off)
			c = len - off;
		iov[n].iov_base = buf + off;
		iov[n++].iov_len = c;
		off += c;
	}
	if (off < len) {
		iov[n].iov_base = buf + off;
		iov[n++].iov_len = len - off;
	}
	return n;
}

/* Sends tb[0, len) as it is (the size field already set); returns the reply length. */
static inline size_t send_raw(size_t len)
{
	struct iovec rq[64], rs[64];
	unsigned int nrq, nrs;

	memset(rb, 0xa5, resp_room < CL_BUF ? resp_room : CL_BUF);
	if (split_mode) {
		nrq = chop(tb, len, rq, 64, 0);
		nrs = chop(rb, resp_room, rs, 64, 3);
	} else {
		rq[0].iov_base = tb;
		rq[0].iov_len = len;
		rs[0].iov_base = rb;
		rs[0].iov_len = resp_room;
		nrq = nrs = 1;
	}
	rlen = p9_server_handle(srv, rq, nrq, len, rs, nrs, resp_room);
	rpos = P9_HDR;
	return rlen;
}

static inline u64 r_le(int n)
{
	u64 v = 0;

	if (rpos + n > rlen) {
		rpos = rlen + 1;
		return 0;
	}
	for (int i = 0; i < n; i++)
		v |= (u64)rb[rpos + i] << (8 * i);
	rpos += n;
	return v;
}

static inline u8 r8(void) { return (u8)r_le(1); }
static inline u16 r16(void) { return (u16)r_le(2); }
static inline u32 r32(void) { return (u32)r_le(4); }
static inline u64 r64(void) { return r_le(8); }

/* A reply string into @dst (NUL-terminated, truncated to @size). */
static inline void rstr(char *dst, size_t size)
{
	u16 len = r16();
	size_t c = len < size - 1 ? len : size - 1;

	if (rpos + len > rlen) {
		dst[0] = '\0';
		rpos = rlen + 1;
		return;
	}
	memcpy(dst, rb + rpos, c);
	dst[c] = '\0';
	rpos += len;
}

static inline void rqid(struct p9_qid *q)
{
	q->type = r8();
	q->version = r32();
	q->path = r64();
}

/* The reply's type, after checking its header against what was sent. */
static inline int r_type(void)
{
	u32 size;

	if (rlen < P9_HDR)
		return -1;
	size = (u32)rb[0] | (u32)rb[1] << 8 | (u32)rb[2] << 16 | (u32)rb[3] << 24;
	if (size != rlen)
		return -2;
	return rb[4];
}

/*
 * Sends the message being built.  0 if the answer is the matching
 * R-message (cursor at its body), -errno for an Rlerror, -10000 for
 * anything else (a bad header, a wrong type, a wrong tag).
 */
static inline int rpc(void)
{
	int type;

	t_hdr((u32)tpos);
	send_raw(tpos);
	type = r_type();
	if (type < 0 || rlen < P9_HDR)
		return -10000;
	if ((rb[5] | rb[6] << 8) != ttag)
		return -10000;
	if (type == P9_RLERROR) {
		if (rlen != P9_HDR + 4)
			return -10000;
		return -(int)r32();
	}
	return type == ttype + 1 ? 0 : -10000;
}

/* --- one-line requests --- */

static inline int c_version(u32 msize, const char *ver, u32 *got, char *gotver)
{
	int ret;
	char v[64];

	t_begin(P9_TVERSION);
	t32(msize);
	tstr(ver);
	ret = rpc();
	if (!ret) {
		u32 m = r32();

		rstr(v, sizeof(v));
		if (got)
			*got = m;
		if (gotver)
			strcpy(gotver, v);
	}
	return ret;
}

static inline int c_attach(u32 fid)
{
	t_begin(P9_TATTACH);
	t32(fid);
	t32(P9_NOFID);
	tstr("user");
	tstr("");
	t32(1000);
	return rpc();
}

/* Walks @n names; returns the number of qids, or -errno. */
static inline int c_walkv(u32 fid, u32 newfid, int n, const char *const *names)
{
	int ret;

	t_begin(P9_TWALK);
	t32(fid);
	t32(newfid);
	t16((u16)n);
	for (int i = 0; i < n; i++)
		tstr(names[i]);
	ret = rpc();
	return ret ? ret : r16();
}

/* Walks a '/'-separated path (split here, as the guest would); 0 when all of it was walked. */
static inline int c_walk(u32 fid, u32 newfid, const char *path)
{
	char buf[4096], *names[P9_MAXWELEM], *save = NULL, *tok;
	int n = 0, ret;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, "/", &save); tok && n < P9_MAXWELEM;
	     tok = strtok_r(NULL, "/", &save))
		names[n++] = tok;
	ret = c_walkv(fid, newfid, n, (const char *const *)names);
	if (ret < 0)
		return ret;
	return ret == n ? 0 : -ENOENT;
}

static inline int c_fid1(u8 type, u32 fid)
{
	t_begin(type);
	t32(fid);
	return rpc();
}

static inline int c_clunk(u32 fid) { return c_fid1(P9_TCLUNK, fid); }

static inline int c_lopen(u32 fid, u32 flags)
{
	t_begin(P9_TLOPEN);
	t32(fid);
	t32(flags);
	return rpc();
}

static inline int c_lcreate(u32 fid, const char *name, u32 flags, u32 mode)
{
	t_begin(P9_TLCREATE);
	t32(fid);
	tstr(name);
	t32(flags);
	t32(mode);
	t32(0);
	return rpc();
}

static inline int c_write(u32 fid, u64 off, const void *data, u32 len)
{
	int ret;

	t_begin(P9_TWRITE);
	t32(fid);
	t64(off);
	t32(len);
	memcpy(tb + tpos, data, len);
	tpos += len;
	ret = rpc();
	return ret ? ret : (int)r32();
}

/* Reads into @dst; returns the count or -errno. */
static inline int c_read(u32 fid, u64 off, void *dst, u32 len)
{
	int ret;
	u32 n;

	t_begin(P9_TREAD);
	t32(fid);
	t64(off);
	t32(len);
	ret = rpc();
	if (ret)
		return ret;
	n = r32();
	if (rpos + n > rlen)
		return -10000;
	memcpy(dst, rb + rpos, n);
	return (int)n;
}

static inline int c_mkdir(u32 dfid, const char *name, u32 mode)
{
	t_begin(P9_TMKDIR);
	t32(dfid);
	tstr(name);
	t32(mode);
	t32(0);
	return rpc();
}

static inline int c_symlink(u32 dfid, const char *name, const char *target)
{
	t_begin(P9_TSYMLINK);
	t32(dfid);
	tstr(name);
	tstr(target);
	t32(0);
	return rpc();
}

static inline int c_unlinkat(u32 dfid, const char *name, u32 flags)
{
	t_begin(P9_TUNLINKAT);
	t32(dfid);
	tstr(name);
	t32(flags);
	return rpc();
}

struct c_attr {
	u64 valid;
	struct p9_qid qid;
	u32 mode, uid, gid;
	u64 nlink, rdev, size, blksize, blocks;
	u64 atime, atime_ns, mtime, mtime_ns;
};

static inline int c_getattr(u32 fid, struct c_attr *a)
{
	int ret;

	t_begin(P9_TGETATTR);
	t32(fid);
	t64(0x3fff);
	ret = rpc();
	if (ret)
		return ret;
	a->valid = r64();
	rqid(&a->qid);
	a->mode = r32();
	a->uid = r32();
	a->gid = r32();
	a->nlink = r64();
	a->rdev = r64();
	a->size = r64();
	a->blksize = r64();
	a->blocks = r64();
	a->atime = r64();
	a->atime_ns = r64();
	a->mtime = r64();
	a->mtime_ns = r64();
	for (int i = 0; i < 6; i++)
		r64();
	return rpos == rlen ? 0 : -10000;
}

/* --- the temporary export --- */

static inline void export_make(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(export_dir, sizeof(export_dir), "%s/export", tmpdir);
	snprintf(outside_dir, sizeof(outside_dir), "%s/outside", tmpdir);
	if (mkdir(export_dir, 0755) || mkdir(outside_dir, 0755)) {
		perror("mkdir");
		exit(1);
	}
}

static inline void export_remove(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s'", tmpdir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

static inline int server_start(bool ro, u32 max_msize, unsigned int max_fids)
{
	struct p9_opts o = { .root = export_dir, .readonly = ro,
			     .max_msize = max_msize, .max_fids = max_fids };
	char err[256];
	int ret;

	ret = p9_server_open(&o, &srv, err, sizeof(err));
	if (ret)
		fprintf(stderr, "%s\n", err);
	return ret;
}

/* Writes a host file under the temporary directory. */
static inline void host_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static inline int host_read(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY), n;

	if (fd < 0)
		return -errno;
	n = (int)read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

#endif

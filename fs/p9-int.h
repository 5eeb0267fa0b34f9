/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_FS_P9_INT_H
#define LKVM_FS_P9_INT_H

/*
 * The 9P2000.L server's insides, shared by fs/p9.c (dispatch, codec, fid
 * table), fs/p9-ops.c, fs/p9-dir.c (the operations) and fs/p9-path.c
 * (resolution beneath the export's root).
 */
#include <pthread.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "p9.h"

/* Message types (Linux include/net/9p/9p.h; T is even, R = T + 1). */
enum {
	P9_TLERROR = 6, P9_RLERROR,
	P9_TSTATFS = 8, P9_RSTATFS,
	P9_TLOPEN = 12, P9_RLOPEN,
	P9_TLCREATE = 14, P9_RLCREATE,
	P9_TSYMLINK = 16, P9_RSYMLINK,
	P9_TMKNOD = 18, P9_RMKNOD,
	P9_TRENAME = 20, P9_RRENAME,
	P9_TREADLINK = 22, P9_RREADLINK,
	P9_TGETATTR = 24, P9_RGETATTR,
	P9_TSETATTR = 26, P9_RSETATTR,
	P9_TXATTRWALK = 30, P9_RXATTRWALK,
	P9_TXATTRCREATE = 32, P9_RXATTRCREATE,
	P9_TREADDIR = 40, P9_RREADDIR,
	P9_TFSYNC = 50, P9_RFSYNC,
	P9_TLOCK = 52, P9_RLOCK,
	P9_TGETLOCK = 54, P9_RGETLOCK,
	P9_TLINK = 70, P9_RLINK,
	P9_TMKDIR = 72, P9_RMKDIR,
	P9_TRENAMEAT = 74, P9_RRENAMEAT,
	P9_TUNLINKAT = 76, P9_RUNLINKAT,
	P9_TVERSION = 100, P9_RVERSION,
	P9_TAUTH = 102, P9_RAUTH,
	P9_TATTACH = 104, P9_RATTACH,
	P9_TERROR = 106, P9_RERROR,
	P9_TFLUSH = 108, P9_RFLUSH,
	P9_TWALK = 110, P9_RWALK,
	P9_TOPEN = 112, P9_ROPEN,
	P9_TCREATE = 114, P9_RCREATE,
	P9_TREAD = 116, P9_RREAD,
	P9_TWRITE = 118, P9_RWRITE,
	P9_TCLUNK = 120, P9_RCLUNK,
	P9_TREMOVE = 122, P9_RREMOVE,
	P9_TSTAT = 124, P9_RSTAT,
	P9_TWSTAT = 126, P9_RWSTAT,
};

#define P9_HDR		7		/* size[4] type[1] tag[2] */
#define P9_NOTAG	0xffff
#define P9_NOFID	0xffffffffu
#define P9_MSIZE_MIN	4096
#define P9_MAXWELEM	16		/* names in one Twalk */
#define P9_QID_SIZE	13

#define P9_QTDIR	0x80
#define P9_QTSYMLINK	0x02
#define P9_QTFILE	0x00

struct p9_qid {
	u8 type;
	u32 version;
	u64 path;
};

/*
 * A fid.  Immutable once in the table except where noted, so most
 * operations need no lock beyond the reference they hold: a Twalk or
 * Tlcreate that changes what a fid number means installs a new struct.
 */
struct p9_fid {
	u32 no;
	struct p9_fid *next;		/* hash chain, table lock */
	unsigned int refs;		/* table lock */
	int pfd;			/* O_PATH (or, after Tlcreate, a dup of ofd) */
	char *path;			/* beneath the root, "" is the root; table lock (renames) */
	struct p9_qid qid;
	dev_t dev;
	ino_t ino;
	mode_t type;			/* S_IFMT bits */

	pthread_mutex_t lock;		/* everything below */
	int ofd;			/* -1 until Tlopen/Tlcreate */
	int oflags;			/* host O_ACCMODE etc. of ofd */
};

struct p9_server {
	int root_fd;			/* O_PATH | O_DIRECTORY */
	dev_t root_dev;
	ino_t root_ino;
	bool readonly;
	u32 max_msize;
	unsigned int max_fids;
	mode_t umask;			/* the process's, read once at open */

	pthread_mutex_t lock;		/* fid table, msize, every fid's path */
	u32 msize;
	unsigned int nfids;
	struct p9_fid *fids[256];
	u32 attach_uid;			/* n_uname of the last Tattach: recorded only */
};

/* --- message codec (fs/p9.c) --- */

/* A T-message being parsed: a failed get sets err and returns zeroes. */
struct p9_in {
	const u8 *buf;
	size_t len, pos;
	int err;			/* first error, negative errno */
};

/* An R-message being built; overflow is sticky and checked once at the end. */
struct p9_out {
	u8 *buf;
	size_t cap, pos;
	bool overflow;
};

u8 p9_get_u8(struct p9_in *in);
u16 p9_get_u16(struct p9_in *in);
u32 p9_get_u32(struct p9_in *in);
u64 p9_get_u64(struct p9_in *in);
/* A string copied into @dst (NUL-terminated); -EINVAL if it holds a NUL,
 * -ENAMETOOLONG if it does not fit in @size - 1, -EPROTO if truncated. */
int p9_get_str(struct p9_in *in, char *dst, size_t size);
/* The next @n raw bytes, or NULL (err set) if the message is shorter. */
const u8 *p9_get_bytes(struct p9_in *in, size_t n);

void p9_put_u8(struct p9_out *out, u8 v);
void p9_put_u16(struct p9_out *out, u16 v);
void p9_put_u32(struct p9_out *out, u32 v);
void p9_put_u64(struct p9_out *out, u64 v);
void p9_put_str(struct p9_out *out, const char *s, size_t len);
void p9_put_qid(struct p9_out *out, const struct p9_qid *qid);
/* Room for @n bytes at the current position, or NULL (overflow set). */
u8 *p9_put_space(struct p9_out *out, size_t n);

/* --- fid table (fs/p9.c) --- */

/* A referenced fid, or NULL. */
struct p9_fid *p9_fid_get(struct p9_server *s, u32 no);
void p9_fid_put(struct p9_server *s, struct p9_fid *f);
/*
 * A new fid (one reference, for the caller) owning @pfd and @path, with
 * the identity of @st.  On failure pfd and path are freed.
 */
struct p9_fid *p9_fid_new(int pfd, char *path, const struct stat *st);
/*
 * Puts @f in the table as number @no.  @replace: an existing fid @no is
 * dropped; otherwise -EEXIST.  -EMFILE past max_fids.  The table takes
 * its own reference.
 */
int p9_fid_install(struct p9_server *s, u32 no, struct p9_fid *f, bool replace);
/* Removes @no from the table; -EBADF if there is none. */
int p9_fid_clunk(struct p9_server *s, u32 no);
/* A copy of @f's path (malloc'd), or NULL. */
char *p9_fid_path(struct p9_server *s, struct p9_fid *f);
/* The open fd of @f, or -1 (then -EBADF is the answer). */
int p9_fid_ofd(struct p9_fid *f);
u32 p9_msize(struct p9_server *s);

void p9_qid_from_stat(struct p9_qid *qid, const struct stat *st);

/* --- beneath the root (fs/p9-path.c) --- */

/* 0 if @name is one path component: not empty, no '/', not "." or "..". */
int p9_name_check(const char *name);
/* openat2(root, path) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_SYMLINKS and O_NOFOLLOW | O_CLOEXEC. "" is the root. */
int p9_open_beneath(struct p9_server *s, const char *path, int flags, mode_t mode);
/* @dir's path joined with @name (a component or ".."), malloc'd, or NULL
 * with *err set. ".." of the root is the root. */
char *p9_path_walk(const char *dir, const char *name, int *err);
/*
 * Opens @f's file again with @flags (no O_CREAT), refusing anything that
 * is not the inode the fid was walked to (-ESTALE): a symlink or another
 * file swapped in since cannot be opened through it.
 */
int p9_reopen(struct p9_server *s, struct p9_fid *f, int flags);
/* @f's parent directory (O_PATH) and its last component, after checking
 * that the name still refers to @f (-ESTALE).  Not for the root (-EBUSY). */
int p9_parent(struct p9_server *s, struct p9_fid *f, char *name, size_t size);
/* Every fid at @from or beneath it is now at @to (after a rename). */
void p9_paths_renamed(struct p9_server *s, const char *from, const char *to);

/* --- operations (fs/p9-ops.c, fs/p9-dir.c): 0 or negative errno --- */

typedef int p9_op_fn(struct p9_server *s, struct p9_in *in, struct p9_out *out);

p9_op_fn p9_op_lopen, p9_op_lcreate, p9_op_read, p9_op_write,
	p9_op_getattr, p9_op_setattr, p9_op_readdir, p9_op_statfs,
	p9_op_fsync, p9_op_lock, p9_op_getlock, p9_op_readlink;
p9_op_fn p9_op_mkdir, p9_op_symlink, p9_op_mknod, p9_op_rename,
	p9_op_renameat, p9_op_unlinkat, p9_op_link, p9_op_remove;

#endif

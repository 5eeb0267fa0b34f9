// SPDX-License-Identifier: GPL-2.0
/*
 * fs/p9-ops.c through the 9P2000.L wire: lcreate, write, read back,
 * lopen (flags, twice, dirs, FIFOs), getattr, setattr (truncate, mode,
 * times, owner), readdir listing with offsets, statfs, fsync, lock and
 * getlock, readlink, each checked against the host's view of the file.
 * Half of it runs with requests and replies chopped into many buffers.
 */
#include <sys/stat.h>
#include <sys/statfs.h>

#include "tap.h"
#include "p9-client.h"

#define ROOT	1
#define F_A	2
#define F_B	3
#define F_C	4
#define F_D	5

static char hpath[512];

static const char *host(const char *rel)
{
	snprintf(hpath, sizeof(hpath), "%s/%s", export_dir, rel);
	return hpath;
}

/* Lists directory fid @fid with @count-byte Treaddirs; returns entries seen. */
static int list_dir(u32 fid, u32 count, char names[][64], int max, int *calls)
{
	u64 off = 0;
	int n = 0;

	*calls = 0;
	for (;;) {
		u32 len;
		size_t end;

		t_begin(P9_TREADDIR);
		t32(fid);
		t64(off);
		t32(count);
		if (rpc())
			return -1;
		(*calls)++;
		len = r32();
		if (!len)
			return n;
		if (len > count)
			return -2;
		end = rpos + len;
		while (rpos < end) {
			struct p9_qid q;

			rqid(&q);
			off = r64();
			r8();
			if (n >= max)
				return -3;
			rstr(names[n++], 64);
		}
		if (rpos != end)
			return -4;
	}
}

static void roundtrip(void)
{
	char buf[512], names[128][64];
	struct c_attr a;
	struct stat st;
	int ret, calls, n, i, seen;

	is_int(c_walk(ROOT, F_A, ""), 0, "clone the root fid");
	is_int(c_lcreate(F_A, "a.txt", 2 /* RDWR */, 0666), 0, "Tlcreate a.txt");
	is_int(stat(host("a.txt"), &st), 0, "a.txt exists on the host");
	is_int(st.st_mode & 07777, 0666, "with the guest's mode, not the umask's");
	is_int(c_write(F_A, 0, "hello world", 11), 11, "Twrite 11 bytes");
	host_read(host("a.txt"), buf, sizeof(buf));
	is_str(buf, "hello world", "the host file holds them");

	is_int(c_walk(ROOT, F_B, "a.txt"), 0, "walk to a.txt");
	is_int(c_lopen(F_B, 0), 0, "Tlopen read-only");
	memset(buf, 0, sizeof(buf));
	is_int(c_read(F_B, 6, buf, 100), 5, "Tread at offset 6 returns the rest");
	is_str(buf, "world", "and the bytes written");
	is_int(c_read(F_B, 11, buf, 100), 0, "Tread at the end: 0 bytes");
	is_int(c_write(F_B, 0, "x", 1), -EBADF, "Twrite on a read-only open: EBADF");
	is_int(c_lopen(F_B, 0), -EINVAL, "a second Tlopen of one fid: EINVAL");

	is_int(c_getattr(F_B, &a), 0, "Tgetattr");
	ok(a.size == 11 && a.mode == (S_IFREG | 0666) && a.nlink == 1 &&
	   a.qid.type == P9_QTFILE, "size 11, regular 0666, one link");
	stat(host("a.txt"), &st);
	ok(a.uid == st.st_uid && a.gid == st.st_gid &&
	   a.mtime == (u64)st.st_mtim.tv_sec, "owner and mtime are the host's");

	/* setattr: truncate, mode, times, owner (to itself) */
	t_begin(P9_TSETATTR);
	t32(F_B); t32(0x8); t32(0); t32(0); t32(0); t64(5);
	t64(0); t64(0); t64(0); t64(0);
	is_int(rpc(), 0, "Tsetattr size 5");
	stat(host("a.txt"), &st);
	is_int(st.st_size, 5, "the host file is 5 bytes");
	t_begin(P9_TSETATTR);
	t32(F_B); t32(0x1); t32(0600); t32(0); t32(0); t64(0);
	t64(0); t64(0); t64(0); t64(0);
	is_int(rpc(), 0, "Tsetattr mode 0600");
	stat(host("a.txt"), &st);
	is_int(st.st_mode & 07777, 0600, "the host file is 0600");
	t_begin(P9_TSETATTR);
	t32(F_B); t32(0x10 | 0x20 | 0x80 | 0x100); t32(0); t32(0); t32(0); t64(0);
	t64(1000000000); t64(123); t64(1234567890); t64(456);
	is_int(rpc(), 0, "Tsetattr atime and mtime");
	stat(host("a.txt"), &st);
	ok(st.st_atim.tv_sec == 1000000000 && st.st_atim.tv_nsec == 123 &&
	   st.st_mtim.tv_sec == 1234567890 && st.st_mtim.tv_nsec == 456,
	   "the host file has those times");
	t_begin(P9_TSETATTR);
	t32(F_B); t32(0x20); t32(0); t32(0); t32(0); t64(0);
	t64(0); t64(0); t64(0); t64(0);
	is_int(rpc(), 0, "Tsetattr mtime without MTIME_SET");
	stat(host("a.txt"), &st);
	ok(st.st_mtim.tv_sec > 1234567890, "means now");
	t_begin(P9_TSETATTR);
	t32(F_B); t32(0x2 | 0x4); t32(0); t32(getuid()); t32(getgid()); t64(0);
	t64(0); t64(0); t64(0); t64(0);
	is_int(rpc(), 0, "Tsetattr uid/gid to lkvm's own");

	/* lopen with O_TRUNC, lcreate of an existing name */
	is_int(c_walk(ROOT, F_C, "a.txt"), 0, "walk to a.txt again");
	is_int(c_lopen(F_C, 1 | 01000), 0, "Tlopen write-only with O_TRUNC");
	stat(host("a.txt"), &st);
	is_int(st.st_size, 0, "truncated");
	is_int(c_clunk(F_C), 0, "Tclunk");
	is_int(c_walk(ROOT, F_C, ""), 0, "clone the root");
	is_int(c_lcreate(F_C, "a.txt", 2 | 0200 /* EXCL */, 0644), -EEXIST,
	       "Tlcreate O_EXCL of an existing name: EEXIST");
	is_int(c_lcreate(F_C, "a.txt", 2, 0644), 0, "without O_EXCL: opens it");
	stat(host("a.txt"), &st);
	is_int(st.st_mode & 07777, 0600, "and leaves its mode alone");
	is_int(c_fid1(P9_TFSYNC, F_C), -EPROTO, "Tfsync without datasync field: EPROTO");
	t_begin(P9_TFSYNC);
	t32(F_C);
	t32(0);
	is_int(rpc(), 0, "Tfsync");
	t_begin(P9_TFSYNC);
	t32(F_C);
	t32(1);
	is_int(rpc(), 0, "Tfsync datasync");
	t_begin(P9_TFSYNC);
	t32(ROOT);
	t32(0);
	is_int(rpc(), -EBADF, "Tfsync of a fid never opened: EBADF");

	/* directories */
	is_int(c_walk(ROOT, F_D, ""), 0, "clone the root");
	is_int(c_lopen(F_D, 1), -EISDIR, "Tlopen of a directory for writing: EISDIR");
	is_int(c_lopen(F_D, 0200000), 0, "Tlopen of a directory with O_DIRECTORY");
	is_int(c_read(F_D, 0, buf, 10), -EISDIR, "Tread of a directory: EISDIR");
	is_int(c_lopen(F_A, 0200000), -ENOTDIR, "Tlopen O_DIRECTORY of a file: ENOTDIR");

	for (i = 0; i < 60; i++) {
		snprintf(buf, sizeof(buf), "%s/file-%02d-%s", export_dir, i,
			 "padding-padding-padding-padding");
		host_write(buf, "");
	}
	n = list_dir(F_D, 4096, names, 128, &calls);
	is_int(n, 63, "Treaddir lists 60 files, a.txt, . and ..");
	n = list_dir(F_D, 200, names, 128, &calls);
	is_int(n, 63, "and the same with 200-byte Treaddirs");
	ok(calls > 10, "which took many calls, resuming at offsets (%d)", calls);
	for (i = 0, seen = 0; i < 60; i++) {
		char want[64];
		int j, c = 0;

		snprintf(want, sizeof(want), "file-%02d-%s", i,
			 "padding-padding-padding-padding");
		for (j = 0; j < n; j++)
			c += !strcmp(names[j], want);
		seen += c == 1;
	}
	is_int(seen, 60, "each file exactly once");
	t_begin(P9_TREADDIR);
	t32(F_B);
	t64(0);
	t32(4096);
	is_int(rpc(), -ENOTDIR, "Treaddir of a file: ENOTDIR");
	t_begin(P9_TREADDIR);
	t32(ROOT);
	t64(0);
	t32(4096);
	is_int(rpc(), -EBADF, "Treaddir of a directory never opened: EBADF");

	/* statfs */
	t_begin(P9_TSTATFS);
	t32(ROOT);
	ret = rpc();
	is_int(ret, 0, "Tstatfs");
	{
		struct statfs sf;
		u32 type = r32(), bsize = r32();

		statfs(export_dir, &sf);
		for (i = 0; i < 6; i++)
			r64();
		ok(type == (u32)sf.f_type && bsize == (u32)sf.f_bsize &&
		   r32() == (u32)sf.f_namelen && rpos == rlen,
		   "type, block size and name length are the host's");
	}

	/* readlink */
	if (symlink("some/where", host("ln")))
		perror("symlink");
	is_int(c_walk(ROOT, F_C + 10, "ln"), 0, "walk to a symlink");
	ret = c_fid1(P9_TREADLINK, F_C + 10);
	rstr(buf, sizeof(buf));
	ok(!ret && !strcmp(buf, "some/where"), "Treadlink returns its target");
	is_int(c_fid1(P9_TREADLINK, F_B), -EINVAL, "Treadlink of a file: EINVAL");

	/* FIFOs are never opened on the host */
	mkfifo(host("fifo"), 0644);
	is_int(c_walk(ROOT, F_C + 11, "fifo"), 0, "walk to a FIFO");
	is_int(c_lopen(F_C + 11, 0), -EPERM, "Tlopen of a FIFO: EPERM, nothing blocks");
	ret = c_getattr(F_C + 11, &a);
	ok(!ret && S_ISFIFO(a.mode), "Tgetattr of it says FIFO");
}

static int c_lock(u32 fid, u8 type, u64 start, u64 len, u8 *status)
{
	int ret;

	t_begin(P9_TLOCK);
	t32(fid); t8(type); t32(0); t64(start); t64(len); t32(42); tstr("guest");
	ret = rpc();
	if (!ret)
		*status = r8();
	return ret;
}

static void locks(void)
{
	u8 st = 99, type;
	u64 start, len;
	int ret;

	is_int(c_walk(ROOT, 20, "a.txt"), 0, "walk twice to a.txt");
	is_int(c_walk(ROOT, 21, "a.txt"), 0, "(second fid)");
	c_lopen(20, 2);
	c_lopen(21, 2);
	ret = c_lock(20, 1, 0, 10, &st);
	ok(!ret && st == 0, "Tlock write [0,10) on the first open: SUCCESS");
	ret = c_lock(21, 1, 5, 10, &st);
	ok(!ret && st == 1, "an overlapping write lock on the second: BLOCKED");
	t_begin(P9_TGETLOCK);
	t32(21); t8(1); t64(5); t64(10); t32(7); tstr("guest");
	ret = rpc();
	type = r8();
	start = r64();
	len = r64();
	ok(!ret && type == 1 && start == 0 && len == 10,
	   "Tgetlock from the second shows the first's write lock");
	ret = c_lock(20, 2, 0, 10, &st);
	ok(!ret && st == 0, "unlock on the first");
	ret = c_lock(21, 1, 5, 10, &st);
	ok(!ret && st == 0, "now the second gets it");
	t_begin(P9_TGETLOCK);
	t32(21); t8(0); t64(0); t64(0); t32(7); tstr("guest");
	ret = rpc();
	ok(!ret && r8() == 2, "Tgetlock from the lock's owner: unlocked");
	ret = c_lock(21, 3, 0, 0, &st);
	is_int(ret, -EINVAL, "Tlock type 3: EINVAL");
	ret = c_lock(ROOT, 1, 0, 0, &st);
	is_int(ret, -EBADF, "Tlock on a fid never opened: EBADF");
	c_clunk(20);
	c_clunk(21);
}

int main(void)
{
	tap_plan(72);
	umask(022);
	export_make();
	if (server_start(false, 0, 0))
		return 1;
	is_int(c_version(65536, "9P2000.L", NULL, NULL), 0, "Tversion");
	is_int(c_attach(ROOT), 0, "Tattach");
	roundtrip();
	locks();

	/* The same again with every message in pieces. */
	split_mode = 1;
	{
		char buf[64];
		int ret;

		is_int(c_walk(ROOT, 30, "a.txt"), 0, "split: walk");
		is_int(c_lopen(30, 2), 0, "split: Tlopen read-write");
		is_int(c_write(30, 0, "split message body", 18), 18, "split: Twrite");
		memset(buf, 0, sizeof(buf));
		ret = c_read(30, 6, buf, 7);
		ok(ret == 7 && !strcmp(buf, "message"), "split: Tread");
	}
	p9_server_close(srv);
	export_remove();
	return tap_done();
}

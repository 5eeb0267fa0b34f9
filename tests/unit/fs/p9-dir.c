// SPDX-License-Identifier: GPL-2.0
/*
 * fs/p9-dir.c through the 9P2000.L wire: mkdir, symlink, mknod (FIFO
 * yes, device nodes no), renameat and rename (and fids following the
 * rename), link, unlinkat, remove, and the single-component rule for
 * every name, each checked on the host.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "tap.h"
#include "p9-client.h"

#define ROOT	1

static char hpath[512];

static const char *host(const char *rel)
{
	snprintf(hpath, sizeof(hpath), "%s/%s", export_dir, rel);
	return hpath;
}

static int c_mknod(u32 dfid, const char *name, u32 mode, u32 maj, u32 min)
{
	t_begin(P9_TMKNOD);
	t32(dfid); tstr(name); t32(mode); t32(maj); t32(min); t32(0);
	return rpc();
}

static int c_renameat(u32 od, const char *on, u32 nd, const char *nn)
{
	t_begin(P9_TRENAMEAT);
	t32(od); tstr(on); t32(nd); tstr(nn);
	return rpc();
}

static int c_link(u32 dfid, u32 fid, const char *name)
{
	t_begin(P9_TLINK);
	t32(dfid); t32(fid); tstr(name);
	return rpc();
}

int main(void)
{
	static const char *const bad[] = { "a/b", ".", "..", "", "/abs" };
	char buf[300], target[64];
	struct p9_qid q;
	struct c_attr a;
	struct stat st;
	int ret, i;

	tap_plan(53);
	umask(022);
	export_make();
	if (server_start(false, 0, 0))
		return 1;
	c_version(65536, "9P2000.L", NULL, NULL);
	is_int(c_attach(ROOT), 0, "Tattach");

	ret = c_mkdir(ROOT, "d", 0775);
	rqid(&q);
	ok(!ret && q.type == P9_QTDIR, "Tmkdir d answers a directory qid");
	ok(!stat(host("d"), &st) && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0775,
	   "d is a 0775 directory on the host (umask given back)");
	is_int(c_mkdir(ROOT, "d", 0775), -EEXIST, "Tmkdir d again: EEXIST");

	ret = c_symlink(ROOT, "s", "d/target");
	rqid(&q);
	ok(!ret && q.type == P9_QTSYMLINK, "Tsymlink answers a symlink qid");
	ok(readlink(host("s"), target, sizeof(target)) == 8 && !memcmp(target, "d/target", 8),
	   "the host symlink points at d/target");
	is_int(c_walk(ROOT, 2, "s"), 0, "walk to it");
	ret = c_fid1(P9_TREADLINK, 2);
	rstr(buf, sizeof(buf));
	ok(!ret && !strcmp(buf, "d/target"), "Treadlink reads it back");
	t_begin(P9_TSYMLINK);
	t32(ROOT); tstr("s2"); tstrn("d/x\0y", 5); t32(0);
	is_int(rpc(), -EINVAL, "a symlink target with a NUL: EINVAL");

	ret = c_mknod(ROOT, "p", S_IFIFO | 0660, 0, 0);
	rqid(&q);
	ok(!ret && q.type == P9_QTFILE, "Tmknod FIFO");
	ok(!lstat(host("p"), &st) && S_ISFIFO(st.st_mode) && (st.st_mode & 07777) == 0660,
	   "p is a 0660 FIFO on the host");
	is_int(c_mknod(ROOT, "sda", S_IFBLK | 0600, 8, 0), -EPERM, "Tmknod block device: EPERM");
	is_int(c_mknod(ROOT, "mem", S_IFCHR | 0600, 1, 1), -EPERM, "Tmknod char device: EPERM");
	is_int(c_mknod(ROOT, "dd", S_IFDIR | 0600, 0, 0), -EINVAL, "Tmknod directory: EINVAL");
	ok(lstat(host("sda"), &st) && lstat(host("mem"), &st), "no device node on the host");

	/* rename: a fid walked beneath the renamed directory follows it */
	host_write(host("d/f"), "in d");
	is_int(c_walk(ROOT, 3, "d/f"), 0, "walk to d/f");
	is_int(c_walk(ROOT, 4, "d"), 0, "walk to d");
	is_int(c_renameat(ROOT, "d", ROOT, "e"), 0, "Trenameat d -> e");
	ok(lstat(host("d"), &st) && !lstat(host("e/f"), &st), "the host has e/f, no d");
	is_int(c_lopen(3, 0), 0, "the fid walked to d/f still opens (now e/f)");
	memset(buf, 0, sizeof(buf));
	is_int(c_read(3, 0, buf, 100), 4, "and reads");
	is_str(buf, "in d", "its content");
	is_int(c_walk(4, 5, "f"), 0, "walking on from the old d fid finds f");
	is_int(c_renameat(ROOT, "nothere", ROOT, "x"), -ENOENT, "Trenameat of a missing name: ENOENT");
	is_int(c_renameat(3, "f", ROOT, "x"), -ENOTDIR, "Trenameat from a file fid: ENOTDIR");

	t_begin(P9_TRENAME);
	t32(5); t32(ROOT); tstr("g");
	is_int(rpc(), 0, "Trename of fid e/f to g");
	ok(!lstat(host("g"), &st) && lstat(host("e/f"), &st), "the host has g, no e/f");
	is_int(c_getattr(5, &a), 0, "Tgetattr of the renamed fid");
	is_int(c_link(ROOT, 5, "h"), 0, "Tlink of the renamed fid as h");
	ok(!stat(host("h"), &st) && st.st_nlink == 2, "h is a second link on the host");

	/* unlinkat, remove */
	is_int(c_unlinkat(ROOT, "h", 0), 0, "Tunlinkat h");
	ok(lstat(host("h"), &st) != 0, "h is gone");
	is_int(c_unlinkat(ROOT, "e", 0), -EISDIR, "Tunlinkat of a directory without AT_REMOVEDIR");
	is_int(c_unlinkat(ROOT, "e", 0x200), 0, "Tunlinkat e with AT_REMOVEDIR");
	is_int(c_unlinkat(ROOT, "g", 0x1), -EINVAL, "Tunlinkat with unknown flags: EINVAL");
	is_int(c_fid1(P9_TREMOVE, 5), 0, "Tremove of g");
	ok(lstat(host("g"), &st) != 0, "g is gone");
	is_int(c_clunk(5), -EBADF, "and its fid with it");
	is_int(c_walk(ROOT, 6, ""), 0, "clone the root");
	is_int(c_fid1(P9_TREMOVE, 6), -EBUSY, "Tremove of the root: EBUSY");
	is_int(c_clunk(6), -EBADF, "which still clunks the fid");

	/* every create-type message refuses names that are not one component */
	for (i = 0; i < (int)ARRAY_SIZE(bad); i++) {
		int r1 = c_mkdir(ROOT, bad[i], 0755);
		int r2 = c_lcreate(ROOT, bad[i], 0, 0644);

		ok(r1 == -EINVAL && r2 == -EINVAL, "name '%s': EINVAL for mkdir and lcreate", bad[i]);
	}
	memset(buf, 'n', 256);
	buf[256] = '\0';
	is_int(c_mkdir(ROOT, buf, 0755), -ENAMETOOLONG, "a 256-byte name: ENAMETOOLONG");
	t_begin(P9_TMKDIR);
	t32(ROOT); tstrn("ab\0c", 4); t32(0755); t32(0);
	is_int(rpc(), -EINVAL, "a name with an embedded NUL: EINVAL");
	ok(lstat(host("ab"), &st) != 0, "nothing called ab was made");
	is_int(c_symlink(ROOT, "x/y", "t"), -EINVAL, "Tsymlink name with '/': EINVAL");
	is_int(c_mknod(ROOT, "..", S_IFIFO | 0600, 0, 0), -EINVAL, "Tmknod '..': EINVAL");
	is_int(c_renameat(ROOT, "p", ROOT, "../p"), -EINVAL, "Trenameat to '../p': EINVAL");
	ok(!lstat(host("p"), &st), "p stayed");

	p9_server_close(srv);
	export_remove();
	return tap_done();
}

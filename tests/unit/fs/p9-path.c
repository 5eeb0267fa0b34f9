// SPDX-License-Identifier: GPL-2.0
/*
 * fs/p9-path.c: nothing leaves the export.  ".." past the root, absolute
 * and relative symlinks pointing out (as the last component and in the
 * middle of a walk), a symlink swapped in between Twalk and Tlopen (for
 * a file and for a directory), /proc magic links inside the export (when
 * this process may mount a private /proc there), an aname pointing out,
 * very long names and paths, names with '/', ".", "..", embedded NULs and
 * strings running past the message.  The secret outside never shows up
 * in a reply.
 */
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "tap.h"
#include "p9-client.h"

#define ROOT	1

static char hpath[4][512], opath[512];
static int hnext;
static struct p9_qid root_qid;

static const char *host(const char *rel)
{
	char *p = hpath[hnext++ % 4];

	snprintf(p, sizeof(hpath[0]), "%s/%s", export_dir, rel);
	return p;
}

static const char *outside(const char *rel)
{
	snprintf(opath, sizeof(opath), "%s/%s", outside_dir, rel);
	return opath;
}

/* No reply so far carried the outside file's content. */
static int leaked;

/* Walks @path into @fid and tries to open and read it: 0 only if it could. */
static int try_read(u32 fid, const char *path)
{
	char buf[64];
	int ret = c_walk(ROOT, fid, path);

	if (ret)
		return ret;
	ret = c_lopen(fid, 0);
	if (!ret) {
		ret = c_read(fid, 0, buf, sizeof(buf));
		if (memmem(rb, rlen, "SECRET", 6))
			leaked++;
		ret = ret < 0 ? ret : 0;
	}
	c_clunk(fid);
	return ret;
}

static void dotdot(void)
{
	static const char *const up3[] = { "..", "..", "outside" };
	static const char *const upsub[] = { "sub", "..", "..", "outside", "secret" };
	struct p9_qid q;
	int ret;

	ret = c_walkv(ROOT, 2, 1, (const char *const[]){ ".." });
	rqid(&q);
	ok(ret == 1 && q.path == root_qid.path && q.type == P9_QTDIR,
	   "'..' at the root is the root");
	c_clunk(2);
	ret = c_walkv(ROOT, 2, 3, up3);
	is_int(ret, 2, "'..', '..', 'outside': only the two '..' walked (both the root)");
	is_int(c_clunk(2), -EBADF, "and no fid made by the partial walk");
	ret = c_walkv(ROOT, 2, 5, upsub);
	is_int(ret, 3, "'sub', '..', '..', 'outside': stops at 'outside'");
	c_clunk(2);
	t_begin(P9_TATTACH);
	t32(3); t32(P9_NOFID); tstr("u"); tstr("../outside"); t32(0);
	ret = rpc();
	rqid(&q);
	ok(!ret && q.path == root_qid.path, "Tattach with aname ../outside gets the root");
	c_clunk(3);
}

static void symlinks(void)
{
	static const char *const through[][2] = {
		{ "absd", "secret" }, { "reld", "secret" }, { "inner", "x" },
	};
	struct p9_qid q;
	int ret, i;

	ret = c_walkv(ROOT, 2, 1, (const char *const[]){ "abs" });
	rqid(&q);
	ok(ret == 1 && q.type == P9_QTSYMLINK, "walk to an absolute symlink gives the link");
	ret = c_lopen(2, 0);
	ok(ret < 0, "Tlopen of it is refused, never opens its target (%d)", ret);
	c_clunk(2);
	ok(try_read(2, "rel") < 0, "a relative symlink out (../outside/secret) cannot be read");
	ok(try_read(2, "pself") < 0, "nor a symlink to /proc/self/root");
	for (i = 0; i < 3; i++) {
		ret = c_walkv(ROOT, 2, 2, through[i]);
		ok(ret == 1, "walking through symlink '%s' stops before '%s'",
		   through[i][0], through[i][1]);
		c_clunk(2);
	}
	ret = c_symlink(ROOT, "esc", outside("secret"));
	is_int(ret, 0, "Tsymlink pointing out may be made (it is only text)");
	ok(try_read(2, "esc") < 0, "but not followed");
	if (symlink(outside("made"), host("dang")))
		perror("symlink");
	is_int(c_lcreate(ROOT, "dang", 2, 0644), -ELOOP,
	       "Tlcreate over a dangling symlink pointing out: ELOOP");
	is_int(c_clunk(ROOT), 0, "(the root fid survives a failed Tlcreate: clunk it)");
	c_attach(ROOT);
	ok(access(outside("made"), F_OK) != 0, "nothing was created outside");
}

static void swaps(void)
{
	int ret;

	/* a file swapped for a symlink pointing out */
	is_int(c_walk(ROOT, 4, "victim"), 0, "walk to victim (a file)");
	if (rename(host("victim"), host("victim.old")) ||
	    symlink(outside("secret"), host("victim")))
		perror("swap");
	ret = c_lopen(4, 0);
	ok(ret == -ELOOP || ret == -ESTALE, "swapped for a symlink before Tlopen: refused (%d)", ret);
	c_clunk(4);

	/* a file swapped for another file of the export */
	is_int(c_walk(ROOT, 4, "victim.old"), 0, "walk to victim.old");
	if (rename(host("other"), host("victim.old")))
		perror("swap");
	is_int(c_lopen(4, 0), -ESTALE, "swapped for another file: ESTALE");
	c_clunk(4);

	/* a directory swapped for a symlink to the outside directory */
	is_int(c_walk(ROOT, 5, "sub"), 0, "walk to sub (a directory)");
	if (rename(host("sub"), host("sub.old")) || symlink(outside_dir, host("sub")))
		perror("swap");
	ret = c_walkv(5, 6, 1, (const char *const[]){ "secret" });
	ok(ret < 0, "walking on from it to 'secret' is refused (%d)", ret);
	is_int(c_walk(ROOT, 6, ""), 0, "clone the swapped directory's fid");
	is_int(c_lcreate(5, "new", 2, 0644), 0, "Tlcreate in the swapped directory's fid");
	ok(access(outside("new"), F_OK) != 0 && access(host("sub.old/new"), F_OK) == 0,
	   "lands in the directory walked to, not outside");
	ret = c_walkv(ROOT, 7, 1, (const char *const[]){ "sub" });
	is_int(ret, 1, "walk to the new 'sub'");
	ret = c_lopen(7, 0);
	ok(ret < 0, "which, a symlink, does not open (%d)", ret);
	c_clunk(7);
}

/* /proc mounted inside the export: its magic links must not lead anywhere. */
static void magic(void)
{
	char pid[16], fd[16], path[512];
	const char *why = NULL;

	if (mkdir(host("proc"), 0755))
		why = "mkdir";
	else if (unshare(CLONE_NEWNS))
		why = "unshare(CLONE_NEWNS) not permitted";
	else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		why = "cannot make / private";
	else if (mount("proc", host("proc"), "proc", 0, NULL))
		why = "cannot mount proc";
	if (why) {
		for (int i = 0; i < 5; i++)
			ok(1, "magic links # SKIP %s", why);
		return;
	}
	snprintf(pid, sizeof(pid), "%d", getpid());
	snprintf(fd, sizeof(fd), "%d", srv->root_fd);
	snprintf(path, sizeof(path), "proc/%s/root/%s", pid, outside_dir + 1);
	ok(c_walk(ROOT, 8, path) < 0, "walk through /proc/PID/root out: refused");
	snprintf(path, sizeof(path), "proc/%s/root", pid);
	ok(try_read(8, path) < 0, "/proc/PID/root does not open");
	snprintf(path, sizeof(path), "proc/%s/cwd", pid);
	ok(try_read(8, path) < 0, "/proc/PID/cwd does not open");
	snprintf(path, sizeof(path), "proc/%s/fd/%s/..", pid, fd);
	ok(c_walk(ROOT, 8, path) < 0, "/proc/PID/fd/ROOTFD/.. does not walk");
	snprintf(path, sizeof(path), "proc/%s/exe", pid);
	ok(try_read(8, path) < 0, "/proc/PID/exe does not open");
	umount2(host("proc"), MNT_DETACH);
}

static void names(void)
{
	static const char *const bad[] = { "sub/..", "../outside", "/etc", ".", "" };
	char name[300];
	static char huge[70000];
	char *deep[P9_MAXWELEM];
	int ret, i, fd;

	for (i = 0; i < (int)ARRAY_SIZE(bad); i++) {
		ret = c_walkv(ROOT, 9, 1, &bad[i]);
		is_int(ret, -EINVAL, "walk name must be one component");
	}
	memset(name, 'x', 256);
	name[256] = '\0';
	ret = c_walkv(ROOT, 9, 1, (const char *const[]){ name });
	is_int(ret, -ENAMETOOLONG, "a 256-byte walk name: ENAMETOOLONG");
	memset(huge, 'y', 65535);
	t_begin(P9_TWALK);
	t32(ROOT); t32(9); t16(1); tstrn(huge, 65535);
	is_int(rpc(), -ENAMETOOLONG, "a 65535-byte walk name: ENAMETOOLONG");

	/* a path deeper than PATH_MAX, made on the host */
	memset(name, 'd', 240);
	name[240] = '\0';
	fd = open(export_dir, O_PATH | O_DIRECTORY);
	for (i = 0; i < 18; i++) {
		int nfd;

		if (mkdirat(fd, name, 0755))
			break;
		nfd = openat(fd, name, O_PATH | O_DIRECTORY);
		close(fd);
		fd = nfd;
	}
	close(fd);
	for (i = 0; i < P9_MAXWELEM; i++)
		deep[i] = name;
	is_int(c_walkv(ROOT, 9, P9_MAXWELEM, (const char *const *)deep), P9_MAXWELEM,
	       "16 names of 240 bytes walk (3856 bytes of path)");
	ret = c_walkv(9, 10, 2, (const char *const *)deep);
	is_int(ret, -ENAMETOOLONG, "two more would pass PATH_MAX: ENAMETOOLONG");
	c_clunk(9);

	t_begin(P9_TWALK);
	t32(ROOT); t32(9); t16(1); tstrn("sub\0/../..", 10);
	is_int(rpc(), -EINVAL, "a walk name with an embedded NUL: EINVAL");
	t_begin(P9_TWALK);
	t32(ROOT); t32(9); t16(1); t16(100); memcpy(tb + tpos, "sub", 3); tpos += 3;
	is_int(rpc(), -EPROTO, "a walk name longer than the message: EPROTO");
	t_begin(P9_TWALK);
	t32(ROOT); t32(9); t16(17);
	for (i = 0; i < 17; i++)
		tstr("sub");
	is_int(rpc(), -EINVAL, "17 names in one walk: EINVAL");
	is_int(c_clunk(9), -EBADF, "none of these made a fid");
}

int main(void)
{
	int ret;

	tap_plan(48);
	export_make();
	host_write(outside("secret"), "SECRET");
	mkdir(host("sub"), 0755);
	host_write(host("sub/x"), "x");
	host_write(host("victim"), "victim");
	host_write(host("other"), "other");
	if (symlink(outside("secret"), host("abs")) ||
	    symlink("../outside/secret", host("rel")) ||
	    symlink("../outside", host("reld")) ||
	    symlink(outside_dir, host("absd")) ||
	    symlink("sub", host("inner")) ||
	    symlink("/proc/self/root", host("pself")))
		perror("symlink");
	if (server_start(false, 0, 0))
		return 1;
	c_version(P9_MSIZE_MAX, "9P2000.L", NULL, NULL);
	ret = c_attach(ROOT);
	rqid(&root_qid);
	is_int(ret, 0, "Tattach");

	dotdot();
	symlinks();
	swaps();
	magic();
	names();
	is_int(leaked, 0, "no reply ever carried the outside file's content");

	p9_server_close(srv);
	export_remove();
	return tap_done();
}

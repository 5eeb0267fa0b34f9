// SPDX-License-Identifier: GPL-2.0
/*
 * sandbox/cpio.c: archives built in memory are read back by GNU cpio
 * (`cpio -i`, the real unpacker) into a temporary directory and compared
 * with what went in; the byte layout (magic, 4-byte alignment of names
 * and data, the trailer) is checked against the newc rules directly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "tap.h"
#include "sandbox/cpio.h"

static char tmpdir[] = "/tmp/lkvm-cpio-XXXXXX";

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int write_archive(const struct cpio *c, const char *path)
{
	FILE *f = fopen(path, "w");
	int ok_ = f && fwrite(c->buf, 1, c->len, f) == c->len;

	if (f && fclose(f))
		ok_ = 0;
	return ok_ ? 0 : -1;
}

/* Unpacks @c with GNU cpio into tmpdir/@sub; returns cpio's status. */
static int unpack(const struct cpio *c, const char *sub)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s.cpio", tmpdir, sub);
	if (write_archive(c, path))
		return -1;
	return sh("mkdir -p %s/%s && cd %s/%s && cpio -i -d --quiet "
		  "--no-absolute-filenames < %s 2>%s/%s.err",
		  tmpdir, sub, tmpdir, sub, path, tmpdir, sub);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int same_file(const char *path, const void *want, size_t len)
{
	size_t got_len;
	char *got = slurp(path, &got_len);
	int same = got && got_len == len && !memcmp(got, want, len);

	free(got);
	return same;
}

/* Walks the archive's headers: every one at a 4-byte offset, names padded. */
static int layout_ok(const struct cpio *c, int *entries, int *trailer_last)
{
	size_t off = 0;

	*entries = 0;
	*trailer_last = 0;
	while (off + 110 <= c->len) {
		char f[9] = { 0 };
		unsigned long namesize, filesize;

		if (off & 3 || memcmp(c->buf + off, "070701", 6))
			return 0;
		memcpy(f, c->buf + off + 6 + 6 * 8, 8);
		filesize = strtoul(f, NULL, 16);
		memcpy(f, c->buf + off + 6 + 11 * 8, 8);
		namesize = strtoul(f, NULL, 16);
		if (c->buf[off + 110 + namesize - 1])
			return 0;	/* name not NUL-terminated */
		(*entries)++;
		*trailer_last = !strcmp((char *)c->buf + off + 110, "TRAILER!!!");
		off = ALIGN_UP(off + 110 + namesize, 4);
		off = ALIGN_UP(off + filesize, 4);
		if (*trailer_last)
			break;
	}
	return off == c->len && *trailer_last;
}

static void test_tree(void)
{
	static const char hello[] = "hello, guest\n";
	char data3[3] = { 'a', 'b', 'c' }, path[512];
	struct cpio c;
	struct stat st;
	int n = 0, last, lay;

	cpio_init(&c);
	ok(!cpio_add_dir(&c, "etc", 0755) &&
	   !cpio_add_dir(&c, "etc/sub", 0700) &&
	   !cpio_add_file(&c, "etc/hello", 0644, hello, sizeof(hello) - 1) &&
	   !cpio_add_file(&c, "etc/empty", 0600, NULL, 0) &&
	   !cpio_add_file(&c, "etc/sub/x", 0755, data3, 1) &&
	   !cpio_add_file(&c, "etc/sub/xy", 0755, data3, 2) &&
	   !cpio_add_file(&c, "etc/sub/xyz", 0755, data3, 3) &&
	   !cpio_add_symlink(&c, "etc/link", "hello") &&
	   !cpio_add_symlink(&c, "etc/abs", "/proc/self/fd/0") &&
	   !cpio_add_node(&c, "etc/fifo", S_IFIFO, 0600, 0, 0) &&
	   !cpio_add_node(&c, "etc/null", S_IFCHR, 0666, 1, 3),
	   "directories, files (0-3 bytes of data), symlinks, a fifo and a char device go in");
	ok(!cpio_finish(&c), "the trailer goes in");
	ok(cpio_add_dir(&c, "late", 0755) == -EBUSY, "nothing is added after the trailer");
	ok(c.len % 4 == 0, "archive length %zu is a multiple of 4", c.len);
	lay = layout_ok(&c, &n, &last);
	ok(lay && n == 12,
	   "every header starts 4-aligned with the newc magic, the trailer ends it (%d entries)", n);

	is_int(unpack(&c, "tree"), 0, "GNU cpio unpacks it without complaint");
	snprintf(path, sizeof(path), "%s/tree/etc/hello", tmpdir);
	ok(same_file(path, hello, sizeof(hello) - 1), "a file's contents come back");
	ok(!stat(path, &st) && (st.st_mode & 07777) == 0644, "and its mode");
	snprintf(path, sizeof(path), "%s/tree/etc/empty", tmpdir);
	ok(!stat(path, &st) && S_ISREG(st.st_mode) && st.st_size == 0 &&
	   (st.st_mode & 07777) == 0600, "an empty file comes back empty");
	snprintf(path, sizeof(path), "%s/tree/etc/sub/x", tmpdir);
	ok(same_file(path, "a", 1), "1 byte of data (3 bytes of padding)");
	snprintf(path, sizeof(path), "%s/tree/etc/sub/xy", tmpdir);
	ok(same_file(path, "ab", 2), "2 bytes of data");
	snprintf(path, sizeof(path), "%s/tree/etc/sub/xyz", tmpdir);
	ok(same_file(path, "abc", 3) && !stat(path, &st) &&
	   (st.st_mode & 0777) == 0755, "3 bytes of data, executable");
	snprintf(path, sizeof(path), "%s/tree/etc/sub", tmpdir);
	ok(!stat(path, &st) && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
	   "a directory with its mode");
	{
		char target[64] = { 0 };

		snprintf(path, sizeof(path), "%s/tree/etc/link", tmpdir);
		ok(readlink(path, target, sizeof(target) - 1) == 5 &&
		   !strcmp(target, "hello"), "a relative symlink's target");
		memset(target, 0, sizeof(target));
		snprintf(path, sizeof(path), "%s/tree/etc/abs", tmpdir);
		ok(readlink(path, target, sizeof(target) - 1) > 0 &&
		   !strcmp(target, "/proc/self/fd/0"), "an absolute symlink's target, unfollowed");
	}
	snprintf(path, sizeof(path), "%s/tree/etc/fifo", tmpdir);
	ok(!lstat(path, &st) && S_ISFIFO(st.st_mode), "a fifo");
	snprintf(path, sizeof(path), "%s/tree/etc/null", tmpdir);
	if (!lstat(path, &st)) {
		ok(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
		   minor(st.st_rdev) == 3, "a char device 1:3");
	} else {
		/* No CAP_MKNOD (a container): the listing must still say so. */
		ok(!sh("cd %s && cpio -t -v --quiet < tree.cpio 2>/dev/null | "
		       "grep -q '^crw-rw-rw-.* 1, *3 .*etc/null$'", tmpdir),
		   "a char device 1:3 (from cpio -tv: mknod refused here)");
	}
	cpio_free(&c);
}

static void test_names(void)
{
	char name[CPIO_NAME_MAX + 8], path[CPIO_NAME_MAX + 512];
	struct cpio c;
	size_t i;
	int n = 0, last, lay;

	cpio_init(&c);
	is_int(cpio_add_file(&c, "/etc/passwd", 0644, "x", 1), -EINVAL, "an absolute name is refused");
	is_int(cpio_add_file(&c, "a/../../x", 0644, "x", 1), -EINVAL, "a .. component is refused");
	is_int(cpio_add_file(&c, "..", 0644, "x", 1), -EINVAL, "a bare .. is refused");
	is_int(cpio_add_file(&c, "a//b", 0644, "x", 1), -EINVAL, "an empty component is refused");
	is_int(cpio_add_file(&c, "", 0644, "x", 1), -EINVAL, "an empty name is refused");
	is_int(cpio_add_dir(&c, "d/", 0755), -EINVAL, "a trailing slash is refused");
	is_int(cpio_add_symlink(&c, "l", ""), -EINVAL, "an empty symlink target is refused");
	is_int(cpio_add_node(&c, "f", S_IFIFO, 0600, 1, 2), -EINVAL, "a fifo with a device number is refused");
	is_int(cpio_add_node(&c, "f", S_IFREG, 0600, 0, 0), -EINVAL, "a regular file is no node");
	memset(name, 'n', CPIO_NAME_MAX);
	name[CPIO_NAME_MAX] = 0;
	is_int(cpio_add_file(&c, name, 0644, "x", 1), -ENAMETOOLONG, "a name of PATH_MAX bytes (no room for its NUL) is refused");
	is_int(c.len, 0, "refused entries leave nothing behind");

	/*
	 * Long names that GNU cpio and the kernel still take: a 255-byte
	 * component (NAME_MAX), and a nested path whose name sizes walk
	 * through all four residues mod 4.
	 */
	memset(name, 'L', 255);
	name[255] = 0;
	ok(!cpio_add_file(&c, name, 0644, "long", 4), "a 255-byte name goes in");
	strcpy(name, "d");
	ok(!cpio_add_dir(&c, name, 0755), "dir d");
	for (i = 0; i < 4; i++) {
		char leaf[300];

		snprintf(leaf, sizeof(leaf), "%.200s/%.*s", name, (int)(i + 1), "abcd");
		ok(!cpio_add_file(&c, leaf, 0644, leaf, strlen(leaf)), "name size %zu", strlen(leaf) + 1);
	}
	/* A deep path of ~3000 bytes: dirs first, as an unpacker expects. */
	strcpy(name, "deep");
	ok(!cpio_add_dir(&c, name, 0755), "dir deep");
	while (strlen(name) < 3000) {
		strcat(name, "/0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz");
		if (cpio_add_dir(&c, name, 0755))
			break;
	}
	strcat(name, "/f");
	ok(!cpio_add_file(&c, name, 0600, "deep", 4), "a %zu-byte path goes in", strlen(name));
	ok(!cpio_finish(&c), "finished");
	lay = layout_ok(&c, &n, &last);
	ok(lay, "layout holds with long names (%d entries)", n);
	is_int(unpack(&c, "names"), 0, "GNU cpio unpacks the long names");
	snprintf(path, sizeof(path), "%s/names/%.255s", tmpdir,
		 "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL");
	ok(same_file(path, "long", 4), "the 255-byte name's file");
	for (i = 0; i < 4; i++) {
		char leaf[300];

		snprintf(leaf, sizeof(leaf), "d/%.*s", (int)(i + 1), "abcd");
		snprintf(path, sizeof(path), "%s/names/%s", tmpdir, leaf);
		ok(same_file(path, leaf, strlen(leaf)), "%s's contents (names %zu bytes)", leaf, strlen(leaf) + 1);
	}
	snprintf(path, sizeof(path), "%s/names/%s", tmpdir, name);
	ok(same_file(path, "deep", 4), "the deep path's file");
	cpio_free(&c);
}

static void test_host_file(void)
{
	char src[256], path[256];
	struct cpio c;
	FILE *f;

	snprintf(src, sizeof(src), "%s/host-src", tmpdir);
	f = fopen(src, "w");
	fputs("#!/bin/sh\necho from host\n", f);
	fclose(f);
	chmod(src, 0750);
	cpio_init(&c);
	ok(!cpio_add_host_file(&c, "bin-x", src), "a host file goes in");
	is_int(cpio_add_host_file(&c, "nope", "/nonexistent/lkvm"), -ENOENT, "a missing host file is -ENOENT");
	is_int(cpio_add_host_file(&c, "dir", "/"), -EINVAL, "a host directory is refused");
	ok(!cpio_finish(&c), "finished");
	is_int(unpack(&c, "host"), 0, "unpacked");
	snprintf(path, sizeof(path), "%s/host/bin-x", tmpdir);
	{
		struct stat st;

		ok(same_file(path, "#!/bin/sh\necho from host\n", 25) &&
		   !stat(path, &st) && (st.st_mode & 07777) == 0750,
		   "contents and mode 0750 kept");
	}
	cpio_free(&c);
}

int main(void)
{
	if (system("cpio --version >/dev/null 2>&1")) {
		printf("1..0 # SKIP GNU cpio not installed (scripts/setup.sh installs it)\n");
		return 0;
	}
	if (!mkdtemp(tmpdir)) {
		printf("1..0 # SKIP cannot make a temporary directory: %s\n", strerror(errno));
		return 0;
	}
	tap_plan(51);
	test_tree();
	test_names();
	test_host_file();
	sh("rm -rf %s", tmpdir);
	return tap_done();
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The 9p fuzz targets' export (tests/fuzz/p9.c, p9-path.c): a temporary
 * directory holding the export and a sentinel file beside it, made anew
 * for every input, removed when libFuzzer exit()s, and the check that
 * nothing outside the export changed.  Each target fills the export.
 */
#ifndef LKVM_TESTS_FUZZ_P9_FIXTURE_H
#define LKVM_TESTS_FUZZ_P9_FIXTURE_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define P9FX_SENTINEL	"do not touch\n"

static char p9fx_base[64], p9fx_export[96], p9fx_sentinel[96];

#define p9fx_fail(...) do {					\
	fprintf(stderr, "p9 fuzz: " __VA_ARGS__);		\
	fputc('\n', stderr);					\
	abort();						\
} while (0)

static void p9fx_rm_tree(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	struct dirent *e;
	DIR *d;

	if (fd >= 0) {
		d = fdopendir(fd);
		if (!d)
			abort();
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				p9fx_rm_tree(fd, e->d_name);
		closedir(d);
		if (unlinkat(dfd, name, AT_REMOVEDIR))
			p9fx_fail("rmdir %s: %m", name);
	} else if (unlinkat(dfd, name, 0)) {
		p9fx_fail("unlink %s: %m", name);
	}
}

static void p9fx_cleanup(void)
{
	p9fx_rm_tree(AT_FDCWD, p9fx_base);
}

static void p9fx_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		p9fx_fail("write %s: %m", path);
	close(fd);
}

/*
 * An empty export: the base directory and its sentinel the first time
 * (@name tells the targets' directories apart in /tmp), after that the
 * previous input's export removed and made again.
 */
static void p9fx_export_empty(const char *name)
{
	if (!p9fx_base[0]) {
		snprintf(p9fx_base, sizeof(p9fx_base), "/tmp/lkvm-fuzz-%s.XXXXXX",
			 name);
		if (!mkdtemp(p9fx_base))
			p9fx_fail("mkdtemp: %m");
		snprintf(p9fx_export, sizeof(p9fx_export), "%s/export",
			 p9fx_base);
		snprintf(p9fx_sentinel, sizeof(p9fx_sentinel), "%s/sentinel",
			 p9fx_base);
		p9fx_write_file(p9fx_sentinel, P9FX_SENTINEL);
		atexit(p9fx_cleanup);
	} else {
		p9fx_rm_tree(AT_FDCWD, p9fx_export);
	}
	if (mkdir(p9fx_export, 0755))
		p9fx_fail("mkdir %s: %m", p9fx_export);
}

/* Nothing outside the export: the sentinel as it was, no new entries. */
static void p9fx_check_outside(void)
{
	char buf[64];
	struct dirent *e;
	int fd, n = 0;
	ssize_t len;
	DIR *d;

	fd = open(p9fx_sentinel, O_RDONLY | O_NOFOLLOW);
	if (fd < 0)
		p9fx_fail("sentinel gone: %m");
	len = read(fd, buf, sizeof(buf));
	close(fd);
	if (len != (ssize_t)strlen(P9FX_SENTINEL) ||
	    memcmp(buf, P9FX_SENTINEL, len))
		p9fx_fail("sentinel changed");
	d = opendir(p9fx_base);
	if (!d)
		abort();
	while ((e = readdir(d)))
		n++;
	closedir(d);
	if (n != 4)		/* ., .., export, sentinel */
		p9fx_fail("%d entries next to the export", n);
}

#endif

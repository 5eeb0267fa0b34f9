// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the 9P server's resolver (fs/p9-path.c) alone --
 * p9_path_walk(), p9_open_beneath(), p9_reopen(), p9_parent() -- on a
 * fresh temporary export each time holding a file, a directory, a
 * symlink out of the export (relative and absolute), a symlink to "..",
 * and a sentinel next to the export.  The input walks names (anything:
 * "..", '/', very long, cut short by a NUL), opens what it walked to,
 * and changes the tree under the walked paths the way a racing host (or
 * another client) could: removes entries, swaps a symlink pointing out in
 * place of a walked name, plants symlinks with targets from the input.
 *
 * Checked: every fd the resolver hands out names an inode inside the
 * export (its /proc/self/fd link is beneath the export's real path, on
 * the export's filesystem); a reopen gives the very inode walked to or
 * an error; nothing outside the export changes.
 *
 * Input, repeated: an op byte (bits 0-2 what, bits 3-5 slot a, bit 6-7
 * flag variant), a slot byte b, a length byte, then that many name
 * bytes (bit 7 of the length byte repeats the name 8 times, joined by
 * nothing, for names and paths past NAME_MAX).
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/p9-int.h"

#define SENTINEL	"do not touch\n"
#define SLOTS		8

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static char base[64], export[96], sentinel[96], export_real[PATH_MAX];
static struct stat export_st;

/* A walked path: what a fid holds (fs/p9-int.h struct p9_fid). */
struct slot {
	char *path;
	int pfd;
	dev_t dev;
	ino_t ino;
	mode_t type;
};

#define fail(...) do {						\
	fprintf(stderr, "p9-path: " __VA_ARGS__);		\
	fputc('\n', stderr);					\
	abort();						\
} while (0)

static void rm_tree(int dfd, const char *name)
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
				rm_tree(fd, e->d_name);
		closedir(d);
		if (unlinkat(dfd, name, AT_REMOVEDIR))
			fail("rmdir %s: %m", name);
	} else if (unlinkat(dfd, name, 0)) {
		fail("unlink %s: %m", name);
	}
}

static void cleanup(void)
{
	rm_tree(AT_FDCWD, base);
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		abort();
	close(fd);
}

static void fixture(void)
{
	char p[200];

	if (!base[0]) {
		strcpy(base, "/tmp/lkvm-fuzz-p9path.XXXXXX");
		if (!mkdtemp(base))
			abort();
		snprintf(export, sizeof(export), "%s/export", base);
		snprintf(sentinel, sizeof(sentinel), "%s/sentinel", base);
		write_file(sentinel, SENTINEL);
		atexit(cleanup);
	} else {
		rm_tree(AT_FDCWD, export);
	}
	if (mkdir(export, 0755) || !realpath(export, export_real) ||
	    stat(export, &export_st))
		abort();
	snprintf(p, sizeof(p), "%s/file", export);
	write_file(p, "hello\n");
	snprintf(p, sizeof(p), "%s/dir", export);
	if (mkdir(p, 0755))
		abort();
	snprintf(p, sizeof(p), "%s/dir/sub", export);
	if (mkdir(p, 0755))
		abort();
	snprintf(p, sizeof(p), "%s/dir/inner", export);
	write_file(p, "inner\n");
	snprintf(p, sizeof(p), "%s/out", export);
	if (symlink("../sentinel", p))
		abort();
	snprintf(p, sizeof(p), "%s/abs", export);
	if (symlink(sentinel, p))
		abort();
	snprintf(p, sizeof(p), "%s/dir/up", export);
	if (symlink("../..", p))
		abort();
}

/* Nothing outside the export: the sentinel as it was, no new entries. */
static void check_outside(void)
{
	char buf[64];
	struct dirent *e;
	int fd, n = 0;
	ssize_t len;
	DIR *d;

	fd = open(sentinel, O_RDONLY | O_NOFOLLOW);
	if (fd < 0)
		fail("sentinel gone: %m");
	len = read(fd, buf, sizeof(buf));
	close(fd);
	if (len != (ssize_t)strlen(SENTINEL) || memcmp(buf, SENTINEL, len))
		fail("sentinel changed");
	d = opendir(base);
	if (!d)
		abort();
	while ((e = readdir(d)))
		n++;
	closedir(d);
	if (n != 4)		/* ., .., export, sentinel */
		fail("%d entries next to the export", n);
}

/* @fd must be an inode beneath the export (or the export itself). */
static void check_inside(int fd, const char *what)
{
	char link[64], real[PATH_MAX + 16];
	size_t el = strlen(export_real);
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real) - 1);
	if (n < 0 || fstat(fd, &st))
		fail("%s: fd %d unreadable: %m", what, fd);
	real[n] = '\0';
	if (strncmp(real, export_real, el) || (real[el] && real[el] != '/'))
		fail("%s: fd %d is %s, outside %s", what, fd, real, export_real);
	if (st.st_dev != export_st.st_dev)
		fail("%s: fd %d on another filesystem", what, fd);
}

static void slot_clear(struct slot *s)
{
	free(s->path);
	if (s->pfd >= 0)
		close(s->pfd);
	*s = (struct slot){ .pfd = -1 };
}

static void to_fid(const struct slot *s, struct p9_fid *f)
{
	memset(f, 0, sizeof(*f));
	f->path = s->path;
	f->pfd = s->pfd;
	f->dev = s->dev;
	f->ino = s->ino;
	f->type = s->type;
	f->ofd = -1;
}

static const int open_flags[4] = {
	O_RDONLY, O_RDWR, O_RDONLY | O_DIRECTORY, O_WRONLY | O_CREAT,
};

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct p9_server srv = { .root_fd = -1 };
	struct slot slots[SLOTS];
	char name[8 * 127 + 1], pname[NAME_MAX + 1];
	struct p9_fid fid;
	size_t pos = 0;
	struct stat st;
	int err, fd;

	fixture();
	for (int i = 0; i < SLOTS; i++)
		slots[i] = (struct slot){ .pfd = -1 };
	srv.root_fd = open(export, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (srv.root_fd < 0)
		abort();
	srv.root_dev = export_st.st_dev;
	srv.root_ino = export_st.st_ino;
	pthread_mutex_init(&srv.lock, NULL);
	slots[0] = (struct slot){ .path = strdup(""), .pfd = dup(srv.root_fd),
				  .dev = export_st.st_dev,
				  .ino = export_st.st_ino, .type = S_IFDIR };

	while (pos + 3 <= size) {
		u8 op = data[pos], b = data[pos + 1] % SLOTS;
		unsigned int len = data[pos + 2] & 0x7f, rep, nl = 0;
		struct slot *a = &slots[(op >> 3) % SLOTS];
		int flags = open_flags[op >> 6];
		char *p;

		pos += 3;
		len = min_t(size_t, len, size - pos);
		rep = data[pos - 1] & 0x80 ? 8 : 1;
		for (unsigned int r = 0; r < rep; r++, nl += len)
			memcpy(name + nl, data + pos, len);
		name[nl] = '\0';	/* a NUL in the input ends the name early */
		pos += len;
		if (!a->path)
			continue;

		switch (op & 7) {
		case 0:		/* Twalk: one name from a into b */
			p = p9_path_walk(a->path, name, &err);
			if (!p)
				break;
			fd = p9_open_beneath(&srv, p, O_PATH, 0);
			if (fd < 0 || fstat(fd, &st)) {
				if (fd >= 0)
					close(fd);
				free(p);
				break;
			}
			check_inside(fd, "walk");
			if (&slots[b] == a || !b) {	/* root stays */
				close(fd);
				free(p);
				break;
			}
			slot_clear(&slots[b]);
			slots[b] = (struct slot){ .path = p, .pfd = fd,
						  .dev = st.st_dev,
						  .ino = st.st_ino,
						  .type = st.st_mode & S_IFMT };
			break;
		case 1:		/* open (or create) a name beneath a's path */
			p = p9_path_walk(a->path, name, &err);
			if (!p)
				break;
			fd = p9_open_beneath(&srv, p, flags | O_NONBLOCK, 0644);
			free(p);
			if (fd >= 0) {
				check_inside(fd, "open");
				close(fd);
			}
			break;
		case 2:		/* Tlopen: reopen what a was walked to */
			to_fid(a, &fid);
			fd = p9_reopen(&srv, &fid, (flags & ~O_CREAT) | O_NONBLOCK);
			if (fd >= 0) {
				check_inside(fd, "reopen");
				if (fstat(fd, &st) || st.st_dev != a->dev ||
				    st.st_ino != a->ino)
					fail("reopen of %s: another inode",
					     a->path);
				close(fd);
			}
			break;
		case 3:		/* a's parent, as Tunlinkat/Trenameat find it */
			to_fid(a, &fid);
			fd = p9_parent(&srv, &fid, pname, sizeof(pname));
			if (fd >= 0) {
				check_inside(fd, "parent");
				close(fd);
			}
			break;
		case 4:		/* the host removes a's entry (a directory too) */
		case 5:		/* ... or swaps a symlink out in its place */
			to_fid(a, &fid);
			fd = p9_parent(&srv, &fid, pname, sizeof(pname));
			if (fd < 0)
				break;
			check_inside(fd, "parent");
			if ((op & 7) == 5) {
				if (!symlinkat(name[0] & 1 ? sentinel :
					       "../../../../sentinel", fd,
					       ".swap") &&
				    renameat(fd, ".swap", fd, pname))
					unlinkat(fd, ".swap", 0);
			} else if (unlinkat(fd, pname, 0)) {
				unlinkat(fd, pname, AT_REMOVEDIR);
			}
			close(fd);
			break;
		case 6:		/* plant a symlink (target from the input) in a */
			if (!S_ISDIR(a->type) || slots[b].path == NULL)
				break;
			p = strrchr(name, '!');
			if (!p || p == name || p9_name_check(p + 1))
				break;
			*p = '\0';
			symlinkat(name, a->pfd, p + 1);
			break;
		case 7:		/* mkdir there */
			if (S_ISDIR(a->type) && !p9_name_check(name))
				mkdirat(a->pfd, name, 0755);
			break;
		}
	}
	for (int i = 0; i < SLOTS; i++)
		slot_clear(&slots[i]);
	close(srv.root_fd);
	pthread_mutex_destroy(&srv.lock);
	check_outside();
	return 0;
}

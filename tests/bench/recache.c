// SPDX-License-Identifier: GPL-2.0
/*
 * tests/bench/recache [-s] FILE...: writes each FILE back, drops it from
 * the page cache and reads it in again: one 4 KiB page at a time with
 * readahead off (the cache random 4 KiB I/O leaves: single pages), or
 * with -s in 1 MiB reads with readahead on (the cache sequential I/O
 * leaves: large folios).  tests/bench/run.sh gives each group of rows
 * the cache of its own access pattern, the same for lkvm, QEMU and fio.
 *
 * Why: this host's ext4 caches a file written or read sequentially in
 * large folios, and a 4 KiB buffered write into one walks every block of
 * the folio (ext4_block_write_begin), 4-6x the cost of a write into a
 * single page, while 1 MiB transfers go faster through large folios.
 * Which a row got had depended on the rows before it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE	4096

#define SEQ	(1 << 20)

static int recache(const char *path, bool seq)
{
	static char buf[SEQ];
	size_t chunk = seq ? SEQ : PAGE;
	struct stat st;
	off_t off;
	int fd, err;

	fd = open(path, O_RDWR);
	if (fd < 0 || fstat(fd, &st) || fsync(fd))
		goto fail;
	/* Clean pages only go: the fsync() above made them all clean. */
	err = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (!err)
		err = posix_fadvise(fd, 0, 0, seq ? POSIX_FADV_SEQUENTIAL :
						    POSIX_FADV_RANDOM);
	if (err) {
		errno = err;
		goto fail;
	}
	for (off = 0; off < st.st_size; off += chunk)
		if (pread(fd, buf, chunk, off) < 0)
			goto fail;
	close(fd);
	return 0;
fail:
	fprintf(stderr, "recache: %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return 1;
}

int main(int argc, char **argv)
{
	bool seq = argc > 1 && !strcmp(argv[1], "-s");
	int ret = 0;

	if (argc < 2 + seq) {
		fprintf(stderr, "usage: recache [-s] FILE...\n");
		return 2;
	}
	for (int i = 1 + seq; i < argc; i++)
		ret |= recache(argv[i], seq);
	return ret;
}

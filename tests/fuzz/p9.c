// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the 9P2000.L server (fs/p9.c and its ops) through its
 * dispatch entry point p9_server_handle(), as virtio/9p.c calls it, on a
 * session of messages from the input, against a fresh temporary export
 * each time (a file, a directory, a symlink pointing out of the export).
 * Besides the sanitizers it checks the server's promise: nothing outside
 * the export changes (a sentinel file next to it, and no new entries).
 *
 * Input: byte 0 picks how each request is split into iovecs (as a guest
 * may scatter it), byte 1 bit 0 a read-only export; then the messages,
 * each as long as its own size field says (clamped to what is left).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/p9.h"

#define RESP_SIZE	8192
#define SENTINEL	"do not touch\n"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static char base[64], export[96], sentinel[96];

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
			abort();
	} else if (unlinkat(dfd, name, 0)) {
		abort();
	}
}

/* The temporary directory goes when libFuzzer exit()s. */
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
	char p[160];

	if (!base[0]) {
		strcpy(base, "/tmp/lkvm-fuzz-p9.XXXXXX");
		if (!mkdtemp(base))
			abort();
		snprintf(export, sizeof(export), "%s/export", base);
		snprintf(sentinel, sizeof(sentinel), "%s/sentinel", base);
		write_file(sentinel, SENTINEL);
		atexit(cleanup);
	} else {
		rm_tree(AT_FDCWD, export);
	}
	if (mkdir(export, 0755))
		abort();
	snprintf(p, sizeof(p), "%s/file", export);
	write_file(p, "hello, 9p\n");
	snprintf(p, sizeof(p), "%s/dir", export);
	if (mkdir(p, 0755))
		abort();
	snprintf(p, sizeof(p), "%s/dir/inner", export);
	write_file(p, "inner\n");
	snprintf(p, sizeof(p), "%s/out", export);
	if (symlink("../sentinel", p))
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
		abort();
	len = read(fd, buf, sizeof(buf));
	close(fd);
	if (len != (ssize_t)strlen(SENTINEL) || memcmp(buf, SENTINEL, len))
		abort();
	d = opendir(base);
	if (!d)
		abort();
	while ((e = readdir(d)))
		n++;
	closedir(d);
	if (n != 4)		/* ., .., export, sentinel */
		abort();
}

static u32 le32(const u8 *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static u8 resp[RESP_SIZE];
	struct p9_opts opts = { 0 };
	struct p9_server *srv;
	struct iovec rq[3], rs[2];
	size_t off = 2, n, cut, reply;
	char err[256];
	unsigned int nreq;

	if (size < 2)
		return 0;
	fixture();
	opts.root = export;
	opts.readonly = data[1] & 1;
	opts.max_msize = RESP_SIZE;
	opts.max_fids = 64;
	if (p9_server_open(&opts, &srv, err, sizeof(err)))
		abort();
	while (off < size) {
		n = size - off;
		if (n >= 4 && le32(data + off) && le32(data + off) < n)
			n = le32(data + off);
		/* Scatter: up to three pieces, cut where byte 0 says. */
		cut = (data[0] & 15) < n ? data[0] & 15 : n;
		rq[0] = (struct iovec){ (void *)(data + off), cut };
		rq[1] = (struct iovec){ (void *)(data + off + cut), (n - cut) / 2 };
		rq[2] = (struct iovec){ (void *)(data + off + cut + rq[1].iov_len),
					n - cut - rq[1].iov_len };
		nreq = data[0] & 16 ? 3 : 1;
		if (nreq == 1)
			rq[0].iov_len = n;
		rs[0] = (struct iovec){ resp, (data[0] >> 5) * 7 + 1 };
		rs[1] = (struct iovec){ resp + rs[0].iov_len,
					RESP_SIZE - rs[0].iov_len };
		reply = p9_server_handle(srv, rq, nreq, n, rs, 2, RESP_SIZE);
		if (reply > RESP_SIZE || (reply >= 4 && le32(resp) != reply))
			abort();
		off += n;
	}
	p9_server_close(srv);
	check_outside();
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Drives the block backends (disk/) directly, without a guest, for the
 * tests in tests/disk/ and the benchmark:
 *
 *   disk-tool [-f raw|qcow2] [-r] [-D] [-b off|on|PATH] [-S LINK:TARGET]
 *             [-N] CMD ...
 *     -S: once the first backing file is open, and before its own
 *         backing file is looked up, LINK is made a symlink to TARGET
 *     -N: behave as if openat2() were missing (Linux before 5.6)
 *     info IMG                         format and size
 *     create IMG SIZE [CBITS VER ORDER] empty qcow2 (our own creator)
 *     gen SEED OFF LEN                 the pattern, on stdout
 *     write IMG OFF LEN SEED           pattern through the backend, in
 *                                      odd-sized iovecs
 *     writes IMG OFF:LEN:SEED...       the same, several in one session,
 *                                      one after the other (qcow2: later
 *                                      ones may run inline)
 *     read IMG OFF LEN                 backend read, to stdout
 *     put IMG OFF                      stdin (whole sectors) written
 *                                      through the backend, odd iovecs
 *     zero IMG OFF LEN / discard IMG OFF LEN
 *     fill IMG SEED                    write until the first error;
 *                                      prints "error <errno name>"
 *     crash-writer IMG LOG SEED NBLK   4 KiB writes in batches, each
 *                                      followed by FLUSH; runs until killed
 *     crash-verify IMG LOG NBLK        every write acknowledged before the
 *                                      last completed flush is there;
 *                                      rewrites LOG as a snapshot
 *     bench FILE rand4k|seqread|seqwrite SECONDS   host pread/pwrite
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lkvm/disk.h"
#include "lkvm/log.h"
#include "../../disk/qcow2.h"

#define BLK	4096

static struct disk_opts opts;
static char *swap_link, *swap_target;

/* -S: between the open of level 1 of the chain and the lookup of level 2. */
static void swap_hook(const struct disk *d, unsigned int depth)
{
	char tmp[4096];

	(void)d;
	if (depth != 1 || !swap_link)
		return;
	snprintf(tmp, sizeof(tmp), "%s.swap", swap_link);
	unlink(tmp);
	if (symlink(swap_target, tmp) || rename(tmp, swap_link)) {
		perror("disk-tool: -S");
		exit(1);
	}
	swap_link = NULL;
}

static long no_openat2(int dfd, const char *path, struct open_how *how,
		       size_t size)
{
	(void)dfd, (void)path, (void)how, (void)size;
	errno = ENOSYS;
	return -1;
}

static u64 mix(u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

/* Byte @o of the pattern for @seed: independent of how it was split. */
static void gen(u64 seed, u64 off, u8 *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		u64 o = off + i;

		buf[i] = (u8)(mix(seed * 0x9e3779b97f4a7c15ULL + (o >> 3)) >>
			      (8 * (o & 7)));
	}
}

static void done_cb(struct disk_req *req, int ret)
{
	req->ret = ret;
	*(int *)req->opaque -= 1;
}

/* Waits until *@pending drops to @upto, polling the disk's eventfd. */
static void wait_for(struct disk *d, int *pending, int upto)
{
	struct pollfd p = { .fd = d->event_fd, .events = POLLIN };

	while (*pending > upto) {
		poll(&p, 1, 1000);
		disk_poll(d);
	}
}

static int sync_req(struct disk *d, enum disk_op op, u64 off, u64 len,
		    const struct iovec *iov, unsigned int cnt)
{
	int pending = 1, ret;
	struct disk_req req = {
		.op = op, .offset = off, .len = len, .iov = iov,
		.iovcnt = cnt, .done = done_cb, .opaque = &pending,
	};

	ret = disk_submit(d, &req);
	if (ret)
		return ret;
	wait_for(d, &pending, 0);
	return req.ret;
}

static struct disk *open_disk(const char *path)
{
	struct disk *d;
	char err[256];
	int ret;

	opts.path = path;
	ret = disk_open(&opts, &d, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "disk-tool: %s: %s\n", path, err);
		exit(ret == -ENOENT ? 3 : 2);
	}
	return d;
}

/* Splits @buf into iovecs of 1000, 24, 3000, ... bytes: nothing aligned. */
static unsigned int odd_iov(u8 *buf, size_t len, struct iovec *iov,
			    unsigned int max)
{
	static const size_t sizes[] = { 1000, 24, 3000, 512, 7, 65536, 97 };
	unsigned int n = 0;
	size_t off = 0;

	while (off < len && n < max - 1) {
		size_t l = min_t(size_t, sizes[n % ARRAY_SIZE(sizes)], len - off);

		iov[n++] = (struct iovec){ buf + off, l };
		off += l;
	}
	if (off < len)
		iov[n++] = (struct iovec){ buf + off, len - off };
	return n;
}

/* The pattern of @seed at @off, written in odd-sized iovecs. */
static int write_pattern(struct disk *d, u64 off, u64 len, u64 seed)
{
	struct iovec iov[256];
	unsigned int n;
	u8 *buf = malloc(len ? len : 1);
	int ret;

	if (!buf)
		return -ENOMEM;
	gen(seed, off, buf, len);
	n = odd_iov(buf, len, iov, ARRAY_SIZE(iov));
	ret = sync_req(d, DISK_OP_WRITE, off, len, iov, n);
	free(buf);
	return ret;
}

/* write (with a seed), read, zero, discard: one request, then a flush. */
static int cmd_rw(char **argv, enum disk_op op)
{
	u64 off = strtoull(argv[1], NULL, 0), len = strtoull(argv[2], NULL, 0);
	struct disk *d = open_disk(argv[0]);
	struct iovec iov[256];
	unsigned int n = 0;
	u8 *buf = NULL;
	int ret;

	if (op == DISK_OP_WRITE) {
		ret = write_pattern(d, off, len, strtoull(argv[3], NULL, 0));
	} else {
		if (op == DISK_OP_READ) {
			buf = malloc(len ? len : 1);
			if (!buf)
				return 1;
			n = odd_iov(buf, len, iov, ARRAY_SIZE(iov));
		}
		ret = sync_req(d, op, off, len, iov, n);
	}
	if (!ret && op != DISK_OP_READ)
		ret = sync_req(d, DISK_OP_FLUSH, 0, 0, NULL, 0);
	if (!ret && op == DISK_OP_READ && fwrite(buf, 1, len, stdout) != len)
		ret = -EIO;
	if (ret)
		fprintf(stderr, "disk-tool: %s: %s\n", argv[0], strerror(-ret));
	free(buf);
	disk_close(d);
	return ret ? 1 : 0;
}

/* One write after another on one open disk, then a flush. */
static int cmd_writes(int argc, char **argv)
{
	struct disk *d = open_disk(argv[0]);
	int ret = 0;

	for (int i = 1; i < argc && !ret; i++) {
		unsigned long long off, len, seed;

		if (sscanf(argv[i], "%llu:%llu:%llu", &off, &len, &seed) != 3) {
			fprintf(stderr, "disk-tool: bad write %s\n", argv[i]);
			ret = -EINVAL;
			break;
		}
		ret = write_pattern(d, off, len, seed);
	}
	if (!ret)
		ret = sync_req(d, DISK_OP_FLUSH, 0, 0, NULL, 0);
	if (ret)
		fprintf(stderr, "disk-tool: %s: %s\n", argv[0], strerror(-ret));
	disk_close(d);
	return ret ? 1 : 0;
}

static int cmd_put(char **argv)
{
	u64 off = strtoull(argv[1], NULL, 0), len = 0, cap = 1 << 20;
	u8 *buf = malloc(cap);
	struct iovec iov[256];
	struct disk *d;
	unsigned int n;
	size_t got;
	int ret;

	while (buf && (got = fread(buf + len, 1, cap - len, stdin)) > 0) {
		len += got;
		if (len == cap)
			buf = realloc(buf, cap *= 2);
	}
	if (!buf || !len)
		return 2;
	d = open_disk(argv[0]);
	n = odd_iov(buf, len, iov, ARRAY_SIZE(iov));
	ret = sync_req(d, DISK_OP_WRITE, off, len, iov, n);
	if (!ret)
		ret = sync_req(d, DISK_OP_FLUSH, 0, 0, NULL, 0);
	if (ret)
		fprintf(stderr, "disk-tool: %s: %s\n", argv[0], strerror(-ret));
	free(buf);
	disk_close(d);
	return ret ? 1 : 0;
}

static int cmd_fill(char **argv)
{
	struct disk *d = open_disk(argv[0]);
	u64 seed = strtoull(argv[1], NULL, 0);
	static u8 buf[1 << 20];
	struct iovec iov = { buf, 0 };
	int ret = 0;

	for (u64 off = 0; off < d->size && !ret; off += iov.iov_len) {
		iov.iov_len = min_t(u64, sizeof(buf), d->size - off);
		gen(seed, off, buf, iov.iov_len);
		ret = sync_req(d, DISK_OP_WRITE, off, 0, &iov, 1);
	}
	if (!ret)
		ret = sync_req(d, DISK_OP_FLUSH, 0, 0, NULL, 0);
	printf("%s %s\n", ret ? "error" : "ok", ret ? strerrorname_np(-ret) : "");
	/* The disk must still work after the error: read sector 0. */
	iov.iov_len = 512;
	printf("read after: %s\n",
	       sync_req(d, DISK_OP_READ, 0, 0, &iov, 1) ? "failed" : "ok");
	disk_close(d);
	return 0;
}

/* A crash-test block: who wrote it, then a pattern derived from that. */
static void blk_fill(u8 *b, u32 blk, u64 g)
{
	memcpy(b, "LKVB", 4);
	memcpy(b + 4, &blk, 4);
	memcpy(b + 8, &g, 8);
	gen(g, (u64)blk * BLK, b + 16, BLK - 16);
}

static void log_line(int fd, const char *fmt, u32 blk, u64 g)
{
	char line[64];
	int n = snprintf(line, sizeof(line), fmt, blk, (unsigned long long)g);

	if (write(fd, line, (size_t)n) != n)
		exit(1);
}

static int cmd_crash_writer(char **argv)
{
	struct disk *d = open_disk(argv[0]);
	int lfd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0644);
	u64 seed = strtoull(argv[2], NULL, 0), g = seed << 32;
	u32 nblk = (u32)strtoul(argv[3], NULL, 0);
	static u8 bufs[16][BLK];
	struct disk_req reqs[16];
	struct iovec iov[16];
	int pending;

	if (lfd < 0 || !nblk || (u64)nblk * BLK > d->size)
		return 2;
	srandom((unsigned int)seed);
	for (;;) {
		unsigned int n = 1 + (unsigned int)(random() % 16);

		pending = (int)n;
		for (unsigned int i = 0; i < n; i++) {
			u32 blk = (u32)(random() % nblk);

			g++;
			blk_fill(bufs[i], blk, g);
			iov[i] = (struct iovec){ bufs[i], BLK };
			reqs[i] = (struct disk_req){
				.op = DISK_OP_WRITE, .offset = (u64)blk * BLK,
				.iov = &iov[i], .iovcnt = 1, .done = done_cb,
				.opaque = &pending,
			};
			/* Logged before submission: it may land from now on. */
			log_line(lfd, "W %u %llu\n", blk, g);
			if (disk_submit(d, &reqs[i]))
				return 1;
		}
		wait_for(d, &pending, 0);
		for (unsigned int i = 0; i < n; i++)
			if (reqs[i].ret)
				return 1;
		if (sync_req(d, DISK_OP_FLUSH, 0, 0, NULL, 0))
			return 1;
		log_line(lfd, "F\n", 0, 0);
	}
}

struct blk_state {
	u64 durable;		/* must be there unless overwritten later */
	u64 *maybe;		/* written after the last flush */
	unsigned int nmaybe;
};

static int cmd_crash_verify(char **argv)
{
	u32 nblk = (u32)strtoul(argv[2], NULL, 0), blk;
	struct blk_state *st = calloc(nblk, sizeof(*st));
	struct disk *d = open_disk(argv[0]);
	unsigned long long g;
	char line[128];
	u8 buf[BLK], want[BLK];
	int bad = 0;
	FILE *f = fopen(argv[1], "r");

	if (!st || !f)
		return 2;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == 'F') {
			for (u32 b = 0; b < nblk; b++) {
				if (st[b].nmaybe)
					st[b].durable = st[b].maybe[st[b].nmaybe - 1];
				st[b].nmaybe = 0;
			}
		} else if (sscanf(line, "W %u %llu", &blk, &g) == 2 && blk < nblk) {
			st[blk].maybe = realloc(st[blk].maybe,
				(st[blk].nmaybe + 1) * sizeof(u64));
			st[blk].maybe[st[blk].nmaybe++] = g;
		}
	}
	fclose(f);
	f = fopen(argv[1], "w");
	for (blk = 0; blk < nblk; blk++) {
		struct iovec iov = { buf, BLK };
		bool okay = false;
		u64 got = 0;

		if (sync_req(d, DISK_OP_READ, (u64)blk * BLK, 0, &iov, 1)) {
			printf("block %u: read error\n", blk);
			bad++;
			continue;
		}
		if (memcmp(buf, "LKVB", 4)) {
			memset(want, 0, BLK);
			okay = !memcmp(buf, want, BLK) && st[blk].durable == 0;
		} else {
			memcpy(&got, buf + 8, 8);
			blk_fill(want, blk, got);
			okay = !memcmp(buf, want, BLK) && got == st[blk].durable;
		}
		for (unsigned int i = 0; !okay && i < st[blk].nmaybe; i++)
			okay = got && got == st[blk].maybe[i] &&
			       !memcmp(buf, want, BLK);
		if (!okay) {
			printf("block %u: has gen %llu, durable %llu (+%u later)\n",
			       blk, (unsigned long long)got,
			       (unsigned long long)st[blk].durable,
			       st[blk].nmaybe);
			bad++;
		}
		/* Snapshot for the next round (SIGKILL keeps the page cache). */
		if (f && got)
			fprintf(f, "W %u %llu\n", blk, (unsigned long long)got);
		free(st[blk].maybe);
	}
	if (f) {
		fprintf(f, "F\n");
		fclose(f);
	}
	free(st);
	disk_close(d);
	printf("%s: %d bad blocks\n", bad ? "FAIL" : "ok", bad);
	return bad ? 1 : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The host's own figures on the same file, for the benchmark. */
static int cmd_bench(char **argv)
{
	int fd = open(argv[0], O_RDWR | (opts.direct ? O_DIRECT : 0));
	double secs = atof(argv[2]), t0 = now(), t;
	bool rnd = !strcmp(argv[1], "rand4k");
	bool wr = !strcmp(argv[1], "seqwrite");
	size_t bs = rnd ? 4096 : 1 << 20;
	off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : 0;
	u64 ops = 0, off = 0;
	void *buf = aligned_alloc(4096, bs);

	if (fd < 0 || !buf || size < (off_t)bs)
		return 2;
	memset(buf, 0x5a, bs);
	srandom(1);
	do {
		if (rnd)
			off = (u64)(random() % (size / 4096)) * 4096;
		else if (off + bs > (u64)size)
			off = 0;
		if ((wr ? pwrite(fd, buf, bs, (off_t)off) :
			  pread(fd, buf, bs, (off_t)off)) != (ssize_t)bs)
			return 1;
		if (!rnd)
			off += bs;
		ops++;
	} while ((t = now() - t0) < secs);
	if (wr)
		fdatasync(fd);
	t = now() - t0;
	printf("%s: %.0f IOPS %.1f MB/s\n", argv[1], ops / t,
	       ops * bs / t / 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	int c;

	log_level = LOG_ERROR;
	while ((c = getopt(argc, argv, "f:rDb:S:N")) != -1) {
		switch (c) {
		case 'S':
			swap_link = optarg;
			swap_target = strchr(optarg, ':');
			if (!swap_target)
				return 2;
			*swap_target++ = '\0';
			qcow2_backing_hook = swap_hook;
			break;
		case 'N':
			qcow2_openat2 = no_openat2;
			break;
		case 'b':
			if (disk_parse_backing(optarg, &opts.backing,
					       &opts.backing_path))
				return 2;
			break;
		case 'f':
			if (disk_parse_format(optarg, &opts.format))
				return 2;
			break;
		case 'r':
			opts.readonly = true;
			break;
		case 'D':
			opts.direct = true;
			break;
		default:
			return 2;
		}
	}
	argv += optind;
	argc -= optind;
	if (argc < 2)
		goto usage;
	if (!strcmp(argv[0], "info") && argc == 2) {
		struct disk *d = open_disk(argv[1]);

		printf("format %s size %llu block %u\n",
		       disk_format_name(d->format),
		       (unsigned long long)d->size, d->block_size);
		disk_close(d);
		return 0;
	}
	if (!strcmp(argv[0], "create") && (argc == 3 || argc == 6)) {
		int ret = qcow2_create(argv[1], strtoull(argv[2], NULL, 0),
				       argc == 6 ? atoi(argv[3]) : 16,
				       argc == 6 ? atoi(argv[4]) : 3,
				       argc == 6 ? atoi(argv[5]) : 4);

		if (ret)
			fprintf(stderr, "create: %s\n", strerror(-ret));
		return ret ? 1 : 0;
	}
	if (!strcmp(argv[0], "gen") && argc == 4) {
		u64 len = strtoull(argv[3], NULL, 0);
		u8 *buf = malloc(len ? len : 1);

		int ret;

		if (!buf)
			return 1;
		gen(strtoull(argv[1], NULL, 0), strtoull(argv[2], NULL, 0),
		    buf, len);
		ret = fwrite(buf, 1, len, stdout) == len ? 0 : 1;
		free(buf);
		return ret;
	}
	if (!strcmp(argv[0], "write") && argc == 5)
		return cmd_rw(argv + 1, DISK_OP_WRITE);
	if (!strcmp(argv[0], "writes") && argc >= 3)
		return cmd_writes(argc - 1, argv + 1);
	if (!strcmp(argv[0], "read") && argc == 4)
		return cmd_rw(argv + 1, DISK_OP_READ);
	if (!strcmp(argv[0], "zero") && argc == 4)
		return cmd_rw(argv + 1, DISK_OP_WRITE_ZEROES);
	if (!strcmp(argv[0], "discard") && argc == 4)
		return cmd_rw(argv + 1, DISK_OP_DISCARD);
	if (!strcmp(argv[0], "put") && argc == 3)
		return cmd_put(argv + 1);
	if (!strcmp(argv[0], "fill") && argc == 3)
		return cmd_fill(argv + 1);
	if (!strcmp(argv[0], "crash-writer") && argc == 5)
		return cmd_crash_writer(argv + 1);
	if (!strcmp(argv[0], "crash-verify") && argc == 4)
		return cmd_crash_verify(argv + 1);
	if (!strcmp(argv[0], "bench") && argc == 4)
		return cmd_bench(argv + 1);
usage:
	fprintf(stderr, "usage: see tests/disk/disk-tool.c\n");
	return 2;
}

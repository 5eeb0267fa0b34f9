// SPDX-License-Identifier: GPL-2.0
/*
 * qcow2 metadata: the L2 cache (hits, LRU eviction, load errors),
 * refcount entries of every width, request splitting at cluster
 * boundaries, and cluster allocation through the backend on a
 * 512-byte-cluster image, where new refcount blocks are needed early:
 * afterwards every cluster of the file is counted exactly once.  And
 * hostile images whose L1, L2 or refcount table entries point at the
 * image's own metadata: every such write is -EIO and leaves the file
 * byte for byte as it was.  Writes across clusters that follow each
 * other in the file, and such a run that meets metadata.  Requests run
 * on the submitting thread: when they wake event_fd.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../disk/qcow2.h"
#include "disk-io.h"
#include "readable.h"
#include "tap.h"

static unsigned int loads;
static int load_err;

static int fake_load(void *ctx __unused, u64 off, void *buf, size_t len)
{
	loads++;
	if (load_err)
		return load_err;
	memset(buf, (int)(off >> 9), len);
	return 0;
}

static void test_cache(void)
{
	struct qcow2_l2_cache c;
	u64 *t;
	int err = 0;

	ok(!qcow2_l2_cache_init(&c, 2, 512, fake_load, NULL), "cache init");
	t = qcow2_l2_cache_get(&c, 512, &err);
	ok(t && ((u8 *)t)[0] == 1 && loads == 1, "miss loads the table");
	t = qcow2_l2_cache_get(&c, 512, &err);
	ok(t && loads == 1 && c.hits == 1, "hit does not load");
	qcow2_l2_cache_get(&c, 1024, &err);
	qcow2_l2_cache_get(&c, 512, &err);	/* 1024 is now LRU */
	qcow2_l2_cache_get(&c, 1536, &err);	/* evicts 1024 */
	loads = 0;
	qcow2_l2_cache_get(&c, 512, &err);
	ok(loads == 0, "recently used table survives eviction");
	qcow2_l2_cache_get(&c, 1024, &err);
	ok(loads == 1, "least recently used table was evicted");
	load_err = -EIO;
	t = qcow2_l2_cache_get(&c, 4096, &err);
	ok(!t && err == -EIO, "load error reported");
	load_err = 0;
	loads = 0;
	qcow2_l2_cache_get(&c, 4096, &err);
	ok(loads == 1, "failed load is not cached");
	t = qcow2_l2_cache_new(&c, 8192);
	ok(t && !t[0] && qcow2_l2_cache_get(&c, 8192, &err) == t,
	   "new table: zeroed, found without loading");
	qcow2_l2_cache_drop(&c, 8192);
	loads = 0;
	qcow2_l2_cache_get(&c, 8192, &err);
	ok(loads == 1, "dropped table is loaded again");
	qcow2_l2_cache_free(&c);
}

static void test_refcounts(void)
{
	u8 block[512];
	bool good = true;

	for (unsigned int order = 0; order <= 6; order++) {
		u64 max = order == 6 ? ~0ULL : (1ULL << (1U << order)) - 1;
		unsigned int n = (512 * 8) >> order;

		memset(block, 0, sizeof(block));
		for (unsigned int i = 0; i < n; i++)
			qcow2_refcount_set(block, i, order, (i * 7 + 1) & max);
		for (unsigned int i = 0; i < n; i++)
			good &= qcow2_refcount_get(block, i, order) ==
				((i * 7 + 1) & max);
		qcow2_refcount_set(block, 3, order, max);
		good &= qcow2_refcount_get(block, 3, order) == max &&
			qcow2_refcount_get(block, 2, order) == ((2 * 7 + 1) & max) &&
			qcow2_refcount_get(block, 4, order) == ((4 * 7 + 1) & max);
	}
	ok(good, "refcount get/set, widths 1..64 bits, neighbours intact");
	memset(block, 0, sizeof(block));
	qcow2_refcount_set(block, 0, 4, 1);
	ok(block[0] == 0 && block[1] == 1, "16-bit refcounts are big-endian");
	qcow2_refcount_set(block, 1, 0, 1);
	ok(block[0] == 2, "1-bit refcounts fill from the least significant bit");
}

static void test_chunks(void)
{
	ok(qcow2_chunk(0, 1 << 20, 16) == 65536, "chunk: whole cluster");
	ok(qcow2_chunk(65024, 1024, 16) == 512, "chunk: stops at the boundary");
	ok(qcow2_chunk(65536, 512, 16) == 512, "chunk: short request");
	ok(qcow2_chunk(511, 10, 9) == 1, "chunk: 512-byte clusters");
}

static void test_alloc(void)
{
	char path[] = "/tmp/lkvm-test-qcow2-XXXXXX";
	struct disk_opts o = { .path = path, .format = DISK_FORMAT_QCOW2 };
	static u8 wbuf[256 * 1024], rbuf[sizeof(wbuf)];
	u64 rt, fsize, counted = 0, wrong = 0;
	struct disk *d;
	char err[256];
	int fd = mkstemp(path), ret;

	close(fd);
	ok(!qcow2_create(path, 64 << 20, 9, 3, 4), "create: 512-byte clusters");
	ret = disk_open(&o, &d, err, sizeof(err));
	ok(!ret, "open: %s", ret ? err : "ok");
	if (ret)
		return;
	for (size_t i = 0; i < sizeof(wbuf); i++)
		wbuf[i] = (u8)(i * 13 + i / 512);
	/* 513 clusters from an odd sector: new L2 tables and refblocks. */
	ok(!disk_io(d, DISK_OP_WRITE, 512 * 1001, wbuf, sizeof(wbuf)),
	   "write spanning 513 clusters, split iovecs");
	ok(!disk_io(d, DISK_OP_READ, 512 * 1001, rbuf, sizeof(rbuf)) &&
	   !memcmp(wbuf, rbuf, sizeof(wbuf)), "read back the same");
	ok(!disk_io(d, DISK_OP_READ, 512 * 1000, rbuf, 1024) &&
	   !rbuf[0] && !rbuf[511] && rbuf[512] == wbuf[0],
	   "unallocated neighbour reads as zeros");
	/* Beyond 8 MiB of file the one refcount-table cluster is full. */
	ret = 0;
	for (u64 off = 0; !ret && off < (32 << 20); off += sizeof(wbuf))
		ret = disk_io(d, DISK_OP_WRITE, off, wbuf, sizeof(wbuf));
	ok(ret == -ENOSPC, "refcount table full: -ENOSPC, not corruption (%d)", ret);
	ok(!disk_io(d, DISK_OP_FLUSH, 0, NULL, 0), "flush");
	disk_close(d);

	/* Walk the refcount table: every cluster in the file counted once. */
	fd = open(path, O_RDONLY);
	rt = file_be64(fd, 48);
	fsize = (u64)lseek(fd, 0, SEEK_END);
	for (u64 c = 0; c < (fsize + 511) / 512; c++) {
		u64 rb = file_be64(fd, rt + (c / 256) * 8);
		u16 v = 0;

		if (rb && pread(fd, &v, 2, (off_t)(rb + (c % 256) * 2)) == 2 &&
		    be16toh(v) == 1)
			counted++;
		else
			wrong++;
	}
	ok(!wrong && counted == 16384,
	   "every cluster of the file has refcount 1 (%llu, %llu wrong)",
	   (unsigned long long)counted, (unsigned long long)wrong);
	close(fd);
	unlink(path);
}

#define CS	65536ULL

static void put64(int fd, u64 off, u64 v)
{
	v = htobe64(v);
	if (pwrite(fd, &v, 8, (off_t)off) != 8)
		abort();
}

static u8 *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	off_t n = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
	u8 *buf = n > 0 ? malloc((size_t)n) : NULL;

	if (!buf || pread(fd, buf, (size_t)n, 0) != n)
		abort();
	close(fd);
	*len = (size_t)n;
	return buf;
}

/*
 * Our creator's layout, 64 KiB clusters: 0 header, 1 refcount table,
 * 2 refcount block, 3 L1; one write of virtual cluster 0 then puts its
 * data at 4 and the L2 table at 5.  @patch then makes it hostile; a write
 * of @len bytes at virtual @voff must fail with -EIO and change nothing.
 */
static void overlap_case(const char *name, void (*patch)(int fd), u64 voff,
			 u64 len)
{
	char path[] = "/tmp/lkvm-test-overlap-XXXXXX";
	struct disk_opts o = { .path = path, .format = DISK_FORMAT_QCOW2 };
	static u8 buf[CS];
	size_t n1, n2;
	u8 *before, *after;
	struct disk *d;
	char err[256];
	int fd = mkstemp(path), ret;

	close(fd);
	memset(buf, 0xa5, sizeof(buf));
	if (qcow2_create(path, 4 << 20, 16, 3, 4) ||
	    disk_open(&o, &d, err, sizeof(err))) {
		ok(0, "%s: setup", name);
		return;
	}
	ret = disk_io(d, DISK_OP_WRITE, 0, buf, CS);
	disk_close(d);
	fd = open(path, O_RDWR);
	if (ret || fd < 0 || file_be64(fd, 3 * CS) != (5 * CS | QCOW2_OFLAG_COPIED) ||
	    file_be64(fd, 5 * CS) != (4 * CS | QCOW2_OFLAG_COPIED)) {
		ok(0, "%s: layout as expected", name);
		return;
	}
	patch(fd);
	close(fd);
	before = slurp(path, &n1);
	memset(buf, 0x5a, sizeof(buf));	/* differs from what is there */
	ret = disk_open(&o, &d, err, sizeof(err));
	if (!ret) {
		ret = disk_io(d, DISK_OP_WRITE, voff, buf, len);
		disk_close(d);
	} else {
		diag("open: %s", err);
	}
	after = slurp(path, &n2);
	ok(ret == -EIO && n1 == n2 && !memcmp(before, after, n1),
	   "%s: -EIO, image unchanged (%d, %s)", name, ret,
	   n1 == n2 && !memcmp(before, after, n1) ? "same" : "CHANGED");
	free(before);
	free(after);
	unlink(path);
}

/* L2 data entries pointing at metadata, written in place. */
static void l2_to_refblock(int fd) { put64(fd, 5 * CS, 2 * CS | QCOW2_OFLAG_COPIED); }
static void l2_to_l2(int fd) { put64(fd, 5 * CS, 5 * CS | QCOW2_OFLAG_COPIED); }
static void l2_to_rt(int fd) { put64(fd, 5 * CS, 1 * CS | QCOW2_OFLAG_COPIED); }
/* An L1 entry naming the refcount block as an L2 table. */
static void l1_to_refblock(int fd) { put64(fd, 3 * CS, 2 * CS | QCOW2_OFLAG_COPIED); }
/* A refcount table entry naming the L2 table as a refcount block. */
static void rt_to_l2(int fd) { put64(fd, 1 * CS, 5 * CS); }

/* Compressed cluster, one sector at @off: x = 62 - (16 - 8). */
static u64 compressed(u64 off)
{
	return QCOW2_OFLAG_COMPRESSED | off;
}
static void comp_in_rt(int fd) { put64(fd, 5 * CS, compressed(1 * CS + 512)); }
static void comp_in_l1(int fd) { put64(fd, 5 * CS, compressed(3 * CS)); }
static void comp_in_header(int fd) { put64(fd, 5 * CS, compressed(1024)); }
static void comp_in_refblock(int fd) { put64(fd, 5 * CS, compressed(2 * CS)); }
/* Cluster 0's data cluster (4) is also virtual cluster 1's compressed data. */
static void data_in_comp(int fd) { put64(fd, 5 * CS + 8, compressed(4 * CS + 512)); }

/*
 * An L1 entry naming a cluster past the end of the file is refused, but
 * the file grows: once that cluster is a guest data cluster the entry
 * must still not turn guest data into an L2 table, or the guest writes
 * its own L2 entries and lkvm writes metadata into guest data.
 */
static void test_l1_past_end(void)
{
	char path[] = "/tmp/lkvm-test-overlap-XXXXXX";
	struct disk_opts o = { .path = path, .format = DISK_FORMAT_QCOW2 };
	static u8 buf[CS];
	u64 l2_span = CS / 8 * CS;	/* one L2 table maps 512 MiB */
	struct disk *d;
	char err[256];
	int fd = mkstemp(path), ret, ret2;

	close(fd);
	memset(buf, 0xa5, sizeof(buf));
	if (qcow2_create(path, 2 * l2_span, 16, 3, 4) ||
	    disk_open(&o, &d, err, sizeof(err))) {
		ok(0, "L1 past the end: setup");
		return;
	}
	ret = disk_io(d, DISK_OP_WRITE, 0, buf, CS);
	disk_close(d);
	fd = open(path, O_RDWR);
	if (ret || fd < 0 || lseek(fd, 0, SEEK_END) != 6 * CS) {
		ok(0, "L1 past the end: layout as expected");
		return;
	}
	/* Cluster 6 is where the next data cluster goes. */
	put64(fd, 3 * CS + 8, 6 * CS | QCOW2_OFLAG_COPIED);
	close(fd);
	ret = disk_open(&o, &d, err, sizeof(err));
	if (ret) {
		ok(0, "L1 past the end: open: %s", err);
		return;
	}
	/* Guest data for a would-be L2 table: entry 0 -> data cluster 4. */
	memset(buf, 0, sizeof(buf));
	*(u64 *)buf = htobe64(4 * CS | QCOW2_OFLAG_COPIED);
	ret = disk_io(d, DISK_OP_WRITE, CS, buf, CS);	/* lands at cluster 6 */
	memset(buf, 0x5a, sizeof(buf));
	ret2 = disk_io(d, DISK_OP_WRITE, l2_span, buf, 4096);
	disk_close(d);
	ok(!ret && ret2 == -EIO,
	   "L1 entry -> cluster allocated after open as data: -EIO (%d, %d)",
	   ret, ret2);
	unlink(path);
}

/*
 * An L2 entry naming a cluster past the end of the file: the cluster
 * lkvm appends next must not be that one, or writing one virtual cluster
 * changes another (and dropping the entry's reference frees a cluster
 * still in use).
 */
static void test_l2_past_end(void)
{
	char path[] = "/tmp/lkvm-test-overlap-XXXXXX";
	struct disk_opts o = { .path = path, .format = DISK_FORMAT_QCOW2 };
	static u8 a[CS], b[CS], got[CS];
	struct disk *d;
	char err[256];
	int fd = mkstemp(path), r1, r2, r3;

	close(fd);
	memset(a, 0xa5, sizeof(a));
	memset(b, 0x5a, sizeof(b));
	if (qcow2_create(path, 4 << 20, 16, 3, 4) ||
	    disk_open(&o, &d, err, sizeof(err))) {
		ok(0, "L2 past the end: setup");
		return;
	}
	r1 = disk_io(d, DISK_OP_WRITE, 0, a, CS);
	disk_close(d);
	fd = open(path, O_RDWR);
	if (r1 || fd < 0 || lseek(fd, 0, SEEK_END) != 6 * CS) {
		ok(0, "L2 past the end: layout as expected");
		return;
	}
	/* Virtual cluster 1 -> cluster 6, where the next data goes. */
	put64(fd, 5 * CS + 8, 6 * CS | QCOW2_OFLAG_COPIED);
	close(fd);
	if (disk_open(&o, &d, err, sizeof(err))) {
		ok(0, "L2 past the end: open: %s", err);
		return;
	}
	r1 = disk_io(d, DISK_OP_WRITE, 2 * CS, a, CS);	/* appends */
	r2 = disk_io(d, DISK_OP_WRITE, CS, b, CS);		/* via the entry */
	r3 = disk_io(d, DISK_OP_READ, 2 * CS, got, CS);
	disk_close(d);
	ok(!r1 && !r3 && !memcmp(got, a, CS),
	   "L2 entry past the end: a new cluster never goes there (%d, %d, %d, %s)",
	   r1, r2, r3, memcmp(got, a, CS) ? "CHANGED" : "same");
	unlink(path);
}

/* @len bytes of the file at @off all equal to @c. */
static bool file_is(int fd, u64 off, u64 len, u8 c)
{
	static u8 b[CS];

	for (u64 i = 0; i < len; i += CS)
		if (pread(fd, b, CS, (off_t)(off + i)) != (ssize_t)CS ||
		    !all_are(b, c, CS))
			return false;
	return true;
}

/*
 * Clusters that follow each other in the file take one write together
 * (normal_run()): the data lands in every cluster of the run, from any
 * offset in the first; and a run stops at a cluster that is metadata,
 * which the write of the cluster before it must not reach.
 */
static void test_write_run(void)
{
	char path[] = "/tmp/lkvm-test-run-XXXXXX";
	struct disk_opts o = { .path = path, .format = DISK_FORMAT_QCOW2 };
	static u8 buf[3 * CS], rbuf[3 * CS];
	struct disk *d;
	char err[256];
	int fd = mkstemp(path), ret = 0;
	bool same;

	close(fd);
	/* Virtual 0 -> host 4, the L2 table at 5; virtual 1..3 -> 6..8. */
	if (qcow2_create(path, 4 << 20, 16, 3, 4) ||
	    disk_open(&o, &d, err, sizeof(err))) {
		ok(0, "write run: setup");
		return;
	}
	for (u64 i = 0; i < 4 && !ret; i++) {
		memset(buf, 0x11, CS);
		ret = disk_io(d, DISK_OP_WRITE, i * CS, buf, CS);
	}
	memset(buf, 0x33, sizeof(buf));
	ret = ret ?: disk_io(d, DISK_OP_WRITE, CS, buf, 3 * CS);
	ret = ret ?: disk_io(d, DISK_OP_READ, CS, rbuf, 3 * CS);
	fd = open(path, O_RDWR);
	ok(!ret && !memcmp(rbuf, buf, 3 * CS) && fd >= 0 &&
	   file_be64(fd, 5 * CS + 8) == (6 * CS | QCOW2_OFLAG_COPIED) &&
	   file_be64(fd, 5 * CS + 24) == (8 * CS | QCOW2_OFLAG_COPIED) &&
	   file_is(fd, 6 * CS, 3 * CS, 0x33),
	   "write run: three clusters in one request, each in place (%d)", ret);
	memset(buf, 0x44, sizeof(buf));
	ret = disk_io(d, DISK_OP_WRITE, CS + 512, buf, 2 * CS);
	ret = ret ?: disk_io(d, DISK_OP_READ, CS, rbuf, 3 * CS);
	ok(!ret && all_are(rbuf, 0x33, 512) &&
	   all_are(rbuf + 512, 0x44, 2 * CS) &&
	   all_are(rbuf + 512 + 2 * CS, 0x33, CS - 512),
	   "write run: from inside the first cluster to inside the third");
	disk_close(d);

	/* Virtual 1 -> host 5: right after 0's data, and the L2 table. */
	put64(fd, 5 * CS + 8, 5 * CS | QCOW2_OFLAG_COPIED);
	if (pread(fd, rbuf, CS, 5 * CS) != (ssize_t)CS)
		abort();
	memset(buf, 0x55, sizeof(buf));
	ret = disk_open(&o, &d, err, sizeof(err));
	if (!ret) {
		ret = disk_io(d, DISK_OP_WRITE, 0, buf, 2 * CS);
		disk_close(d);
	}
	same = pread(fd, buf, CS, 5 * CS) == (ssize_t)CS &&
	       !memcmp(buf, rbuf, CS);
	ok(ret == -EIO && same,
	   "write run: stops at an L2 table, -EIO (%d), the table %s", ret,
	   same ? "unchanged" : "OVERWRITTEN");
	close(fd);
	unlink(path);
}

/*
 * A request the submitting thread finishes itself (the worker idle, the
 * L2 table and the data cached) wakes event_fd only where the submitter
 * does not collect completions after its batch anyway
 * (disk->poll_after_submit).
 */
static void test_inline_wake(void)
{
	char path[] = "/tmp/lkvm-test-inline-XXXXXX";
	struct disk_opts o = { .path = path, .format = DISK_FORMAT_QCOW2 };
	static u8 buf[CS];
	struct iovec iov = { buf, 4096 };
	int fin = 0, fd = mkstemp(path);
	struct disk_req r = { .op = DISK_OP_READ, .iov = &iov, .iovcnt = 1,
			      .done = disk_io_done, .opaque = &fin };
	struct disk *d;
	char err[256];
	bool woke;
	u64 cnt;
	int ret;

	close(fd);
	memset(buf, 0x77, sizeof(buf));
	if (qcow2_create(path, 4 << 20, 16, 3, 4) ||
	    disk_open(&o, &d, err, sizeof(err))) {
		ok(0, "inline: setup");
		ok(0, "inline: setup");
		return;
	}
	/* Allocating: the worker's; afterwards all of it is cached. */
	if (disk_io(d, DISK_OP_WRITE, 0, buf, CS))
		diag("inline: first write failed");
	while (read(d->event_fd, &cnt, sizeof(cnt)) == sizeof(cnt))
		;
	d->poll_after_submit = true;
	memset(buf, 0, sizeof(buf));
	ret = disk_submit(d, &r);
	woke = fd_readable(d->event_fd, 0);
	disk_poll_submitted(d);
	ok(!ret && !woke && fin && !r.ret && buf[0] == 0x77 &&
	   buf[4095] == 0x77,
	   "inline read, poll_after_submit: no wake-up, collected after the batch");
	d->poll_after_submit = false;
	fin = 0;
	ret = disk_submit(d, &r);
	/* A cap for a hang, not a timing assertion. */
	woke = fd_readable(d->event_fd, 60000);
	disk_poll(d);
	ok(!ret && woke && fin && !r.ret,
	   "inline read otherwise: event_fd wakes the loop");
	disk_close(d);
	unlink(path);
}

static void test_overlap(void)
{
	overlap_case("L2 entry -> refcount block", l2_to_refblock, 0, 4096);
	overlap_case("L2 entry -> its own L2 table", l2_to_l2, 0, 4096);
	overlap_case("L2 entry -> refcount table", l2_to_rt, 0, 4096);
	overlap_case("L1 entry -> refcount block as L2", l1_to_refblock, 0, 4096);
	overlap_case("refcount table entry -> L2 table", rt_to_l2, CS, 4096);
	/* Whole-cluster overwrites: nothing is read, the old one released. */
	overlap_case("compressed cluster in the refcount table", comp_in_rt, 0, CS);
	overlap_case("compressed cluster in the L1 table", comp_in_l1, 0, CS);
	overlap_case("compressed cluster in the header", comp_in_header, 0, CS);
	overlap_case("compressed cluster in a refcount block", comp_in_refblock, 0, CS);
	overlap_case("data cluster inside a compressed range", data_in_comp, 0, 4096);
	test_l1_past_end();
	test_l2_past_end();
	test_write_run();
}

int main(void)
{
	tap_plan(41);
	test_cache();
	test_refcounts();
	test_chunks();
	test_alloc();
	test_overlap();
	test_inline_wake();
	return tap_done();
}

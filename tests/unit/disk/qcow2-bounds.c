// SPDX-License-Identifier: GPL-2.0
/*
 * qcow2 resource bounds, measured as the test process's RSS around the
 * real disk_open()/disk_pread() path on images made by qemu-img:
 *  - the L2 cache: reading one sector behind each of 256 L2 tables of a
 *    sparse 256 GiB image keeps at most L2_CACHE_TABLES tables resident;
 *  - the list of clusters named past the end of the file: an image whose
 *    2048 L1 entries all share one L2 table naming 8192 clusters past
 *    the end (16 Mi entries, 128 MiB unbounded) is refused read-write at
 *    QCOW2_MAX_PAST, and RSS stays within that bound;
 *  - the metadata map (one byte per cluster up to the last metadata
 *    cluster): a 512-byte-cluster image whose sparse file is 64 GiB,
 *    with a refcount block named at its end (a 128 MiB map unbounded),
 *    is refused at QCOW2_MAX_META_CLUSTERS;
 *  - cluster size: qemu-img's largest (2 MiB) opens.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../disk/qcow2.h"
#include "tap.h"
#include "rss.h"

#define CS		65536ULL
#define SLACK_KIB	2048	/* malloc arenas, stdio, page tables */

static char dir[] = "/tmp/lkvm-qcow2-bounds-XXXXXX";
static char img[300];

static int sh(const char *cmd)
{
	int ret = system(cmd);

	if (ret)
		diag("'%.60s...' exited %d", cmd, ret);
	return ret;
}

static int open_img(bool ro, struct disk **d, char *err, size_t errlen)
{
	struct disk_opts o = {
		.path = img, .format = DISK_FORMAT_QCOW2, .readonly = ro,
	};

	return disk_open(&o, d, err, errlen);
}

/* 256 L2 tables, 1 GiB apart; then one read behind each, twice. */
static void l2_cache(void)
{
	char cmd[8192], err[256];
	size_t n = 0;
	struct disk *d;
	long before, peak;
	u8 buf[512];
	int bad = 0;

	n += snprintf(cmd + n, sizeof(cmd) - n,
		      "qemu-img create -q -f qcow2 -o cluster_size=%llu %s 256G && qemu-io -f qcow2",
		      CS, img);
	for (int i = 0; i < 256; i++)
		n += snprintf(cmd + n, sizeof(cmd) - n, " -c 'write -P %d %dG 512'",
			      i % 255 + 1, i);
	snprintf(cmd + n, sizeof(cmd) - n, " %s >/dev/null", img);
	if (sh(cmd)) {
		ok(1, "# SKIP qemu-img/qemu-io could not make the image");
		ok(1, "# SKIP");
		return;
	}
	if (open_img(true, &d, err, sizeof(err))) {
		ok(0, "open: %s", err);
		ok(0, "no reads");
		return;
	}
	before = rss_kib(0);
	hwm_reset();
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < 256; i++)
			if (disk_pread(d, buf, sizeof(buf), (u64)i << 30) ||
			    buf[0] != i % 255 + 1 || buf[511] != i % 255 + 1)
				bad++;
	peak = hwm_kib(0);
	is_int(bad, 0, "512 reads behind 256 different L2 tables");
	diag("L2 cache: RSS %ld KiB before, peak %ld KiB; budget %llu KiB",
	     before, peak, L2_CACHE_TABLES * CS / 1024 + SLACK_KIB);
	rss_within(peak - before, (long)(L2_CACHE_TABLES * CS / 1024 + SLACK_KIB),
		   "L2 cache: at most L2_CACHE_TABLES tables resident");
	disk_close(d);
}

static int pwrite_be64(int fd, u64 v, u64 off)
{
	v = htobe64(v);
	return pwrite(fd, &v, 8, (off_t)off) == 8 ? 0 : -1;
}

/*
 * A 1 TiB image (2048 L1 entries of 512 MiB each) whose L1 entries all
 * point at one L2 table appended to the file, every entry of which names
 * a cluster 1 TiB past the end.
 */
static int past_image(void)
{
	char cmd[600];
	u64 hdr[4], l1_off, end, *l2;
	u32 l1_size;
	int fd, ret = -1;

	snprintf(cmd, sizeof(cmd),
		 "qemu-img create -q -f qcow2 -o cluster_size=%llu %s 1T", CS, img);
	if (sh(cmd))
		return -1;
	fd = open(img, O_RDWR);
	if (fd < 0)
		return -1;
	if (pread(fd, hdr, sizeof(hdr), 32) != sizeof(hdr))
		goto out;
	l1_size = be32toh(((u32 *)hdr)[1]);	/* offset 36; 40 is l1_offset */
	l1_off = be64toh(hdr[1]);
	end = (u64)lseek(fd, 0, SEEK_END);
	end = (end + CS - 1) & ~(CS - 1);
	l2 = malloc(CS);
	if (!l2)
		goto out;
	for (u64 j = 0; j < CS / 8; j++)
		l2[j] = htobe64(((1ULL << 40) + j * CS) | QCOW2_OFLAG_COPIED);
	if (pwrite(fd, l2, CS, (off_t)end) != (ssize_t)CS) {
		free(l2);
		goto out;
	}
	free(l2);
	ret = 0;
	for (u32 i = 0; i < l1_size && !ret; i++)
		ret = pwrite_be64(fd, end | QCOW2_OFLAG_COPIED, l1_off + 8ULL * i);
	diag("past-end image: %u L1 entries sharing the L2 table at %llu",
	     l1_size, (unsigned long long)end);
out:
	close(fd);
	return ret;
}

static void past_end(void)
{
	char err[256];
	struct disk *d = NULL;
	long before, peak, budget = QCOW2_MAX_PAST * 8 / 1024 * 2 + SLACK_KIB;
	int ret;

	if (past_image()) {
		for (int i = 0; i < 3; i++)
			ok(1, "# SKIP could not make the past-end image");
		return;
	}
	before = rss_kib(0);
	hwm_reset();
	ret = open_img(false, &d, err, sizeof(err));
	peak = hwm_kib(0);
	diag("past-end: %d (%s); RSS %ld KiB before, peak %ld KiB; budget %ld KiB",
	     ret, ret ? err : "opened", before, peak, budget);
	ok(ret == -EFBIG && strstr(err, "past the end"),
	   "read-write open refused with a message naming the bound");
	if (!ret)
		disk_close(d);
	rss_within(peak - before, budget, "the past-end list stops at QCOW2_MAX_PAST");
	ret = open_img(true, &d, err, sizeof(err));
	ok(!ret, "read-only, the image opens (no list is kept)");
	if (!ret)
		disk_close(d);
}

/* A refcount table entry naming the last cluster of a 64 GiB sparse file. */
static int far_meta_image(void)
{
	char cmd[800];
	u64 rt_off, last = (64ULL << 30) - 512;
	u32 rt_clusters;
	u8 h[12];
	int fd, ret = -1;

	snprintf(cmd, sizeof(cmd),
		 "qemu-img create -q -f qcow2 -o cluster_size=512 %s 1G && truncate -s 64G %s",
		 img, img);
	if (sh(cmd))
		return -1;
	fd = open(img, O_RDWR);
	if (fd < 0)
		return -1;
	/* refcount_table_offset (u64) at 48, refcount_table_clusters at 56. */
	if (pread(fd, h, sizeof(h), 48) == sizeof(h)) {
		rt_off = be64toh(*(u64 *)h);
		rt_clusters = be32toh(*(u32 *)(h + 8));
		ret = pwrite_be64(fd, last, rt_off + rt_clusters * 512ULL - 8);
	}
	close(fd);
	return ret;
}

static void meta_map(void)
{
	char err[256];
	struct disk *d = NULL;
	long before, peak, budget = QCOW2_MAX_META_CLUSTERS / 1024 + SLACK_KIB;
	int ret;

	if (far_meta_image()) {
		ok(1, "# SKIP could not make the sparse image");
		ok(1, "# SKIP");
		return;
	}
	before = rss_kib(0);
	hwm_reset();
	ret = open_img(true, &d, err, sizeof(err));
	peak = hwm_kib(0);
	diag("meta map: %d (%s); RSS %ld KiB before, peak %ld KiB",
	     ret, ret ? err : "opened", before, peak);
	ok(ret == -EFBIG && strstr(err, "clusters"),
	   "metadata past QCOW2_MAX_META_CLUSTERS: open refused, says why");
	if (!ret)
		disk_close(d);
	rss_within(peak - before, budget,
		   "the metadata map stops at QCOW2_MAX_META_CLUSTERS bytes");
}

static void cluster_size(void)
{
	char cmd[600], err[256];
	struct disk *d;
	int ret;

	snprintf(cmd, sizeof(cmd),
		 "qemu-img create -q -f qcow2 -o cluster_size=2M %s 1G", img);
	if (sh(cmd)) {
		ok(1, "# SKIP qemu-img");
		return;
	}
	ret = open_img(true, &d, err, sizeof(err));
	ok(!ret, "2 MiB clusters (QCOW2_MAX_CLUSTER_BITS 21) open");
	if (!ret)
		disk_close(d);
}

int main(void)
{
	tap_plan(8);
	if (!mkdtemp(dir)) {
		printf("1..0 # SKIP mkdtemp: %s\n", strerror(errno));
		return 0;
	}
	snprintf(img, sizeof(img), "%s/t.qcow2", dir);
	l2_cache();
	past_end();
	meta_map();
	cluster_size();
	unlink(img);
	rmdir(dir);
	return tap_done();
}

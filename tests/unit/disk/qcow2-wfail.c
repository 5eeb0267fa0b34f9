// SPDX-License-Identifier: GPL-2.0
/*
 * qcow2 writes whose metadata update fails: what the guest was told must
 * be what the image holds after it is closed and opened again.  The
 * test wraps full_pwrite() (-Wl,--wrap, see the Makefile) to fail one
 * chosen 8-byte L2 entry write with -EIO; everything else goes through.
 *
 * A preallocated zero cluster (an L2 entry with an offset and the zero
 * flag) is filled in place and its entry rewritten without the flag.  If
 * that rewrite fails, the cached table must keep the zero entry: a later
 * write that trusted a cached "normal" entry would go in place, succeed,
 * and read back as zeros once the table is loaded from the file again.
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
#include "tap.h"

#define CS	65536ULL

/*
 * File offset of the 8-byte write to fail once; 0: none.  Set before the
 * request is submitted and read by whichever thread runs it: the
 * submission (disk lock, worker hand-off) orders the two, so relaxed
 * atomics only keep TSan and the compiler honest.  `failed` is read
 * after the completion, which disk_io() collects through the disk's
 * lock, ordered the same way.
 */
static u64 fail_at;
static unsigned int failed;

int __real_full_pwrite(int fd, const void *buf, size_t len, u64 off);
int __wrap_full_pwrite(int fd, const void *buf, size_t len, u64 off);
int __wrap_full_pwrite(int fd, const void *buf, size_t len, u64 off)
{
	/* qcow2 may write from its worker thread. */
	u64 at = __atomic_load_n(&fail_at, __ATOMIC_RELAXED);

	if (at && len == 8 && off == at) {
		__atomic_store_n(&fail_at, 0, __ATOMIC_RELAXED);
		__atomic_fetch_add(&failed, 1, __ATOMIC_RELAXED);
		return -EIO;
	}
	return __real_full_pwrite(fd, buf, len, off);
}

static void test_zero_cluster_entry_fails(void)
{
	char path[] = "/tmp/lkvm-test-wfail-XXXXXX";
	struct disk_opts o = { .path = path, .format = DISK_FORMAT_QCOW2 };
	static u8 buf[CS];
	struct disk *d;
	char err[256];
	int fd = mkstemp(path), r1, r2, r3;
	u64 l2e;

	close(fd);
	/*
	 * qcow2_create()'s layout: 0 header, 1 refcount table, 2 refcount
	 * block, 3 L1; the first write of virtual cluster 0 puts its data
	 * at 4 and its L2 table at 5.
	 */
	memset(buf, 0xa5, sizeof(buf));
	if (qcow2_create(path, 4 << 20, 16, 3, 4) ||
	    disk_open(&o, &d, err, sizeof(err))) {
		ok(0, "setup");
		ok(0, "setup");
		ok(0, "setup");
		return;
	}
	r1 = disk_io(d, DISK_OP_WRITE, 0, buf, CS);
	disk_close(d);
	fd = open(path, O_RDWR);
	if (r1 || fd < 0 || file_be64(fd, 3 * CS) != (5 * CS | QCOW2_OFLAG_COPIED) ||
	    file_be64(fd, 5 * CS) != (4 * CS | QCOW2_OFLAG_COPIED)) {
		ok(0, "layout as expected");
		ok(0, "layout as expected");
		ok(0, "layout as expected");
		return;
	}
	/* Virtual cluster 0 becomes a preallocated zero cluster at 4. */
	l2e = htobe64(4 * CS | QCOW2_OFLAG_COPIED | QCOW2_OFLAG_ZERO);
	if (pwrite(fd, &l2e, 8, 5 * CS) != 8)
		abort();
	close(fd);

	if (disk_open(&o, &d, err, sizeof(err))) {
		ok(0, "open: %s", err);
		ok(0, "open");
		ok(0, "open");
		return;
	}
	__atomic_store_n(&fail_at, 5 * CS, __ATOMIC_RELAXED);
	memset(buf, 0x11, 4096);
	r1 = disk_io(d, DISK_OP_WRITE, 0, buf, 4096);
	ok(r1 == -EIO && failed == 1,
	   "the L2 entry update fails: the write is -EIO (%d, %u failed)", r1,
	   failed);

	/* A second write to the same cluster, told it succeeded... */
	memset(buf, 0x22, 4096);
	r2 = disk_io(d, DISK_OP_WRITE, 8192, buf, 4096);
	disk_close(d);

	/* ...is there after the L2 table comes from the file again. */
	memset(buf, 0, 4096);
	r3 = disk_open(&o, &d, err, sizeof(err));
	if (!r3) {
		r3 = disk_io(d, DISK_OP_READ, 8192, buf, 4096);
		disk_close(d);
	}
	ok(!r2 && !r3 && all_are(buf, 0x22, 4096),
	   "a write acknowledged after the failure survives reopening (%d, %d, %s)",
	   r2, r3, all_are(buf, 0x22, 4096) ? "data" :
	   all_are(buf, 0, 4096) ? "ZEROES" : "OTHER");

	fd = open(path, O_RDONLY);
	l2e = fd < 0 ? ~0ULL : file_be64(fd, 5 * CS);
	if (fd >= 0)
		close(fd);
	ok(!r2 && (l2e & ~QCOW2_L2E_OFFSET_MASK) == QCOW2_OFLAG_COPIED,
	   "the L2 entry on disk no longer says zero (0x%llx)",
	   (unsigned long long)l2e);
	unlink(path);
}

int main(void)
{
	tap_plan(3);
	test_zero_cluster_entry_fails();
	return tap_done();
}

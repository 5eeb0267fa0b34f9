// SPDX-License-Identifier: GPL-2.0
/*
 * The raw backend on a temporary file: many requests in flight, the depth
 * limit, O_DIRECT with unaligned guest buffers (bounce), request checks
 * (ro, range, sectors), discard and write-zeroes, format auto-detection,
 * buffered transfers finished at submission and how their completions
 * are collected, a file that shrank, disk_drain(), also when
 * io_getevents() fails (O_DIRECT, through libaio), and lanes
 * (disk_open_lane()).
 */
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lkvm/disk.h"
#include "../../disk/disk-int.h"
#include "readable.h"
#include "tap.h"

#define SIZE	(4 << 20)

static char path[] = "/var/tmp/lkvm-test-raw-XXXXXX";
static int completed;

static void done(struct disk_req *r, int ret)
{
	r->ret = ret;
	completed++;
}

static void wait_all(struct disk *d, int n)
{
	struct pollfd p = { .fd = d->event_fd, .events = POLLIN };

	while (completed < n) {
		poll(&p, 1, 1000);
		disk_poll(d);
	}
}

static void hung(int sig __unused)
{
	static const char msg[] =
		"not ok - disk_drain() still spinning after 60 s\n";

	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

/* disk_drain(), with a cap for a hang (not a timing assertion). */
static void capped_drain(struct disk *d)
{
	signal(SIGALRM, hung);
	alarm(60);
	disk_drain(d);
	alarm(0);
}

static int one(struct disk *d, enum disk_op op, u64 off, void *buf, u64 len)
{
	struct iovec iov = { buf, len };
	struct disk_req r = { .op = op, .offset = off, .len = len,
			      .iov = &iov, .iovcnt = 1, .done = done };
	int ret;

	completed = 0;
	ret = disk_submit(d, &r);
	if (ret)
		return ret;
	wait_all(d, 1);
	return r.ret;
}

static struct disk *open_raw(bool ro, bool direct, enum disk_format f)
{
	struct disk_opts o = { .path = path, .readonly = ro, .direct = direct,
			       .format = f };
	struct disk *d = NULL;
	char err[256];

	if (disk_open(&o, &d, err, sizeof(err)))
		diag("open: %s", err);
	return d;
}

static void test_inflight(struct disk *d)
{
	static struct disk_req reqs[DISK_MAX_INFLIGHT + 1];
	static struct iovec iov[DISK_MAX_INFLIGHT];
	static u8 bufs[DISK_MAX_INFLIGHT][4096];
	bool good = true;
	int ret;

	completed = 0;
	for (int i = 0; i < DISK_MAX_INFLIGHT; i++) {
		memset(bufs[i], i + 1, 4096);
		iov[i] = (struct iovec){ bufs[i], 4096 };
		reqs[i] = (struct disk_req){ .op = DISK_OP_WRITE,
			.offset = (u64)i * 4096, .iov = &iov[i], .iovcnt = 1,
			.done = done };
		good &= !disk_submit(d, &reqs[i]);
	}
	ok(good && d->inflight == DISK_MAX_INFLIGHT,
	   "%d writes in flight at once", DISK_MAX_INFLIGHT);
	reqs[DISK_MAX_INFLIGHT] = reqs[0];
	ret = disk_submit(d, &reqs[DISK_MAX_INFLIGHT]);
	ok(ret == -EAGAIN, "one more: -EAGAIN (bounded queue depth)");
	capped_drain(d);
	ok(completed == DISK_MAX_INFLIGHT && !d->inflight, "drain completes them all");
	for (int i = 0; i < DISK_MAX_INFLIGHT; i++)
		good &= !reqs[i].ret && reqs[i].id == (u64)i;
	ok(good, "all succeeded, ids in submission order");
	good = true;
	for (int i = 0; i < DISK_MAX_INFLIGHT; i++) {
		u8 b[4096];

		good &= pread(d->fd, b, 4096, i * 4096) == 4096 && b[0] == i + 1 &&
			b[4095] == i + 1;
	}
	ok(good, "the data reached the file");
}

/*
 * A lane: the same image, its own depth and eventfd (so its completions
 * never wake the owner of the other), and data and flushes that cross.
 */
static void test_lanes(struct disk *d)
{
	static struct disk_req reqs[DISK_MAX_INFLIGHT];
	static struct iovec iov;
	static u8 fill[4096];
	struct disk *l = NULL;
	struct iovec v;
	struct disk_req r;
	u8 b[4096];
	char err[256] = "";
	bool good = true;
	u64 cnt;

	if (disk_open_lane(d, &l, err, sizeof(err)))
		diag("lane: %s", err);
	ok(l != NULL, "a lane opens");
	if (!l)
		return;
	ok(l->fd != d->fd && l->event_fd != d->event_fd &&
	   l->size == d->size && l->format == d->format,
	   "lane: own fd and eventfd, same image");
	memset(b, 0x6c, sizeof(b));
	ok(!one(l, DISK_OP_WRITE, 1 << 20, b, sizeof(b)) &&
	   !one(l, DISK_OP_FLUSH, 0, NULL, 0), "write and flush on the lane");
	memset(b, 0, sizeof(b));
	ok(!one(d, DISK_OP_READ, 1 << 20, b, sizeof(b)) && b[0] == 0x6c &&
	   b[4095] == 0x6c, "... the disk reads what the lane wrote");

	/* The disk full; the lane still takes a request, on its own fd. */
	iov = (struct iovec){ fill, sizeof(fill) };
	for (int i = 0; i < DISK_MAX_INFLIGHT; i++) {
		reqs[i] = (struct disk_req){ .op = DISK_OP_READ,
			.offset = (u64)i * 4096, .iov = &iov, .iovcnt = 1,
			.done = done };
		good &= !disk_submit(d, &reqs[i]);
	}
	while (read(d->event_fd, &cnt, sizeof(cnt)) == sizeof(cnt))
		;	/* what the disk's own reads signalled */
	v = (struct iovec){ b, sizeof(b) };
	r = (struct disk_req){ .op = DISK_OP_READ, .offset = 1 << 20,
			       .iov = &v, .iovcnt = 1, .done = done };
	completed = 0;
	ok(good && d->inflight == DISK_MAX_INFLIGHT && !disk_submit(l, &r),
	   "disk at its depth: the lane still takes a request");
	/* A cap for a hang, not a timing assertion. */
	ok(fd_readable(l->event_fd, 60000) && !fd_readable(d->event_fd, 0),
	   "the lane's completion signals its eventfd, not the disk's");
	disk_poll(l);
	is_int(completed, 1, "the lane's poll completes only its request");
	capped_drain(d);
	disk_close(l);
	ok(d->inflight == 0 && completed == 1 + DISK_MAX_INFLIGHT,
	   "the disk's own requests complete after the lane closed");
}

static int fail_getevents(io_context_t ctx __unused, long min __unused,
			  long nr __unused, struct io_event *ev __unused,
			  struct timespec *ts __unused)
{
	return -EBADF;
}

/*
 * io_getevents() failing with something other than EINTR: drain must
 * fail what was in flight with -EIO and return, not spin on it.
 */
static void test_getevents_error(struct disk *d)
{
	static struct disk_req reqs[8];
	static struct iovec iov[8];
	static u8 bufs[8][4096] __attribute__((aligned(4096)));
	bool all_eio = true;
	u8 b[512];

	completed = 0;
	for (int i = 0; i < 8; i++) {
		iov[i] = (struct iovec){ bufs[i], 4096 };
		reqs[i] = (struct disk_req){ .op = DISK_OP_WRITE,
			.offset = (u64)i * 4096, .iov = &iov[i], .iovcnt = 1,
			.done = done };
		if (disk_submit(d, &reqs[i]))
			all_eio = false;
	}
	raw_getevents = fail_getevents;
	capped_drain(d);
	raw_getevents = io_getevents;
	for (int i = 0; i < 8; i++)
		all_eio &= reqs[i].ret == -EIO;
	ok(completed == 8 && !d->inflight && all_eio,
	   "io_getevents error: drain returns, the 8 requests fail with -EIO");
	ok(!one(d, DISK_OP_READ, 0, b, sizeof(b)),
	   "the disk works again afterwards");
}

/*
 * Buffered transfers finish inside disk_submit() (raw.c's top).  Their
 * completions wake event_fd, unless the submitter promised to call
 * disk_poll_submitted() after its batch; disk_drain() runs them too.
 */
static void test_inline(struct disk *d)
{
	static struct disk_req reqs[4];
	static u8 b[4096];
	struct iovec iov = { b, sizeof(b) };
	struct disk_req r = { .op = DISK_OP_WRITE, .offset = 8192,
			      .iov = &iov, .iovcnt = 1, .done = done };
	bool good = true;
	u64 cnt;

	while (read(d->event_fd, &cnt, sizeof(cnt)) == sizeof(cnt))
		;
	memset(b, 0x3c, sizeof(b));
	completed = 0;
	/* A cap for a hang, not a timing assertion. */
	ok(!disk_submit(d, &r) && fd_readable(d->event_fd, 60000),
	   "buffered write: its completion wakes event_fd");
	disk_poll(d);
	ok(completed == 1 && !r.ret && !d->inflight,
	   "... and disk_poll() runs it");

	d->poll_after_submit = true;
	memset(b, 0, sizeof(b));
	r.op = DISK_OP_READ;
	completed = 0;
	ok(!disk_submit(d, &r) && !fd_readable(d->event_fd, 0),
	   "poll_after_submit: a cached read wakes nobody");
	disk_poll_submitted(d);
	ok(completed == 1 && !r.ret && b[0] == 0x3c && b[4095] == 0x3c,
	   "... disk_poll_submitted() runs it, with the data");

	completed = 0;
	for (int i = 0; i < 4; i++) {
		reqs[i] = (struct disk_req){ .op = DISK_OP_WRITE,
			.offset = (u64)i * 4096, .iov = &iov, .iovcnt = 1,
			.done = done };
		good &= !disk_submit(d, &reqs[i]);
	}
	capped_drain(d);
	ok(good && completed == 4 && !d->inflight,
	   "disk_drain() runs what finished at submission");
	d->poll_after_submit = false;
}

/* The file shrank under the disk: reads past its new end are -EIO. */
static void test_shrunk(struct disk *d)
{
	static u8 b[4096];

	if (ftruncate(d->fd, SIZE / 2)) {
		ok(0, "shrink the file");
		ok(0, "shrink the file");
		return;
	}
	ok(one(d, DISK_OP_READ, SIZE - 4096, b, sizeof(b)) == -EIO,
	   "the file shrank: a read past its end is -EIO");
	ok(one(d, DISK_OP_READ, SIZE / 2 - 2048, b, sizeof(b)) == -EIO,
	   "... and one across its end (half read, the rest 0 bytes)");
	if (ftruncate(d->fd, SIZE))
		diag("ftruncate back: %s", strerror(errno));
}

int main(void)
{
	u8 *buf = aligned_alloc(4096, 65536), *odd;
	struct disk *d;
	int fd;

	tap_plan(36);
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, SIZE))
		return 1;
	close(fd);

	d = open_raw(false, false, DISK_FORMAT_AUTO);
	ok(d && d->format == DISK_FORMAT_RAW && d->size == SIZE,
	   "auto-detected raw, size from the file");
	if (!d)
		return tap_done();
	test_inflight(d);
	ok(one(d, DISK_OP_WRITE, 100, buf, 512) == -EINVAL, "unaligned offset: -EINVAL");
	ok(one(d, DISK_OP_WRITE, SIZE - 512, buf, 1024) == -EINVAL,
	   "past the end: -EINVAL");
	ok(one(d, DISK_OP_WRITE, ~0ULL - 511, buf, 512) == -EINVAL,
	   "offset overflow: -EINVAL");
	memset(buf, 0x55, 65536);
	ok(!one(d, DISK_OP_WRITE, 65536, buf, 65536), "64 KiB write");
	ok(!one(d, DISK_OP_FLUSH, 0, NULL, 0), "flush");
	ok(!one(d, DISK_OP_DISCARD, 65536, NULL, 8192) &&
	   !one(d, DISK_OP_READ, 65536, buf, 8192) && !buf[0] && !buf[8191],
	   "discard: reads back zeros");
	memset(buf, 0x55, 65536);
	ok(!one(d, DISK_OP_WRITE_ZEROES, 65536 + 8192, NULL, 4096) &&
	   !one(d, DISK_OP_READ, 65536 + 8192, buf, 8192) && !buf[0] &&
	   !buf[4095] && buf[4096] == 0x55, "write-zeroes: exactly the range");
	test_inline(d);
	test_shrunk(d);
	test_lanes(d);
	disk_close(d);

	d = open_raw(true, false, DISK_FORMAT_RAW);
	ok(d && one(d, DISK_OP_WRITE, 0, buf, 512) == -EROFS,
	   "read-only: write refused with -EROFS");
	ok(d && one(d, DISK_OP_DISCARD, 0, NULL, 512) == -EROFS,
	   "read-only: discard refused");
	ok(d && !one(d, DISK_OP_FLUSH, 0, NULL, 0), "read-only: flush fine");
	disk_close(d);

	d = open_raw(false, true, DISK_FORMAT_RAW);
	ok(d && d->direct, "O_DIRECT open");
	if (d) {
		/* A buffer 3 bytes off alignment: must go through a bounce. */
		odd = malloc(8192 + 3);
		memset(odd + 3, 0x77, 8192);
		ok(!one(d, DISK_OP_WRITE, 4096, odd + 3, 8192),
		   "direct: unaligned buffer written");
		memset(odd, 0, 8192 + 3);
		ok(!one(d, DISK_OP_READ, 4096, odd + 3, 8192) &&
		   odd[3] == 0x77 && odd[8194] == 0x77,
		   "direct: unaligned buffer read back");
		free(odd);
		test_getevents_error(d);
		disk_close(d);
	} else {
		ok(0, "direct write");
		ok(0, "direct read");
		ok(0, "io_getevents error");
		ok(0, "the disk works again afterwards");
	}
	unlink(path);
	free(buf);
	return tap_done();
}

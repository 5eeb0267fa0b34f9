/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_TESTS_DISK_IO_H
#define LKVM_TESTS_DISK_IO_H

/*
 * Synchronous requests on a struct disk for the disk unit tests, and
 * reads of the image file behind it.
 */
#include <endian.h>
#include <poll.h>
#include <stdbool.h>
#include <unistd.h>

#include "lkvm/disk.h"
#include "lkvm/types.h"

/* Runs inside disk_poll() on the caller's thread: a plain flag will do. */
static inline void disk_io_done(struct disk_req *r, int ret)
{
	r->ret = ret;
	*(int *)r->opaque = 1;
}

/*
 * One request, waited for: 0 or -errno.  Data goes in three iovecs (100
 * bytes, 1 byte, the rest: @len > 101) to exercise iovec handling; a
 * flush has none.
 */
static inline int disk_io(struct disk *d, enum disk_op op, u64 off,
			  void *buf, u64 len)
{
	struct iovec iov[3] = { { 0 } };
	int fin = 0;
	struct disk_req r = { .op = op, .offset = off, .iov = iov,
			      .iovcnt = op == DISK_OP_FLUSH ? 0 : 3,
			      .done = disk_io_done, .opaque = &fin };
	struct pollfd p = { .fd = d->event_fd, .events = POLLIN };
	int ret;

	if (buf) {
		iov[0] = (struct iovec){ buf, 100 };
		iov[1] = (struct iovec){ (u8 *)buf + 100, 1 };
		iov[2] = (struct iovec){ (u8 *)buf + 101, len - 101 };
	}
	ret = disk_submit(d, &r);
	if (ret)
		return ret;
	while (!fin) {
		poll(&p, 1, 1000);
		disk_poll(d);
	}
	return r.ret;
}

/* The big-endian u64 at @off of the file @fd, or ~0 if unreadable. */
static inline u64 file_be64(int fd, u64 off)
{
	u64 v = 0;

	if (pread(fd, &v, 8, (off_t)off) != 8)
		return ~0ULL;
	return be64toh(v);
}

/* Whether all @len bytes at @p are @c. */
static inline bool all_are(const u8 *p, u8 c, u64 len)
{
	while (len--)
		if (*p++ != c)
			return false;
	return true;
}

#endif

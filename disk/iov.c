// SPDX-License-Identifier: GPL-2.0
/* iovec helpers and whole-buffer file I/O for the block backends. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "disk-int.h"

u64 iov_total(const struct iovec *iov, unsigned int cnt, bool *overflow)
{
	u64 total = 0;

	*overflow = false;
	for (unsigned int i = 0; i < cnt; i++) {
		if (iov[i].iov_len > ~0ULL - total)
			*overflow = true;
		total += iov[i].iov_len;
	}
	return total;
}

unsigned int iov_slice(const struct iovec *src, unsigned int n, u64 skip,
		       u64 len, struct iovec *dst)
{
	unsigned int cnt = 0;

	for (unsigned int i = 0; i < n && len; i++) {
		u64 l = src[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l = min_t(u64, l - skip, len);
		dst[cnt++] = (struct iovec){
			.iov_base = (u8 *)src[i].iov_base + skip,
			.iov_len = l,
		};
		len -= l;
		skip = 0;
	}
	return cnt;
}

/* Walks [@skip, @skip + @len) of @iov calling @fn on each piece. */
static size_t iov_walk(const struct iovec *iov, unsigned int cnt, u64 skip,
		       size_t len, void (*fn)(void *seg, size_t off,
					      size_t n, void *arg),
		       void *arg)
{
	size_t done = 0;

	for (unsigned int i = 0; i < cnt && done < len; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l = min_t(size_t, l - skip, len - done);
		fn((u8 *)iov[i].iov_base + skip, done, l, arg);
		done += l;
		skip = 0;
	}
	return done;
}

static void to_buf(void *seg, size_t off, size_t n, void *arg)
{
	memcpy((u8 *)arg + off, seg, n);
}

static void from_buf(void *seg, size_t off, size_t n, void *arg)
{
	memcpy(seg, (const u8 *)arg + off, n);
}

static void set_seg(void *seg, size_t off __unused, size_t n, void *arg)
{
	memset(seg, *(int *)arg, n);
}

size_t iov_to_buf(const struct iovec *iov, unsigned int cnt, u64 skip,
		  void *buf, size_t len)
{
	return iov_walk(iov, cnt, skip, len, to_buf, buf);
}

size_t iov_from_buf(const struct iovec *iov, unsigned int cnt, u64 skip,
		    const void *buf, size_t len)
{
	return iov_walk(iov, cnt, skip, len, from_buf, (void *)buf);
}

size_t iov_memset(const struct iovec *iov, unsigned int cnt, u64 skip,
		  int c, size_t len)
{
	return iov_walk(iov, cnt, skip, len, set_seg, &c);
}

bool iov_aligned(const struct iovec *iov, unsigned int cnt, size_t align)
{
	for (unsigned int i = 0; i < cnt; i++)
		if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) &
		    (align - 1))
			return false;
	return true;
}

int full_pread(int fd, void *buf, size_t len, u64 off)
{
	struct iovec iov = { buf, len };

	return full_preadv(fd, &iov, 1, off);
}

int full_pwrite(int fd, const void *buf, size_t len, u64 off)
{
	struct iovec iov = { (void *)buf, len };

	return full_pwritev(fd, &iov, 1, off);
}

/* Resumes after partial transfers; a zero return (EOF) is -EIO. */
static int full_rw(int fd, const struct iovec *src, unsigned int cnt,
		   u64 off, bool write)
{
	struct iovec stack[16], *iov = stack;
	int ret = 0;

	if (cnt > ARRAY_SIZE(stack)) {
		iov = malloc(cnt * sizeof(*iov));
		if (!iov)
			return -ENOMEM;
	}
	memcpy(iov, src, cnt * sizeof(*iov));
	while (cnt) {
		ssize_t n = write ? pwritev(fd, iov, (int)min_t(unsigned int, cnt, 1024), (off_t)off) :
				    preadv(fd, iov, (int)min_t(unsigned int, cnt, 1024), (off_t)off);
		struct iovec *v = iov;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0) {
			ret = -EIO;
			break;
		}
		off += (u64)n;
		while (cnt && (size_t)n >= v->iov_len) {
			n -= (ssize_t)v->iov_len;
			v++;
			cnt--;
		}
		if (cnt) {
			v->iov_base = (u8 *)v->iov_base + n;
			v->iov_len -= (size_t)n;
		}
		memmove(iov, v, cnt * sizeof(*iov));
	}
	if (iov != stack)
		free(iov);
	return ret;
}

int full_preadv(int fd, const struct iovec *iov, unsigned int cnt, u64 off)
{
	return full_rw(fd, iov, cnt, off, false);
}

int full_pwritev(int fd, const struct iovec *iov, unsigned int cnt, u64 off)
{
	return full_rw(fd, iov, cnt, off, true);
}

ssize_t rw_nowait(int fd, const struct iovec *iov, unsigned int cnt, u64 off,
		  bool write, bool *nowait_write_unsupported)
{
	ssize_t n;

	if (write && *nowait_write_unsupported)
		return -EOPNOTSUPP;
	n = write ? pwritev2(fd, iov, (int)cnt, (off_t)off, RWF_NOWAIT) :
		    preadv2(fd, iov, (int)cnt, (off_t)off, RWF_NOWAIT);
	if (n >= 0)
		return n;
	if (write && errno == EOPNOTSUPP)
		*nowait_write_unsupported = true;
	return -errno;
}

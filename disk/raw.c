// SPDX-License-Identifier: GPL-2.0
/*
 * Raw images and host block devices through libaio: reads, writes and
 * flushes go to the kernel with io_submit() and complete on the disk's
 * eventfd (io_set_eventfd), at most DISK_MAX_INFLIGHT at a time.  Short
 * transfers are resubmitted for the rest; a transfer of zero bytes (the
 * file shrank) is -EIO.
 *
 * Without O_DIRECT, libaio has nothing asynchronous to offer: the kernel
 * copies a buffered read or write inside io_submit(), waiting for the
 * disk if it must.  So a buffered transfer is first tried as one
 * preadv2/pwritev2 call that may not wait (RWF_NOWAIT), and only what it
 * could not move goes through libaio: one system call instead of three
 * (io_submit, the eventfd read, io_getevents) and no aio bookkeeping,
 * +25-40% IOPS on cached 4 KiB requests at depths 1 to 64.  Where the
 * filesystem has no non-blocking buffered writes (ext4 here), writes are
 * plain pwritev() calls, which block exactly where io_submit() would
 * have: for dirty page throttling.  Such completions are queued
 * (inline_done) for the next poll.
 *
 * With O_DIRECT, guest buffers that are not aligned to the logical block
 * size go through an aligned bounce buffer; so does a write to sector 0
 * of an image whose format was guessed, which is checked in that copy
 * (struct disk, probed).
 * DISCARD and WRITE_ZEROES are fallocate() calls, which have no aio
 * form, so they run on the worker thread; so does FLUSH on kernels whose
 * aio lacks fdsync.
 */
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/falloc.h>
#include <linux/fs.h>

#include "lkvm/log.h"
#include "disk-int.h"

struct raw_slot {
	struct iocb cb;
	struct disk_req *req;
	const struct iovec *iov;	/* what the transfer covers */
	unsigned int iovcnt;
	struct iovec *sub;		/* remainder after a short transfer */
	unsigned int sub_cap;
	struct iovec bounce_iov;
	void *bounce;			/* aligned copy (O_DIRECT) */
	u64 done;			/* bytes transferred so far */
	struct raw_slot *next_free;
};

struct raw {
	io_context_t ctx;
	struct raw_slot slots[DISK_MAX_INFLIGHT];
	struct raw_slot *free;
	unsigned int aio_pending;
	/* Finished inside raw_submit(), for raw_poll(); d->lock held. */
	struct disk_req *inline_done, **inline_tail;
	bool nowait_write_unsupported;	/* rw_nowait() */
	bool no_aio_fdsync;		/* fall back to the worker */
	bool aio_dead;			/* no context after a failure */
	struct disk_worker worker;
};

static void slot_put(struct raw *r, struct raw_slot *s)
{
	free(s->bounce);
	s->bounce = NULL;
	s->req = NULL;
	s->next_free = r->free;
	r->free = s;
}

/* (Re)submits the part of @s not yet transferred. */
static int slot_submit(struct disk *d, struct raw *r, struct raw_slot *s)
{
	struct disk_req *req = s->req;
	const struct iovec *iov = s->iov;
	unsigned int cnt = s->iovcnt;
	struct iocb *cbs[1] = { &s->cb };
	int ret;

	if (s->done) {
		if (s->sub_cap < s->iovcnt) {
			struct iovec *n = realloc(s->sub, s->iovcnt * sizeof(*n));

			if (!n)
				return -ENOMEM;
			s->sub = n;
			s->sub_cap = s->iovcnt;
		}
		cnt = iov_slice(s->iov, s->iovcnt, s->done, req->len - s->done,
				s->sub);
		iov = s->sub;
	}
	switch (req->op) {
	case DISK_OP_READ:
		io_prep_preadv(&s->cb, d->fd, iov, (int)cnt,
			       (long long)(req->offset + s->done));
		break;
	case DISK_OP_WRITE:
		io_prep_pwritev(&s->cb, d->fd, iov, (int)cnt,
				(long long)(req->offset + s->done));
		break;
	default:
		io_prep_fdsync(&s->cb, d->fd);
		break;
	}
	if (r->aio_dead)
		return -EIO;
	io_set_eventfd(&s->cb, d->event_fd);
	s->cb.data = s;
	ret = io_submit(r->ctx, 1, cbs);
	if (ret == 1) {
		r->aio_pending++;
		return 0;
	}
	return ret < 0 ? ret : -EIO;
}

/*
 * A buffered read or write, done now if it can be without waiting for
 * the disk (see the top): true if finished (queued for raw_poll()), false
 * to go on through libaio, from s->done on.
 */
static bool raw_inline(struct disk *d, struct raw *r, struct raw_slot *s)
{
	struct disk_req *req = s->req;
	bool wr = req->op == DISK_OP_WRITE;
	ssize_t n;
	u64 one = 1;

	if ((req->op != DISK_OP_READ && !wr) || req->iovcnt > IOV_MAX)
		return false;
	n = rw_nowait(d->fd, req->iov, req->iovcnt, req->offset, wr,
		      &r->nowait_write_unsupported);
	if (n == -EOPNOTSUPP && wr)
		n = pwritev(d->fd, req->iov, (int)req->iovcnt,
			    (off_t)req->offset);
	if (n < (ssize_t)req->len) {
		/* libaio does the rest, or says what went wrong. */
		s->done = n > 0 ? (u64)n : 0;
		return false;
	}
	slot_put(r, s);
	req->next = NULL;
	if (!r->inline_done) {
		r->inline_tail = &r->inline_done;
		/* Can only fail if the counter saturates: a wake-up is due. */
		if (!d->poll_after_submit &&
		    write(d->event_fd, &one, sizeof(one)) < 0)
			(void)0;
	}
	*r->inline_tail = req;
	r->inline_tail = &req->next;
	return true;
}

/* d->lock held: the callbacks of what raw_inline() finished. */
static void raw_reap_inline(struct disk *d, struct raw *r)
{
	struct disk_req *req = r->inline_done, *next;

	r->inline_done = NULL;
	for (; req; req = next) {
		next = req->next;
		disk_complete(d, req, 0);
	}
}

static int raw_submit(struct disk *d, struct disk_req *req)
{
	struct raw *r = d->priv;
	struct raw_slot *s;
	bool guard;
	int ret;

	if (req->op == DISK_OP_DISCARD || req->op == DISK_OP_WRITE_ZEROES ||
	    (req->op == DISK_OP_FLUSH && r->no_aio_fdsync)) {
		disk_worker_queue(&r->worker, req);
		return 0;
	}
	s = r->free;
	if (!s)
		return -EAGAIN;
	r->free = s->next_free;
	s->req = req;
	s->done = 0;
	s->iov = req->iov;
	s->iovcnt = req->iovcnt;
	guard = d->probed && req->op == DISK_OP_WRITE && !req->offset;
	if (guard || (d->direct && req->op != DISK_OP_FLUSH &&
		      !iov_aligned(req->iov, req->iovcnt, d->block_size))) {
		if ((req->offset | req->len) % d->block_size) {
			ret = -EINVAL;
			goto fail;
		}
		s->bounce = aligned_alloc(d->block_size,
					  ALIGN_UP(req->len, d->block_size));
		if (!s->bounce) {
			ret = -ENOMEM;
			goto fail;
		}
		if (req->op == DISK_OP_WRITE)
			iov_to_buf(req->iov, req->iovcnt, 0, s->bounce,
				   req->len);
		s->bounce_iov = (struct iovec){ s->bounce, req->len };
		s->iov = &s->bounce_iov;
		s->iovcnt = 1;
	}
	/*
	 * Checked in our own copy, which is what gets written: the guest
	 * cannot change the buffer between the check and the write.
	 */
	if (guard && disk_probe(s->bounce, req->len) != DISK_FORMAT_RAW) {
		if (!d->warned_probe)
			pr_warn("disk %s: refused a guest write that would turn sector 0 into a %s header (format guessed raw; give format=raw to allow it)",
				d->path, disk_format_name(disk_probe(s->bounce,
								     req->len)));
		d->warned_probe = true;
		ret = -EPERM;
		goto fail;
	}
	if (!s->bounce && !d->direct && raw_inline(d, r, s))
		return 0;
	ret = slot_submit(d, r, s);
	if (ret == -EINVAL && req->op == DISK_OP_FLUSH) {
		/* aio fdsync arrived in Linux 4.18; do it the slow way. */
		r->no_aio_fdsync = true;
		slot_put(r, s);
		disk_worker_queue(&r->worker, req);
		return 0;
	}
	if (ret)
		goto fail;
	return 0;
fail:
	slot_put(r, s);
	return ret;
}

/* One aio completion: finished, failed, or short and resubmitted. */
static void raw_event(struct disk *d, struct raw *r, struct io_event *ev)
{
	struct raw_slot *s = ev->data;
	struct disk_req *req = s->req;
	long res = (long)ev->res;
	int ret = 0;

	r->aio_pending--;
	if (res < 0) {
		ret = (int)res;
	} else if (req->op != DISK_OP_FLUSH) {
		s->done += (u64)res;
		if (s->done < req->len) {
			/* Zero bytes means end of file: never spin on it. */
			ret = res ? slot_submit(d, r, s) : -EIO;
			if (!ret)
				return;
		}
	}
	if (!ret && s->bounce && req->op == DISK_OP_READ)
		iov_from_buf(req->iov, req->iovcnt, 0, s->bounce, req->len);
	slot_put(r, s);
	disk_complete(d, req, ret);
}

int (*raw_getevents)(io_context_t ctx, long min, long nr,
		     struct io_event *ev, struct timespec *ts) = io_getevents;

/*
 * io_getevents() failed for a reason other than a signal: the context is
 * unusable and its completions would never arrive, so waiting for them
 * would spin forever.  io_destroy() waits for what the kernel still has
 * in flight (after it no transfer touches a guest buffer), then every
 * request that was in the context fails with -EIO.  A fresh context
 * serves later requests; without one they fail too.
 */
static void raw_abort(struct disk *d, struct raw *r, int err)
{
	struct disk_req *failed = NULL, *req;

	pr_err("disk %s: io_getevents: %s; failing %u requests in flight",
	       d->path, strerror(-err), r->aio_pending);
	io_destroy(r->ctx);
	r->ctx = 0;
	r->aio_pending = 0;
	for (unsigned int i = 0; i < ARRAY_SIZE(r->slots); i++) {
		struct raw_slot *s = &r->slots[i];

		if (!s->req)
			continue;
		s->req->next = failed;
		failed = s->req;
		slot_put(r, s);
	}
	/* Before the callbacks run: they may submit again. */
	r->aio_dead = io_setup(DISK_MAX_INFLIGHT, &r->ctx) != 0;
	if (r->aio_dead)
		pr_err("disk %s: io_setup failed; reads and writes now fail",
		       d->path);
	while (failed) {
		req = failed;
		failed = req->next;
		disk_complete(d, req, -EIO);
	}
}

static void raw_reap(struct disk *d, struct raw *r, long min)
{
	struct io_event ev[32];
	struct timespec zero = { 0, 0 };
	int n;

	while (r->aio_pending) {
		n = raw_getevents(r->ctx, min, ARRAY_SIZE(ev), ev,
				  min ? NULL : &zero);
		if (n == -EINTR)
			continue;
		if (n < 0) {
			raw_abort(d, r, n);
			break;
		}
		if (!n)
			break;
		for (int i = 0; i < n; i++)
			raw_event(d, r, &ev[i]);
		min = 0;
	}
}

static void raw_poll(struct disk *d)
{
	struct raw *r = d->priv;

	raw_reap_inline(d, r);
	raw_reap(d, r, 0);
	disk_worker_reap(&r->worker, d);
}

static void raw_drain(struct disk *d)
{
	struct raw *r = d->priv;

	raw_reap_inline(d, r);
	while (d->inflight) {
		if (r->aio_pending)
			raw_reap(d, r, 1);
		disk_worker_drain(&r->worker, d);
	}
}

/* Worker thread: the requests with no aio form. */
static int raw_sync(void *ctx, struct disk_req *req)
{
	struct disk *d = ctx;
	static const u8 zeros[64 * 1024];
	u64 off = req->offset, len = req->len;
	int mode;

	switch (req->op) {
	case DISK_OP_FLUSH:
		return fdatasync(d->fd) ? -errno : 0;
	case DISK_OP_DISCARD:
		mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		if (fallocate(d->fd, mode, (off_t)off, (off_t)len) &&
		    errno != EOPNOTSUPP)
			return -errno;
		return 0;	/* discard is a hint: unsupported is fine */
	case DISK_OP_WRITE_ZEROES:
		mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		if (!fallocate(d->fd, mode, (off_t)off, (off_t)len))
			return 0;
		if (errno != EOPNOTSUPP && errno != EINVAL)
			return -errno;
		while (len) {
			size_t n = min_t(u64, len, sizeof(zeros));
			int ret;

			/* O_DIRECT: the static buffer is page aligned. */
			ret = full_pwrite(d->fd, zeros, n, off);
			if (ret)
				return ret;
			off += n;
			len -= n;
		}
		return 0;
	default:
		return -EINVAL;
	}
}

static int raw_pread(struct disk *d, void *buf, size_t len, u64 off)
{
	void *b = buf;
	int ret;

	if (d->direct) {
		b = aligned_alloc(d->block_size, ALIGN_UP(len, d->block_size));
		if (!b)
			return -ENOMEM;
	}
	ret = full_pread(d->fd, b, len, off);
	if (b != buf) {
		memcpy(buf, b, len);
		free(b);
	}
	return ret;
}

static void raw_close(struct disk *d)
{
	struct raw *r = d->priv;

	disk_worker_stop(&r->worker);
	if (!r->aio_dead)
		io_destroy(r->ctx);
	for (unsigned int i = 0; i < ARRAY_SIZE(r->slots); i++)
		free(r->slots[i].sub);
	free(r);
}

static int raw_open_lane(struct disk *d, struct disk *lane, char *err,
			 size_t errlen);

static const struct disk_ops raw_ops = {
	.name = "raw",
	.submit = raw_submit,
	.poll = raw_poll,
	.drain = raw_drain,
	.pread = raw_pread,
	.close = raw_close,
	.open_lane = raw_open_lane,
};

/*
 * The backend state on @d, whose fd is @fd: an aio context, its slots and
 * a worker.  On failure @d is as it was and @fd still the caller's.
 */
static int raw_setup(struct disk *d, int fd, char *err, size_t errlen)
{
	struct raw *r;
	int ret;

	r = calloc(1, sizeof(*r));
	if (!r) {
		disk_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = io_setup(DISK_MAX_INFLIGHT, &r->ctx);
	if (ret) {
		disk_err(err, errlen, "io_setup: %s", strerror(-ret));
		free(r);
		return ret;
	}
	for (int i = DISK_MAX_INFLIGHT - 1; i >= 0; i--) {
		r->slots[i].next_free = r->free;
		r->free = &r->slots[i];
	}
	ret = disk_worker_start(&r->worker, d->event_fd, raw_sync, d);
	if (ret) {
		disk_err(err, errlen, "worker thread: %s", strerror(-ret));
		io_destroy(r->ctx);
		free(r);
		return ret;
	}
	d->fd = fd;
	d->priv = r;
	d->ops = &raw_ops;
	return 0;
}

/*
 * A lane of @d: the same file through its own fd, aio context, worker
 * and lock.  FLUSH needs nothing shared: fdatasync() on any descriptor
 * of a file writes back every completed write to it, whichever lane
 * made it.
 */
static int raw_open_lane(struct disk *d, struct disk *lane, char *err,
			 size_t errlen)
{
	int fd = fcntl(d->fd, F_DUPFD_CLOEXEC, 0), ret;

	if (fd < 0) {
		ret = -errno;
		disk_err(err, errlen, "%s", strerror(errno));
		return ret;
	}
	ret = raw_setup(lane, fd, err, errlen);
	if (ret)
		close(fd);
	return ret;
}

/* Finds the O_DIRECT alignment of a regular file: 512, else 4096. */
static u32 probe_dio_align(int fd)
{
	void *buf = aligned_alloc(4096, 4096);
	u32 align = 512;

	if (buf && pread(fd, buf, 512, 0) < 0 && errno == EINVAL)
		align = 4096;
	free(buf);
	return align;
}

int raw_open(struct disk *d, int fd, char *err, size_t errlen)
{
	struct stat st;
	u64 size;
	int ret, sz;

	if (fstat(fd, &st)) {
		ret = -errno;
		disk_err(err, errlen, "%s", strerror(errno));
		goto out_close;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size)) {
			ret = -errno;
			disk_err(err, errlen, "cannot size the block device: %s",
				 strerror(errno));
			goto out_close;
		}
		if (d->direct && !ioctl(fd, BLKSSZGET, &sz) && sz > 0 &&
		    !(sz & (sz - 1)))
			d->block_size = (u32)sz;
	} else {
		size = (u64)st.st_size;
	}
	if (d->direct) {
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_DIRECT)) {
			ret = -errno;
			disk_err(err, errlen, "O_DIRECT not supported here: %s",
				 strerror(errno));
			goto out_close;
		}
		if (S_ISREG(st.st_mode))
			d->block_size = probe_dio_align(fd);
	}
	if (size % DISK_SECTOR_SIZE)
		pr_warn("disk %s: the last %llu bytes are not a whole sector and are not visible",
			d->path, (unsigned long long)(size % DISK_SECTOR_SIZE));
	d->size = ALIGN_DOWN(size, (u64)d->block_size);
	d->can_discard = !d->readonly;
	d->can_write_zeroes = !d->readonly;
	ret = raw_setup(d, fd, err, errlen);
	if (ret)
		goto out_close;
	return 0;
out_close:
	close(fd);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * qcow2 images: reads (normal, zero, compressed and unallocated clusters,
 * the last falling through to a backing file) and allocating writes.
 *
 * Every request runs on the disk's worker thread with plain pread/pwrite,
 * one at a time, so the metadata needs no locking and the device's event
 * loop never waits.  The exception: while the worker is idle, a read or
 * an in-place write whose L2 table is cached and whose data the page
 * cache can take at once (RWF_NOWAIT, or whole pages: see data_rw()) runs
 * on the submitting thread (disk_worker_try_inline(), the worker's lock
 * held); anything that would block gives up and goes to the worker after
 * all.  That saves a depth-1 request two thread wake-ups.
 *
 * New clusters are always appended at the end of the file, and an
 * allocating write goes
 *
 *	data -> refcounts -> fdatasync -> (new L2 table -> fdatasync) ->
 *	L2 entry / L1 entry [-> fdatasync -> drop the old cluster's refcount]
 *
 * so whatever prefix of that reaches the disk before a crash, the image
 * is consistent: at worst a cluster is counted but not referenced (a leak
 * `qemu-img check` reports and `-r leaks` reclaims), never referenced but
 * not counted.  Metadata is written through at once; a guest FLUSH is one
 * fdatasync of the image.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "lkvm/log.h"
#include "qcow2.h"

static int l2_load(void *ctx, u64 off, void *buf, size_t len)
{
	struct qcow2 *q = ctx;

	if (q->nowait)
		return -EAGAIN;		/* a table to read: the worker's job */
	return full_pread(q->fd, buf, len, off);
}

/*
 * Guest data to or from the image: the worker's blocking full transfer,
 * or inline (q->nowait) one RWF_NOWAIT call that must move all @n bytes;
 * anything less (pages not cached, a write that would wait, an error) is
 * -EAGAIN, and the worker does the whole request again.
 *
 * Where the filesystem has no non-blocking buffered writes, a write of
 * whole pages still runs inline, as a plain write: it only copies into
 * the page cache (no page to read first), and can wait only for dirty
 * page throttling, which a raw image's buffered writes wait out on the
 * device thread just the same.  Handing it to the
 * worker instead costs two thread wake-ups per request, and on a small
 * host the worker must also win a CPU from the polling device thread.
 */
static int data_rw(struct qcow2 *q, const struct iovec *sub,
		   unsigned int nsub, u64 n, u64 off, bool write)
{
	ssize_t r;

	if (!q->nowait)
		return write ? full_pwritev(q->fd, sub, nsub, off) :
			       full_preadv(q->fd, sub, nsub, off);
	if (nsub > IOV_MAX)
		return -EAGAIN;
	r = rw_nowait(q->fd, sub, nsub, off, write,
		      &q->nowait_write_unsupported);
	if (r == -EOPNOTSUPP && write) {
		if ((off | n) & ((u64)getpagesize() - 1))
			return -EAGAIN;
		return full_pwritev(q->fd, sub, nsub, off) ? -EAGAIN : 0;
	}
	return r == (ssize_t)n ? 0 : -EAGAIN;
}

static int flush(struct qcow2 *q)
{
	return fdatasync(q->fd) ? -errno : 0;
}

/* The L2 table for virtual offset @voff (NULL if none) and the index. */
static int get_l2(struct qcow2 *q, u64 voff, u64 **tbl, unsigned int *l2i)
{
	u64 l1i = voff >> (q->cb + q->l2_bits), l1e, off;
	int err = 0;

	*l2i = (unsigned int)((voff >> q->cb) & ((1ULL << q->l2_bits) - 1));
	*tbl = NULL;
	if (l1i >= q->h.l1_size)
		return -EIO;
	l1e = q->l1[l1i];
	off = l1e & QCOW2_L1E_OFFSET_MASK;
	if (!off)
		return 0;
	/*
	 * The map knows every L2 table: those the L1 named at open and
	 * those we allocated since.  Anything else, above all a cluster
	 * past the end at open that the file has since grown over with
	 * guest data, is not one.
	 */
	if ((l1e & QCOW2_L1E_RESERVED) || qcow2_bad_cluster(q, off) ||
	    off >= q->next_free ||
	    qcow2_meta_get(&q->meta, off, q->cs) != QCOW2_META_L2) {
		pr_debug("qcow2 %s: bad L1 entry %llu", q->d->path,
			 (unsigned long long)l1i);
		return -EIO;
	}
	*tbl = qcow2_l2_cache_get(&q->l2, off, &err);
	return *tbl ? 0 : err;
}

static enum cluster_type classify(const struct qcow2 *q, u64 entry)
{
	if (entry & QCOW2_OFLAG_COMPRESSED)
		return CL_COMPRESSED;
	if (q->h.version >= 3 && (entry & QCOW2_OFLAG_ZERO))
		return CL_ZERO;
	return entry & QCOW2_L2E_OFFSET_MASK ? CL_NORMAL : CL_UNALLOC;
}

static int decompress(struct qcow2 *q, u64 entry)
{
	u64 off, len;
	z_stream zs = { 0 };
	int ret;

	if (q->zout_entry == entry)
		return 0;
	q->zout_entry = 0;
	qcow2_compressed_range(q, entry, &off, &len);
	if (off >= q->file_size)
		return -EIO;
	/* The last compressed cluster may end before its sector count. */
	len = min_t(u64, len, q->file_size - off);
	ret = full_pread(q->fd, q->zin, len, off);
	if (ret)
		return ret;
	if (inflateInit2(&zs, -12) != Z_OK)
		return -ENOMEM;
	zs.next_in = q->zin;
	zs.avail_in = (uInt)len;
	zs.next_out = q->zout;
	zs.avail_out = (uInt)q->cs;
	ret = inflate(&zs, Z_FINISH);
	inflateEnd(&zs);
	if ((ret != Z_STREAM_END && ret != Z_BUF_ERROR) || zs.avail_out) {
		pr_debug("qcow2 %s: bad compressed cluster at %llu", q->d->path,
			 (unsigned long long)off);
		return -EIO;
	}
	q->zout_entry = entry;
	return 0;
}

/* Content of the whole cluster at virtual @voff (aligned) into @buf. */
static int read_cluster(struct qcow2 *q, u64 entry, u64 voff, u8 *buf)
{
	struct disk *b = q->backing;
	u64 n;
	int ret;

	switch (classify(q, entry)) {
	case CL_NORMAL:
		return full_pread(q->fd, buf, q->cs,
				  entry & QCOW2_L2E_OFFSET_MASK);
	case CL_COMPRESSED:
		ret = decompress(q, entry);
		if (!ret)
			memcpy(buf, q->zout, q->cs);
		return ret;
	case CL_ZERO:
		memset(buf, 0, q->cs);
		return 0;
	default:
		n = b && voff < b->size ? min_t(u64, q->cs, b->size - voff) : 0;
		memset(buf + n, 0, q->cs - n);
		return n ? disk_pread(b, buf, n, voff) : 0;
	}
}

static struct iovec *sub_iov(struct qcow2 *q, unsigned int n)
{
	if (n > q->sub_cap) {
		struct iovec *s = realloc(q->sub, n * sizeof(*s));

		if (!s)
			return NULL;
		q->sub = s;
		q->sub_cap = n;
	}
	return q->sub;
}

/*
 * Clusters that lie in the file in the order the guest sees them (what
 * qemu-img convert and sequential writes leave): the run of them after
 * l2i, as far as @len and this L2 table go, moves with the first one's
 * preadv or pwritev.  One call instead of one per cluster matters most
 * for writes into large page-cache folios, where each call walks the
 * whole folio (a 1 MiB write in 64 KiB clusters took 1.6x the CPU time of
 * one call).  @n: bytes up to the first cluster's end; returns the
 * run's bytes.  For a @write, every cluster must also take an in-place
 * write, as write_chunk() checks the first: ours alone (COPIED) and no
 * metadata's.
 */
static u64 normal_run(const struct qcow2 *q, const u64 *tbl,
		      unsigned int l2i, u64 host, u64 n, u64 len, bool write)
{
	while (n < len && ++l2i < (1U << q->l2_bits)) {
		u64 e = be64toh(tbl[l2i]), off = e & QCOW2_L2E_OFFSET_MASK;

		if (classify(q, e) != CL_NORMAL ||
		    (e & QCOW2_L2E_RESERVED) || off != host + n)
			break;
		if (write && (!(e & QCOW2_OFLAG_COPIED) ||
			      !qcow2_data_cluster_ok(q, off)))
			break;
		n += min_t(u64, q->cs, len - n);
	}
	return n;
}

/*
 * Reads *n bytes at @voff (within one cluster), or more when the
 * clusters after it follow it in the file: *n says how many were read.
 */
static int read_chunk(struct qcow2 *q, u64 voff, u64 *np, u64 len,
		      const struct iovec *iov, unsigned int cnt, u64 skip)
{
	unsigned int l2i, nsub;
	u64 *tbl, entry, in = voff & (q->cs - 1), n = *np, host;
	struct iovec *sub;
	int ret;

	ret = get_l2(q, voff, &tbl, &l2i);
	if (ret)
		return ret;
	entry = tbl ? be64toh(tbl[l2i]) : 0;
	if (classify(q, entry) == CL_NORMAL) {
		if ((entry & QCOW2_L2E_RESERVED) ||
		    (entry & QCOW2_L2E_OFFSET_MASK) % q->cs)
			return -EIO;
		host = (entry & QCOW2_L2E_OFFSET_MASK) + in;
		n = *np = normal_run(q, tbl, l2i, host, n, len, false);
		sub = sub_iov(q, cnt);
		if (!sub)
			return -ENOMEM;
		nsub = iov_slice(iov, cnt, skip, n, sub);
		return data_rw(q, sub, nsub, n, host, false);
	}
	if (classify(q, entry) == CL_ZERO ||
	    (classify(q, entry) == CL_UNALLOC && !q->backing)) {
		iov_memset(iov, cnt, skip, 0, n);
		return 0;
	}
	if (q->nowait)
		return -EAGAIN;		/* compressed, or the backing file */
	ret = read_cluster(q, entry, voff - in, q->buf);
	if (!ret)
		iov_from_buf(iov, cnt, skip, q->buf + in, n);
	return ret;
}

/* Changes the refcount of the cluster at host @off by @delta. */
static int refcount_add(struct qcow2 *q, u64 off, int delta)
{
	unsigned int order = q->h.refcount_order, bits = 1U << order;
	u64 c = off >> q->cb, ri = c >> q->rb_bits, idx, boff, max, v;
	unsigned int width = bits >= 8 ? bits / 8 : 1, local;
	u8 tmp[8];
	int ret;

	if (!qcow2_refblock_ok(q, off))
		return -EIO;
	idx = c & ((1ULL << q->rb_bits) - 1);
	boff = (idx << order) / 8;
	local = bits >= 8 ? 0 : (unsigned int)(idx & ((8U >> order) - 1));
	ret = full_pread(q->fd, tmp, width, q->rt[ri] + boff);
	if (ret)
		return ret;
	v = qcow2_refcount_get(tmp, local, order);
	max = bits == 64 ? ~0ULL : (1ULL << bits) - 1;
	if ((delta < 0 && v < (u64)-delta) || (delta > 0 && v > max - (u64)delta)) {
		pr_debug("qcow2 %s: refcount of cluster %llu out of range",
			 q->d->path, (unsigned long long)c);
		return -EIO;
	}
	qcow2_refcount_set(tmp, local, order, v + (u64)(s64)delta);
	return full_pwrite(q->fd, tmp, width, q->rt[ri] + boff);
}

/*
 * Reserves the next cluster at the end of the file (refcount still 0),
 * first creating the refcount block that will count it if there is none:
 * the new block sits in the range it covers and counts itself.
 */
static int alloc_cluster(struct qcow2 *q, u64 *out)
{
	u64 c, ri, be;
	int ret;

	for (;;) {
		/* Left as holes: a hostile entry points there already. */
		while (qcow2_named_past_end(q, q->next_free))
			q->next_free += q->cs;
		c = q->next_free >> q->cb;
		ri = c >> q->rb_bits;
		if (ri >= q->rt_entries)
			return -ENOSPC;	/* growing the refcount table: no */
		if (q->rt[ri])
			break;
		ret = qcow2_meta_mark(&q->meta, c << q->cb, q->cs,
				      QCOW2_META_RB);
		if (ret)
			return ret;
		memset(q->zin, 0, q->cs);
		qcow2_refcount_set(q->zin, c & ((1ULL << q->rb_bits) - 1),
				   q->h.refcount_order, 1);
		ret = full_pwrite(q->fd, q->zin, q->cs, c << q->cb);
		if (!ret)
			ret = flush(q);
		if (ret)
			return ret;
		be = htobe64(c << q->cb);
		ret = full_pwrite(q->fd, &be, 8, q->h.rt_offset + ri * 8);
		if (ret)
			return ret;
		q->rt[ri] = c << q->cb;
		q->next_free += q->cs;
		q->file_size = max_t(u64, q->file_size, q->next_free);
	}
	if (!qcow2_refblock_ok(q, c << q->cb))
		return -EIO;
	*out = c << q->cb;
	q->next_free += q->cs;
	q->zout_entry = 0;
	return 0;
}

/* Drops the references an L2 entry we replaced held. */
static int release(struct qcow2 *q, u64 entry)
{
	u64 off, len, c;
	int ret;

	if (classify(q, entry) == CL_COMPRESSED) {
		qcow2_compressed_range(q, entry, &off, &len);
		off &= ~511ULL;
		for (c = off >> q->cb; c <= (off + len - 1) >> q->cb; c++) {
			ret = refcount_add(q, c << q->cb, -1);
			if (ret)
				return ret;
		}
		return 0;
	}
	if (classify(q, entry) == CL_NORMAL ||
	    (entry & QCOW2_L2E_OFFSET_MASK))
		return refcount_add(q, entry & QCOW2_L2E_OFFSET_MASK, -1);
	return 0;
}

/*
 * Writes *np bytes at @voff (within one cluster), or more when the
 * clusters after it follow it in the file and take in-place writes too:
 * *np says how many were written.
 */
static int write_chunk(struct qcow2 *q, u64 voff, u64 *np, u64 len,
		       const struct iovec *iov, unsigned int cnt, u64 skip)
{
	u64 l1i = voff >> (q->cb + q->l2_bits), in = voff & (q->cs - 1);
	u64 *tbl, entry, off, new, l2new = 0, be, n = *np;
	enum cluster_type type;
	unsigned int l2i, nsub;
	struct iovec *sub;
	int ret;

	ret = get_l2(q, voff, &tbl, &l2i);
	if (ret)
		return ret;
	if (tbl && !(q->l1[l1i] & QCOW2_OFLAG_COPIED))
		return -EIO;	/* shared L2 table: only with snapshots */
	entry = tbl ? be64toh(tbl[l2i]) : 0;
	type = classify(q, entry);
	off = entry & QCOW2_L2E_OFFSET_MASK;
	/*
	 * Everything the entry makes us write or release is checked here,
	 * before anything is written: a violation leaves the image as it
	 * was.  In-place writes need a plain data cluster; a released
	 * cluster also a sound refcount block.
	 */
	if (type == CL_COMPRESSED && !qcow2_compressed_ok(q, entry))
		return -EIO;
	if (type != CL_COMPRESSED && off &&
	    ((entry & QCOW2_L2E_RESERVED) || !qcow2_data_cluster_ok(q, off) ||
	     (!(entry & QCOW2_OFLAG_COPIED) && !qcow2_refblock_ok(q, off))))
		return -EIO;

	/* Zeroes over something that already reads as zeroes. */
	if (!iov && (type == CL_ZERO ||
		     (type == CL_UNALLOC && !q->backing)))
		return 0;

	if (type == CL_NORMAL && (entry & QCOW2_OFLAG_COPIED)) {
		if (!iov) {
			memset(q->buf, 0, n);
			return full_pwrite(q->fd, q->buf, n, off + in);
		}
		n = *np = normal_run(q, tbl, l2i, off + in, n, len, true);
		sub = sub_iov(q, cnt);
		if (!sub)
			return -ENOMEM;
		nsub = iov_slice(iov, cnt, skip, n, sub);
		return data_rw(q, sub, nsub, n, off + in, true);
	}
	/* Allocating, copying, releasing: the worker's, with its fsyncs. */
	if (q->nowait)
		return -EAGAIN;

	/* Build the whole new cluster. */
	if (n < q->cs) {
		ret = read_cluster(q, entry, voff - in, q->buf);
		if (ret)
			return ret;
	}
	if (iov)
		iov_to_buf(iov, cnt, skip, q->buf + in, n);
	else
		memset(q->buf + in, 0, n);

	if (type == CL_ZERO && off && (entry & QCOW2_OFLAG_COPIED)) {
		/* Preallocated zero cluster: fill it, then clear the flag. */
		ret = full_pwrite(q->fd, q->buf, q->cs, off);
		if (!ret)
			ret = flush(q);
		if (ret)
			return ret;
		tbl[l2i] = htobe64(off | QCOW2_OFLAG_COPIED);
		ret = full_pwrite(q->fd, &tbl[l2i], 8,
				  (q->l1[l1i] & QCOW2_L1E_OFFSET_MASK) + l2i * 8);
		/*
		 * The file still says zero: so must the cache, or the next
		 * write goes in place, succeeds, and reads as zeroes once
		 * the table is loaded again.
		 */
		if (ret)
			tbl[l2i] = htobe64(entry);
		return ret;
	}

	ret = alloc_cluster(q, &new);
	if (!ret)
		ret = full_pwrite(q->fd, q->buf, q->cs, new);
	if (!ret)
		ret = refcount_add(q, new, 1);
	if (!ret && !tbl) {
		ret = alloc_cluster(q, &l2new);
		if (!ret)
			ret = qcow2_meta_mark(&q->meta, l2new, q->cs,
					      QCOW2_META_L2);
		if (!ret)
			ret = refcount_add(q, l2new, 1);
	}
	if (!ret)
		ret = flush(q);		/* data + counts before references */
	if (ret)
		return ret;
	q->file_size = max_t(u64, q->file_size, q->next_free);

	if (!tbl) {
		tbl = qcow2_l2_cache_new(&q->l2, l2new);
		tbl[l2i] = htobe64(new | QCOW2_OFLAG_COPIED);
		ret = full_pwrite(q->fd, tbl, q->cs, l2new);
		if (!ret)
			ret = flush(q);
		if (ret) {
			/* Forget the table: it is not on disk. */
			qcow2_l2_cache_drop(&q->l2, l2new);
			return ret;
		}
		be = htobe64(l2new | QCOW2_OFLAG_COPIED);
		ret = full_pwrite(q->fd, &be, 8, q->h.l1_offset + l1i * 8);
		if (ret)
			return ret;
		q->l1[l1i] = l2new | QCOW2_OFLAG_COPIED;
		return 0;
	}
	tbl[l2i] = htobe64(new | QCOW2_OFLAG_COPIED);
	ret = full_pwrite(q->fd, &tbl[l2i], 8,
			  (q->l1[l1i] & QCOW2_L1E_OFFSET_MASK) + l2i * 8);
	if (ret) {
		tbl[l2i] = htobe64(entry);
		return ret;
	}
	if (type == CL_COMPRESSED || off) {
		/* The new reference must be durable before the old goes. */
		ret = flush(q);
		if (!ret)
			ret = release(q, entry);
	}
	return ret;
}

static int do_rw(struct qcow2 *q, struct disk_req *req, u64 voff, u64 len,
		 const struct iovec *iov, unsigned int cnt, bool write)
{
	u64 skip = 0;
	int ret;

	while (len) {
		u64 n = qcow2_chunk(voff, len, q->cb);

		ret = write ? write_chunk(q, voff, &n, len, iov, cnt, skip) :
			      read_chunk(q, voff, &n, len, iov, cnt, skip);
		if (ret) {
			if (ret == -EAGAIN && q->nowait)
				return ret;	/* the worker takes it */
			pr_debug("qcow2 %s: request %llu at %llu: %s",
				 q->d->path, (unsigned long long)req->id,
				 (unsigned long long)voff, strerror(-ret));
			return ret;
		}
		voff += n;
		len -= n;
		skip += n;
	}
	return 0;
}

/* Worker thread. */
static int qcow2_handle(void *ctx, struct disk_req *req)
{
	struct qcow2 *q = ctx;

	switch (req->op) {
	case DISK_OP_READ:
		return do_rw(q, req, req->offset, req->len, req->iov,
			     req->iovcnt, false);
	case DISK_OP_WRITE:
		return do_rw(q, req, req->offset, req->len, req->iov,
			     req->iovcnt, true);
	case DISK_OP_WRITE_ZEROES:
		return do_rw(q, req, req->offset, req->len, NULL, 0, true);
	case DISK_OP_FLUSH:
		return flush(q);
	default:
		return -EOPNOTSUPP;
	}
}

/* The submitting thread, the worker's lock held (see the top). */
static int qcow2_handle_nowait(void *ctx, struct disk_req *req)
{
	struct qcow2 *q = ctx;
	int ret;

	if (req->op != DISK_OP_READ && req->op != DISK_OP_WRITE)
		return -EAGAIN;
	q->nowait = true;
	ret = qcow2_handle(ctx, req);
	q->nowait = false;
	return ret;
}

static int qcow2_submit(struct disk *d, struct disk_req *req)
{
	struct qcow2 *q = d->priv;

	if (!disk_worker_try_inline(&q->worker, req, qcow2_handle_nowait,
				    !d->poll_after_submit))
		disk_worker_queue(&q->worker, req);
	return 0;
}

static void qcow2_poll(struct disk *d)
{
	struct qcow2 *q = d->priv;

	disk_worker_reap(&q->worker, d);
}

static void qcow2_drain(struct disk *d)
{
	struct qcow2 *q = d->priv;

	disk_worker_drain(&q->worker, d);
}

/* Synchronous, for a qcow2 image used as someone's backing file. */
static int qcow2_pread(struct disk *d, void *buf, size_t len, u64 off)
{
	struct disk_req req = { .op = DISK_OP_READ, .offset = off, .len = len };
	struct iovec iov = { buf, len };

	return do_rw(d->priv, &req, off, len, &iov, 1, false);
}

static void qcow2_free(struct qcow2 *q)
{
	disk_worker_stop(&q->worker);
	disk_close(q->backing);
	qcow2_l2_cache_free(&q->l2);
	qcow2_meta_free(&q->meta);
	free(q->past);
	free(q->l1);
	free(q->rt);
	free(q->buf);
	free(q->zin);
	free(q->zout);
	free(q->sub);
	free(q);
}

static void qcow2_close(struct disk *d)
{
	qcow2_free(d->priv);
	d->priv = NULL;
}

static const struct disk_ops qcow2_ops = {
	.name = "qcow2",
	.submit = qcow2_submit,
	.poll = qcow2_poll,
	.drain = qcow2_drain,
	.pread = qcow2_pread,
	.close = qcow2_close,
};


static int load_tables(struct qcow2 *q, char *err, size_t errlen)
{
	u64 l1_bytes = (u64)q->h.l1_size * 8;
	u64 rt_bytes = (u64)q->h.rt_clusters * q->cs;
	int ret;

	q->l1 = calloc(1, max_t(u64, l1_bytes, 8));
	q->rt = malloc(rt_bytes);
	if (!q->l1 || !q->rt) {
		disk_err(err, errlen, "qcow2: no memory for the L1 and refcount tables (%llu bytes)",
			 (unsigned long long)(l1_bytes + rt_bytes));
		return -ENOMEM;
	}
	ret = full_pread(q->fd, q->l1, l1_bytes, q->h.l1_offset);
	if (!ret)
		ret = full_pread(q->fd, q->rt, rt_bytes, q->h.rt_offset);
	if (ret) {
		disk_err(err, errlen, "qcow2: cannot read the L1/refcount tables: %s",
			 strerror(-ret));
		return ret;
	}
	for (u64 i = 0; i < q->h.l1_size; i++)
		q->l1[i] = be64toh(q->l1[i]);
	q->rt_entries = rt_bytes / 8;
	for (u64 i = 0; i < q->rt_entries; i++) {
		q->rt[i] = be64toh(q->rt[i]);
		if (q->rt[i] && (qcow2_bad_cluster(q, q->rt[i]) ||
				 q->rt[i] >= q->next_free)) {
			disk_err(err, errlen, "qcow2: refcount table entry %llu is invalid",
				 (unsigned long long)i);
			return -EINVAL;
		}
	}
	return 0;
}

/* Autoclear features describe data we do not maintain: drop them. */
static int clear_autoclear(struct qcow2 *q)
{
	u64 zero = 0;
	int ret;

	if (q->h.version < 3 || !q->h.autoclear)
		return 0;
	ret = full_pwrite(q->fd, &zero, 8, 88);
	return ret ? ret : flush(q);
}

int qcow2_open(struct disk *d, int fd, int dir_fd,
	       const struct disk_opts *opts, unsigned int depth, char *err,
	       size_t errlen)
{
	const char *why = NULL;
	struct qcow2 *q;
	struct stat st;
	size_t hlen;
	u8 *hdr = NULL;
	int ret;

	q = calloc(1, sizeof(*q));
	if (!q) {
		close(fd);
		disk_err(err, errlen, "qcow2: out of memory");
		return -ENOMEM;
	}
	q->d = d;
	q->fd = fd;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto fail;
	}
	/* Sizes, growth and allocation below are a regular file's. */
	if (!S_ISREG(st.st_mode)) {
		disk_err(err, errlen, "qcow2: only regular files are supported, not %s (format=raw uses a device as it is)",
			 S_ISBLK(st.st_mode) ? "a block device" : "this file type");
		ret = -ENOTSUP;
		goto out;
	}
	q->file_size = (u64)st.st_size;
	hlen = (size_t)min_t(u64, q->file_size, 1ULL << QCOW2_MAX_CLUSTER_BITS);
	hdr = malloc(max_t(size_t, hlen, 1));
	if (!hdr) {
		ret = -ENOMEM;
		goto fail;
	}
	/* An empty file is for the parser to call too short. */
	ret = hlen ? full_pread(fd, hdr, hlen, 0) : 0;
	if (ret)
		goto fail;
	ret = qcow2_parse_header(hdr, hlen, q->file_size, &q->h, &why);
	if (ret) {
		disk_err(err, errlen, "qcow2: %s", why);
		goto out;
	}
	if (!d->readonly && (q->h.incompat & (QCOW2_INCOMPAT_DIRTY |
					      QCOW2_INCOMPAT_CORRUPT))) {
		disk_err(err, errlen, "qcow2: image is marked %s; repair it with 'qemu-img check -r all' or open it ro",
			 q->h.incompat & QCOW2_INCOMPAT_CORRUPT ? "corrupt" : "dirty");
		ret = -EINVAL;
		goto out;
	}
	if (!d->readonly && q->h.nb_snapshots) {
		disk_err(err, errlen, "qcow2: images with internal snapshots can only be opened ro");
		ret = -ENOTSUP;
		goto out;
	}
	q->cs = q->h.cluster_size;
	q->cb = q->h.cluster_bits;
	q->l2_bits = q->cb - 3;
	q->rb_bits = q->cb + 3 - q->h.refcount_order;
	q->next_free = ALIGN_UP(q->file_size, q->cs);
	q->open_end = q->next_free;
	q->buf = malloc(q->cs);
	q->zin = malloc(2 * q->cs);
	q->zout = malloc(q->cs);
	if (!q->buf || !q->zin || !q->zout) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = load_tables(q, err, errlen);
	if (!ret)
		ret = qcow2_map_metadata(q, err, errlen);
	if (ret)
		goto out;
	ret = qcow2_l2_cache_init(&q->l2, L2_CACHE_TABLES, q->cs, l2_load, q);
	if (ret)
		goto fail;
	if (q->h.backing_offset || opts->backing == DISK_BACKING_PATH) {
		ret = qcow2_open_backing(q, hdr, dir_fd, opts, depth, err,
					 errlen);
		if (ret)
			goto out;
	}
	if (!d->readonly) {
		ret = clear_autoclear(q);
		if (ret)
			goto fail;
	}
	d->size = q->h.size & ~(u64)(DISK_SECTOR_SIZE - 1);
	d->priv = q;
	d->ops = &qcow2_ops;
	d->fd = fd;
	d->can_write_zeroes = !d->readonly;
	ret = disk_worker_start(&q->worker, d->event_fd, qcow2_handle, q);
	if (ret) {
		d->priv = NULL;
		d->fd = -1;
		goto fail;
	}
	free(hdr);
	return 0;
fail:
	disk_err(err, errlen, "qcow2: %s", strerror(-ret));
out:
	free(hdr);
	qcow2_free(q);	/* closes the backing disk */
	close(fd);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The qcow2 metadata map: one byte per cluster of the image file saying
 * what metadata it holds (header, L1, refcount table and blocks, L2
 * tables, compressed data).  A hostile image can point an L1 or L2 entry
 * at its own metadata; the backend asks the map before every write that
 * an entry directs, so guest data never lands in a refcount block or an
 * L2 table, and a refcount drop never hits a metadata cluster (QEMU's
 * overlap checks guard the same).  It grows as clusters are appended.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

int qcow2_meta_mark(struct qcow2_meta *m, u64 off, u64 len, u8 what)
{
	u64 first = off >> m->cb, last = (off + len - 1) >> m->cb;

	if (!len)
		return 0;
	/*
	 * The map reaches the last metadata cluster; a sparse file lets a
	 * hostile image name one a terabyte out.
	 */
	if (last >= QCOW2_MAX_META_CLUSTERS)
		return -EFBIG;
	if (last >= m->n) {
		u64 n = max_t(u64, last + 1, m->n * 2);
		u8 *map = realloc(m->map, n);

		if (!map)
			return -ENOMEM;
		memset(map + m->n, 0, n - m->n);
		m->map = map;
		m->n = n;
	}
	for (u64 c = first; c <= last; c++)
		m->map[c] |= what;
	return 0;
}

u8 qcow2_meta_get(const struct qcow2_meta *m, u64 off, u64 len)
{
	u64 first = off >> m->cb, last = (off + len - 1) >> m->cb;
	u8 what = 0;

	if (!len)
		return 0;
	for (u64 c = first; c <= last && c < m->n; c++)
		what |= m->map[c];
	return what;
}

void qcow2_meta_free(struct qcow2_meta *m)
{
	free(m->map);
	m->map = NULL;
	m->n = 0;
}

/*
 * The refcount block counting host cluster @off exists and is only a
 * refcount block, so changing a count in it changes nothing else.
 */
bool qcow2_refblock_ok(const struct qcow2 *q, u64 off)
{
	u64 ri = (off >> q->cb) >> q->rb_bits;

	return ri < q->rt_entries && q->rt[ri] &&
	       qcow2_meta_get(&q->meta, q->rt[ri], q->cs) == QCOW2_META_RB;
}

/* A data cluster an L2 entry names, which we may write or release. */
bool qcow2_data_cluster_ok(const struct qcow2 *q, u64 off)
{
	return !qcow2_bad_cluster(q, off) && off < q->next_free &&
	       !qcow2_meta_get(&q->meta, off, q->cs);
}

/*
 * The host clusters the compressed cluster @entry occupies hold nothing
 * but compressed data, lie inside the file as it was opened (we never
 * write compressed data) and are counted in sound refcount blocks: only
 * then may release() drop their counts.
 */
bool qcow2_compressed_ok(const struct qcow2 *q, u64 entry)
{
	u64 off, len, end;

	qcow2_compressed_range(q, entry, &off, &len);
	end = off + len;
	off &= ~511ULL;
	if (off < q->cs || end > q->open_end ||
	    (qcow2_meta_get(&q->meta, off, end - off) & ~QCOW2_META_COMP))
		return false;
	for (u64 c = off >> q->cb; c <= (end - 1) >> q->cb; c++)
		if (!qcow2_refblock_ok(q, c << q->cb))
			return false;
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

bool qcow2_named_past_end(const struct qcow2 *q, u64 off)
{
	return q->npast && bsearch(&off, q->past, q->npast, sizeof(u64),
				   cmp_u64);
}

/*
 * Remembers that an entry names @off; only offsets past the end count.
 * A sound image names none, but L1 entries may share an L2 table, so a
 * hostile one can name 2^22 L1 x 2^18 L2 entries: past QCOW2_MAX_PAST
 * the image is refused (-EFBIG) rather than listed.
 */
static int note_past(struct qcow2 *q, u64 off, u64 *cap)
{
	u64 *p;

	off &= ~(q->cs - 1);
	if (off < q->open_end)
		return 0;
	if (q->npast && q->past[q->npast - 1] == off)
		return 0;		/* the same L2 table's entries in a row */
	if (q->npast == QCOW2_MAX_PAST)
		return -EFBIG;
	if (q->npast == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		p = realloc(q->past, *cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		q->past = p;
	}
	q->past[q->npast++] = off;
	return 0;
}

/*
 * Fills the metadata map: header, L1, refcount table and blocks, the L2
 * tables the L1 names, and, if the image will be written, every
 * compressed cluster's host range (which means reading all L2 tables;
 * entries that point outside the file or at the wrong kind of cluster
 * are left for the checks at use, which fail them with -EIO; those past
 * the end are also remembered, so that the file never grows a cluster
 * under an entry we did not write).
 */
int qcow2_map_metadata(struct qcow2 *q, char *err, size_t errlen)
{
	struct qcow2_meta *m = &q->meta;
	u64 cap = 0;
	int ret;

	m->cb = q->cb;
	ret = qcow2_meta_mark(m, 0, q->cs, QCOW2_META_HDR);
	if (!ret)
		ret = qcow2_meta_mark(m, q->h.l1_offset, (u64)q->h.l1_size * 8,
				      QCOW2_META_L1);
	if (!ret)
		ret = qcow2_meta_mark(m, q->h.rt_offset,
				      (u64)q->h.rt_clusters * q->cs,
				      QCOW2_META_RT);
	for (u64 i = 0; !ret && i < q->rt_entries; i++)
		if (q->rt[i])
			ret = qcow2_meta_mark(m, q->rt[i], q->cs, QCOW2_META_RB);
	for (u64 i = 0; !ret && i < q->h.l1_size; i++) {
		u64 off = q->l1[i] & QCOW2_L1E_OFFSET_MASK;

		if (off && off < q->next_free && !qcow2_bad_cluster(q, off))
			ret = qcow2_meta_mark(m, off, q->cs, QCOW2_META_L2);
	}
	for (u64 i = 0; !ret && !q->d->readonly && i < q->h.l1_size; i++) {
		u64 off = q->l1[i] & QCOW2_L1E_OFFSET_MASK, *tbl = (u64 *)q->buf;

		if (off >= q->open_end)
			ret = note_past(q, off, &cap);
		if (!off || off >= q->next_free || qcow2_bad_cluster(q, off) ||
		    (qcow2_meta_get(m, off, q->cs) & ~QCOW2_META_L2))
			continue;
		if (!ret)
			ret = full_pread(q->fd, tbl, q->cs, off);
		for (u64 j = 0; !ret && j < q->cs / 8; j++) {
			u64 e = be64toh(tbl[j]), coff, clen;

			if (!(e & QCOW2_OFLAG_COMPRESSED)) {
				ret = note_past(q, e & QCOW2_L2E_OFFSET_MASK,
						&cap);
				continue;
			}
			qcow2_compressed_range(q, e, &coff, &clen);
			if (coff >= q->open_end)
				continue;
			clen = min_t(u64, clen, q->open_end - coff);
			ret = qcow2_meta_mark(m, coff, clen, QCOW2_META_COMP);
		}
	}
	if (!ret && q->npast)
		qsort(q->past, q->npast, sizeof(u64), cmp_u64);
	if (ret == -EFBIG && q->npast == QCOW2_MAX_PAST)
		disk_err(err, errlen, "qcow2: more than %u L1/L2 entries name clusters past the end of the file; repair the image with 'qemu-img check -r all' or open it ro",
			 QCOW2_MAX_PAST);
	else if (ret == -EFBIG)
		disk_err(err, errlen, "qcow2: metadata beyond cluster %llu of the file; lkvm maps at most that many clusters (convert the image to larger clusters)",
			 QCOW2_MAX_META_CLUSTERS);
	else if (ret)
		disk_err(err, errlen, "qcow2: mapping the metadata: %s",
			 strerror(-ret));
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * qcow2 header parsing with strict validation, and a minimal image
 * creator for tests.  Nothing here trusts the file: every offset is
 * checked for alignment, overlap and the end of the file, every size
 * against QEMU's limits, before the rest of the backend sees it.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qcow2.h"

static u32 be32_at(const u8 *p)
{
	u32 v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static u64 be64_at(const u8 *p)
{
	u64 v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

/* [a, a+alen) and [b, b+blen) overlap (lengths > 0, no overflow). */
static bool overlaps(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

#define FAIL(err, msg) do { *why = (msg); return (err); } while (0)

static int parse_extensions(const u8 *buf, size_t len, struct qcow2_header *h,
			    const char **why)
{
	u64 off = h->version == 2 ? QCOW2_V2_HDR_LEN : h->header_length;
	/* Extensions live in the first cluster, before the backing name. */
	u64 end = min_t(u64, h->cluster_size, len);

	if (h->backing_offset && h->backing_offset < end)
		end = h->backing_offset;
	for (;;) {
		u32 type, elen;

		if (off + 8 > end)
			FAIL(-EINVAL, "header extensions run past the first cluster");
		type = be32_at(buf + off);
		elen = be32_at(buf + off + 4);
		off += 8;
		if (type == QCOW2_EXT_END)
			return 0;
		if (elen > end - off)
			FAIL(-EINVAL, "header extension longer than the header cluster");
		if (type == QCOW2_EXT_BACKING_FMT) {
			if (elen >= sizeof(h->backing_fmt))
				FAIL(-EINVAL, "backing format name too long");
			memcpy(h->backing_fmt, buf + off, elen);
			h->backing_fmt[elen] = '\0';
		}
		/* Others (feature names, bitmaps) are for QEMU only. */
		off += ALIGN_UP((u64)elen, 8);
	}
}

int qcow2_parse_header(const u8 *buf, size_t len, u64 file_size,
		       struct qcow2_header *h, const char **why)
{
	u64 l2_entries, l1_needed, l1_bytes, rt_bytes;

	memset(h, 0, sizeof(*h));
	if (len < QCOW2_V2_HDR_LEN)
		FAIL(-EINVAL, "file too short for a qcow2 header");
	if (be32_at(buf) != QCOW2_MAGIC)
		FAIL(-EINVAL, "bad qcow2 magic");
	h->version = be32_at(buf + 4);
	if (h->version != 2 && h->version != 3)
		FAIL(-ENOTSUP, "unsupported qcow2 version (only 2 and 3)");
	h->backing_offset = be64_at(buf + 8);
	h->backing_len = be32_at(buf + 16);
	h->cluster_bits = be32_at(buf + 20);
	h->size = be64_at(buf + 24);
	if (be32_at(buf + 32))
		FAIL(-ENOTSUP, "encrypted images are not supported");
	h->l1_size = be32_at(buf + 36);
	h->l1_offset = be64_at(buf + 40);
	h->rt_offset = be64_at(buf + 48);
	h->rt_clusters = be32_at(buf + 56);
	h->nb_snapshots = be32_at(buf + 60);
	h->snapshots_offset = be64_at(buf + 64);

	if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    h->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		FAIL(-EINVAL, "cluster_bits out of range 9..21");
	h->cluster_size = 1ULL << h->cluster_bits;

	if (h->version == 2) {
		h->refcount_order = 4;
		h->header_length = QCOW2_V2_HDR_LEN;
	} else {
		if (len < QCOW2_V3_HDR_LEN)
			FAIL(-EINVAL, "file too short for a version 3 header");
		h->incompat = be64_at(buf + 72);
		h->compat = be64_at(buf + 80);
		h->autoclear = be64_at(buf + 88);
		h->refcount_order = be32_at(buf + 96);
		h->header_length = be32_at(buf + 100);
		if (h->header_length < QCOW2_V3_HDR_LEN ||
		    h->header_length % 8 ||
		    h->header_length > h->cluster_size)
			FAIL(-EINVAL, "bad header_length");
		if (len < h->header_length)
			FAIL(-EINVAL, "file too short for its header_length");
		if (h->refcount_order > QCOW2_MAX_REFCOUNT_ORDER)
			FAIL(-EINVAL, "refcount_order above 6");
		if (h->incompat & ~QCOW2_INCOMPAT_KNOWN)
			FAIL(-ENOTSUP, "unknown incompatible feature bits");
		if (h->incompat & QCOW2_INCOMPAT_DATA_FILE)
			FAIL(-ENOTSUP, "external data files are not supported");
		if (h->incompat & QCOW2_INCOMPAT_EXTL2)
			FAIL(-ENOTSUP, "extended L2 entries are not supported");
		if (h->incompat & QCOW2_INCOMPAT_COMPRESSION) {
			if (h->header_length < 105 || buf[104] != 0)
				FAIL(-ENOTSUP, "only zlib compression is supported");
		}
	}

	if (!h->size || h->size > QCOW2_MAX_SIZE)
		FAIL(-EINVAL, "virtual size is zero or too large");
	l2_entries = h->cluster_size / 8;
	l1_needed = (h->size + h->cluster_size * l2_entries - 1) /
		    (h->cluster_size * l2_entries);
	l1_bytes = (u64)h->l1_size * 8;
	if (h->l1_size < l1_needed)
		FAIL(-EINVAL, "L1 table too small for the virtual size");
	if (l1_bytes > QCOW2_MAX_L1_BYTES)
		FAIL(-EINVAL, "L1 table too large");
	if (!h->l1_offset || h->l1_offset % h->cluster_size)
		FAIL(-EINVAL, "L1 table offset not cluster aligned");
	if (h->l1_offset > file_size || l1_bytes > file_size - h->l1_offset)
		FAIL(-EINVAL, "L1 table past the end of the file (truncated image?)");

	rt_bytes = (u64)h->rt_clusters * h->cluster_size;
	if (!h->rt_clusters || rt_bytes > QCOW2_MAX_RT_BYTES)
		FAIL(-EINVAL, "refcount table size out of range");
	if (!h->rt_offset || h->rt_offset % h->cluster_size)
		FAIL(-EINVAL, "refcount table offset not cluster aligned");
	if (h->rt_offset > file_size || rt_bytes > file_size - h->rt_offset)
		FAIL(-EINVAL, "refcount table past the end of the file (truncated image?)");
	if (overlaps(h->l1_offset, max_t(u64, l1_bytes, 1), h->rt_offset,
		     rt_bytes))
		FAIL(-EINVAL, "L1 table and refcount table overlap");

	if (h->backing_offset) {
		if (!h->backing_len || h->backing_len > QCOW2_MAX_BACKING_LEN)
			FAIL(-EINVAL, "backing file name length out of range");
		if (h->backing_offset < h->header_length ||
		    h->backing_offset > h->cluster_size - h->backing_len ||
		    h->backing_offset + h->backing_len > len)
			FAIL(-EINVAL, "backing file name outside the header cluster");
		if (memchr(buf + h->backing_offset, 0, h->backing_len))
			FAIL(-EINVAL, "backing file name contains a NUL");
	}
	if (h->nb_snapshots &&
	    (!h->snapshots_offset || h->snapshots_offset % h->cluster_size ||
	     h->snapshots_offset >= file_size))
		FAIL(-EINVAL, "bad snapshot table offset");
	return parse_extensions(buf, len, h, why);
}

static void put_be32(u8 *p, u32 v)
{
	v = htobe32(v);
	memcpy(p, &v, sizeof(v));
}

static void put_be64(u8 *p, u64 v)
{
	v = htobe64(v);
	memcpy(p, &v, sizeof(v));
}

/*
 * Layout: cluster 0 header, 1 refcount table, 2 refcount block, 3.. L1.
 * The refcount block covers clusters 0..3+L1 (asserted below).
 */
int qcow2_create(const char *path, u64 size, unsigned int cluster_bits,
		 unsigned int version, unsigned int refcount_order)
{
	u64 cs = 1ULL << cluster_bits, l1_size, l1_clusters, used;
	u8 *buf = NULL;
	int fd, ret = 0;

	if (cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    cluster_bits > QCOW2_MAX_CLUSTER_BITS ||
	    (version != 2 && version != 3) ||
	    refcount_order > QCOW2_MAX_REFCOUNT_ORDER ||
	    (version == 2 && refcount_order != 4) || !size ||
	    size > QCOW2_MAX_SIZE)
		return -EINVAL;
	size = ALIGN_UP(size, (u64)DISK_SECTOR_SIZE);
	l1_size = (size + cs * (cs / 8) - 1) / (cs * (cs / 8));
	l1_clusters = (l1_size * 8 + cs - 1) / cs;
	used = 3 + l1_clusters;
	/* Entries in one refcount block: cs * 8 / refcount bits. */
	if (used > (cs * 8) >> refcount_order || l1_size * 8 > QCOW2_MAX_L1_BYTES)
		return -EINVAL;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	buf = calloc(1, cs);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	put_be32(buf, QCOW2_MAGIC);
	put_be32(buf + 4, version);
	put_be32(buf + 20, cluster_bits);
	put_be64(buf + 24, size);
	put_be32(buf + 36, (u32)l1_size);
	put_be64(buf + 40, 3 * cs);
	put_be64(buf + 48, cs);
	put_be32(buf + 56, 1);
	if (version == 3) {
		put_be32(buf + 96, refcount_order);
		put_be32(buf + 100, QCOW2_V3_HDR_LEN);
		/* The end-of-extensions marker is the zeros that follow. */
	}
	ret = full_pwrite(fd, buf, cs, 0);
	if (ret)
		goto out;
	memset(buf, 0, cs);
	put_be64(buf, 2 * cs);
	ret = full_pwrite(fd, buf, cs, cs);
	if (ret)
		goto out;
	memset(buf, 0, cs);
	for (u64 i = 0; i < used; i++)
		qcow2_refcount_set(buf, i, refcount_order, 1);
	ret = full_pwrite(fd, buf, cs, 2 * cs);
	if (ret)
		goto out;
	if (ftruncate(fd, (off_t)(used * cs)) || fsync(fd))
		ret = -errno;
out:
	free(buf);
	close(fd);
	return ret;
}

u64 qcow2_refcount_get(const u8 *block, u64 index, unsigned int order)
{
	unsigned int bits = 1U << order;
	u64 v = 0;

	if (bits >= 8) {
		const u8 *p = block + (index << order) / 8;

		for (unsigned int i = 0; i < bits / 8; i++)
			v = v << 8 | p[i];
		return v;
	}
	/* Sub-byte entries: QEMU packs them from the least significant bit. */
	return (block[(index << order) / 8] >> ((index << order) % 8)) &
	       ((1U << bits) - 1);
}

void qcow2_refcount_set(u8 *block, u64 index, unsigned int order, u64 v)
{
	unsigned int bits = 1U << order;

	if (bits >= 8) {
		u8 *p = block + (index << order) / 8;

		for (int i = (int)(bits / 8) - 1; i >= 0; i--) {
			p[i] = (u8)v;
			v >>= 8;
		}
		return;
	}
	{
		u8 *p = &block[(index << order) / 8];
		unsigned int shift = (index << order) % 8;
		u8 mask = (u8)(((1U << bits) - 1) << shift);

		*p = (u8)((*p & ~mask) | ((v << shift) & mask));
	}
}

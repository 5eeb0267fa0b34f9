/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_DISK_QCOW2_H
#define LKVM_DISK_QCOW2_H

/*
 * qcow2 (versions 2 and 3), after QEMU's docs/interop/qcow2.txt.  Every
 * number read from the image is checked before it is used as an offset
 * or a size: a hostile image gets -EINVAL/-EIO, never a wild access.
 */
#include "disk-int.h"

#define QCOW2_MAGIC		0x514649fbU	/* "QFI\xfb" */
#define QCOW2_V2_HDR_LEN	72
#define QCOW2_V3_HDR_LEN	104
#define QCOW2_MIN_CLUSTER_BITS	9
#define QCOW2_MAX_CLUSTER_BITS	21
#define QCOW2_MAX_REFCOUNT_ORDER 6
/* QEMU's limits; tables this big are never needed by sane images. */
#define QCOW2_MAX_L1_BYTES	(32ULL << 20)
#define QCOW2_MAX_RT_BYTES	(8ULL << 20)
#define QCOW2_MAX_BACKING_LEN	1023
#define QCOW2_MAX_SIZE		(1ULL << 56)

/* Incompatible feature bits. */
#define QCOW2_INCOMPAT_DIRTY	(1ULL << 0)
#define QCOW2_INCOMPAT_CORRUPT	(1ULL << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ULL << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ULL << 3)
#define QCOW2_INCOMPAT_EXTL2	(1ULL << 4)
#define QCOW2_INCOMPAT_KNOWN	0x1fULL

/* Header extensions. */
#define QCOW2_EXT_END		0
#define QCOW2_EXT_BACKING_FMT	0xe2792acaU

/* L1/L2 entries. */
#define QCOW2_OFLAG_COPIED	(1ULL << 63)
#define QCOW2_OFLAG_COMPRESSED	(1ULL << 62)
#define QCOW2_OFLAG_ZERO	(1ULL << 0)
#define QCOW2_L1E_OFFSET_MASK	0x00fffffffffffe00ULL
#define QCOW2_L2E_OFFSET_MASK	0x00fffffffffffe00ULL
#define QCOW2_L1E_RESERVED	0x7f000000000001ffULL
#define QCOW2_L2E_RESERVED	0x3f000000000001feULL

struct qcow2_header {
	u32 version;
	u32 cluster_bits;
	u64 cluster_size;
	u64 size;			/* virtual disk size in bytes */
	u64 l1_offset;
	u32 l1_size;			/* entries */
	u64 rt_offset;
	u32 rt_clusters;
	u32 refcount_order;
	u64 backing_offset;
	u32 backing_len;
	u32 nb_snapshots;
	u64 snapshots_offset;
	u64 incompat, compat, autoclear;
	u32 header_length;
	char backing_fmt[16];		/* "" if not given */
};

/*
 * Parses and validates the header in @buf (the first min(file size, 2 MiB)
 * bytes of the file, @len of them).  Returns 0, or -EINVAL (corrupt) /
 * -ENOTSUP (valid but not supported) with a reason in *@why.
 */
int qcow2_parse_header(const u8 *buf, size_t len, u64 file_size,
		       struct qcow2_header *h, const char **why);

/*
 * Creates an empty image: header, one refcount table cluster, one
 * refcount block, the L1 table.  For tests and tools.
 */
int qcow2_create(const char *path, u64 size, unsigned int cluster_bits,
		 unsigned int version, unsigned int refcount_order);

/* An LRU cache of L2 tables, stored as on disk (big-endian). */
struct qcow2_l2_entry {
	u64 offset;			/* host offset, 0 = free slot */
	u64 last_use;
	u64 *table;
};

struct qcow2_l2_cache {
	unsigned int nr;
	size_t table_bytes;
	u64 clock;
	u64 hits, misses;		/* for tests */
	struct qcow2_l2_entry *e;
	/* Reads table_bytes at offset into buf: 0 or -errno. */
	int (*load)(void *ctx, u64 offset, void *buf, size_t len);
	void *ctx;
};

int qcow2_l2_cache_init(struct qcow2_l2_cache *c, unsigned int nr,
			size_t table_bytes,
			int (*load)(void *ctx, u64 off, void *buf, size_t len),
			void *ctx);
void qcow2_l2_cache_free(struct qcow2_l2_cache *c);
/* The table at host @offset, loaded if needed; NULL with *@err set. */
u64 *qcow2_l2_cache_get(struct qcow2_l2_cache *c, u64 offset, int *err);
/* A new (all-zero) table at @offset, without reading it. */
u64 *qcow2_l2_cache_new(struct qcow2_l2_cache *c, u64 offset);
/* Forgets the table at @offset (it never made it to the file). */
void qcow2_l2_cache_drop(struct qcow2_l2_cache *c, u64 offset);

/* Bytes from @off to the end of its cluster, at most @len. */
static inline u64 qcow2_chunk(u64 off, u64 len, unsigned int cluster_bits)
{
	u64 left = (1ULL << cluster_bits) - (off & ((1ULL << cluster_bits) - 1));

	return len < left ? len : left;
}

/*
 * What each cluster of the image file holds (disk/qcow2-meta.c), for the
 * overlap checks: a data write or a refcount drop aimed at a cluster with
 * any of these bits is refused with -EIO before anything is written.
 */
#define QCOW2_META_HDR		(1U << 0)
#define QCOW2_META_L1		(1U << 1)
#define QCOW2_META_RT		(1U << 2)	/* refcount table */
#define QCOW2_META_RB		(1U << 3)	/* refcount block */
#define QCOW2_META_L2		(1U << 4)
#define QCOW2_META_COMP		(1U << 5)	/* compressed cluster data */

struct qcow2_meta {
	u8 *map;			/* one byte per cluster */
	u64 n;				/* clusters in map */
	unsigned int cb;		/* cluster_bits */
};

/*
 * Adds @what to every cluster [@off, @off + @len) touches: 0, -ENOMEM, or
 * -EFBIG past QCOW2_MAX_META_CLUSTERS.
 */
int qcow2_meta_mark(struct qcow2_meta *m, u64 off, u64 len, u8 what);
/* The bits of every cluster [@off, @off + @len) touches, or-ed. */
u8 qcow2_meta_get(const struct qcow2_meta *m, u64 off, u64 len);
void qcow2_meta_free(struct qcow2_meta *m);

/* Refcount entry @index of a refcount block with 2^@order-bit entries. */
u64 qcow2_refcount_get(const u8 *block, u64 index, unsigned int order);
void qcow2_refcount_set(u8 *block, u64 index, unsigned int order, u64 v);

/* The backend's state (disk/qcow2.c), shared with its helper files. */
#define L2_CACHE_TABLES		16
#define QCOW2_MAX_PAST		65536	/* past-end names remembered at open */
/* The metadata map's reach: 1 byte per cluster, 64 MiB (4 TiB of 64 KiB clusters). */
#define QCOW2_MAX_META_CLUSTERS	(1ULL << 26)

enum cluster_type { CL_UNALLOC, CL_ZERO, CL_NORMAL, CL_COMPRESSED };

struct qcow2 {
	struct disk *d;
	struct qcow2_header h;
	int fd;
	u64 cs;
	unsigned int cb, l2_bits, rb_bits;
	u64 *l1;			/* host byte order */
	u64 *rt;			/* host byte order */
	u64 rt_entries;
	u64 next_free;			/* where the next cluster goes */
	u64 open_end;			/* next_free when opened */
	/*
	 * Clusters at or past open_end that an L1 or L2 entry already
	 * named at open (sorted): never allocated, or the entry would
	 * alias what we put there.
	 */
	u64 *past;
	u64 npast;
	u64 file_size;
	struct qcow2_meta meta;		/* what each cluster holds */
	struct qcow2_l2_cache l2;
	struct disk *backing;
	u8 *buf;			/* one cluster: COW and bounce */
	u8 *zin;			/* compressed input, two clusters */
	u8 *zout;			/* last decompressed cluster */
	u64 zout_entry;			/* its L2 entry, 0 = none */
	struct iovec *sub;		/* iovec slices */
	unsigned int sub_cap;
	struct disk_worker worker;
	bool nowait;			/* inline on the device thread */
	bool nowait_write_unsupported;	/* RWF_NOWAIT writes: EOPNOTSUPP */
};

/* A cluster we would write into or read metadata from must not be ours. */
static inline bool qcow2_bad_cluster(const struct qcow2 *q, u64 off)
{
	u64 l1 = q->h.l1_offset, l1len = (u64)q->h.l1_size * 8;
	u64 rt = q->h.rt_offset, rtlen = (u64)q->h.rt_clusters * q->cs;

	return off % q->cs || off < q->cs ||
	       (off < l1 + l1len && l1 < off + q->cs) ||
	       (off < rt + rtlen && rt < off + q->cs);
}

/* Host byte range [*off, *off + *len) of a compressed cluster. */
static inline void qcow2_compressed_range(const struct qcow2 *q, u64 entry,
					  u64 *off, u64 *len)
{
	unsigned int x = 62 - (q->cb - 8);
	u64 nsect = ((entry >> x) & ((1ULL << (q->cb - 8)) - 1)) + 1;

	*off = entry & ((1ULL << x) - 1);
	*len = nsect * 512 - (*off & 511);
}

/*
 * Opens the backing file named in the header at @hdr (or opts->backing_path)
 * under the rules of opts->backing (disk/qcow2-backing.c); @dir_fd is the
 * directory the image was found in.
 */
int qcow2_open_backing(struct qcow2 *q, const u8 *hdr, int dir_fd,
		       const struct disk_opts *opts, unsigned int depth,
		       char *err, size_t errlen);
/*
 * Test hooks: qcow2_backing_hook (NULL normally) runs after image @d
 * (@depth levels down the chain) is open and before its backing file is
 * looked up, so a test can rename things in between; qcow2_openat2 is
 * openat2(2), or a stand-in failing with ENOSYS to test the fallback for
 * kernels before 5.6.
 */
struct open_how;
extern void (*qcow2_backing_hook)(const struct disk *d, unsigned int depth);
extern long (*qcow2_openat2)(int dfd, const char *path, struct open_how *how,
			     size_t size);

/* Overlap checks against the metadata map (disk/qcow2-meta.c). */
int qcow2_map_metadata(struct qcow2 *q, char *err, size_t errlen);
bool qcow2_refblock_ok(const struct qcow2 *q, u64 off);
bool qcow2_data_cluster_ok(const struct qcow2 *q, u64 off);
bool qcow2_compressed_ok(const struct qcow2 *q, u64 entry);
/* An entry named the cluster at @off (>= open_end) when we opened. */
bool qcow2_named_past_end(const struct qcow2 *q, u64 off);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * qcow2 header validation: a valid v3 header, then one corruption at a
 * time; each must give the expected error and reason, never a crash.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "../../disk/qcow2.h"
#include "tap.h"

#define CS	65536ULL
#define FILE_SZ	(4 * CS)

static u8 hdr[CS];

static void put32(u32 off, u32 v)
{
	v = htobe32(v);
	memcpy(hdr + off, &v, 4);
}

static void put64(u32 off, u64 v)
{
	v = htobe64(v);
	memcpy(hdr + off, &v, 8);
}

static void valid(unsigned int version)
{
	memset(hdr, 0, sizeof(hdr));
	put32(0, QCOW2_MAGIC);
	put32(4, version);
	put32(20, 16);			/* cluster_bits */
	put64(24, 16 << 20);		/* size */
	put32(36, 1);			/* l1_size */
	put64(40, 3 * CS);		/* l1_offset */
	put64(48, CS);			/* refcount_table_offset */
	put32(56, 1);			/* refcount_table_clusters */
	if (version == 3) {
		put32(96, 4);
		put32(100, 104);
	}
}

struct tcase {
	const char *name;
	void (*mutate)(void);
	int err;
	const char *why;
};

static void m_none(void) { }
static void m_magic(void) { hdr[3] = 0; }
static void m_version(void) { put32(4, 4); }
static void m_cb_small(void) { put32(20, 8); }
static void m_cb_big(void) { put32(20, 22); }
static void m_crypt(void) { put32(32, 1); }
static void m_size0(void) { put64(24, 0); }
static void m_size_huge(void) { put64(24, ~0ULL); }
static void m_l1_small(void) { put64(24, 1ULL << 40); }
static void m_l1_align(void) { put64(40, 3 * CS + 512); }
static void m_l1_eof(void) { put64(40, 8 * CS); }
static void m_l1_huge(void) { put32(36, 0x10000000); }
static void m_rt_align(void) { put64(48, CS + 8); }
static void m_rt_zero(void) { put32(56, 0); }
static void m_rt_eof(void) { put32(56, 4); }
static void m_overlap(void) { put64(40, CS); }
static void m_rorder(void) { put32(96, 7); }
static void m_hlen(void) { put32(100, 100); }
static void m_hlen_odd(void) { put32(100, 108); }
static void m_incompat(void) { put64(72, 1ULL << 5); }
static void m_datafile(void) { put64(72, QCOW2_INCOMPAT_DATA_FILE); }
static void m_extl2(void) { put64(72, QCOW2_INCOMPAT_EXTL2); }
static void m_zstd(void) { put64(72, QCOW2_INCOMPAT_COMPRESSION); put32(100, 112); hdr[104] = 1; }
static void m_zlib(void) { put64(72, QCOW2_INCOMPAT_COMPRESSION); put32(100, 112); }
static void m_backing_len(void) { put64(8, 200); put32(16, 2000); }
static void m_backing_out(void) { put64(8, CS - 4); put32(16, 8); }
static void m_backing_nul(void) { put64(8, 200); put32(16, 4); }
static void m_backing_ok(void) { put64(8, 200); put32(16, 4); memcpy(hdr + 200, "base", 4); }
static void m_ext_long(void) { put32(104, 0x6803f857); put32(108, 0x7fffffff); }
static void m_ext_fmt(void)
{
	put64(8, 200); put32(16, 4); memcpy(hdr + 200, "base", 4);
	put32(104, QCOW2_EXT_BACKING_FMT); put32(108, 3);
	memcpy(hdr + 112, "raw", 3);
}
static void m_snap(void) { put32(60, 1); put64(64, 0); }

static const struct tcase cases[] = {
	{ "valid v3", m_none, 0, NULL },
	{ "bad magic", m_magic, -EINVAL, "magic" },
	{ "version 4", m_version, -ENOTSUP, "version" },
	{ "cluster_bits 8", m_cb_small, -EINVAL, "cluster_bits" },
	{ "cluster_bits 22", m_cb_big, -EINVAL, "cluster_bits" },
	{ "encrypted", m_crypt, -ENOTSUP, "encrypted" },
	{ "size 0", m_size0, -EINVAL, "virtual size" },
	{ "size 2^64-1", m_size_huge, -EINVAL, "virtual size" },
	{ "L1 too small for 1 TiB", m_l1_small, -EINVAL, "L1 table too small" },
	{ "L1 misaligned", m_l1_align, -EINVAL, "L1 table offset" },
	{ "L1 past EOF", m_l1_eof, -EINVAL, "past the end" },
	{ "L1 huge", m_l1_huge, -EINVAL, "L1 table too large" },
	{ "refcount table misaligned", m_rt_align, -EINVAL, "refcount table offset" },
	{ "refcount table empty", m_rt_zero, -EINVAL, "refcount table size" },
	{ "refcount table past EOF", m_rt_eof, -EINVAL, "past the end" },
	{ "L1 overlaps refcount table", m_overlap, -EINVAL, "overlap" },
	{ "refcount_order 7", m_rorder, -EINVAL, "refcount_order" },
	{ "header_length 100", m_hlen, -EINVAL, "header_length" },
	{ "header_length 108", m_hlen_odd, -EINVAL, "header_length" },
	{ "unknown incompatible bit", m_incompat, -ENOTSUP, "unknown incompatible" },
	{ "external data file", m_datafile, -ENOTSUP, "external data" },
	{ "extended L2", m_extl2, -ENOTSUP, "extended L2" },
	{ "zstd", m_zstd, -ENOTSUP, "zlib" },
	{ "compression type zlib", m_zlib, 0, NULL },
	{ "backing name too long", m_backing_len, -EINVAL, "backing file name length" },
	{ "backing name outside cluster", m_backing_out, -EINVAL, "outside" },
	{ "backing name with NUL", m_backing_nul, -EINVAL, "NUL" },
	{ "backing name ok", m_backing_ok, 0, NULL },
	{ "extension too long", m_ext_long, -EINVAL, "extension" },
	{ "backing format extension", m_ext_fmt, 0, NULL },
	{ "snapshot table at 0", m_snap, -EINVAL, "snapshot" },
};

int main(void)
{
	struct qcow2_header h;
	const char *why;
	int ret;

	tap_plan((int)ARRAY_SIZE(cases) * 2 + 5);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		valid(3);
		cases[i].mutate();
		why = NULL;
		ret = qcow2_parse_header(hdr, sizeof(hdr), FILE_SZ, &h, &why);
		ok(ret == cases[i].err, "%s: error %d (want %d)",
		   cases[i].name, ret, cases[i].err);
		ok(cases[i].why ? why && strstr(why, cases[i].why) != NULL :
				  why == NULL,
		   "%s: reason '%s'", cases[i].name, why ? why : "");
	}
	valid(3);
	m_ext_fmt();
	qcow2_parse_header(hdr, sizeof(hdr), FILE_SZ, &h, &why);
	ok(!strcmp(h.backing_fmt, "raw"), "backing format 'raw' parsed");

	valid(2);
	ret = qcow2_parse_header(hdr, sizeof(hdr), FILE_SZ, &h, &why);
	ok(!ret && h.refcount_order == 4 && h.header_length == 72,
	   "v2 header: refcount_order 4 implied");

	/* Every length of a truncated file: an error, never a crash. */
	valid(3);
	ret = 0;
	for (size_t len = 0; len < 104; len++)
		if (!qcow2_parse_header(hdr, len, len, &h, &why))
			ret = -1;
	ok(!ret, "truncated headers (0..103 bytes) all refused");
	ret = qcow2_parse_header(hdr, sizeof(hdr), 2 * CS, &h, &why);
	ok(ret == -EINVAL && strstr(why, "truncated"),
	   "file truncated before the L1 table: '%s'", why);
	ret = qcow2_parse_header(hdr, 50, 50, &h, &why);
	ok(ret == -EINVAL && strstr(why, "too short"), "50-byte file: '%s'", why);
	return tap_done();
}

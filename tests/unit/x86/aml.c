// SPDX-License-Identifier: GPL-2.0
/*
 * x86/aml.c, the AML encoder, against the byte formats of the ACPI
 * specification: integer encodings (ZeroOp 0x00, OneOp 0x01, BytePrefix
 * 0x0a, WordPrefix 0x0b, DWordPrefix 0x0c, QWordPrefix 0x0e, values
 * little-endian) at every boundary, PkgLength in 1 to 4 bytes (it counts
 * itself; bits 7-6 of the lead byte say how many bytes follow, its low
 * nibble is the low nibble of the length), NameOp, PackageOp, BufferOp,
 * DeviceOp (0x5b 0x82), EisaId compression, the _CRS resource
 * descriptors, and that an overflow is sticky and never writes past the
 * buffer.
 */
#include <string.h>

#include "arch/aml.h"
#include "tap.h"

#define BYTES(...)	((const u8[]){ __VA_ARGS__ }), sizeof((const u8[]){ __VA_ARGS__ })

static int is_bytes(const struct aml *a, const u8 *want, size_t len,
		    const char *name)
{
	int good = !a->overflow && a->n == len && !memcmp(a->b, want, len);

	ok(good, "%s", name);
	if (!good) {
		char got[3 * 32 + 1] = "", exp[3 * 32 + 1] = "";

		for (size_t i = 0; i < a->n && i < 32; i++)
			sprintf(got + 3 * i, " %02x", a->b[i]);
		for (size_t i = 0; i < len && i < 32; i++)
			sprintf(exp + 3 * i, " %02x", want[i]);
		diag("  got%s (%zu bytes%s), want%s (%zu)", got, a->n,
		     a->overflow ? ", overflow" : "", exp, len);
	}
	return good;
}

static void check_int(u64 v, const u8 *want, size_t len, const char *name)
{
	struct aml a = { .n = 0 };

	aml_int(&a, v);
	is_bytes(&a, want, len, name);
}

static void test_ints(void)
{
	check_int(0, BYTES(0x00), "0: ZeroOp");
	check_int(1, BYTES(0x01), "1: OneOp");
	check_int(2, BYTES(0x0a, 0x02), "2: BytePrefix");
	check_int(0xff, BYTES(0x0a, 0xff), "0xff: BytePrefix");
	check_int(0x100, BYTES(0x0b, 0x00, 0x01), "0x100: WordPrefix, little-endian");
	check_int(0xffff, BYTES(0x0b, 0xff, 0xff), "0xffff: WordPrefix");
	check_int(0x10000, BYTES(0x0c, 0x00, 0x00, 0x01, 0x00),
		  "0x10000: DWordPrefix");
	check_int(0x12345678, BYTES(0x0c, 0x78, 0x56, 0x34, 0x12),
		  "0x12345678: DWordPrefix, little-endian");
	check_int(0xffffffff, BYTES(0x0c, 0xff, 0xff, 0xff, 0xff),
		  "0xffffffff: DWordPrefix");
	check_int(0x100000000ULL,
		  BYTES(0x0e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00),
		  "2^32: QWordPrefix");
	check_int(0x0123456789abcdefULL,
		  BYTES(0x0e, 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01),
		  "64-bit value: QWordPrefix, little-endian");
}

static void check_pkglen(size_t body, const u8 *want, size_t len,
			 const char *name)
{
	u8 out[AML_PKGLEN_MAX_BYTES] = { 0 };
	size_t n = aml_pkglen_encode(out, body);
	int good = n == len && !memcmp(out, want, len);

	ok(good, "%s", name);
	if (!good)
		diag("  got %zu bytes %02x %02x %02x %02x", n, out[0], out[1],
		     out[2], out[3]);
}

static void test_pkglen(void)
{
	u8 out[AML_PKGLEN_MAX_BYTES];
	struct aml a = { .n = 0 };

	check_pkglen(0, BYTES(0x01), "body 0: one byte, counting itself");
	check_pkglen(62, BYTES(0x3f), "body 62: 63, the most one byte holds");
	/* 63 + 1 = 64 does not fit in 6 bits: two bytes, length 65. */
	check_pkglen(63, BYTES(0x41, 0x04), "body 63: two bytes (65 = 0x41)");
	check_pkglen(100, BYTES(0x46, 0x06), "body 100: two bytes (0x66)");
	check_pkglen(0xffd, BYTES(0x4f, 0xff), "body 0xffd: 0xfff, the most two bytes hold");
	check_pkglen(0xffe, BYTES(0x81, 0x00, 0x01),
		     "body 0xffe: three bytes (0x1001)");
	check_pkglen(0xffffc, BYTES(0x8f, 0xff, 0xff),
		     "body 0xffffc: 0xfffff, the most three bytes hold");
	check_pkglen(0xffffd, BYTES(0xc1, 0x00, 0x00, 0x01),
		     "body 0xffffd: four bytes (0x100001)");
	check_pkglen(0xffffffb, BYTES(0xcf, 0xff, 0xff, 0xff),
		     "body 0xffffffb: 2^28 - 1, the most there is");
	is_int(aml_pkglen_encode(out, 0xffffffc), 0, "body 0xffffffc: too long");
	aml_pkglen(&a, 0xffffffc);
	ok(a.overflow && a.n == 0, "a PkgLength too long is an overflow");
}

static void test_objects(void)
{
	struct aml a = { .n = 0 }, body = { .n = 0 }, data = { .n = 0 };
	static const u8 pkg_op = AML_PACKAGE_OP;

	aml_name_int(&a, "_UID", 0);
	is_bytes(&a, BYTES(0x08, '_', 'U', 'I', 'D', 0x00),
		 "Name (_UID, 0): NameOp, NameSeg, ZeroOp");

	a = (struct aml){ .n = 0 };
	aml_name_zero_package(&a, "_S5_", 4);
	/* PkgLength 6: itself, NumElements and four ZeroOps. */
	is_bytes(&a, BYTES(0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04,
			   0x00, 0x00, 0x00, 0x00),
		 "Name (_S5, Package () { 0, 0, 0, 0 })");

	a = (struct aml){ .n = 0 };
	aml_bytes(&data, "\x79\x00", 2);
	aml_name_buffer(&a, "_CRS", &data);
	/* PkgLength 4: itself, BufferSize (BytePrefix 2) and two bytes. */
	is_bytes(&a, BYTES(0x08, '_', 'C', 'R', 'S', 0x11, 0x05, 0x0a, 0x02,
			   0x79, 0x00),
		 "Name (_CRS, Buffer () { 0x79, 0 }): BufferOp, PkgLength, BufferSize");

	a = (struct aml){ .n = 0 };
	aml_byte(&body, AML_ROOT_CHAR);
	aml_byte(&body, AML_DUAL_NAME_PREFIX);
	aml_nameseg(&body, "_SB_");
	aml_nameseg(&body, "PCI0");
	aml_device(&a, &body);
	is_bytes(&a, BYTES(0x5b, 0x82, 0x0b, 0x5c, 0x2e, '_', 'S', 'B', '_',
			   'P', 'C', 'I', '0'),
		 "Device (\\_SB.PCI0) {}: ExtOpPrefix, DeviceOp, PkgLength, DualNamePath");

	/* A body past 62 bytes gets the two-byte PkgLength after the op. */
	a = (struct aml){ .n = 0 };
	body = (struct aml){ .n = 0 };
	for (int i = 0; i < 100; i++)
		aml_byte(&body, (u8)i);
	aml_package_op(&a, &pkg_op, 1, &body);
	ok(a.n == 103 && a.b[0] == 0x12 && a.b[1] == 0x46 && a.b[2] == 0x06 &&
	   a.b[3] == 0 && a.b[102] == 99 && !a.overflow,
	   "a 100-byte body: op, two-byte PkgLength, then the body");
}

static void test_eisaid(void)
{
	is_int(aml_eisaid("PNP0A03"), 0x030ad041, "EisaId (PNP0A03): 0x030ad041");
	is_int(aml_eisaid("PNP0501"), 0x0105d041, "EisaId (PNP0501): 0x0105d041");
	is_int(aml_eisaid("PNP0a03"), 0x030ad041, "hex digits in either case");
	is_int(aml_eisaid("PNP0A0"), 0, "six characters: refused");
	is_int(aml_eisaid("pnp0A03"), 0, "lower-case letters: refused");
	is_int(aml_eisaid("PNP0G03"), 0, "a non-hex digit: refused");
}

static void test_resources(void)
{
	struct aml a = { .n = 0 };

	aml_res_io_port(&a, 0xcf8, 8);
	is_bytes(&a, BYTES(0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08),
		 "IO (Decode16, 0xcf8, 0xcf8, 1, 8)");
	a = (struct aml){ .n = 0 };
	aml_res_word(&a, AML_RES_TYPE_BUS, 0, 0x00, 0xff);
	is_bytes(&a, BYTES(0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00,
			   0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01),
		 "WordBusNumber (0 - 0xff): 16 bytes, length 256");
	a = (struct aml){ .n = 0 };
	aml_res_word(&a, AML_RES_TYPE_IO, AML_RES_IO_ENTIRE_RANGE, 0x0d00, 0xffff);
	is_bytes(&a, BYTES(0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00,
			   0x00, 0x0d, 0xff, 0xff, 0x00, 0x00, 0x00, 0xf3),
		 "WordIO (0xd00 - 0xffff, EntireRange)");
	a = (struct aml){ .n = 0 };
	aml_res_dword_memory(&a, 0xc0000000, 0xfebfffff);
	is_bytes(&a, BYTES(0x87, 0x17, 0x00, 0x00, 0x0c, 0x01,
			   0x00, 0x00, 0x00, 0x00,
			   0x00, 0x00, 0x00, 0xc0,
			   0xff, 0xff, 0xbf, 0xfe,
			   0x00, 0x00, 0x00, 0x00,
			   0x00, 0x00, 0xc0, 0x3e),
		 "DWordMemory (ReadWrite, 0xc0000000 - 0xfebfffff): 26 bytes");
	a = (struct aml){ .n = 0 };
	aml_res_end(&a);
	is_bytes(&a, BYTES(0x79, 0x00), "EndTag, checksum 0");
}

static void test_overflow(void)
{
	struct aml a = { .n = 0 }, outer = { .n = 0 };
	u8 fill[AML_MAX - 1];

	memset(fill, 0xaa, sizeof(fill));
	aml_bytes(&a, fill, sizeof(fill));
	aml_bytes(&a, "\x01\x02", 2);
	ok(a.overflow && a.n == AML_MAX - 1,
	   "a write that does not fit is refused whole and flagged");
	aml_byte(&a, 0x01);
	ok(a.overflow && a.n == AML_MAX - 1,
	   "the flag is sticky: later bytes are refused too, even if one would fit");
	aml_device(&outer, &a);
	aml_int(&outer, 0x0123456789abcdefULL);
	ok(outer.overflow && outer.n <= AML_MAX,
	   "an object around an overflowed body overflows too, within the buffer");
}

int main(void)
{
	tap_plan(41);
	test_ints();
	test_pkglen();
	test_objects();
	test_eisaid();
	test_resources();
	test_overflow();
	return tap_done();
}

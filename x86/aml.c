// SPDX-License-Identifier: GPL-2.0
/*
 * The AML byte encoding for x86/acpi.c's DSDT (see arch/aml.h).  The
 * grammar is the ACPI specification's, section 20 ("ACPI Machine
 * Language Specification"); resource descriptors are section 6.4.  Every
 * multi-byte field is little-endian, written byte by byte.
 */
#include <ctype.h>
#include <string.h>

#include "arch/aml.h"

void aml_bytes(struct aml *a, const void *p, size_t len)
{
	if (a->overflow || len > sizeof(a->b) - a->n) {
		a->overflow = true;
		return;
	}
	memcpy(a->b + a->n, p, len);
	a->n += len;
}

void aml_byte(struct aml *a, u8 v)
{
	aml_bytes(a, &v, 1);
}

/* The low @len bytes of @v, least significant first. */
static void aml_le(struct aml *a, u64 v, size_t len)
{
	u8 b[8];

	for (size_t i = 0; i < len; i++)
		b[i] = (u8)(v >> (8 * i));
	aml_bytes(a, b, len);
}

void aml_nameseg(struct aml *a, const char *seg)
{
	aml_bytes(a, seg, 4);
}

void aml_int(struct aml *a, u64 v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO_OP);
	} else if (v == 1) {
		aml_byte(a, AML_ONE_OP);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_le(a, v, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_le(a, v, 4);
	} else {
		/* 64-bit integers need a revision 2 DSDT (x86/acpi.c's is). */
		aml_byte(a, AML_QWORD_PREFIX);
		aml_le(a, v, 8);
	}
}

/*
 * One byte holds lengths up to 63 in bits 5-0.  Longer ones take a lead
 * byte (bits 7-6: how many bytes follow, bits 5-4 zero, bits 3-0: the
 * low nibble) and one to three bytes with the higher bits, least
 * significant first.  The length counts the encoding's own bytes, so
 * each size is tried with itself included.
 */
size_t aml_pkglen_encode(u8 out[AML_PKGLEN_MAX_BYTES], size_t body)
{
	static const size_t max[AML_PKGLEN_MAX_BYTES] = {
		0x3f, 0xfff, 0xfffff, 0xfffffff,
	};

	for (size_t n = 1; n <= AML_PKGLEN_MAX_BYTES; n++) {
		size_t len = body + n;

		if (body > max[n - 1] || len > max[n - 1])
			continue;
		if (n == 1) {
			out[0] = (u8)len;
			return 1;
		}
		out[0] = (u8)(((n - 1) << 6) | (len & 0xf));
		for (size_t i = 1; i < n; i++)
			out[i] = (u8)(len >> (4 + 8 * (i - 1)));
		return n;
	}
	return 0;
}

void aml_pkglen(struct aml *a, size_t body)
{
	u8 b[AML_PKGLEN_MAX_BYTES];
	size_t n = aml_pkglen_encode(b, body);

	if (!n)
		a->overflow = true;
	else
		aml_bytes(a, b, n);
}

void aml_package_op(struct aml *a, const u8 *op, size_t oplen,
		    const struct aml *body)
{
	if (body->overflow)
		a->overflow = true;
	aml_bytes(a, op, oplen);
	aml_pkglen(a, body->n);
	aml_bytes(a, body->b, body->n);
}

void aml_device(struct aml *a, const struct aml *body)
{
	static const u8 op[] = { AML_EXT_PREFIX, AML_EXT_DEVICE_OP };

	aml_package_op(a, op, sizeof(op), body);
}

void aml_name_int(struct aml *a, const char *seg, u64 v)
{
	aml_byte(a, AML_NAME_OP);
	aml_nameseg(a, seg);
	aml_int(a, v);
}

void aml_name_zero_package(struct aml *a, const char *seg, u8 n)
{
	static const u8 op = AML_PACKAGE_OP;
	struct aml pkg = { .n = 0 };

	aml_byte(&pkg, n);		/* NumElements */
	for (u8 i = 0; i < n; i++)
		aml_byte(&pkg, AML_ZERO_OP);
	aml_byte(a, AML_NAME_OP);
	aml_nameseg(a, seg);
	aml_package_op(a, &op, 1, &pkg);
}

void aml_name_buffer(struct aml *a, const char *seg, const struct aml *data)
{
	static const u8 op = AML_BUFFER_OP;
	struct aml buf = { .n = 0 };

	aml_int(&buf, data->n);	/* BufferSize */
	aml_bytes(&buf, data->b, data->n);
	if (data->overflow)
		buf.overflow = true;
	aml_byte(a, AML_NAME_OP);
	aml_nameseg(a, seg);
	aml_package_op(a, &op, 1, &buf);
}

u32 aml_eisaid(const char *id)
{
	u16 vendor = 0, product = 0;

	if (strlen(id) != 7)
		return 0;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return 0;
		vendor = (u16)(vendor << 5 | (id[i] - 'A' + 1));
	}
	for (int i = 3; i < 7; i++) {
		if (!isxdigit((unsigned char)id[i]))
			return 0;
		product = (u16)(product << 4 |
				(isdigit((unsigned char)id[i]) ? id[i] - '0' :
				 toupper((unsigned char)id[i]) - 'A' + 10));
	}
	/* Both halves big-endian in the bytes of the little-endian value. */
	return (u32)(vendor >> 8) | (u32)(vendor & 0xff) << 8 |
	       (u32)(product >> 8) << 16 | (u32)(product & 0xff) << 24;
}

#define AML_RES_GEN_FLAGS	0x0c	/* MaxFixed | MinFixed */

void aml_res_word(struct aml *a, u8 type, u8 type_flags, u16 min, u16 max)
{
	u16 len = (u16)(max - min + 1);
	u8 d[6] = { 0x88, 13, 0, type, AML_RES_GEN_FLAGS, type_flags };

	aml_bytes(a, d, sizeof(d));
	aml_le(a, 0, 2);		/* granularity */
	aml_le(a, min, 2);
	aml_le(a, max, 2);
	aml_le(a, 0, 2);		/* translation */
	aml_le(a, len, 2);
}

void aml_res_dword_memory(struct aml *a, u32 min, u32 max)
{
	u8 d[6] = { 0x87, 23, 0, AML_RES_TYPE_MEMORY, AML_RES_GEN_FLAGS,
		    AML_RES_MEM_READ_WRITE };

	aml_bytes(a, d, sizeof(d));
	aml_le(a, 0, 4);		/* granularity */
	aml_le(a, min, 4);
	aml_le(a, max, 4);
	aml_le(a, 0, 4);		/* translation */
	aml_le(a, (u32)(max - min + 1), 4);
}

void aml_res_io_port(struct aml *a, u16 port, u8 len)
{
	u8 d[8] = { 0x47, 0x01, (u8)port, (u8)(port >> 8),
		    (u8)port, (u8)(port >> 8), 1, len };

	aml_bytes(a, d, sizeof(d));
}

void aml_res_end(struct aml *a)
{
	static const u8 d[2] = { 0x79, 0x00 };	/* checksum 0: "valid" */

	aml_bytes(a, d, sizeof(d));
}

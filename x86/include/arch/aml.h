/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_X86_AML_H
#define LKVM_X86_AML_H

/*
 * A tiny AML encoder (x86/aml.c), enough for the DSDT x86/acpi.c builds:
 * integers, names, packages, buffers, devices and the resource
 * descriptors of a _CRS.  Each object is built into its own buffer so
 * that its PkgLength is known before it is prefixed.  Overflow is sticky
 * and reported by the caller; nothing is ever written past the buffer.
 */
#include <stddef.h>

#include "lkvm/types.h"

#define AML_MAX		256

struct aml {
	u8 b[AML_MAX];
	size_t n;
	bool overflow;
};

/* Opcodes and prefixes (ACPI 6.0, section 20.3). */
enum {
	AML_ZERO_OP = 0x00,
	AML_ONE_OP = 0x01,
	AML_NAME_OP = 0x08,
	AML_BYTE_PREFIX = 0x0a,
	AML_WORD_PREFIX = 0x0b,
	AML_DWORD_PREFIX = 0x0c,
	AML_QWORD_PREFIX = 0x0e,
	AML_BUFFER_OP = 0x11,
	AML_PACKAGE_OP = 0x12,
	AML_DUAL_NAME_PREFIX = 0x2e,
	AML_EXT_PREFIX = 0x5b,
	AML_ROOT_CHAR = 0x5c,
	AML_EXT_DEVICE_OP = 0x82,	/* after AML_EXT_PREFIX */
};

/* The longest PkgLength: a lead byte and three more, 28 bits of length. */
#define AML_PKGLEN_MAX_BYTES	4

void aml_bytes(struct aml *a, const void *p, size_t len);
void aml_byte(struct aml *a, u8 v);
/* A 4-character NameSeg, e.g. "_S5_" (names are padded with '_'). */
void aml_nameseg(struct aml *a, const char *seg);
/* An integer as the shortest of ZeroOp, OneOp and the prefixed forms. */
void aml_int(struct aml *a, u64 v);
/*
 * The PkgLength of an object whose @body bytes follow it (the encoding
 * counts its own bytes too) into @out; returns how many bytes (1..4), or
 * 0 if @body is too long for the 28 bits there are.
 */
size_t aml_pkglen_encode(u8 out[AML_PKGLEN_MAX_BYTES], size_t body);
void aml_pkglen(struct aml *a, size_t body);
/* @op (one or two bytes), PkgLength, then @body. */
void aml_package_op(struct aml *a, const u8 *op, size_t oplen,
		    const struct aml *body);
/* Device (...) { @body }: @body starts with the device's NameString. */
void aml_device(struct aml *a, const struct aml *body);
/* Name (@seg, @v) */
void aml_name_int(struct aml *a, const char *seg, u64 v);
/* Name (@seg, Package () { 0, ... }) with @n zeros. */
void aml_name_zero_package(struct aml *a, const char *seg, u8 n);
/* Name (@seg, Buffer () { @data }) */
void aml_name_buffer(struct aml *a, const char *seg, const struct aml *data);
/*
 * EisaId ("PNP0A03"): three letters, five bits each, and four hex
 * digits, as the 32-bit value AML stores; 0 if @id is not of that form.
 */
u32 aml_eisaid(const char *id);

/*
 * Resource descriptors for a _CRS buffer (ACPI 6.0, section 6.4).  The
 * address-space ones are producers with fixed minimum and maximum and
 * positive decode, no translation, granularity 0.
 */
#define AML_RES_TYPE_MEMORY	0
#define AML_RES_TYPE_IO		1
#define AML_RES_TYPE_BUS	2
#define AML_RES_IO_ENTIRE_RANGE	0x03
#define AML_RES_MEM_READ_WRITE	0x01	/* non-cacheable */

/* Word Address Space Descriptor (large item 0x88), [@min, @max]. */
void aml_res_word(struct aml *a, u8 type, u8 type_flags, u16 min, u16 max);
/* DWord Address Space Descriptor (0x87), read-write memory [@min, @max]. */
void aml_res_dword_memory(struct aml *a, u32 min, u32 max);
/* I/O Port Descriptor (small item 0x47): 16-bit decode, @len at @port. */
void aml_res_io_port(struct aml *a, u16 port, u8 len);
/* End Tag (small item 0x79), checksum 0. */
void aml_res_end(struct aml *a);

#endif

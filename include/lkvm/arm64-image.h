/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_ARM64_IMAGE_H
#define LKVM_ARM64_IMAGE_H

/*
 * What an arm64 "kernel" file is and where it goes, decided from its first
 * bytes alone (after gzip inflation).  A pure function, so the unit test
 * runs on every host (arm/image.c is built into x86 unit tests too).
 */
#include "lkvm/types.h"

/* Documentation/arch/arm64/booting.rst: the header is the first 64 bytes. */
#define ARM64_IMAGE_HDR_SIZE	64
/*
 * The kernel's COMMAND_LINE_SIZE on arm64 (arch/arm64/include/uapi/asm/
 * setup.h), NUL included: longer bootargs are cut.
 */
#define ARM64_COMMAND_LINE_SIZE	2048
/* Where kvmtool puts (and enters) anything without an Image header. */
#define ARM64_RAW_TEXT_OFFSET	0x80000ULL

enum arm64_kernel_kind {
	ARM64_KERNEL_IMAGE,	/* Linux Image: header says where */
	ARM64_KERNEL_RAW,	/* no header: a raw binary, like a .flat */
};

struct arm64_kernel_layout {
	enum arm64_kernel_kind kind;
	u64 text_offset;	/* load and entry point, from RAM base */
	u64 image_size;		/* memory it needs incl. BSS; 0: file size */
	const char *note;	/* a remark worth a warning, or NULL */
};

/*
 * Classifies the file whose first @len bytes are @hdr.  Returns 0 and fills
 * @out, or -ENOEXEC with @out->note saying why the file cannot be booted.
 */
int arm64_kernel_classify(const void *hdr, size_t len,
			  struct arm64_kernel_layout *out);

/*
 * Where the kernel loaded at @load ends: @load + @image_size, or -EFBIG if
 * that passes @limit.  @image_size comes from the file, so no sum wraps.
 */
int arm64_kernel_end(u64 load, u64 image_size, u64 limit, u64 *end);

#endif

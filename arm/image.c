// SPDX-License-Identifier: GPL-2.0
/*
 * arm64 boot-file classification (see lkvm/arm64-image.h).  kvmtool's rule:
 * a file with the "ARM\x64" magic at 0x38 is an Image loaded at its
 * text_offset; anything else is a raw binary loaded and entered at RAM
 * base + 0x80000, with x0 = DTB all the same.  That is how kvm-unit-tests'
 * .flat files (no header) run.  The one exception lkvm makes is an EFI
 * zboot image, which would only crash as a raw binary: it needs the
 * firmware lkvm does not have, so it gets an error naming the fix.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "lkvm/arm64-image.h"

#define ARM64_IMAGE_MAGIC	0x644d5241	/* "ARM\x64", little endian */
#define ARM64_TEXT_OFFSET_MAX	(2ULL << 20)	/* must sit in the first 2M */

struct arm64_image_header {
	u32 code0, code1;
	u64 text_offset;
	u64 image_size;
	u64 flags;
	u64 res2, res3, res4;
	u32 magic;
	u32 res5;
};

_Static_assert(sizeof(struct arm64_image_header) == ARM64_IMAGE_HDR_SIZE,
	       "the arm64 Image header is 64 bytes");

int arm64_kernel_classify(const void *hdr, size_t len,
			  struct arm64_kernel_layout *out)
{
	const u8 *b = hdr;
	struct arm64_image_header h;

	memset(out, 0, sizeof(*out));
	if (!len) {
		out->note = "the file is empty";
		return -ENOEXEC;
	}
	if (len >= 8 && !memcmp(b, "MZ", 2) && !memcmp(b + 4, "zimg", 4)) {
		out->note = "an EFI zboot image: lkvm needs the raw (or gzip'ed) Image inside it";
		return -ENOEXEC;
	}
	if (len >= sizeof(h)) {
		memcpy(&h, b, sizeof(h));
		if (le32toh(h.magic) == ARM64_IMAGE_MAGIC) {
			out->kind = ARM64_KERNEL_IMAGE;
			out->text_offset = le64toh(h.text_offset);
			out->image_size = le64toh(h.image_size);
			/* image_size 0: pre-3.17, whose text_offset is 0x80000. */
			if (!out->image_size)
				out->text_offset = ARM64_RAW_TEXT_OFFSET;
			if (out->text_offset >= ARM64_TEXT_OFFSET_MAX ||
			    (out->text_offset & 0xfff)) {
				out->note = "an arm64 Image with an implausible text_offset";
				return -ENOEXEC;
			}
			return 0;
		}
	}
	out->kind = ARM64_KERNEL_RAW;
	out->text_offset = ARM64_RAW_TEXT_OFFSET;
	if (len >= 4 && !memcmp(b, "\x7f" "ELF", 4))
		out->note = "an ELF file, loaded as a raw binary all the same (objcopy -O binary makes the image it wants)";
	return 0;
}

int arm64_kernel_end(u64 load, u64 image_size, u64 limit, u64 *end)
{
	if (load > limit || image_size > limit - load)
		return -EFBIG;
	*end = load + image_size;
	return 0;
}

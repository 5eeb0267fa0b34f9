// SPDX-License-Identifier: GPL-2.0
/*
 * arm64_kernel_classify(): which files boot as an Image at their
 * text_offset, which as a raw binary at RAM + 0x80000 (kvmtool's rule for
 * anything without the "ARM\x64" magic, e.g. kvm-unit-tests' .flat files)
 * and which are refused.  Built on every host: arm/image.c is pure.
 */
#include <errno.h>
#include <string.h>

#include "tap.h"
#include "lkvm/arm64-image.h"

static u8 buf[4096];

static void put_le32(u8 *p, u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (u8)(v >> (8 * i));
}

static void put_le64(u8 *p, u64 v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (u8)(v >> (8 * i));
}

/* An Image header as Linux's head.S lays it out. */
static void make_image(u64 text_offset, u64 image_size)
{
	memset(buf, 0, sizeof(buf));
	put_le32(buf, 0x14000010);		/* b #0x40 */
	put_le64(buf + 8, text_offset);
	put_le64(buf + 16, image_size);
	put_le64(buf + 24, 0xa);
	memcpy(buf + 0x38, "ARM\x64", 4);
}

int main(void)
{
	struct arm64_kernel_layout lay;
	int ret;

	tap_plan(27);

	make_image(0, 0x2000000);
	ret = arm64_kernel_classify(buf, sizeof(buf), &lay);
	is_int(ret, 0, "Image: accepted");
	is_int(lay.kind, ARM64_KERNEL_IMAGE, "Image: is an Image");
	is_int(lay.text_offset, 0, "Image: text_offset from the header");
	is_int(lay.image_size, 0x2000000, "Image: image_size from the header");

	make_image(0x80000, 0);
	ret = arm64_kernel_classify(buf, 64, &lay);
	is_int(ret, 0, "pre-3.17 Image (image_size 0): accepted");
	is_int(lay.text_offset, 0x80000, "pre-3.17 Image: text_offset 0x80000 whatever the header says");

	make_image(0x200000, 0x1000);
	ret = arm64_kernel_classify(buf, sizeof(buf), &lay);
	is_int(ret, -ENOEXEC, "Image with text_offset 2M: refused");
	ok(lay.note && strstr(lay.note, "text_offset"), "... saying text_offset");

	/* A kvm-unit-tests .flat starts with code, no header. */
	memset(buf, 0, sizeof(buf));
	put_le32(buf, 0xd2800000);		/* mov x0, #0 */
	ret = arm64_kernel_classify(buf, sizeof(buf), &lay);
	is_int(ret, 0, "raw binary: accepted (kvmtool loads it)");
	is_int(lay.kind, ARM64_KERNEL_RAW, "raw binary: kind raw");
	is_int(lay.text_offset, 0x80000, "raw binary: at RAM + 0x80000 (kvmtool's TEXT_OFFSET)");
	is_int(lay.image_size, 0, "raw binary: size is the file's");
	ok(!lay.note, "raw binary: nothing to warn about");

	/* Shorter than an Image header: still a raw binary. */
	ret = arm64_kernel_classify(buf, 16, &lay);
	is_int(ret, 0, "16-byte raw binary: accepted");
	is_int(lay.kind, ARM64_KERNEL_RAW, "16-byte raw binary: kind raw");

	/* The magic one byte off is not an Image. */
	make_image(0, 0x1000);
	memcpy(buf + 0x38, "ARM\x65", 4);
	ret = arm64_kernel_classify(buf, sizeof(buf), &lay);
	is_int(ret == 0 && lay.kind == ARM64_KERNEL_RAW, 1,
	       "wrong magic: a raw binary, not an Image");

	/* The magic beyond the bytes read does not count. */
	make_image(0, 0x1000);
	ret = arm64_kernel_classify(buf, 60, &lay);
	is_int(ret == 0 && lay.kind == ARM64_KERNEL_RAW, 1,
	       "truncated header (60 bytes): a raw binary");

	/* EFI zboot: "MZ", then "zimg" at offset 4. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "MZ\0\0zimg", 8);
	ret = arm64_kernel_classify(buf, sizeof(buf), &lay);
	is_int(ret, -ENOEXEC, "EFI zboot: refused");
	ok(lay.note && strstr(lay.note, "zboot") && strstr(lay.note, "Image inside"),
	   "EFI zboot: the message says what to use instead");

	/* An Image with an EFI stub starts with "MZ" too, and is an Image. */
	make_image(0, 0x1000);
	memcpy(buf, "MZ", 2);
	ret = arm64_kernel_classify(buf, sizeof(buf), &lay);
	is_int(ret == 0 && lay.kind == ARM64_KERNEL_IMAGE, 1,
	       "Image with EFI stub (MZ): an Image");

	memset(buf, 0, sizeof(buf));
	memcpy(buf, "\x7f" "ELF", 4);
	ret = arm64_kernel_classify(buf, sizeof(buf), &lay);
	is_int(ret == 0 && lay.kind == ARM64_KERNEL_RAW, 1,
	       "ELF: loaded raw, as kvmtool would");
	ok(lay.note && strstr(lay.note, "ELF"), "ELF: with a warning");

	ret = arm64_kernel_classify(buf, 0, &lay);
	is_int(ret, -ENOEXEC, "empty file: refused");

	{
		const u64 base = 0x80000000ULL, limit = base + (256ULL << 20);
		u64 end = 0;

		is_int(arm64_kernel_end(base + 0x80000, 0x200000, limit, &end),
		       0, "kernel that fits: accepted");
		is_int(end, base + 0x280000, "  ... ends at load + image_size");
		/* A hostile image_size must not wrap the sum past the check. */
		is_int(arm64_kernel_end(base + 0x80000, ~0ULL - 0xfffff, limit,
					&end), -EFBIG,
		       "image_size that wraps load + size: refused");
		is_int(arm64_kernel_end(base, limit - base + 1, limit, &end),
		       -EFBIG, "image_size one byte past RAM: refused");
	}

	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel release from the image (see sandbox/kver.h).
 *
 * x86: a bzImage's payload is compressed, but since boot protocol 2.00 the
 * setup header's kernel_version field (offset 0x20e) points, 0x200 bytes
 * short, at "RELEASE (builder) #1 SMP ..." in the setup code, which is in
 * the clear (Documentation/arch/x86/boot.rst).
 *
 * arm64 and the rest: the Image is the uncompressed kernel, and its
 * linux_banner reads "Linux version RELEASE (builder) ...".  A gzip'ed or
 * EFI zboot image only has that banner inside its compressed payload; this
 * file does not inflate (the caller has the inflated Image when it loads
 * the kernel anyway), it says so.
 *
 * The release becomes a path component (/lib/modules/RELEASE), and the
 * image may come from anyone: only letters, digits and ".-_+~" are taken
 * (what `make kernelrelease` produces; no '/', no control characters),
 * and never "." or "..".  That also passes over printf formats such as
 * "Linux version %s" that precede the real banner in some images.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lkvm/types.h"
#include "kver.h"

#define BZ_HDRS_OFF		0x202	/* "HdrS" */
#define BZ_VERSION_OFF		0x206
#define BZ_KERNEL_VERSION_OFF	0x20e
#define BANNER			"Linux version "

static u16 le16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

/*
 * Copies the release starting at @s (at most @avail bytes) up to the
 * first space; 0 if it is one, followed by " (" when @need_paren.
 */
static int take_release(const u8 *s, size_t avail, bool need_paren,
			char rel[KVER_MAX])
{
	size_t n = 0;

	while (n < avail && s[n] != ' ') {
		if (!s[n] || (!isalnum(s[n]) && !strchr(".-_+~", s[n])))
			return -EINVAL;
		if (++n >= KVER_MAX)
			return -EINVAL;
	}
	if (!n || n == avail)
		return -EINVAL;
	if (need_paren && (n + 1 >= avail || s[n + 1] != '('))
		return -EINVAL;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return -EINVAL;
	memcpy(rel, s, n);
	rel[n] = 0;
	return 0;
}

static int from_bzimage(const u8 *b, size_t len, char rel[KVER_MAX],
			const char **why)
{
	u16 proto = le16(b + BZ_VERSION_OFF);
	size_t off;

	if (proto < 0x200) {
		*why = "a bzImage older than boot protocol 2.00 carries no kernel_version string";
		return -ENOEXEC;
	}
	off = (size_t)le16(b + BZ_KERNEL_VERSION_OFF) + 0x200;
	if (off == 0x200 || off >= len) {
		*why = "the bzImage's kernel_version pointer is unset or points past the file";
		return -ENOEXEC;
	}
	if (take_release(b + off, len - off, false, rel)) {
		*why = "the bzImage's kernel_version string is not a release name";
		return -ENOEXEC;
	}
	return 0;
}

static int from_banner(const u8 *b, size_t len, char rel[KVER_MAX])
{
	const size_t blen = sizeof(BANNER) - 1;
	const u8 *p = b, *end = b + len;

	/* Format strings that merely contain the words are skipped over. */
	while ((p = memmem(p, (size_t)(end - p), BANNER, blen))) {
		p += blen;
		if (!take_release(p, (size_t)(end - p), true, rel))
			return 0;
	}
	return -ENOENT;
}

static const char *compressed(const u8 *b, size_t len)
{
	if (len >= 8 && !memcmp(b, "MZ", 2) && !memcmp(b + 4, "zimg", 4))
		return "an EFI zboot image: its release is inside the compressed payload; give the raw Image (or the module tree with --mods)";
	if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return "a gzip'ed image: its release is inside the compressed data; inflate it first (gzip -dc) or give the module tree with --mods";
	if (len >= 4 && !memcmp(b, "\x28\xb5\x2f\xfd", 4))
		return "a zstd-compressed image: decompress it first or give the module tree with --mods";
	if (len >= 6 && !memcmp(b, "\xfd" "7zXZ\0", 6))
		return "an xz-compressed image: decompress it first or give the module tree with --mods";
	if (len >= 3 && !memcmp(b, "BZh", 3))
		return "a bzip2-compressed image: decompress it first or give the module tree with --mods";
	return NULL;
}

int kver_from_image(const void *img, size_t len, char rel[KVER_MAX],
		    const char **why)
{
	const u8 *b = img;
	const char *c;

	*why = NULL;
	rel[0] = 0;
	if (len >= BZ_KERNEL_VERSION_OFF + 2 &&
	    !memcmp(b + BZ_HDRS_OFF, "HdrS", 4))
		return from_bzimage(b, len, rel, why);
	c = compressed(b, len);
	if (c) {
		*why = c;
		return -ENOEXEC;
	}
	if (!from_banner(b, len, rel))
		return 0;
	*why = "no \"Linux version RELEASE (\" banner in the image: not an uncompressed Linux kernel";
	return -ENOEXEC;
}

int kver_from_file(const char *path, char rel[KVER_MAX], const char **why)
{
	struct stat st;
	void *map;
	int fd, ret;

	*why = NULL;
	rel[0] = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		*why = "cannot open the kernel image";
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		*why = "cannot stat the kernel image";
		goto out;
	}
	if (!S_ISREG(st.st_mode) || !st.st_size) {
		ret = -ENOEXEC;
		*why = "the kernel image is not a non-empty regular file";
		goto out;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		*why = "cannot map the kernel image";
		goto out;
	}
	ret = kver_from_image(map, (size_t)st.st_size, rel, why);
	munmap(map, (size_t)st.st_size);
out:
	close(fd);
	return ret;
}

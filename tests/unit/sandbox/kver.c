// SPDX-License-Identifier: GPL-2.0
/*
 * sandbox/kver.c: the release of synthetic x86 bzImages and arm64 Images,
 * what is refused (compressed images, hostile strings), and the real
 * Debian kernels the Linux tests download when they are in the cache.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "lkvm/types.h"
#include "sandbox/kver.h"

static u8 img[8192];

static void bzimage(u16 proto, u16 kv, const char *str)
{
	memset(img, 0, sizeof(img));
	img[0x1fe] = 0x55;
	img[0x1ff] = 0xaa;
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = (u8)proto;
	img[0x207] = (u8)(proto >> 8);
	img[0x20e] = (u8)kv;
	img[0x20f] = (u8)(kv >> 8);
	if (str)
		memcpy(img + kv + 0x200, str, strlen(str) + 1);
}

/* An arm64 Image header, then @at the given bytes (banner and decoys). */
#define arm64_image(at, s) arm64_image_n(at, s, sizeof(s) - 1)
static void arm64_image_n(size_t at, const char *s, size_t len)
{
	memset(img, 0, sizeof(img));
	memcpy(img + 0x38, "ARM\x64", 4);
	memcpy(img + at, s, len);
}

static int check(const char *want, const char *name)
{
	char rel[KVER_MAX];
	const char *why;
	int ret = kver_from_image(img, sizeof(img), rel, &why);

	if (ret)
		diag("  %d: %s", ret, why);
	return is_str(ret ? "(error)" : rel, want, name);
}

static int refused(const char *name, const char *why_has)
{
	char rel[KVER_MAX];
	const char *why = NULL;
	int ret = kver_from_image(img, sizeof(img), rel, &why);

	if (!ret)
		diag("  took '%s'", rel);
	else
		diag("  %s", why);
	return ok(ret == -ENOEXEC && why && strstr(why, why_has), "%s", name);
}

/* The release Debian's package file name carries, to compare with. */
static int release_from_deb(const char *path, char *out, size_t len)
{
	char line[256], *p, *u;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	/* linux-image-6.1.0-57-arm64_6.1.192-3_arm64.deb */
	p = strstr(line, "linux-image-");
	u = p ? strchr(p, '_') : NULL;
	if (!u)
		return -1;
	p += strlen("linux-image-");
	snprintf(out, len, "%.*s", (int)(u - p), p);
	return 0;
}

static void real_kernel(const char *cache, const char *dir, const char *image)
{
	char path[512], verfile[512], want[128], rel[KVER_MAX];
	const char *why = NULL;
	int ret;

	snprintf(path, sizeof(path), "%s/%s/%s", cache, dir, image);
	snprintf(verfile, sizeof(verfile), "%s/%s/version", cache, dir);
	if (access(path, R_OK) || release_from_deb(verfile, want, sizeof(want))) {
		ok(1, "# SKIP %s not in the cache (scripts/setup.sh fetches it)", path);
		return;
	}
	ret = kver_from_file(path, rel, &why);
	if (ret)
		diag("  %d: %s", ret, why);
	is_str(ret ? "(error)" : rel, want, path);
}

int main(void)
{
	const char *cache = getenv("LKVM_CACHE");
	char rel[KVER_MAX], fallback[512];
	const char *why;

	tap_plan(19);

	bzimage(0x20f, 0x1000, "6.1.0-28-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1");
	check("6.1.0-28-amd64", "bzImage 2.15: release from kernel_version");
	bzimage(0x200, 0x100, "2.6.99-rc1+ #3 Mon");
	check("2.6.99-rc1+", "bzImage 2.00: the oldest protocol with the field");
	bzimage(0x1ff, 0x100, "6.1.0 (x)");
	refused("bzImage before 2.00 refused", "2.00");
	bzimage(0x20f, 0, NULL);
	refused("kernel_version 0 refused", "unset");
	bzimage(0x20f, 0xff00, NULL);
	refused("kernel_version past the file refused", "past the file");
	bzimage(0x20f, 0x100, "../../etc (x)");
	refused("a release with a '/' is no path component", "not a release");
	bzimage(0x20f, 0x100, ".. (x)");
	refused("a release of '..' refused", "not a release");
	bzimage(0x20f, 0x100, "6.1.0\x01evil (x)");
	refused("a release with a control character refused", "not a release");
	bzimage(0x20f, 0x1c00, NULL);
	memset(img + 0x1e00, 'a', sizeof(img) - 0x1e00);
	refused("a string that runs off the end is refused, not overread", "not a release");

	arm64_image(0x1000, "Linux version %s (%s)\0....Linux version 6.1.0-28-arm64 (debian-kernel@lists.debian.org) (gcc-12)");
	check("6.1.0-28-arm64", "arm64 Image: the banner, not the format string before it");
	arm64_image(0x1000, "Linux version 6.8.0-rc3-00042-gdeadbeef-dirty (me@box) #7 SMP");
	check("6.8.0-rc3-00042-gdeadbeef-dirty", "arm64 Image from a kernel tree");
	arm64_image(sizeof(img) - 19, "Linux version 6.1.0");
	refused("a banner cut off by the end of the file", "no \"Linux version");
	arm64_image(0x1000, "Linux version 6.1.0\0 (x)");
	refused("a NUL inside the release is not taken", "no \"Linux version");
	memset(img, 0, sizeof(img));
	memcpy(img, "MZ\0\0zimg", 8);
	refused("EFI zboot refused, saying why", "zboot");
	memset(img, 0, sizeof(img));
	img[0] = 0x1f;
	img[1] = 0x8b;
	refused("gzip'ed Image refused, saying why", "gzip");
	memset(img, 0, sizeof(img));
	refused("no banner at all", "no \"Linux version");
	ok(kver_from_file("/nonexistent/Image", rel, &why) == -ENOENT && why,
	   "a missing file is -ENOENT");

	if (!cache) {
		const char *home = getenv("HOME");

		if (!getenv("XDG_CACHE_HOME"))
			snprintf(fallback, sizeof(fallback), "%s/.cache/lkvm", home ? home : "/");
		else
			snprintf(fallback, sizeof(fallback), "%s/lkvm", getenv("XDG_CACHE_HOME"));
		cache = fallback;
	}
	real_kernel(cache, "linux-cloud-amd64", "vmlinuz");
	real_kernel(cache, "linux-arm64", "Image");
	return tap_done();
}

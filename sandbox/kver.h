/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_SANDBOX_KVER_H
#define LKVM_SANDBOX_KVER_H

/*
 * The release a kernel image was built as ("6.1.0-28-arm64"), which names
 * its module tree /lib/modules/RELEASE.  Read from the image alone, never
 * from the running host's kernel.
 */
#include <stddef.h>

/* A release is at most this long; `uname -r` allows 64 bytes. */
#define KVER_MAX	65

/*
 * Finds the release in the @len bytes at @img: an x86 bzImage (boot
 * protocol 2.00 or later: the setup header's kernel_version string), an
 * arm64 Image or any other uncompressed image such as an ELF vmlinux (the
 * "Linux version RELEASE (" banner).  Returns 0 with the release in
 * @rel, or a negative errno with *@why saying what is wrong with the
 * image: -ENOEXEC for a compressed arm64 image (gzip, EFI zboot), whose
 * banner is not in the clear, and for an image with no banner.
 */
int kver_from_image(const void *img, size_t len, char rel[KVER_MAX],
		    const char **why);

/* The same for the file at @path. */
int kver_from_file(const char *path, char rel[KVER_MAX], const char **why);

#endif

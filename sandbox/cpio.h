/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_SANDBOX_CPIO_H
#define LKVM_SANDBOX_CPIO_H

/*
 * A newc ("070701") cpio archive built in memory, the format Linux unpacks
 * as an initramfs (Documentation/driver-api/early-userspace/
 * buffer-format.rst), so `lkvm sandbox` can hand the guest its init and
 * modules without a temporary file.
 *
 * Names are relative ("init", "lib/modules/9p.ko"): an absolute name or a
 * ".." component is refused, so an archive never writes outside the
 * directory it is unpacked in.  Every entry is owned by root with mtime 0,
 * which keeps the archive reproducible.  On any failure the archive is
 * left as it was before the call.
 */
#include <sys/types.h>

#include "lkvm/types.h"

/* The kernel drops a name or symlink target longer than this (PATH_MAX). */
#define CPIO_NAME_MAX	4096

struct cpio {
	u8 *buf;
	size_t len;
	size_t cap;
	u32 next_ino;
	bool finished;
};

void cpio_init(struct cpio *c);
void cpio_free(struct cpio *c);

/* @perm is the permission bits only (07777); the type comes from the call. */
int cpio_add_dir(struct cpio *c, const char *name, mode_t perm);
int cpio_add_file(struct cpio *c, const char *name, mode_t perm,
		  const void *data, size_t len);
int cpio_add_symlink(struct cpio *c, const char *name, const char *target);
/* @type is S_IFCHR, S_IFBLK, S_IFIFO or S_IFSOCK. */
int cpio_add_node(struct cpio *c, const char *name, mode_t type, mode_t perm,
		  unsigned int major, unsigned int minor);
/* A regular host file's contents under @name, with its permission bits. */
int cpio_add_host_file(struct cpio *c, const char *name, const char *path);

/*
 * Appends the TRAILER!!! entry; nothing can be added after it.  The
 * archive is then c->buf[0 .. c->len), a multiple of 4 bytes long, and
 * may be concatenated with another one (the kernel reads them in turn).
 */
int cpio_finish(struct cpio *c);

#endif

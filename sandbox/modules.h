/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_SANDBOX_MODULES_H
#define LKVM_SANDBOX_MODULES_H

/*
 * Which kernel modules the sandbox's initramfs must carry, in load order.
 *
 * The tree is one of:
 *  - an installed module tree, /lib/modules/RELEASE (or --mods DIR): its
 *    modules.dep says what each module needs;
 *  - the same without modules.dep (a distribution package unpacked as it
 *    is shipped: depmod writes modules.dep only when it is installed), or
 *    a kernel build tree after `make modules` (the .ko files next to their
 *    sources): every *.ko below the tree is found, and what it needs is
 *    read from its own .modinfo section ("depends=").
 * modules.builtin (both layouts have it) names what is built in and needs
 * no file.  Module names compare with '-' and '_' alike, as the kernel's.
 *
 * Compressed modules (.ko.xz, .ko.zst, .ko.gz) are taken as they are: the
 * guest init passes MODULE_INIT_COMPRESSED_FILE to finit_module and the
 * guest kernel inflates them (CONFIG_MODULE_DECOMPRESS).  Their .modinfo
 * cannot be read without inflating, so they need modules.dep.
 */
#include <stdbool.h>
#include <stddef.h>

struct mod_entry {
	char *name;		/* normalised: '-' as '_' */
	char *path;		/* host path of the file; NULL if built in */
	bool builtin;
};

struct mod_list {
	struct mod_entry *mods;	/* load order: every module after its deps */
	size_t nr;
	char **missing;		/* wanted, but neither module nor built in */
	size_t nr_missing;
	char err[512];		/* why a failing call failed */
};

/*
 * Resolves @wanted (module names) against the tree at @tree.  Returns 0
 * with @out filled; a wanted module the kernel lacks is listed in
 * out->missing (the caller decides whether it matters).  Returns a
 * negative errno, with out->err saying why, when the tree is unusable
 * (-ENOENT: no such tree, or a dependency's file is missing; -ELOOP: a
 * dependency cycle; -EOPNOTSUPP: compressed modules without modules.dep).
 * Call modules_free() either way.
 */
int modules_resolve(const char *tree, const char *const *wanted, size_t nr,
		    struct mod_list *out);
void modules_free(struct mod_list *list);

/* Whether @path names a compressed module (the init must say so). */
bool modules_is_compressed(const char *path);

/*
 * The "depends=" value of the module image at @buf (an ELF .ko), copied
 * to @deps (comma-separated, maybe empty).  -ENOEXEC if it is no 64-bit
 * little-endian ELF with a .modinfo section.
 */
int modules_modinfo_depends(const void *buf, size_t len, char *deps,
			    size_t deps_len);

#endif

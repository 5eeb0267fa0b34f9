/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_SANDBOX_SANDBOX_H
#define LKVM_SANDBOX_SANDBOX_H

/*
 * `lkvm sandbox [run options] [--rwdir DIR]... [--rodir DIR]...
 *  [--timeout S] [--result-json FILE] [--mods DIR] -- CMD [ARGS...]`:
 * CMD in a throwaway VM, on the host's files, ending with CMD's status
 * (sandbox/status.h).  sandbox/run.c is the command, sandbox/initramfs.c
 * what the guest gets to boot from.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cpio.h"
#include "initcfg.h"
#include "modules.h"

/* The 9p tag of the host's root, the one the init mounts as / */
#define SANDBOX_ROOT_TAG	"lkvm-root"

/* `lkvm sandbox ...` (argv[0] is "sandbox"); returns lkvm's exit status. */
int sandbox_main(int argc, char **argv);

/* Everything the guest init is told (/lkvm/config) and carries. */
struct sandbox_image {
	const void *init;		/* the static init binary */
	size_t init_len;
	char *const *argv;		/* CMD, NULL-terminated */
	char *const *envp;		/* the caller's environment */
	const char *cwd;
	uid_t uid;
	gid_t gid;
	const struct initcfg_share *shares;
	size_t nr_shares;
	const struct mod_list *mods;	/* NULL: none to load */
};

/*
 * Whether the variable "NAME=value" @kv still means something inside the
 * guest.  What points at a host-side service (a display, an agent socket,
 * the session bus, a per-login runtime directory) does not: the guest
 * sees the path read-only but nothing listens behind it, and a client
 * that finds the variable would try it and fail more confusingly than
 * one that does not.
 */
bool sandbox_env_passes(const char *kv);

/*
 * The newc archive the guest boots from: /init, /dev/console,
 * /lkvm/config, /lkvm/modules/<file> for each module to load.  On error
 * a negative errno with @err saying what failed; cpio_free() either way.
 */
int sandbox_initramfs(const struct sandbox_image *img, struct cpio *out,
		      char *err, size_t err_len);

/* The init binary for the guest's architecture, linked into lkvm. */
extern const unsigned char sandbox_init_blob[];
extern const unsigned char sandbox_init_blob_end[];

#endif

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_SANDBOX_INITCFG_H
#define LKVM_SANDBOX_INITCFG_H

/*
 * What lkvm tells the guest init, as the file /lkvm/config in the
 * initramfs.  Records "key=value", each ended by a NUL: argv and
 * environment strings may hold anything but a NUL (newlines included),
 * so no quoting is needed.  Keys (repeatable ones in the order given):
 *
 *   arg=S          CMD and its arguments (at least one)
 *   env=K=V        CMD's environment
 *   cwd=PATH       CMD's working directory (default /)
 *   uid=N, gid=N   CMD's credentials (default 0)
 *   root=TAG       9p mount tag of the root (default lkvm-root)
 *   msize=N        9p msize (default 512 KiB)
 *   share=rw TAG PATH, share=ro TAG PATH
 *                  a 9p share mounted at PATH (--rwdir / --rodir)
 *   module=PATH    a module file in the initramfs, loaded in order
 *   stdin=DEV, stdout=DEV, stderr=DEV, status=DEV
 *                  the device nodes for CMD's stdio and the status line
 *
 * Plain C and libc only: built into lkvm (writer) and the init (parser).
 */
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#define INITCFG_PATH		"lkvm/config"
#define INITCFG_MAX_LIST	4096	/* args, env strings, shares, modules */

struct initcfg_share {
	const char *tag;
	const char *path;
	bool ro;
};

struct initcfg {
	char **argv;		/* NULL-terminated */
	size_t argc;
	char **envp;		/* NULL-terminated */
	size_t nr_env;
	const char *cwd;
	uid_t uid;
	gid_t gid;
	const char *root_tag;
	unsigned int msize;
	struct initcfg_share *shares;
	size_t nr_shares;
	char **modules;
	size_t nr_modules;
	const char *dev_stdin, *dev_stdout, *dev_stderr, *dev_status;
	char *buf;		/* the records; every string points into it */
	char err[160];
};

/* Appends one record; -EINVAL if @key or @value cannot be one. */
int initcfg_put(FILE *f, const char *key, const char *value);

/*
 * Parses the @len bytes at @data (copied).  Returns 0, or -EINVAL with
 * cfg->err naming the bad record.  initcfg_free() either way.
 */
int initcfg_parse(const char *data, size_t len, struct initcfg *cfg);
void initcfg_free(struct initcfg *cfg);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_CTL_PATH_H
#define LKVM_CTL_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>

/*
 * Where VMs' control sockets live: $XDG_RUNTIME_DIR/lkvm, or ~/.lkvm
 * (kvmtool's place) when XDG_RUNTIME_DIR is unset or not absolute.
 * Each VM's socket is <dir>/<name>.sock.
 */
#define CTL_SOCK_SUFFIX	".sock"

/* The directory into @buf; -ENAMETOOLONG, -ENOENT (no $HOME either). */
int ctl_dir(char *buf, size_t size);

/*
 * 0 if @name can name a VM's socket in @dir, else a negative errno with
 * the reason in @why: empty, '/', a leading '.', control characters, or
 * too long for sun_path.
 */
int ctl_name_check(const char *dir, const char *name, const char **why);

/* <dir>/<name>.sock as a sockaddr; ctl_name_check() first. */
int ctl_sock_addr(const char *dir, const char *name, struct sockaddr_un *sa);

/*
 * <dir>/.<name>.tmp, where a new socket is bound and made to listen
 * before it is renamed into place (names never start with a dot, and
 * ".tmp" is as long as ".sock").
 */
int ctl_sock_tmp_addr(const char *dir, const char *name,
		      struct sockaddr_un *sa);

/*
 * Serialises, between lkvm processes, looking at a socket path and
 * replacing or removing it (an flock on <dir>/.lock).  Returns the
 * lock's fd, to give to ctl_dir_unlock(), or a negative errno.
 */
int ctl_dir_lock(const char *dir);
void ctl_dir_unlock(int fd);

/*
 * Makes @dir (0700) if missing, then checks it: a directory owned by us
 * with no group or other access.  -EPERM with @why filled otherwise.
 * @create false: a missing directory is -ENOENT (the client's case).
 */
int ctl_dir_prepare(const char *dir, bool create, const char **why);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_CTL_CLI_H
#define LKVM_CTL_CLI_H

#include <stdbool.h>

/* The client commands' exit status besides 0 and LKVM_EXIT_USAGE. */
#define CTL_EXIT_FAILED	1	/* the VM could not do it, or went away */

/*
 * Names of the VMs with a socket in the control directory (live or not),
 * sorted; *@names is a NULL-terminated malloc'ed array.  Returns the
 * count, or a negative errno after saying why on stderr; -EPERM is a
 * directory others can write to, which is ignored (no VMs listed).
 */
int ctl_cli_names(char ***names);
void ctl_cli_free_names(char **names);
/* Removes VM @name's socket if nothing listens on it any more. */
void ctl_cli_remove_stale(const char *name);
/* Says on stderr why connecting to @name failed (ctl_connect()'s @err). */
void ctl_cli_connect_error(const char *cmd, const char *name, int err);

/* ctl/cli-stop.c: `lkvm stop`. */
int ctl_cli_stop(int argc, char **argv);
/*
 * Does /proc/PID/stat, open at @fd, say the process has exited: a zombie,
 * or reaped since the open (the read fails)?
 */
bool ctl_stat_gone(int fd);

#endif

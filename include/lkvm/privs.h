/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_PRIVS_H
#define LKVM_PRIVS_H

#include <stdbool.h>

/*
 * Least privilege (kvm/privs.c): once everything that may need a
 * capability is set up (tap, images, sockets, the VM), every thread of
 * lkvm gives up all its capabilities -- effective, permitted,
 * inheritable, ambient and, where CAP_SETPCAP allows, the bounding set --
 * and sets no_new_privs, so that neither lkvm nor anything it runs later
 * (a tap downscript) can get them back.
 *
 * Capabilities belong to each thread, not to the process, so the threads
 * that already exist are asked to drop theirs (a signal, see privs.c);
 * threads created afterwards inherit the empty sets.  Returns 0, or a
 * negative errno after saying which thread kept what.
 */
int privs_drop(void);

/*
 * The check privs_drop() ends with: 0 if every thread of this process
 * holds no capability and has no_new_privs set (and an empty bounding set
 * if @bounding_too), else -EPERM after naming the thread.
 */
int privs_check(bool bounding_too);

/*
 * Marks every fd above 2 that lkvm inherited close-on-exec, so that
 * nothing a parent leaked (a harness's pipe, a shell's /dev/null) reaches
 * a tap script.  Not closed: an fd= tap is one of them, and lkvm cannot
 * tell the others from a sanitizer's own.  Call first thing in main().
 */
void privs_cloexec_inherited(void);

#endif

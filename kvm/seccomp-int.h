/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_SECCOMP_INT_H
#define LKVM_SECCOMP_INT_H

#include <stdbool.h>

#include "lkvm/seccomp.h"

/* One thread type's allow-list (kvm/seccomp-lists.c). */
struct seccomp_list {
	const char *const *syscalls;	/* names, NULL-terminated */
	const unsigned long *ioctls;	/* allowed requests, 0-terminated */
	bool mem;			/* mmap/mprotect without PROT_EXEC */
	bool kick;			/* tgkill with SIGUSR1 or SIGABRT */
	bool open_no_rdwr;		/* openat, but not O_RDWR */
	bool drop_privs;		/* capget/capset, prctl to give up privilege */
};

/* Every thread's: what glibc's own machinery needs (malloc, locks). */
extern const struct seccomp_list seccomp_common_list;
/* Empty unless built with a sanitizer, whose runtime makes calls too. */
extern const struct seccomp_list seccomp_sanitizer_list;
extern const struct seccomp_list seccomp_sanitizer_main_list;
extern const struct seccomp_list *const seccomp_lists[SECCOMP_THREAD_MAX];

#endif

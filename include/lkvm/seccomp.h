/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_SECCOMP_H
#define LKVM_SECCOMP_H

#include <stdbool.h>

/*
 * Per-thread seccomp allow-lists (kvm/seccomp.c, lists in
 * kvm/seccomp-lists.c).  Every lkvm thread installs its own filter at the
 * point where its set-up is done; a system call outside the list raises
 * SIGSYS, whose handler names the call and the thread type on stderr and
 * ends lkvm with LKVM_EXIT_SECCOMP.
 */
enum seccomp_thread {
	SECCOMP_THREAD_NONE,		/* no filter of its own */
	SECCOMP_THREAD_MAIN,		/* event loop, control socket, console */
	SECCOMP_THREAD_VCPU,		/* KVM_RUN and device emulation */
	SECCOMP_THREAD_VIRTIO,		/* a virtio device's event loop */
	SECCOMP_THREAD_VIRTIO_QUEUE,	/* a thread_per_queue queue's loop */
	SECCOMP_THREAD_SLIRP,		/* virtio-net's loop with -n mode=user */
	SECCOMP_THREAD_P9,		/* a virtio-9p worker */
	SECCOMP_THREAD_DISK,		/* disk/worker.c */
	SECCOMP_THREAD_STDIN,		/* lkvm sandbox's stdin forwarder */
	SECCOMP_THREAD_MAX,
};

struct lkvm_config;

/*
 * Before the first thread: turns filtering on (cfg->seccomp) or off for
 * this process, installs the SIGSYS handler and builds the syscall name
 * table the handler uses.  Idempotent.  0 or a negative errno.
 */
int seccomp__prepare(const struct lkvm_config *cfg);

/*
 * In the calling thread, once its set-up is done: install @kind's filter
 * (no-op when seccomp__prepare() turned filtering off or never ran, as in
 * the unit tests).  Exits lkvm with a message when the kernel refuses.
 */
void seccomp__thread_enter(enum seccomp_thread kind);

/*
 * The test hook: with LKVM_TEST_FORBIDDEN_SYSCALL=execve|ptrace|open in
 * the environment, the first virtio device thread makes that call once its
 * filter is in place and says on stderr what came back.
 */
void seccomp__test_hook(void);

const char *seccomp__thread_name(enum seccomp_thread kind);

#endif

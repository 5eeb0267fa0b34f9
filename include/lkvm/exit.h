/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_EXIT_H
#define LKVM_EXIT_H

/*
 * lkvm's exit status.  The test exit port produces (value << 1) | 1, which
 * is always odd, so every status lkvm chooses itself is even and the two
 * can never be confused (except for 128 + signal, as a shell expects).
 */
#define LKVM_EXIT_POWEROFF	0	/* guest powered off */
#define LKVM_EXIT_USAGE		2	/* bad option or unusable input file */
#define LKVM_EXIT_VMM_ERROR	4	/* lkvm or a KVM ioctl failed */
#define LKVM_EXIT_GUEST_FAULT	6	/* KVM_EXIT_INTERNAL_ERROR, triple fault, ... */
#define LKVM_EXIT_RESET		8	/* guest asked for a reset / reboot */
/* Only with cfg->stop_after_s (`lkvm sandbox --timeout`): timeout(1)'s. */
#define LKVM_EXIT_TIMEOUT	124
#define LKVM_EXIT_SIGNAL_BASE	128	/* 128 + signal number */
/*
 * `lkvm stop` forced the VM off (--force, the --timeout ran out, or the
 * board has no power-off request): what SIGTERM would have given, since
 * that is what it stands for.
 */
#define LKVM_EXIT_STOPPED	(LKVM_EXIT_SIGNAL_BASE + 15)
/*
 * A seccomp filter caught a forbidden system call (kvm/seccomp.c): what a
 * shell shows for a process killed by SIGSYS (31 on x86-64 and arm64).
 */
#define LKVM_EXIT_SECCOMP	(LKVM_EXIT_SIGNAL_BASE + 31)

#endif

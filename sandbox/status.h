/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_SANDBOX_STATUS_H
#define LKVM_SANDBOX_STATUS_H

/*
 * The exit-status contract of `lkvm sandbox`.
 *
 * CMD's own status passes through unchanged, and a CMD killed by signal n
 * gives 128 + n, as a shell reports it.  That takes all of 0-255, so no
 * exit status lkvm picks for its own reasons can be told apart from a
 * CMD that happened to exit with the same number.  lkvm's codes are
 * therefore chosen to be unsurprising (the same as `lkvm run` for the
 * same event, timeout(1)'s for a timeout), and `--result-json FILE` is
 * the unambiguous record: its "reason" says which of the two it was.
 *
 *   reason                  exit status
 *   exit                    CMD's status, 0-255
 *   signal                  128 + n
 *   panic                   8 (as `lkvm run` for panic=-1's reset);
 *                           6 if the guest faulted (triple fault, KVM
 *                           internal error), as `lkvm run`
 *   timeout                 124 (as timeout(1))
 *   vmm-error               4 (as `lkvm run`), 2 for a usage error
 *   missing-kernel-support  10 (even, as all of lkvm's own)
 *   interrupted             128 + n, lkvm itself got signal n (as `lkvm run`)
 */
#include <stdio.h>

#include "lkvm/exit.h"
#include "report.h"

#define SANDBOX_STATUS_PANIC		LKVM_EXIT_RESET		/* 8 */
#define SANDBOX_STATUS_GUEST_FAULT	LKVM_EXIT_GUEST_FAULT	/* 6 */
#define SANDBOX_STATUS_TIMEOUT		124
#define SANDBOX_STATUS_VMM_ERROR	LKVM_EXIT_VMM_ERROR	/* 4 */
#define SANDBOX_STATUS_USAGE		LKVM_EXIT_USAGE		/* 2 */
#define SANDBOX_STATUS_MISSING_SUPPORT	10

struct sandbox_result {
	enum sandbox_reason reason;
	/*
	 * exit: CMD's status; signal, interrupted: the signal number;
	 * panic, vmm-error: the exit status (6/8, 2/4); otherwise unused.
	 */
	int code;
	const char *kernel;		/* the image booted, NULL if none yet */
	double duration_s;		/* lkvm's start to the end of the VM */
	const char *const *argv;	/* CMD, NULL-terminated */
	const char *detail;		/* NULL, or what lkvm or the init said */
};

/* The exit status lkvm ends with for @r. */
int sandbox_exit_status(const struct sandbox_result *r);

/*
 * One JSON object on @f:
 *   {"reason": "exit", "status": 7, "signal": null, "kernel": "...",
 *    "duration_s": 1.234, "command": ["sh", "-c", "exit 7"],
 *    "detail": null}
 * Strings are escaped (quote, backslash, control characters) and invalid
 * UTF-8 becomes U+FFFD, so any argv and path makes valid JSON.
 */
int sandbox_result_json(const struct sandbox_result *r, FILE *f);
/* The same into @f, opened earlier, which is then closed: 0 or -errno. */
int sandbox_result_finish(const struct sandbox_result *r, FILE *f);
/* The same into the file @path (created or truncated). */
int sandbox_result_write(const struct sandbox_result *r, const char *path);

/* @s as a JSON string literal, quotes included. */
int sandbox_json_string(FILE *f, const char *s);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_SANDBOX_REPORT_H
#define LKVM_SANDBOX_REPORT_H

/*
 * How a sandbox run ended, and the one line the guest init sends lkvm to
 * say so.  Plain C and libc only: the same file is built into lkvm and
 * into the static guest init (sandbox/init/), so the two cannot disagree
 * on the format.
 *
 * The line, on the init's status port (see sandbox/init/init.c):
 *   lkvm-status: exit N                         CMD exited with N (0-255)
 *   lkvm-status: signal N                       CMD was killed by signal N
 *   lkvm-status: missing-kernel-support WHAT    e.g. CONFIG_NET_9P_VIRTIO
 *   lkvm-status: init-error WHAT                the init could not set up
 * WHAT is one line of printable text.
 */
#include <stddef.h>

#define SANDBOX_REPORT_PREFIX	"lkvm-status: "
/*
 * Sent by the init on the status port once CMD's stdin device is open in
 * the guest: lkvm holds stdin back until then, because input that reaches
 * a one-port virtio-console before anything opened it stays unread in
 * the guest's console driver.
 */
#define SANDBOX_READY_LINE	"lkvm-ready\n"
#define SANDBOX_REPORT_MAX	512	/* a whole line, '\n' and NUL included */

enum sandbox_reason {
	SANDBOX_EXIT,			/* CMD exited: code is its status */
	SANDBOX_SIGNAL,			/* CMD killed: code is the signal */
	SANDBOX_PANIC,			/* guest kernel panic or crash */
	SANDBOX_TIMEOUT,		/* --timeout expired */
	SANDBOX_VMM_ERROR,		/* lkvm failed, or the init could not set up */
	SANDBOX_MISSING_SUPPORT,	/* the kernel lacks 9p, virtio, overlayfs... */
	SANDBOX_INTERRUPTED,		/* lkvm itself got SIGINT/SIGTERM/SIGHUP */
	SANDBOX_NR_REASONS,
};

/* "exit", "signal", "panic", ...: the JSON "reason" and the line's word. */
const char *sandbox_reason_name(enum sandbox_reason r);

struct sandbox_report {
	enum sandbox_reason reason;	/* only EXIT, SIGNAL, MISSING_SUPPORT,
					 * VMM_ERROR (init-error) travel */
	int code;			/* exit status or signal number */
	char detail[SANDBOX_REPORT_MAX];
};

/*
 * The kernel option a failure of the init's step @step ("9p-root",
 * "overlay", "devtmpfs", "tmpfs", "module-decompress") with @err (a
 * positive errno) points at, or NULL if @err says nothing about the
 * kernel's configuration (then it is an init-error).
 */
const char *sandbox_missing_config(const char *step, int err);

/* The line for @r, '\n' included; -EINVAL for what cannot travel. */
int sandbox_report_format(const struct sandbox_report *r, char *buf,
			  size_t len);
/* Parses one line (with or without its '\n'); -EINVAL if malformed. */
int sandbox_report_parse(const char *line, struct sandbox_report *r);

#endif

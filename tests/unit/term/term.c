// SPDX-License-Identifier: GPL-2.0
/*
 * term/term.c: a crash while the terminal is raw restores the terminal and
 * still ends the way the crash would have without lkvm's handler: killed
 * by the signal, or, in a SANITIZE build, with the sanitizer's report
 * (the handler once swallowed it).  Each crash happens in a child whose
 * stdin is a fresh pty, so the test needs no terminal of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "tap.h"

#include "lkvm/sanitizer.h"
#include "lkvm/term.h"

/* The sanitizer whose SEGV handler reports a wild access, if any. */
#if LKVM_ASAN
#define SAN_NAME "AddressSanitizer"
#elif LKVM_TSAN
#define SAN_NAME "ThreadSanitizer"
#endif
#ifndef SAN_NAME
#define SAN_NAME ""
#define san_report_to_stderr()	do { } while (0)
#else
#include <sanitizer/common_interface_defs.h>
#define san_report_to_stderr()	__sanitizer_set_report_path("stderr")
#endif

enum crash { CRASH_SEGV, CRASH_ABORT };

/* Points nowhere mapped; volatile so the compiler keeps the access. */
static volatile int *volatile wild = (int *)16;

struct outcome {
	int status;
	bool raw_during;	/* the pty was raw while the child ran */
	bool restored;		/* ECHO and ICANON back after the crash */
	char err[4096];		/* the child's stderr */
};

static int crash_in_child(enum crash how, struct outcome *o)
{
	int master, slave, errp[2], gop[2];
	char go = 'G';
	struct termios t;
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	memset(o, 0, sizeof(*o));
	if (openpty(&master, &slave, NULL, NULL, NULL) || pipe(errp) || pipe(gop))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		dup2(slave, STDIN_FILENO);
		dup2(errp[1], STDERR_FILENO);
		term__init();
		/* Tell the parent the terminal is raw now; crash when it has looked. */
		if (write(errp[1], "R", 1) != 1 || read(gop[0], &go, 1) != 1)
			_exit(90);
		/*
		 * The report this crash provokes is the test's subject: to
		 * stderr, where the parent looks, not to the log files a TSan
		 * run sweeps for unexpected reports (Makefile's TSAN_LOGS).
		 */
		san_report_to_stderr();
		if (how == CRASH_SEGV)
			*wild = 1;
		else
			abort();
		_exit(91);
	}
	close(errp[1]);
	close(gop[0]);
	while ((n = read(errp[0], o->err + got, sizeof(o->err) - 1 - got)) > 0) {
		if (!got) {
			if (!tcgetattr(slave, &t))
				o->raw_during = !(t.c_lflag & (ECHO | ICANON));
			if (write(gop[1], &go, 1) != 1)
				break;
		}
		got += (size_t)n;
	}
	close(gop[1]);
	o->err[got] = 0;
	waitpid(pid, &o->status, 0);
	if (!tcgetattr(slave, &t))
		o->restored = (t.c_lflag & ECHO) && (t.c_lflag & ICANON);
	close(errp[0]);
	close(master);
	close(slave);
	return 0;
}

static void check(enum crash how, const char *name, int sig)
{
	struct outcome o;

	ok(!crash_in_child(how, &o), "%s: child ran", name);
	ok(o.raw_during, "%s: terminal raw while the child ran", name);
	ok(o.restored, "%s: terminal restored after the crash", name);
	if (*SAN_NAME && how == CRASH_SEGV) {
		/* The sanitizer's own SEGV handler must still get to report. */
		if (!ok(strstr(o.err, SAN_NAME) != NULL,
			"%s: the sanitizer's report reached stderr", name))
			diag("stderr: %.300s", o.err);
	} else {
		if (!ok(WIFSIGNALED(o.status) && WTERMSIG(o.status) == sig,
			"%s: child ended by signal %d, as without the handler",
			name, sig))
			diag("status 0x%x, stderr: %.300s", o.status, o.err);
	}
}

int main(void)
{
	tap_plan(8);
	diag("sanitizer build: %s", *SAN_NAME ? SAN_NAME : "no");
	check(CRASH_SEGV, "fault", SIGSEGV);
	check(CRASH_ABORT, "abort", SIGABRT);
	return tap_done();
}

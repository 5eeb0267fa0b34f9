// SPDX-License-Identifier: GPL-2.0
/*
 * The console terminal: raw while the guest owns it, restored on every way
 * out (normal exit, exit(), and fatal signals), so a crashed lkvm never
 * leaves the user's shell without echo.  With --tty 0 the console lives on
 * a new pty instead of stdin/stdout (kvmtool's --tty).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "lkvm/log.h"
#include "lkvm/term.h"

static struct termios saved;
/* Set once, before any device thread starts; read-only afterwards. */
static int console_in = STDIN_FILENO, console_out = STDOUT_FILENO;

int term__in_fd(void)
{
	return console_in;
}

int term__out_fd(void)
{
	return console_out;
}

/*
 * kvmtool's --tty N: guest terminal N moves to a new pty whose name is
 * printed.  lkvm keeps the slave side open itself, so the guest's output
 * waits in the pty until someone opens it and the master never reads EIO
 * while nobody is connected.  The master is non-blocking: with nobody
 * reading, output beyond the pty's buffer is dropped rather than stalling
 * the vCPU, as a UART with no cable would.
 */
int term__open_pty(unsigned int n)
{
	struct termios t;
	const char *name;
	int master, slave = -1, err;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) || unlockpt(master) ||
	    !(name = ptsname(master)))
		goto fail;
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		goto fail;
	/* Bytes pass unchanged both ways: the guest does its own tty. */
	if (!tcgetattr(slave, &t)) {
		cfmakeraw(&t);
		tcsetattr(slave, TCSANOW, &t);
	}
	if (fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK) < 0)
		goto fail;
	fprintf(stderr, "  Info: Assigned terminal %u to pty %s\n", n, name);
	console_in = console_out = master;
	/* @slave stays open for the life of lkvm (see above). */
	return 0;
fail:
	/* Before fprintf and close, which may change errno. */
	err = errno ? errno : EIO;
	fprintf(stderr, "lkvm: error: --tty %u: cannot create a pty: %s\n", n,
		strerror(err));
	if (slave >= 0)
		close(slave);
	if (master >= 0)
		close(master);
	return -err;
}

/*
 * Read by device threads (Ctrl-A handling) and by signal handlers: a
 * lock-free atomic is safe for both.  Relaxed: it guards no other data.
 */
static atomic_int raw_active;

void term__restore(void)
{
	if (atomic_exchange_explicit(&raw_active, 0, memory_order_relaxed))
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
}

bool term__is_raw(void)
{
	return atomic_load_explicit(&raw_active, memory_order_relaxed);
}

/*
 * The handlers that were installed before ours (SIG_DFL, or a sanitizer's
 * own, which prints the report that says where lkvm crashed).
 */
static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
static struct sigaction prev_fatal[ARRAY_SIZE(fatal_signals)];

static void term__fatal_signal(int sig, siginfo_t *si, void *uc)
{
	size_t i;

	(void)uc;
	term__restore();
	for (i = 0; i < ARRAY_SIZE(fatal_signals); i++)
		if (fatal_signals[i] == sig)
			sigaction(sig, &prev_fatal[i], NULL);
	/*
	 * A fault (si_code > 0) is raised again by the faulting instruction
	 * when we return, so the previous handler sees the real context and
	 * address; a signal someone sent (kill, abort, raise) is sent again.
	 */
	if (si->si_code <= 0)
		raise(sig);
}

void term__init(void)
{
	struct termios raw;

	/* With --tty the guest does not read stdin: leave it alone. */
	if (console_in != STDIN_FILENO || !isatty(STDIN_FILENO) ||
	    tcgetattr(STDIN_FILENO, &saved))
		return;
	raw = saved;
	cfmakeraw(&raw);
	/* Keep output post-processing so our own \n log lines stay sane. */
	raw.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw))
		return;
	atomic_store_explicit(&raw_active, 1, memory_order_relaxed);
	atexit(term__restore);
	for (size_t i = 0; i < ARRAY_SIZE(fatal_signals); i++) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = term__fatal_signal;
		sa.sa_flags = SA_SIGINFO;
		sigaction(fatal_signals[i], &sa, &prev_fatal[i]);
	}
}

/*
 * Set once stdout's reader has gone (EPIPE: `lkvm run ... | head`).  The
 * guest keeps running; what it prints from then on is lost, as on a
 * serial line nobody listens to.  Relaxed: it guards no other data.
 */
static atomic_bool output_lost;

bool term__output_lost(void)
{
	return atomic_load_explicit(&output_lost, memory_order_relaxed);
}

void term__output_failed(const char *who, int err)
{
	if (err != EPIPE) {
		pr_debug("%s: stdout write failed: %s", who, strerror(err));
		return;
	}
	if (!atomic_exchange_explicit(&output_lost, true, memory_order_relaxed))
		pr_warn("%s: stdout was closed; the guest's console output is dropped from now on",
			who);
}

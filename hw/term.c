// SPDX-License-Identifier: GPL-2.0
/*
 * The console terminal: raw while the guest owns it, restored on every way
 * out (normal exit, exit(), and fatal signals), so a crashed lkvm never
 * leaves the user's shell without echo.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "lkvm/hw.h"

static struct termios saved;
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

static void term__fatal_signal(int sig)
{
	term__restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

void term__init(void)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved))
		return;
	raw = saved;
	cfmakeraw(&raw);
	/* Keep output post-processing so our own \n log lines stay sane. */
	raw.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw))
		return;
	atomic_store_explicit(&raw_active, 1, memory_order_relaxed);
	atexit(term__restore);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = term__fatal_signal;
		sa.sa_flags = SA_RESETHAND;
		sigaction(fatal[i], &sa, NULL);
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The console terminal: raw while the guest owns it, restored on every way
 * out (normal exit, exit(), and fatal signals), so a crashed lkvm never
 * leaves the user's shell without echo.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "lkvm/hw.h"

static struct termios saved;
static volatile sig_atomic_t raw_active;	/* read from signal handlers */

void term__restore(void)
{
	if (raw_active) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		raw_active = 0;
	}
}

bool term__is_raw(void)
{
	return raw_active;
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
	raw_active = 1;
	atexit(term__restore);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = term__fatal_signal;
		sa.sa_flags = SA_RESETHAND;
		sigaction(fatal[i], &sa, NULL);
	}
}

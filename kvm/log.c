// SPDX-License-Identifier: GPL-2.0
/* lkvm's own messages: one line each, on stderr, filtered by --loglevel. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lkvm/log.h"

enum log_level log_level = LOG_WARNING;

static const char *const level_names[] = {
	[LOG_ERROR] = "error",
	[LOG_WARNING] = "warning",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

int log_parse_level(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (!strcmp(s, level_names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * Keeps errno: callers say what failed, then return -errno.  A write to a
 * closed or full stderr would otherwise replace the real error with
 * EPIPE or ENOSPC.
 */
void log_msg(enum log_level lvl, const char *fmt, ...)
{
	int saved = errno;
	char buf[1024];
	va_list ap;

	if (lvl > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/*
	 * One fprintf per message so lines from vCPU threads never interleave
	 * mid-line; the console may be in raw mode, hence the explicit \r.
	 */
	fprintf(stderr, "lkvm: %s: %s\r\n", level_names[lvl], buf);
	errno = saved;
}

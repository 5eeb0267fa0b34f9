/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_LOG_H
#define LKVM_LOG_H

#include "lkvm/types.h"

enum log_level {
	LOG_ERROR,
	LOG_WARNING,
	LOG_INFO,
	LOG_DEBUG,
};

extern enum log_level log_level;

/* Parses "error", "warning", "info" or "debug"; returns -EINVAL otherwise. */
int log_parse_level(const char *s, enum log_level *out);
void log_msg(enum log_level lvl, const char *fmt, ...) __printf(2, 3);

#define pr_err(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...)                                   \
	do {                                            \
		if (log_level >= LOG_DEBUG)             \
			log_msg(LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_TESTS_RSS_H
#define LKVM_TESTS_RSS_H

/*
 * Resident set size of a process, for the resource-bound tests: they
 * push a guest- or image-controlled size to its bound and assert that
 * RSS grew by no more than a budget computed from that bound.  VmRSS is
 * what is resident now; VmHWM the peak, which also catches a buffer
 * allocated, touched and freed within the operation.
 */
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "lkvm/sanitizer.h"

/* @field ("VmRSS:" or "VmHWM:") of @pid (0: ourselves) in KiB, or -1. */
static inline long rss_field_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field))) {
			sscanf(line + strlen(field), "%ld", &v);
			break;
		}
	fclose(f);
	return v;
}

static inline long rss_kib(pid_t pid) { return rss_field_kib(pid, "VmRSS:"); }
static inline long hwm_kib(pid_t pid) { return rss_field_kib(pid, "VmHWM:"); }

/*
 * Resets our VmHWM to the current RSS (Linux >= 4.0: writing 5 to
 * clear_refs), so that a later hwm_kib() is the peak of what follows.
 * Returns 0, or -1 where the kernel does not allow it.
 */
static inline int hwm_reset(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs("5", f) < 0 ? -1 : 0;
	if (fclose(f))
		ret = -1;
	return ret;
}

/*
 * ASan and TSan count their shadow memory and ASan its quarantine of
 * freed blocks in RSS: a budget computed from the bound means nothing
 * there, so those builds report the figure and skip the comparison.
 */
#define RSS_SANITIZED	(LKVM_ASAN || LKVM_TSAN)

/* One TAP line: RSS grew @growth KiB, within @budget KiB? */
#define rss_within(growth, budget, what)                                    \
	do {                                                                \
		long __g = (growth), __b = (budget);                        \
		if (RSS_SANITIZED && __g > __b)                             \
			ok(1, "# SKIP %s: RSS grew %ld KiB, budget %ld KiB; "  \
			   "a sanitizer's shadow and quarantine count in RSS", \
			   what, __g, __b);                                 \
		else                                                        \
			ok(__g <= __b, "%s: RSS grew %ld KiB, budget %ld KiB", \
			   what, __g, __b);                                 \
	} while (0)

#endif

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_TESTS_TAP_H
#define LKVM_TESTS_TAP_H

/*
 * Minimal TAP producer for unit tests run by prove.  Header-only so each
 * test is one file.  Call tap_plan(n) first and return tap_done().
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap__n, tap__failed, tap__planned;

static inline void tap_plan(int n)
{
	tap__planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline __attribute__((format(printf, 2, 3))) int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap__n++;
	if (!cond)
		tap__failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap__n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

static inline __attribute__((format(printf, 1, 2))) void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

#define is_int(got, want, name)                                              \
	({                                                                   \
		long long __g = (long long)(got), __w = (long long)(want);  \
		int __ok = ok(__g == __w, "%s", name);                       \
		if (!__ok)                                                   \
			diag("  got %lld (0x%llx), want %lld (0x%llx)", __g, \
			     (unsigned long long)__g, __w,                   \
			     (unsigned long long)__w);                       \
		__ok;                                                        \
	})

#define is_str(got, want, name)                                           \
	({                                                                \
		const char *__g = (got), *__w = (want);                  \
		int __ok = ok(__g && __w && !strcmp(__g, __w), "%s", name); \
		if (!__ok)                                                \
			diag("  got '%s', want '%s'", __g ? __g : "(null)", \
			     __w ? __w : "(null)");                       \
		__ok;                                                     \
	})

static inline int tap_done(void)
{
	if (tap__planned && tap__n != tap__planned) {
		diag("planned %d tests but ran %d", tap__planned, tap__n);
		return 1;
	}
	return tap__failed ? 1 : 0;
}

#endif

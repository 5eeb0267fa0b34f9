/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_OPT_ERR_H
#define LKVM_OPT_ERR_H

#include <getopt.h>
#include <stdio.h>
#include <string.h>

/*
 * The option getopt_long() just refused ('?', or ':' for a missing value
 * with a leading ':' in the optstring), as the user spelt it:
 *   - a long option (unknown, or known but given a value it does not
 *     take) is argv[optind - 1], which getopt has moved past;
 *   - a short one is optopt: inside a group ("-Xk") optind still points
 *     at the group, so argv[optind - 1] is the argument before it.
 * A known long option also sets optopt (to its val, often a letter), so
 * argv[optind - 1] counts as the culprit only if it is a long option
 * whose val is optopt, or optopt is 0 (an unknown long option).
 */
static inline const char *opt_err_name(char *const argv[],
				       const struct option *longopts,
				       char *buf, size_t len)
{
	const char *a = argv[optind - 1];

	if (!strncmp(a, "--", 2)) {
		size_t n = strcspn(a + 2, "=");

		if (!optopt)
			return a;
		for (const struct option *o = longopts; o && o->name; o++)
			if (o->val == optopt && strlen(o->name) == n &&
			    !strncmp(o->name, a + 2, n)) {
				snprintf(buf, len, "--%s", o->name);
				return buf;
			}
	}
	if (optopt > 0 && optopt < 128) {
		snprintf(buf, len, "-%c", optopt);
		return buf;
	}
	return a;
}

#endif

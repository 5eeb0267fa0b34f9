/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_OPT_ERR_H
#define LKVM_OPT_ERR_H

#include <getopt.h>
#include <stdio.h>

/*
 * The option getopt_long() just refused, for the message.  An unknown
 * long option sets optopt to 0 and moves optind past itself; an unknown
 * short one sets optopt, and inside a group ("-Xk") optind still points
 * at the group, so argv[optind - 1] would name the argument before it.
 */
static inline const char *opt_err_name(char *const argv[], char *buf,
				       size_t len)
{
	if (optopt > 0 && optopt < 128) {
		snprintf(buf, len, "-%c", optopt);
		return buf;
	}
	return argv[optind - 1];
}

#endif

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_TESTS_READABLE_H
#define LKVM_TESTS_READABLE_H

#include <poll.h>
#include <stdbool.h>

/* Whether @fd is readable now (@ms 0), or becomes so within @ms. */
static inline bool fd_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

#endif

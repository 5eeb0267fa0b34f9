// SPDX-License-Identifier: GPL-2.0
/*
 * kvm/log.c: --loglevel names, the level filter, the line format, and
 * errno kept across a message (callers log, then return -errno) even
 * when stderr cannot take it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lkvm/log.h"
#include "stderr-capture.h"
#include "tap.h"

static void test_levels(void)
{
	enum log_level l = LOG_ERROR;
	struct stderr_capture c;
	char out[256];

	ok(!log_parse_level("debug", &l) && l == LOG_DEBUG, "'debug' parses");
	ok(log_parse_level("verbose", &l) == -EINVAL && l == LOG_DEBUG,
	   "an unknown level is -EINVAL and leaves the value alone");

	stderr_capture_begin(&c);
	log_level = LOG_WARNING;
	log_msg(LOG_INFO, "hidden %d", 1);
	log_msg(LOG_ERROR, "shown %d", 2);
	stderr_capture_end(&c, out, sizeof(out));
	ok(!strcmp(out, "lkvm: error: shown 2\r\n"),
	   "one line for the error, none for info below --loglevel ('%.40s')",
	   out);
}

static void test_errno_kept(void)
{
	int saved = dup(STDERR_FILENO), full = open("/dev/full", O_WRONLY);
	int after;

	if (full < 0) {
		ok(1, "# SKIP /dev/full: %s", strerror(errno));
		close(saved);
		return;
	}
	fflush(stderr);
	dup2(full, STDERR_FILENO);
	close(full);
	log_level = LOG_WARNING;
	errno = ENOENT;
	log_msg(LOG_ERROR, "cannot open %s", "x");
	after = errno;

	clearerr(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	ok(after == ENOENT, "errno survives a message stderr refused (%s)",
	   strerror(after));
}

int main(void)
{
	tap_plan(4);
	test_levels();
	test_errno_kept();
	return tap_done();
}

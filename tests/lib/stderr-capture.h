/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_TESTS_STDERR_CAPTURE_H
#define LKVM_TESTS_STDERR_CAPTURE_H

/*
 * What lkvm's code prints on stderr between stderr_capture_begin() and
 * stderr_capture_end(), for tests that check its messages.  Exits the
 * test on a failed set-up: nothing could be checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct stderr_capture {
	FILE *file;
	int saved;
};

static inline void stderr_capture_begin(struct stderr_capture *c)
{
	fflush(stderr);
	c->file = tmpfile();
	c->saved = dup(STDERR_FILENO);
	if (!c->file || c->saved < 0 ||
	    dup2(fileno(c->file), STDERR_FILENO) < 0) {
		perror("capturing stderr");
		exit(1);
	}
}

/* The text (at most @len - 1 bytes, NUL-terminated) into @buf; its length. */
static inline size_t stderr_capture_end(struct stderr_capture *c, char *buf,
					size_t len)
{
	size_t n;

	fflush(stderr);
	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	rewind(c->file);
	n = fread(buf, 1, len - 1, c->file);
	buf[n] = '\0';
	fclose(c->file);
	return n;
}

#endif

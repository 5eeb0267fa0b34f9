// SPDX-License-Identifier: GPL-2.0
/*
 * disk_open(): the reason an image cannot be opened must survive the
 * clean-up between the failing call and the message.  C lets free()
 * change errno (glibc before 2.33 could), so this test's free(), wrapped
 * with -Wl,--wrap=free (see the Makefile), always does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/disk.h"
#include "tap.h"

void __real_free(void *p);
void __wrap_free(void *p);

void __wrap_free(void *p)
{
	__real_free(p);
	errno = EIO;
}

int main(void)
{
	struct disk_opts o = { .path = "/nonexistent-lkvm-dir/disk.img" };
	struct disk *d = NULL;
	char err[256] = "";

	tap_plan(3);
	is_int(disk_open(&o, &d, err, sizeof(err)), -ENOENT,
	       "an image in a missing directory: -ENOENT, not free()'s errno");
	ok(strstr(err, strerror(ENOENT)) != NULL, "and the message says so");
	o.path = "/proc/self/nonexistent-lkvm.img";
	is_int(disk_open(&o, &d, err, sizeof(err)), -ENOENT,
	       "a missing image in a directory that exists: -ENOENT");
	return tap_done();
}

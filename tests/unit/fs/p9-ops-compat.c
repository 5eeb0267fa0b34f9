// SPDX-License-Identifier: GPL-2.0
/*
 * fs/p9-ops.c on a kernel without fchmodat2 (before Linux 6.6, e.g.
 * Debian 12's 6.1): linked with -Wl,--wrap=syscall, this test answers
 * ENOSYS for fchmodat2 and passes every other syscall() through.  Tsetattr
 * mode then reopens the walked inode (files, directories) and refuses the
 * rest; nothing follows a symlink.
 */
#include <stdarg.h>
#include <sys/syscall.h>

#include "tap.h"
#include "p9-client.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

long __real_syscall(long n, ...);
long __wrap_syscall(long n, ...);

static int fchmodat2_calls;

long __wrap_syscall(long n, ...)
{
	long a[6];
	va_list ap;
	int i;

	if (n == SYS_fchmodat2) {
		fchmodat2_calls++;
		errno = ENOSYS;
		return -1;
	}
	/* As glibc's syscall(): six register-sized arguments, used or not. */
	va_start(ap, n);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	return __real_syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static char hpath[512];

static const char *host(const char *rel)
{
	snprintf(hpath, sizeof(hpath), "%s/%s", export_dir, rel);
	return hpath;
}

static int chmod_fid(u32 fid, u32 mode)
{
	t_begin(P9_TSETATTR);
	t32(fid); t32(0x1); t32(mode); t32(0); t32(0); t64(0);
	t64(0); t64(0); t64(0); t64(0);
	return rpc();
}

int main(void)
{
	struct stat st;

	tap_plan(9);
	export_make();
	host_write(host("f"), "f");
	mkdir(host("d"), 0755);
	mkfifo(host("p"), 0644);
	if (symlink("f", host("s")))
		perror("symlink");
	if (server_start(false, 0, 0))
		return 1;
	c_version(65536, "9P2000.L", NULL, NULL);
	is_int(c_attach(1), 0, "Tattach (openat2 passes through the wrapper)");
	c_walk(1, 2, "f");
	c_walk(1, 3, "d");
	c_walk(1, 4, "p");
	c_walk(1, 5, "s");
	is_int(chmod_fid(2, 0600), 0, "Tsetattr mode of a file");
	ok(!stat(host("f"), &st) && (st.st_mode & 07777) == 0600, "the host file is 0600");
	is_int(chmod_fid(3, 0700), 0, "Tsetattr mode of a directory");
	ok(!stat(host("d"), &st) && (st.st_mode & 07777) == 0700, "the host directory is 0700");
	is_int(chmod_fid(4, 0600), -EOPNOTSUPP, "Tsetattr mode of a FIFO: EOPNOTSUPP");
	is_int(chmod_fid(5, 0600), -EOPNOTSUPP, "Tsetattr mode of a symlink: EOPNOTSUPP");
	ok(!stat(host("f"), &st) && (st.st_mode & 07777) == 0600, "the symlink's target untouched");
	ok(fchmodat2_calls >= 4, "fchmodat2 was asked first every time (%d)", fchmodat2_calls);
	p9_server_close(srv);
	export_remove();
	return tap_done();
}

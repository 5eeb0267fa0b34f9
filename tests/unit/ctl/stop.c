// SPDX-License-Identifier: GPL-2.0
/*
 * ctl/cli-stop.c: how `lkvm stop` tells that a VM's process has exited,
 * from /proc/PID/stat, against real child processes: running, a zombie,
 * and one reaped between opening the file and reading it (the shell that
 * started the VM reaps it the moment it exits).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl/cli.h"
#include "tap.h"

static int open_stat(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* A child that waits in pause() until killed. */
static pid_t spawn(void)
{
	pid_t pid = fork();

	if (!pid) {
		pause();
		_exit(0);
	}
	return pid;
}

/* Waits until @pid has exited, leaving it unreaped (a zombie). */
static bool exited(pid_t pid)
{
	siginfo_t si;

	return !waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
}

int main(void)
{
	pid_t pid;
	int fd;

	tap_plan(6);

	pid = spawn();
	fd = open_stat(pid);
	ok(fd >= 0, "a running child's stat opens");
	ok(!ctl_stat_gone(fd), "a running child is not gone");
	kill(pid, SIGKILL);
	ok(exited(pid), "the child is killed");
	ok(ctl_stat_gone(fd), "a zombie is gone");
	/* Opened while a zombie, read after the parent reaped it. */
	waitpid(pid, NULL, 0);
	ok(ctl_stat_gone(fd), "reaped after the open: gone (the read fails)");
	close(fd);

	fd = open_stat(getpid());
	ok(fd >= 0 && !ctl_stat_gone(fd), "this process is not gone");
	if (fd >= 0)
		close(fd);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * lkvm sandbox's guest init: PID 1 of the guest, static, from the
 * initramfs lkvm builds (sandbox/cpio.c).  It
 *   1. mounts /proc, /sys, /dev (devtmpfs), /tmp;
 *   2. reads /lkvm/config (sandbox/initcfg.h) and loads its modules in
 *      order with finit_module (compressed ones inflated by the kernel);
 *   3. mounts the host root read-only over 9p (tag "lkvm-root") with a
 *      tmpfs-backed overlay on top, so CMD may write anywhere while the
 *      host's files stay as they are, and the --rwdir/--rodir shares at
 *      their own paths inside it; moves /proc, /sys, /dev there and
 *      makes it the root (MS_MOVE + chroot: the initramfs cannot be
 *      pivot_root'ed away);
 *   4. runs CMD with the configured cwd, environment and uid/gid, stdio
 *      on the configured device nodes (raw ttys: bytes pass unchanged);
 *   5. reaps everything until CMD is gone, then sends ONE status line
 *      (sandbox/report.h) and powers off.
 *
 * The status line goes to the status port (default /dev/hvc2, a
 * virtio-console lkvm reserves for it).  The hvc driver's write returns
 * only after the host has taken the bytes from the virtqueue, so the
 * power-off that follows cannot overtake it.  The line is also written to
 * /dev/kmsg: it shows on the kernel console for a human, and it is the
 * only channel left when the status port itself is missing.
 *
 * Failures before CMD runs are reported, never left to hang: a kernel
 * without what the sandbox needs gets "missing-kernel-support CONFIG_...",
 * anything else "init-error WHAT".  If the init could not report at all,
 * lkvm sees a power-off without a status line, or a panic.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../initcfg.h"
#include "../report.h"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE	4
#endif

#define NEWROOT		"/lkvm/root"
#define LOWER		"/lkvm/lower"
#define RWTMP		"/lkvm/rw"
#define DEVICE_WAIT_S	10	/* devtmpfs nodes of freshly probed drivers */

static const char *status_dev = "/dev/hvc2";
static int stdin_hold = -1;
static int status_fd = -1;

/* At KERN_ERR, so that even a "quiet" console shows it. */
static void kmsg(const char *line)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	char rec[SANDBOX_REPORT_MAX + 8];

	/* One write is one record. */
	snprintf(rec, sizeof(rec), "<3>%s", line);
	if (fd >= 0) {
		if (write(fd, rec, strlen(rec)) < 0) {
			/* Nothing else to tell it to. */
		}
		close(fd);
	}
}

static void raw_tty(int fd)
{
	struct termios t;

	if (!tcgetattr(fd, &t)) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
}

/*
 * Waits for a device a driver's probe brings up asynchronously: its node
 * may not exist yet (ENOENT), or exist before the hvc console behind it
 * is registered (ENODEV, seen with virtio_console just loaded).
 */
static int open_dev(const char *path, int flags)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int fd, i;

	for (i = 0; i < DEVICE_WAIT_S * 100; i++) {
		fd = open(path, flags | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0 || (errno != ENOENT && errno != ENODEV &&
				errno != ENXIO))
			return fd;
		nanosleep(&ts, NULL);
	}
	return -1;
}

static __attribute__((noreturn)) void finish(const struct sandbox_report *r)
{
	char line[SANDBOX_REPORT_MAX];

	if (sandbox_report_format(r, line, sizeof(line)))
		snprintf(line, sizeof(line), SANDBOX_REPORT_PREFIX "init-error unreportable status\n");
	sync();
	if (status_fd < 0)
		status_fd = open_dev(status_dev, O_WRONLY);
	if (status_fd >= 0) {
		raw_tty(status_fd);
		if (write(status_fd, line, strlen(line)) < 0)
			kmsg("lkvm-init: the status port refused the status line\n");
	}
	kmsg(line);
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static __attribute__((noreturn, format(printf, 1, 2)))
void init_error(const char *fmt, ...)
{
	struct sandbox_report r = { .reason = SANDBOX_VMM_ERROR };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r.detail, sizeof(r.detail), fmt, ap);
	va_end(ap);
	for (char *p = r.detail; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	finish(&r);
}

/* Fails with missing-kernel-support when @err names an option. */
static __attribute__((noreturn)) void step_failed(const char *step, int err,
						 const char *what)
{
	const char *opt = sandbox_missing_config(step, err);

	if (opt) {
		struct sandbox_report r = { .reason = SANDBOX_MISSING_SUPPORT };

		snprintf(r.detail, sizeof(r.detail), "%s", opt);
		finish(&r);
	}
	init_error("%s: %s", what, strerror(err));
}

static void mkdirs(const char *path)
{
	char buf[4096], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		mkdir(buf, 0755);
		*p = '/';
	}
	mkdir(buf, 0755);
}

static void do_mount(const char *step, const char *src, const char *dst,
		     const char *type, unsigned long flags, const char *opts)
{
	mkdirs(dst);
	if (mount(src, dst, type, flags, opts))
		step_failed(step, errno, dst);
}

static void load_modules(const struct initcfg *cfg)
{
	for (size_t i = 0; i < cfg->nr_modules; i++) {
		const char *m = cfg->modules[i];
		size_t len = strlen(m);
		int compressed = len > 3 && strcmp(m + len - 3, ".ko");
		int fd = open(m, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			init_error("module %s: %s", m, strerror(errno));
		if (syscall(SYS_finit_module, fd, "",
			    compressed ? MODULE_INIT_COMPRESSED_FILE : 0) &&
		    errno != EEXIST) {
			int err = errno;

			if (compressed && sandbox_missing_config("module-decompress", err))
				step_failed("module-decompress", err, m);
			init_error("loading %s: %s", m, strerror(err));
		}
		close(fd);
	}
}

static char *read_all(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st))
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	if (buf && read(fd, buf, (size_t)st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void setup_root(const struct initcfg *cfg)
{
	char opts[256], path[4200];

	snprintf(opts, sizeof(opts), "trans=virtio,version=9p2000.L,msize=%u,cache=none",
		 cfg->msize);
	do_mount("9p-root", cfg->root_tag, LOWER, "9p", MS_RDONLY, opts);
	do_mount("tmpfs", "lkvm-rw", RWTMP, "tmpfs", 0, "mode=0755");
	mkdirs(RWTMP "/upper");
	mkdirs(RWTMP "/work");
	do_mount("overlay", "lkvm-overlay", NEWROOT, "overlay", 0,
		 "lowerdir=" LOWER ",upperdir=" RWTMP "/upper,workdir=" RWTMP "/work");
	do_mount("move", "/dev", NEWROOT "/dev", NULL, MS_MOVE, NULL);
	do_mount("move", "/proc", NEWROOT "/proc", NULL, MS_MOVE, NULL);
	do_mount("move", "/sys", NEWROOT "/sys", NULL, MS_MOVE, NULL);
	do_mount("tmpfs", "tmpfs", NEWROOT "/tmp", "tmpfs", 0, "mode=1777");
	/*
	 * The shares last: a --rwdir under /tmp (or /dev, ...) must sit on
	 * top of the guest's own /tmp, not under it.
	 */
	for (size_t i = 0; i < cfg->nr_shares; i++) {
		const struct initcfg_share *s = &cfg->shares[i];

		snprintf(opts, sizeof(opts), "trans=virtio,version=9p2000.L,msize=%u,cache=none",
			 cfg->msize);
		snprintf(path, sizeof(path), NEWROOT "%s", s->path);
		do_mount("9p-share", s->tag, path, "9p", s->ro ? MS_RDONLY : 0, opts);
	}
	/* The initramfs cannot be pivot_root'ed away: move over it. */
	if (chdir(NEWROOT) || mount(NEWROOT, "/", NULL, MS_MOVE, NULL) ||
	    chroot(".") || chdir("/"))
		init_error("switching to the new root: %s", strerror(errno));
}

static int open_stdio(const char *path, int flags, int target)
{
	int fd = open_dev(path, flags);

	if (fd < 0)
		return -errno;
	raw_tty(fd);
	if (fd != target) {
		if (dup2(fd, target) < 0)
			return -errno;
		close(fd);
	}
	return 0;
}

/* In the child: everything up to exec; a setup failure goes up @pipefd. */
static __attribute__((noreturn)) void run_cmd(const struct initcfg *cfg, int pipefd)
{
	char msg[SANDBOX_REPORT_MAX];
	const char *what;
	int err;

	setsid();
	if (open_stdio(cfg->dev_stdin, O_RDONLY, 0) ||
	    open_stdio(cfg->dev_stdout, O_WRONLY, 1) ||
	    open_stdio(cfg->dev_stderr, O_WRONLY, 2)) {
		what = "opening CMD's stdio devices";
		goto fail;
	}
	if (setgroups(0, NULL) || setresgid(cfg->gid, cfg->gid, cfg->gid) ||
	    setresuid(cfg->uid, cfg->uid, cfg->uid)) {
		what = "setting CMD's uid/gid";
		goto fail;
	}
	if (chdir(cfg->cwd)) {
		what = cfg->cwd;
		goto fail;
	}
	environ = cfg->envp;
	execvp(cfg->argv[0], cfg->argv);
	/* As a shell says it: 127 not found, 126 found but not runnable. */
	err = errno;
	dprintf(2, "lkvm sandbox: %s: %s\n", cfg->argv[0], strerror(err));
	_exit(err == ENOENT ? 127 : 126);
fail:
	err = errno;
	snprintf(msg, sizeof(msg), "%s: %s", what, strerror(err));
	if (write(pipefd, msg, strlen(msg)) < 0) {
		/* The parent sees EOF and an exit status of 126 either way. */
	}
	_exit(126);
}

int main(void)
{
	struct sandbox_report r = { 0 };
	struct initcfg cfg;
	char msg[SANDBOX_REPORT_MAX] = { 0 };
	int pipefd[2], status;
	size_t len;
	ssize_t n;
	char *data;
	pid_t cmd, w;

	do_mount("devtmpfs", "devtmpfs", "/dev", "devtmpfs", 0, "mode=0755");
	do_mount("proc", "proc", "/proc", "proc", 0, NULL);
	do_mount("sysfs", "sysfs", "/sys", "sysfs", 0, NULL);
	do_mount("tmpfs", "tmpfs", "/tmp", "tmpfs", 0, "mode=1777");

	data = read_all("/" INITCFG_PATH, &len);
	if (!data)
		init_error("/" INITCFG_PATH ": %s", strerror(errno));
	if (initcfg_parse(data, len, &cfg))
		init_error("/" INITCFG_PATH ": %s", cfg.err);
	free(data);
	status_dev = cfg.dev_status;
	load_modules(&cfg);
	/* Opened before the root moves: the path is the initramfs's. */
	status_fd = open_dev(status_dev, O_WRONLY);
	if (status_fd < 0)
		step_failed("status-port", errno, status_dev);
	/*
	 * Hold CMD's stdin open from now on and tell lkvm: input reaching
	 * the console while a tty is open is kept for CMD; before, it would
	 * sit unread in the driver (SANDBOX_READY_LINE).
	 */
	stdin_hold = open_dev(cfg.dev_stdin, O_RDONLY);
	if (stdin_hold >= 0) {
		raw_tty(stdin_hold);
		raw_tty(status_fd);
		if (write(status_fd, SANDBOX_READY_LINE,
			  strlen(SANDBOX_READY_LINE)) < 0)
			kmsg("lkvm-init: the status port refused the ready line\n");
	}
	setup_root(&cfg);

	if (pipe2(pipefd, O_CLOEXEC))
		init_error("pipe: %s", strerror(errno));
	cmd = fork();
	if (cmd < 0)
		init_error("fork: %s", strerror(errno));
	if (!cmd)
		run_cmd(&cfg, pipefd[1]);
	close(pipefd[1]);
	/* EOF at exec (close-on-exec) or a message from a failed set-up. */
	n = read(pipefd[0], msg, sizeof(msg) - 1);
	close(pipefd[0]);
	/* PID 1 adopts every orphan: reap them all until CMD is gone. */
	do {
		w = wait(&status);
	} while (w != cmd && (w > 0 || errno == EINTR));
	if (n > 0)
		init_error("%s", msg);
	if (w != cmd)
		init_error("wait: %s", strerror(errno));
	if (WIFSIGNALED(status)) {
		r.reason = SANDBOX_SIGNAL;
		r.code = WTERMSIG(status);
	} else {
		r.reason = SANDBOX_EXIT;
		r.code = WEXITSTATUS(status);
	}
	finish(&r);
}

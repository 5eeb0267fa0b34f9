// SPDX-License-Identifier: GPL-2.0
/*
 * Least privilege: after set-up, every thread gives up every capability
 * and sets no_new_privs (see include/lkvm/privs.h).
 *
 * Linux keeps capability sets, the bounding set, securebits and
 * no_new_privs per thread, and capset(2) only changes the caller's own
 * (another thread's since 2.6.24 never).  By the time set-up is over the
 * device, disk and 9p threads exist, so each is sent PRIVS_SIGNAL and
 * drops its own in the handler -- what glibc does for setuid() across
 * threads.  Only raw system calls run there, all async-signal-safe.  The
 * task list is read again until a pass finds no thread it has not
 * signalled (a thread that cloned before its own drop hands its
 * capabilities to the child), and the end result is read back from
 * /proc for every thread: privs_drop() fails rather than leave one
 * privileged thread behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/securebits.h>

#include "lkvm/log.h"
#include "lkvm/privs.h"
#include "lkvm/sanitizer.h"

#define PRIVS_SIGNAL		(SIGRTMIN + 3)

/*
 * ThreadSanitizer runs a background thread of its own (memory flushing)
 * that blocks every signal for good and runs no lkvm code: it can never
 * answer, and that build leaves it alone.  A thread glibc is still
 * starting blocks every signal too, for microseconds: a blocked signal
 * stays pending and is answered once it unblocks, so outside TSan
 * blocking threads are signalled like any other.
 */
#define PRIVS_SKIP_BLOCKING	LKVM_TSAN
/* How long a signalled thread may take to answer: generous, never hit. */
#define PRIVS_ACK_TIMEOUT_S	10

static bool drop_bounding;	/* we hold CAP_SETPCAP: empty the bounding set */
static int last_cap = CAP_LAST_CAP;
static sem_t acks;
static atomic_int thread_err;

static int cap_get_effective(u32 *lo)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	*lo = data[0].effective;
	return 0;
}

/* The calling thread's share; async-signal-safe. */
static int privs_drop_self(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = { 0 };

	/* EINVAL: a kernel before 4.3 has no ambient set to clear. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) &&
	    errno != EINVAL)
		return -errno;
	if (drop_bounding) {
		/* Both need CAP_SETPCAP, which the capset below gives up. */
		for (int cap = 0; cap <= last_cap; cap++)
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) &&
			    errno != EINVAL)
				return -errno;
		/*
		 * uid 0 regains a full set at execve() unless told not to.
		 * The empty bounding set and no_new_privs already stop that;
		 * the locked bits are a third lock, so a refusal (bits
		 * locked otherwise by a container) is not an error.
		 */
		prctl(PR_SET_SECUREBITS,
		      SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
		      SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
		      SECBIT_KEEP_CAPS_LOCKED |
		      SECBIT_NO_CAP_AMBIENT_RAISE |
		      SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED, 0, 0, 0);
	}
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return 0;
}

static void privs_on_signal(int sig __unused)
{
	int saved = errno, ret = privs_drop_self();

	if (ret)
		atomic_store(&thread_err, ret);
	sem_post(&acks);
	errno = saved;
}

/* "CapEff:\t0000000000000000" -> the number; -1 if @key is not @line's. */
static long long status_field(const char *line, const char *key)
{
	size_t len = strlen(key);

	if (strncmp(line, key, len) || line[len] != ':')
		return -1;
	return strtoll(line + len + 1, NULL, 16);
}

/* 1 if thread @tid blocks PRIVS_SIGNAL, 0 if not (or it has exited). */
static int thread_blocks_signal(pid_t tid)
{
	char path[64], line[256];
	int ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		long long v = status_field(line, "SigBlk");

		if (v >= 0) {
			ret = !!(v & (1LL << (PRIVS_SIGNAL - 1)));
			break;
		}
	}
	fclose(f);
	return ret;
}

/* A thread still blocking after 100 ms is not one glibc is starting. */
static bool thread_blocks_for_good(pid_t tid)
{
	const struct timespec ms = { 0, 1000 * 1000 };

	for (int i = 0; i < 100; i++) {
		if (!thread_blocks_signal(tid))
			return false;
		nanosleep(&ms, NULL);
	}
	return true;
}

struct tid_set {
	pid_t *tids;
	size_t nr, cap;
};

static bool tid_set_has(const struct tid_set *s, pid_t tid)
{
	for (size_t i = 0; i < s->nr; i++)
		if (s->tids[i] == tid)
			return true;
	return false;
}

static int tid_set_add(struct tid_set *s, pid_t tid)
{
	if (s->nr == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		pid_t *t = realloc(s->tids, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		s->tids = t;
		s->cap = cap;
	}
	s->tids[s->nr++] = tid;
	return 0;
}

/*
 * Signals every thread not in @done (and not the caller), adding it;
 * *@sent counts the signals that reached a live thread.
 */
static int privs_signal_new(struct tid_set *done, unsigned int *sent)
{
	pid_t self = (pid_t)syscall(SYS_gettid), pid = getpid();
	struct dirent *de;
	DIR *d;
	int ret = 0;

	*sent = 0;
	d = opendir("/proc/self/task");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);

		if (tid <= 0 || tid == self || tid_set_has(done, tid))
			continue;
		ret = tid_set_add(done, tid);
		if (ret)
			break;
		if (PRIVS_SKIP_BLOCKING && thread_blocks_for_good(tid))
			continue;
		if (!syscall(SYS_tgkill, pid, tid, PRIVS_SIGNAL)) {
			(*sent)++;
		} else if (errno != ESRCH) {	/* ESRCH: it has just exited */
			ret = -errno;
			break;
		}
	}
	closedir(d);
	return ret;
}

static int privs_wait_acks(unsigned int n)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += PRIVS_ACK_TIMEOUT_S;
	while (n) {
		if (!sem_timedwait(&acks, &deadline)) {
			n--;
			continue;
		}
		if (errno == EINTR)
			continue;
		pr_err("privileges: %u thread%s did not drop their capabilities: %s",
		       n, n == 1 ? "" : "s", strerror(errno));
		return -ETIMEDOUT;
	}
	return 0;
}

static int privs_check_thread(const char *tid, bool bounding_too)
{
	static const char *const must_be_zero[] = {
		"CapInh", "CapPrm", "CapEff", "CapAmb", "CapBnd",
	};
	char path[64], line[256];
	bool nnp = false;
	int ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%s/status", tid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;	/* ENOENT: it exited */
	while (!ret && fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < ARRAY_SIZE(must_be_zero); i++) {
			long long v = status_field(line, must_be_zero[i]);

			if (v <= 0 || (!bounding_too && i == 4))
				continue;
			pr_err("privileges: thread %s still has %s %llx", tid,
			       must_be_zero[i], v);
			ret = -EPERM;
		}
		if (status_field(line, "NoNewPrivs") == 1)
			nnp = true;
	}
	fclose(f);
	if (!ret && !nnp) {
		pr_err("privileges: thread %s has no_new_privs unset", tid);
		ret = -EPERM;
	}
	return ret;
}

int privs_check(bool bounding_too)
{
	struct dirent *de;
	int ret = 0;
	DIR *d;

	d = opendir("/proc/self/task");
	if (!d)
		return -errno;
	while (!ret && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (PRIVS_SKIP_BLOCKING &&
		    thread_blocks_signal((pid_t)atoi(de->d_name)))
			continue;
		ret = privs_check_thread(de->d_name, bounding_too);
	}
	closedir(d);
	return ret;
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif

void privs_cloexec_inherited(void)
{
	struct dirent *de;
	DIR *d;

	/* Linux 5.11; before it, one fcntl per open fd. */
#ifdef SYS_close_range
	if (!syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC))
		return;
#endif
	d = opendir("/proc/self/fd");
	if (!d)
		return;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name), fl;

		if (fd <= 2 || fd == dirfd(d))
			continue;
		fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && !(fl & FD_CLOEXEC))
			fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	}
	closedir(d);
}

static void privs_read_last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int v;

	if (!f)
		return;
	if (fscanf(f, "%d", &v) == 1 && v >= 0 && v < 64)
		last_cap = v;
	fclose(f);
}

int privs_drop(void)
{
	struct sigaction sa = {
		.sa_handler = privs_on_signal, .sa_flags = SA_RESTART,
	};
	struct tid_set done = { 0 };
	unsigned int sent;
	u32 eff = 0;
	int ret;

	ret = cap_get_effective(&eff);
	if (ret) {
		pr_err("privileges: capget: %s", strerror(-ret));
		return ret;
	}
	drop_bounding = eff & (1U << CAP_SETPCAP);
	privs_read_last_cap();
	atomic_store(&thread_err, 0);
	if (sem_init(&acks, 0, 0))
		return -errno;
	/*
	 * The handler stays installed: every signal sent is answered before
	 * this returns, and a stray one later only repeats a drop.
	 */
	sigemptyset(&sa.sa_mask);
	if (sigaction(PRIVS_SIGNAL, &sa, NULL)) {
		ret = -errno;
		goto out;
	}
	do {
		ret = privs_signal_new(&done, &sent);
		if (!ret)
			ret = privs_wait_acks(sent);
	} while (!ret && sent);
	if (ret)
		goto out;
	ret = atomic_load(&thread_err);
	if (!ret)
		ret = privs_drop_self();
	if (ret) {
		pr_err("privileges: cannot drop capabilities: %s",
		       strerror(-ret));
		goto out;
	}
	ret = privs_check(drop_bounding);
	if (!ret)
		pr_debug("privileges: %zu thread%s and this one hold no "
			 "capabilities%s, no_new_privs set", done.nr,
			 done.nr == 1 ? "" : "s",
			 drop_bounding ? " (bounding set empty)" : "");
out:
	free(done.tids);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * seccomp confinement, one filter per thread type.
 *
 * Why per thread and not one TSYNC filter: a TSYNC filter would have to
 * allow the union of what every thread needs (the 9p workers' openat,
 * the main thread's accept4, the vCPUs' KVM_RUN), so a hole in a vCPU's
 * device emulation would still reach the file system.  seccomp filters
 * belong to a thread and are inherited by the threads it creates, so
 * each lkvm thread installs its own at the start of its thread function
 * (its set-up was done by whoever created it), and the main thread
 * installs its own last, after it has created every other thread, just
 * before it enters its event loop: no thread is created by a filtered
 * thread, so no thread carries a filter that is not its own.
 *
 * A call outside the list raises SIGSYS (SCMP_ACT_TRAP); the handler
 * writes one line naming the call and the thread type, then ends the
 * process.  The name comes from a table filled before any filter exists:
 * libseccomp's resolver allocates, which a signal handler must not.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lkvm/config.h"
#include "lkvm/exit.h"
#include "lkvm/log.h"
#include "lkvm/seccomp.h"
#include "lkvm/types.h"
#include "seccomp-int.h"

#define SYSCALL_NAMES	512	/* above every x86-64 and arm64 number */
#define SYSCALL_NAME_MAX 32

static bool enabled;
static bool prepared;
static uint32_t native_arch;	/* AUDIT_ARCH_*, as siginfo's si_arch */
static char syscall_names[SYSCALL_NAMES][SYSCALL_NAME_MAX];
/* LKVM_TEST_FORBIDDEN_SYSCALL, read once by seccomp__prepare(). */
static enum { HOOK_NONE, HOOK_EXECVE, HOOK_PTRACE, HOOK_OPEN } test_hook;
static atomic_bool test_hook_done;
/* The handler's only way to know which list the thread broke. */
static __thread enum seccomp_thread thread_kind;

static const char *const thread_names[SECCOMP_THREAD_MAX] = {
	[SECCOMP_THREAD_NONE] = "unfiltered",
	[SECCOMP_THREAD_MAIN] = "main",
	[SECCOMP_THREAD_VCPU] = "vcpu",
	[SECCOMP_THREAD_VIRTIO] = "virtio device",
	[SECCOMP_THREAD_VIRTIO_QUEUE] = "virtio queue",
	[SECCOMP_THREAD_SLIRP] = "slirp (virtio-net user)",
	[SECCOMP_THREAD_P9] = "9p worker",
	[SECCOMP_THREAD_DISK] = "disk worker",
	[SECCOMP_THREAD_STDIN] = "sandbox stdin",
};

const char *seccomp__thread_name(enum seccomp_thread kind)
{
	return kind < SECCOMP_THREAD_MAX ? thread_names[kind] : "?";
}

/* Async-signal-safe pieces of the handler's one line. */
static size_t put_str(char *buf, size_t pos, size_t cap, const char *s)
{
	while (*s && pos < cap)
		buf[pos++] = *s++;
	return pos;
}

static size_t put_uint(char *buf, size_t pos, size_t cap, unsigned long v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && pos < cap)
		buf[pos++] = tmp[--n];
	return pos;
}

static void seccomp__sigsys(int sig __unused, siginfo_t *si,
			    void *uctx __unused)
{
	unsigned int nr = (unsigned int)si->si_syscall;
	const char *name = nr < SYSCALL_NAMES && syscall_names[nr][0] ?
			   syscall_names[nr] : "(unknown)";
	char line[192];
	size_t n = 0;

	n = put_str(line, n, sizeof(line), "lkvm: seccomp: the ");
	n = put_str(line, n, sizeof(line), seccomp__thread_name(thread_kind));
	n = put_str(line, n, sizeof(line), " thread made forbidden system call ");
	if (si->si_arch != native_arch)
		name = "(of another ABI)";
	n = put_str(line, n, sizeof(line), name);
	n = put_str(line, n, sizeof(line), " (");
	n = put_uint(line, n, sizeof(line), nr);
	n = put_str(line, n, sizeof(line),
		    "); stopping (--no-seccomp turns the filters off)\r\n");
	/* Raw calls: every filter allows write and exit_group. */
	(void)!syscall(SYS_write, STDERR_FILENO, line, n);
	syscall(SYS_exit_group, LKVM_EXIT_SECCOMP);
}

static void seccomp__read_test_hook(void)
{
	const char *s = getenv("LKVM_TEST_FORBIDDEN_SYSCALL");

	if (!s || !*s)
		return;
	if (!strcmp(s, "execve"))
		test_hook = HOOK_EXECVE;
	else if (!strcmp(s, "ptrace"))
		test_hook = HOOK_PTRACE;
	else if (!strcmp(s, "open"))
		test_hook = HOOK_OPEN;
	else
		pr_warn("LKVM_TEST_FORBIDDEN_SYSCALL=%s: not execve, ptrace or open; ignored",
			s);
}

int seccomp__prepare(const struct lkvm_config *cfg)
{
	struct sigaction sa = {
		.sa_sigaction = seccomp__sigsys,
		.sa_flags = SA_SIGINFO,
	};

	if (prepared)
		return 0;
	prepared = true;
	seccomp__read_test_hook();
	enabled = cfg->seccomp;
	if (!enabled)
		return 0;
	/*
	 * glibc's per-thread arenas read /proc/sys/vm/overcommit_memory
	 * the first time one of them shrinks, which can be long after the
	 * filters are in (a free at tear-down): with the one main arena,
	 * shrinking is brk() and nothing is opened.
	 */
	mallopt(M_ARENA_MAX, 1);
	/* The RTC's gmtime_r() would load /etc/localtime on first use. */
	tzset();
	native_arch = seccomp_arch_native();
	for (int i = 0; i < SYSCALL_NAMES; i++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE,
							      i);

		if (name) {
			snprintf(syscall_names[i], SYSCALL_NAME_MAX, "%s",
				 name);
			free(name);
		}
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL))
		return -errno;
	return 0;
}

static int seccomp__add(scmp_filter_ctx ctx, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	/* A call this architecture lacks (open on arm64) needs no rule. */
	if (nr == __NR_SCMP_ERROR)
		return 0;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

static int seccomp__build(scmp_filter_ctx ctx, const struct seccomp_list *l)
{
	int ret = 0;

	for (const char *const *s = l->syscalls; !ret && *s; s++)
		ret = seccomp__add(ctx, *s);
	/* Only the ioctl requests in the list, whatever the fd. */
	for (const unsigned long *r = l->ioctls; !ret && r && *r; r++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL,
					       *r));
	/* Memory, but never executable memory. */
	if (!ret && l->mem) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
		if (!ret)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
					       SCMP_SYS(mprotect), 1,
					       SCMP_A2(SCMP_CMP_MASKED_EQ,
						       PROT_EXEC, 0));
	}
	/*
	 * Opening, but never O_RDWR.  glibc always says openat; the
	 * sanitizer runtimes' own open() (LeakSanitizer's thread list) is
	 * the old call on x86-64, with its flags one argument earlier.
	 */
	if (!ret && l->open_no_rdwr) {
		static const struct { int nr; unsigned int arg; } opens[] = {
			{ SCMP_SYS(openat), 2 },
#ifdef __NR_open
			{ SCMP_SYS(open), 1 },
#endif
		};
		static const int modes[] = { O_RDONLY, O_WRONLY };

		for (size_t i = 0; !ret && i < ARRAY_SIZE(opens); i++)
			for (size_t m = 0; !ret && m < ARRAY_SIZE(modes); m++)
				ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
					opens[i].nr, 1,
					SCMP_CMP(opens[i].arg, SCMP_CMP_MASKED_EQ,
						 O_ACCMODE, modes[m]));
	}
	/* Giving up privilege (kvm/privs.c), never gaining it. */
	if (!ret && l->drop_privs) {
		static const int opts[] = {
			PR_CAP_AMBIENT, PR_CAPBSET_DROP, PR_SET_SECUREBITS,
			PR_SET_NO_NEW_PRIVS,
		};

		ret = seccomp__add(ctx, "capget");
		if (!ret)
			ret = seccomp__add(ctx, "capset");
		for (size_t i = 0; !ret && i < ARRAY_SIZE(opts); i++)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
					       SCMP_SYS(prctl), 1,
					       SCMP_A0(SCMP_CMP_EQ,
						       (scmp_datum_t)opts[i]));
	}
	/* tgkill only kicks a vCPU (SIGUSR1) or aborts (SIGABRT). */
	if (!ret && l->kick) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				       SCMP_A2(SCMP_CMP_EQ, SIGUSR1));
		if (!ret)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
					       SCMP_SYS(tgkill), 1,
					       SCMP_A2(SCMP_CMP_EQ, SIGABRT));
	}
	return ret;
}

void seccomp__thread_enter(enum seccomp_thread kind)
{
	const struct seccomp_list *lists[4];
	size_t nr_lists = 0;
	scmp_filter_ctx ctx;
	int ret = -ENOMEM;

	if (!enabled || kind == SECCOMP_THREAD_NONE ||
	    kind >= SECCOMP_THREAD_MAX)
		return;
	lists[nr_lists++] = &seccomp_common_list;
	lists[nr_lists++] = seccomp_lists[kind];
	lists[nr_lists++] = &seccomp_sanitizer_list;
	if (kind == SECCOMP_THREAD_MAIN)
		lists[nr_lists++] = &seccomp_sanitizer_main_list;
	/* Unlisted calls trap, and so do calls of another ABI (int 0x80). */
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		goto fail;
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
	for (size_t i = 0; !ret && i < nr_lists; i++)
		ret = seccomp__build(ctx, lists[i]);
	if (ret)
		goto fail;
	/* Said here, not left to libseccomp: no set-uid gain past this. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		ret = -errno;
		goto fail;
	}
	thread_kind = kind;
	ret = seccomp_load(ctx);
	if (ret)
		goto fail;
	seccomp_release(ctx);
	return;
fail:
	if (ctx)
		seccomp_release(ctx);
	pr_err("seccomp: cannot install the %s thread's filter: %s",
	       seccomp__thread_name(kind), strerror(-ret));
	exit(LKVM_EXIT_VMM_ERROR);
}

void seccomp__test_hook(void)
{
	const char *what = NULL;
	long ret = 0;

	if (test_hook == HOOK_NONE ||
	    atomic_exchange_explicit(&test_hook_done, true,
				     memory_order_relaxed))
		return;
	switch (test_hook) {
	case HOOK_EXECVE:
		/* Unfiltered, a NULL path fails with EFAULT: lkvm lives on. */
		what = "execve";
		ret = syscall(SYS_execve, NULL, NULL, NULL);
		break;
	case HOOK_PTRACE:
		what = "ptrace";
		ret = ptrace(PTRACE_PEEKUSER, 0, NULL, NULL);
		break;
	case HOOK_OPEN:
		what = "open";
		/* O_RDWR: not even a sanitizer build's filters allow it. */
		ret = openat(AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC);
		if (ret >= 0)
			close((int)ret);
		break;
	case HOOK_NONE:
		return;
	}
	pr_warn("test hook: %s from a device thread returned %ld (%s)", what,
		ret, ret < 0 ? strerror(errno) : "ok");
}

// SPDX-License-Identifier: GPL-2.0
/*
 * VM life cycle: open /dev/kvm, create the VM and its RAM, hand the board
 * to the arch code, run the vCPUs, and turn however the guest ended into
 * lkvm's exit status.  The main thread only runs an event loop for signals
 * and console input; vCPUs run on their own threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "lkvm/ctl.h"
#include "lkvm/exit.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/privs.h"
#include "lkvm/seccomp.h"
#include "lkvm/term.h"
#include "lkvm/virtio.h"

struct kvm_required_cap {
	int cap;
	const char *name;
};

/* Capabilities every architecture needs; arch code checks its own. */
static const struct kvm_required_cap required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
};

static int kvm__check_caps(struct kvm *kvm)
{
	int ret = ioctl(kvm->sys_fd, KVM_GET_API_VERSION, 0);

	if (ret != KVM_API_VERSION) {
		pr_err("/dev/kvm speaks API version %d, lkvm needs %d", ret,
		       KVM_API_VERSION);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < ARRAY_SIZE(required_caps); i++) {
		if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION,
			  required_caps[i].cap) <= 0) {
			pr_err("KVM lacks %s, which lkvm needs",
			       required_caps[i].name);
			return -ENOTSUP;
		}
	}
	return 0;
}

int kvm__register_ram(struct kvm *kvm, u64 gpa, u64 size, void *hva)
{
	struct kvm_userspace_memory_region region = {
		.slot = kvm->nr_slots,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (u64)(uintptr_t)hva,
	};
	int ret;

	ret = guest_mem_add(&kvm->mem, gpa, size, hva);
	if (ret)
		return ret;
	if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region)) {
		ret = -errno;
		pr_err("KVM_SET_USER_MEMORY_REGION [%#llx+%#llx]: %s",
		       (unsigned long long)gpa, (unsigned long long)size,
		       strerror(errno));
		kvm->mem.nr--;
		return ret;
	}
	kvm->nr_slots++;
	return 0;
}

int kvm__set_irq_line(struct kvm *kvm, unsigned int irq, int level)
{
	static atomic_bool warned;
	struct kvm_irq_level l = {
		.irq = arch__irq_line_encode(irq),
		.level = level,
	};
	int err;

	if (kvm->vm_fd < 0)
		return -ENODEV;
	if (!ioctl(kvm->vm_fd, KVM_IRQ_LINE, &l))
		return 0;
	err = errno;
	/* Callers cannot do better than go on; the user should know. */
	if (!atomic_exchange_explicit(&warned, true, memory_order_relaxed))
		pr_warn("injecting interrupt line %u (level %d) failed: %s; "
			"further failures are not reported",
			irq, level, strerror(err));
	return -err;
}

void kvm__request_stop(struct kvm *kvm, int code)
{
	pthread_mutex_lock(&kvm->stop_lock);
	if (!atomic_load_explicit(&kvm->stop_requested, memory_order_relaxed)) {
		kvm->exit_code = code;
		/*
		 * Release: exit_code is written before the flag, so a thread
		 * that sees the flag with acquire (kvm__stopping) reads the
		 * final code (message passing).
		 */
		atomic_store_explicit(&kvm->stop_requested, true,
				      memory_order_release);
		evloop_stop(&kvm->loop);
	}
	pthread_mutex_unlock(&kvm->stop_lock);
	/* Parked vCPUs and a pause waiting for them must see the stop. */
	kvm__pause_wake_all(kvm);
}

bool kvm__stopping(struct kvm *kvm)
{
	/* Pairs with the release store in kvm__request_stop(). */
	return atomic_load_explicit(&kvm->stop_requested, memory_order_acquire);
}

/*
 * --hugetlbfs DIR, kvmtool's way: guest RAM is a private mapping of an
 * unlinked file on that hugetlbfs mount, so the host backs it with huge
 * pages from the pool (and mmap fails at once if the pool is too small).
 */
static void *kvm__map_hugetlbfs(const char *dir, u64 size)
{
	struct statfs sfs;
	char *path = NULL;
	void *p = MAP_FAILED;
	int fd;

	if (statfs(dir, &sfs) < 0) {
		pr_err("--hugetlbfs %s: %s", dir, strerror(errno));
		return MAP_FAILED;
	}
	if ((unsigned long)sfs.f_type != HUGETLBFS_MAGIC) {
		pr_err("--hugetlbfs %s: not a hugetlbfs mount", dir);
		return MAP_FAILED;
	}
	if (sfs.f_bsize <= 0 || size % (u64)sfs.f_bsize) {
		pr_err("--hugetlbfs %s: guest RAM (%llu MiB) is not a multiple of its page size (%ld KiB)",
		       dir, (unsigned long long)(size >> 20),
		       (long)sfs.f_bsize >> 10);
		return MAP_FAILED;
	}
	if (asprintf(&path, "%s/lkvm-ram-XXXXXX", dir) < 0)
		return MAP_FAILED;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		pr_err("--hugetlbfs: cannot create %s: %s", path,
		       strerror(errno));
		goto out;
	}
	unlink(path);
	if (ftruncate(fd, (off_t)size) < 0) {
		pr_err("--hugetlbfs %s: cannot size the RAM file: %s", dir,
		       strerror(errno));
	} else {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
			 0);
		if (p == MAP_FAILED)
			pr_err("--hugetlbfs %s: cannot map %llu MiB of guest RAM: %s (too few pages in /proc/sys/vm/nr_hugepages?)",
			       dir, (unsigned long long)(size >> 20),
			       strerror(errno));
	}
	close(fd);
out:
	free(path);
	return p;
}

#define THP_SKIP	(2ULL << 20)

static int kvm__alloc_ram(struct kvm *kvm)
{
	kvm->ram_size = kvm->cfg->ram_size;
	if (kvm->cfg->hugetlbfs)
		kvm->ram = kvm__map_hugetlbfs(kvm->cfg->hugetlbfs,
					      kvm->ram_size);
	else
		kvm->ram = mmap(NULL, kvm->ram_size, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				-1, 0);
	if (kvm->ram == MAP_FAILED) {
		kvm->ram = NULL;
		if (kvm->cfg->hugetlbfs)
			return -ENOMEM;	/* already said why */
		pr_err("cannot allocate %llu MiB of guest RAM: %s",
		       (unsigned long long)(kvm->ram_size >> 20),
		       strerror(errno));
		return -ENOMEM;
	}
	/*
	 * Lets THP back the guest; failure only costs performance.  Not the
	 * first 2 MiB: lkvm itself writes there (boot parameters, tables,
	 * the start of the kernel), and one byte in a THP range makes it a
	 * 2 MiB page -- an idle guest's whole memory cost, before the guest
	 * has asked for any of it.
	 */
	if (kvm->ram_size > THP_SKIP)
		madvise((char *)kvm->ram + THP_SKIP, kvm->ram_size - THP_SKIP,
			MADV_HUGEPAGE);
	return 0;
}

/* What to do about it, not only what went wrong (README "Running lkvm"). */
static void kvm__open_error(int err)
{
	const char *fix;

	switch (err) {
	case EACCES:
	case EPERM:
		fix = "lkvm needs read-write access to /dev/kvm: add the user to "
		      "group kvm (usermod -aG kvm USER, then log in again); if "
		      "/dev/kvm is root's only, give it to that group "
		      "(chgrp kvm /dev/kvm; chmod 0660 /dev/kvm)";
		break;
	case ENOENT:
	case ENODEV:
	case ENXIO:
		fix = "KVM is not available: load kvm_intel or kvm_amd, and "
		      "enable virtualization in the firmware (or nested "
		      "virtualization in the host of this VM)";
		break;
	default:
		fix = "see README \"Running lkvm as an ordinary user\"";
	}
	pr_err("cannot open /dev/kvm: %s (errno %d); %s", strerror(err), err,
	       fix);
}

int kvm__init(struct kvm *kvm, const struct lkvm_config *cfg)
{
	int ret;

	memset(kvm, 0, sizeof(*kvm));
	kvm->cfg = cfg;
	kvm->sys_fd = kvm->vm_fd = -1;
	pthread_mutex_init(&kvm->stop_lock, NULL);
	atomic_init(&kvm->stop_requested, false);
	pthread_mutex_init(&kvm->pause_lock, NULL);
	pthread_cond_init(&kvm->pause_cond, NULL);
	pthread_cond_init(&kvm->resume_cond, NULL);

	ret = evloop_init(&kvm->loop);
	if (ret)
		return ret;
	bus_init(&kvm->pio_bus, "pio");
	bus_init(&kvm->mmio_bus, "mmio");

	kvm->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm->sys_fd < 0) {
		ret = -errno;
		kvm__open_error(-ret);
		return ret;
	}
	ret = kvm__check_caps(kvm);
	if (ret)
		return ret;
	kvm->vcpu_mmap_size = ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->vcpu_mmap_size <= 0) {
		pr_err("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return -ENOTSUP;
	}
	kvm->vm_fd = ioctl(kvm->sys_fd, KVM_CREATE_VM, 0);
	if (kvm->vm_fd < 0) {
		ret = -errno;
		pr_err("KVM_CREATE_VM: %s", strerror(errno));
		return ret;
	}
	ret = arch__init_vm(kvm);
	if (ret)
		return ret;
	ret = kvm__alloc_ram(kvm);
	if (ret)
		return ret;
	ret = arch__setup_ram(kvm);
	if (ret)
		return ret;
	return arch__init_devices(kvm);
}

/*
 * Errors that come from what the user asked for (a kernel, initrd or disk
 * we cannot use, more devices than the board has room for) rather than
 * from lkvm or KVM failing.
 */
static bool kvm__is_usage_error(int err)
{
	switch (err) {
	case -EINVAL:
	case -ENOENT:
	case -EACCES:
	case -EPERM:
	case -EISDIR:
	case -ENOEXEC:
	case -EFBIG:
	case -E2BIG:
	case -ENOSPC:
	case -EROFS:
	case -EBUSY:
	case -ENOTSUP:
		return true;
	default:
		return false;
	}
}

int kvm__on_exit(struct kvm *kvm, void (*fn)(void *opaque), void *opaque)
{
	if (kvm->nr_exit_hooks == KVM_MAX_EXIT_HOOKS)
		return -ENOSPC;
	kvm->exit_hooks[kvm->nr_exit_hooks++] = (struct kvm_exit_hook){
		.fn = fn, .opaque = opaque,
	};
	return 0;
}

void kvm__exit(struct kvm *kvm)
{
	while (kvm->nr_exit_hooks) {
		struct kvm_exit_hook *h = &kvm->exit_hooks[--kvm->nr_exit_hooks];

		h->fn(h->opaque);
	}
	arch__exit(kvm);
	if (kvm->ram)
		munmap(kvm->ram, kvm->ram_size);
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->sys_fd >= 0)
		close(kvm->sys_fd);
	bus_exit(&kvm->pio_bus);
	bus_exit(&kvm->mmio_bus);
	evloop_exit(&kvm->loop);
	pthread_mutex_destroy(&kvm->stop_lock);
	pthread_cond_destroy(&kvm->resume_cond);
	pthread_cond_destroy(&kvm->pause_cond);
	pthread_mutex_destroy(&kvm->pause_lock);
}

struct signal_watch {
	struct evloop_watch w;
	struct kvm *kvm;
};

static void kvm__on_signal(void *opaque, u32 events __unused)
{
	struct signal_watch *sw = opaque;
	struct signalfd_siginfo si;

	if (read(sw->w.fd, &si, sizeof(si)) != sizeof(si))
		return;
	pr_info("stopping on signal %u", si.ssi_signo);
	kvm__request_stop(sw->kvm, LKVM_EXIT_SIGNAL_BASE + (int)si.ssi_signo);
}

static void kvm__on_timeout(void *opaque, u32 events __unused)
{
	struct signal_watch *tw = opaque;
	u64 n;

	if (read(tw->w.fd, &n, sizeof(n)) != sizeof(n))
		return;
	pr_info("stopping: the time limit of %u s is up",
		tw->kvm->cfg->stop_after_s);
	kvm__request_stop(tw->kvm, LKVM_EXIT_TIMEOUT);
}

/* cfg->stop_after_s: a timerfd on the main loop, armed before any vCPU runs. */
static int kvm__arm_timeout(struct kvm *kvm, struct signal_watch *tw)
{
	struct itimerspec its = {
		.it_value.tv_sec = kvm->cfg->stop_after_s,
	};

	tw->kvm = kvm;
	tw->w.opaque = tw;
	tw->w.cb = kvm__on_timeout;
	tw->w.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (tw->w.fd < 0)
		return -errno;
	if (timerfd_settime(tw->w.fd, 0, &its, NULL))
		return -errno;
	return evloop_add(&kvm->loop, &tw->w, EPOLLIN);
}

static void kvm__noop_handler(int sig __unused)
{
}

/*
 * SIGINT/SIGTERM/SIGHUP go to the main loop through a signalfd; SIGUSR1 is
 * how a vCPU gets kicked out of KVM_RUN, so it needs a (no-op) handler.
 * The mask is set before any thread exists so every thread inherits it.
 */
static int kvm__setup_signals(sigset_t *stop_set)
{
	/*
	 * SA_RESTART: a kick that lands while a vCPU thread is in a
	 * blocking write (the console) must not fail that write.  KVM_RUN
	 * itself returns EINTR whatever the flag says.
	 */
	struct sigaction sa = {
		.sa_handler = kvm__noop_handler, .sa_flags = SA_RESTART,
	};

	sigemptyset(stop_set);
	sigaddset(stop_set, SIGINT);
	sigaddset(stop_set, SIGTERM);
	sigaddset(stop_set, SIGHUP);
	if (sigaction(SIGUSR1, &sa, NULL))
		return -errno;
	return -pthread_sigmask(SIG_BLOCK, stop_set, NULL);
}

/*
 * A tap downscript runs at tear-down in a forked child, which would
 * inherit the main thread's filter and could not exec: with one, the main
 * thread stays unfiltered (and says so); every other thread keeps its own.
 */
static void kvm__main_seccomp(const struct lkvm_config *cfg)
{
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		const char *ds = cfg->nets[i].downscript;

		if (cfg->nets[i].mode == NET_MODE_TAP && ds &&
		    strcmp(ds, "none")) {
			if (cfg->seccomp)
				pr_warn("seccomp: the main thread runs unfiltered: downscript=%s must be able to run",
					ds);
			return;
		}
	}
	seccomp__thread_enter(SECCOMP_THREAD_MAIN);
}

int kvm__run(const struct lkvm_config *cfg)
{
	struct signal_watch sw = { .w.fd = -1 }, tw = { .w.fd = -1 };
	struct ctl_server *ctl = NULL;
	struct kvm *kvm;
	sigset_t stop_set;
	int ret, code;

	log_level = cfg->loglevel;
	if (kvm__setup_signals(&stop_set))
		return LKVM_EXIT_VMM_ERROR;
	/* Before any thread: each one installs its filter when it starts. */
	if (seccomp__prepare(cfg))
		return LKVM_EXIT_VMM_ERROR;
	/*
	 * The control socket first: a bad or duplicate --name is refused
	 * before anything is built.  From here every way out goes through
	 * ctl_server_close(), which removes the socket file.
	 */
	ret = ctl_server_open(cfg, &ctl);
	if (ret)
		return ret == -EINVAL || ret == -EEXIST || ret == -EPERM ?
		       LKVM_EXIT_USAGE : LKVM_EXIT_VMM_ERROR;
	kvm = calloc(1, sizeof(*kvm));
	if (!kvm) {
		ctl_server_close(ctl);
		return LKVM_EXIT_VMM_ERROR;
	}

	/* Before the devices, which take the console's fds. */
	if (cfg->tty >= 0 && term__open_pty((unsigned int)cfg->tty))
		goto err_vmm;
	ret = kvm__init(kvm, cfg);
	if (ret)
		goto err_vmm;
	/* Before the kernel: x86 announces virtio-mmio on its command line. */
	ret = virtio__init_devices(kvm);
	if (!ret)
		ret = arch__load_kernel(kvm);
	if (ret) {
		code = kvm__is_usage_error(ret) ? LKVM_EXIT_USAGE :
						  LKVM_EXIT_VMM_ERROR;
		goto out;
	}
	pr_info("%s: %u vCPU%s, %llu MiB, kernel %s", cfg->name, cfg->nr_cpus,
		cfg->nr_cpus == 1 ? "" : "s",
		(unsigned long long)(cfg->ram_size >> 20),
		cfg->kernel ? cfg->kernel : "(firmware)");
	ret = kvm_cpu__create_all(kvm);
	if (!ret)
		ret = arch__post_vcpu_init(kvm);
	if (ret)
		goto err_vmm;

	sw.kvm = kvm;
	sw.w.opaque = &sw;
	sw.w.cb = kvm__on_signal;
	sw.w.fd = signalfd(-1, &stop_set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sw.w.fd < 0 || evloop_add(&kvm->loop, &sw.w, EPOLLIN))
		goto err_vmm;
	if (cfg->stop_after_s && kvm__arm_timeout(kvm, &tw))
		goto err_vmm;
	/* Requests are served by evloop_run(), once the vCPUs have started. */
	if (ctl_server_attach(ctl, kvm))
		goto err_vmm;

	/*
	 * Set-up is over: nothing from here on may need a capability (a
	 * tap's downscript runs without them).  Before the vCPU threads,
	 * which inherit the empty sets.
	 */
	if (privs_drop())
		goto err_vmm;

	term__init();
	ret = kvm_cpu__start_all(kvm);
	if (ret)
		kvm__request_stop(kvm, LKVM_EXIT_VMM_ERROR);
	/* Last: every other thread exists, none is created from here on. */
	kvm__main_seccomp(cfg);
	ret = evloop_run(&kvm->loop);
	if (ret)
		kvm__request_stop(kvm, LKVM_EXIT_VMM_ERROR);
	kvm_cpu__stop_all(kvm);
	term__restore();
	/* All vCPU threads are joined: no other writer of exit_code is left. */
	code = kvm->exit_code;
	goto out;

err_vmm:
	code = LKVM_EXIT_VMM_ERROR;
out:
	kvm_cpu__destroy_all(kvm);
	if (sw.w.fd >= 0)
		close(sw.w.fd);
	if (tw.w.fd >= 0)
		close(tw.w.fd);
	kvm__exit(kvm);
	free(kvm);
	/* Last: a client waiting for the socket to close sees lkvm gone. */
	ctl_server_close(ctl);
	return code;
}

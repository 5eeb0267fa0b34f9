// SPDX-License-Identifier: GPL-2.0
/*
 * What each lkvm thread may call once its filter is in (kvm/seccomp.c).
 * A name this architecture does not have (open, poll on arm64) is
 * skipped when the filter is built.  The README's seccomp table mirrors
 * these lists: keep the two in step.
 */
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "lkvm/sanitizer.h"
#include "seccomp-int.h"

/* Every thread: malloc/free, locks, logging to stderr, clocks, exit. */
static const char *const common_calls[] = {
	"futex", "exit", "exit_group", "rt_sigreturn", "rt_sigprocmask",
	"restart_syscall", "brk", "munmap", "mremap", "madvise", "write",
	"getpid", "gettid", "clock_gettime", "gettimeofday", "sched_yield",
	"sched_getaffinity", NULL,
};

/*
 * drop_privs: threads filtered at their start are still sent
 * kvm/privs.c's signal once set-up is over, and drop their capabilities
 * in its handler.  capset can only shrink the sets; the prctl options
 * allowed only give privilege up.
 */
const struct seccomp_list seccomp_common_list = {
	.syscalls = common_calls, .mem = true, .drop_privs = true,
};

/*
 * vCPU: KVM_RUN, the register reads of `lkvm debug` and --debug dumps,
 * NMI injection, and the VM ioctls device emulation makes on this thread
 * (interrupt lines and MSIs, irqfd/ioeventfd wiring when the driver sets
 * a queue up, MSI routing) plus the tap offloads virtio-net sets at
 * DRIVER_OK.  close: a device reset the guest writes (Linux resets
 * every virtio device at power-off) closes that device's eventfds on
 * this thread.  x86 creates the PIT on the guest's first access to it
 * and rewinds RIP so the guest repeats that access (x86/pit.c).  Never
 * KVM_CREATE_VM, KVM_CREATE_VCPU or memory slots, and of the register
 * writes only those two: KVM_SET_REGS for the rewind and arm64's
 * KVM_SET_VCPU_EVENTS, the external abort an undecodable MMIO access gets.
 */
static const char *const vcpu_calls[] = {
	"read", "writev", "epoll_ctl", "close",
	/*
	 * A reset or bus mastering turned off, written by the guest, waits
	 * here for the disk's requests in flight (virtio-blk's drain):
	 * reaping libaio completions, resubmitting a short transfer's rest.
	 */
	"io_getevents", "io_pgetevents", "io_submit", NULL,
};

static const unsigned long vcpu_ioctls[] = {
	KVM_RUN, KVM_IRQ_LINE, KVM_SIGNAL_MSI, KVM_SET_GSI_ROUTING,
	KVM_IRQFD, KVM_IOEVENTFD, KVM_SET_GUEST_DEBUG,
#ifdef __x86_64__
	KVM_GET_REGS, KVM_GET_SREGS, KVM_TRANSLATE, KVM_NMI,
	KVM_CREATE_PIT2, KVM_REINJECT_CONTROL, KVM_SET_REGS,
#endif
#ifdef __aarch64__
	KVM_GET_ONE_REG, KVM_SET_VCPU_EVENTS,
#endif
	TUNSETOFFLOAD,
	0,
};

/*
 * A virtio device's event loop (and a thread_per_queue queue's): rings in
 * guest memory, backends behind fds it already has: the disk (raw,
 * libaio), the tap, the console's fds (sendmsg: MSG_DONTWAIT to a socket
 * stdout, whose flags are not ours to change), getrandom for virtio-rng,
 * balloon's madvise (common), virtio-net's receive batch timer.
 * Interrupts through KVM_IRQ_LINE / KVM_SIGNAL_MSI when no irqfd is wired.
 */
static const char *const virtio_calls[] = {
	"epoll_wait", "epoll_pwait", "epoll_ctl", "read", "readv", "writev",
	"pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
	"fsync", "fdatasync", "fallocate", "io_submit", "io_getevents",
	"io_pgetevents", "getrandom", "lseek", "fstat", "newfstatat",
	"fcntl", "timerfd_settime", "sendmsg", NULL,
};

static const unsigned long virtio_ioctls[] = {
	KVM_IRQ_LINE, KVM_SIGNAL_MSI, KVM_SET_GSI_ROUTING, KVM_IRQFD,
	TUNSETOFFLOAD, 0,
};

/* virtio-net with -n mode=user: the above plus slirp's sockets. */
static const char *const slirp_calls[] = {
	"epoll_wait", "epoll_pwait", "epoll_ctl", "read", "readv", "writev",
	"poll", "ppoll", "socket", "connect", "bind", "listen", "accept",
	"accept4", "sendto", "recvfrom", "sendmsg", "recvmsg", "shutdown",
	"setsockopt", "getsockopt", "getsockname", "getpeername", "close",
	"fcntl", "getrandom", "timerfd_settime", "timerfd_gettime",
	"clock_getres", NULL,
};

static const unsigned long slirp_ioctls[] = {
	KVM_IRQ_LINE, KVM_SIGNAL_MSI, KVM_SET_GSI_ROUTING, KVM_IRQFD,
	FIONBIO, FIONREAD, 0,
};

/*
 * 9p worker: the file system calls that serve the guest's 9P2000.L
 * requests, every path resolved beneath the export's fd (openat2
 * RESOLVE_BENEATH, fs/p9-path.c).  Never execve, ptrace, mount, chroot
 * or anything that makes a socket.
 */
static const char *const p9_calls[] = {
	"openat", "openat2", "close", "read", "write", "pread64",
	"pwrite64", "preadv", "pwritev", "lseek", "fstat", "newfstatat",
	"statx", "fstatfs", "statfs", "getdents64", "mkdirat", "mknodat",
	"unlinkat", "renameat", "renameat2", "linkat", "symlinkat",
	"readlinkat", "fchmod", "fchmodat", "fchmodat2", "fchown",
	"fchownat", "utimensat", "ftruncate", "fsync", "fdatasync",
	"fallocate", "faccessat", "faccessat2", "fcntl", "dup",
	"fgetxattr", "flistxattr", "lgetxattr", "llistxattr",
	NULL,
};

/* Disk worker: the blocking requests (qcow2 metadata, fallocate). */
static const char *const disk_calls[] = {
	"pread64", "pwrite64", "preadv", "pwritev", "fsync", "fdatasync",
	"fallocate", "ftruncate", "fstat", "lseek", NULL,
};

/*
 * Main: its event loop (signalfd, timerfd, console input), the control
 * socket's clients, pause/stop kicking the vCPUs, and the tear-down:
 * joining threads, flushing disks, closing everything, unlinking the
 * control socket, restoring the terminal.
 */
static const char *const main_calls[] = {
	"epoll_wait", "epoll_pwait", "epoll_ctl", "read", "readv", "writev",
	"accept4", "accept", "recvfrom", "recvmsg", "sendto", "sendmsg",
	"getsockopt", "shutdown", "close", "fcntl", "fstat", "newfstatat",
	"timerfd_settime", "unlink", "unlinkat", "fsync", "fdatasync",
	"pread64", "pwrite64", "preadv", "pwritev", "ftruncate", "fallocate",
	"io_destroy", "io_getevents", "lseek", "rt_sigaction", "rt_sigtimedwait",
	"getuid", "geteuid", "getgid", "getegid",
	NULL,
};

static const unsigned long main_ioctls[] = {
	TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ, KVM_IRQ_LINE,
	KVM_SIGNAL_MSI, TUNSETOFFLOAD, 0,
};

/* lkvm sandbox's stdin forwarder: two fds in, one out. */
static const char *const stdin_calls[] = {
	"read", "close", NULL,
};

static const struct seccomp_list vcpu_list = {
	.syscalls = vcpu_calls, .ioctls = vcpu_ioctls, .kick = true,
};
static const struct seccomp_list virtio_list = {
	.syscalls = virtio_calls, .ioctls = virtio_ioctls,
};
static const struct seccomp_list slirp_list = {
	.syscalls = slirp_calls, .ioctls = slirp_ioctls,
};
static const struct seccomp_list p9_list = { .syscalls = p9_calls };
static const struct seccomp_list disk_list = { .syscalls = disk_calls };
static const struct seccomp_list main_list = {
	.syscalls = main_calls, .ioctls = main_ioctls, .kick = true,
};
static const struct seccomp_list stdin_list = { .syscalls = stdin_calls };

const struct seccomp_list *const seccomp_lists[SECCOMP_THREAD_MAX] = {
	[SECCOMP_THREAD_MAIN] = &main_list,
	[SECCOMP_THREAD_VCPU] = &vcpu_list,
	[SECCOMP_THREAD_VIRTIO] = &virtio_list,
	[SECCOMP_THREAD_VIRTIO_QUEUE] = &virtio_list,
	[SECCOMP_THREAD_SLIRP] = &slirp_list,
	[SECCOMP_THREAD_P9] = &p9_list,
	[SECCOMP_THREAD_DISK] = &disk_list,
	[SECCOMP_THREAD_STDIN] = &stdin_list,
};

/*
 * Sanitizer builds only: the runtimes' own calls, in whatever thread they
 * happen (ASan/UBSan/TSan report writers and symbolizers, LeakSanitizer's
 * exit-time scan, which stops the other threads with ptrace from a
 * clone()d helper, TSan's shadow memory and its background thread's
 * sleeps).  A production build never has these.
 */
#if LKVM_ASAN || LKVM_TSAN
/*
 * Every thread: report writing (log_path files, /proc/self/maps for the
 * symbolizer: openat, but never O_RDWR, so that the test hook's open of
 * /dev/null still traps), alternate signal stacks, sleeps and the
 * isatty() check before coloured output.  GCC's runtimes still use the
 * old open and getdents on x86-64 (LeakSanitizer's list of threads).
 */
static const char *const sanitizer_calls[] = {
	"close", "read", "readlink", "readlinkat", "getdents", "getdents64", "fstat",
	"newfstatat", "stat", "lstat", "lseek", "prctl", "sigaltstack",
	"rt_sigaction", "getrlimit", "prlimit64", "nanosleep",
	"clock_nanosleep", "sched_getaffinity", "uname", "mincore", "dup",
	"dup2", "dup3", "pipe", "pipe2", "getppid", "getuid", "geteuid",
	"pread64", "fsync", "kill", "tgkill", "tkill", NULL,
};
static const unsigned long sanitizer_ioctls[] = { TCGETS, 0 };
const struct seccomp_list seccomp_sanitizer_list = {
	.syscalls = sanitizer_calls, .ioctls = sanitizer_ioctls,
	.open_no_rdwr = true,
};

/*
 * Main only: LeakSanitizer's scan at exit stops every thread with ptrace
 * from a clone()d helper and reads their stacks.
 */
static const char *const sanitizer_main_calls[] = {
	"clone", "clone3", "ptrace", "wait4", "waitid", "process_vm_readv",
	"sched_getaffinity", NULL,
};
const struct seccomp_list seccomp_sanitizer_main_list = {
	.syscalls = sanitizer_main_calls,
};
#else
static const char *const no_calls[] = { NULL };
const struct seccomp_list seccomp_sanitizer_list = { .syscalls = no_calls };
const struct seccomp_list seccomp_sanitizer_main_list = {
	.syscalls = no_calls,
};
#endif

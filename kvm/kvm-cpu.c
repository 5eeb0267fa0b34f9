// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU threads.  Each runs KVM_RUN in a loop and dispatches port I/O and
 * MMIO exits to the buses; anything else either ends the VM with a
 * documented status or goes to the arch code.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lkvm/barrier.h"
#include "lkvm/exit.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/seccomp.h"

/*
 * --debug-single-step, kvmtool's: every guest instruction ends in
 * KVM_EXIT_DEBUG, where the registers are dumped.
 */
static int kvm_cpu__enable_single_step(struct kvm_cpu *cpu)
{
	struct kvm_guest_debug dbg = {
		.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP,
	};

	if (ioctl(cpu->fd, KVM_SET_GUEST_DEBUG, &dbg) < 0) {
		int ret = -errno;

		pr_err("vCPU %u: KVM_SET_GUEST_DEBUG (--debug-single-step): %s",
		       cpu->id, strerror(errno));
		return ret;
	}
	return 0;
}

static int kvm_cpu__create(struct kvm *kvm, unsigned int id)
{
	struct kvm_cpu *cpu;
	int ret;

	cpu = calloc(1, sizeof(*cpu));
	if (!cpu)
		return -ENOMEM;
	cpu->kvm = kvm;
	cpu->id = id;
	vcpu_req_init(&cpu->req);
	kvm->cpus[id] = cpu;

	cpu->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, id);
	if (cpu->fd < 0) {
		ret = -errno;
		pr_err("KVM_CREATE_VCPU %u: %s", id, strerror(errno));
		return ret;
	}
	cpu->run = mmap(NULL, kvm->vcpu_mmap_size, PROT_READ | PROT_WRITE,
			MAP_SHARED, cpu->fd, 0);
	if (cpu->run == MAP_FAILED) {
		cpu->run = NULL;
		ret = -errno;
		pr_err("mmap of vCPU %u run area: %s", id, strerror(errno));
		return ret;
	}
	ret = arch__vcpu_init(cpu);
	if (!ret && kvm->cfg->debug_single_step)
		ret = kvm_cpu__enable_single_step(cpu);
	return ret;
}

int kvm_cpu__create_all(struct kvm *kvm)
{
	int max = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	int ret;

	if (max <= 0)
		max = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max > 0 && kvm->cfg->nr_cpus > (unsigned int)max) {
		pr_err("%u vCPUs requested, but KVM supports at most %d",
		       kvm->cfg->nr_cpus, max);
		return -EINVAL;
	}
	kvm->cpus = calloc(kvm->cfg->nr_cpus, sizeof(*kvm->cpus));
	if (!kvm->cpus)
		return -ENOMEM;
	kvm->nr_cpus = kvm->cfg->nr_cpus;
	for (unsigned int i = 0; i < kvm->nr_cpus; i++) {
		ret = kvm_cpu__create(kvm, i);
		if (ret)
			return ret;
	}
	return 0;
}

static void kvm_cpu__guest_fault(struct kvm_cpu *cpu, const char *what);

/* Returns false when the vCPU must stop (--debug-ioport). */
static bool kvm_cpu__handle_io(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;
	u8 *data = (u8 *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	if (arch__handle_io(cpu))
		return true;
	/* A rep ins/outs arrives as @count back-to-back accesses. */
	for (u32 i = 0; i < run->io.count; i++) {
		if (!bus_dispatch(&cpu->kvm->pio_bus, run->io.port, data,
				  run->io.size, is_write) &&
		    cpu->kvm->cfg->debug_ioport) {
			/* kvmtool's --debug-ioport: report it, stop the VM. */
			fprintf(stderr, "IO error: %s port=%x, size=%u, count=%u\n",
				is_write ? "out" : "in", run->io.port,
				run->io.size, run->io.count);
			kvm_cpu__guest_fault(cpu, "access to an unclaimed I/O port (--debug-ioport)");
			return false;
		}
		data += run->io.size;
	}
	return true;
}

static void kvm_cpu__handle_mmio(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;

	if (!bus_dispatch(&cpu->kvm->mmio_bus, run->mmio.phys_addr,
			  run->mmio.data, run->mmio.len, run->mmio.is_write) &&
	    cpu->kvm->cfg->debug_mmio)
		/* kvmtool's --debug-mmio: report it, carry on. */
		fprintf(stderr, "Warning: Ignoring MMIO %s at %016llx (length %u)\n",
			run->mmio.is_write ? "write" : "read",
			(unsigned long long)run->mmio.phys_addr, run->mmio.len);
}

static void kvm_cpu__guest_fault(struct kvm_cpu *cpu, const char *what)
{
	pr_err("vCPU %u: %s%s", cpu->id, what,
	       cpu->kvm->cfg->debug ? "" : " (use --debug for registers)");
	if (cpu->kvm->cfg->debug)
		arch__dump_vcpu(cpu, stderr);
	kvm__request_stop(cpu->kvm, LKVM_EXIT_GUEST_FAULT);
}

static void kvm_cpu__internal_error(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;
	char msg[256];
	int n;

	n = snprintf(msg, sizeof(msg), "KVM_EXIT_INTERNAL_ERROR suberror %u",
		     run->internal.suberror);
	for (u32 i = 0; i < run->internal.ndata && i < 16 && n > 0 &&
			(size_t)n < sizeof(msg); i++)
		n += snprintf(msg + n, sizeof(msg) - n, " %#llx",
			      (unsigned long long)run->internal.data[i]);
	kvm_cpu__guest_fault(cpu, msg);
}

static void kvm_cpu__system_event(struct kvm_cpu *cpu)
{
	switch (cpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		kvm__request_stop(cpu->kvm, LKVM_EXIT_POWEROFF);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		kvm__request_stop(cpu->kvm, LKVM_EXIT_RESET);
		break;
	default:
		kvm_cpu__guest_fault(cpu, "guest reported a crash");
		break;
	}
}

/* Returns false when the thread should leave its run loop. */
static bool kvm_cpu__handle_exit(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return kvm_cpu__handle_io(cpu);
	case KVM_EXIT_MMIO:
		kvm_cpu__handle_mmio(cpu);
		return true;
	case KVM_EXIT_DEBUG:
		if (!cpu->kvm->cfg->debug_single_step)
			return arch__handle_exit(cpu) == 0;
		arch__dump_vcpu(cpu, stderr);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		kvm_cpu__guest_fault(cpu, "guest shut down by a fault (triple fault)");
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		kvm_cpu__internal_error(cpu);
		return false;
	case KVM_EXIT_FAIL_ENTRY: {
		char msg[96];

		snprintf(msg, sizeof(msg),
			 "KVM_EXIT_FAIL_ENTRY, hardware reason %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		kvm_cpu__guest_fault(cpu, msg);
		return false;
	}
	case KVM_EXIT_SYSTEM_EVENT:
		kvm_cpu__system_event(cpu);
		return false;
	default:
		return arch__handle_exit(cpu) == 0;
	}
}

static void *kvm_cpu__thread(void *arg)
{
	struct kvm_cpu *cpu = arg;
	struct kvm *kvm = cpu->kvm;
	char name[16];
	sigset_t kick;

	snprintf(name, sizeof(name), "lkvm-vcpu-%u", cpu->id);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&kick);
	sigaddset(&kick, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	/* The vCPU fd, its kvm_run and every device exist by now. */
	seccomp__thread_enter(SECCOMP_THREAD_VCPU);

	/* A VM paused before its vCPUs started keeps them from running. */
	kvm_cpu__park(cpu);
	while (!kvm__stopping(kvm)) {
		int ret;

		if (vcpu_req_enter_guest(&cpu->req)) {
			if (!kvm_cpu__handle_requests(cpu))
				break;
			continue;
		}
		ret = ioctl(cpu->fd, KVM_RUN, 0);
		vcpu_req_exit_guest(&cpu->req);
		/*
		 * A kick's immediate_exit has done its job (or will cost one
		 * spurious EINTR if it lands after this store): requests are
		 * looked at again before the next KVM_RUN either way.
		 */
		WRITE_ONCE(cpu->run->immediate_exit, 0);
		if (ret < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			pr_err("vCPU %u: KVM_RUN: %s", cpu->id, strerror(errno));
			kvm__request_stop(kvm, LKVM_EXIT_VMM_ERROR);
			break;
		}
		if (!kvm_cpu__handle_exit(cpu))
			break;
	}
	kvm_cpu__gone(cpu);
	return NULL;
}

int kvm_cpu__start_all(struct kvm *kvm)
{
	for (unsigned int i = 0; i < kvm->nr_cpus; i++) {
		struct kvm_cpu *cpu = kvm->cpus[i];
		int ret;

		ret = pthread_create(&cpu->thread, NULL, kvm_cpu__thread, cpu);
		if (ret) {
			pr_err("cannot start vCPU %u thread: %s", i, strerror(ret));
			return -ret;
		}
		cpu->thread_started = true;
	}
	return 0;
}

void kvm_cpu__stop_all(struct kvm *kvm)
{
	for (unsigned int i = 0; i < kvm->nr_cpus; i++) {
		struct kvm_cpu *cpu = kvm->cpus[i];

		if (cpu && cpu->thread_started)
			kvm_cpu__request(cpu, VCPU_REQ_STOP);
	}
	/* Parked vCPUs wait on a condition, not in KVM_RUN. */
	kvm__pause_wake_all(kvm);
	for (unsigned int i = 0; i < kvm->nr_cpus; i++) {
		struct kvm_cpu *cpu = kvm->cpus[i];

		if (!cpu || !cpu->thread_started)
			continue;
		pthread_join(cpu->thread, NULL);
		cpu->thread_started = false;
	}
}

void kvm_cpu__destroy_all(struct kvm *kvm)
{
	if (!kvm->cpus)
		return;
	for (unsigned int i = 0; i < kvm->nr_cpus; i++) {
		struct kvm_cpu *cpu = kvm->cpus[i];

		if (!cpu)
			continue;
		if (cpu->run)
			munmap(cpu->run, kvm->vcpu_mmap_size);
		if (cpu->fd >= 0)
			close(cpu->fd);
		free(cpu);
	}
	free(kvm->cpus);
	kvm->cpus = NULL;
}

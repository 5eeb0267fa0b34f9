/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_KVM_H
#define LKVM_KVM_H

#include <pthread.h>
#include <stdatomic.h>

#include <linux/kvm.h>

#include "lkvm/arch.h"
#include "lkvm/bus.h"
#include "lkvm/config.h"
#include "lkvm/evloop.h"
#include "lkvm/guest_mem.h"
#include "lkvm/types.h"
#include "lkvm/vcpu-req.h"

struct kvm;

struct kvm_cpu {
	struct kvm *kvm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	struct vcpu_req req;
	/*
	 * kvm/pause.c, under kvm->pause_lock: parked while the VM is
	 * paused; gone once the thread left its run loop; the one work
	 * item (VCPU_REQ_WORK) waiting to run on this thread.
	 */
	bool parked;
	bool gone;
	void (*work_fn)(struct kvm_cpu *cpu, void *arg);
	void *work_arg;
	bool work_done;
	struct kvm_cpu_arch arch;
};

#define KVM_MAX_EXIT_HOOKS 64
#define KVM_MAX_VDEVS	32

struct virtio_device;
struct balloon;

struct kvm_exit_hook {
	void (*fn)(void *opaque);
	void *opaque;
};

struct kvm {
	const struct lkvm_config *cfg;
	int sys_fd;
	int vm_fd;
	int vcpu_mmap_size;

	void *ram;			/* one host mapping, split into slots */
	u64 ram_size;
	struct guest_mem mem;
	unsigned int nr_slots;

	unsigned int nr_cpus;
	struct kvm_cpu **cpus;

	struct bus pio_bus;
	struct bus mmio_bus;

	/* Every virtio device, in creation order (lkvm stat lists them). */
	struct virtio_device *vdevs[KVM_MAX_VDEVS];
	unsigned int nr_vdevs;
	/* --balloon's device (virtio/balloon.c), or NULL: one per VM. */
	struct balloon *balloon;

	/*
	 * The first stop request wins: exit_code is written once under
	 * stop_lock, before stop_requested is set with release semantics.
	 */
	pthread_mutex_t stop_lock;
	atomic_bool stop_requested;
	int exit_code;
	struct evloop loop;		/* main thread: signals, console */

	/*
	 * kvm/pause.c.  pause_lock covers paused, nr_parked, nr_gone and
	 * each vCPU's parked/gone/work fields.  pause_cond: a vCPU parked,
	 * left, or finished a work item (the main thread waits on it);
	 * resume_cond: resumed, work queued, or stopping (parked vCPUs wait).
	 */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	pthread_cond_t resume_cond;
	bool paused;
	unsigned int nr_parked;
	unsigned int nr_gone;

	/*
	 * Magic SysRq on the guest's console (kvm__sysrq, kvm/sysrq.c): set
	 * by whichever device carries it, the 8250 or virtio-console hvc0.
	 */
	int (*console_sysrq)(void *dev, char key);
	void *console_dev;

	/* Device teardown, run in reverse order once all vCPUs are gone. */
	struct kvm_exit_hook exit_hooks[KVM_MAX_EXIT_HOOKS];
	unsigned int nr_exit_hooks;

	struct kvm_arch arch;
};

int kvm__init(struct kvm *kvm, const struct lkvm_config *cfg);
void kvm__exit(struct kvm *kvm);
int kvm__register_ram(struct kvm *kvm, u64 gpa, u64 size, void *hva);
/* Registers @fn(@opaque) to run at kvm__exit(); -ENOSPC when full. */
int kvm__on_exit(struct kvm *kvm, void (*fn)(void *opaque), void *opaque);
int kvm__set_irq_line(struct kvm *kvm, unsigned int irq, int level);
/* The console device announces its SysRq entry (see kvm__sysrq). */
void kvm__set_console_sysrq(struct kvm *kvm,
			    int (*fn)(void *dev, char key), void *dev);

/*
 * Ask the VM to stop with @code.  Safe from any thread, any number of
 * times; only the first request's code is kept.
 */
void kvm__request_stop(struct kvm *kvm, int code);
bool kvm__stopping(struct kvm *kvm);
/* kvm/pause.c: wakes every waiter there once a stop was requested. */
void kvm__pause_wake_all(struct kvm *kvm);

/*
 * kvm/pause.c.  Sets @req on @cpu and kicks it out of KVM_RUN if needed;
 * any thread.  The vCPU handles its requests before its next KVM_RUN;
 * false from kvm_cpu__handle_requests() means leave the run loop.
 */
void kvm_cpu__request(struct kvm_cpu *cpu, unsigned int req);
bool kvm_cpu__handle_requests(struct kvm_cpu *cpu);
/* vCPU thread: waits while the VM is paused (also before its first run). */
void kvm_cpu__park(struct kvm_cpu *cpu);
/* The vCPU thread is leaving its run loop. */
void kvm_cpu__gone(struct kvm_cpu *cpu);
/* Runs @fn(@cpu, @arg) on @cpu's thread and waits for it (main thread). */
int kvm_cpu__run_work(struct kvm_cpu *cpu,
		      void (*fn)(struct kvm_cpu *cpu, void *arg), void *arg);

int kvm_cpu__create_all(struct kvm *kvm);
int kvm_cpu__start_all(struct kvm *kvm);
/* Kicks every vCPU out of KVM_RUN and joins its thread. */
void kvm_cpu__stop_all(struct kvm *kvm);
void kvm_cpu__destroy_all(struct kvm *kvm);

/* Runs the VM to completion; returns lkvm's exit status. */
int kvm__run(const struct lkvm_config *cfg);

#endif

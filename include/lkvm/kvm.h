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

struct kvm;

struct kvm_cpu {
	struct kvm *kvm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
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

/*
 * Ask the VM to stop with @code.  Safe from any thread, any number of
 * times; only the first request's code is kept.
 */
void kvm__request_stop(struct kvm *kvm, int code);
bool kvm__stopping(struct kvm *kvm);

int kvm_cpu__create_all(struct kvm *kvm);
int kvm_cpu__start_all(struct kvm *kvm);
/* Kicks every vCPU out of KVM_RUN and joins its thread. */
void kvm_cpu__stop_all(struct kvm *kvm);
void kvm_cpu__destroy_all(struct kvm *kvm);

/* Runs the VM to completion; returns lkvm's exit status. */
int kvm__run(const struct lkvm_config *cfg);

#endif

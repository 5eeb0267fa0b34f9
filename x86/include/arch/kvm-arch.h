/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_X86_KVM_ARCH_H
#define LKVM_X86_KVM_ARCH_H

#include <pthread.h>
#include <stdbool.h>

#include "lkvm/types.h"

/* How the boot CPU enters the guest, decided by the kernel loader. */
enum x86_boot_mode {
	X86_BOOT_REAL16,	/* flat binary, real mode at cs:ip */
	X86_BOOT_PVH32,		/* ELF with PVH note: 32-bit flat, ebx = start_info */
	X86_BOOT_LONG64,	/* bzImage, 64-bit boot protocol: rsi = zero page */
};

struct x86_boot_state {
	enum x86_boot_mode mode;
	u64 entry;		/* rip (64/32-bit) or ip (real mode) */
	u16 cs;			/* real mode code segment (also ds/es/fs/gs/ss) */
	u64 arg;		/* rsi (zero page) or ebx (start_info) */
	u64 stack;		/* initial rsp, 0 if none */
	u64 pml4;		/* page tables for long mode entry */
	u64 gdt;		/* GDT for protected/long mode entry */
};

struct kvm_cpuid2;
struct pm;

#define X86_EXTRA_CMDLINE_MAX	512

struct kvm_arch {
	struct x86_boot_state boot;
	struct kvm_cpuid2 *cpuid;	/* filtered, shared by all vCPUs */
	/*
	 * Appended to the kernel command line by the loader: devices Linux
	 * cannot discover (virtio-mmio slots) announce themselves here.
	 */
	char extra_cmdline[X86_EXTRA_CMDLINE_MAX];
	unsigned int nr_virtio_mmio;	/* slots handed out */
	struct pm *pm;			/* hw/pm.c: the power button */
	/* x86/pit.c: the PIT is created on first use; under pit_lock. */
	pthread_mutex_t pit_lock;
	enum { PIT_ABSENT, PIT_CREATED, PIT_FAILED } pit_state;
};

struct kvm;
/* A VM ioctl whose failure is reported by @name; 0 or -errno. */
int x86__vm_ioctl(struct kvm *kvm, unsigned long req, void *arg,
		  const char *name);

struct kvm_cpu_arch {
	bool halt_warned;		/* KVM_EXIT_HLT reported once */
	bool pit_replayed;		/* x86/pit.c: its one repeated access */
};

#endif

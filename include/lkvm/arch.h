/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_ARCH_H
#define LKVM_ARCH_H

#include <stdbool.h>
#include <stdio.h>

/*
 * The arch interface: everything that differs between x86 and arm lives
 * behind these hooks, implemented in x86/ or arm/.  Shared code never
 * tests the architecture itself.
 */

#include "arch/kvm-arch.h"
#include "lkvm/types.h"

struct kvm;
struct kvm_cpu;

/* VM-wide set-up before RAM exists (irqchip, timers, TSS, ...). */
int arch__init_vm(struct kvm *kvm);
/* Lays out kvm->ram (already mapped) as memory slots via kvm__register_ram. */
int arch__setup_ram(struct kvm *kvm);
/* Board devices (UART, RTC, reset, PCI host bridge, ...). */
int arch__init_devices(struct kvm *kvm);
/* Loads kernel, initrd and command line and builds the boot tables. */
int arch__load_kernel(struct kvm *kvm);
/* Per-vCPU set-up after KVM_CREATE_VCPU: CPUID, registers, LAPIC. */
int arch__vcpu_init(struct kvm_cpu *cpu);
/*
 * After every vCPU exists, before any runs: what needs them all (arm:
 * vGIC/ITS initialisation, PMU wiring).
 */
int arch__post_vcpu_init(struct kvm *kvm);
/*
 * The KVM_IRQ_LINE argument for irqchip input @irq (the number shared
 * code uses, which is also its GSI): x86 passes it through, arm encodes
 * type and INTID.
 */
u32 arch__irq_line_encode(unsigned int irq);
/* Releases whatever the hooks above allocated; safe after partial init. */
void arch__exit(struct kvm *kvm);

/*
 * Handles an exit reason the generic run loop does not know.  Returns 0 to
 * keep running, or a negative errno after requesting a stop.
 */
int arch__handle_exit(struct kvm_cpu *cpu);
/*
 * Sees a KVM_EXIT_IO before the port bus does (x86: the first access to
 * the PIT creates it).  True if it took the access.
 */
bool arch__handle_io(struct kvm_cpu *cpu);
/* Prints registers (and what else helps) to @f; on the vCPU's thread. */
void arch__dump_vcpu(struct kvm_cpu *cpu, FILE *f);
/* Injects an NMI into @cpu, on its thread; -ENOTSUP where there is none. */
int arch__inject_nmi(struct kvm_cpu *cpu);

/*
 * virtio-mmio placement: the next free slot's base address and interrupt
 * (-ENOSPC when none is left), and how the guest learns about it (x86:
 * a virtio_mmio.device= entry on the kernel command line; arm: the FDT).
 */
int arch__virtio_mmio_alloc(struct kvm *kvm, u64 *base, u64 *size,
			    unsigned int *irq);
int arch__virtio_mmio_announce(struct kvm *kvm, u64 base, u64 size,
			       unsigned int irq);

struct lkvm_config;
/*
 * Checks the arch-specific options after parsing (--irqchip, --pmu,
 * --dump-dtb, --firmware, --debug-exit); prints one line, "lkvm @prog: ...",
 * and -EINVAL if unusable here.
 */
int arch__check_config(const struct lkvm_config *cfg, const char *prog);
/*
 * Checks a --cpu-features string; prints one line and -EINVAL if bad.
 * @prog: the command, for the message ("run", "sandbox").
 */
int arch__check_cpu_features(const char *spec, const char *prog);
/* The kernel images tried when -k is not given, NULL-terminated. */
const char *const *arch__default_kernels(void);

#endif

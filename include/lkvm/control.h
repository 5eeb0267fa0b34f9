/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_CONTROL_H
#define LKVM_CONTROL_H

/*
 * What the control socket (ctl/) asks of a running VM.  Every call is
 * made on the main thread, from its event loop; each returns 0 or a
 * negative errno.
 */
#include <stdbool.h>

struct kvm;

/*
 * kvm/pause.c: returns once every vCPU is out of KVM_RUN and has
 * acknowledged, and every virtio device is at a request boundary with
 * nothing in flight.  Pausing a paused VM or resuming a running one is a
 * no-op.  Interrupts raised while paused are delivered on resume.
 */
int kvm__pause(struct kvm *kvm);
int kvm__resume(struct kvm *kvm);
bool kvm__paused(struct kvm *kvm);

/*
 * The guest-visible "please power off": the ACPI power button on x86,
 * a gpio-keys KEY_POWER press on arm64.  -ENOTSUP if the board has none.
 */
int arch__request_poweroff(struct kvm *kvm);

/*
 * kvm/vcpu-debug.c: vCPU @id's registers as text (*@out is malloc'ed),
 * taken on the vCPU's own thread; an NMI to vCPU @id (-ENOTSUP on arm64).
 */
int kvm_cpu__dump_text(struct kvm *kvm, unsigned int id, char **out);
int kvm_cpu__inject_nmi(struct kvm *kvm, unsigned int id);

/*
 * Magic SysRq @key on the guest's console: a break then @key on the 8250,
 * or Ctrl-O then @key on hvc0 when the console is virtio.
 */
int kvm__sysrq(struct kvm *kvm, char key);

#endif

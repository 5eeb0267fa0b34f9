/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ARCH_PIT_H
#define ARCH_PIT_H

#include <stdbool.h>

#include "lkvm/types.h"

struct kvm_cpu;

/* Longest IN/OUT pit__insn_len() finds: opcode, port. */
#define PIT_INSN_MAX	2

/* An access to a PIT port, as KVM_EXIT_IO and the registers tell it. */
struct pit_access {
	u16 port;
	u8 size;	/* bytes */
	bool in;
	u16 dx;
};

/* Ports 0x40-0x43 and the speaker/gate port 0x61, which KVM's PIT takes. */
bool pit__is_port(u16 port);
/*
 * How many bytes back from the end of a retired IN/OUT it starts, given
 * the @n (up to PIT_INSN_MAX) bytes before its end, tail[0] the last; 0 if
 * they are not a non-string byte IN/OUT making access @a.  Prefixes are
 * left out: none changes what a byte IN/OUT does.
 */
unsigned int pit__insn_len(const struct pit_access *a, const u8 *tail,
			   unsigned int n);
/*
 * A KVM_EXIT_IO on @cpu's thread.  True if it was an access to the PIT
 * before it existed: then the PIT now exists and the guest repeats the
 * access into it.  False: the access is the port bus's.
 */
bool pit__handle_io(struct kvm_cpu *cpu);

#endif

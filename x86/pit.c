// SPDX-License-Identifier: GPL-2.0
/*
 * The i8254 PIT, created in KVM on the guest's first access to it.
 *
 * Why not at start: many guests never touch it (flat binaries, test
 * programs that time nothing; Linux does, writing port 0x43 at timer
 * set-up), and it is not free.  Switching its tick reinjection off
 * (which keeps VM teardown fast, see pit__create) waits for an SRCU
 * grace period, and in about half the starts measured that held the
 * first KVM_RUN back by 12-23 ms.
 *
 * How: with no PIT in KVM, ports 0x40-0x43 and 0x61 exit to us.  The first
 * such exit creates the PIT, lets KVM finish the access (a KVM_RUN with
 * immediate_exit: the instruction retires having reached no device), and
 * points RIP back at the IN/OUT so that the guest executes it again, into
 * the PIT this time.  Finishing first leaves one state to work from: KVM
 * retires an emulated OUT before the exit (as on a software-nested host,
 * where all of CPL0 is emulated) but a fast-path IN/OUT only when the
 * access completes; afterwards RIP is past the instruction either way.
 *
 * Finding the instruction from its end is exact for these ports: a
 * non-string byte IN/OUT ends in its opcode (EC or EE, port in DX) or in
 * its port number (after E4 or E6), and no PIT port is EC or EE.  String
 * INS/OUTS end in 6C-6F and match neither; such an access, the only kind
 * not repeated, is reported and reaches no device, as an access to any
 * unclaimed port.  KVM's PIT takes byte accesses only, so wider ones are
 * never the PIT's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/boot.h"
#include "arch/pit.h"
#include "lkvm/barrier.h"
#include "lkvm/exit.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"

#define PIT_SPEAKER_PORT	0x61

bool pit__is_port(u16 port)
{
	return (port >= 0x40 && port <= 0x43) || port == PIT_SPEAKER_PORT;
}

unsigned int pit__insn_len(const struct pit_access *a, const u8 *tail,
			   unsigned int n)
{
	unsigned int len;
	bool in;

	/* KVM's PIT takes byte accesses only: IN/OUT AL, of any prefixes. */
	if (a->size != 1 || !pit__is_port(a->port) || !n)
		return 0;
	if (tail[0] == 0xec || tail[0] == 0xee) {
		if (a->dx != a->port)
			return 0;
		in = tail[0] == 0xec;
		len = 1;
	} else if (n >= 2 && (tail[1] == 0xe4 || tail[1] == 0xe6) &&
		   tail[0] == a->port) {
		in = tail[1] == 0xe4;
		len = 2;
	} else {
		return 0;
	}
	return in == a->in ? len : 0;
}

/*
 * No PIT tick reinjection: tick-counting guests are long gone (Linux keeps
 * time with the TSC or kvmclock), and with it on, the PIT holds an
 * interrupt-ack notifier whose removal at VM teardown waits a full SRCU
 * grace period, 12-15 ms of the guest's exit here (perf: close(VM fd)
 * asleep in kvm_free_pit -> kvm_pit_set_reinject -> synchronize_srcu).
 * Switched off now, the guest waits for it once instead, at its first PIT
 * access.  QEMU's equivalent is -global kvm-pit.lost_tick_policy=discard.
 */
static int pit__create(struct kvm *kvm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	struct kvm_reinject_control rc = { .pit_reinject = 0 };
	int ret;

	ret = x86__vm_ioctl(kvm, KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2");
	if (ret)
		return ret;
	if (ioctl(kvm->vm_fd, KVM_REINJECT_CONTROL, &rc))
		pr_debug("KVM_REINJECT_CONTROL: %s (PIT ticks stay reinjected)",
			 strerror(errno));
	return 0;
}

/*
 * Creates the PIT once.  True if it exists; false if creation failed, and
 * then @cpu's access goes to the port bus like any other.
 */
static bool pit__ensure(struct kvm_cpu *cpu, u16 port)
{
	struct kvm_arch *a = &cpu->kvm->arch;
	bool ok;

	pthread_mutex_lock(&a->pit_lock);
	if (a->pit_state == PIT_ABSENT) {
		pr_debug("vCPU %u: first access to port %#x: creating the PIT",
			 cpu->id, port);
		a->pit_state = pit__create(cpu->kvm) ? PIT_FAILED :
						       PIT_CREATED;
	}
	ok = a->pit_state == PIT_CREATED;
	pthread_mutex_unlock(&a->pit_lock);
	return ok;
}

static void pit__warn_lost(struct kvm_cpu *cpu, const struct pit_access *acc)
{
	static atomic_bool warned;

	if (!atomic_exchange_explicit(&warned, true, memory_order_relaxed))
		pr_warn("vCPU %u: a PIT access made before the PIT existed (%s port %#x, a string instruction or one not found at rip) reached no device",
			cpu->id, acc->in ? "in" : "out", acc->port);
}

/* KVM retires the pending access; it reached no device. */
static int pit__finish_access(struct kvm_cpu *cpu)
{
	int ret;

	WRITE_ONCE(cpu->run->immediate_exit, 1);
	ret = ioctl(cpu->fd, KVM_RUN, 0);
	WRITE_ONCE(cpu->run->immediate_exit, 0);
	/* --debug-single-step traps right after the retired instruction. */
	if (ret == 0 && cpu->run->exit_reason == KVM_EXIT_DEBUG)
		return 0;
	if (ret == 0) {
		/* Only a REP string access can need another exit. */
		pr_err("vCPU %u: KVM_RUN to finish a PIT access exited (reason %u)",
		       cpu->id, cpu->run->exit_reason);
		return -EIO;
	}
	if (errno != EINTR) {
		ret = -errno;
		pr_err("vCPU %u: KVM_RUN to finish a PIT access: %s", cpu->id,
		       strerror(errno));
		return ret;
	}
	return 0;
}

/*
 * Reads up to PIT_INSN_MAX bytes ending just before cs:@rip, newest
 * first.  Each byte is translated on its own: they may straddle a page
 * boundary.
 */
static unsigned int pit__read_tail(struct kvm_cpu *cpu,
				   const struct kvm_sregs *s, u64 rip,
				   u64 ip_mask, u8 *tail)
{
	unsigned int n;

	for (n = 0; n < PIT_INSN_MAX; n++) {
		struct kvm_translation tr = {
			.linear_address = s->cs.base + ((rip - n - 1) & ip_mask),
		};

		if (ioctl(cpu->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid ||
		    guest_mem_read(&cpu->kvm->mem, tr.physical_address,
				   &tail[n], 1))
			break;
	}
	return n;
}

/* Points RIP back at the retired IN/OUT; false if it cannot be found. */
static bool pit__rewind(struct kvm_cpu *cpu, struct pit_access *a)
{
	struct kvm_regs regs;
	struct kvm_sregs s;
	u8 tail[PIT_INSN_MAX];
	unsigned int n, len;
	bool long_mode;
	u64 ip_mask;

	if (ioctl(cpu->fd, KVM_GET_REGS, &regs) < 0 ||
	    ioctl(cpu->fd, KVM_GET_SREGS, &s) < 0) {
		pr_err("vCPU %u: reading registers: %s", cpu->id,
		       strerror(errno));
		return false;
	}
	long_mode = (s.efer & EFER_LMA) && s.cs.l;
	a->dx = regs.rdx & 0xffff;
	ip_mask = long_mode ? ~0ULL : s.cs.db ? 0xffffffffULL : 0xffffULL;
	n = pit__read_tail(cpu, &s, regs.rip, ip_mask, tail);
	len = pit__insn_len(a, tail, n);
	if (!len)
		return false;
	regs.rip = (regs.rip - len) & ip_mask;
	if (ioctl(cpu->fd, KVM_SET_REGS, &regs) < 0) {
		pr_err("vCPU %u: KVM_SET_REGS: %s", cpu->id, strerror(errno));
		return false;
	}
	return true;
}

bool pit__handle_io(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;
	/* Taken now: finishing the access may reuse the exit's fields. */
	struct pit_access a = {
		.port = run->io.port,
		.size = run->io.size,
		.in = run->io.direction == KVM_EXIT_IO_IN,
	};
	u32 count = run->io.count;

	/*
	 * KVM's PIT refuses wider accesses, which reach us even once it
	 * exists.  A byte access reaches us only if it was made before: a
	 * vCPU repeats at most one.  Anything else is the port bus's, so a
	 * PIT that KVM does not take an access to can never loop here.
	 */
	if (a.size != 1 || !pit__is_port(a.port) || cpu->arch.pit_replayed ||
	    !pit__ensure(cpu, a.port))
		return false;
	cpu->arch.pit_replayed = true;
	/* An unclaimed port reads as all ones, should the access stay lost. */
	if (a.in)
		memset((u8 *)run + run->io.data_offset, 0xff, count);
	if (pit__finish_access(cpu)) {
		kvm__request_stop(cpu->kvm, LKVM_EXIT_VMM_ERROR);
		return true;
	}
	if (count != 1 || !pit__rewind(cpu, &a))
		pit__warn_lost(cpu, &a);
	return true;
}

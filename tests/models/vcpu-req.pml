/*
 * The vCPU request/kick protocol: kvm/vcpu-req.c (vcpu_req_make(),
 * vcpu_req_enter_guest(), vcpu_req_exit_guest(), vcpu_req_take()) and
 * its caller kvm_cpu__request() in kvm/pause.c, the run loop in
 * kvm/kvm-cpu.c (kvm_cpu__thread).
 *
 * A requester makes NREQ requests one after the other, each time
 * waiting until the vCPU has taken it.  The vCPU loops: publish
 * IN_GUEST, full barrier, read the requests; if none, "KVM_RUN": the
 * kernel reads immediate_exit on entry and returns at once if it is
 * set, otherwise the vCPU sleeps (a halted guest) until a signal.
 * A lost kick is a state where the requester waits for a request the
 * vCPU never takes while the vCPU sleeps: pan reports it as an invalid
 * end state.
 *
 * Mutants (tests/models/README.md): NO_MB_MAKE drops the req_mb() in
 * vcpu_req_make(), NO_MB_ENTER the one in vcpu_req_enter_guest().
 * mutants: NO_MB_MAKE NO_MB_ENTER
 */
#define NPROC	2
#define NVAR	3
#define REQ	0	/* r->requests */
#define MODE	1	/* r->mode */
#define IMM	2	/* run->immediate_exit */

#define OUTSIDE_GUEST	0
#define IN_GUEST	1
#define EXITING		2

#define NREQ	2

#include "mm.pml"

bool sigpending;	/* SIGUSR1 sent to the vCPU thread, not yet taken */
byte taken;		/* requests the vCPU has taken (ghost) */

proctype requester()
{
	MM_LOCALS;
	int old;
	bool kick;
	byte n = 0;

	do
	:: n < NREQ ->
		/* vcpu_req_make(): release RMW, then req_mb() */
		SMP_WMB(0);
		RMW_OR(0, REQ, 1, old);
#ifndef NO_MB_MAKE
		SMP_MB(0);
#endif
		CMPXCHG(0, MODE, IN_GUEST, EXITING, kick);
		if
		:: kick ->
			/* kvm_cpu__request(): immediate_exit, then pthread_kill(),
			 * a system call: the store is visible before the signal. */
			STORE(0, IMM, 1);
			SMP_MB(0);
			sigpending = true
		:: else -> skip
		fi;
		/* kvm__pause() waits for the acknowledgement */
		taken > n;
		n++
	:: else -> break
	od
}

proctype vcpu()
{
	MM_LOCALS;
	int r, old, imm;

end:	do
	:: /* vcpu_req_enter_guest() */
		STORE(1, MODE, IN_GUEST);
#ifndef NO_MB_ENTER
		SMP_MB(1);
#endif
		LOAD(1, REQ, r);
		if
		:: r != 0 ->
			STORE(1, MODE, OUTSIDE_GUEST);
			/* kvm_cpu__handle_requests(): vcpu_req_take() */
			RMW_ANDNOT(1, REQ, 1, old);
			SMP_RMB(1);
			if
			:: old != 0 -> taken++
			:: else -> skip
			fi
		:: else ->
			/* KVM_RUN: immediate_exit is read on entry */
			LOAD(1, IMM, imm);
			if
			:: imm != 0 -> skip
			:: else ->
				/* in the guest until a signal arrives */
end_run:			sigpending;
			fi;
			sigpending = false;
			/* vcpu_req_exit_guest(); immediate_exit cleared */
			STORE(1, MODE, OUTSIDE_GUEST);
			STORE(1, IMM, 0)
		fi
	od
}

init {
	atomic {
		MM_START(0);
		MM_START(1);
		run requester();
		run vcpu()
	}
}

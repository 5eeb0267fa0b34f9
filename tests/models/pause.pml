/*
 * Pause, work items and resume on top of the vCPU request protocol:
 * kvm/pause.c kvm__pause(), kvm_cpu__run_work(), kvm__resume() on the
 * main thread against a vCPU running kvm/kvm-cpu.c's loop:
 * vcpu_req_enter_guest(), KVM_RUN, kvm_cpu__handle_requests(),
 * kvm_cpu__park(), kvm_cpu__do_work().
 *
 * The request bits, the vCPU's mode and immediate_exit live in mm.pml's
 * weak memory, with the barriers of kvm/vcpu-req.c (vcpu-req.pml proves
 * those).  pause_lock and what it guards (paused, parked, nr_parked,
 * work_fn, work_done) are plain variables: a pthread mutex is a full
 * barrier (lock and unlock are SMP_MB here).  A condition variable is a
 * set of "waiting" flags: pthread_cond_wait() sets the caller's and drops
 * the lock, a broadcast clears them all, and the waiter goes on once its
 * flag is clear and the lock is free.  No spurious wake-ups (they would
 * hide a lost one) and no timeouts: the KVM_PAUSE_WAIT_S deadlines are a
 * fall-back for a vCPU stuck outside the guest, which this model does not
 * have, so every wait here must end without them.
 *
 * The main thread pauses (one vCPU: "every vCPU" is that one), runs a
 * work item on the parked vCPU (lkvm debug --dump on a paused VM), then
 * resumes.  Checked: kvm__pause() returns only with the vCPU parked; the
 * vCPU never enters the guest between pause returning and resume
 * (assertions); the work item runs and the vCPU leaves park after the
 * resume (otherwise a thread is left blocked: an invalid end state).
 *
 * Mutant OLD_PARK_TAKE restores kvm_cpu__park() from before 89c8ccf:
 * run the item only if vcpu_req_take() returned the WORK bit.
 * run_work() wakes parked vCPUs (resume_cond) before it sets the bit; a
 * vCPU woken in between finds no bit, sleeps again, and the request
 * finds it outside the guest and sends no kick: both threads wait for
 * good.  This is a logic barrier, not a memory one.
 * mutants: OLD_PARK_TAKE
 */
#define NPROC	2
#define NVAR	3
#define REQ	0	/* cpu->req.requests */
#define MODE	1	/* cpu->req.mode */
#define IMM	2	/* cpu->run->immediate_exit */

#define OUTSIDE_GUEST	0
#define IN_GUEST	1
#define EXITING		2

#define R_PAUSE	1	/* VCPU_REQ_PAUSE */
#define R_WORK	2	/* VCPU_REQ_WORK */

#include "mm.pml"

/* pause_lock (holder + 1) and what it guards */
byte lk;
bool paused, parked, work_fn, work_done;
byte nr_parked;
bool wait_resume;	/* the vCPU waits on resume_cond */
bool wait_pause;	/* the main thread waits on pause_cond */

bool sigpending;	/* SIGUSR1 sent to the vCPU, not yet taken */
bool pause_done;	/* ghost: kvm__pause() returned, no resume yet */
bool work_ran;		/* ghost */

#define LOCK(t)		atomic { lk == 0 -> lk = t + 1 }; SMP_MB(t)
#define UNLOCK(t)	SMP_MB(t); lk = 0
/* pthread_cond_wait(): flag set and lock dropped at once */
#define COND_WAIT(t, flag)						\
	SMP_MB(t);							\
	atomic { flag = true; lk = 0 };					\
	atomic { !flag && lk == 0 -> lk = t + 1 };			\
	SMP_MB(t)
#define BROADCAST(flag)	flag = false

/* kvm_cpu__request() on the main thread (0): vcpu_req_make() + kick */
#define REQUEST(bit)							\
	SMP_WMB(0);							\
	RMW_OR(0, REQ, bit, old);					\
	SMP_MB(0);							\
	CMPXCHG(0, MODE, IN_GUEST, EXITING, kick);			\
	if								\
	:: kick -> STORE(0, IMM, 1); SMP_MB(0); sigpending = true	\
	:: else -> skip							\
	fi

/* kvm_cpu__do_work(), pause_lock held, on the vCPU (1) */
#define DO_WORK								\
	if								\
	:: work_fn && !work_done ->					\
		work_ran = true; work_done = true;			\
		BROADCAST(wait_pause)					\
	:: else -> skip							\
	fi

proctype main_thread()
{
	MM_LOCALS;
	int old;
	bool kick;

	/* kvm__pause() */
	LOCK(0);
	paused = true;
	UNLOCK(0);
	REQUEST(R_PAUSE);
	LOCK(0);
	do
	:: nr_parked < 1 -> COND_WAIT(0, wait_pause)
	:: else -> break
	od;
	UNLOCK(0);
	assert(parked);
	pause_done = true;

	/* kvm_cpu__run_work() on the parked vCPU */
	LOCK(0);
	work_fn = true;
	work_done = false;
	BROADCAST(wait_resume);
	UNLOCK(0);
	REQUEST(R_WORK);
	LOCK(0);
	do
	:: !work_done -> COND_WAIT(0, wait_pause)
	:: else -> break
	od;
	work_fn = false;
	UNLOCK(0);
	assert(work_ran);

	/* kvm__resume() */
	LOCK(0);
	pause_done = false;
	paused = false;
	BROADCAST(wait_resume);
	UNLOCK(0)
}

proctype vcpu()
{
	MM_LOCALS;
	int r, old, imm;

end:	do
	:: /* vcpu_req_enter_guest() */
		STORE(1, MODE, IN_GUEST);
		SMP_MB(1);
		LOAD(1, REQ, r);
		if
		:: r != 0 ->
			STORE(1, MODE, OUTSIDE_GUEST);
			/* kvm_cpu__handle_requests() */
			RMW_ANDNOT(1, REQ, R_WORK | R_PAUSE, old);
			SMP_RMB(1);
			if
			:: old & R_WORK -> LOCK(1); DO_WORK; UNLOCK(1)
			:: else -> skip
			fi;
			if
			:: old & R_PAUSE ->
				/* kvm_cpu__park() */
				LOCK(1);
				do
				:: paused ->
					if
					:: !parked ->
						parked = true;
						nr_parked++;
						BROADCAST(wait_pause)
					:: else -> skip
					fi;
					RMW_ANDNOT(1, REQ, R_WORK, old);
					SMP_RMB(1);
#ifdef OLD_PARK_TAKE
					if
					:: old & R_WORK -> DO_WORK
					:: else -> skip
					fi;
#else
					DO_WORK;
#endif
					COND_WAIT(1, wait_resume)
				:: else -> break
				od;
				if
				:: parked -> parked = false; nr_parked--
				:: else -> skip
				fi;
				UNLOCK(1)
			:: else -> skip
			fi
		:: else ->
			/* KVM_RUN: immediate_exit is read on entry */
			LOAD(1, IMM, imm);
			if
			:: imm != 0 -> skip
			:: else ->
				assert(!pause_done);
				/* in the guest (halted) until a signal */
end_run:			sigpending
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
		run main_thread();
		run vcpu()
	}
}

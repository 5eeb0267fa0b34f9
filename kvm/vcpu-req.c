// SPDX-License-Identifier: GPL-2.0
/*
 * The two halves of the vCPU request protocol (include/lkvm/vcpu-req.h).
 *
 * The race it closes is a store-buffer one: the requester stores the
 * request and then loads the mode; the vCPU stores the mode and then
 * loads the requests.  Without a full barrier on each side both loads
 * can return the old values (the stores still sitting in store
 * buffers): the requester skips the kick because the vCPU looks outside
 * the guest, the vCPU enters KVM_RUN because it sees no request, and
 * nothing ever makes it come out -- a pause that waits forever.
 *
 * The stress test builds this file again with a full barrier reduced to
 * a compiler barrier, to prove it can see the lost kick:
 * VCPU_REQ_TEST_NO_MB_ENTER the one in vcpu_req_enter_guest(),
 * VCPU_REQ_TEST_NO_FULL_BARRIER both.  Nothing else may define these.
 * The one in vcpu_req_make() follows a locked RMW, itself a full barrier
 * on x86, so no x86 run can show it needed: tests/models/vcpu-req.pml
 * does, for arm64's ordering.
 */
#include "lkvm/barrier.h"
#include "lkvm/vcpu-req.h"

#ifdef VCPU_REQ_TEST_NO_FULL_BARRIER
#define make_mb()	atomic_signal_fence(memory_order_seq_cst)
#else
#define make_mb()	smp_mb()
#endif
#if defined(VCPU_REQ_TEST_NO_FULL_BARRIER) || defined(VCPU_REQ_TEST_NO_MB_ENTER)
#define enter_mb()	atomic_signal_fence(memory_order_seq_cst)
#else
#define enter_mb()	smp_mb()
#endif

void vcpu_req_init(struct vcpu_req *r)
{
	atomic_init(&r->requests, 0);
	atomic_init(&r->mode, VCPU_OUTSIDE_GUEST);
}

bool vcpu_req_make(struct vcpu_req *r, unsigned int req)
{
	int in = VCPU_IN_GUEST;

	/*
	 * Release: whatever the requester wrote for the request (a work
	 * item, the pause generation) is visible to the vCPU that claims
	 * the bit with acquire in vcpu_req_take() (message passing).
	 */
	atomic_fetch_or_explicit(&r->requests, req, memory_order_release);
	/*
	 * Store-buffer pair with the enter_mb() in vcpu_req_enter_guest():
	 * the request store above is visible before the mode is read
	 * below.  The RMW alone does not order the later load of the mode
	 * (smp_mb__after_rmw).  Proved needed: tests/models/vcpu-req.pml,
	 * mutant NO_MB_MAKE.
	 */
	make_mb();
	/*
	 * Only the requester that moves the vCPU from IN_GUEST to EXITING
	 * kicks; one signal is enough for any number of requests.
	 */
	return atomic_compare_exchange_strong_explicit(&r->mode, &in,
						       VCPU_EXITING,
						       memory_order_relaxed,
						       memory_order_relaxed);
}

unsigned int vcpu_req_enter_guest(struct vcpu_req *r)
{
	unsigned int pending;

	atomic_store_explicit(&r->mode, VCPU_IN_GUEST, memory_order_relaxed);
	/*
	 * Store-buffer pair with the make_mb() in vcpu_req_make(): the mode
	 * store is visible before the requests are read, so a request the
	 * load below misses was made by a requester that will see
	 * IN_GUEST and kick.  Proved needed: tests/models/vcpu-req.pml,
	 * mutant NO_MB_ENTER; natively by tests/stress/vcpu-req.t.
	 */
	enter_mb();
	pending = atomic_load_explicit(&r->requests, memory_order_relaxed);
	if (pending)
		atomic_store_explicit(&r->mode, VCPU_OUTSIDE_GUEST,
				      memory_order_relaxed);
	return pending;
}

void vcpu_req_exit_guest(struct vcpu_req *r)
{
	/*
	 * Relaxed: a requester that still reads IN_GUEST kicks once more
	 * (a spurious immediate exit), one that reads OUTSIDE_GUEST relies
	 * on the vCPU's next vcpu_req_enter_guest(), which re-reads the
	 * requests after its own full barrier.
	 */
	atomic_store_explicit(&r->mode, VCPU_OUTSIDE_GUEST,
			      memory_order_relaxed);
}

unsigned int vcpu_req_take(struct vcpu_req *r, unsigned int mask)
{
	/* Acquire: pairs with the release RMW in vcpu_req_make(). */
	return atomic_fetch_and_explicit(&r->requests, ~mask,
					 memory_order_acquire) & mask;
}

unsigned int vcpu_req_pending(struct vcpu_req *r)
{
	/* Acquire, for the same pairing as vcpu_req_take(). */
	return atomic_load_explicit(&r->requests, memory_order_acquire);
}

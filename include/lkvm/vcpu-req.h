/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_VCPU_REQ_H
#define LKVM_VCPU_REQ_H

/*
 * Requests to a vCPU thread, after KVM's kvm_make_request() +
 * kvm_vcpu_kick(): another thread sets a request bit, then kicks the
 * vCPU out of KVM_RUN only if it is in (or about to enter) the guest.
 * The vCPU publishes that it is about to run before it looks at its
 * requests, so either it sees the request or the requester sees it
 * running and kicks it; the kick itself (immediate_exit, then a signal)
 * cannot be lost between that check and KVM_RUN.
 *
 * kvm/vcpu-req.c holds the two halves with their barriers; the stress
 * test tests/stress/vcpu-req.c runs them against each other.
 */
#include <stdatomic.h>
#include <stdbool.h>

enum vcpu_mode {
	VCPU_OUTSIDE_GUEST,	/* running lkvm code: will look at requests */
	VCPU_IN_GUEST,		/* about to enter, or in, KVM_RUN */
	VCPU_EXITING,		/* kicked: a signal is on its way */
};

#define VCPU_REQ_STOP	(1u << 0)	/* leave the run loop */
#define VCPU_REQ_PAUSE	(1u << 1)	/* park until resumed */
#define VCPU_REQ_WORK	(1u << 2)	/* run cpu->work on this thread */

struct vcpu_req {
	atomic_uint requests;
	atomic_int mode;
};

void vcpu_req_init(struct vcpu_req *r);

/*
 * Requester: sets @req; returns true when the vCPU must be kicked (it
 * was in the guest and nobody kicked it yet).  The caller then sets
 * immediate_exit and signals the thread.
 */
bool vcpu_req_make(struct vcpu_req *r, unsigned int req);

/*
 * vCPU, before KVM_RUN: publishes IN_GUEST, then returns the requests
 * pending.  Non-zero: the mode is back to OUTSIDE_GUEST; handle them
 * (vcpu_req_take()) instead of running.
 */
unsigned int vcpu_req_enter_guest(struct vcpu_req *r);
/* vCPU, after KVM_RUN returned. */
void vcpu_req_exit_guest(struct vcpu_req *r);
/* vCPU: claims @mask's pending requests, returns those that were set. */
unsigned int vcpu_req_take(struct vcpu_req *r, unsigned int mask);
unsigned int vcpu_req_pending(struct vcpu_req *r);

#endif

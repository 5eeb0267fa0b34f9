// SPDX-License-Identifier: GPL-2.0
/*
 * Stress test of the vCPU request/kick protocol (kvm/vcpu-req.c), linked
 * against the real code, with KVM_RUN stood in for by what matters here:
 * it returns at once if immediate_exit is set, and otherwise sleeps until
 * a signal arrives -- a guest halted in HLT that only a kick brings out.
 *
 * A requester thread makes a request, kicks only when vcpu_req_make()
 * says so (immediate_exit, then SIGUSR1, as kvm/pause.c does), and waits
 * for the vCPU thread to acknowledge it; the vCPU acknowledges, re-enters
 * "KVM_RUN", and the next request races with that entry.  A request
 * that goes unanswered for seconds is a lost kick: the vCPU saw no
 * request and the requester saw no vCPU in the guest.
 *
 * usage: vcpu-req N   (exit 0: N requests, none lost; 1: a kick was lost)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lkvm/vcpu-req.h"

#define LOST_AFTER_S	5

static struct vcpu_req req;
static atomic_int immediate_exit;
static atomic_ulong acked;		/* requests the vCPU has handled */
static atomic_bool done;
static pthread_t vcpu_thread;

static void on_kick(int sig)
{
	(void)sig;
}

static unsigned int rnd(unsigned int *seed, unsigned int n)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) % n;
}

static void spin(unsigned int n)
{
	for (volatile unsigned int i = 0; i < n; i++)
		;
}

/* KVM_RUN: immediate_exit or a pending signal ends it, nothing else. */
static void fake_kvm_run(const sigset_t *run_mask)
{
	struct timespec forever = { .tv_sec = 3600 };

	if (atomic_load_explicit(&immediate_exit, memory_order_relaxed))
		return;
	/* SIGUSR1 is blocked outside "the guest", as a pending kick would
	 * be while KVM checks for signals on entry. */
	pselect(0, NULL, NULL, NULL, &forever, run_mask);
}

static void *vcpu(void *arg)
{
	const sigset_t *run_mask = arg;
	unsigned int seed = 2;

	while (!atomic_load(&done)) {
		unsigned int pending = vcpu_req_enter_guest(&req);

		if (pending) {
			if (vcpu_req_take(&req, VCPU_REQ_PAUSE))
				atomic_fetch_add_explicit(&acked, 1,
							  memory_order_release);
			continue;
		}
		fake_kvm_run(run_mask);
		vcpu_req_exit_guest(&req);
		atomic_store_explicit(&immediate_exit, 0,
				      memory_order_relaxed);
		spin(rnd(&seed, 64));
	}
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 100000;
	struct sigaction sa = { .sa_handler = on_kick };
	unsigned long kicks = 0;
	sigset_t block, run_mask;
	unsigned int seed = 1;
	double t0 = now();

	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &block, &run_mask);
	sigdelset(&run_mask, SIGUSR1);
	vcpu_req_init(&req);
	pthread_create(&vcpu_thread, NULL, vcpu, &run_mask);

	for (unsigned long i = 0; i < n; i++) {
		double start;

		spin(rnd(&seed, 64));
		if (vcpu_req_make(&req, VCPU_REQ_PAUSE)) {
			kicks++;
			atomic_store_explicit(&immediate_exit, 1,
					      memory_order_relaxed);
			pthread_kill(vcpu_thread, SIGUSR1);
		}
		start = now();
		while (atomic_load_explicit(&acked, memory_order_acquire) <= i) {
			if (now() - start > LOST_AFTER_S) {
				printf("lost kick: request %lu of %lu unanswered for %d s (%lu kicks sent)\n",
				       i + 1, n, LOST_AFTER_S, kicks);
				return 1;
			}
		}
	}
	atomic_store(&done, true);
	vcpu_req_make(&req, VCPU_REQ_STOP);
	atomic_store(&immediate_exit, 1);
	pthread_kill(vcpu_thread, SIGUSR1);
	pthread_join(vcpu_thread, NULL);
	printf("%lu requests, %lu kicks, none lost, %.1f s\n", n, kicks,
	       now() - t0);
	return 0;
}

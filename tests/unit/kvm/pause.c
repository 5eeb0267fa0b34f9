// SPDX-License-Identifier: GPL-2.0
/*
 * kvm/pause.c without KVM: vCPU threads run the real request loop
 * (vcpu_req_enter_guest(), kvm_cpu__handle_requests()) around a stand-in
 * KVM_RUN that returns at once on immediate_exit and otherwise sleeps
 * until a signal, as a halted guest would.  Checks that pause parks every
 * vCPU and resume frees them, that work items run on parked and running
 * vCPUs alike (a lost wake-up there hung the main thread: found in
 * review), that a stop gets parked vCPUs out, and that a vCPU which never
 * parks makes pause fail after its wait instead of hanging.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "lkvm/barrier.h"
#include "lkvm/control.h"
#include "lkvm/kvm.h"
#include "tap.h"

#define NR_CPUS	2

static struct kvm kvm;
static struct kvm_cpu cpus[NR_CPUS], *cpu_ptrs[NR_CPUS];
static struct kvm_run runs[NR_CPUS];
static atomic_ulong guest_entries[NR_CPUS];
static atomic_bool stuck;	/* vCPU 1 blocks outside the guest */

static void on_kick(int sig __unused)
{
}

static void *vcpu_thread(void *arg)
{
	struct kvm_cpu *cpu = arg;
	sigset_t run_mask;

	pthread_sigmask(SIG_BLOCK, NULL, &run_mask);
	sigdelset(&run_mask, SIGUSR1);
	kvm_cpu__park(cpu);
	while (!kvm__stopping(&kvm)) {
		if (vcpu_req_enter_guest(&cpu->req)) {
			if (!kvm_cpu__handle_requests(cpu))
				break;
			continue;
		}
		atomic_fetch_add(&guest_entries[cpu->id], 1);
		if (!READ_ONCE(cpu->run->immediate_exit)) {
			struct timespec t = { .tv_sec = 3600 };

			pselect(0, NULL, NULL, NULL, &t, &run_mask);
		}
		vcpu_req_exit_guest(&cpu->req);
		WRITE_ONCE(cpu->run->immediate_exit, 0);
		/* An exit handler that never returns in time. */
		while (cpu->id == 1 && atomic_load(&stuck) &&
		       !kvm__stopping(&kvm))
			usleep(1000);
	}
	kvm_cpu__gone(cpu);
	return NULL;
}

static void count_work(struct kvm_cpu *cpu __unused, void *arg)
{
	++*(unsigned long *)arg;
}

static void whoami(struct kvm_cpu *cpu, void *arg)
{
	*(pthread_t *)arg = pthread_self();
	(void)cpu;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_kick };
	unsigned long done = 0, n, entries;
	sigset_t block;
	pthread_t who;
	int ret = 0;

	tap_plan(13);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &block, NULL);

	pthread_mutex_init(&kvm.stop_lock, NULL);
	pthread_mutex_init(&kvm.pause_lock, NULL);
	pthread_cond_init(&kvm.pause_cond, NULL);
	pthread_cond_init(&kvm.resume_cond, NULL);
	evloop_init(&kvm.loop);
	kvm.nr_cpus = NR_CPUS;
	kvm.cpus = cpu_ptrs;
	for (unsigned int i = 0; i < NR_CPUS; i++) {
		cpus[i].kvm = &kvm;
		cpus[i].id = i;
		cpus[i].run = &runs[i];
		vcpu_req_init(&cpus[i].req);
		cpu_ptrs[i] = &cpus[i];
		pthread_create(&cpus[i].thread, NULL, vcpu_thread, &cpus[i]);
		cpus[i].thread_started = true;
	}

	/* Running vCPUs: work items come back from the right thread. */
	ok(kvm_cpu__run_work(&cpus[1], whoami, &who) == 0 &&
	   pthread_equal(who, cpus[1].thread), "a work item runs on its vCPU's own thread");
	for (n = 0; n < 2000 && !ret; n++)
		ret = kvm_cpu__run_work(&cpus[n % NR_CPUS], count_work, &done);
	is_int(done, 2000, "2000 work items on running vCPUs, none lost");

	is_int(kvm__pause(&kvm), 0, "pause");
	ok(kvm__paused(&kvm) && kvm.nr_parked == NR_CPUS, "every vCPU parked");
	entries = atomic_load(&guest_entries[0]) + atomic_load(&guest_entries[1]);
	usleep(100 * 1000);
	is_int(atomic_load(&guest_entries[0]) + atomic_load(&guest_entries[1]),
	       entries, "paused: no vCPU enters the guest");
	done = 0;
	for (n = 0, ret = 0; n < 20000 && !ret; n++)
		ret = kvm_cpu__run_work(&cpus[n % NR_CPUS], count_work, &done);
	is_int(done, 20000, "20000 work items on parked vCPUs, none lost");
	is_int(kvm__pause(&kvm), 0, "pausing a paused VM is a no-op");

	is_int(kvm__resume(&kvm), 0, "resume");
	for (n = 0; n < 10000 && atomic_load(&guest_entries[0]) +
		atomic_load(&guest_entries[1]) == entries; n++)
		usleep(1000);
	ok(atomic_load(&guest_entries[0]) + atomic_load(&guest_entries[1]) >
	   entries, "resumed: the vCPUs enter the guest again");

	/* Pause and resume back to back, many times. */
	for (n = 0, ret = 0; n < 2000 && !ret; n++) {
		ret = kvm__pause(&kvm);
		if (!ret)
			ret = kvm__resume(&kvm);
	}
	is_int(ret, 0, "2000 pause/resume cycles");

	/* A vCPU stuck outside the guest: pause gives up, the VM runs on. */
	atomic_store(&stuck, true);
	kvm_cpu__request(&cpus[1], VCPU_REQ_WORK);	/* make it exit once */
	usleep(100 * 1000);
	is_int(kvm__pause(&kvm), -ETIMEDOUT, "a vCPU that never parks: pause fails after its wait");
	ok(!kvm__paused(&kvm), "... and the VM is left running");
	atomic_store(&stuck, false);

	/* A stop frees parked vCPUs. */
	kvm__pause(&kvm);
	kvm__request_stop(&kvm, 0);
	kvm_cpu__stop_all(&kvm);
	ok(kvm.nr_gone == NR_CPUS, "a stop while paused ends every vCPU thread");
	return tap_done();
}

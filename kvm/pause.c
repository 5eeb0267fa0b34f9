// SPDX-License-Identifier: GPL-2.0
/*
 * Pause and resume, and the vCPU side of requests: parking a vCPU,
 * running a work item on its thread (register dumps, NMIs), and the
 * kick that gets it out of KVM_RUN to do either.
 *
 * Order of a pause: vCPUs first, so none is left inside a device's
 * register handler waiting for a lock a paused device holds; then each
 * virtio device finishes what it has in flight and stops taking chains.
 * A resume undoes it in reverse.  Interrupts are never held back: a
 * device's last completions before the pause raise theirs at once, and
 * KVM keeps an irqfd or line raised while no vCPU runs pending in the
 * irqchip until a vCPU enters the guest again.
 */
#include <errno.h>
#include <signal.h>
#include <time.h>

#include "lkvm/barrier.h"
#include "lkvm/control.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/virtio.h"

/*
 * How long the main thread waits for vCPUs.  A vCPU parks within one
 * exit; one that does not is stuck outside the guest (say, writing the
 * console to a stdout nobody reads), and the main thread must not hang
 * with it: the control socket and signals run there.
 */
#define KVM_PAUSE_WAIT_S	10

/* Waits on pause_cond (pause_lock held) until @deadline; false: timed out. */
static bool kvm__pause_wait(struct kvm *kvm, const struct timespec *deadline)
{
	return pthread_cond_timedwait(&kvm->pause_cond, &kvm->pause_lock,
				      deadline) != ETIMEDOUT;
}

static void kvm__pause_deadline(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += KVM_PAUSE_WAIT_S;
}

void kvm_cpu__request(struct kvm_cpu *cpu, unsigned int req)
{
	if (!vcpu_req_make(&cpu->req, req))
		return;
	/*
	 * The vCPU was in, or about to enter, KVM_RUN.  immediate_exit
	 * makes a KVM_RUN that has not started yet return at once; the
	 * signal interrupts one that has.  pthread_kill() is a system call
	 * made after the store, so the store is visible to the kernel's
	 * read of the field on entry.
	 */
	WRITE_ONCE(cpu->run->immediate_exit, 1);
	pthread_kill(cpu->thread, SIGUSR1);
}

/* Under pause_lock, on the vCPU thread. */
static void kvm_cpu__do_work(struct kvm_cpu *cpu)
{
	if (!cpu->work_fn || cpu->work_done)
		return;
	cpu->work_fn(cpu, cpu->work_arg);
	cpu->work_done = true;
	pthread_cond_broadcast(&cpu->kvm->pause_cond);
}

/* Parks the vCPU while the VM is paused, doing work items meanwhile. */
void kvm_cpu__park(struct kvm_cpu *cpu)
{
	struct kvm *kvm = cpu->kvm;

	pthread_mutex_lock(&kvm->pause_lock);
	while (kvm->paused && !kvm__stopping(kvm)) {
		if (!cpu->parked) {
			cpu->parked = true;
			kvm->nr_parked++;
			pthread_cond_broadcast(&kvm->pause_cond);
		}
		/*
		 * The item, not only the bit: run_work() wakes parked vCPUs
		 * before it sets the bit, and one woken then must not miss
		 * the item and sleep again (nothing would wake it).  Proved
		 * needed: tests/models/pause.pml, mutant OLD_PARK_TAKE.
		 */
		vcpu_req_take(&cpu->req, VCPU_REQ_WORK);
		kvm_cpu__do_work(cpu);
		if (vcpu_req_pending(&cpu->req) & VCPU_REQ_STOP)
			break;
		pthread_cond_wait(&kvm->resume_cond, &kvm->pause_lock);
	}
	if (cpu->parked) {
		cpu->parked = false;
		kvm->nr_parked--;
	}
	pthread_mutex_unlock(&kvm->pause_lock);
}

bool kvm_cpu__handle_requests(struct kvm_cpu *cpu)
{
	struct kvm *kvm = cpu->kvm;
	unsigned int req;

	req = vcpu_req_take(&cpu->req, VCPU_REQ_WORK | VCPU_REQ_PAUSE);
	if (req & VCPU_REQ_WORK) {
		pthread_mutex_lock(&kvm->pause_lock);
		kvm_cpu__do_work(cpu);
		pthread_mutex_unlock(&kvm->pause_lock);
	}
	if (req & VCPU_REQ_PAUSE)
		kvm_cpu__park(cpu);
	/* STOP stays set: every later vcpu_req_enter_guest() sees it. */
	return !(vcpu_req_pending(&cpu->req) & VCPU_REQ_STOP) &&
	       !kvm__stopping(kvm);
}

void kvm_cpu__gone(struct kvm_cpu *cpu)
{
	struct kvm *kvm = cpu->kvm;

	pthread_mutex_lock(&kvm->pause_lock);
	cpu->gone = true;
	kvm->nr_gone++;
	pthread_cond_broadcast(&kvm->pause_cond);
	pthread_mutex_unlock(&kvm->pause_lock);
}

int kvm_cpu__run_work(struct kvm_cpu *cpu,
		      void (*fn)(struct kvm_cpu *cpu, void *arg), void *arg)
{
	struct kvm *kvm = cpu->kvm;
	struct timespec deadline;
	int ret = 0;

	if (!cpu->thread_started)
		return -ESRCH;
	pthread_mutex_lock(&kvm->pause_lock);
	if (cpu->gone || cpu->work_fn) {
		/* Gone, or another item is still queued (one caller: busy). */
		ret = cpu->gone ? -ESRCH : -EBUSY;
		goto out;
	}
	cpu->work_fn = fn;
	cpu->work_arg = arg;
	cpu->work_done = false;
	/* A parked vCPU waits on resume_cond, not in KVM_RUN. */
	pthread_cond_broadcast(&kvm->resume_cond);
	pthread_mutex_unlock(&kvm->pause_lock);
	/*
	 * Outside pause_lock: the request's release RMW publishes work_fn
	 * to a vCPU that takes the bit without the lock (it takes the lock
	 * to run the item anyway).
	 */
	kvm_cpu__request(cpu, VCPU_REQ_WORK);
	kvm__pause_deadline(&deadline);
	pthread_mutex_lock(&kvm->pause_lock);
	while (!cpu->work_done && !cpu->gone && !kvm__stopping(kvm))
		if (!kvm__pause_wait(kvm, &deadline))
			break;
	ret = cpu->work_done ? 0 :
	      cpu->gone || kvm__stopping(kvm) ? -ESHUTDOWN : -ETIMEDOUT;
	/*
	 * A timed-out item is withdrawn: the vCPU runs an item only while
	 * work_fn is set and not done, both read under pause_lock.
	 */
	cpu->work_fn = NULL;
out:
	pthread_mutex_unlock(&kvm->pause_lock);
	return ret;
}

bool kvm__paused(struct kvm *kvm)
{
	bool paused;

	pthread_mutex_lock(&kvm->pause_lock);
	paused = kvm->paused;
	pthread_mutex_unlock(&kvm->pause_lock);
	return paused;
}

int kvm__pause(struct kvm *kvm)
{
	struct timespec deadline;
	unsigned int started = 0;
	bool parked = true;

	pthread_mutex_lock(&kvm->pause_lock);
	if (kvm->paused) {
		pthread_mutex_unlock(&kvm->pause_lock);
		return 0;
	}
	kvm->paused = true;
	pthread_mutex_unlock(&kvm->pause_lock);

	for (unsigned int i = 0; i < kvm->nr_cpus; i++) {
		if (!kvm->cpus[i]->thread_started)
			continue;
		started++;
		kvm_cpu__request(kvm->cpus[i], VCPU_REQ_PAUSE);
	}
	/* Every vCPU acknowledges by parking (or has left its loop). */
	kvm__pause_deadline(&deadline);
	pthread_mutex_lock(&kvm->pause_lock);
	while (kvm->nr_parked + kvm->nr_gone < started && !kvm__stopping(kvm))
		if (!kvm__pause_wait(kvm, &deadline)) {
			parked = false;
			break;
		}
	if (!parked && !kvm__stopping(kvm)) {
		/* Undo: the parked ones run again, the late ones never park. */
		kvm->paused = false;
		pthread_cond_broadcast(&kvm->resume_cond);
		pthread_mutex_unlock(&kvm->pause_lock);
		pr_warn("pause: a vCPU did not stop within %d s; the VM keeps running",
			KVM_PAUSE_WAIT_S);
		return -ETIMEDOUT;
	}
	pthread_mutex_unlock(&kvm->pause_lock);
	if (kvm__stopping(kvm))
		return -ESHUTDOWN;
	for (unsigned int i = 0; i < kvm->nr_vdevs; i++)
		virtio_device_pause(kvm->vdevs[i]);
	return 0;
}

int kvm__resume(struct kvm *kvm)
{
	pthread_mutex_lock(&kvm->pause_lock);
	if (!kvm->paused) {
		pthread_mutex_unlock(&kvm->pause_lock);
		return 0;
	}
	pthread_mutex_unlock(&kvm->pause_lock);
	for (unsigned int i = kvm->nr_vdevs; i-- > 0;)
		virtio_device_resume(kvm->vdevs[i]);
	pthread_mutex_lock(&kvm->pause_lock);
	kvm->paused = false;
	pthread_cond_broadcast(&kvm->resume_cond);
	pthread_mutex_unlock(&kvm->pause_lock);
	return 0;
}

/* Wakes whoever waits in this file: the VM is stopping. */
void kvm__pause_wake_all(struct kvm *kvm)
{
	pthread_mutex_lock(&kvm->pause_lock);
	pthread_cond_broadcast(&kvm->pause_cond);
	pthread_cond_broadcast(&kvm->resume_cond);
	pthread_mutex_unlock(&kvm->pause_lock);
}

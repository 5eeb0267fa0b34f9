/*
 * Stalling a queue for backend room: virtio/queue.c virtio_queue_stall()
 * on the queue's thread against virtio_queue_complete() ->
 * virtio_release_stalled() on a backend worker, and the resume hand-off
 * through q->resume and done_fd to virtio_queue__on_done() ->
 * virtio_queue_run().
 *
 * The queue thread (Q) runs virtio_queue_run(q, kicked): begin notes
 * vdev->completions (virtio_queue_begin()), handle_queue looks for
 * backend room and, finding none, calls virtio_queue_stall(): set the
 * queue's bit in vdev->stalled (relaxed RMW), smp_mb__after_rmw(), read
 * vdev->completions; unchanged -> go idle until done_fd says something.
 * The worker (W) frees the room, files the completion on the done list
 * (done_lock, then a "done" eventfd write), then virtio_release_stalled():
 * completions++ (relaxed RMW), smp_mb__after_rmw(), read vdev->stalled;
 * set -> take the mask (xchg), q->resume = true, "resume" eventfd write.
 *
 * The two fences make a store-buffer pair: without either, Q can read
 * the old count while W reads no stall bit, and Q sleeps with the room
 * free and nobody to wake it: pan reports Q blocked at its idle wait
 * (an invalid end state).  A "done" wake-up alone does not help: it
 * runs virtio_queue_run(q, false), which re-runs handle_queue only if
 * q->resume was set.
 *
 * Modelling: the backend's room is a plain ghost (it is under the
 * backend's own lock in the devices), the eventfd a ghost counter whose
 * write is a system call (the writer's stores are visible before it,
 * modelled as smp_mb) and whose read clears it.  The seq_cst
 * atomic_store/atomic_exchange of q->resume and vdev->stalled are RMWs
 * or stores followed by smp_mb, as on arm64 (stlr + the syscall after).
 * The store of q->resume is modelled as an XCHG: mm.pml keeps an RMW
 * atomic only against other RMWs, and a plain STORE could otherwise land
 * between the read and the buffered write of the queue thread's
 * atomic_exchange() (which C11 coherence forbids).
 * One queue, one completion: the race needs no more.
 *
 * Not modelled: a completion made while holding every queue's lock (the
 * device thread of a device without queue threads, inside its callbacks)
 * counts in vdev->completions_locked with a plain load and store and no
 * fence.  virtio_queue_stall() runs under its queue's lock, so the two
 * cannot overlap and the lock orders them; there is no race to model.
 * tests/unit/virtio/core-inflight.c (case_stall) checks that such a completion
 * still resumes a stalled queue.
 *
 * Mutants (tests/models/README.md): NO_MB_STALL drops the
 * smp_mb__after_rmw() in virtio_queue_stall(), NO_MB_RELEASE the one in
 * virtio_release_stalled().
 * mutants: NO_MB_STALL NO_MB_RELEASE
 */
#define NPROC	2
#define NVAR	3
#define STALLED	0	/* vdev->stalled (one queue: bit 0) */
#define COMPL	1	/* vdev->completions */
#define RESUME	2	/* q->resume */

#include "mm.pml"

bool room;		/* backend room (ghost, sequentially consistent) */
byte done_fd;		/* q->done_fd's eventfd counter */
bool served;		/* the queued request went to the backend (ghost) */

proctype queue()
{
	MM_LOCALS;
	int ec, c, old;
	bool kicked = true;

	do
	:: kicked ->
		/* virtio_queue_begin() */
		LOAD(0, COMPL, ec);
		/* handle_queue: room for the request? */
		if
		:: room -> served = true; break
		:: else ->
			/* virtio_queue_stall() */
			RMW_OR(0, STALLED, 1, old);
#ifndef NO_MB_STALL
			SMP_MB(0);
#endif
			LOAD(0, COMPL, c);
			if
			:: c != ec ->
				RMW_ANDNOT(0, STALLED, 1, old);
				if
				:: old & 1 ->
					XCHG(0, RESUME, 1, old);
					SMP_MB(0);
					done_fd++
				:: else -> skip
				fi
			:: else -> skip
			fi
		fi;
		kicked = false
	:: !kicked ->
		/* idle in the event loop: virtio_queue__on_done() */
		atomic { done_fd > 0 -> done_fd = 0 };
		SMP_MB(0);
		/* virtio_queue_run(q, false): the resume flag makes it a kick */
		XCHG(0, RESUME, 0, old);
		SMP_MB(0);
		kicked = (old != 0)
	od
}

proctype worker()
{
	MM_LOCALS;
	int old, st;

	/* the backend finishes a request: room again */
	room = true;
	/* virtio_queue_complete(): done list, then the "done" wake-up */
	SMP_MB(1);
	done_fd++;
	/* virtio_release_stalled() */
	RMW_ADD(1, COMPL, 1, old);
#ifndef NO_MB_RELEASE
	SMP_MB(1);
#endif
	LOAD(1, STALLED, st);
	if
	:: st != 0 ->
		XCHG(1, STALLED, 0, st);
		SMP_MB(1);
		if
		:: st & 1 ->
			XCHG(1, RESUME, 1, st);
			SMP_MB(1);
			done_fd++
		:: else -> skip
		fi
	:: else -> skip
	fi
}

init {
	atomic {
		MM_START(0);
		MM_START(1);
		run queue();
		run worker()
	}
}

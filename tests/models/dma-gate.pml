/*
 * DMA gates and reset against an in-flight kick and an in-flight
 * completion: virtio/core.c virtio_set_dma_gate() (bus mastering,
 * virtio_set_dma_enabled(), and the pause gate, virtio_device_pause()/
 * virtio_device_resume()) and virtio_reset(), against
 * - a kick: the driver's ioeventfd -> virtio_queue__on_kick() ->
 *   virtio_queue_run(q, true) under the queue lock -> handle_queue pops
 *   the chain and hands it to the backend;
 * - a completion from the backend's worker thread:
 *   virtio_queue_complete() (not holding the queue) -> done list under
 *   done_lock -> done_fd -> virtio_queue__on_done() ->
 *   virtio_queue_flush_done() -> virtio_queue_publish().
 *
 * Every shared variable here is read and written under a lock (vdev->
 * lock, the queue lock, done_lock) or is a kernel eventfd counter, and
 * a pthread mutex is a full barrier: the model needs no weak memory, and
 * its lock variables only serialise.  One queue, one buffer, one
 * control-plane script chosen at the start (bus mastering off/on, pause
 * with bus mastering toggled inside it, a reset, or bus mastering off
 * then a reset then on).
 *
 * Checked:
 * - no completion reaches the used ring while DMA is off or paused, nor
 *   one of an old ring mapping (map_gen) (assertions in publish);
 * - closing a gate leaves nothing behind: once it is closed with the
 *   driver live, no request is in flight and the done list is empty:
 *   everything done was published while that still could happen
 *   (assertion);
 * - the driver sees its buffer used unless a reset dropped it: the
 *   driver waits for it, so a lost kick or completion leaves it blocked
 *   (an invalid end state).
 *
 * Mutants (logic barriers, not memory ones; tests/models/README.md):
 * NO_REWAKE drops the wake-up of every enabled queue when DMA comes back
 * on: a kick taken while DMA was off was dropped (the queue was not
 * runnable, and nothing remembers it), so the buffer is never served.
 * NO_FLUSH_OFF drops virtio_queues__flush() when a gate closes: the
 * completion the quiesce waited for stays on the done list behind the
 * closed gate.
 * mutants: NO_REWAKE NO_FLUSH_OFF
 */

/* locks: 0 free, else holder */
byte qlock, done_lock;

/* device state (queue lock, or every lock to change it) */
bool dma_enabled = true, paused;
bool live = true;	/* DRIVER_OK, not broken, ring mapped, enabled */
byte map_gen;		/* q->ring.map_gen */
bool irq_owed;

/* the backend's one request */
bool inflight;
byte req_gen;

/* done list (done_lock): one entry is enough for one buffer */
byte nr_done, done_gen;

/* eventfd counters */
byte kick_fd, done_fd;

/* the ring, as the driver sees it */
byte avail, popped, used;
bool reset_done;	/* ghost: the driver reset the device */

#define ALLOWED		(dma_enabled && !paused)
#define LOCK(l, me)	atomic { l == 0 -> l = me }
#define UNLOCK(l)	l = 0

/* virtio_queue_publish(), queue lock held */
#define PUBLISH(gen)							\
	if								\
	:: live && gen == map_gen ->					\
		assert(ALLOWED);					\
		used++;							\
		irq_owed = true						\
	:: else -> skip							\
	fi

/* virtio_queue_flush_done(), queue lock held */
#define FLUSH_DONE(me)							\
	if								\
	:: ALLOWED ->							\
		LOCK(done_lock, me);					\
		if							\
		:: nr_done > 0 -> PUBLISH(done_gen); nr_done = 0	\
		:: else -> skip						\
		fi;							\
		UNLOCK(done_lock)					\
	:: else -> skip							\
	fi

/* virtio_queue_run(q, kicked) on the queue's thread (1) */
#define QUEUE_RUN(kicked)						\
	LOCK(qlock, 1);							\
	FLUSH_DONE(1);							\
	if								\
	:: kicked && live && ALLOWED ->					\
		/* handle_queue: pop the chain, hand it to the backend */ \
		if							\
		:: avail > popped ->					\
			popped++; req_gen = map_gen; inflight = true	\
		:: else -> skip						\
		fi							\
	:: else -> skip							\
	fi;								\
	/* virtio_queue_interrupt() (delivery: irqfd.pml) */		\
	irq_owed = false;						\
	UNLOCK(qlock)

proctype queue_thread()
{
end:	do
	:: atomic { kick_fd > 0 -> kick_fd = 0 };	/* on_kick */
		QUEUE_RUN(true)
	:: atomic { done_fd > 0 -> done_fd = 0 };	/* on_done */
		QUEUE_RUN(false)
	od
}

proctype worker()
{
	byte gen;

	/* the backend finishes the request */
end:	inflight;
	gen = req_gen;
	/* virtio_queue_complete(), not holding the queue */
	LOCK(done_lock, 2);
	nr_done = 1;
	done_gen = gen;
	UNLOCK(done_lock);
	done_fd++;
	inflight = false
}

/*
 * virtio_set_dma_gate(): vdev->lock held (only this thread takes it
 * here); the queue lock for the change.  pause: which gate.
 */
inline gate(pause, open)
{
	was = ALLOWED;
	if
	:: (pause && paused == !open) || (!pause && dma_enabled == open) ->
		skip
	:: else ->
		LOCK(qlock, 3);
		if
		:: !open && was ->
			/* ops->quiesce (DRIVER_OK only): the backend finishes */
			if
			:: live -> !inflight
			:: else -> skip
			fi;
#ifndef NO_FLUSH_OFF
			/* virtio_queues__flush() */
			FLUSH_DONE(3);
			irq_owed = false;
#endif
			skip
		:: else -> skip
		fi;
		if
		:: pause -> paused = !open
		:: else -> dma_enabled = open
		fi;
		if
		:: !open && was -> assert(!live || (!inflight && nr_done == 0))
		:: open && ALLOWED ->
			FLUSH_DONE(3);
			irq_owed = false;
#ifndef NO_REWAKE
			/* virtio_queue_wake() on every enabled queue */
			if
			:: live -> kick_fd++
			:: else -> skip
			fi;
#endif
			skip
		:: else -> skip
		fi;
		UNLOCK(qlock)
	fi
}

/* virtio_reset(): every lock held */
inline reset()
{
	LOCK(qlock, 3);
	live = false;
	map_gen++;		/* vring_unmap() */
	irq_owed = false;
	LOCK(done_lock, 3);	/* virtio_queues__reset() */
	nr_done = 0;
	UNLOCK(done_lock);
	reset_done = true;
	UNLOCK(qlock)
}

proctype control()
{
	bool was;

	if
	:: gate(false, false); gate(false, true)
	:: gate(true, false); gate(false, false); gate(true, true);
	   gate(false, true)
	:: reset()
	:: gate(false, false); reset(); gate(false, true)
	fi
}

proctype driver()
{
	/* adds a buffer and kicks (an ioeventfd write) */
	avail = 1;
	kick_fd++;
	/* waits until it is used, unless it reset the device */
	used > 0 || reset_done
}

init {
	atomic {
		run queue_thread();
		run worker();
		run control();
		run driver()
	}
}

/*
 * Used-ring publish and interrupt suppression, device against driver.
 *
 * Device (thread 0), from the code: virtio/vring.c vring_push() (the
 * used element, smp_wmb(), used->idx) and vring_need_interrupt() (the
 * signalled_used window, vring_full_barrier(), then avail->flags or
 * used_event), as called by virtio/queue.c virtio_queue_flush_done() ->
 * virtio_queue_publish() and virtio_queue_interrupt().  The interrupt
 * itself (irqfd write, a system call) is a full barrier, then "irq";
 * the driver's taking it (interrupt entry) is an acquire.
 *
 * Driver (thread 1), Linux's drivers/virtio/virtio_ring.c split ring, as
 * a virtio_blk-style done loop: the interrupt callback runs
 * virtqueue_disable_cb() (flags: sets NO_INTERRUPT; EVENT_IDX: leaves
 * used_event behind), drains with virtqueue_get_buf() (used->idx,
 * virtio_rmb(), the used element), then re-enables either with
 * virtqueue_enable_cb_prepare() (clears NO_INTERRUPT / writes used_event
 * = last_used_idx, no barrier) + virtqueue_poll() (virtio_mb(), re-read
 * used->idx), or with virtqueue_enable_cb_delayed() (used_event =
 * last_used_idx + 3/4 of the outstanding buffers, virtio_store_mb(),
 * re-read used->idx).  If nothing more is there it sleeps until "irq".
 * Not modelled: the used_event = 0 hint disable_cb writes with EVENT_IDX
 * (only ever a suppression hint, like the stale value it replaces), and
 * get_buf's own used_event update, which runs only with callbacks on.
 *
 * NBUF buffers are outstanding from the start; both EVENT_IDX and the
 * NO_INTERRUPT flag are explored (a nondeterministic choice in init).
 * Properties: no lost interrupt -- the driver must not sleep for good
 * with a used buffer it has not taken (pan: invalid end state); and the
 * used element it reads after seeing used->idx is the one the device
 * wrote (assertion).
 *
 * Mutants (tests/models/README.md): NO_WMB_PUSH drops vring_push()'s
 * smp_wmb(); NO_MB_IRQ_EVIDX / NO_MB_IRQ_FLAGS drop
 * vring_need_interrupt()'s vring_full_barrier() (in each mode); driver
 * side, NO_RMB_GET drops get_buf's virtio_rmb(), NO_MB_POLL
 * virtqueue_poll()'s virtio_mb(), NO_MB_DELAYED enable_cb_delayed's
 * virtio_store_mb().
 * mutants: NO_WMB_PUSH NO_MB_IRQ_EVIDX NO_MB_IRQ_FLAGS NO_RMB_GET NO_MB_POLL NO_MB_DELAYED
 */
#define NPROC	2
#define NVAR	5
#define ELEM0	0	/* used->ring[0].id (ring[1] is ELEM0 + 1) */
#define UIDX	2	/* used->idx */
#define UEVT	3	/* used_event (after avail->ring[]) */
#define AFLAGS	4	/* avail->flags */

#define NBUF		2
#define NO_INTERRUPT	1	/* VRING_AVAIL_F_NO_INTERRUPT */

#ifdef NO_MB_IRQ_EVIDX
#define NO_MB_IRQ
#define ONLY_EVIDX
#endif
#ifdef NO_MB_IRQ_FLAGS
#define NO_MB_IRQ
#define ONLY_FLAGS
#endif

#include "mm.pml"

/* vring_need_event() on free-running 16-bit indices. */
#define NEED_EVENT(e, n, o)	((((n) - (e) - 1) & 65535) < (((n) - (o)) & 65535))

bool evidx;	/* VIRTIO_RING_F_EVENT_IDX negotiated */
bool irq;	/* an interrupt raised and not yet taken */

proctype device()
{
	MM_LOCALS;
	byte used_idx = 0, signalled = 0, old;
	bool valid = false, was_valid, need;
	int ev;

	do
	:: used_idx < NBUF ->
		/* vring_push() */
		STORE(0, ELEM0 + used_idx, used_idx + 1);
#ifndef NO_WMB_PUSH
		SMP_WMB(0);
#endif
		used_idx++;
		STORE(0, UIDX, used_idx);
		if
		:: used_idx < NBUF -> skip	/* flush_done publishes a batch */
		:: true ->
			/* virtio_queue_interrupt() -> vring_need_interrupt();
			 * something was used since the last check. */
			old = signalled;
			was_valid = valid;
			signalled = used_idx;
			valid = true;
#ifndef NO_MB_IRQ
			SMP_MB(0);
#endif
			if
			:: !evidx ->
				LOAD(0, AFLAGS, ev);
				need = !(ev & NO_INTERRUPT)
			:: evidx && !was_valid -> need = true
			:: evidx && was_valid ->
				LOAD(0, UEVT, ev);
				need = NEED_EVENT(ev, used_idx, old)
			fi;
			if
			:: need -> SMP_MB(0); irq = true
			:: else -> skip
			fi
		fi
	:: else -> break
	od
}

proctype driver()
{
	MM_LOCALS;
	byte last = 0, bufs;	/* last_used_idx */
	int u, e;
	bool more;

	/* Callbacks on, nothing used yet: wait for the first interrupt. */
	irq;
	irq = false;
	SMP_RMB(1);	/* interrupt entry: an acquire */
	do
	:: /* the callback: virtqueue_disable_cb() */
		if
		:: !evidx -> STORE(1, AFLAGS, NO_INTERRUPT)
		:: else -> skip
		fi;
		/* virtqueue_get_buf() until it finds nothing */
		do
		:: LOAD(1, UIDX, u);
			if
			:: u != last ->
#ifndef NO_RMB_GET
				SMP_RMB(1);
#endif
				LOAD(1, ELEM0 + last, e);
				assert(e == last + 1);
				last++
			:: else -> break
			fi
		od;
		if
		:: last == NBUF -> break
		:: else -> skip
		fi;
		if
		:: /* virtqueue_enable_cb_prepare() + virtqueue_poll() */
			if
			:: evidx -> STORE(1, UEVT, last)
			:: else -> STORE(1, AFLAGS, 0)
			fi;
#ifndef NO_MB_POLL
			SMP_MB(1);
#endif
			LOAD(1, UIDX, u);
			more = (u != last)
		:: /* virtqueue_enable_cb_delayed() */
			bufs = (NBUF - last) * 3 / 4;
			if
			:: evidx -> STORE(1, UEVT, last + bufs)
			:: else -> STORE(1, AFLAGS, 0)
			fi;
#ifndef NO_MB_DELAYED
			SMP_MB(1);
#endif
			LOAD(1, UIDX, u);
			more = (((u - last) & 65535) > bufs)
		fi;
		if
		:: more -> skip
		:: else -> irq; irq = false; SMP_RMB(1)	/* asleep until the interrupt */
		fi
	od
}

init {
	atomic {
#if defined(ONLY_EVIDX)
		evidx = true;
#elif defined(ONLY_FLAGS)
		evidx = false;
#else
		if
		:: evidx = true
		:: evidx = false
		fi;
#endif
		MM_START(0);
		MM_START(1);
		run device();
		run driver()
	}
}

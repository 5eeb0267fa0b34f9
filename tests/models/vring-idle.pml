/*
 * The device going idle against the driver adding buffers and kicking.
 *
 * Device (thread 0), from the code: virtio/queue.c virtio_queue_pop()
 * called until it returns 0 after each kick (the device thread's
 * handler), with virtio/vring.c vring_suppress_kicks() (flags: sets
 * NO_NOTIFY; EVENT_IDX: nothing, avail_event is left behind),
 * vring_pop() (avail->idx, smp_rmb(), the avail->ring[] entry, the
 * descriptor it names) and vring_arm_kicks() (avail_event =
 * last_avail_idx or NO_NOTIFY cleared, vring_full_barrier(), re-read
 * avail->idx: vring_has_work()).  Kicks start armed (virtio/core.c),
 * the ring zeroed.  The served-per-wake-up limit is left out (the
 * device wakes itself then, it does not wait for a kick).
 *
 * Driver (thread 1), Linux's drivers/virtio/virtio_ring.c split ring:
 * virtqueue_add_split() (descriptor, avail->ring[] entry, virtio_wmb(),
 * avail->idx), then -- after each add or after a batch --
 * virtqueue_kick_prepare_split() (virtio_mb(), then avail_event with
 * vring_need_event(old, new) or used->flags' NO_NOTIFY) and, if it says
 * so, the notify: an MMIO write that traps (a full barrier, then
 * "kick"; the device thread's eventfd read is an acquire).  Then it
 * waits for the device to take every buffer.
 *
 * After going idle with kicks armed the device may also, as virtio-net
 * does while a frame waits for buffers (virtio/net.c
 * virtio_net__rx_batch(): only if it took a buffer since the last time),
 * ask for a kick only after 2 more buffers (virtio_queue_kick_after():
 * avail_event = last + 1, or NO_NOTIFY; no barrier) and arm its timer,
 * whose firing is a look like a kick's, at any later point.
 *
 * Both EVENT_IDX and the flags are explored (a choice in init).
 * Properties: no lost kick -- the device idles while a buffer it never
 * takes waits on the ring, and the driver waits forever (pan: invalid
 * end state); and the ring entry and descriptor the device reads after
 * seeing avail->idx are the ones the driver wrote (assertions).
 *
 * Mutants (tests/models/README.md): NO_RMB_POP drops vring_pop()'s
 * smp_rmb(); NO_MB_ARM_EVIDX / NO_MB_ARM_FLAGS drop vring_arm_kicks()'s
 * vring_full_barrier() (in each mode); driver side, NO_WMB_ADD drops
 * virtqueue_add_split()'s virtio_wmb(), NO_MB_KICK
 * virtqueue_kick_prepare_split()'s virtio_mb().  NO_BATCH_TIMER is the
 * batch without its timer (the look that makes up for the kicks it
 * asked the driver not to send).
 * mutants: NO_RMB_POP NO_MB_ARM_EVIDX NO_MB_ARM_FLAGS NO_WMB_ADD NO_MB_KICK NO_BATCH_TIMER
 */
#define NPROC	2
#define NVAR	7
#define DESC0	0	/* desc[0].addr (desc[1] is DESC0 + 1) */
#define RING0	2	/* avail->ring[0] (ring[1] is RING0 + 1) */
#define AIDX	4	/* avail->idx */
#define AEVT	5	/* avail_event (after used->ring[]) */
#define UFLAGS	6	/* used->flags */

#define NBUF		2
#define NO_NOTIFY	1	/* VRING_USED_F_NO_NOTIFY */

#ifdef NO_MB_ARM_EVIDX
#define NO_MB_ARM
#define ONLY_EVIDX
#endif
#ifdef NO_MB_ARM_FLAGS
#define NO_MB_ARM
#define ONLY_FLAGS
#endif

#include "mm.pml"

/* vring_need_event() on free-running 16-bit indices. */
#define NEED_EVENT(e, n, o)	((((n) - (e) - 1) & 65535) < (((n) - (o)) & 65535))

bool evidx;	/* VIRTIO_RING_F_EVENT_IDX negotiated */
bool kick;	/* a kick (ioeventfd) not yet taken by the device thread */
bool timer;	/* the batch timer armed and not yet fired */
byte popped;	/* buffers the device has taken (ghost) */

/*
 * vring_pop(): a descriptor is buffer k + 1's if the driver wrote it;
 * ring entry k names descriptor k (stored + 1, so 0 is "never written").
 */
inline vring_pop(got)
{
	LOAD(0, AIDX, a);
	if
	:: a != last ->
#ifndef NO_RMB_POP
		SMP_RMB(0);
#endif
		LOAD(0, RING0 + last, h);
		assert(h == last + 1);
		LOAD(0, DESC0 + h - 1, d);
		assert(d == h);
		last++;
		popped++;
		got = true
	:: else -> got = false
	fi
}

inline vring_suppress_kicks()
{
	if
	:: !evidx -> STORE(0, UFLAGS, NO_NOTIFY)
	:: else -> skip
	fi
}

/* virtio_queue_pop() until it returns 0 (a kick's or a timer's look). */
inline look()
{
	do
	:: if
		:: armed -> vring_suppress_kicks(); armed = false
		:: else -> skip
		fi;
		vring_pop(got);
		if
		:: got -> skip
		:: else ->
			/* vring_arm_kicks() */
			if
			:: evidx -> STORE(0, AEVT, last)
			:: else -> STORE(0, UFLAGS, 0)
			fi;
#ifndef NO_MB_ARM
			SMP_MB(0);
#endif
			/* vring_has_work() */
			LOAD(0, AIDX, a);
			if
			:: a == last -> armed = true; break
			:: else ->
				vring_suppress_kicks();
				vring_pop(got);
				if
				:: got -> skip
				:: else -> break
				fi
			fi
		fi
	od;
	/* virtio_net__rx_batch(), if a frame waits (any time it may) */
	if
	:: armed && popped != batch_at ->
		batch_at = popped;
		if
		:: evidx -> STORE(0, AEVT, last + 1)
		:: else -> STORE(0, UFLAGS, NO_NOTIFY)
		fi;
		armed = false;
#ifndef NO_BATCH_TIMER
		timer = true
#endif
	:: true -> skip
	fi
}

proctype device()
{
	MM_LOCALS;
	byte last = 0;		/* last_avail_idx */
	bool armed = true;	/* q->kicks_armed */
	byte batch_at = 0;	/* popped at the last batch */
	bool got;
	int a, h, d;

end_idle:
	do
	:: kick ->
		kick = false;
		/* the eventfd read() synchronizes with the kick: an acquire */
		SMP_RMB(0);
		look()
	:: timer ->
		/* the timerfd read(); the driver is not involved */
		timer = false;
		look()
	od
}

proctype driver()
{
	MM_LOCALS;
	byte k = 0, num_added = 0;
	bool needs;
	int e;

	do
	:: k < NBUF ->
		/* virtqueue_add_split() */
		STORE(1, DESC0 + k, k + 1);
		STORE(1, RING0 + k, k + 1);
#ifndef NO_WMB_ADD
		SMP_WMB(1);
#endif
		k++;
		STORE(1, AIDX, k);
		num_added++;
		if
		:: k < NBUF -> skip	/* more to add before the kick */
		:: true ->
			/* virtqueue_kick_prepare_split() */
#ifndef NO_MB_KICK
			SMP_MB(1);
#endif
			if
			:: evidx ->
				LOAD(1, AEVT, e);
				needs = NEED_EVENT(e, k, k - num_added)
			:: else ->
				LOAD(1, UFLAGS, e);
				needs = !(e & NO_NOTIFY)
			fi;
			num_added = 0;
			if
			:: needs -> SMP_MB(1); kick = true	/* virtqueue_notify() */
			:: else -> skip
			fi
		fi
	:: else -> break
	od;
	/* waits for the completions */
	popped == NBUF
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

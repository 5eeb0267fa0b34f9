/*
 * Interrupt delivery when a queue thread, the device thread and a vCPU
 * race (thread_per_queue devices): virtio/queue.c
 * virtio_queue_interrupt() on the queue's thread (q->lock held: raise
 * the interrupt itself if vdev->lock is free, else set the queue's bit
 * in vdev->irq_pending with a release RMW and write vdev->irq_fd),
 * virtio_device__on_irq() -> virtio_signal_pending() on the device
 * thread (read irq_fd, vdev->lock, take the bits with an acquire xchg,
 * raise), the transport's interrupt_queue (virtio/pci.c: MSI-X through
 * the vector's irqfd, or INTx: ISR |= 1, the line follows ISR != 0),
 * and the guest: an MSI, or for INTx its ISR read trapping into
 * virtio_pci__read_isr() (vdev->lock, read and clear ISR) on its vCPU
 * thread, then the used index.
 *
 * The queue thread publishes two used entries, one interrupt each; the
 * guest (NPROC 2) handles interrupts until it has seen both.  An
 * interrupt owed and lost leaves it waiting: an invalid end state.
 *
 * Hand-offs through the kernel and through vdev->lock: an eventfd write
 * or an unlock drains the writer's stores (a system call, a release) and
 * passes what the writer knows of the used index; an eventfd read or a
 * lock passes it on to the reader (C11 happens-before: the reader is
 * sure to see only what happened before the writer's release, not every
 * store already in memory).  What a thread knows is mm.pml's view: its
 * own stores, and what it read at or after its last read barrier.  Only
 * the used index travels that way (it only grows, so the join is a max);
 * vdev->irq_pending is only touched by RMWs, which read the newest value.
 * The eventfd counters and ISR (under vdev->lock) are plain variables.
 *
 * Mutants (tests/models/README.md), release as SMP_WMB before the RMW,
 * acquire as SMP_RMB after it: NO_RELEASE makes the fetch_or in
 * virtio_queue_interrupt() relaxed (the bit lands before the used index,
 * the device thread interrupts early, the guest finds nothing new, and
 * the later irq_fd write finds no bit left); NO_ACQUIRE makes the
 * exchange in virtio_signal_pending() relaxed (the device thread takes a
 * bit whose irq_fd write has not come yet without learning the used
 * index it covers, and the interrupt it raises carries none).
 * mutants: NO_RELEASE NO_ACQUIRE
 */
#define NPROC	3
#define NVAR	2
#define USED	0	/* the used ring's idx */
#define PEND	1	/* vdev->irq_pending (one queue: bit 0) */

#define QT	0	/* the queue's thread */
#define DT	1	/* the device thread */
#define GU	2	/* the guest and its vCPU thread */

#define NPUB	2

#include "mm.pml"

byte lk;		/* vdev->lock: 0 free, else holder + 1 */
byte irq_fd;		/* vdev->irq_fd's counter */
byte msi_fd;		/* the MSI-X vector's irqfd counter */
bool isr;		/* vdev->isr (vdev->lock) */
bool msix;		/* the transport: MSI-X, or INTx */
/* the used index each hand-off passes on */
int hv_lock, hv_irq, hv_msi;

/* What thread t knows of the used index (its stores drained). */
#define KNOWN(t)							\
	(t == QT || !vw[t].dirty[USED] || vw[t].seen_new[USED] ->	\
	 mem[USED] : vw[t].val[USED])
/* A release hand-off into h (inside atomic: drained first). */
#define SEND(t, h)							\
	atomic {							\
		MM_EMPTY(t) ->						\
		if							\
		:: KNOWN(t) > h -> h = KNOWN(t)				\
		:: else -> skip						\
		fi							\
	}
/* The acquire side: the reader's view learns it. */
#define RECV(t, h)							\
	atomic {							\
		if							\
		:: vw[t].dirty[USED] && !vw[t].seen_new[USED] &&	\
		   h > vw[t].val[USED] ->				\
			vw[t].val[USED] = h;				\
			vw[t].dirty[USED] = (mem[USED] != h)		\
		:: else -> skip						\
		fi							\
	}
#define LOCK(t)		atomic { lk == 0 -> lk = t + 1 }; RECV(t, hv_lock)
#define UNLOCK(t)	SEND(t, hv_lock); lk = 0

/* interrupt_queue(), vdev->lock held */
#define RAISE(t)							\
	if								\
	:: msix -> SEND(t, hv_msi); msi_fd++				\
	:: else -> isr = true						\
	fi

proctype queue_thread()
{
	MM_LOCALS;
	int old;
	byte n = 0;

	do
	:: n < NPUB ->
		n++;
		/* vring_push(): the used index */
		STORE(QT, USED, n);
		/* virtio_queue_interrupt() */
		if
		:: atomic { lk == 0 -> lk = QT + 1 } ->	/* trylock */
			RECV(QT, hv_lock);
			RAISE(QT);
			UNLOCK(QT)
		:: true ->
			/*
			 * vdev->lock busy: vCPU register accesses take it at
			 * any moment, so the trylock may always fail.
			 */
#ifndef NO_RELEASE
			SMP_WMB(QT);
#endif
			RMW_OR(QT, PEND, 1, old);
			SEND(QT, hv_irq);
			irq_fd++
		fi
	:: else -> break
	od
}

proctype device_thread()
{
	MM_LOCALS;
	int pending;

end:	do
	:: /* virtio_device__on_irq() */
		atomic { irq_fd > 0 -> irq_fd = 0 };
		RECV(DT, hv_irq);
		LOCK(DT);
		/* virtio_signal_pending() */
		XCHG(DT, PEND, 0, pending);
#ifndef NO_ACQUIRE
		SMP_RMB(DT);
#endif
		if
		:: pending & 1 -> RAISE(DT)
		:: else -> skip
		fi;
		UNLOCK(DT)
	od
}

proctype guest()
{
	MM_LOCALS;
	int u;
	bool got;
	byte seen = 0;

	do
	:: seen < NPUB ->
		if
		:: msix ->
			atomic { msi_fd > 0 -> msi_fd = 0 };
			RECV(GU, hv_msi);
			got = true
		:: else ->
			/* the line is up: the driver reads ISR */
			isr;
			LOCK(GU);
			got = isr;		/* virtio_pci__read_isr() */
			isr = false;
			UNLOCK(GU)
		fi;
		if
		:: got ->
			LOAD(GU, USED, u);
			if
			:: u > seen -> seen = u
			:: else -> skip		/* nothing new: spurious */
			fi
		:: else -> skip
		fi
	:: else -> break
	od
}

init {
	atomic {
		if
		:: msix = true
		:: msix = false
		fi;
		MM_START(QT);
		MM_START(DT);
		MM_START(GU);
		run queue_thread();
		run device_thread();
		run guest()
	}
}

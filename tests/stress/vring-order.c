// SPDX-License-Identifier: GPL-2.0
/*
 * Ordering stress test for the device side of split virtqueues.
 *
 * lkvm's real virtqueue code (virtio/vring.c) runs on a device thread
 * against a simulated driver thread that follows Linux's split-ring
 * sequences on shared memory: virtqueue_add_split() + kick_prepare for
 * submission, enable_cb_prepare() + virtqueue_poll() before sleeping for
 * an interrupt.  Both sides sleep only when they believe the other will
 * wake them, so a missing full barrier on either handshake shows up as
 * both sides waiting: a lost interrupt or a lost kick.
 *
 * "Sleeping" is spinning on a counter (an interrupt or a kick), so round
 * trips take well under a microsecond and the race windows are hit often.
 * A side that waits for a second while the other is idle has been
 * forgotten: the test stops and reports which wakeup was lost.
 *
 *   vring-order [buffers] [event_idx 0|1]
 * Exit status 0: no lost wakeup; 1: a wakeup was lost; 2: usage/setup.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lkvm/barrier.h"
#include "lkvm/vring.h"

#define QSZ		256
#define MEM_SIZE	0x100000
#define DESC		0x1000
#define AVAIL		0x4000
#define USED		0x5000
#define BUFS		0x10000
#define HANG_NS		1000000000LL

#if defined(__x86_64__)
#define cpu_relax()	__builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax()	__asm__ __volatile__("yield" ::: "memory")
#else
#define cpu_relax()	atomic_signal_fence(memory_order_seq_cst)
#endif

static u8 *ram;
static struct guest_mem gm;
static struct vring_state vq;
static bool event_idx;
static u64 total;

/* The "interrupt" and the "kick": counters the sleeper spins on. */
static atomic_ulong irq_count, kick_count;
static atomic_bool device_idle, driver_waiting, stop;
static atomic_int failure;	/* 0, or 1 lost interrupt, 2 lost kick */
static u64 nr_kicks, nr_irqs_taken, nr_sleeps;

static struct vring_desc *desc_tbl(void) { return (void *)(ram + DESC); }
static struct vring_avail *avail(void) { return (void *)(ram + AVAIL); }
static struct vring_used *used(void) { return (void *)(ram + USED); }
static u16 *used_event(void) { return &avail()->ring[QSZ]; }
static u16 *avail_event(void) { return (u16 *)&used()->ring[QSZ]; }

/*
 * Spin briefly, then yield: when the machine is busy the other side may
 * need this CPU to make progress, and a pure spin would stall both.
 */
static void wait_a_bit(unsigned long *spins)
{
	if (++*spins < 100000)
		cpu_relax();
	else
		sched_yield();
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* Device: the real lkvm code.                                          */

static void *device_thread(void *arg)
{
	static struct vring_chain elem;
	unsigned long seen = 0, spins;

	(void)arg;
	while (!atomic_load(&stop) && !atomic_load(&failure)) {
		long long start = now_ns();

		/* Idle until kicked, like a device thread in epoll_wait. */
		atomic_store(&device_idle, true);
		spins = 0;
		while (atomic_load_explicit(&kick_count, memory_order_acquire) == seen) {
			if (atomic_load(&stop) || atomic_load(&failure))
				return NULL;
			wait_a_bit(&spins);
			if (now_ns() - start < HANG_NS)
				continue;
			/* Forgotten: the driver sleeps with buffers for us. */
			if (atomic_load(&driver_waiting) && vring_has_work(&vq)) {
				atomic_store(&failure, 2);
				return NULL;
			}
			start = now_ns();
		}
		atomic_store(&device_idle, false);
		seen = atomic_load(&kick_count);

		/* The pattern every lkvm device uses (see virtio.h). */
		do {
			vring_suppress_kicks(&vq);
			while (vring_pop(&vq, &elem) > 0)
				vring_push(&vq, elem.id.head, 8);
			if (vring_need_interrupt(&vq))
				atomic_fetch_add_explicit(&irq_count, 1,
							  memory_order_release);
		} while (vring_arm_kicks(&vq));
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Driver: Linux's split-ring sequences, with Linux's barriers.         */

static u16 avail_shadow, last_used;
static u16 free_ids[QSZ];
static unsigned int nr_free;

static void driver_add(u16 id)
{
	struct vring_desc *d = &desc_tbl()[id];

	d->addr = htole64(BUFS + id * 64);
	d->len = htole32(64);
	d->flags = htole16(VRING_DESC_F_WRITE);
	avail()->ring[avail_shadow & (QSZ - 1)] = htole16(id);
	/*
	 * virtio_wmb() in virtqueue_add_split(): entry before index.  A
	 * release store says the same and ThreadSanitizer, which models no
	 * fence, sees it (pairs with the acquire in vring_pop()).
	 */
	avail_shadow++;
	smp_store_release(&avail()->idx, htole16(avail_shadow));
}

static void driver_kick(u16 old)
{
	bool needed;

	/* virtio_mb() in virtqueue_kick_prepare_split(). */
	smp_mb();
	if (event_idx)
		needed = vring_need_event(le16toh(READ_ONCE(*avail_event())),
					  avail_shadow, old);
	else
		needed = !(le16toh(READ_ONCE(used()->flags)) &
			   VRING_USED_F_NO_NOTIFY);
	if (needed) {
		nr_kicks++;
		atomic_fetch_add_explicit(&kick_count, 1, memory_order_release);
	}
}

static u64 driver_reap(void)
{
	u64 n = 0;

	/*
	 * virtio_rmb() in virtqueue_get_buf_ctx_split(): index before the
	 * entry, here as an acquire load (pairs with the release in
	 * vring_push()).
	 */
	while (last_used != le16toh(smp_load_acquire(&used()->idx))) {
		u16 id;

		id = (u16)le32toh(READ_ONCE(used()->ring[last_used & (QSZ - 1)].id));
		free_ids[nr_free++] = id;
		last_used++;
		n++;
	}
	return n;
}

/* Returns false if a wakeup was lost. */
static bool driver_wait(void)
{
	unsigned long irqs, spins;
	long long start;

	for (;;) {
		irqs = atomic_load_explicit(&irq_count, memory_order_acquire);
		/* virtqueue_enable_cb_prepare_split(): ask for an interrupt. */
		if (event_idx)
			WRITE_ONCE(*used_event(), htole16(last_used));
		else
			WRITE_ONCE(avail()->flags, 0);
		/* virtio_mb() in virtqueue_poll(), before re-reading used->idx. */
		smp_mb();
		if (last_used != le16toh(READ_ONCE(used()->idx)))
			break;

		nr_sleeps++;
		atomic_store(&driver_waiting, true);
		start = now_ns();
		spins = 0;
		while (atomic_load_explicit(&irq_count, memory_order_acquire) == irqs) {
			wait_a_bit(&spins);
			if (now_ns() - start < HANG_NS)
				continue;
			/* Forgotten: completions exist, device idle, no irq. */
			if (atomic_load(&device_idle) &&
			    last_used != le16toh(READ_ONCE(used()->idx))) {
				atomic_store(&failure, 1);
				return false;
			}
			if (atomic_load(&failure))
				return false;
			start = now_ns();
		}
		atomic_store(&driver_waiting, false);
		nr_irqs_taken++;
	}
	/* virtqueue_disable_cb_split(): no interrupts while we process. */
	if (!event_idx)
		WRITE_ONCE(avail()->flags, htole16(VRING_AVAIL_F_NO_INTERRUPT));
	return true;
}

int main(int argc, char **argv)
{
	pthread_t dev;
	u64 added = 0, done = 0;
	long long t0;
	int batch = 1;

	total = argc > 1 ? strtoull(argv[1], NULL, 0) : 10000000ULL;
	event_idx = argc > 2 ? atoi(argv[2]) != 0 : true;
	ram = aligned_alloc(4096, MEM_SIZE);
	if (!ram || !total)
		return 2;
	memset(ram, 0, MEM_SIZE);
	guest_mem_add(&gm, 0, MEM_SIZE, ram);
	vq = (struct vring_state){ .size = QSZ, .desc_gpa = DESC,
				 .avail_gpa = AVAIL, .used_gpa = USED };
	if (vring_map(&vq, &gm, event_idx, false))
		return 2;
	for (unsigned int i = 0; i < QSZ; i++)
		free_ids[nr_free++] = (u16)i;

	t0 = now_ns();
	if (pthread_create(&dev, NULL, device_thread, NULL))
		return 2;
	while (done < total && !atomic_load(&failure)) {
		u16 old = avail_shadow;
		unsigned int n = 0;

		/*
		 * Vary the batch size (1..16) so both the "ring was empty"
		 * and "device still busy" paths are exercised.
		 */
		batch = batch % 16 + 1;
		while (nr_free && added < total && n < (unsigned int)batch) {
			driver_add(free_ids[--nr_free]);
			added++;
			n++;
		}
		if (n)
			driver_kick(old);
		done += driver_reap();
		/*
		 * Sleep whenever something is in flight (synchronous I/O,
		 * like a filesystem waiting on a read): every batch is then
		 * a full interrupt handshake, millions per run.
		 */
		if (done < added) {
			if (!driver_wait())
				break;
			done += driver_reap();
		}
	}
	atomic_store(&stop, true);
	pthread_join(dev, NULL);

	printf("%s: %llu/%llu buffers, event_idx=%d, %llu kicks, %llu interrupts "
	       "(%llu waits), %.1f s\n",
	       failure ? "FAIL" : "ok", (unsigned long long)done,
	       (unsigned long long)total, event_idx,
	       (unsigned long long)nr_kicks,
	       (unsigned long long)atomic_load(&irq_count),
	       (unsigned long long)nr_sleeps, (now_ns() - t0) / 1e9);
	if (failure == 1)
		printf("lost interrupt: used.idx=%u, driver at %u, device idle\n",
		       le16toh(used()->idx), last_used);
	if (failure == 2)
		printf("lost kick: avail.idx=%u, device at %u, driver asleep\n",
		       le16toh(avail()->idx), vq.last_avail_idx);
	free(ram);
	return failure ? 1 : 0;
}

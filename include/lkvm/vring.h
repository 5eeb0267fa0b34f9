/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_VRING_H
#define LKVM_VRING_H

/*
 * Device side of a split virtqueue.  Pure: it knows guest memory only
 * through struct guest_mem and nothing about transports or KVM, so it is
 * unit-tested and stress-tested on plain host memory.
 *
 * Threading: one thread (the device's event loop) pops and pushes; the
 * driver (guest) runs concurrently on other CPUs.  All ring accesses are
 * READ_ONCE/WRITE_ONCE with explicit fences, see virtio/vring.c.
 */
#include <sys/uio.h>

#include <linux/virtio_ring.h>

#include "lkvm/guest_mem.h"
#include "lkvm/sanitizer.h"
#include "lkvm/types.h"

#define VRING_MAX_SIZE		1024	/* largest queue size we accept */
#define VRING_MAX_SEGS		1024	/* buffers in one chain, incl. indirect */

struct vring_state {
	/* Set by the transport while the queue is being configured. */
	u16 size;			/* power of two, <= VRING_MAX_SIZE */
	u64 desc_gpa, avail_gpa, used_gpa;

	/* Resolved by vring_map(); NULL until then. */
	const struct guest_mem *mem;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;			/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	/*
	 * Bumped by every vring_map(): a chain carries the value it was
	 * popped under, so a completion that outlives a reset is told apart
	 * from one for the new ring, even for the same head.
	 */
	u32 map_gen;

	/* Device-private progress. */
	u16 last_avail_idx;		/* next avail entry to consume */
	u16 used_idx;			/* our copy of used->idx */
	u16 signalled_used;		/* used_idx at the last interrupt */
	bool signalled_used_valid;

	/* Counters for tests and benchmarks. */
	u64 nr_interrupt_checks, nr_interrupts;
};

/*
 * What names a popped chain when it is given back: its head, and the
 * mapping of the ring it came from (vring_state.map_gen when popped).
 */
struct vring_id {
	u16 head;
	u32 map_gen;
};

/* A popped descriptor chain: out (driver-readable) segments, then in. */
struct vring_chain {
	struct vring_id id;
	unsigned int out_num;
	unsigned int in_num;
	u64 out_len, in_len;		/* byte totals */
	struct iovec indirect;		/* the table read, if any */
	struct iovec iov[VRING_MAX_SEGS];
};

/*
 * Checks the ring addresses/size and resolves them through @mem.  Returns
 * 0, or -EINVAL (size not a power of two / too big, misaligned) or -EFAULT
 * (a ring outside guest RAM).  Resets the device-private indices.
 */
int vring_map(struct vring_state *vq, const struct guest_mem *mem,
	      bool event_idx, bool indirect);
void vring_unmap(struct vring_state *vq);
static inline bool vring_mapped(const struct vring_state *vq)
{
	return vq->desc != NULL;
}

/*
 * Takes the next available chain.  Returns 1 with @elem filled, 0 if the
 * ring is empty, or a negative errno if the driver broke the rules; the
 * queue must then be considered broken (the caller marks NEEDS_RESET):
 *   -ERANGE    avail->idx ran more than the queue size ahead
 *   -EINVAL    head or next index out of range, descriptor order (a
 *              readable after a writable one), nested or misaligned
 *              indirect table, indirect with F_NEXT, zero-length
 *              indirect table, INDIRECT not negotiated
 *   -ELOOP     chain longer than the queue (or the indirect table) allows
 *   -EFAULT    a buffer outside guest RAM
 *   -EOVERFLOW total length of the chain overflows 32 bits
 *   -E2BIG     more than VRING_MAX_SEGS segments
 * Zero-length buffers are skipped (they carry nothing) rather than refused.
 */
int vring_pop(struct vring_state *vq, struct vring_chain *elem);

/* Makes a popped chain used with @len bytes written; publishes used->idx. */
void vring_push(struct vring_state *vq, u16 head, u32 len);

/*
 * After one or more pushes: whether the driver wants an interrupt now
 * (used->flags / used_event).  Contains the full barrier that pairs with
 * the driver's in virtqueue_poll() / virtqueue_enable_cb_delayed_split().
 */
bool vring_need_interrupt(struct vring_state *vq);

/*
 * Before the device goes idle: re-enables guest->device notifications
 * (avail_event or used->flags) and returns true if buffers arrived
 * meanwhile, in which case the caller must keep processing.  Contains the
 * full barrier that pairs with the driver's in virtqueue_kick_prepare().
 */
bool vring_arm_kicks(struct vring_state *vq);
/* While processing: asks the driver not to notify (best effort). */
void vring_suppress_kicks(struct vring_state *vq);
/*
 * Idle, but looking again on its own soon: asks the driver to notify
 * only once @n more buffers are there (EVENT_IDX), or not at all (best
 * effort, no barrier: the device's own look finds what came meanwhile).
 */
void vring_kick_after(struct vring_state *vq, u16 n);

/* True if the driver made buffers available that we have not popped. */
bool vring_has_work(struct vring_state *vq);

/*
 * For ThreadSanitizer only (no code otherwise): a device calls
 * vring_chain_release() on a popped chain after its last access to the
 * chain's buffers and before completing it; vring_pop() acquires.  TSan
 * cannot see the guest, which reuses a buffer one host thread gave back
 * (a status byte one queue's thread wrote) for another thread (another
 * queue's), so without this it reports the second thread's access as a
 * race with the first.  The guest page is the handoff's key: the guest
 * orders them (it takes the used entry before it posts the buffer again),
 * and only for what it handed over.
 */
#if LKVM_TSAN
void vring_chain_release(const struct vring_chain *e);
#else
static inline void vring_chain_release(const struct vring_chain *e __unused)
{
}
#endif

/* iovec helpers for devices: copy from out segments / to in segments. */
size_t vring_chain_read(const struct vring_chain *e, u64 off, void *buf,
			    size_t len);
size_t vring_chain_write(const struct vring_chain *e, u64 off,
			  const void *buf, size_t len);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * Device side of split virtqueues: walking descriptor chains defensively,
 * publishing used buffers, and the notification-suppression handshakes.
 *
 * The ring is shared with a driver running concurrently on other CPUs and
 * is written by a guest we do not trust.  So: every buffer address goes
 * through guest_mem_ptr(); every index is range-checked; every descriptor
 * is copied once and only the copy is used; and the two store-buffer
 * handshakes with the driver have full barriers.  The pairs named below are
 * in Linux's drivers/virtio/virtio_ring.c (split ring functions).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "lkvm/barrier.h"
#include "lkvm/vring.h"

#if LKVM_TSAN
#include <sanitizer/tsan_interface.h>

#define VRING_TSAN_PAGE	4096UL

/* Acquires or releases every guest page [@p, @p + @len) touches. */
static void vring_tsan_pages(const void *p, size_t len, bool release)
{
	uintptr_t a = (uintptr_t)p & ~(VRING_TSAN_PAGE - 1);
	uintptr_t end = (uintptr_t)p + len;

	for (; len && a < end; a += VRING_TSAN_PAGE) {
		if (release)
			__tsan_release((void *)a);
		else
			__tsan_acquire((void *)a);
	}
}

static void vring_tsan_chain(const struct vring_chain *e, bool release)
{
	for (unsigned int i = 0; i < e->out_num + e->in_num; i++)
		vring_tsan_pages(e->iov[i].iov_base, e->iov[i].iov_len,
				 release);
	vring_tsan_pages(e->indirect.iov_base, e->indirect.iov_len, release);
}

void vring_chain_release(const struct vring_chain *e)
{
	vring_tsan_chain(e, true);
}
#else
static inline void vring_tsan_pages(const void *p __unused,
				    size_t len __unused, bool release __unused)
{
}

static inline void vring_tsan_chain(const struct vring_chain *e __unused,
				    bool release __unused)
{
}
#endif

/*
 * The ordering stress test builds this file again with full barriers
 * reduced to compiler barriers, to prove that it catches their absence:
 * VRING_TEST_NO_MB_IRQ the one in vring_need_interrupt(),
 * VRING_TEST_NO_MB_ARM the one in vring_arm_kicks(),
 * VRING_TEST_NO_FULL_BARRIER both.  Nothing else may define these.
 */
#if defined(VRING_TEST_NO_FULL_BARRIER) || defined(VRING_TEST_NO_MB_IRQ)
#define vring_irq_mb()	atomic_signal_fence(memory_order_seq_cst)
#else
#define vring_irq_mb()	smp_mb()
#endif
#if defined(VRING_TEST_NO_FULL_BARRIER) || defined(VRING_TEST_NO_MB_ARM)
#define vring_arm_mb()	atomic_signal_fence(memory_order_seq_cst)
#else
#define vring_arm_mb()	smp_mb()
#endif

static inline u16 *vring_used_event_slot(struct vring_state *vq)
{
	/* Driver-written, just after avail->ring[size]. */
	return &vq->avail->ring[vq->size];
}

static inline u16 *vring_avail_event_slot(struct vring_state *vq)
{
	/* Device-written, just after used->ring[size]. */
	return (u16 *)&vq->used->ring[vq->size];
}

int vring_map(struct vring_state *vq, const struct guest_mem *mem,
	      bool event_idx, bool indirect)
{
	u64 n = vq->size;
	void *desc, *avail, *used;

	vring_unmap(vq);
	if (!n || n > VRING_MAX_SIZE || (n & (n - 1)))
		return -EINVAL;
	/* Alignments from the spec's split-ring layout table. */
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
		return -EINVAL;
	desc = guest_mem_ptr(mem, vq->desc_gpa, 16 * n);
	avail = guest_mem_ptr(mem, vq->avail_gpa, 6 + 2 * n);
	used = guest_mem_ptr(mem, vq->used_gpa, 6 + 8 * n);
	if (!desc || !avail || !used)
		return -EFAULT;

	vq->mem = mem;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->map_gen++;
	vq->last_avail_idx = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_used_valid = false;
	return 0;
}

void vring_unmap(struct vring_state *vq)
{
	vq->mem = NULL;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
}

/* Adds one buffer to @elem, keeping the out-then-in order. */
static int vring_add_seg(struct vring_state *vq, struct vring_chain *elem,
			 const struct vring_desc *d)
{
	u64 addr = le64toh(d->addr);
	u32 len = le32toh(d->len);
	bool writable = le16toh(d->flags) & VRING_DESC_F_WRITE;
	void *p;

	/* The spec: all device-readable buffers come before writable ones. */
	if (!writable && elem->in_num)
		return -EINVAL;
	/* An empty buffer carries nothing: skip it, as real devices do. */
	if (!len)
		return 0;
	p = guest_mem_ptr(vq->mem, addr, len);
	if (!p)
		return -EFAULT;
	if (elem->out_num + elem->in_num == VRING_MAX_SEGS)
		return -E2BIG;
	/* A chain may not describe more than 2^32 - 1 bytes in total. */
	if (elem->out_len + elem->in_len + len > UINT32_MAX)
		return -EOVERFLOW;

	elem->iov[elem->out_num + elem->in_num] = (struct iovec){
		.iov_base = p, .iov_len = len,
	};
	if (writable) {
		elem->in_num++;
		elem->in_len += len;
	} else {
		elem->out_num++;
		elem->out_len += len;
	}
	return 0;
}

static int vring_walk(struct vring_state *vq, struct vring_chain *elem, u16 head)
{
	const struct vring_desc *table = vq->desc;
	unsigned int max = vq->size, seen = 0;
	bool in_indirect = false;
	struct vring_desc d;
	u16 i = head, flags;
	int ret;

	elem->id.head = head;
	elem->out_num = elem->in_num = 0;
	elem->out_len = elem->in_len = 0;
	elem->indirect = (struct iovec){ 0 };

	for (;;) {
		/* More descriptors than the table holds means a loop. */
		if (seen++ == max)
			return -ELOOP;
		/*
		 * One copy per descriptor: the guest may rewrite the table
		 * under us, so we validate and use only what we copied.
		 * Each field is one untorn load the compiler may not repeat:
		 * after a memcpy() it could legally re-read guest memory in
		 * place of the copy (a double fetch).
		 */
		d.addr = READ_ONCE(table[i].addr);
		d.len = READ_ONCE(table[i].len);
		d.flags = READ_ONCE(table[i].flags);
		d.next = READ_ONCE(table[i].next);
		flags = le16toh(d.flags);

		if (flags & VRING_DESC_F_INDIRECT) {
			u32 len = le32toh(d.len);

			/*
			 * Only a lone head may point at a table: no nesting,
			 * no INDIRECT|NEXT, no table in the middle of a chain.
			 * "The head" means the first descriptor walked, not
			 * index @head: a chain that loops back to its head
			 * reads that descriptor again, and the guest may have
			 * made it a table meanwhile.
			 */
			if (!vq->indirect || in_indirect || seen != 1 ||
			    (flags & VRING_DESC_F_NEXT))
				return -EINVAL;
			if (!len || len % sizeof(d) ||
			    len / sizeof(d) > VRING_MAX_SEGS)
				return -EINVAL;
			/*
			 * The table is read in place with READ_ONCE(), which
			 * needs each field naturally aligned: 8 bytes, what
			 * any driver's allocator gives (kmalloc's minimum).
			 */
			if (le64toh(d.addr) % __alignof__(struct vring_desc))
				return -EINVAL;
			table = guest_mem_ptr(vq->mem, le64toh(d.addr), len);
			if (!table)
				return -EFAULT;
			/* Before reading it: see vring_chain_release(). */
			vring_tsan_pages(table, len, false);
			elem->indirect = (struct iovec){
				.iov_base = (void *)table, .iov_len = len,
			};
			max = len / sizeof(d);
			in_indirect = true;
			seen = 0;
			i = 0;
			continue;
		}

		ret = vring_add_seg(vq, elem, &d);
		if (ret)
			return ret;
		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		i = le16toh(d.next);
		if (i >= max)
			return -EINVAL;
	}
}

int vring_pop(struct vring_state *vq, struct vring_chain *elem)
{
	u16 avail_idx, pending, head;
	int ret;

	/*
	 * Acquire pairs with virtio_wmb() in the driver's
	 * virtqueue_add_split() between writing avail->ring[] (and the
	 * descriptors) and avail->idx: having seen the index, we must not
	 * read older ring or descriptor contents (message passing,
	 * load-load order; what an smp_rmb() after the load would give).
	 * Proved needed: tests/models/vring-idle.pml, mutant NO_RMB_POP.
	 */
	avail_idx = le16toh(smp_load_acquire(&vq->avail->idx));
	/* Free-running 16-bit indices: the difference is what is pending. */
	pending = (u16)(avail_idx - vq->last_avail_idx);
	if (!pending)
		return 0;
	if (pending > vq->size)
		return -ERANGE;
	head = le16toh(READ_ONCE(vq->avail->ring[vq->last_avail_idx &
						   (vq->size - 1)]));
	if (head >= vq->size)
		return -EINVAL;
	ret = vring_walk(vq, elem, head);
	if (ret)
		return ret;
	/* Before the device touches the buffers: see vring_chain_release(). */
	vring_tsan_chain(elem, false);
	elem->id.map_gen = vq->map_gen;
	vq->last_avail_idx++;
	return 1;
}

void vring_push(struct vring_state *vq, u16 head, u32 len)
{
	struct vring_used_elem *e = &vq->used->ring[vq->used_idx &
						   (vq->size - 1)];

	WRITE_ONCE(e->id, htole32(head));
	WRITE_ONCE(e->len, htole32(len));
	vq->used_idx++;
	/*
	 * Release pairs with virtio_rmb() in the driver's
	 * virtqueue_get_buf_ctx_split() between reading used->idx and the
	 * used element: the element, and the data the device wrote into
	 * the buffers, must be visible before the index that publishes
	 * them (message passing, store-store order; what an smp_wmb()
	 * before the store would give).  Proved needed:
	 * tests/models/vring-publish.pml, mutant NO_WMB_PUSH.
	 */
	smp_store_release(&vq->used->idx, htole16(vq->used_idx));
}

bool vring_need_interrupt(struct vring_state *vq)
{
	u16 old, new, event;
	bool valid;

	vq->nr_interrupt_checks++;
	old = vq->signalled_used;
	valid = vq->signalled_used_valid;
	/*
	 * Nothing used since the last check (a kick that found the ring
	 * empty): an interrupt now would be spurious, and a driver that
	 * takes it as "done" before the real completion is misled.  (The
	 * indices are reset together at map time, so this also covers a
	 * queue that has never used anything.)
	 */
	if (old == vq->used_idx)
		return false;
	new = vq->signalled_used = vq->used_idx;
	vq->signalled_used_valid = true;
	/*
	 * Pairs with virtio_mb() in the driver's virtqueue_poll() (after
	 * virtqueue_enable_cb_prepare_split() wrote used_event, which has
	 * no barrier of its own) and in virtqueue_enable_cb_delayed_split():
	 * each writes used_event (or clears NO_INTERRUPT), then re-reads
	 * used->idx.  Store-buffer pattern: our
	 * used->idx store must be globally visible before we load
	 * used_event/avail->flags.  Without this fence both sides can read
	 * the other's old value: we see a stale used_event and skip the
	 * interrupt, the driver sees a stale used->idx and sleeps forever.
	 * Proved needed: tests/models/vring-publish.pml, mutants
	 * NO_MB_IRQ_EVIDX and NO_MB_IRQ_FLAGS.
	 */
	vring_irq_mb();

	if (!vq->event_idx) {
		u16 flags = le16toh(READ_ONCE(vq->avail->flags));

		return !(flags & VRING_AVAIL_F_NO_INTERRUPT);
	}
	if (!valid)
		return true;
	event = le16toh(READ_ONCE(*vring_used_event_slot(vq)));
	return vring_need_event(event, new, old);
}

void vring_suppress_kicks(struct vring_state *vq)
{
	/*
	 * With EVENT_IDX the driver kicks only when avail->idx passes
	 * avail_event, which we leave behind while busy; otherwise ask with
	 * the flag.  Either is a hint: a kick may still come, harmlessly.
	 */
	if (!vq->event_idx)
		WRITE_ONCE(vq->used->flags, htole16(VRING_USED_F_NO_NOTIFY));
}

void vring_kick_after(struct vring_state *vq, u16 n)
{
	/*
	 * The driver kicks when its new avail->idx passes avail_event
	 * (vring_need_event()): n - 1 past what we popped is the n-th new
	 * buffer.
	 */
	if (vq->event_idx)
		WRITE_ONCE(*vring_avail_event_slot(vq),
			   htole16((u16)(vq->last_avail_idx + n - 1)));
	else
		WRITE_ONCE(vq->used->flags, htole16(VRING_USED_F_NO_NOTIFY));
}

bool vring_arm_kicks(struct vring_state *vq)
{
	if (vq->event_idx)
		WRITE_ONCE(*vring_avail_event_slot(vq), htole16(vq->last_avail_idx));
	else
		WRITE_ONCE(vq->used->flags, 0);
	/*
	 * Pairs with virtio_mb() in the driver's
	 * virtqueue_kick_prepare_split() (it writes avail->idx, then reads
	 * avail_event/used->flags).  Store-buffer pattern: our avail_event
	 * (or flags) store must be visible before we re-read avail->idx, or
	 * the driver may see notifications still off and not kick while we
	 * see no new buffers and go idle: a lost kick.
	 * Proved needed: tests/models/vring-idle.pml, mutants
	 * NO_MB_ARM_EVIDX and NO_MB_ARM_FLAGS.
	 */
	vring_arm_mb();
	return vring_has_work(vq);
}

bool vring_has_work(struct vring_state *vq)
{
	return le16toh(READ_ONCE(vq->avail->idx)) != vq->last_avail_idx;
}

size_t vring_chain_read(const struct vring_chain *e, u64 off, void *buf,
			    size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < e->out_num && done < len; i++) {
		const struct iovec *v = &e->iov[i];
		size_t n;

		if (off >= v->iov_len) {
			off -= v->iov_len;
			continue;
		}
		n = min_t(size_t, v->iov_len - off, len - done);
		memcpy((u8 *)buf + done, (u8 *)v->iov_base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t vring_chain_write(const struct vring_chain *e, u64 off,
			  const void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned int i = e->out_num; i < e->out_num + e->in_num &&
					  done < len; i++) {
		const struct iovec *v = &e->iov[i];
		size_t n;

		if (off >= v->iov_len) {
			off -= v->iov_len;
			continue;
		}
		n = min_t(size_t, v->iov_len - off, len - done);
		memcpy((u8 *)v->iov_base + off, (const u8 *)buf + done, n);
		done += n;
		off = 0;
	}
	return done;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Driver side of a split virtqueue, after Linux's virtio_ring.c.
 *
 * Barrier pairing with lkvm's device side (virtio/vring.c):
 *
 *   driver                              device
 *   ring[avail] = head                  read avail->idx (acquire)
 *   wmb                     <-pairs->   (the acquire)
 *   avail->idx = n                      read ring[], descriptors
 *
 *   avail->idx = n                      avail_event = x (arm kicks)
 *   mb                      <-pairs->   mb
 *   read avail_event/flags (kick?)      re-read avail->idx
 *
 *   used_event = x (enable_cb)          used->idx = n (push)
 *   mb                      <-pairs->   mb
 *   re-read used->idx (poll)            read used_event/flags (notify?)
 *
 *   read used->idx                      write used->ring[]
 *   rmb                     <-pairs->   (the release)
 *   read used->ring[]                   used->idx = n (release)
 *
 * x86 is TSO, so wmb/rmb only stop the compiler; the two store->load
 * cases need a real mfence.
 */
#include "../include/virtio.h"

void virtq_reset_state(struct virtq *vq);
void virtq_reset_state(struct virtq *vq)
{
	unsigned int i;

	for (i = 0; i < vq->size; i++)
		vq->desc[i].next = i + 1;
	vq->free_head = 0;
	vq->num_free = vq->size;
	vq->avail_idx = vq->kicked_idx = vq->last_used = vq->irq_used = 0;
	/* Start with interrupts off; virtq_wait() turns them on. */
	vq->avail_flags = VRING_AVAIL_F_NO_INTERRUPT;
	vq->avail->flags = vq->avail_flags;
	vq->nr_indirect_free = vq->size;
	for (i = 0; i < vq->size; i++)
		vq->indirect_free[i] = i;
	memset(vq->tokens, 0, sizeof(vq->tokens));
}

static struct vring_desc *indirect_get(struct virtq *vq)
{
	if (!vq->nr_indirect_free)
		return NULL;
	return vq->indirect_pool +
	       INDIRECT_MAX * vq->indirect_free[--vq->nr_indirect_free];
}

static void indirect_put(struct virtq *vq, struct vring_desc *t)
{
	vq->indirect_free[vq->nr_indirect_free++] =
		(t - vq->indirect_pool) / INDIRECT_MAX;
}

void virtq_publish_head(struct virtq *vq, uint16_t head)
{
	vq->avail->ring[vq->avail_idx & (vq->size - 1)] = head;
	/*
	 * The ring entry (and the descriptors written before) must be
	 * visible before the index that covers them; pairs with the
	 * device's acquire load of avail->idx in vring_pop().
	 */
	virt_wmb();
	vq->avail_idx++;
	WRITE_ONCE(vq->avail->idx, vq->avail_idx);
}

int virtq_add(struct virtq *vq, const struct vsg *sg, unsigned int nout,
	      unsigned int nin, void *data, bool indirect)
{
	unsigned int total = nout + nin, n, i;
	struct vring_desc *table = NULL;
	uint16_t head, idx, prev = 0;

	if (!total || !data)
		return -1;
	if (indirect && vq->vdev->indirect && total > 1 &&
	    total <= INDIRECT_MAX)
		table = indirect_get(vq);

	if (table) {
		for (i = 0; i < total; i++) {
			table[i].addr = (uintptr_t)sg[i].addr;
			table[i].len = sg[i].len;
			table[i].flags = (i >= nout ? VRING_DESC_F_WRITE : 0) |
					 (i + 1 < total ? VRING_DESC_F_NEXT : 0);
			table[i].next = i + 1;
		}
		n = 1;
	} else {
		n = total;
	}
	if (vq->num_free < n) {
		if (table)
			indirect_put(vq, table);
		return -1;
	}

	head = idx = vq->free_head;
	if (table) {
		vq->desc[idx].addr = (uintptr_t)table;
		vq->desc[idx].len = total * sizeof(*table);
		vq->desc[idx].flags = VRING_DESC_F_INDIRECT;
		prev = idx;
		idx = vq->desc[idx].next;
	} else {
		/* The free list is linked through .next: keep those links. */
		for (i = 0; i < total; i++) {
			vq->desc[idx].addr = (uintptr_t)sg[i].addr;
			vq->desc[idx].len = sg[i].len;
			vq->desc[idx].flags = VRING_DESC_F_NEXT |
				(i >= nout ? VRING_DESC_F_WRITE : 0);
			prev = idx;
			idx = vq->desc[idx].next;
		}
		vq->desc[prev].flags &= ~VRING_DESC_F_NEXT;
	}
	vq->free_head = idx;
	vq->num_free -= n;
	vq->tokens[head].data = data;
	vq->tokens[head].indirect = table;
	vq->tokens[head].ndesc = n;
	virtq_publish_head(vq, head);
	return 0;
}

bool virtq_kick_prepare(struct virtq *vq)
{
	uint16_t old = vq->kicked_idx, new = vq->avail_idx;

	/*
	 * Store avail->idx, then load avail_event / used->flags: the
	 * store->load order needs a full fence.  Pairs with the device's
	 * full barrier between publishing avail_event (or clearing
	 * NO_NOTIFY) and re-reading avail->idx in vring_arm_kicks():
	 * either we see its new avail_event, or it sees our new idx.
	 */
	virt_mb();
	vq->kicked_idx = new;
	if (vq->vdev->event_idx)
		return vring_need_event(READ_ONCE(*vq->avail_event), new, old);
	return !(READ_ONCE(vq->used->flags) & VRING_USED_F_NO_NOTIFY);
}

void virtq_notify(struct virtq *vq)
{
	vq->nr_kicks++;
	virtio_notify_raw(vq->vdev, vq, vq->index);
}

bool virtq_kick(struct virtq *vq)
{
	if (!virtq_kick_prepare(vq))
		return false;
	virtq_notify(vq);
	return true;
}

bool virtq_more_used(struct virtq *vq)
{
	return vq->last_used != READ_ONCE(vq->used->idx);
}

static void detach(struct virtq *vq, uint16_t head)
{
	struct virtq_token *t = &vq->tokens[head];
	uint16_t i = head, n;

	if (t->indirect)
		indirect_put(vq, t->indirect);
	for (n = 1; n < t->ndesc; n++)
		i = vq->desc[i].next;
	vq->desc[i].next = vq->free_head;
	vq->free_head = head;
	vq->num_free += t->ndesc;
	t->data = NULL;
	t->indirect = NULL;
}

int virtq_get_used(struct virtq *vq, void **datap, uint32_t *idp,
		   uint32_t *len)
{
	struct vring_used_elem *e;
	uint32_t id;
	void *data;

	*datap = NULL;
	if (!virtq_more_used(vq))
		return 0;
	/*
	 * Read used->idx before the element it covers; pairs with the
	 * device's release store of used->idx, after used->ring[], in
	 * vring_push().
	 */
	virt_rmb();
	e = &vq->used->ring[vq->last_used & (vq->size - 1)];
	id = e->id;
	if (idp)
		*idp = id;
	if (len)
		*len = e->len;
	if (id >= vq->size || !vq->tokens[id].data) {
		vq->last_used++;
		return -1;
	}
	data = vq->tokens[id].data;
	detach(vq, id);
	vq->last_used++;
	/*
	 * With interrupts on, move used_event along so the device keeps
	 * interrupting for every new entry, and make the store visible
	 * before our next read of used->idx (pairs with the device's full
	 * barrier between writing used->idx and reading used_event).
	 */
	if (vq->vdev->event_idx && !(vq->avail_flags & VRING_AVAIL_F_NO_INTERRUPT)) {
		WRITE_ONCE(*vq->used_event, vq->last_used);
		virt_mb();
	}
	*datap = data;
	return 1;
}

void *virtq_get_buf(struct virtq *vq, uint32_t *len)
{
	uint32_t id;
	void *data;

	if (virtq_get_used(vq, &data, &id, len) < 0)
		printf("virtq %u: device returned bad id %u\n", vq->index, id);
	return data;
}

void virtq_disable_cb(struct virtq *vq)
{
	if (vq->avail_flags & VRING_AVAIL_F_NO_INTERRUPT)
		return;
	vq->avail_flags |= VRING_AVAIL_F_NO_INTERRUPT;
	/*
	 * Best effort, no barrier needed: the device may still interrupt.
	 * With EVENT_IDX the flag means nothing to the device, so park
	 * used_event where it will not cross it: the device signals when
	 * used_event lies in [what it last checked, used->idx), never wider
	 * than the ring, so half the index space from last_used is outside.
	 * (Just behind last_used is not: a device that pushed entries we
	 * already consumed, but has not made its notify decision for them
	 * yet, still crosses it.  Linux writes 0, far away but near a wrap.)
	 */
	if (vq->vdev->event_idx)
		WRITE_ONCE(*vq->used_event, vq->last_used + 0x8000);
	else
		WRITE_ONCE(vq->avail->flags, vq->avail_flags);
}

uint16_t virtq_enable_cb_prepare(struct virtq *vq)
{
	if (vq->avail_flags & VRING_AVAIL_F_NO_INTERRUPT) {
		vq->avail_flags &= ~VRING_AVAIL_F_NO_INTERRUPT;
		if (!vq->vdev->event_idx)
			WRITE_ONCE(vq->avail->flags, vq->avail_flags);
	}
	WRITE_ONCE(*vq->used_event, vq->last_used);
	return vq->last_used;
}

bool virtq_poll(struct virtq *vq, uint16_t last_used)
{
	/*
	 * Our store of used_event/flags, then the load of used->idx:
	 * store->load, so a full fence.  Pairs with the device's full
	 * barrier between writing used->idx and reading used_event in
	 * vring_need_interrupt(): either it sees interrupts are wanted, or
	 * we see its new used->idx here.
	 */
	virt_mb();
	return last_used != READ_ONCE(vq->used->idx);
}

bool virtq_enable_cb(struct virtq *vq)
{
	return !virtq_poll(vq, virtq_enable_cb_prepare(vq));
}

bool virtq_enable_cb_delayed(struct virtq *vq)
{
	uint16_t bufs;

	/*
	 * Without EVENT_IDX the device cannot be told to wait, so this is
	 * plain virtq_enable_cb().  (Linux's variant still tolerates up to
	 * "bufs" already-used entries there and relies on a later push to
	 * interrupt; any movement is simpler and never strands an entry.)
	 */
	if (!vq->vdev->event_idx)
		return virtq_enable_cb(vq);
	vq->avail_flags &= ~VRING_AVAIL_F_NO_INTERRUPT;
	/* Linux's threshold: three quarters of what is outstanding. */
	bufs = (uint16_t)(vq->avail_idx - vq->last_used) * 3 / 4;
	WRITE_ONCE(*vq->used_event, vq->last_used + bufs);
	/*
	 * used_event store, then used->idx load: a full fence.  Pairs with
	 * the full barrier in vring_need_interrupt() between the device's
	 * used->idx store and its used_event load: either it sees the new
	 * used_event and interrupts when crossing it, or we see that it is
	 * already past and process without waiting.
	 */
	virt_mb();
	return (uint16_t)(READ_ONCE(vq->used->idx) - vq->last_used) <= bufs;
}

unsigned long virtq_missed_irqs, virtq_early_irqs;

bool virtq_wait(struct virtq *vq, unsigned int timeout_ms)
{
	struct virtio_dev *vd = vq->vdev;
	uint64_t now, end = ms_now() + timeout_ms, moved = 0;
	unsigned long irqs0 = READ_ONCE(vd->nr_irqs), seen;

	if (vd->irq_mode == VIRQ_POLL) {
		while (!virtq_more_used(vq)) {
			if (ms_now() >= end)
				return false;
			cpu_relax();
		}
		return true;
	}

	if (!virtq_enable_cb(vq)) {
		/* Arrived before interrupts were back on: no interrupt due. */
		virtq_disable_cb(vq);
		return true;
	}
	irq_enable();
	seen = READ_ONCE(vd->nr_irqs);
	if (seen != irqs0) {
		/*
		 * Raised before we armed, held by the nested host until this
		 * exit.  Legal if the device used buffers since the last
		 * interrupt we saw: ones we consumed without waiting, which
		 * it decided to signal before our disable_cb reached it (or
		 * with its first signal, which ignores used_event).  With
		 * nothing used since then, nothing explains it.
		 */
		if (vq->last_used == vq->irq_used && !virtq_more_used(vq))
			virtq_early_irqs++;
		vq->irq_used = READ_ONCE(vq->used->idx);
	}
	for (;;) {
		/* Count first: an interrupt between the two reads is then
		 * never taken for one that came before used->idx moved. */
		unsigned long n = READ_ONCE(vd->nr_irqs);
		bool more = (barrier(), virtq_more_used(vq));

		now = ms_now();
		if (n != seen) {
			seen = n;
			/*
			 * An interrupt, but used->idx has not moved: legal (a
			 * shared line, a stale one) but worth counting, since a
			 * device that signals before publishing used->idx
			 * looks exactly like this.  Keep waiting.
			 */
			if (!more)
				virtq_early_irqs++;
			vq->irq_used = READ_ONCE(vq->used->idx);
		}
		if (more && n != irqs0)
			break;
		/*
		 * The ring moved but no interrupt yet: give it 200 ms, then
		 * call it lost (a device-side EVENT_IDX bug).
		 */
		if (more && !moved)
			moved = now;
		if ((moved && now - moved > 200) || now >= end)
			break;
		cpu_relax();
	}
	irq_disable();
	virtq_disable_cb(vq);
	if (!virtq_more_used(vq))
		return false;
	if (READ_ONCE(vd->nr_irqs) == irqs0) {
		virtq_missed_irqs++;
		printf("virtq %u: used buffers but no interrupt\n", vq->index);
	}
	return true;
}

void virtq_dump(struct virtq *vq)
{
	printf("virtq %u: avail %u kicked %u used %u last_used %u avail_event %u used_event %u used.flags %u avail.flags %u kicks %lu irqs %lu status 0x%x\n",
	       vq->index, vq->avail->idx, vq->kicked_idx, vq->used->idx,
	       vq->last_used, *vq->avail_event, *vq->used_event,
	       vq->used->flags, vq->avail->flags, vq->nr_kicks,
	       READ_ONCE(vq->vdev->nr_irqs), virtio_get_status(vq->vdev));
}

// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: virtio-blk request planning (virtio/blk-req.c) on the
 * chains the real vring_pop() takes from a ring laid out by the input
 * (tests/fuzz/ring.h), then what virtio/blk.c does with the plan: the
 * status byte written, or the backend reading/writing the data segments.
 * Header bytes 12..15: disk capacity in 4 KiB units (12..13, so requests
 * at and past the end are reached), flags (14: bit 0 read-only, bit 1
 * discard, bit 2 write-zeroes), serial length (15).
 */
#include "virtio/blk-req.h"

#include "ring.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static void backend(const struct blk_geometry *g, const struct disk_req *d)
{
	u64 len = 0;
	unsigned int i;

	switch (d->op) {
	case DISK_OP_READ:
	case DISK_OP_WRITE:
		for (i = 0; i < d->iovcnt; i++)
			len += d->iov[i].iov_len;
		if (d->iovcnt > VRING_MAX_SEGS)
			abort();
		break;
	case DISK_OP_DISCARD:
	case DISK_OP_WRITE_ZEROES:
		len = d->len;
		break;
	case DISK_OP_FLUSH:
		return;
	default:
		abort();
	}
	/* Planned I/O stays on the disk, in whole sectors. */
	if (d->offset % BLK_SECTOR_SIZE || d->offset > g->capacity << 9 ||
	    len > (g->capacity << 9) - d->offset)
		abort();
	if (g->readonly && d->op != DISK_OP_READ)
		abort();
	for (i = 0; d->op == DISK_OP_READ && i < d->iovcnt; i++)
		memset(d->iov[i].iov_base, 0x5a, d->iov[i].iov_len);
	for (i = 0; d->op == DISK_OP_WRITE && i < d->iovcnt; i++) {
		const u8 *p = d->iov[i].iov_base;
		size_t j;

		for (j = 0; j < d->iov[i].iov_len; j++)
			fuzz_sink ^= p[j];
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct blk_geometry g = { 0 };
	struct blk_plan plan;
	int max, nr = 0;

	max = fuzz_ring_setup(data, size);
	if (max < 0)
		return 0;
	g.capacity = (u64)fuzz_u16(data + 12) << 3;
	g.readonly = data[14] & 1;
	g.can_discard = data[14] & 2;
	g.can_write_zeroes = data[14] & 4;
	memset(g.serial, 's', data[15] % (sizeof(g.serial) + 1));

	while (nr++ < max && fuzz_ring_pop(&fuzz_chain) > 0) {
		u32 len = 0;

		memset(&plan, 0, sizeof(plan));
		switch (blk_req_plan(&g, &fuzz_chain, &plan)) {
		case BLK_PLAN_NO_STATUS:
			break;
		case BLK_PLAN_DONE:
			*plan.status = plan.result;
			len = plan.written + 1;
			break;
		case BLK_PLAN_SUBMIT:
			backend(&g, &plan.dreq);
			*plan.status = VIRTIO_BLK_S_OK;
			len = plan.written + 1;
			break;
		}
		if (len > fuzz_chain.in_len)
			abort();
		vring_push(&fuzz_vq, fuzz_chain.id.head, len);
		vring_need_interrupt(&fuzz_vq);
	}
	vring_unmap(&fuzz_vq);
	return 0;
}

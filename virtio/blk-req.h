/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_VIRTIO_BLK_REQ_H
#define LKVM_VIRTIO_BLK_REQ_H

/*
 * virtio-blk requests without a device: a popped chain in, a backend
 * request or an immediate status out.  Pure functions of the chain and
 * the disk's geometry, unit-tested on host memory.
 */
#include <linux/virtio_blk.h>

#include "lkvm/disk.h"
#include "lkvm/vring.h"

#define BLK_SECTOR_SHIFT	9
#define BLK_SECTOR_SIZE		(1U << BLK_SECTOR_SHIFT)
/* DISCARD / WRITE_ZEROES: one range per request, at most 2 GiB. */
#define BLK_MAX_RANGE_SECTORS	(1U << 22)

/* What a request may do to this disk. */
struct blk_geometry {
	u64 capacity;			/* in 512-byte sectors */
	bool readonly;
	bool can_discard;
	bool can_write_zeroes;
	/* GET_ID answer: not NUL-terminated if all 20 bytes are used. */
	char serial[VIRTIO_BLK_ID_BYTES];
};

/* The outcome of parsing one chain. */
enum blk_plan_kind {
	BLK_PLAN_SUBMIT,		/* plan->dreq is ready for the backend */
	BLK_PLAN_DONE,			/* complete now with plan->result */
	BLK_PLAN_NO_STATUS,		/* no writable byte: complete, length 0 */
};

struct blk_plan {
	/* BLK_PLAN_SUBMIT: op, offset, len, iov, iovcnt. */
	struct disk_req dreq;
	/* The chain's last byte, in guest memory: where the status goes. */
	u8 *status;
	/* Bytes written into the chain before the status (used length - 1). */
	u32 written;
	/* BLK_PLAN_DONE: the VIRTIO_BLK_S_* status. */
	u8 result;
};

/*
 * Turns @chain into @plan.  Completed at once (BLK_PLAN_DONE): a short
 * header, a data length that is not whole sectors, a range past the end
 * of the disk (overflow included) or a write to a read-only disk with
 * VIRTIO_BLK_S_IOERR; an unknown type or a range request the disk cannot
 * do with VIRTIO_BLK_S_UNSUPP; GET_ID with VIRTIO_BLK_S_OK and the serial
 * written.  READ/WRITE slice @chain's iovecs in place: plan->dreq.iov
 * points there, so @chain must outlive the request.
 */
enum blk_plan_kind blk_req_plan(const struct blk_geometry *g,
				struct vring_chain *chain,
				struct blk_plan *plan);

#endif

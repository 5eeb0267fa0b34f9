// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk request parsing (virtio 1.2, 5.2.6): header, data segments
 * and status byte of a chain, checked against the disk before any backend
 * sees them.  See blk-req.h.
 */
#include <endian.h>
#include <string.h>

#include "blk-req.h"

static enum blk_plan_kind blk_done(struct blk_plan *p, u8 status)
{
	p->result = status;
	return BLK_PLAN_DONE;
}

/* Whole sectors, entirely inside the disk; no overflow possible. */
static bool blk_range_ok(const struct blk_geometry *g, u64 sector, u64 len)
{
	if (len % BLK_SECTOR_SIZE)
		return false;
	return sector <= g->capacity &&
	       (len >> BLK_SECTOR_SHIFT) <= g->capacity - sector;
}

/* DISCARD / WRITE_ZEROES: one struct virtio_blk_discard_write_zeroes. */
static enum blk_plan_kind blk_range_plan(const struct blk_geometry *g,
					 const struct vring_chain *c, u32 type,
					 u64 out_data, struct blk_plan *p)
{
	struct virtio_blk_discard_write_zeroes seg;
	u64 sector;
	u32 num, flags;

	if (out_data != sizeof(seg))
		return blk_done(p, VIRTIO_BLK_S_UNSUPP);	/* max_*_seg is 1 */
	if (vring_chain_read(c, sizeof(struct virtio_blk_outhdr), &seg,
			     sizeof(seg)) != sizeof(seg))
		return blk_done(p, VIRTIO_BLK_S_IOERR);
	sector = le64toh(seg.sector);
	num = le32toh(seg.num_sectors);
	flags = le32toh(seg.flags);
	if ((type == VIRTIO_BLK_T_DISCARD && flags) ||
	    (flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
		return blk_done(p, VIRTIO_BLK_S_UNSUPP);
	if (g->readonly || num > BLK_MAX_RANGE_SECTORS ||
	    !blk_range_ok(g, sector, (u64)num << BLK_SECTOR_SHIFT))
		return blk_done(p, VIRTIO_BLK_S_IOERR);
	p->dreq.op = type == VIRTIO_BLK_T_DISCARD ? DISK_OP_DISCARD :
						    DISK_OP_WRITE_ZEROES;
	p->dreq.offset = sector << BLK_SECTOR_SHIFT;
	p->dreq.len = (u64)num << BLK_SECTOR_SHIFT;
	return BLK_PLAN_SUBMIT;
}

static enum blk_plan_kind blk_plan_body(const struct blk_geometry *g,
					struct vring_chain *c,
					struct blk_plan *p)
{
	struct virtio_blk_outhdr hdr;
	u64 sector, out_data, in_data;
	u32 type;

	if (vring_chain_read(c, 0, &hdr, sizeof(hdr)) != sizeof(hdr))
		return blk_done(p, VIRTIO_BLK_S_IOERR);
	type = le32toh(hdr.type);
	sector = le64toh(hdr.sector);
	out_data = c->out_len - sizeof(hdr);
	in_data = c->in_len - 1;	/* the caller saw a status byte */

	switch (type) {
	case VIRTIO_BLK_T_IN:
		if (!blk_range_ok(g, sector, in_data))
			return blk_done(p, VIRTIO_BLK_S_IOERR);
		/* In place: each slice entry comes from a later one. */
		p->dreq.iovcnt = iov_slice(&c->iov[c->out_num], c->in_num, 0,
					   in_data, c->iov);
		p->dreq.op = DISK_OP_READ;
		p->written = (u32)in_data;
		break;
	case VIRTIO_BLK_T_OUT:
		if (g->readonly || !blk_range_ok(g, sector, out_data))
			return blk_done(p, VIRTIO_BLK_S_IOERR);
		p->dreq.iovcnt = iov_slice(c->iov, c->out_num, sizeof(hdr),
					   out_data, c->iov);
		p->dreq.op = DISK_OP_WRITE;
		break;
	case VIRTIO_BLK_T_FLUSH:
		p->dreq.op = DISK_OP_FLUSH;
		return BLK_PLAN_SUBMIT;
	case VIRTIO_BLK_T_GET_ID:
		p->written = (u32)vring_chain_write(c, 0, g->serial,
				min_t(u64, in_data, sizeof(g->serial)));
		return blk_done(p, VIRTIO_BLK_S_OK);
	case VIRTIO_BLK_T_DISCARD:
		if (!g->can_discard)
			return blk_done(p, VIRTIO_BLK_S_UNSUPP);
		return blk_range_plan(g, c, type, out_data, p);
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (!g->can_write_zeroes)
			return blk_done(p, VIRTIO_BLK_S_UNSUPP);
		return blk_range_plan(g, c, type, out_data, p);
	default:
		return blk_done(p, VIRTIO_BLK_S_UNSUPP);
	}
	p->dreq.iov = c->iov;
	p->dreq.offset = sector << BLK_SECTOR_SHIFT;
	return BLK_PLAN_SUBMIT;
}

enum blk_plan_kind blk_req_plan(const struct blk_geometry *g,
				struct vring_chain *c, struct blk_plan *p)
{
	const struct iovec *last;
	enum blk_plan_kind kind;

	memset(p, 0, sizeof(*p));
	if (!c->in_len)
		return BLK_PLAN_NO_STATUS;
	/* Zero-length buffers were dropped by vring_pop: last is >= 1 byte. */
	last = &c->iov[c->out_num + c->in_num - 1];
	p->status = (u8 *)last->iov_base + last->iov_len - 1;
	kind = blk_plan_body(g, c, p);
	if (kind == BLK_PLAN_DONE && p->result != VIRTIO_BLK_S_OK)
		p->written = 0;
	return kind;
}

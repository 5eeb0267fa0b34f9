// SPDX-License-Identifier: GPL-2.0
/*
 * blk_req_plan(): virtio-blk chains (virtio 1.2, 5.2.6) turned into a
 * backend request or an immediate status, without a device: the chains
 * are iovecs over host buffers, as vring_pop() would hand them over.
 */
#include <endian.h>
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "virtio/blk-req.h"

#define CAPACITY	2048		/* sectors: 1 MiB */

static struct virtio_blk_outhdr hdr;
static u8 data[8192], status_buf[4];
static struct virtio_blk_discard_write_zeroes seg;

static struct blk_geometry geo(bool ro)
{
	struct blk_geometry g = {
		.capacity = CAPACITY, .readonly = ro,
		.can_discard = true, .can_write_zeroes = true,
	};

	memcpy(g.serial, "lkvm-serial-0123456", 19);
	return g;
}

/* header + @out_data driver bytes, then @in_data device bytes + status. */
static void chain(struct vring_chain *c, u32 type, u64 sector, size_t out_data,
		  size_t in_data)
{
	unsigned int n = 0;

	memset(c, 0, sizeof(*c));
	hdr = (struct virtio_blk_outhdr){
		.type = htole32(type), .sector = htole64(sector),
	};
	c->iov[n++] = (struct iovec){ &hdr, sizeof(hdr) };
	if (out_data)
		c->iov[n++] = (struct iovec){ data, out_data };
	c->out_num = n;
	c->out_len = sizeof(hdr) + out_data;
	if (in_data)
		c->iov[n++] = (struct iovec){ data, in_data };
	c->iov[n++] = (struct iovec){ status_buf, 1 };
	c->in_num = n - c->out_num;
	c->in_len = in_data + 1;
}

static void test_read_write(void)
{
	struct blk_geometry g = geo(false), ro = geo(true);
	struct vring_chain c;
	struct blk_plan p;

	chain(&c, VIRTIO_BLK_T_IN, 8, 0, 1024);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_SUBMIT &&
	   p.dreq.op == DISK_OP_READ && p.dreq.offset == 8 * 512 &&
	   p.dreq.iovcnt == 1 && p.dreq.iov[0].iov_base == data &&
	   p.dreq.iov[0].iov_len == 1024 && p.written == 1024 &&
	   p.status == status_buf,
	   "READ: the data buffers without the status byte, 1024 written");

	/* Data and status in one writable buffer (Linux does this). */
	memset(&c, 0, sizeof(c));
	hdr = (struct virtio_blk_outhdr){ .type = htole32(VIRTIO_BLK_T_IN) };
	c.iov[0] = (struct iovec){ &hdr, sizeof(hdr) };
	c.iov[1] = (struct iovec){ data, 513 };
	c.out_num = 1;
	c.in_num = 1;
	c.out_len = sizeof(hdr);
	c.in_len = 513;
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_SUBMIT &&
	   p.dreq.iovcnt == 1 && p.dreq.iov[0].iov_len == 512 &&
	   p.status == data + 512,
	   "READ: status is the last byte of a shared buffer");

	chain(&c, VIRTIO_BLK_T_IN, CAPACITY - 1, 0, 1024);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_DONE &&
	   p.result == VIRTIO_BLK_S_IOERR && p.written == 0,
	   "READ past the end: IOERR, nothing written");
	chain(&c, VIRTIO_BLK_T_IN, UINT64_MAX, 0, 512);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_DONE &&
	   p.result == VIRTIO_BLK_S_IOERR, "READ at sector 2^64-1: IOERR");
	chain(&c, VIRTIO_BLK_T_IN, 0, 0, 100);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_DONE &&
	   p.result == VIRTIO_BLK_S_IOERR, "READ of 100 bytes: IOERR");
	chain(&c, VIRTIO_BLK_T_IN, CAPACITY - 2, 0, 1024);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_SUBMIT,
	   "READ of the last two sectors: submitted");

	chain(&c, VIRTIO_BLK_T_OUT, 4, 2048, 0);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_SUBMIT &&
	   p.dreq.op == DISK_OP_WRITE && p.dreq.offset == 4 * 512 &&
	   p.dreq.iovcnt == 1 && p.dreq.iov[0].iov_base == data &&
	   p.dreq.iov[0].iov_len == 2048 && p.written == 0,
	   "WRITE: the data after the header, nothing written back");
	chain(&c, VIRTIO_BLK_T_OUT, 4, 2048, 0);
	ok(blk_req_plan(&ro, &c, &p) == BLK_PLAN_DONE &&
	   p.result == VIRTIO_BLK_S_IOERR, "WRITE on a read-only disk: IOERR");
	chain(&c, VIRTIO_BLK_T_OUT, 0, 600, 0);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_DONE &&
	   p.result == VIRTIO_BLK_S_IOERR, "WRITE of 600 bytes: IOERR");
}

static void test_other_types(void)
{
	struct blk_geometry g = geo(false), ro = geo(true);
	struct vring_chain c;
	struct blk_plan p;

	chain(&c, VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_SUBMIT &&
	   p.dreq.op == DISK_OP_FLUSH, "FLUSH: submitted");
	chain(&c, VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ok(blk_req_plan(&ro, &c, &p) == BLK_PLAN_SUBMIT,
	   "FLUSH on a read-only disk: submitted (the disk says it is a no-op)");

	memset(data, 0xee, 64);
	chain(&c, VIRTIO_BLK_T_GET_ID, 0, 0, VIRTIO_BLK_ID_BYTES);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_DONE &&
	   p.result == VIRTIO_BLK_S_OK && p.written == VIRTIO_BLK_ID_BYTES &&
	   !memcmp(data, "lkvm-serial-0123456", 20),
	   "GET_ID: the 20-byte serial, OK");
	chain(&c, VIRTIO_BLK_T_GET_ID, 0, 0, 8);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_DONE && p.written == 8,
	   "GET_ID into 8 bytes: 8 written");

	chain(&c, 0x1234, 0, 0, 0);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_DONE &&
	   p.result == VIRTIO_BLK_S_UNSUPP, "unknown type: UNSUPP");

	chain(&c, VIRTIO_BLK_T_IN, 0, 0, 512);
	c.iov[0].iov_len = 8;
	c.out_len = 8;
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_DONE &&
	   p.result == VIRTIO_BLK_S_IOERR && p.status == status_buf,
	   "8-byte header: IOERR into the status byte");

	memset(&c, 0, sizeof(c));
	c.iov[0] = (struct iovec){ &hdr, sizeof(hdr) };
	c.out_num = 1;
	c.out_len = sizeof(hdr);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_NO_STATUS,
	   "no writable byte: no status to write");
}

/* header + one discard/write-zeroes segment + status. */
static void range_chain(struct vring_chain *c, u32 type, u64 sector, u32 num,
			u32 flags)
{
	seg = (struct virtio_blk_discard_write_zeroes){
		.sector = htole64(sector), .num_sectors = htole32(num),
		.flags = htole32(flags),
	};
	memcpy(data, &seg, sizeof(seg));
	chain(c, type, 0, sizeof(seg), 0);
}

static void test_ranges(void)
{
	struct blk_geometry g = geo(false), ro = geo(true), none = geo(false);
	struct vring_chain c;
	struct blk_plan p;

	none.can_discard = none.can_write_zeroes = false;
	range_chain(&c, VIRTIO_BLK_T_DISCARD, 16, 32, 0);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_SUBMIT &&
	   p.dreq.op == DISK_OP_DISCARD && p.dreq.offset == 16 * 512 &&
	   p.dreq.len == 32 * 512, "DISCARD: the segment's range");
	range_chain(&c, VIRTIO_BLK_T_DISCARD, 16, 32, 0);
	ok(blk_req_plan(&none, &c, &p) == BLK_PLAN_DONE &&
	   p.result == VIRTIO_BLK_S_UNSUPP, "DISCARD the disk cannot do: UNSUPP");
	range_chain(&c, VIRTIO_BLK_T_DISCARD, 16, 32,
		    VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_DONE &&
	   p.result == VIRTIO_BLK_S_UNSUPP, "DISCARD with UNMAP: UNSUPP");
	range_chain(&c, VIRTIO_BLK_T_DISCARD, 16, 32, 0);
	ok(blk_req_plan(&ro, &c, &p) == BLK_PLAN_DONE &&
	   p.result == VIRTIO_BLK_S_IOERR, "DISCARD on a read-only disk: IOERR");
	range_chain(&c, VIRTIO_BLK_T_DISCARD, CAPACITY - 1, 2, 0);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_DONE &&
	   p.result == VIRTIO_BLK_S_IOERR, "DISCARD past the end: IOERR");
	range_chain(&c, VIRTIO_BLK_T_DISCARD, 0, BLK_MAX_RANGE_SECTORS + 1, 0);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_DONE &&
	   p.result == VIRTIO_BLK_S_IOERR, "DISCARD over the 2 GiB limit: IOERR");

	range_chain(&c, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8,
		    VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_SUBMIT &&
	   p.dreq.op == DISK_OP_WRITE_ZEROES && p.dreq.len == 8 * 512,
	   "WRITE_ZEROES with UNMAP: submitted");
	range_chain(&c, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 2);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_DONE &&
	   p.result == VIRTIO_BLK_S_UNSUPP, "WRITE_ZEROES, unknown flag: UNSUPP");

	/* max_discard_seg is 1: two segments are refused. */
	range_chain(&c, VIRTIO_BLK_T_DISCARD, 0, 8, 0);
	c.iov[1].iov_len = 2 * sizeof(seg);
	c.out_len = sizeof(hdr) + 2 * sizeof(seg);
	ok(blk_req_plan(&g, &c, &p) == BLK_PLAN_DONE &&
	   p.result == VIRTIO_BLK_S_UNSUPP, "two DISCARD segments: UNSUPP");
}

int main(void)
{
	tap_plan(25);
	test_read_write();
	test_other_types();
	test_ranges();
	return tap_done();
}

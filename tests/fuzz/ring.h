/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the virtqueue fuzz targets: guest RAM and a split ring built
 * from the fuzzer's input, mapped through the real vring_map().
 *
 * Input: a 16-byte header, then the bytes of guest RAM from gpa 0 (the
 * rest of RAM is zero).  Header, little-endian:
 *   0      flags: bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bits 2-7 spare
 *   1..2   queue size (any value: vring_map() must refuse the bad ones)
 *   3..4   desc gpa   5..6 avail gpa   7..8 used gpa
 *   9..10  device's last_avail_idx = used_idx at start: a queue that has
 *          been running for a while, so the 2^16 index wrap is reached
 *          in one input
 *   11     chains to pop at most (the guest offers them all at once)
 *   12..15 spare bytes for the target (ring_hdr_spare())
 * RAM is two regions (a hole between them) so a buffer straddling the
 * hole must be refused.
 */
#ifndef LKVM_FUZZ_RING_H
#define LKVM_FUZZ_RING_H

#include <stdlib.h>
#include <string.h>

#include "lkvm/vring.h"

#define FUZZ_HDR	16
#define FUZZ_RAM0	0x10000		/* gpa 0 .. 64 KiB */
#define FUZZ_RAM1_GPA	0x20000		/* and 4 KiB after a 64 KiB hole */
#define FUZZ_RAM1	0x1000

static u8 fuzz_ram0[FUZZ_RAM0] __attribute__((aligned(4096)));
static u8 fuzz_ram1[FUZZ_RAM1] __attribute__((aligned(4096)));
static struct guest_mem fuzz_gm;
static struct vring_state fuzz_vq;
static struct vring_chain fuzz_chain;
/* Where reads of guest buffers go, so the compiler keeps them. */
static volatile u8 fuzz_sink;

static inline u16 fuzz_u16(const u8 *p)
{
	return p[0] | p[1] << 8;
}

/*
 * Sets RAM and the ring from @data.  Returns the number of chains to pop
 * at most, or -1 if the input is too short or vring_map() refused it
 * (which is the whole test for such an input).
 */
static int fuzz_ring_setup(const u8 *data, size_t size)
{
	size_t n;
	u16 start;

	if (size < FUZZ_HDR)
		return -1;
	if (!fuzz_gm.nr) {
		if (guest_mem_add(&fuzz_gm, 0, FUZZ_RAM0, fuzz_ram0) ||
		    guest_mem_add(&fuzz_gm, FUZZ_RAM1_GPA, FUZZ_RAM1, fuzz_ram1))
			abort();
	}
	memset(fuzz_ram0, 0, sizeof(fuzz_ram0));
	memset(fuzz_ram1, 0, sizeof(fuzz_ram1));
	n = size - FUZZ_HDR;
	memcpy(fuzz_ram0, data + FUZZ_HDR, n < FUZZ_RAM0 ? n : FUZZ_RAM0);
	if (n > FUZZ_RAM0)
		memcpy(fuzz_ram1, data + FUZZ_HDR + FUZZ_RAM0,
		       n - FUZZ_RAM0 < FUZZ_RAM1 ? n - FUZZ_RAM0 : FUZZ_RAM1);

	fuzz_vq = (struct vring_state){
		.size = fuzz_u16(data + 1),
		.desc_gpa = fuzz_u16(data + 3),
		.avail_gpa = fuzz_u16(data + 5),
		.used_gpa = fuzz_u16(data + 7),
	};
	if (vring_map(&fuzz_vq, &fuzz_gm, data[0] & 1, data[0] & 2))
		return -1;
	start = fuzz_u16(data + 9);
	fuzz_vq.last_avail_idx = start;
	fuzz_vq.used_idx = start;
	fuzz_vq.signalled_used = start;
	return data[11];
}

/*
 * virtio/queue.c's virtio_queue_pop(): suppress kicks while working, and
 * before going idle re-arm them and look once more.
 */
static int fuzz_ring_pop(struct vring_chain *chain)
{
	int ret;

	vring_suppress_kicks(&fuzz_vq);
	ret = vring_pop(&fuzz_vq, chain);
	if (ret == 0 && vring_arm_kicks(&fuzz_vq)) {
		vring_suppress_kicks(&fuzz_vq);
		ret = vring_pop(&fuzz_vq, chain);
	}
	return ret;
}

/* Every segment must lie in guest RAM: touch each byte of it. */
static inline void fuzz_chain_touch(const struct vring_chain *c)
{
	unsigned int i;

	if (c->out_num + c->in_num > VRING_MAX_SEGS)
		abort();
	for (i = 0; i < c->out_num + c->in_num; i++) {
		const u8 *p = c->iov[i].iov_base;
		size_t j;

		for (j = 0; j < c->iov[i].iov_len; j++)
			fuzz_sink ^= p[j];
	}
}

#endif

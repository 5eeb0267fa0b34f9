// SPDX-License-Identifier: GPL-2.0
/*
 * virtio/vring.c resource bounds: a queue of VRING_MAX_SIZE heads, each
 * an indirect table of VRING_MAX_SEGS buffers describing together just
 * under 2^32 bytes (the per-chain total), popped ring after ring.  The
 * walk maps guest memory in place into the caller's fixed vring_chain:
 * this process's RSS does not grow with the chains (budget: one slack
 * for the test itself), and the guest RAM the buffers name is never
 * touched.  One past each bound is refused: a table of VRING_MAX_SEGS
 * + 1 entries (-EINVAL), a chain one byte over 2^32 - 1 (-EOVERFLOW), a
 * queue of 2 x VRING_MAX_SIZE (-EINVAL at vring_map()).
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lkvm/vring.h"
#include "tap.h"
#include "rss.h"

#define QSZ		VRING_MAX_SIZE
#define DESC		0x0
#define AVAIL		0x4000
#define USED		0x6000
#define TBL		0x10000		/* VRING_MAX_SEGS + 1 entries */
#define MEM_SIZE	0x20000
#define BIG		0x100000000ULL	/* sparse: never touched */
#define BIG_SIZE	0x100000000ULL
#define SEG		(UINT32_MAX / VRING_MAX_SEGS)	/* 4 MiB - 1 */
#define SLACK_KIB	256
#define PASSES		16

static u8 *ram;
static struct guest_mem gm;
static struct vring_state vq;
static struct vring_chain elem;

static void set(struct vring_desc *d, u64 addr, u32 len, u16 flags, u16 next)
{
	d->addr = htole64(addr);
	d->len = htole32(len);
	d->flags = htole16(flags);
	d->next = htole16(next);
}

static struct vring_desc *desc(unsigned int i)
{
	return (struct vring_desc *)(ram + DESC) + i;
}

static struct vring_desc *tbl(unsigned int i)
{
	return (struct vring_desc *)(ram + TBL) + i;
}

static struct vring_avail *avail(void)
{
	return (struct vring_avail *)(ram + AVAIL);
}

/* Every head a table of @n entries; the ring full of them. */
static void fill(unsigned int n, u32 last_len)
{
	for (unsigned int i = 0; i < QSZ; i++) {
		set(desc(i), TBL, n * sizeof(struct vring_desc),
		    VRING_DESC_F_INDIRECT, 0);
		avail()->ring[i] = htole16((u16)i);
	}
	for (unsigned int j = 0; j < n; j++)
		set(tbl(j), BIG + (u64)j * SEG, j == n - 1 ? last_len : SEG,
		    VRING_DESC_F_WRITE | (j == n - 1 ? 0 : VRING_DESC_F_NEXT),
		    (u16)(j + 1));
	avail()->idx = htole16((u16)(le16toh(avail()->idx) + QSZ));
}

int main(void)
{
	struct vring_state bad = { .size = 2 * VRING_MAX_SIZE,
				   .desc_gpa = DESC, .avail_gpa = AVAIL,
				   .used_gpa = USED };
	long before, peak, rss_big;
	unsigned int popped = 0, wrong = 0;
	void *big;

	tap_plan(6);
	ram = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	big = mmap(NULL, BIG_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED || big == MAP_FAILED) {
		printf("1..0 # SKIP cannot map 4 GiB of address space\n");
		return 0;
	}
	guest_mem_add(&gm, 0, MEM_SIZE, ram);
	guest_mem_add(&gm, BIG, BIG_SIZE, big);
	memset(ram, 0, MEM_SIZE);
	vq = (struct vring_state){ .size = QSZ, .desc_gpa = DESC,
				   .avail_gpa = AVAIL, .used_gpa = USED };
	if (vring_map(&vq, &gm, false, true))
		abort();
	is_int(vring_map(&bad, &gm, false, true), -EINVAL,
	       "a queue of 2 x VRING_MAX_SIZE is refused");

	/* The last segment takes the total to exactly 2^32 - 1. */
	rss_big = rss_kib(0);
	before = rss_big;
	hwm_reset();
	for (int pass = 0; pass < PASSES; pass++) {
		fill(VRING_MAX_SEGS, UINT32_MAX - (VRING_MAX_SEGS - 1) * SEG);
		for (unsigned int i = 0; i < QSZ; i++) {
			if (vring_pop(&vq, &elem) != 1 ||
			    elem.in_num != VRING_MAX_SEGS ||
			    elem.in_len != UINT32_MAX)
				wrong++;
			else
				popped++;
		}
	}
	peak = hwm_kib(0);
	is_int(wrong, 0, "16 rings of 1024 chains: 1024 segments, 2^32 - 1 bytes each");
	diag("%u max chains (%llu GiB described): RSS %ld KiB before, peak %ld KiB",
	     popped, (unsigned long long)popped * UINT32_MAX >> 30, before, peak);
	rss_within(peak - before, SLACK_KIB, "16384 maximum chains");

	fill(VRING_MAX_SEGS + 1, SEG);
	is_int(vring_pop(&vq, &elem), -EINVAL,
	       "a table of VRING_MAX_SEGS + 1 entries: -EINVAL");
	vq.last_avail_idx = (u16)(le16toh(avail()->idx) - QSZ);
	fill(VRING_MAX_SEGS, UINT32_MAX - (VRING_MAX_SEGS - 1) * SEG + 1);
	vq.last_avail_idx = (u16)(le16toh(avail()->idx) - QSZ);
	is_int(vring_pop(&vq, &elem), -EOVERFLOW,
	       "a chain of 2^32 bytes: -EOVERFLOW");
	rss_within(rss_kib(0) - rss_big, SLACK_KIB,
		   "the 4 GiB the chains name was never touched");
	return tap_done();
}

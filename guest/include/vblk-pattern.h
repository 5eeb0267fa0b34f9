/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The data the vblk guest writes, shared with the host-side checker
 * guest/tools/vblk-pattern.c so both compute the same bytes.  Word i of
 * sector s is a hash of (seed, s, i); word 0 is the sector number itself
 * so that a misplaced sector is obvious in a hex dump.  Needs <stdint.h>.
 */
#ifndef VBLK_PATTERN_H
#define VBLK_PATTERN_H

#define VBLK_SECTOR	512

static inline uint32_t vblk_pattern_word(uint32_t seed, uint64_t sector,
					 unsigned int i)
{
	uint64_t x;

	if (i == 0)
		return (uint32_t)sector;
	/* splitmix64 finaliser over the three inputs */
	x = sector * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)seed << 32 | i);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (uint32_t)x;
}

static inline void vblk_pattern_fill(uint32_t seed, uint64_t sector,
				     uint32_t *buf)
{
	unsigned int i;

	for (i = 0; i < VBLK_SECTOR / 4; i++)
		buf[i] = vblk_pattern_word(seed, sector, i);
}

/* Index of the first wrong word, or -1. */
static inline int vblk_pattern_check(uint32_t seed, uint64_t sector,
				     const uint32_t *buf)
{
	unsigned int i;

	for (i = 0; i < VBLK_SECTOR / 4; i++)
		if (buf[i] != vblk_pattern_word(seed, sector, i))
			return i;
	return -1;
}

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * Host side of the vblk guest's data pattern, for the tests:
 *
 *   vblk-pattern check FILE SEED FIRST COUNT   exit 0 if the sectors match
 *   vblk-pattern gen SEED FIRST COUNT          pattern on stdout
 *
 * Built by the tests with the host cc (little-endian host assumed, like
 * the guest).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../include/vblk-pattern.h"

int main(int argc, char **argv)
{
	uint32_t buf[VBLK_SECTOR / 4];
	uint64_t first, count, s;
	uint32_t seed;
	FILE *f;
	int bad;

	if (argc == 6 && !strcmp(argv[1], "check")) {
		seed = strtoul(argv[3], NULL, 0);
		first = strtoull(argv[4], NULL, 0);
		count = strtoull(argv[5], NULL, 0);
		f = fopen(argv[2], "rb");
		if (!f || fseek(f, first * VBLK_SECTOR, SEEK_SET)) {
			perror(argv[2]);
			return 2;
		}
		for (s = first; s < first + count; s++) {
			if (fread(buf, sizeof(buf), 1, f) != 1) {
				fprintf(stderr, "short file at sector %llu\n",
					(unsigned long long)s);
				return 1;
			}
			bad = vblk_pattern_check(seed, s, buf);
			if (bad >= 0) {
				fprintf(stderr, "sector %llu word %d: %08x, want %08x\n",
					(unsigned long long)s, bad, buf[bad],
					vblk_pattern_word(seed, s, bad));
				return 1;
			}
		}
		fclose(f);
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "gen")) {
		seed = strtoul(argv[2], NULL, 0);
		first = strtoull(argv[3], NULL, 0);
		count = strtoull(argv[4], NULL, 0);
		for (s = first; s < first + count; s++) {
			vblk_pattern_fill(seed, s, buf);
			fwrite(buf, sizeof(buf), 1, stdout);
		}
		return 0;
	}
	fprintf(stderr, "usage: %s check FILE SEED FIRST COUNT | gen SEED FIRST COUNT\n",
		argv[0]);
	return 2;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-rng: read bytes=N (4096) bytes in 1 KiB buffers and check they
 * look random: at least 200 distinct byte values and none far above its
 * expected count (a stuck or zero-filling device fails).
 */
#include "guest.h"
#include "virtio.h"

#define BUF_SIZE	1024
#define NR_BUFS		4

static struct virtio_dev vd;
static struct virtio_opts opts;
static uint32_t hist[256];

static long vrng_main(long unused)
{
	struct virtq *vq;
	uint64_t want = 4096, got = 0, i;
	unsigned int distinct = 0, max = 0;
	uint32_t len;
	uint8_t *b;
	long v;

	(void)unused;
	if (!virtio_parse_opts(&opts))
		return 1;
	if (cmdline_get_int("bytes", &v) && v > 0)
		want = v;
	if (virtio_probe(&vd, &opts, VIRTIO_ID_RNG) ||
	    virtio_init(&vd, &opts, 0, 1))
		return 1;
	vq = vd.vqs[0];
	for (i = 0; i < NR_BUFS; i++) {
		struct vsg sg;

		b = valloc(BUF_SIZE, 64);
		sg = (struct vsg){ b, BUF_SIZE };
		if (!b || virtq_add(vq, &sg, 0, 1, b, false))
			return 1;
	}
	virtq_kick(vq);

	while (got < want) {
		while ((b = virtq_get_buf(vq, &len))) {
			struct vsg sg = { b, BUF_SIZE };

			if (len > BUF_SIZE) {
				printf("vrng: device claims %u bytes in a %u byte buffer\n",
				       len, BUF_SIZE);
				return 1;
			}
			for (i = 0; i < len && got < want; i++, got++)
				hist[b[i]]++;
			memset(b, 0, BUF_SIZE);
			if (got < want) {
				virtq_add(vq, &sg, 0, 1, b, false);
				virtq_kick(vq);
			}
		}
		if (got < want && !virtq_wait(vq, 5000)) {
			printf("vrng: timeout after %lu bytes\n", got);
			virtq_dump(vq);
			return 1;
		}
	}
	printf("vrng: %lu bytes\n", got);
	if (virtq_early_irqs)
		printf("vrng: warning: %lu interrupts before used->idx moved\n",
		       virtq_early_irqs);
	for (i = 0; i < 256; i++) {
		if (hist[i])
			distinct++;
		if (hist[i] > max)
			max = hist[i];
	}
	/* Uniform: expected count want/256, allow 4x plus slack. */
	if ((want >= 4096 && distinct < 200) || max > 4 * want / 256 + 16) {
		printf("vrng: not random: %u distinct values, max count %u\n",
		       distinct, max);
		return 1;
	}
	printf("vrng: entropy ok (%u distinct values, max count %u)\n",
	       distinct, max);
	return 0;
}

void guest_main(struct boot_info *bi)
{
	(void)bi;
	user_io_init();
	tsc_khz();
	guest_exit(run_user(vrng_main, 0));
}

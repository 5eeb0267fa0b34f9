// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the device side of a split ring (virtio/vring.c) on a
 * ring the input lays out in guest RAM -- descriptor chains with NEXT and
 * INDIRECT (loops, out-of-range indices, nested tables), odd queue sizes,
 * the 2^16 index wrap, EVENT_IDX on or off -- driven as virtio/queue.c
 * drives it: pop, copy to/from the chain, push, ask about the interrupt.
 * Input format: tests/fuzz/ring.h.  Header byte 12 bit 0: complete the
 * chains in reverse order (out of order, as virtio-blk does).
 */
#include "ring.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static u16 heads[256];
	unsigned int nr = 0, i;
	u8 buf[64];
	int max, ret;

	max = fuzz_ring_setup(data, size);
	if (max < 0)
		return 0;
	while (nr < (unsigned int)max) {
		ret = fuzz_ring_pop(&fuzz_chain);
		if (ret <= 0)
			break;	/* empty, or broken: NEEDS_RESET */
		fuzz_chain_touch(&fuzz_chain);
		if (fuzz_chain.id.map_gen != fuzz_vq.map_gen ||
		    fuzz_chain.id.head >= fuzz_vq.size)
			abort();
		vring_chain_read(&fuzz_chain, 0, buf, sizeof(buf));
		memset(buf, 0xa5, sizeof(buf));
		vring_chain_write(&fuzz_chain, fuzz_chain.in_len > 8 ? 8 : 0,
				  buf, sizeof(buf));
		heads[nr++] = fuzz_chain.id.head;
	}
	for (i = 0; i < nr; i++) {
		u16 h = data[12] & 1 ? heads[nr - 1 - i] : heads[i];

		vring_push(&fuzz_vq, h, i);
		if (i % 3 == 2)
			vring_need_interrupt(&fuzz_vq);
	}
	vring_need_interrupt(&fuzz_vq);
	vring_has_work(&fuzz_vq);
	vring_unmap(&fuzz_vq);
	return 0;
}

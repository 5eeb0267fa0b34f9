// SPDX-License-Identifier: GPL-2.0
/* Small synchronous virtio-blk helper shared by the vblk and vhostile guests. */
#include "../include/virtio.h"

struct sync_req {
	struct virtio_blk_req_hdr hdr;
	uint8_t status;
};

/*
 * One request, waited for: @type IN/GET_ID read into @buf, OUT writes
 * it, FLUSH ignores it.  Returns the virtio-blk status or -1 on timeout.
 */
int vblk_sync(struct virtio_dev *vd, uint32_t type, uint64_t sector,
	      void *buf, uint32_t len);
int vblk_sync(struct virtio_dev *vd, uint32_t type, uint64_t sector,
	      void *buf, uint32_t len)
{
	static struct sync_req *r;
	struct virtq *vq = vd->vqs[0];
	struct vsg sg[3];
	unsigned int nout = 1, nin = 0, n = 1;
	uint64_t end;

	if (!r)
		r = valloc(sizeof(*r), 64);
	if (!r)
		return -1;
	r->hdr.type = type;
	r->hdr.ioprio = 0;
	r->hdr.sector = sector;
	r->status = 0xff;
	sg[0] = (struct vsg){ &r->hdr, sizeof(r->hdr) };
	if (type == VIRTIO_BLK_T_OUT) {
		sg[n++] = (struct vsg){ buf, len };
		nout++;
	} else if (type != VIRTIO_BLK_T_FLUSH) {
		sg[n++] = (struct vsg){ buf, len };
		nin++;
	}
	sg[n++] = (struct vsg){ &r->status, 1 };
	nin++;
	if (virtq_add(vq, sg, nout, nin, r, true))
		return -1;
	virtq_kick(vq);
	end = ms_now() + 5000;
	while (!virtq_get_buf(vq, NULL)) {
		if (ms_now() >= end)
			return -1;
		virtq_wait(vq, 1000);
	}
	return r->status;
}

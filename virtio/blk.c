// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk (virtio 1.2, section 5.2) on a raw image file or block
 * device, with synchronous preadv/pwritev on the guest's buffers.  Every
 * request is checked before the backing file is touched: a short header,
 * a data length that is not whole sectors, a range past the end of the
 * disk (overflow included) or a write to a read-only disk ends in
 * VIRTIO_BLK_S_IOERR, an unknown type in VIRTIO_BLK_S_UNSUPP.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/virtio_blk.h>

#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/virtio-transport.h"
#include "devices.h"

#define BLK_SECTOR_SHIFT	9
#define BLK_SECTOR_SIZE		(1U << BLK_SECTOR_SHIFT)
#define BLK_QUEUE_SIZE		256

struct virtio_blk {
	struct virtio_device *vdev;
	const char *path;
	int fd;
	bool readonly;
	u64 capacity;			/* in 512-byte sectors */
	/* GET_ID answer: not NUL-terminated if all 20 bytes are used. */
	char serial[VIRTIO_BLK_ID_BYTES];
	/* Little-endian, as the guest reads it. */
	struct virtio_blk_config config;

	/* Device thread only, under vdev->lock. */
	struct virtq_elem elem;
	struct iovec data[VIRTQ_MAX_SEGS];
};

static void virtio_blk__read_config(struct virtio_device *vdev, u32 offset,
				    void *data, u32 len)
{
	struct virtio_blk *blk = vdev->priv;

	/* The core checked offset + len against config_size. */
	memcpy(data, (u8 *)&blk->config + offset, len);
}

/*
 * Copies the part [@skip, @skip + @len) of the @n iovecs at @src into
 * @dst, which has room for @n entries.  Returns the number of entries.
 */
static unsigned int iov_slice(const struct iovec *src, unsigned int n,
			      u64 skip, u64 len, struct iovec *dst)
{
	unsigned int cnt = 0;

	for (unsigned int i = 0; i < n && len; i++) {
		u64 l = src[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l = min_t(u64, l - skip, len);
		dst[cnt++] = (struct iovec){
			.iov_base = (u8 *)src[i].iov_base + skip,
			.iov_len = l,
		};
		len -= l;
		skip = 0;
	}
	return cnt;
}

/* preadv/pwritev the whole of @iov at @pos, resuming after partial I/O. */
static int blk_rw(int fd, struct iovec *iov, unsigned int cnt, u64 pos,
		  bool write)
{
	while (cnt) {
		ssize_t n = write ? pwritev(fd, iov, (int)cnt, (off_t)pos) :
				    preadv(fd, iov, (int)cnt, (off_t)pos);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		/* The image shrank under us: report it, never loop. */
		if (n == 0)
			return -EIO;
		pos += (u64)n;
		while (cnt && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt) {
			iov->iov_base = (u8 *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* Whole sectors, entirely inside the disk; no overflow possible. */
static bool blk_range_ok(const struct virtio_blk *blk, u64 sector, u64 len)
{
	if (len % BLK_SECTOR_SIZE)
		return false;
	return sector <= blk->capacity &&
	       (len >> BLK_SECTOR_SHIFT) <= blk->capacity - sector;
}

/*
 * Carries out one request.  Returns the status for the guest and sets
 * *@written to the data bytes placed in its buffers (status excluded).
 */
static u8 virtio_blk__request(struct virtio_blk *blk, struct virtq_elem *e,
			      u32 *written)
{
	struct virtio_blk_outhdr hdr;
	u64 sector, out_data, in_data;
	unsigned int cnt;
	u32 type;
	int ret;

	*written = 0;
	if (virtq_elem_copy_from(e, 0, &hdr, sizeof(hdr)) != sizeof(hdr))
		return VIRTIO_BLK_S_IOERR;
	type = le32toh(hdr.type);
	sector = le64toh(hdr.sector);
	out_data = e->out_len - sizeof(hdr);
	in_data = e->in_len - 1;	/* the caller saw a status byte */

	switch (type) {
	case VIRTIO_BLK_T_IN:
		if (!blk_range_ok(blk, sector, in_data))
			return VIRTIO_BLK_S_IOERR;
		cnt = iov_slice(&e->iov[e->out_num], e->in_num, 0, in_data,
				blk->data);
		ret = blk_rw(blk->fd, blk->data, cnt,
			     sector << BLK_SECTOR_SHIFT, false);
		if (ret) {
			pr_debug("virtio-blk %s: read at sector %llu: %s",
				 blk->path, (unsigned long long)sector,
				 strerror(-ret));
			return VIRTIO_BLK_S_IOERR;
		}
		*written = (u32)in_data;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		if (blk->readonly || !blk_range_ok(blk, sector, out_data))
			return VIRTIO_BLK_S_IOERR;
		cnt = iov_slice(e->iov, e->out_num, sizeof(hdr), out_data,
				blk->data);
		ret = blk_rw(blk->fd, blk->data, cnt,
			     sector << BLK_SECTOR_SHIFT, true);
		if (ret) {
			pr_debug("virtio-blk %s: write at sector %llu: %s",
				 blk->path, (unsigned long long)sector,
				 strerror(-ret));
			return VIRTIO_BLK_S_IOERR;
		}
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		if (!blk->readonly && fdatasync(blk->fd)) {
			pr_debug("virtio-blk %s: flush: %s", blk->path,
				 strerror(errno));
			return VIRTIO_BLK_S_IOERR;
		}
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		*written = (u32)virtq_elem_copy_to(e, 0, blk->serial,
				min_t(u64, in_data, sizeof(blk->serial)));
		return VIRTIO_BLK_S_OK;
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static void virtio_blk__handle_queue(struct virtio_device *vdev,
				     struct virtio_queue *q)
{
	struct virtio_blk *blk = vdev->priv;
	struct virtq_elem *e = &blk->elem;
	u32 written;
	int ret;
	u8 status;

	do {
		virtq_disable_notify(&q->vq);
		while ((ret = virtio_queue_pop(vdev, q, e)) > 0) {
			if (!e->in_len) {
				/* No room for a status: complete it empty. */
				pr_debug("virtio-blk %s: request without status byte",
					 blk->path);
				virtio_queue_push(vdev, q, e->head, 0);
				continue;
			}
			status = virtio_blk__request(blk, e, &written);
			virtq_elem_copy_to(e, e->in_len - 1, &status, 1);
			virtio_queue_push(vdev, q, e->head, written + 1);
		}
		virtio_queue_notify(vdev, q);
		if (ret < 0)
			return;	/* virtio_queue_pop() marked it broken */
	} while (virtq_enable_notify(&q->vq));
}

static void virtio_blk__destroy(struct virtio_blk *blk)
{
	if (blk->fd >= 0)
		close(blk->fd);
	free(blk);
}

static void virtio_blk__free(struct virtio_device *vdev)
{
	virtio_blk__destroy(vdev->priv);
}

#define VIRTIO_BLK_OPS(ro)						\
	{								\
		.name = "blk",						\
		.device_id = VIRTIO_ID_BLOCK,				\
		.nr_queues = 1,						\
		.queue_max_size = BLK_QUEUE_SIZE,			\
		.config_size = sizeof(struct virtio_blk_config),	\
		.features = (1ULL << VIRTIO_BLK_F_SEG_MAX) |		\
			    (1ULL << VIRTIO_BLK_F_BLK_SIZE) |		\
			    (1ULL << VIRTIO_BLK_F_FLUSH) |		\
			    ((ro) ? 1ULL << VIRTIO_BLK_F_RO : 0),	\
		.read_config = virtio_blk__read_config,			\
		.handle_queue = virtio_blk__handle_queue,		\
		.free = virtio_blk__free,				\
	}

static const struct virtio_device_ops virtio_blk_ops = VIRTIO_BLK_OPS(false);
static const struct virtio_device_ops virtio_blk_ro_ops = VIRTIO_BLK_OPS(true);

/* Opens the image and finds its size; one error line on failure. */
static int virtio_blk__open(struct virtio_blk *blk)
{
	struct stat st;
	u64 size;
	int ret;

	blk->fd = open(blk->path, (blk->readonly ? O_RDONLY : O_RDWR) |
				  O_CLOEXEC);
	if (blk->fd < 0) {
		ret = -errno;
		pr_err("cannot open disk %s: %s", blk->path, strerror(errno));
		return ret;
	}
	if (fstat(blk->fd, &st)) {
		ret = -errno;
		pr_err("cannot stat disk %s: %s", blk->path, strerror(errno));
		return ret;
	}
	if (S_ISREG(st.st_mode)) {
		size = (u64)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(blk->fd, BLKGETSIZE64, &size)) {
			ret = -errno;
			pr_err("cannot size disk %s: %s", blk->path,
			       strerror(errno));
			return ret;
		}
	} else {
		pr_err("disk %s is not a regular file or block device",
		       blk->path);
		return -EINVAL;
	}
	if (size % BLK_SECTOR_SIZE)
		pr_warn("disk %s: the last %llu bytes are not a whole sector and are not visible",
			blk->path, (unsigned long long)(size % BLK_SECTOR_SIZE));
	blk->capacity = size >> BLK_SECTOR_SHIFT;
	return 0;
}

int virtio_blk__create(struct kvm *kvm, const struct lkvm_disk *disk,
		       unsigned int index, enum virtio_transport_kind kind,
		       struct virtio_device **out)
{
	char serial[VIRTIO_BLK_ID_BYTES + 1];
	struct virtio_blk *blk;
	struct virtio_device *vdev;
	unsigned int hooks;
	int ret;

	blk = calloc(1, sizeof(*blk));
	if (!blk)
		return -ENOMEM;
	blk->fd = -1;
	blk->path = disk->path;
	blk->readonly = disk->readonly;
	ret = virtio_blk__open(blk);
	if (ret) {
		virtio_blk__destroy(blk);
		return ret;
	}
	/* Linux shows it in /dev/disk/by-id/virtio-lkvm-<n>. */
	snprintf(serial, sizeof(serial), "lkvm-%u", index);
	memcpy(blk->serial, serial, strnlen(serial, sizeof(blk->serial)));

	blk->config.capacity = htole64(blk->capacity);
	blk->config.seg_max = htole32(BLK_QUEUE_SIZE - 2);
	blk->config.blk_size = htole32(BLK_SECTOR_SIZE);

	hooks = kvm->nr_exit_hooks;
	ret = virtio_transport__create(kvm, kind, blk->readonly ?
				       &virtio_blk_ro_ops : &virtio_blk_ops,
				       blk, &vdev);
	if (ret) {
		/* Once the core's exit hook exists, ops->free owns blk. */
		if (kvm->nr_exit_hooks == hooks)
			virtio_blk__destroy(blk);
		return ret;
	}
	blk->vdev = vdev;
	pr_debug("virtio-blk %s: %llu sectors%s", blk->path,
		 (unsigned long long)blk->capacity,
		 blk->readonly ? ", read-only" : "");
	if (out)
		*out = vdev;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-balloon (virtio 1.2, section 5.5): the host sets a target in
 * num_pages, the guest hands pages over on the inflate queue and takes
 * them back on the deflate queue, and reports memory statistics on the
 * stats queue when the host returns its buffer.
 *
 * Inflated pages are released with madvise(MADV_DONTNEED), so lkvm's RSS
 * really drops; guest RAM is a private anonymous mapping, so a page the
 * guest touches again after a deflate (or without one: we do not offer
 * MUST_TELL_HOST) refaults as zeroes.  Every PFN the guest sends is
 * untrusted: it must name a 4 KiB page wholly inside a RAM region of
 * kvm->mem (never an MMIO hole, never past the end), else it is ignored
 * and counted.  A bitmap of the pages in the balloon keeps a repeated PFN
 * from being counted twice.
 *
 * All state is under vdev->lock: the queues run on the device thread with
 * it held, and the control socket's calls (main thread) take it.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_balloon.h>

#include "lkvm/balloon.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/virtio-transport.h"
#include "devices.h"

#define BALLOON_QUEUE_SIZE	128
#define BALLOON_PAGE_SIZE	(1ULL << BALLOON_PAGE_SHIFT)
/*
 * PFN bytes looked at per chain.  Linux sends 256 PFNs (1 KiB) at a
 * time; the cap keeps one hostile chain from holding the device lock for
 * long.  1 MiB of PFNs is still 1 GiB of guest RAM per chain.
 */
#define BALLOON_MAX_CHAIN_BYTES	(1024 * 1024)
#define BALLOON_PFNS_PER_READ	256

enum { BQ_INFLATE, BQ_DEFLATE, BQ_STATS, BQ_NR };

struct balloon {
	struct kvm *kvm;
	struct virtio_device *vdev;
	struct vring_chain chain;
	size_t host_page;		/* sysconf(_SC_PAGESIZE) */

	/* Config space: num_pages is ours, actual the driver's. */
	u32 num_pages;
	u32 actual;

	/* Bit n: 4 KiB page n (gpa n << 12) is in the balloon. */
	unsigned long *bitmap;
	u64 nr_pfns;
	u64 inflated;

	/* Host pages waiting for one madvise() (contiguous in the host). */
	u8 *run;
	size_t run_len;

	u64 bad_pfns, dup_pfns, nr_inflate, nr_deflate;
	bool warned_bad, warned_big;

	/* The stats buffer the driver posted, until we give it back. */
	bool stats_held;
	struct vring_id stats_id;
	u64 stats_updates;
	u32 stats_tags;
	u64 stats[BALLOON_NR_STATS];
};

#define BITS_PER_LONG	(8 * sizeof(unsigned long))

static bool pfn_test(const struct balloon *b, u64 pfn)
{
	return b->bitmap[pfn / BITS_PER_LONG] & (1UL << (pfn % BITS_PER_LONG));
}

static void pfn_assign(struct balloon *b, u64 pfn, bool set)
{
	unsigned long bit = 1UL << (pfn % BITS_PER_LONG);

	if (set)
		b->bitmap[pfn / BITS_PER_LONG] |= bit;
	else
		b->bitmap[pfn / BITS_PER_LONG] &= ~bit;
}

static void balloon_flush_run(struct balloon *b)
{
	if (!b->run_len)
		return;
	/* Private anonymous RAM: the next guest access faults in zeroes. */
	if (madvise(b->run, b->run_len, MADV_DONTNEED) < 0)
		pr_debug("virtio-balloon: madvise(%zu bytes): %s", b->run_len,
			 strerror(errno));
	b->run_len = 0;
}

/* Queues host page @hva for release, merging it with the run if adjacent. */
static void balloon_release(struct balloon *b, u8 *hva)
{
	if (b->run_len && b->run + b->run_len == hva) {
		b->run_len += b->host_page;
		return;
	}
	balloon_flush_run(b);
	b->run = hva;
	b->run_len = b->host_page;
}

/*
 * 4 KiB page @pfn went into the balloon.  With host pages of 4 KiB it is
 * released at once; with bigger ones (arm64 64K kernels) only once every
 * 4 KiB piece of its host page is in the balloon, or we would take the
 * guest's data from the neighbours.
 */
static void balloon_inflated(struct balloon *b, u64 pfn)
{
	u64 per = b->host_page / BALLOON_PAGE_SIZE;
	u64 first = pfn - pfn % per;
	u8 *hva;

	for (u64 p = first; p < first + per; p++)
		if (p >= b->nr_pfns || !pfn_test(b, p))
			return;
	hva = guest_mem_ptr(&b->kvm->mem, first << BALLOON_PAGE_SHIFT,
			    b->host_page);
	if (hva && !((uintptr_t)hva % b->host_page))
		balloon_release(b, hva);
}

static void balloon_bad_pfn(struct balloon *b, u32 pfn)
{
	b->bad_pfns++;
	if (b->warned_bad)
		return;
	b->warned_bad = true;
	pr_warn("virtio-balloon: guest sent PFN %#x, not a page of guest RAM; ignored (further ones only counted)",
		pfn);
}

static void balloon_pfn(struct balloon *b, u32 pfn, bool inflate)
{
	u64 gpa = (u64)pfn << BALLOON_PAGE_SHIFT;

	/* The checked accessor is what says "guest RAM": holes fail it. */
	if (pfn >= b->nr_pfns ||
	    !guest_mem_ptr(&b->kvm->mem, gpa, BALLOON_PAGE_SIZE)) {
		balloon_bad_pfn(b, pfn);
		return;
	}
	if (pfn_test(b, pfn) == inflate) {
		b->dup_pfns++;
		return;
	}
	pfn_assign(b, pfn, inflate);
	if (inflate) {
		b->inflated++;
		balloon_inflated(b, pfn);
	} else {
		b->inflated--;
	}
}

/* One chain of PFNs (le32, device-readable); writable parts are ignored. */
static void balloon_pfn_chain(struct balloon *b, const struct vring_chain *c,
			      bool inflate)
{
	u32 pfns[BALLOON_PFNS_PER_READ];
	u64 len = c->out_len;

	if (len > BALLOON_MAX_CHAIN_BYTES) {
		if (!b->warned_big)
			pr_warn("virtio-balloon: %llu bytes of PFNs in one chain; only the first %d looked at",
				(unsigned long long)len,
				BALLOON_MAX_CHAIN_BYTES);
		b->warned_big = true;
		len = BALLOON_MAX_CHAIN_BYTES;
	}
	/* A trailing partial PFN (len % 4) means nothing; it is dropped. */
	for (u64 off = 0; off + sizeof(u32) <= len;) {
		size_t want = min_t(size_t, sizeof(pfns), len - off);
		size_t got = vring_chain_read(c, off, pfns, want);

		for (size_t i = 0; i < got / sizeof(u32); i++)
			balloon_pfn(b, le32toh(pfns[i]), inflate);
		if (got < sizeof(u32))
			break;
		off += got - got % sizeof(u32);
	}
	balloon_flush_run(b);
}

/* struct virtio_balloon_stat: le16 tag, le64 value, packed. */
#define BALLOON_STAT_SIZE	10
/*
 * Entries read from one stats buffer.  A driver sends one per tag it
 * knows (Linux: about a dozen); the rest of a longer buffer is ignored,
 * or a chain of gigabytes would hold the device lock (and with it
 * lkvm balloon, stat, pause and exit) for minutes.
 */
#define BALLOON_MAX_STATS	64

static void balloon_read_stats(struct balloon *b, const struct vring_chain *c)
{
	u8 e[BALLOON_STAT_SIZE];
	u64 end = min_t(u64, c->out_len, BALLOON_MAX_STATS * sizeof(e));

	for (u64 off = 0; off + sizeof(e) <= end; off += sizeof(e)) {
		u16 tag;
		u64 val;

		if (vring_chain_read(c, off, e, sizeof(e)) != sizeof(e))
			break;
		memcpy(&tag, e, sizeof(tag));
		memcpy(&val, e + 2, sizeof(val));
		tag = le16toh(tag);
		if (tag >= BALLOON_NR_STATS)
			continue;	/* a newer tag: not kept */
		b->stats[tag] = le64toh(val);
		b->stats_tags |= 1U << tag;
	}
	b->stats_updates++;
}

static void balloon_give_back_stats(struct balloon *b)
{
	if (!b->stats_held)
		return;
	b->stats_held = false;
	virtio_queue_complete(&b->vdev->queues[BQ_STATS], b->stats_id, 0);
}

static void virtio_balloon__handle_queue(struct virtio_device *vdev,
					 struct virtio_queue *q)
{
	struct balloon *b = vdev->priv;
	struct vring_chain *c = &b->chain;

	while (virtio_queue_pop(q, c) > 0) {
		switch (q->index) {
		case BQ_INFLATE:
		case BQ_DEFLATE:
			if (q->index == BQ_INFLATE)
				b->nr_inflate++;
			else
				b->nr_deflate++;
			balloon_pfn_chain(b, c, q->index == BQ_INFLATE);
			vring_chain_release(c);
			virtio_queue_complete(q, c->id, 0);
			break;
		case BQ_STATS:
			/*
			 * The driver keeps one buffer here; a second one
			 * replaces the first, which goes back unread.
			 */
			balloon_give_back_stats(b);
			balloon_read_stats(b, c);
			vring_chain_release(c);
			b->stats_held = true;
			b->stats_id = c->id;
			break;
		default:
			virtio_queue_complete(q, c->id, 0);
		}
	}
}

static void virtio_balloon__read_config(struct virtio_device *vdev,
					u32 offset, void *data, u32 len)
{
	struct balloon *b = vdev->priv;
	struct virtio_balloon_config cfg = {
		.num_pages = htole32(b->num_pages),
		.actual = htole32(b->actual),
	};

	memcpy(data, (u8 *)&cfg + offset, len);
}

static void virtio_balloon__write_config(struct virtio_device *vdev,
					 u32 offset, const void *data, u32 len)
{
	struct balloon *b = vdev->priv;
	struct virtio_balloon_config cfg = {
		.num_pages = htole32(b->num_pages),
		.actual = htole32(b->actual),
	};

	/* Only actual is the driver's; it is reported, never acted on. */
	memcpy((u8 *)&cfg + offset, data, len);
	b->actual = le32toh(cfg.actual);
}

/* Bus mastering goes off: the held stats buffer is our only request. */
static void virtio_balloon__quiesce(struct virtio_device *vdev)
{
	balloon_give_back_stats(vdev->priv);
}

/*
 * The driver is gone (reboot, module unload): the guest owns all its RAM
 * again, and released pages refault as zeroes when it uses them.
 */
static void virtio_balloon__reset(struct virtio_device *vdev)
{
	struct balloon *b = vdev->priv;

	memset(b->bitmap, 0,
	       (b->nr_pfns + BITS_PER_LONG - 1) / BITS_PER_LONG *
	       sizeof(*b->bitmap));
	b->inflated = 0;
	b->actual = 0;
	b->stats_held = false;
}

static void virtio_balloon__free(void *priv)
{
	struct balloon *b = priv;

	if (b->kvm && b->kvm->balloon == b)
		b->kvm->balloon = NULL;
	free(b->bitmap);
	free(b);
}

static const struct virtio_device_ops virtio_balloon_ops = {
	.name = "balloon",
	.device_id = VIRTIO_ID_BALLOON,
	.nr_queues = BQ_NR,
	.queue_max_size = BALLOON_QUEUE_SIZE,
	.config_size = sizeof(struct virtio_balloon_config),
	.features = (1ULL << VIRTIO_BALLOON_F_STATS_VQ) |
		    (1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM),
	.read_config = virtio_balloon__read_config,
	.write_config = virtio_balloon__write_config,
	.quiesce = virtio_balloon__quiesce,
	.reset = virtio_balloon__reset,
	.handle_queue = virtio_balloon__handle_queue,
	.free = virtio_balloon__free,
};

int virtio_balloon__create(struct kvm *kvm, enum virtio_transport_kind kind,
			   struct virtio_device **out)
{
	struct virtio_device *vdev;
	struct balloon *b;
	long page = sysconf(_SC_PAGESIZE);
	int ret;

	if (kvm->balloon) {
		pr_err("--balloon: a VM has one balloon device");
		return -EEXIST;
	}
	if (kvm->cfg && kvm->cfg->hugetlbfs) {
		pr_err("--balloon cannot be used with --hugetlbfs: RAM in huge pages cannot give 4 KiB pages back");
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->kvm = kvm;
	b->host_page = page > 0 ? (size_t)page : BALLOON_PAGE_SIZE;
	b->nr_pfns = guest_mem_end(&kvm->mem) >> BALLOON_PAGE_SHIFT;
	b->bitmap = calloc((b->nr_pfns + BITS_PER_LONG - 1) / BITS_PER_LONG + 1,
			   sizeof(*b->bitmap));
	if (!b->bitmap) {
		free(b);
		return -ENOMEM;
	}
	/* The transport owns b from here, on failure too. */
	ret = virtio_transport__create(kvm, kind, &virtio_balloon_ops, b,
				       &vdev);
	if (ret)
		return ret;
	b->vdev = vdev;
	kvm->balloon = b;
	if (out)
		*out = vdev;
	return 0;
}

/* --- The control socket's side (main thread) ----------------------------- */

int balloon__set_target(struct kvm *kvm, u64 pages)
{
	struct balloon *b = kvm->balloon;

	if (!b)
		return -ENODEV;
	if (pages > (kvm->ram_size >> BALLOON_PAGE_SHIFT) || pages > U32_MAX)
		return -EINVAL;
	pthread_mutex_lock(&b->vdev->lock);
	if (b->num_pages != pages) {
		b->num_pages = (u32)pages;
		virtio_config_changed(b->vdev);
	}
	pthread_mutex_unlock(&b->vdev->lock);
	return 0;
}

int balloon__info(struct kvm *kvm, struct balloon_info *out)
{
	struct balloon *b = kvm->balloon;

	if (!b)
		return -ENODEV;
	pthread_mutex_lock(&b->vdev->lock);
	*out = (struct balloon_info){
		.target_pages = b->num_pages,
		.actual_pages = b->actual,
		.inflated_pages = b->inflated,
		.bad_pfns = b->bad_pfns,
		.dup_pfns = b->dup_pfns,
		.inflate_requests = b->nr_inflate,
		.deflate_requests = b->nr_deflate,
		.stats_valid = b->stats_updates > 0,
		.stats_updates = b->stats_updates,
		.stats_tags = b->stats_tags,
	};
	memcpy(out->stats, b->stats, sizeof(out->stats));
	pthread_mutex_unlock(&b->vdev->lock);
	return 0;
}

int balloon__request_stats(struct kvm *kvm)
{
	struct balloon *b = kvm->balloon;
	int ret = 0;

	if (!b)
		return -ENODEV;
	pthread_mutex_lock(&b->vdev->lock);
	if (b->stats_held)
		balloon_give_back_stats(b);
	else
		ret = -EAGAIN;
	pthread_mutex_unlock(&b->vdev->lock);
	return ret;
}

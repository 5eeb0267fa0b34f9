// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: virtio-net (virtio/net.c with net/vnet_hdr.c,
 * net/rx_filter.c, net/backend.c and net/tap.c) created by the real
 * virtio_net__create() on virtio-mmio, its backend fd= one end of a
 * datagram socket pair as `-n mode=tap,fd=N` gives it, the driver played
 * through the mmio registers.  Three queues (receive, transmit, control)
 * laid out by the input in guest RAM, frames from the input sent by the
 * "host" end of the socket pair.
 *
 * The device thread is stopped once; the target then runs the device's
 * event loop itself, callback for callback as evloop_run() would, until
 * nothing is ready, so each input is processed the same way every time.
 *
 * Input, little-endian:
 *   0..3    driver features, word 0 (VERSION_1 is always accepted)
 *   4..6    queue sizes rx, tx, ctrl (0: queue left disabled)
 *   7..24   desc, avail, used gpa (u16 each) of rx, tx, ctrl
 *   25..26  RAM bytes that follow (the rest of the 64 KiB is zero)
 *   then the RAM bytes, then frames: u16 length, bytes.
 *
 * Besides the sanitizers, when the guest's buffers neither overlap each
 * other nor the rings (a messy guest may scribble on its own rings, then
 * only the sanitizers judge): each used length fits the chain it names;
 * every control ack is VIRTIO_NET_OK or VIRTIO_NET_ERR in a one-byte
 * completion; each received frame reaches the guest intact, in order,
 * with a header saying how many buffers it took; each transmitted chain
 * reaches the peer intact minus its header, or is dropped; every frame
 * sent is delivered, dropped and counted, or still in the socket.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>

#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/net.h"
#include "virtio/devices.h"

#define HDR		27
#define RAM		0x10000
#define NQ		3
#define MAX_FRAMES	64
#define MAX_SEGS	1024
#define VHDR		12	/* VERSION_1: struct virtio_net_hdr_v1 */

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static struct kvm kvm;
static struct lkvm_config cfg;
static struct lkvm_net ncfg;
static struct virtio_device *vdev;
static u64 base;
static int host;			/* the socket pair's far end */
static u8 ram[RAM] __attribute__((aligned(4096)));
static u8 snap[RAM];			/* RAM as the driver left it */

struct queue {
	u16 size;
	u16 desc, avail, used;
};

struct seg {
	u32 gpa, len;
	bool w;
};

/* One chain as an independent walk over the snapshot sees it. */
struct chain {
	bool ok;
	u32 in_len, out_len;
	unsigned int first, nr;		/* in segs[] */
};

static struct queue qs[NQ];
static struct seg segs[MAX_SEGS];
static unsigned int nr_segs;
static struct chain chains[NQ][256];
static bool offered[NQ][256];
/* Ring structures (desc, avail, used, indirect tables) for overlap checks. */
static struct seg areas[NQ * 3 + 256 * NQ];
static unsigned int nr_areas;

static u8 frames[MAX_FRAMES][2048];
static size_t frame_len[MAX_FRAMES];

static u16 le16(const u8 *p)
{
	return p[0] | p[1] << 8;
}

static u32 le32(const u8 *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24;
}

static void wr(u64 off, u32 v)
{
	bus_dispatch(&kvm.mmio_bus, base + off, &v, 4, true);
}

static u32 rd(u64 off)
{
	u32 v = 0;

	bus_dispatch(&kvm.mmio_bus, base + off, &v, 4, false);
	return v;
}

/* What evloop_run() does on the device thread, until nothing is ready. */
static void run_device(void)
{
	struct epoll_event evs[16];

	for (int round = 0; round < 64; round++) {
		int n = epoll_wait(vdev->loop.epfd, evs, 16, 0);

		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			struct evloop_watch *w = evs[i].data.ptr;
			u64 cnt;

			if (!w) {
				if (read(vdev->loop.wake_efd, &cnt, sizeof(cnt)) < 0) {
					/* EAGAIN: already read */
				}
				continue;
			}
			w->cb(w->opaque, evs[i].events);
		}
	}
}

static void setup(void)
{
	static struct kvm scratch;
	char err[64], spec[32];
	unsigned int irq;
	u64 size;
	int sv[2];

	log_level = LOG_ERROR;	/* the device complains about bad drivers */
	kvm.cfg = &cfg;
	cfg.name = "fuzz";
	kvm.sys_fd = kvm.vm_fd = -1;
	bus_init(&kvm.pio_bus, "pio");
	bus_init(&kvm.mmio_bus, "mmio");
	if (guest_mem_add(&kvm.mem, 0, RAM, ram) ||
	    arch__virtio_mmio_alloc(&scratch, &base, &size, &irq) ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
		abort();
	host = sv[1];
	snprintf(spec, sizeof(spec), "mode=tap,fd=%d", sv[0]);
	if (net_parse_option(&ncfg, spec, err, sizeof(err)) ||
	    virtio_net__create(&kvm, &ncfg, 0, VIRTIO_TRANSPORT_MMIO, &vdev))
		abort();
	/* From here this thread is the device thread. */
	evloop_stop(&vdev->loop);
	if (pthread_join(vdev->thread, NULL))
		abort();
	atomic_store(&vdev->loop.stop, false);
}

static bool in_ram(u64 gpa, u64 len)
{
	return gpa <= RAM && len <= RAM - gpa;
}

static void add_area(u32 gpa, u32 len)
{
	if (nr_areas < ARRAY_SIZE(areas))
		areas[nr_areas++] = (struct seg){ gpa, len, false };
}

static bool add_seg(struct chain *c, u64 gpa, u32 len, bool w)
{
	if (!in_ram(gpa, len) || nr_segs == MAX_SEGS || (!w && c->in_len))
		return false;
	segs[nr_segs++] = (struct seg){ (u32)gpa, len, w };
	c->nr++;
	if (w)
		c->in_len += len;
	else
		c->out_len += len;
	return true;
}

/* The chain at @head of queue @q in the snapshot, as the spec reads it. */
static void walk(const struct queue *q, u16 head, struct chain *c)
{
	const u8 *d = snap + q->desc;
	unsigned int n = 0;
	u16 i = head;

	*c = (struct chain){ .first = nr_segs };
	if (head >= q->size)
		return;
	for (;;) {
		const u8 *e = d + 16 * i;
		u64 addr = le32(e) | (u64)le32(e + 4) << 32;
		u32 len = le32(e + 8);
		u16 flags = le16(e + 12);

		if (++n > q->size)
			return;			/* a loop */
		if (flags & VRING_DESC_F_INDIRECT) {
			const u8 *t;
			u32 tn = len / 16;

			if (n > 1 || (flags & VRING_DESC_F_NEXT) || !len ||
			    len % 16 || !in_ram(addr, len))
				return;
			t = snap + addr;
			add_area((u32)addr, len);
			for (u32 k = 0, j = 0;; k++) {
				const u8 *te = t + 16 * j;
				u16 tf = le16(te + 12);

				if (k >= tn || (tf & VRING_DESC_F_INDIRECT) ||
				    !add_seg(c, le32(te) | (u64)le32(te + 4) << 32,
					     le32(te + 8), tf & VRING_DESC_F_WRITE))
					return;
				if (!(tf & VRING_DESC_F_NEXT))
					break;
				j = le16(te + 14);
				if (j >= tn)
					return;
			}
			c->ok = true;
			return;
		}
		if (!add_seg(c, addr, len, flags & VRING_DESC_F_WRITE))
			return;
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		i = le16(e + 14);
		if (i >= q->size)
			return;
	}
	c->ok = true;
}

static bool overlap(const struct seg *a, const struct seg *b)
{
	return a->len && b->len && a->gpa < b->gpa + b->len &&
	       b->gpa < a->gpa + a->len;
}

/*
 * Walks every chain the driver offered.  Returns true if the guest is
 * tidy: every chain well formed, writable buffers apart from each other,
 * from readable ones and from the rings.
 */
static bool survey(void)
{
	unsigned int used_area[NQ] = { 0 };
	bool tidy = true;

	nr_segs = nr_areas = 0;
	for (int q = 0; q < NQ; q++) {
		const struct queue *r = &qs[q];
		u16 n;

		if (!r->size)
			continue;
		add_area(r->desc, 16 * r->size);
		if (!in_ram(r->desc, 16 * r->size) ||
		    !in_ram(r->avail, 6 + 2 * r->size) ||
		    !in_ram(r->used, 6 + 8 * r->size))
			return false;	/* the device refuses the layout */
		/* With the EVENT_IDX fields. */
		add_area(r->avail, 6 + 2 * r->size);
		used_area[q] = nr_areas;
		add_area(r->used, 6 + 8 * r->size);
		n = le16(snap + r->avail + 2);
		for (u16 k = 0; k < n && k < r->size; k++) {
			u16 head = le16(snap + r->avail + 4 + 2 * k);

			if (head >= r->size || offered[q][head])
				return false;	/* the device must refuse it */
			offered[q][head] = true;
			walk(r, head, &chains[q][head]);
			if (!chains[q][head].ok)
				tidy = false;
		}
	}
	/*
	 * Nor may a used ring lie on another ring or table: two queues'
	 * completions in one ring read back as each other's.
	 */
	for (int q = 0; q < NQ; q++)
		for (unsigned int j = 0; qs[q].size && j < nr_areas; j++)
			if (j != used_area[q] &&
			    overlap(&areas[used_area[q]], &areas[j]))
				return false;
	for (unsigned int i = 0; i < nr_segs; i++) {
		/* The device writes used rings: no buffer may lie there. */
		for (int q = 0; q < NQ; q++) {
			struct seg u = { qs[q].used, 6 + 8 * qs[q].size, false };

			if (qs[q].size && overlap(&segs[i], &u))
				return false;
		}
		if (!segs[i].w)
			continue;
		for (unsigned int j = 0; j < nr_segs; j++)
			if (j != i && overlap(&segs[i], &segs[j]))
				return false;
		for (unsigned int j = 0; j < nr_areas; j++)
			if (overlap(&segs[i], &areas[j]))
				return false;
	}
	return tidy;
}

/* Copies @len bytes of chain @c's writable (@w) part into @out. */
static size_t gather(const struct chain *c, bool w, u8 *out, size_t len)
{
	size_t got = 0;

	for (unsigned int i = c->first; i < c->first + c->nr && got < len; i++) {
		size_t n = segs[i].len;

		if (segs[i].w != w)
			continue;
		if (n > len - got)
			n = len - got;
		memcpy(out + got, (w ? ram : snap) + segs[i].gpa, n);
		got += n;
	}
	return got;
}

static u16 used_idx(int q)
{
	return qs[q].size ? le16(ram + qs[q].used + 2) : 0;
}

static void used_elem(int q, u16 i, u32 *id, u32 *len)
{
	const u8 *e = ram + qs[q].used + 4 + 8 * (i % qs[q].size);

	*id = le32(e);
	*len = le32(e + 4);
}

static unsigned int check_rx(bool mrg, unsigned int nr_frames)
{
	static u8 buf[NET_HDR_LEN + NET_MAX_FRAME];
	unsigned int delivered = 0, next = 0;
	u16 n = used_idx(0);

	for (u16 i = 0; i < n && i < qs[0].size;) {
		struct virtio_net_hdr_v1 h;
		size_t off = 0;
		u32 id, len;
		u16 nb;

		used_elem(0, i, &id, &len);
		if (!len) {
			i++;		/* a dropped frame's buffer, empty */
			continue;
		}
		off = gather(&chains[0][id], true, buf, len);
		if (off < VHDR)
			abort();
		memcpy(&h, buf, sizeof(h));
		nb = le16toh(h.num_buffers);
		if (h.flags || h.gso_type || !nb || (!mrg && nb != 1) ||
		    i + nb > n)
			abort();
		for (u16 k = 1; k < nb; k++) {
			used_elem(0, i + k, &id, &len);
			if (!len)
				abort();
			if (len > sizeof(buf) - off)
				abort();	/* more than a frame */
			off += gather(&chains[0][id], true, buf + off, len);
		}
		i += nb;
		/* In order: the next frame sent that was not dropped. */
		while (next < nr_frames &&
		       (frame_len[next] != off - VHDR ||
			memcmp(frames[next], buf + VHDR, off - VHDR)))
			next++;
		if (next++ >= nr_frames)
			abort();
		delivered++;
	}
	return delivered;
}

/* Frames at the peer: the used tx chains' payloads, in order, some dropped. */
static unsigned int check_tx(void)
{
	static u8 want[NET_MAX_FRAME + VHDR], got[NET_MAX_FRAME + 1];
	unsigned int drops = 0;
	u16 n = used_idx(1), i = 0;
	ssize_t r;

	while ((r = recv(host, got, sizeof(got), MSG_DONTWAIT)) >= 0) {
		for (;; i++) {
			struct chain *c;
			size_t wl;
			u32 id, len;

			if (i >= n || i >= qs[1].size)
				abort();	/* a frame nobody sent */
			used_elem(1, i, &id, &len);
			c = &chains[1][id];
			if (len)
				abort();	/* tx buffers are read-only */
			/*
			 * A chain with no frame past its header is dropped
			 * (counted) like any other that does not match.
			 */
			wl = gather(c, false, want, sizeof(want));
			if (wl > VHDR && wl - VHDR == (size_t)r &&
			    !memcmp(want + VHDR, got, r))
				break;
			drops++;
		}
		i++;
	}
	return drops + (n - i);
}

static void check_ctrl(void)
{
	static u8 buf[65536];
	u16 n = used_idx(2);

	for (u16 i = 0; i < n && i < qs[2].size; i++) {
		u32 id, len;
		size_t got;

		used_elem(2, i, &id, &len);
		got = gather(&chains[2][id], true, buf, chains[2][id].in_len);
		if (len != 1 || !got ||
		    (buf[got - 1] != VIRTIO_NET_OK && buf[got - 1] != VIRTIO_NET_ERR))
			abort();
	}
}

static void check_used_lens(void)
{
	for (int q = 0; q < NQ; q++) {
		u16 n = used_idx(q);

		if (n > qs[q].size)
			abort();	/* more completions than offers */
		for (u16 i = 0; i < n; i++) {
			u32 id, len;

			used_elem(q, i, &id, &len);
			if (id >= qs[q].size || !chains[q][id].ok ||
			    len > chains[q][id].in_len)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static u8 sink[NET_MAX_FRAME];
	unsigned long errors0;
	unsigned int nr_frames = 0, left = 0, delivered = 0, tx_drops = 0;
	size_t off, n;
	bool tidy, mrg;
	u32 feat;

	if (size < HDR)
		return 0;
	if (!vdev)
		setup();

	memset(ram, 0, sizeof(ram));
	n = le16(data + 25);
	off = HDR + (n < size - HDR ? n : size - HDR);
	memcpy(ram, data + HDR, off - HDR);
	memset(chains, 0, sizeof(chains));
	memset(offered, 0, sizeof(offered));
	for (int q = 0; q < NQ; q++)
		qs[q] = (struct queue){ data[4 + q], le16(data + 7 + 6 * q),
					le16(data + 9 + 6 * q),
					le16(data + 11 + 6 * q) };

	/* The driver: reset, features, queues, DRIVER_OK. */
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, 3);
	feat = le32(data);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, feat);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);	/* VERSION_1 */
	wr(VIRTIO_MMIO_STATUS, 0x0b);
	for (u32 q = 0; q < NQ; q++) {
		if (!qs[q].size)
			continue;
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		wr(VIRTIO_MMIO_QUEUE_NUM, qs[q].size);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, qs[q].desc);
		wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, qs[q].avail);
		wr(VIRTIO_MMIO_QUEUE_USED_LOW, qs[q].used);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
		if (!rd(VIRTIO_MMIO_QUEUE_READY))
			qs[q].size = 0;		/* refused */
	}
	/* A driver hands the device a zeroed used ring (only read back here). */
	for (u32 q = 0; q < NQ; q++)
		if (qs[q].size && in_ram(qs[q].used, 6 + 8 * qs[q].size))
			memset(ram + qs[q].used, 0, 6 + 8 * qs[q].size);
	memcpy(snap, ram, sizeof(snap));
	tidy = survey();
	mrg = feat & (1u << VIRTIO_NET_F_MRG_RXBUF);
	errors0 = atomic_load(&vdev->nr_errors);
	wr(VIRTIO_MMIO_STATUS, 0x0f);
	for (u32 q = 0; q < NQ; q++)
		wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
	run_device();

	/* The host: frames, each processed before the next comes. */
	while (off + 2 <= size && nr_frames < MAX_FRAMES) {
		n = le16(data + off);
		off += 2;
		if (n > size - off)
			n = size - off;
		if (n > sizeof(frames[0]))
			n = sizeof(frames[0]);
		memcpy(frames[nr_frames], data + off, n);
		frame_len[nr_frames] = n;
		off += n;
		if (send(host, data + off - n, n, MSG_DONTWAIT) != (ssize_t)n)
			break;
		nr_frames++;
		run_device();
	}

	if (tidy) {
		check_used_lens();
		check_ctrl();
		tx_drops = check_tx();
		delivered = check_rx(mrg, nr_frames);
	} else {
		while (recv(host, sink, sizeof(sink), MSG_DONTWAIT) >= 0)
			;
	}
	/* Reset; frames the device never took are still in the socket. */
	wr(VIRTIO_MMIO_STATUS, 0);
	run_device();
	while (recv(ncfg.fd, sink, sizeof(sink), MSG_DONTWAIT) >= 0)
		left++;
	/*
	 * Every frame delivered, dropped (counted; the reset counts the one
	 * it finds in the device's bounce buffer) or still in the socket.
	 * The rx filter only drops once a control command succeeded.
	 */
	if (tidy && !qs[2].size) {
		unsigned long counted = atomic_load(&vdev->nr_errors) - errors0 -
					tx_drops;
		unsigned long seen = delivered + counted + left;

		if (seen != nr_frames) {
			fprintf(stderr, "net: %u frames sent, %u delivered, "
				"%lu counted (%lu errors, %u tx drops), "
				"%u left in the socket\n", nr_frames,
				delivered, counted,
				atomic_load(&vdev->nr_errors) - errors0,
				tx_drops, left);
			abort();
		}
	}
	return 0;
}

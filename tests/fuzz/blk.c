// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: virtio-blk end to end -- a live device on
 * virtio-mmio with its threads (tests/fuzz/xport.h), a raw image on a
 * temporary file moved by the real disk backend, completions published
 * through virtio/queue.c -- on a batch of requests the input lays out in
 * guest RAM.  blk-req.c fuzzes the request planner alone; this one
 * checks what the guest gets back.
 *
 * Input: a 16-byte header, then guest RAM from gpa 0.  Header:
 *   0      bit 0 read-only disk, bit 1 EVENT_IDX, bit 2 INDIRECT_DESC,
 *          bit 3 kick twice (a second batch the driver adds after the
 *          first completed: avail idx + byte 9)
 *   1      queue size: 1 << (byte % 9)
 *   2..7   desc, avail, used gpa (16 bits each)
 *   8      feature bits 0-7 of word 0 the driver refuses
 *   9      second batch size
 * The disk's bytes are a known pattern, rewritten each run.
 *
 * Checked for every used element whose writable buffers nothing else
 * shares (a chain that overlaps the rings or another chain may be
 * changed under its own completion: only the sanitizers check those):
 * the id was offered; used len is 0 (no status byte) or at most the
 * writable bytes; the status byte, the chain's last writable byte, is
 * OK, IOERR or UNSUPP; with an error nothing but the status was written
 * and len is 1; no byte after the first len - 1 of the data area
 * changed (len = data written + 1); a read from a read-only disk
 * returned the disk's bytes; and a read-only image never changes.
 */
#include <endian.h>
#include <sys/uio.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "lkvm/arch.h"
#include "xport.h"

#define HDR		16
#define MAX_SEGS	64

static u64 slot;
static u8 snap[XP_RAM_SIZE];
/* How many ring structures and chains claim each byte of RAM. */
static u8 owners[XP_RAM_SIZE];

struct seg {
	u32 gpa, len;
	bool write;
};

struct chain {
	u16 head;
	bool ok;			/* walked cleanly and owns its buffers */
	unsigned int nr;
	struct seg seg[MAX_SEGS];
};

static struct chain chains[2 * 256];

static u8 pattern(u64 off)
{
	return (u8)(off * 131 + (off >> 9) + 7);
}

static void disk_fill(void)
{
	static u8 img[XP_DISK_SIZE];
	int fd = open(xp_img, O_WRONLY);

	for (u32 i = 0; i < XP_DISK_SIZE; i++)
		img[i] = pattern(i);
	if (fd < 0 || pwrite(fd, img, sizeof(img), 0) != sizeof(img))
		abort();
	close(fd);
}

static void disk_check_unchanged(void)
{
	static u8 img[XP_DISK_SIZE];
	int fd = open(xp_img, O_RDONLY);

	if (fd < 0 || pread(fd, img, sizeof(img), 0) != sizeof(img))
		abort();
	close(fd);
	for (u32 i = 0; i < XP_DISK_SIZE; i++)
		if (img[i] != pattern(i))
			xp_fail("read-only image changed at %u", i);
}

static u32 reg(u32 off, bool write, u32 v)
{
	bus_dispatch(&xp_kvm.mmio_bus, slot + off, &v, 4, write);
	return v;
}

static bool in_ram(u64 gpa, u64 len)
{
	return gpa <= XP_RAM_SIZE && len <= XP_RAM_SIZE - gpa;
}

static void claim(u64 gpa, u64 len)
{
	for (u64 i = 0; in_ram(gpa, len) && i < len; i++)
		if (owners[gpa + i] < 255)
			owners[gpa + i]++;
}

/* The driver's view of the chain at @head (on the snapshot), as 2.7.5. */
static void walk(struct chain *c, u64 desc, u16 qsz, u16 head, bool indirect)
{
	const struct vring_desc *tbl = (void *)(snap + desc);
	unsigned int n = qsz, i = head, steps = 0;
	bool seen_write = false, in_indirect = false;

	c->head = head;
	c->nr = 0;
	c->ok = false;
	while (steps++ < 2 * 256 + 2) {
		struct vring_desc d;

		if (i >= n)
			return;
		memcpy(&d, &tbl[i], sizeof(d));
		if (le16toh(d.flags) & VRING_DESC_F_INDIRECT) {
			u32 len = le32toh(d.len);
			u64 addr = le64toh(d.addr);

			if (!indirect || in_indirect || !len || len % 16 ||
			    !in_ram(addr, len) || (addr & 15) ||
			    (le16toh(d.flags) & VRING_DESC_F_NEXT))
				return;
			claim(addr, len);
			tbl = (void *)(snap + addr);
			n = len / 16;
			i = 0;
			in_indirect = true;
			continue;
		}
		if (le32toh(d.len)) {
			bool w = le16toh(d.flags) & VRING_DESC_F_WRITE;

			if (c->nr == MAX_SEGS || (seen_write && !w) ||
			    !in_ram(le64toh(d.addr), le32toh(d.len)))
				return;
			seen_write |= w;
			c->seg[c->nr++] = (struct seg){
				(u32)le64toh(d.addr), le32toh(d.len), w };
		}
		if (!(le16toh(d.flags) & VRING_DESC_F_NEXT)) {
			c->ok = true;
			return;
		}
		i = le16toh(d.next);
	}
}

/* Offers avail entries [from, to) and walks them into chains[]. */
static unsigned int offer(const u8 *hdr, u16 from, u16 to, unsigned int at)
{
	u16 qsz = 1U << (hdr[1] % 9);
	u64 desc = hdr[2] | hdr[3] << 8, avail = hdr[4] | hdr[5] << 8;

	for (u16 k = from; k != to && at < ARRAY_SIZE(chains); k++, at++) {
		u16 head;

		memcpy(&head, snap + avail + 4 + 2 * (k % qsz), 2);
		walk(&chains[at], desc, qsz, le16toh(head), hdr[0] & 4);
	}
	return at;
}

static void check_used(struct chain *c, u32 len, bool readonly)
{
	u32 total = 0, k = 0, status_at;
	struct virtio_blk_outhdr oh = { 0 };
	u32 oh_len = 0;

	for (unsigned int i = 0; i < c->nr; i++) {
		struct seg *s = &c->seg[i];

		for (u32 j = 0; j < s->len; j++)
			if (s->write && owners[s->gpa + j] != 1)
				return;		/* shared: not ours to judge */
		if (s->write)
			total += s->len;
		else
			for (u32 j = 0; j < s->len && oh_len < sizeof(oh); j++)
				((u8 *)&oh)[oh_len++] = snap[s->gpa + j];
	}
	if (len > total)
		xp_fail("used len %u > %u writable bytes", len, total);
	if (!len) {
		if (total)
			xp_fail("used len 0 with %u writable bytes", total);
		return;
	}
	/* Walk the writable bytes in order: data, then the status byte. */
	status_at = total - 1;
	for (unsigned int i = 0; i < c->nr; i++) {
		struct seg *s = &c->seg[i];

		for (u32 j = 0; s->write && j < s->len; j++, k++) {
			u8 now = xp_ram[s->gpa + j], was = snap[s->gpa + j];

			if (k == status_at) {
				if (now != VIRTIO_BLK_S_OK &&
				    now != VIRTIO_BLK_S_IOERR &&
				    now != VIRTIO_BLK_S_UNSUPP)
					xp_fail("status byte %u", now);
				if (now != VIRTIO_BLK_S_OK && len != 1)
					xp_fail("status %u with used len %u",
						now, len);
			} else if (k >= len - 1 && now != was) {
				xp_fail("byte %u of %u written, used len %u",
					k, total, len);
			} else if (k < len - 1 && readonly &&
				   oh_len == sizeof(oh) &&
				   le32toh(oh.type) == VIRTIO_BLK_T_IN &&
				   now != pattern(le64toh(oh.sector) * 512 + k)) {
				xp_fail("read of sector %llu: byte %u is %#x",
					(unsigned long long)le64toh(oh.sector),
					k, now);
			}
		}
	}
}

/* Each used element from @from up to the used index against its chain. */
static u16 check_batch(const u8 *hdr, u16 from, unsigned int nr_chains,
		       bool readonly)
{
	u16 qsz = 1U << (hdr[1] % 9);
	u64 used = hdr[6] | hdr[7] << 8;
	struct vring_used_elem e;
	u16 idx;

	if (!in_ram(used, 4 + 8 * qsz))
		return from;
	memcpy(&idx, xp_ram + used + 2, 2);
	idx = le16toh(idx);
	if ((u16)(idx - from) > nr_chains)
		xp_fail("%u used, %u offered", (u16)(idx - from), nr_chains);
	for (u16 k = from; k != idx; k++) {
		struct chain *c = NULL;

		memcpy(&e, xp_ram + used + 4 + 8 * (k % qsz), sizeof(e));
		for (unsigned int i = 0; i < nr_chains; i++)
			if (chains[i].head == le32toh(e.id))
				c = &chains[i];
		if (!c)
			xp_fail("used id %u never offered", le32toh(e.id));
		if (c->ok)
			check_used(c, le32toh(e.len), readonly);
	}
	return idx;
}

static void driver_init(const u8 *hdr)
{
	u32 f0;

	reg(VIRTIO_MMIO_STATUS, true, 3);
	reg(VIRTIO_MMIO_DEVICE_FEATURES_SEL, true, 0);
	f0 = reg(VIRTIO_MMIO_DEVICE_FEATURES, false, 0) & ~(u32)hdr[8];
	f0 &= ~((1U << VIRTIO_RING_F_EVENT_IDX) |
		(1U << VIRTIO_RING_F_INDIRECT_DESC));
	if (hdr[0] & 2)
		f0 |= 1U << VIRTIO_RING_F_EVENT_IDX;
	if (hdr[0] & 4)
		f0 |= 1U << VIRTIO_RING_F_INDIRECT_DESC;
	reg(VIRTIO_MMIO_DRIVER_FEATURES_SEL, true, 0);
	reg(VIRTIO_MMIO_DRIVER_FEATURES, true, f0);
	reg(VIRTIO_MMIO_DRIVER_FEATURES_SEL, true, 1);
	reg(VIRTIO_MMIO_DRIVER_FEATURES, true, 1);
	reg(VIRTIO_MMIO_STATUS, true, 0xb);
	reg(VIRTIO_MMIO_QUEUE_SEL, true, 0);
	reg(VIRTIO_MMIO_QUEUE_NUM, true, 1U << (hdr[1] % 9));
	reg(VIRTIO_MMIO_QUEUE_DESC_LOW, true, hdr[2] | hdr[3] << 8);
	reg(VIRTIO_MMIO_QUEUE_AVAIL_LOW, true, hdr[4] | hdr[5] << 8);
	reg(VIRTIO_MMIO_QUEUE_USED_LOW, true, hdr[6] | hdr[7] << 8);
	reg(VIRTIO_MMIO_QUEUE_READY, true, 1);
	reg(VIRTIO_MMIO_STATUS, true, 0xf);
}

/* Snapshot RAM, mark who owns which bytes. */
static void take_snapshot(const u8 *hdr)
{
	u16 qsz = 1U << (hdr[1] % 9);

	memcpy(snap, xp_ram, XP_RAM_SIZE);
	memset(owners, 0, sizeof(owners));
	claim(hdr[2] | hdr[3] << 8, 16 * qsz);
	claim(hdr[4] | hdr[5] << 8, 6 + 2 * qsz);
	claim(hdr[6] | hdr[7] << 8, 6 + 8 * qsz);
}

static void claim_chains(unsigned int from, unsigned int to)
{
	for (unsigned int i = from; i < to; i++)
		for (unsigned int j = 0; j < chains[i].nr; j++)
			claim(chains[i].seg[j].gpa, chains[i].seg[j].len);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct kvm scratch;
	bool readonly;
	unsigned int irq, nr = 0, nr1;
	u64 slot_size, avail;
	u16 aidx, used_at;

	if (size < HDR)
		return 0;
	readonly = data[0] & 1;
	xp_vm_init(data, size, HDR);
	disk_fill();
	if (xp_device(VIRTIO_TRANSPORT_MMIO, 1 | (readonly ? 2 : 0)))
		abort();
	memset(&scratch, 0, sizeof(scratch));
	if (arch__virtio_mmio_alloc(&scratch, &slot, &slot_size, &irq))
		abort();
	avail = data[4] | data[5] << 8;

	/* The driver's used ring starts out zeroed (it is the driver's memory). */
	if (in_ram(data[6] | data[7] << 8, 6 + 8 * (1U << (data[1] % 9))))
		memset(xp_ram + (data[6] | data[7] << 8), 0,
		       6 + 8 * (1U << (data[1] % 9)));
	driver_init(data);
	take_snapshot(data);
	/* An avail ring outside RAM: the device must refuse it; offer nothing. */
	aidx = 0;
	if (in_ram(avail, 4)) {
		memcpy(&aidx, snap + avail + 2, 2);
		aidx = le16toh(aidx);
	}
	nr = offer(data, 0, aidx, 0);
	claim_chains(0, nr);
	reg(VIRTIO_MMIO_QUEUE_NOTIFY, true, 0);
	xp_settle();
	used_at = check_batch(data, 0, nr, readonly);

	if ((data[0] & 8) && in_ram(avail, 4) && !xp_vdev->broken) {
		/* More requests, in the same buffers: the guest reuses them. */
		u16 next = aidx + data[9];

		take_snapshot(data);
		nr1 = offer(data, aidx, next, nr);
		claim_chains(nr, nr1);
		next = htole16(next);
		memcpy(xp_ram + avail + 2, &next, 2);
		snap[avail + 2] = xp_ram[avail + 2];
		snap[avail + 3] = xp_ram[avail + 3];
		reg(VIRTIO_MMIO_QUEUE_NOTIFY, true, 0);
		xp_settle();
		check_batch(data, used_at, nr1, readonly);
	}

	reg(VIRTIO_MMIO_STATUS, true, 0);
	xp_check_reset();
	xp_vm_exit();
	if (readonly)
		disk_check_unchanged();
	return 0;
}

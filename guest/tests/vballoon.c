// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-balloon driver: touch touch_mib=N (64) MiB of RAM at 32 MiB so
 * the host's RSS rises ("vballoon: touched N MiB"), then follow the
 * host's target (num_pages, polled every few ms; config interrupts are
 * counted): inflate or deflate pages of the touched region, 256 PFNs a
 * chain, and write actual, printing "vballoon: actual=<pages>" each time
 * it changes.  The stats queue is negotiated: a buffer with MEMFREE and
 * MEMTOT stays posted and is refilled whenever the host gives it back.
 *
 * hostile=1 first sends PFNs that are not guest RAM (past the end, in the
 * PCI hole, 0xffffffff), one PFN many times, and a deflate of pages never
 * inflated, then prints "vballoon: hostile done" and behaves.
 *
 * Runs until 'q' on COM1 or secs=N (120) pass, then exits with status 1.
 */
#include "guest.h"
#include "virtio.h"

#define BALLOON_F_STATS_VQ		1
#define BALLOON_F_DEFLATE_ON_OOM	2
#define CFG_NUM_PAGES			0
#define CFG_ACTUAL			4
#define S_MEMFREE			4
#define S_MEMTOT			5
#define PAGE				4096UL
#define PFNS_PER_CHAIN			256
#define TOUCH_BASE			(32UL << 20)
#define COM1				0x3f8

enum { Q_INFLATE, Q_DEFLATE, Q_STATS };

struct stat_entry {
	uint16_t tag;
	uint64_t val;
} __attribute__((packed));

static struct virtio_dev vd;
static struct virtio_opts opts;
static uint32_t *pfns;
static struct stat_entry *stats;
static uint32_t touch_pages, actual;

/* Sends @n PFNs on @q and waits for the device to use them. */
static int send_pfns(unsigned int q, const uint32_t *list, unsigned int n)
{
	struct virtq *vq = vd.vqs[q];
	struct vsg sg = { (void *)list, n * 4 };
	uint32_t len;

	if (virtq_add(vq, &sg, 1, 0, (void *)list, false))
		return -1;
	virtq_kick(vq);
	while (!virtq_get_buf(vq, &len)) {
		if (!virtq_wait(vq, 5000)) {
			printf("vballoon: %s queue timeout\n",
			       q == Q_INFLATE ? "inflate" : "deflate");
			virtq_dump(vq);
			return -1;
		}
	}
	return 0;
}

static void write_actual(uint32_t v)
{
	for (unsigned int i = 0; i < 4; i++)
		virtio_cfg_write8(&vd, CFG_ACTUAL + i, (uint8_t)(v >> (8 * i)));
}

static void post_stats(void)
{
	struct vsg sg = { stats, 2 * sizeof(*stats) };

	stats[0] = (struct stat_entry){ S_MEMFREE,
					(touch_pages - actual) * PAGE };
	stats[1] = (struct stat_entry){ S_MEMTOT, touch_pages * PAGE };
	virtq_add(vd.vqs[Q_STATS], &sg, 1, 0, stats, false);
	virtq_kick(vd.vqs[Q_STATS]);
}

/* Moves actual towards @target, a chain at a time. */
static int follow(uint32_t target)
{
	uint32_t base = TOUCH_BASE / PAGE;

	if (target > touch_pages)
		target = touch_pages;	/* all we have to give */
	while (actual != target) {
		bool inflate = target > actual;
		uint32_t n = inflate ? target - actual : actual - target;

		if (n > PFNS_PER_CHAIN)
			n = PFNS_PER_CHAIN;
		/* The balloon is a stack: pages [base, base + actual). */
		for (uint32_t i = 0; i < n; i++)
			pfns[i] = inflate ? base + actual + i
					  : base + actual - n + i;
		if (send_pfns(inflate ? Q_INFLATE : Q_DEFLATE, pfns, n))
			return -1;
		actual = inflate ? actual + n : actual - n;
	}
	write_actual(actual);
	printf("vballoon: actual=%u\n", actual);
	return 0;
}

static uint64_t ram_end(void)
{
	uint64_t end = 0;

	for (uint32_t i = 0; i < boot_info.e820_entries; i++) {
		const struct e820_entry *e = &boot_info.e820[i];

		if (e->type == E820_TYPE_RAM && e->addr + e->size > end)
			end = e->addr + e->size;
	}
	return end;
}

static bool in_ram(uint64_t start, uint64_t len)
{
	for (uint32_t i = 0; i < boot_info.e820_entries; i++) {
		const struct e820_entry *e = &boot_info.e820[i];

		if (e->type == E820_TYPE_RAM && e->addr <= start &&
		    e->addr + e->size >= start + len)
			return true;
	}
	return false;
}

static int hostile(void)
{
	uint32_t end_pfn = (uint32_t)(ram_end() / PAGE);
	uint32_t base = TOUCH_BASE / PAGE;
	unsigned int n = 0;

	pfns[n++] = end_pfn;			/* first page past RAM */
	pfns[n++] = end_pfn + 0x10000;
	pfns[n++] = 0xc0000000UL / PAGE;	/* the PCI hole */
	pfns[n++] = 0xfec00000UL / PAGE;	/* IOAPIC */
	pfns[n++] = 0xfee00000UL / PAGE;	/* LAPIC */
	pfns[n++] = 0xffffffffUL / PAGE;
	pfns[n++] = 0xffffffff;
	pfns[n++] = 0x80000000;
	if (send_pfns(Q_INFLATE, pfns, n))
		return -1;
	/* One page 200 times, then given back once. */
	for (n = 0; n < 200; n++)
		pfns[n] = base;
	if (send_pfns(Q_INFLATE, pfns, n) || send_pfns(Q_DEFLATE, pfns, 1))
		return -1;
	/* Pages never inflated, and the same bad PFNs on deflate. */
	for (n = 0; n < 64; n++)
		pfns[n] = base + 100 + n;
	pfns[n++] = 0xffffffff;
	pfns[n++] = 0xc0000000UL / PAGE;
	if (send_pfns(Q_DEFLATE, pfns, n))
		return -1;
	puts("vballoon: hostile done");
	return 0;
}

static long vballoon_main(long unused)
{
	uint64_t deadline;
	uint32_t len, target;
	long v, secs = 120, mib = 64, bad = 0;

	(void)unused;
	if (!virtio_parse_opts(&opts))
		return 1;
	if (cmdline_get_int("touch_mib", &v) && v > 0)
		mib = v;
	if (cmdline_get_int("secs", &v) && v > 0)
		secs = v;
	cmdline_get_int("hostile", &bad);
	if (!in_ram(TOUCH_BASE, (uint64_t)mib << 20)) {
		printf("vballoon: RAM too small for touch_mib=%ld at %lu MiB\n",
		       mib, TOUCH_BASE >> 20);
		return 2;
	}
	touch_pages = (uint32_t)(((uint64_t)mib << 20) / PAGE);
	/* Every page written, so the host has to back it. */
	memset((void *)TOUCH_BASE, 0x5a, (size_t)mib << 20);
	printf("vballoon: touched %ld MiB\n", mib);

	if (virtio_probe(&vd, &opts, VIRTIO_ID_BALLOON) ||
	    virtio_init(&vd, &opts, (1ULL << BALLOON_F_STATS_VQ) |
				    (1ULL << BALLOON_F_DEFLATE_ON_OOM), 3))
		return 1;
	pfns = valloc(PFNS_PER_CHAIN * 4, 64);
	stats = valloc(2 * sizeof(*stats), 64);
	if (!pfns || !stats)
		return 1;
	post_stats();
	if (bad && hostile())
		return 1;

	deadline = ms_now() + (uint64_t)secs * 1000;
	while (ms_now() < deadline) {
		if ((inb(COM1 + 5) & 1) && inb(COM1) == 'q')
			break;
		target = virtio_cfg_read32(&vd, CFG_NUM_PAGES);
		if (target != actual && (actual < touch_pages ||
					 target < actual) && follow(target))
			return 1;
		if (virtq_get_buf(vd.vqs[Q_STATS], &len))
			post_stats();
		udelay(5000);
	}
	printf("vballoon: done, actual=%u, config irqs=%lu\n", actual,
	       READ_ONCE(vd.nr_config_irqs));
	return 0;
}

void guest_main(struct boot_info *bi)
{
	(void)bi;
	user_io_init();
	tsc_khz();
	guest_exit(run_user(vballoon_main, 0));
}

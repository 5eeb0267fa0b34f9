// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile virtio-blk driver, one rule broken per run (case=<name>):
 *
 *   loop       descriptor chain 0 -> 1 -> 0
 *   oob        buffer at 1 TiB, beyond RAM
 *   lenovf     descriptors whose lengths add up to 2^32 (same buffer
 *              repeated, so each one is inside RAM)
 *   zerolen    indirect descriptor with a zero-length table
 *   nested     indirect descriptor inside an indirect table
 *   availjump  avail->idx advanced by more than the queue size
 *   resize     queue size/address written after DRIVER_OK: ignored
 *   badnotify  notify for queue 99: ignored
 *   busmaster  (PCI) bus mastering off with requests pending: nothing
 *              completes until it is back on, then everything does
 *   resetflight  reset (status 0) while writes and flushes are still
 *              with the host's disk, 20 times: lkvm waits for them and
 *              the device works afterwards (the reset runs on the vCPU
 *              thread, under its seccomp filter)
 *
 * Malformed rings must make the device set NEEDS_RESET and raise a
 * configuration interrupt (ISR bit 1 / config vector); the guest then
 * resets it, sets it up again and proves a normal read works.  Prints
 * "vhostile: <case>: needs_reset" / "ignored" / "recovered" and exits 0
 * if the device behaved.
 */
#include "guest.h"
#include "virtio.h"

int vblk_sync(struct virtio_dev *vd, uint32_t type, uint64_t sector,
	      void *buf, uint32_t len);

static struct virtio_dev vd;
static struct virtio_opts opts;
static char name[16];
static struct virtio_blk_req_hdr *hdr;
static uint8_t *status, *data;

static bool is(const char *s)
{
	return strlen(name) == strlen(s) && !strncmp(name, s, strlen(s));
}

static void set_desc(struct vring_desc *d, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

static int normal_read(void)
{
	int st = vblk_sync(&vd, VIRTIO_BLK_T_IN, 0, data, 512);

	if (st != VIRTIO_BLK_S_OK) {
		printf("vhostile: %s: normal read failed (status %d, device status 0x%x)\n",
		       name, st, virtio_get_status(&vd));
		return -1;
	}
	return 0;
}

/* Largest power of two L with [1 MiB, 1 MiB + L) in one e820 RAM entry. */
static uint64_t ram_span(void)
{
	uint64_t best = 0, l;
	uint32_t i;

	for (i = 0; i < boot_info.e820_entries; i++) {
		const struct e820_entry *e = &boot_info.e820[i];

		if (e->type != E820_TYPE_RAM || e->addr > 0x100000 ||
		    e->addr + e->size <= 0x100000)
			continue;
		for (l = 1ULL << 31; l >= 1ULL << 20; l >>= 1)
			if (0x100000 + l <= e->addr + e->size && l > best)
				best = l;
	}
	return best;
}

/* Publishes a malformed request.  Returns -1 if the case is unknown. */
static int break_ring(struct virtq *vq)
{
	struct vring_desc *d = vq->desc, *t;
	uint64_t span;
	unsigned int i, n;

	hdr->type = VIRTIO_BLK_T_IN;
	hdr->sector = 0;
	if (is("loop")) {
		set_desc(&d[0], (uintptr_t)hdr, 16, VRING_DESC_F_NEXT, 1);
		set_desc(&d[1], (uintptr_t)data, 512,
			 VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 0);
	} else if (is("oob")) {
		set_desc(&d[0], (uintptr_t)hdr, 16, VRING_DESC_F_NEXT, 1);
		set_desc(&d[1], 1ULL << 40, 512,
			 VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
		set_desc(&d[2], (uintptr_t)status, 1, VRING_DESC_F_WRITE, 0);
	} else if (is("lenovf")) {
		/* A write, so a device that misses it only reads our RAM. */
		span = ram_span();
		n = span ? (1ULL << 32) / span : 0;
		if (!n || n + 2 > vq->size) {
			printf("vhostile: lenovf: RAM span 0x%lx too small\n", span);
			return -1;
		}
		printf("vhostile: lenovf: %u descriptors of 0x%lx bytes\n", n, span);
		hdr->type = VIRTIO_BLK_T_OUT;
		set_desc(&d[0], (uintptr_t)hdr, 16, VRING_DESC_F_NEXT, 1);
		for (i = 1; i <= n; i++)
			set_desc(&d[i], 0x100000, span, VRING_DESC_F_NEXT, i + 1);
		set_desc(&d[n + 1], (uintptr_t)status, 1, VRING_DESC_F_WRITE, 0);
	} else if (is("zerolen")) {
		t = valloc(4 * sizeof(*t), 16);
		set_desc(&t[0], (uintptr_t)hdr, 16, VRING_DESC_F_NEXT, 1);
		set_desc(&t[1], (uintptr_t)status, 1, VRING_DESC_F_WRITE, 0);
		set_desc(&d[0], (uintptr_t)t, 0, VRING_DESC_F_INDIRECT, 0);
	} else if (is("nested")) {
		t = valloc(8 * sizeof(*t), 16);
		set_desc(&t[4], (uintptr_t)data, 512, VRING_DESC_F_WRITE |
			 VRING_DESC_F_NEXT, 5);
		set_desc(&t[5], (uintptr_t)status, 1, VRING_DESC_F_WRITE, 0);
		set_desc(&t[0], (uintptr_t)hdr, 16, VRING_DESC_F_NEXT, 1);
		set_desc(&t[1], (uintptr_t)&t[4], 2 * sizeof(*t),
			 VRING_DESC_F_INDIRECT, 0);
		set_desc(&d[0], (uintptr_t)t, 2 * sizeof(*t),
			 VRING_DESC_F_INDIRECT, 0);
	} else if (is("availjump")) {
		set_desc(&d[0], (uintptr_t)hdr, 16, VRING_DESC_F_NEXT, 1);
		set_desc(&d[1], (uintptr_t)status, 1, VRING_DESC_F_WRITE, 0);
		vq->avail->ring[0] = 0;
		virt_wmb();	/* as in virtq_publish_head() */
		WRITE_ONCE(vq->avail->idx, vq->avail_idx + vq->size + 1);
		return 0;
	} else {
		return -1;
	}
	virtq_publish_head(vq, 0);
	return 0;
}

/* Waits for NEEDS_RESET and the configuration interrupt. */
static int expect_broken(void)
{
	uint64_t end = ms_now() + 3000;
	uint8_t st = 0, isr = 0;

	while (ms_now() < end) {
		st = virtio_get_status(&vd);
		if (st & VIRTIO_STATUS_NEEDS_RESET)
			break;
		cpu_relax();
	}
	if (!(st & VIRTIO_STATUS_NEEDS_RESET)) {
		printf("vhostile: %s: device status 0x%x, no NEEDS_RESET\n",
		       name, st);
		return -1;
	}
	printf("vhostile: %s: needs_reset\n", name);

	/* The config interrupt: counted by the handler, or the ISR bit. */
	end = ms_now() + 1000;
	irq_enable();
	while (!READ_ONCE(vd.nr_config_irqs) && !(READ_ONCE(vd.last_isr) & 2) &&
	       ms_now() < end) {
		if (vd.irq_mode == VIRQ_POLL)
			isr |= virtio_read_isr(&vd);
		if (isr & 2)
			break;
		cpu_relax();
	}
	irq_disable();
	if (!READ_ONCE(vd.nr_config_irqs) && !(READ_ONCE(vd.last_isr) & 2) &&
	    !(isr & 2)) {
		printf("vhostile: %s: no configuration interrupt\n", name);
		return -1;
	}
	printf("vhostile: %s: config interrupt\n", name);
	return 0;
}

static int busmaster(struct virtq *vq)
{
	struct vsg sg[3];
	static struct virtio_blk_req_hdr *h;
	static uint8_t *st;
	unsigned int i, got = 0;
	uint64_t end;

	if (vd.transport != VT_PCI && vd.transport != VT_PCI_LEGACY) {
		printf("vhostile: busmaster: needs a PCI transport\n");
		return -1;
	}
	h = valloc(4 * sizeof(*h), 16);
	st = valloc(4, 4);
	virtio_pci_bus_master(&vd, false);
	for (i = 0; i < 4; i++) {
		h[i].type = VIRTIO_BLK_T_IN;
		h[i].sector = i;
		st[i] = 0xff;
		sg[0] = (struct vsg){ &h[i], sizeof(h[i]) };
		sg[1] = (struct vsg){ data + 512 * i, 512 };
		sg[2] = (struct vsg){ &st[i], 1 };
		if (virtq_add(vq, sg, 1, 2, &h[i], false))
			return -1;
	}
	virtq_notify(vq);
	end = ms_now() + 300;
	while (ms_now() < end)
		cpu_relax();
	if (virtq_more_used(vq)) {
		printf("vhostile: busmaster: used entries appeared with bus mastering off\n");
		return -1;
	}
	puts("vhostile: busmaster: no dma while disabled");
	virtio_pci_bus_master(&vd, true);
	end = ms_now() + 3000;
	while (got < 4 && ms_now() < end) {
		while (virtq_get_buf(vq, NULL))
			got++;
		cpu_relax();
	}
	for (i = 0; i < 4; i++)
		if (st[i] != VIRTIO_BLK_S_OK)
			break;
	if (got < 4 || i < 4) {
		printf("vhostile: busmaster: %u of 4 completed after re-enabling\n",
		       got);
		return -1;
	}
	puts("vhostile: busmaster: recovered");
	return 0;
}

/*
 * Writes and flushes, a kick, a moment for the device thread to hand them
 * to the host (a flush is an aio fdsync there, in flight for a while),
 * then a reset.  Nothing is waited for: the reset must wait itself.
 */
static int resetflight(void)
{
	static struct virtio_blk_req_hdr *h;
	static uint8_t *st, *buf;
	struct vsg sg[3];
	uint64_t feat = 1ULL << VIRTIO_BLK_F_FLUSH, end;
	unsigned int i, round;
	struct virtq *vq;

	h = valloc(16 * sizeof(*h), 16);
	st = valloc(16, 4);
	buf = vmalloc_pages(8 * 4096);
	for (round = 0; round < 20; round++) {
		vq = vd.vqs[0];
		for (i = 0; i < 16; i++) {
			bool flush = i >= 8;

			h[i].type = flush ? VIRTIO_BLK_T_FLUSH : VIRTIO_BLK_T_OUT;
			h[i].sector = flush ? 0 : 8 * i;
			st[i] = 0xff;
			sg[0] = (struct vsg){ &h[i], sizeof(h[i]) };
			sg[1] = (struct vsg){ buf + 4096 * (i % 8), 4096 };
			sg[2] = (struct vsg){ &st[i], 1 };
			if (flush) {
				sg[1] = sg[2];
				if (virtq_add(vq, sg, 1, 1, &h[i], false))
					return -1;
			} else if (virtq_add(vq, sg, 2, 1, &h[i], false)) {
				return -1;
			}
		}
		virtq_notify(vq);
		end = us_now() + 200;
		while (us_now() < end)
			cpu_relax();
		virtio_reset(&vd);
		if (virtio_init(&vd, &opts, feat, 1))
			return -1;
	}
	if (normal_read())
		return -1;
	puts("vhostile: resetflight: recovered");
	return 0;
}

static long vhostile_main(long unused)
{
	struct virtq *vq;
	uint8_t *other;
	uint64_t feat = 1ULL << VIRTIO_BLK_F_FLUSH;

	(void)unused;
	if (!virtio_parse_opts(&opts))
		return 1;
	if (!cmdline_get_str("case", name, sizeof(name))) {
		puts("vhostile: case=<name> missing");
		return 1;
	}
	hdr = valloc(sizeof(*hdr), 16);
	status = valloc(1, 1);
	data = vmalloc_pages(4096);
	if (virtio_probe(&vd, &opts, VIRTIO_ID_BLOCK) ||
	    virtio_init(&vd, &opts, feat, 1))
		return 1;
	vq = vd.vqs[0];
	if (normal_read())
		return 1;

	if (is("busmaster"))
		return busmaster(vq) ? 1 : 0;
	if (is("resetflight"))
		return resetflight() ? 1 : 0;

	if (is("resize") || is("badnotify")) {
		if (is("resize")) {
			other = vmalloc_pages(4096 * 4);
			virtio_requeue_config(&vd, vq, vq->size / 2,
					      (uintptr_t)other);
		} else {
			virtio_notify_raw(&vd, vq, 99);
		}
		if (virtio_get_status(&vd) & VIRTIO_STATUS_NEEDS_RESET) {
			printf("vhostile: %s: device wants a reset (0x%x)\n",
			       name, virtio_get_status(&vd));
			return 1;
		}
		if (normal_read())
			return 1;
		printf("vhostile: %s: ignored\n", name);
		return 0;
	}

	if ((is("zerolen") || is("nested")) && !vd.indirect) {
		printf("vhostile: %s: INDIRECT_DESC not negotiated\n", name);
		return 1;
	}
	if (break_ring(vq)) {
		printf("vhostile: unknown case '%s'\n", name);
		return 1;
	}
	virtq_notify(vq);
	if (expect_broken())
		return 1;

	if (virtio_init(&vd, &opts, feat, 1))
		return 1;
	if (normal_read())
		return 1;
	printf("vhostile: %s: recovered\n", name);
	return 0;
}

void guest_main(struct boot_info *bi)
{
	(void)bi;
	user_io_init();
	tsc_khz();
	guest_exit(run_user(vhostile_main, 0));
}

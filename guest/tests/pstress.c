// SPDX-License-Identifier: GPL-2.0
/*
 * pstress: the guest side of the pause/resume stress test
 * (tests/guest/56-pause-stress.t).  While the host pauses and resumes the
 * VM again and again, it keeps `depth` virtio-blk reads and writes in
 * flight over a pattern-filled region and a LAPIC periodic timer running,
 * and checks afterwards that
 *  - every request completed exactly once: each carries a tag, every used
 *    entry must name a request in flight (duplicates and unknown ids are
 *    counted), with the length the device must report (data + status for
 *    reads, the status byte for writes), status OK and, for reads, the
 *    pattern (writes rewrite the same pattern, so it stays invariant);
 *  - no interrupt was lost: completions are only consumed after the
 *    queue's interrupt, except those already used before interrupts were
 *    re-armed (none is owed for those).  Armed, with nothing used, the
 *    next used entry must raise one; an entry visible for lost_ms with no
 *    interrupt is `pstress: LOST INTERRUPT`, a request older than
 *    stuck_ms is `pstress: STUCK`;
 *  - the timer and clocks are sane: ticks never more than the TSC time
 *    allows, never stalled for long, and the CMOS RTC advanced with the
 *    TSC (within drift_ms, 2.5 s unless told; drift_ms=-1 leaves the
 *    judgement to the host: where the host's TSC is unstable, KVM
 *    freezes the guest's TSC while the vCPU thread is stopped, so under
 *    SIGSTOP the TSC lags the RTC by up to the time stopped).
 *
 * It runs until `q` arrives on COM1 (LSR polled every poll_ms: each port
 * access from CPL3 is a trap) or secs=N elapse (default: until q, capped
 * at cap=600 s), drains, prints one summary line and `pstress: ok` or
 * `pstress: FAIL <why>`.
 *
 * Options (besides the transport ones in virtio.h): sectors=N (2048),
 * start=S (0), seed=X (1), depth=N (16, up to 64), max_sect=N sectors per
 * request (8, up to 32), writes=P percent (30), hz=N timer rate (100),
 * secs=N, cap=N, lost_ms=N (5000), stuck_ms=N (30000), poll_ms=N (5),
 * drift_ms=N (2500; -1: not judged here).
 */
#include "guest.h"
#include "virtio.h"
#include "vblk-pattern.h"

int vblk_sync(struct virtio_dev *vd, uint32_t type, uint64_t sector,
	      void *buf, uint32_t len);

#define TIMER_VECTOR	0x20
#define COM1		0x3f8
#define MAX_DEPTH	64
#define MAX_SECT	32
#define FILL_SECT	64	/* sectors per request of the initial fill */

struct preq {
	struct virtio_blk_req_hdr hdr;
	uint8_t status;
	bool inflight;
	uint32_t type;
	uint64_t tag;		/* submission number, from 1 */
	uint64_t sector, submit_ms;
	unsigned int nsect;
	uint8_t *data;
};

static struct virtio_dev vd;
static struct virtio_opts opts;
static struct preq *reqs;
static uint16_t free_reqs[MAX_DEPTH];
static unsigned int nr_free, inflight;
/* Tag of the last request completed on each ring head: 0 = none yet. */
static uint64_t head_tag[1024];

static uint64_t start, sectors, seed, depth, max_sect, writes_pct;
static uint64_t lost_ms, stuck_ms, poll_ms, secs, cap;

static struct {
	unsigned long requests, completed, dup, unknown, badlen, ioerr;
	unsigned long baddata, lost_irq, stuck;
	unsigned long reads, writes;
	unsigned long irq_rounds;	/* drains started by an interrupt */
	unsigned long race_rounds;	/* used before re-arming: no irq owed */
} st;

static unsigned long ticks;		/* timer_irq(); READ_ONCE() */
static uint64_t tick_ms_last, tick_seen, max_tick_gap_ms;
static const char *stop_reason;
static uint64_t rnd_state = 88172645463325252ULL;

static uint64_t xorshift(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static long opt(const char *key, long def)
{
	long v;

	return cmdline_get_int(key, &v) ? v : def;
}

static void timer_irq(struct trap_frame *tf)
{
	(void)tf;
	irq_count_inc(ticks);
	lapic_eoi();
}

/* ---- clocks ---- */

static uint64_t tsc_ms(uint64_t cycles)
{
	return cycles / tsc_khz();
}

static uint8_t cmos_read(uint8_t idx)
{
	outb(0x70, idx);
	return inb(0x71);
}

static unsigned int bcd(uint8_t v, bool binary)
{
	return binary ? v : (v >> 4) * 10 + (v & 15);
}

/* Days since 1970-01-01 of a Gregorian date (Howard Hinnant's method). */
static int64_t days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era;
	unsigned int yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned int)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* RTC time in seconds since the epoch; read until two reads agree. */
static int64_t rtc_now(void)
{
	uint8_t a[7], b[7], regb = cmos_read(0x0b);
	static const uint8_t idx[7] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32 };
	bool binary = regb & 0x04, h24 = regb & 0x02;
	unsigned int i, h, tries = 0;

	do {
		while ((cmos_read(0x0a) & 0x80) && tries++ < 100000)
			;
		for (i = 0; i < 7; i++)
			a[i] = cmos_read(idx[i]);
		for (i = 0; i < 7; i++)
			b[i] = cmos_read(idx[i]);
	} while (memcmp(a, b, sizeof(a)) && tries++ < 100000);
	h = bcd(a[2] & 0x7f, binary);
	if (!h24)
		h = h % 12 + (a[2] & 0x80 ? 12 : 0);
	return days_from_civil(bcd(a[6], binary) * 100 + bcd(a[5], binary),
			       bcd(a[4], binary), bcd(a[3], binary)) * 86400 +
	       h * 3600 + bcd(a[1], binary) * 60 + bcd(a[0], binary);
}

/* LAPIC timer clock in Hz, measured against the TSC over ~50 ms. */
static uint64_t lapic_timer_hz(void)
{
	uint64_t t0, t1;
	uint32_t c0, c1;

	lapic_write(LAPIC_TIMER_DIV, 0x3);		/* divide by 16 */
	lapic_write(LAPIC_LVT_TIMER, 1 << 16);		/* masked, one-shot */
	lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
	c0 = lapic_read(LAPIC_TIMER_CUR);
	t0 = rdtsc();
	while (rdtsc() - t0 < 50 * tsc_khz())
		cpu_relax();
	c1 = lapic_read(LAPIC_TIMER_CUR);
	t1 = rdtsc();
	lapic_write(LAPIC_TIMER_INIT, 0);
	return (uint64_t)(c0 - c1) * tsc_khz() * 1000 / (t1 - t0);
}

/* ---- requests ---- */

static int submit(struct preq *r)
{
	struct vsg sg[3];

	r->hdr.type = r->type;
	r->hdr.ioprio = 0;
	r->hdr.sector = r->sector;
	r->status = 0xff;	/* the device must overwrite it */
	sg[0] = (struct vsg){ &r->hdr, sizeof(r->hdr) };
	sg[1] = (struct vsg){ r->data, r->nsect * VBLK_SECTOR };
	sg[2] = (struct vsg){ &r->status, 1 };
	if (r->type == VIRTIO_BLK_T_OUT)
		return virtq_add(vd.vqs[0], sg, 2, 1, r, opts.indirect);
	return virtq_add(vd.vqs[0], sg, 1, 2, r, opts.indirect);
}

/* Tops the queue up to `depth` random reads and writes; kicks once. */
static void refill(uint64_t now)
{
	struct virtq *vq = vd.vqs[0];
	bool added = false;
	struct preq *r;
	unsigned int s;

	while (inflight < depth && nr_free) {
		r = &reqs[free_reqs[nr_free - 1]];
		r->nsect = 1 + xorshift() % max_sect;
		r->sector = start + xorshift() % (sectors - r->nsect + 1);
		r->type = xorshift() % 100 < writes_pct ? VIRTIO_BLK_T_OUT :
							   VIRTIO_BLK_T_IN;
		if (r->type == VIRTIO_BLK_T_OUT) {
			for (s = 0; s < r->nsect; s++)
				vblk_pattern_fill(seed, r->sector + s,
					(uint32_t *)(r->data + s * VBLK_SECTOR));
		} else {
			/* Stale data must not pass the check by accident. */
			memset(r->data, 0xa5, r->nsect * VBLK_SECTOR);
		}
		if (submit(r))
			break;		/* ring full: depth > queue size */
		r->tag = ++st.requests;
		r->submit_ms = now;
		r->inflight = true;
		nr_free--;
		inflight++;
		added = true;
	}
	if (added)
		virtq_kick(vq);
}

static void complete(struct preq *r, uint32_t id, uint32_t len)
{
	uint32_t want = r->type == VIRTIO_BLK_T_IN ?
			r->nsect * VBLK_SECTOR + 1 : 1;
	unsigned int s;

	if (!r->inflight || r->status == 0xff) {
		/*
		 * A head that is in flight again returned before the device
		 * wrote its status: the used entry repeats an older one.
		 */
		if (!st.dup++)
			printf("pstress: duplicate completion of head %u (tag %lu, previous tag %lu, status 0x%x)\n",
			       id, r->tag, head_tag[id], r->status);
	}
	if (len != want && !st.badlen++)
		printf("pstress: tag %lu (%s %u sectors) used len %u, want %u\n",
		       r->tag, r->type == VIRTIO_BLK_T_IN ? "read" : "write",
		       r->nsect, len, want);
	if (r->status != VIRTIO_BLK_S_OK) {
		if (!st.ioerr++)
			printf("pstress: tag %lu at sector %lu: status 0x%x\n",
			       r->tag, r->sector, r->status);
	} else if (r->type == VIRTIO_BLK_T_IN) {
		for (s = 0; s < r->nsect; s++) {
			if (vblk_pattern_check(seed, r->sector + s,
				(uint32_t *)(r->data + s * VBLK_SECTOR)) < 0)
				continue;
			if (!st.baddata++)
				printf("pstress: tag %lu: sector %lu does not hold the pattern\n",
				       r->tag, r->sector + s);
			break;
		}
	}
	if (r->type == VIRTIO_BLK_T_IN)
		st.reads++;
	else
		st.writes++;
	head_tag[id] = r->tag;
	r->inflight = false;
	st.completed++;
	inflight--;
	free_reqs[nr_free++] = r - reqs;
}

/* Consumes every used entry. */
static void drain(void)
{
	struct virtq *vq = vd.vqs[0];
	uint32_t id, len;
	void *data;
	int rc;

	while ((rc = virtq_get_used(vq, &data, &id, &len))) {
		if (rc > 0) {
			complete(data, id, len);
			continue;
		}
		/* Not in flight: a head we completed before, or garbage. */
		if (id < vq->size && head_tag[id]) {
			if (!st.dup++)
				printf("pstress: duplicate used entry for head %u (last tag %lu, len %u)\n",
				       id, head_tag[id], len);
		} else if (!st.unknown++) {
			printf("pstress: used entry with unknown id %u (len %u)\n",
			       id, len);
		}
	}
}

/* ---- the run ---- */

/*
 * Every poll_ms: COM1 input (one trapped port read), the timer's
 * progress, requests older than stuck_ms, the time limit.  Returns -1
 * on STUCK.
 */
static int housekeeping(uint64_t now, uint64_t t_start_ms)
{
	unsigned int i;

	if (inb(COM1 + 5) & 0x01) {
		if (inb(COM1) == 'q' && !stop_reason)
			stop_reason = "q";
	}
	if (READ_ONCE(ticks) != tick_seen) {
		tick_seen = READ_ONCE(ticks);
		tick_ms_last = now;
	} else if (now - tick_ms_last > max_tick_gap_ms) {
		max_tick_gap_ms = now - tick_ms_last;
	}
	for (i = 0; i < depth; i++) {
		struct preq *r = &reqs[i];

		if (r->inflight && now - r->submit_ms > stuck_ms) {
			printf("pstress: STUCK: tag %lu (%s sector %lu, %u sectors) in flight for %lu ms, %u in flight\n",
			       r->tag, r->type == VIRTIO_BLK_T_IN ? "read" : "write",
			       r->sector, r->nsect, now - r->submit_ms, inflight);
			virtq_dump(vd.vqs[0]);
			st.stuck++;
			return -1;
		}
	}
	if (!stop_reason && secs && now - t_start_ms >= secs * 1000)
		stop_reason = "secs";
	if (!stop_reason && now - t_start_ms >= cap * 1000)
		stop_reason = "cap";
	return 0;
}

/*
 * EVENT_IDX: ask for an interrupt when the device uses the entry at the
 * ring's current tail, however much of the ring we have consumed, and
 * return that index.  Once this returns, the device owes an interrupt
 * for the next entry it uses; the ones already there are consumed
 * without one.  vq->avail_flags keeps NO_INTERRUPT set (as
 * virtq_disable_cb() left it), so virtq_get_used() leaves used_event
 * alone.
 */
static uint16_t arm_tail(struct virtq *vq)
{
	uint16_t u;

	do {
		u = READ_ONCE(vq->used->idx);
		WRITE_ONCE(*vq->used_event, u);
		/*
		 * used_event store, then used->idx load: a full fence.  Pairs
		 * with vring_full_barrier() in lkvm's vring_need_interrupt()
		 * between its used->idx store and its used_event load: either
		 * it sees used_event == u when it uses entry u, or we see
		 * used->idx past u and try again.
		 */
		virt_mb();
	} while (READ_ONCE(vq->used->idx) != u);
	return u;
}

/*
 * Waits for an interrupt after @seen.  The device owes one once used->idx
 * has moved past @tail (@by_tail, EVENT_IDX) or past what we consumed
 * (flags).  Returns -1 on LOST INTERRUPT or STUCK.
 */
static int wait_irq(unsigned long seen, uint16_t tail, bool by_tail,
		    uint64_t *next_hk, uint64_t t_start_ms)
{
	struct virtq *vq = vd.vqs[0];
	uint64_t now, moved_at = 0;
	bool moved;

	while (READ_ONCE(vd.nr_irqs) == seen) {
		now = ms_now();
		moved = by_tail ? READ_ONCE(vq->used->idx) != tail :
				  virtq_more_used(vq);
		if (!moved) {
			moved_at = 0;
		} else if (!moved_at) {
			moved_at = now;
		} else if (now - moved_at > lost_ms &&
			   READ_ONCE(vd.nr_irqs) == seen) {
			st.lost_irq++;
			printf("pstress: LOST INTERRUPT: used->idx %u moved past %u %lu ms ago, no interrupt since (irqs %lu, requests %lu, completed %lu)\n",
			       READ_ONCE(vq->used->idx),
			       by_tail ? tail : vq->last_used, now - moved_at,
			       READ_ONCE(vd.nr_irqs), st.requests,
			       st.completed);
			virtq_dump(vq);
			return -1;
		}
		if (now >= *next_hk) {
			if (housekeeping(now, t_start_ms))
				return -1;
			*next_hk = now + poll_ms;
		}
		cpu_relax();
	}
	return 0;
}

/*
 * Keeps `depth` requests in flight until stop_reason is set, then
 * drains.  Each round snapshots the interrupt count, arms the queue's
 * interrupt and waits for one before consuming what the device used
 * after arming: a lost interrupt leaves the guest waiting with used
 * entries in sight, which wait_irq() reports.  The snapshot comes first
 * so that an interrupt taken between arming and waiting is not missed; a
 * stale one from an earlier round can only hide a lost interrupt (once),
 * never invent one.
 *
 * With EVENT_IDX the device signals once per crossing of used_event, and
 * arm_tail() puts that at the tail, so every round waits for an
 * interrupt.  Without it, virtq_enable_cb() only tells whether something
 * was used before the flag reached the device; such rounds (race_rounds)
 * consume without waiting.
 */
static int run(uint64_t t_start_ms)
{
	struct virtq *vq = vd.vqs[0];
	uint64_t now, next_hk = 0;
	unsigned long seen;
	uint16_t tail = 0;

	virtq_disable_cb(vq);
	irq_enable();
	for (;;) {
		now = ms_now();
		if (now >= next_hk) {
			if (housekeeping(now, t_start_ms))
				return -1;
			next_hk = now + poll_ms;
		}
		if (!stop_reason)
			refill(now);
		if (!inflight)
			break;

		seen = READ_ONCE(vd.nr_irqs);
		if (vd.event_idx) {
			tail = arm_tail(vq);
			drain();
			/*
			 * All done before arming: the device has used nothing
			 * past the tail, so the arm holds for new requests.
			 */
			if (!inflight && !stop_reason)
				refill(now);
			if (!inflight && READ_ONCE(vq->used->idx) == tail) {
				st.race_rounds++;	/* stopping: none owed */
				continue;
			}
		} else if (!virtq_enable_cb(vq)) {
			virtq_disable_cb(vq);
			st.race_rounds++;
			drain();
			continue;
		}
		if (wait_irq(seen, tail, vd.event_idx, &next_hk, t_start_ms))
			return -1;
		if (!vd.event_idx)
			virtq_disable_cb(vq);
		st.irq_rounds++;
		drain();
	}
	irq_disable();
	return 0;
}

/* Writes the pattern over the whole region, one synchronous request at a time. */
static int fill(void)
{
	uint8_t *buf = vmalloc_pages(FILL_SECT * VBLK_SECTOR);
	uint64_t s, n, i;
	int rc;

	if (!buf)
		return -1;
	for (s = start; s < start + sectors; s += n) {
		n = start + sectors - s < FILL_SECT ? start + sectors - s : FILL_SECT;
		for (i = 0; i < n; i++)
			vblk_pattern_fill(seed, s + i,
					  (uint32_t *)(buf + i * VBLK_SECTOR));
		rc = vblk_sync(&vd, VIRTIO_BLK_T_OUT, s, buf, n * VBLK_SECTOR);
		if (rc != VIRTIO_BLK_S_OK) {
			printf("pstress: fill at sector %lu: status %d\n", s, rc);
			return -1;
		}
	}
	return 0;
}

static long pstress_main(long unused)
{
	uint64_t capacity, apic_hz, hz, t0, t1, t_start_ms, elapsed_ms;
	uint64_t max_ticks, i;
	int64_t rtc0, rtc1, rtc_s, drift_ms, max_drift_ms;
	const char *why = NULL;
	int rc;

	(void)unused;
	if (!virtio_parse_opts(&opts))
		return 1;
	sectors = opt("sectors", 2048);
	start = opt("start", 0);
	seed = opt("seed", 1);
	depth = opt("depth", 16);
	max_sect = opt("max_sect", 8);
	writes_pct = opt("writes", 30);
	hz = opt("hz", 100);
	secs = opt("secs", 0);
	cap = opt("cap", 600);
	lost_ms = opt("lost_ms", 5000);
	max_drift_ms = opt("drift_ms", 2500);
	stuck_ms = opt("stuck_ms", 30000);
	poll_ms = opt("poll_ms", 5);
	if (!depth || depth > MAX_DEPTH || !max_sect || max_sect > MAX_SECT ||
	    sectors < max_sect || !seed || seed > 0xffffffff ||
	    writes_pct > 100 || !hz || hz > 1000 || !cap || !lost_ms ||
	    !stuck_ms || !poll_ms) {
		puts("pstress: FAIL bad options");
		return 1;
	}

	if (virtio_probe(&vd, &opts, VIRTIO_ID_BLOCK) ||
	    virtio_init(&vd, &opts, 0, 1)) {
		puts("pstress: FAIL no virtio-blk device");
		return 1;
	}
	if (vd.irq_mode == VIRQ_POLL) {
		puts("pstress: FAIL irq=poll cannot show lost interrupts");
		return 1;
	}
	if (depth > vd.vqs[0]->size)
		depth = vd.vqs[0]->size;
	capacity = virtio_cfg_read64(&vd, 0);
	if (start + sectors > capacity) {
		printf("pstress: FAIL %lu sectors from %lu do not fit in %lu\n",
		       sectors, start, capacity);
		return 1;
	}
	reqs = valloc(depth * sizeof(*reqs), 64);
	if (!reqs)
		return 1;
	for (i = 0; i < depth; i++) {
		reqs[i].data = vmalloc_pages(max_sect * VBLK_SECTOR);
		if (!reqs[i].data)
			return 1;
		free_reqs[nr_free++] = i;
	}
	if (fill()) {
		puts("pstress: FAIL cannot write the pattern");
		return 1;
	}

	apic_hz = lapic_timer_hz();
	if (apic_hz < hz * 16) {
		printf("pstress: FAIL LAPIC timer at %lu Hz\n", apic_hz);
		return 1;
	}
	rtc0 = rtc_now();
	t0 = rdtsc();
	t_start_ms = ms_now();
	tick_ms_last = t_start_ms;
	lapic_timer_periodic(TIMER_VECTOR, apic_hz / hz);
	printf("pstress: running (depth=%lu sectors=%lu max_sect=%lu writes=%lu%% transport=%s irq=%s event_idx=%d timer %lu Hz of a %lu Hz clock, tsc %lu kHz)\n",
	       depth, sectors, max_sect, writes_pct,
	       virtio_transport_name(vd.transport),
	       virtio_irq_name(vd.irq_mode), vd.event_idx, hz, apic_hz,
	       tsc_khz());

	rc = run(t_start_ms);

	t1 = rdtsc();
	lapic_timer_stop();
	rtc1 = rtc_now();
	elapsed_ms = tsc_ms(t1 - t0);
	rtc_s = rtc1 - rtc0;
	drift_ms = rtc_s * 1000 - (int64_t)elapsed_ms;
	/* The tick count may lag (ticks coalesce), never lead; 2% + 5. */
	max_ticks = elapsed_ms * hz / 1000 * 102 / 100 + 5;

	printf("pstress: requests=%lu completed=%lu dup=%lu unknown=%lu lost_irq=%lu irqs=%lu ticks=%lu elapsed_ms=%lu rtc_s=%ld\n",
	       st.requests, st.completed, st.dup, st.unknown, st.lost_irq,
	       READ_ONCE(vd.nr_irqs), READ_ONCE(ticks), elapsed_ms, rtc_s);
	printf("pstress: reads=%lu writes=%lu badlen=%lu ioerr=%lu baddata=%lu irq_rounds=%lu race_rounds=%lu max_tick_gap_ms=%lu max_ticks=%lu rtc_drift_ms=%ld stop=%s\n",
	       st.reads, st.writes, st.badlen, st.ioerr, st.baddata,
	       st.irq_rounds, st.race_rounds, max_tick_gap_ms, max_ticks,
	       drift_ms, stop_reason ? stop_reason : "-");

	if (st.lost_irq)
		why = "lost interrupt";
	else if (st.stuck || rc)
		why = "stuck request";
	else if (st.dup)
		why = "duplicate completions";
	else if (st.unknown)
		why = "unknown used ids";
	else if (st.completed != st.requests)
		why = "completed != requests";
	else if (st.badlen)
		why = "wrong used lengths";
	else if (st.ioerr)
		why = "I/O errors";
	else if (st.baddata)
		why = "data mismatch";
	else if (!READ_ONCE(vd.nr_irqs) || !st.irq_rounds)
		why = "no queue interrupt at all";
	else if (!READ_ONCE(ticks))
		why = "no timer tick";
	else if (READ_ONCE(ticks) > max_ticks)
		why = "more timer ticks than time allows";
	else if (max_tick_gap_ms > 5000)
		why = "timer stalled for more than 5 s";
	else if (max_drift_ms >= 0 &&
		 (drift_ms > max_drift_ms || drift_ms < -max_drift_ms))
		why = "RTC and TSC disagree by more than drift_ms";
	if (why) {
		printf("pstress: FAIL %s\n", why);
		return 1;
	}
	puts("pstress: ok");
	return 0;
}

void guest_main(struct boot_info *bi)
{
	(void)bi;
	user_io_init();
	tsc_khz();		/* at CPL0: an MSR write, or port I/O */
	set_trap_handler(TIMER_VECTOR, timer_irq);
	guest_exit(run_user(pstress_main, 0));
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio core's state machine (virtio/core.c) through a device's life:
 * feature negotiation, the status lifecycle and NEEDS_RESET for a
 * driver's mistakes, rings outside guest RAM, a bad descriptor chain, bus
 * mastering, a device's config change.  The fixture
 * (tests/lib/virtio-core-fixture.h) drives it from both sides; requests
 * held across resets and stalls are tests/unit/virtio/core-inflight.c.
 */
#include "stderr-capture.h"
#include "virtio-core-fixture.h"

/* Status up to FEATURES_OK: feature negotiation (3.1.1 steps 2-6). */
static void case_negotiation(bool pq)
{
	struct t t;
	struct view v;

	diag("feature negotiation, %s", MODE(pq));
	t_new(&t, pq, VIRTIO_TRANSPORT_MMIO);
	is_int(drv_host_features(&t),
	       DEV_FEATURES | F_V1 | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
	       (1ULL << VIRTIO_RING_F_EVENT_IDX),
	       "offers the device's features, VERSION_1 and the ring features");
	is_int(core_view(&t).status, 0, "status starts at 0");

	drv_status(&t, S_ACK);
	is_int(core_view(&t).status, S_ACK, "ACKNOWLEDGE");
	drv_status(&t, S_ACK | S_DRV);
	is_int(core_view(&t).status, S_ACK | S_DRV, "DRIVER");

	/* 2.2.1: the driver may only accept what was offered. */
	drv_features(&t, ~0ULL & ~F_V1);
	is_int(core_view(&t).guest_features, DEV_FEATURES |
	       (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
	       (1ULL << VIRTIO_RING_F_EVENT_IDX),
	       "accepted features are masked to the offered ones");
	/*
	 * 6.1: a driver must accept VERSION_1; 2.2.2: a device refuses a
	 * subset it cannot take by leaving FEATURES_OK clear (3.1.1 step 6).
	 */
	drv_status(&t, S_ACK | S_DRV | S_FOK);
	v = core_view(&t);
	ok(v.status == (S_ACK | S_DRV) && !v.broken,
	   "FEATURES_OK without VERSION_1 is refused (not an error)");
	drv_features(&t, F_V1);
	drv_status(&t, S_ACK | S_DRV | S_FOK);
	is_int(core_view(&t).status, S_ACK | S_DRV | S_FOK,
	       "FEATURES_OK with VERSION_1");
	/* 3.1.1 step 5: no new features after FEATURES_OK. */
	drv_features(&t, F_V1 | DEV_FEATURES);
	is_int(core_view(&t).guest_features, F_V1,
	       "features are read-only after FEATURES_OK");
	core_free(&t);

	/* A legacy-only device has no VERSION_1 to insist on. */
	t_new(&t, pq, VIRTIO_TRANSPORT_MMIO_LEGACY);
	ok(!(drv_host_features(&t) & F_V1),
	   "legacy-only: VERSION_1 not offered");
	drv_status(&t, S_ACK | S_DRV);
	drv_features(&t, 0);
	drv_status(&t, S_ACK | S_DRV | S_FOK);
	is_int(core_view(&t).status, S_ACK | S_DRV | S_FOK,
	       "legacy-only: FEATURES_OK without VERSION_1");
	core_free(&t);
}

/* DRIVER_OK, NEEDS_RESET for the driver's mistakes, reset, a new driver. */
static void case_lifecycle(bool pq)
{
	struct t t;
	struct view v;
	unsigned int h0;

	diag("DRIVER_OK, NEEDS_RESET, reset, %s", MODE(pq));
	t_new(&t, pq, VIRTIO_TRANSPORT_MMIO);
	drv_setup(&t, 0);
	ok(drv_queue_config_allowed(&t), "queue config open before DRIVER_OK");
	for (unsigned int i = 0; i < NQ; i++)
		drv_queue_setup(&t, i, t.ring[i]);
	/*
	 * 2.1.2: no buffer is consumed before DRIVER_OK, even if the
	 * driver notifies (which 3.1.1 forbids).
	 */
	ring_post(&t, 0, false);
	drv_notify(&t, 0);
	ok(core_flush(&t), "device threads flushed");
	ok(!dev.handled[0] && !ring_used_idx(t.ring[0]) && !sig.queue[0],
	   "a notify before DRIVER_OK runs nothing");

	/* 3.1.1 step 7: queues may be populated before DRIVER_OK. */
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK);
	v = core_view(&t);
	ok(v.status == (S_ACK | S_DRV | S_FOK | S_DOK) && v.mapped[0] &&
	   v.mapped[1] && dev.starts == 1,
	   "DRIVER_OK maps every enabled queue and starts the device");
	ok(wait_until(ring_used_idx(t.ring[0]) == 1),
	   "a buffer posted before DRIVER_OK is used without a new notify");
	ok(wait_until(sig.queue[0] >= 1), "and its interrupt is raised");
	ok(wait_until(dev.handled[1] >= 1),
	   "the other enabled queue is looked at too");
	/* virtio.h: one thread per queue, or the device's one thread. */
	ok(core_flush(&t) &&
	   pthread_equal(dev.thread[0], dev.thread[1]) == !pq &&
	   !pthread_equal(dev.thread[0], pthread_self()),
	   pq ? "each queue ran on its own thread" :
		"both queues ran on the device thread");
	/* virtio.h: queue config is ignored once DRIVER_OK is set. */
	ok(!drv_queue_config_allowed(&t), "queue config frozen after DRIVER_OK");

	ring_post(&t, 1, false);
	drv_notify(&t, 1);
	ok(wait_until(ring_used_idx(t.ring[1]) == 1), "a notify is served");
	/* Queue 0 went idle through a pop, queue 1 through queue_more. */
	ok(core_flush(&t) && ring_kicks_on(t.ring[0]) &&
	   ring_kicks_on(t.ring[1]),
	   "each queue asks for notifies again once its ring is empty");

	/* 2.1: NEEDS_RESET reports a device error; core.c: never the driver's. */
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK | S_NR);
	v = core_view(&t);
	ok(v.status == (S_ACK | S_DRV | S_FOK | S_DOK) && !v.broken,
	   "the driver cannot set NEEDS_RESET");

	/*
	 * 2.1.1: the driver must not clear a status bit; 2.1.2: the device
	 * sets NEEDS_RESET and, DRIVER_OK being set, sends a config change
	 * notification.
	 */
	drv_status(&t, S_ACK | S_DRV | S_FOK);
	v = core_view(&t);
	ok(v.status == (S_ACK | S_DRV | S_FOK | S_DOK | S_NR) && v.broken,
	   "clearing DRIVER_OK without a reset: NEEDS_RESET, bits kept");
	is_int(sig.config, 1, "config change interrupt for NEEDS_RESET");
	ok(core_flush(&t), "device threads flushed");
	h0 = dev.handled[0];
	ring_post(&t, 0, false);
	drv_notify(&t, 0);
	ok(core_flush(&t), "device threads flushed");
	ok(dev.handled[0] == h0 && ring_used_idx(t.ring[0]) == 1,
	   "a broken device serves no queue");
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK);
	is_int(core_view(&t).status, S_ACK | S_DRV | S_FOK | S_DOK | S_NR,
	       "NEEDS_RESET stays until a reset");

	/* 2.4.1: status 0 after a reset; core.c: all driver set-up goes. */
	drv_status(&t, 0);
	v = core_view(&t);
	ok(v.status == 0 && !v.broken && v.isr == 0 && !v.guest_features,
	   "reset clears status, NEEDS_RESET, broken, ISR and features");
	ok(v.config_vector == VIRTIO_NO_VECTOR &&
	   v.vector[0] == VIRTIO_NO_VECTOR && v.vector[1] == VIRTIO_NO_VECTOR,
	   "reset clears the MSI-X vectors");
	ok(!v.enabled[0] && !v.enabled[1] && !v.mapped[0] && !v.mapped[1],
	   "reset disables and unmaps the queues");
	is_int(dev.resets, 2, "reset reaches the device (drv_setup's, this)");
	ok(drv_queue_config_allowed(&t), "queue config open again");

	/* A new driver: the device works again. */
	t.avail_idx[0] = 0;
	memset(gpa(t.ring[0], 0x3000), 0, 0x3000);
	drv_setup(&t, 1);
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK);
	ring_post(&t, 0, false);
	drv_notify(&t, 0);
	ok(wait_until(ring_used_idx(t.ring[0]) == 1),
	   "after the reset the device serves a new driver");
	core_free(&t);
}

/* A ring outside guest RAM at DRIVER_OK. */
static void case_bad_layout(bool pq)
{
	struct t t;
	struct view v;

	diag("bad ring layout, %s", MODE(pq));
	t_new(&t, pq, VIRTIO_TRANSPORT_MMIO);
	t.ring[1] = BAD_RING;
	drv_setup(&t, NQ);
	ring_post(&t, 0, false);
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK);
	v = core_view(&t);
	/* 2.1.2: NEEDS_RESET, and with DRIVER_OK set a config interrupt. */
	ok(v.broken && v.status == (S_ACK | S_DRV | S_FOK | S_DOK | S_NR),
	   "bad ring layout at DRIVER_OK: NEEDS_RESET");
	is_int(sig.config, 1, "config change interrupt");
	ok(!v.mapped[1] && !dev.starts, "bad queue unmapped, device not started");
	drv_notify(&t, 0);
	ok(core_flush(&t), "device threads flushed");
	ok(!dev.handled[0] && !ring_used_idx(t.ring[0]),
	   "the good queue is not served either");
	core_free(&t);
}

/* A descriptor chain the driver got wrong, found by the device thread. */
static void case_bad_chain(bool pq)
{
	struct t t;
	struct view v;
	unsigned int h[NQ];

	diag("malformed chain, %s", MODE(pq));
	t_new(&t, pq, VIRTIO_TRANSPORT_MMIO);
	drv_setup(&t, NQ);
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK);
	ring_post(&t, 0, true);
	drv_notify(&t, 0);
	ok(wait_until(core_view(&t).broken), "malformed chain: device broken");
	ok(core_flush(&t), "device threads flushed");
	v = core_view(&t);
	is_int(v.status, S_ACK | S_DRV | S_FOK | S_DOK | S_NR,
	       "NEEDS_RESET set (2.1.2)");
	is_int(sig.config, 1, "one config change interrupt");
	is_int(ring_used_idx(t.ring[0]), 0, "nothing used");
	for (unsigned int i = 0; i < NQ; i++) {
		h[i] = dev.handled[i];
		ring_post(&t, i, false);
		drv_notify(&t, i);
	}
	ok(core_flush(&t), "device threads flushed");
	ok(dev.handled[0] == h[0] && dev.handled[1] == h[1] &&
	   !ring_used_idx(t.ring[1]) && !sig.queue[0] && !sig.queue[1],
	   "no more handle_queue calls on any queue, no interrupts");
	core_free(&t);
}

/*
 * A driver that breaks the device, resets it and breaks it again, 100
 * times: every time is counted, but the warning is not printed 100 times
 * (1st, 2nd, 4th ... 64th: 7 lines), or a guest could fill the host's
 * disk with lkvm's stderr.
 */
static void case_break_loop(bool pq)
{
	static char out[64 * 1024];	/* 100 warnings fit: none cut off */
	struct stderr_capture c;
	int lines = 0;
	unsigned long n;
	struct t t;

	diag("broken and reset in a loop, %s", MODE(pq));
	t_new(&t, pq, VIRTIO_TRANSPORT_MMIO);
	stderr_capture_begin(&c);
	log_level = LOG_WARNING;
	for (int i = 0; i < 100; i++) {
		drv_status(&t, 0);
		drv_status(&t, S_ACK | S_DRV);
		drv_status(&t, S_ACK);	/* a bit cleared without a reset */
	}
	log_level = LOG_ERROR;
	stderr_capture_end(&c, out, sizeof(out));
	n = atomic_load(&t.vdev->nr_needs_reset);
	for (const char *p = out; (p = strstr(p, "device needs reset")); p++)
		lines++;
	is_int(n, 100, "broken 100 times: all counted");
	is_int(lines, 7, "warned the 1st, 2nd, 4th ... 64th time only");
	core_free(&t);
}

/* Bus mastering off and on again (PCI COMMAND.MASTER). */
static void case_dma(bool pq)
{
	struct t t;
	unsigned int h[NQ], s0;

	diag("bus mastering, %s", MODE(pq));
	t_new(&t, pq, VIRTIO_TRANSPORT_MMIO);
	drv_setup(&t, NQ);
	/* virtio.h: quiesce finishes in-flight work of a live device. */
	drv_bus_master(&t, false);
	drv_bus_master(&t, true);
	is_int(dev.quiesces, 0, "no quiesce before DRIVER_OK");
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK);
	ok(core_flush(&t), "device threads flushed");
	h[0] = dev.handled[0];
	h[1] = dev.handled[1];
	s0 = sig.queue[0];

	drv_bus_master(&t, false);
	is_int(dev.quiesces, 1, "mastering off while DRIVER_OK: quiesced");
	drv_bus_master(&t, false);
	is_int(dev.quiesces, 1, "only when it goes off");
	/* core.c: with mastering off the rings are not touched. */
	ring_post(&t, 0, false);
	drv_notify(&t, 0);
	ok(core_flush(&t), "device threads flushed");
	ok(dev.handled[0] == h[0] && !ring_used_idx(t.ring[0]) &&
	   sig.queue[0] == s0, "DMA off: a notify runs nothing, no interrupt");

	/* core.c: every enabled queue is looked at, kicked meanwhile or not. */
	drv_bus_master(&t, true);
	ok(wait_until(ring_used_idx(t.ring[0]) == 1),
	   "DMA on: work posted meanwhile is handled");
	ok(wait_until(sig.queue[0] > s0), "and its interrupt raised");
	ok(wait_until(dev.handled[1] > h[1]),
	   "the queue nobody notified is looked at too");
	core_free(&t);
}

/*
 * 4.1.4.3 / 4.2.2: a device-side config change bumps the generation and,
 * once the driver is running, raises the config-change interrupt (ISR
 * bit 1); before DRIVER_OK and on a broken device it raises none.
 */
static void case_config_changed(bool pq)
{
	struct t t;
	unsigned int c0;
	u8 g0, g1;

	diag("config change from the device, %s", MODE(pq));
	t_new(&t, pq, VIRTIO_TRANSPORT_MMIO);
	drv_setup(&t, 1);
	c0 = atomic_load(&sig.config);
	g0 = t.vdev->config_generation;
	g1 = core_config_changed(&t);
	ok(g1 == (u8)(g0 + 1) && atomic_load(&sig.config) == c0,
	   "before DRIVER_OK: generation bumped, no interrupt");
	drv_status(&t, S_ACK | S_DRV | S_FOK | S_DOK);
	ok(core_config_changed(&t) == (u8)(g1 + 1) &&
	   atomic_load(&sig.config) == c0 + 1 && (core_view(&t).isr & 2),
	   "after DRIVER_OK: generation bumped, config interrupt, ISR bit 1");
	drv_status(&t, S_ACK | S_DRV | S_FOK);	/* breaks the device */
	c0 = atomic_load(&sig.config);
	core_config_changed(&t);
	is_int(atomic_load(&sig.config), c0,
	       "a broken device raises no further config interrupt");
	core_free(&t);
}

int main(void)
{
	tap_plan(2 * 60);
	core_fixture_init();
	for (int pq = 0; pq <= 1; pq++) {
		case_negotiation(pq);
		case_lifecycle(pq);
		case_bad_layout(pq);
		case_bad_chain(pq);
		case_break_loop(pq);
		case_dma(pq);
		case_config_changed(pq);
	}
	core_fixture_exit();
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-9p, the device half: it sits on virtio-mmio in a fake VM (no
 * /dev/kvm), its ring in a malloc'ed "guest memory", driven through the
 * registers; the kick goes to the device thread as a guest's would.  The
 * 9P server is a fake given through virtio_9p__create()'s server ops
 * (the real one has its own tests), so this tests the plumbing only:
 * config space, workers, the in-flight bound, reset and bus master off.
 * The fake can be held at a gate, to have requests stuck in the "host
 * filesystem" while the test looks at the device.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_9p.h>
#include <linux/virtio_mmio.h>

#include "fs/p9.h"
#include "lkvm/barrier.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"
#include "lkvm/virtio-transport.h"
#include "../../virtio/devices.h"
#include "tap.h"
#include "virtio-mmio-fixture.h"

#define MEM_SIZE	(1024 * 1024)
#define QSIZE		128
#define RING_GPA	0x1000		/* desc, avail, used: 3 pages */
#define REQ_GPA		0x10000		/* 64 bytes per request */
#define RESP_GPA	0x20000		/* 256 bytes per reply */
#define NR_MANY		60		/* > the device's 16 in flight */
#define WAIT_MS		10000		/* generous cap for every wait */
#define T_TYPE		100		/* Tversion; the fake answers type + 1 */

static struct kvm kvm;
static struct lkvm_config cfg;
static void *ram;

/* --- the fake server ------------------------------------------------- */

static struct fake {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool gate_closed;		/* handle() waits while set */
	unsigned int sleep_us;		/* a slow filesystem */
	unsigned int started, running, max_running, handled;
	unsigned int opened, closed, resets;
	bool readonly;
	unsigned int max_fids;
	char root[64];
	pthread_t thread;		/* the last handler's */
} fake = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static int f_open(const struct p9_opts *o, struct p9_server **out,
		  char *err __unused, size_t errlen __unused)
{
	pthread_mutex_lock(&fake.lock);
	fake.opened++;
	fake.readonly = o->readonly;
	fake.max_fids = o->max_fids;
	snprintf(fake.root, sizeof(fake.root), "%s", o->root);
	pthread_mutex_unlock(&fake.lock);
	*out = (struct p9_server *)&fake;
	return 0;
}

static int f_open_fail(const struct p9_opts *o, struct p9_server **out __unused,
		       char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: not a directory", o->root);
	return -ENOTDIR;
}

static void f_close(struct p9_server *s __unused)
{
	pthread_mutex_lock(&fake.lock);
	fake.closed++;
	pthread_mutex_unlock(&fake.lock);
}

static void f_reset(struct p9_server *s __unused)
{
	pthread_mutex_lock(&fake.lock);
	fake.resets++;
	pthread_mutex_unlock(&fake.lock);
}

static size_t iov_copy(const struct iovec *iov, unsigned int n, void *buf,
		       size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t k = min_t(size_t, iov[i].iov_len, len - done);

		if (to_iov)
			memcpy(iov[i].iov_base, (u8 *)buf + done, k);
		else
			memcpy((u8 *)buf + done, iov[i].iov_base, k);
		done += k;
	}
	return done;
}

/* The reply to tag t is 11 + t % 32 bytes: size, type + 1, tag, fill. */
static u32 reply_len(u16 tag)
{
	return 11 + tag % 32;
}

static size_t f_handle(struct p9_server *s __unused, const struct iovec *req,
		       unsigned int nreq, size_t req_len,
		       const struct iovec *resp, unsigned int nresp,
		       size_t resp_len)
{
	u8 hdr[7] = { 0 }, out[64];
	u16 tag;
	u32 len;

	pthread_mutex_lock(&fake.lock);
	fake.started++;
	fake.running++;
	if (fake.running > fake.max_running)
		fake.max_running = fake.running;
	fake.thread = pthread_self();
	pthread_cond_broadcast(&fake.cond);
	while (fake.gate_closed)
		pthread_cond_wait(&fake.cond, &fake.lock);
	pthread_mutex_unlock(&fake.lock);
	if (fake.sleep_us)
		usleep(fake.sleep_us);

	iov_copy(req, nreq, hdr, min_t(size_t, req_len, sizeof(hdr)), false);
	tag = (u16)(hdr[5] | hdr[6] << 8);
	len = min_t(u32, reply_len(tag), (u32)resp_len);
	memset(out, (int)(tag & 0xff), sizeof(out));
	out[0] = (u8)len;
	out[1] = out[2] = out[3] = 0;
	out[4] = (u8)(hdr[4] + 1);
	out[5] = hdr[5];
	out[6] = hdr[6];
	iov_copy(resp, nresp, out, len, true);

	pthread_mutex_lock(&fake.lock);
	fake.running--;
	fake.handled++;
	pthread_cond_broadcast(&fake.cond);
	pthread_mutex_unlock(&fake.lock);
	return len;
}

static const struct virtio_9p_server_ops fake_ops = {
	.open = f_open, .close = f_close, .handle = f_handle,
	.reset = f_reset,
};

static const struct virtio_9p_server_ops fail_ops = {
	.open = f_open_fail, .close = f_close, .handle = f_handle,
	.reset = f_reset,
};

static void gate(bool closed)
{
	pthread_mutex_lock(&fake.lock);
	fake.gate_closed = closed;
	pthread_cond_broadcast(&fake.cond);
	pthread_mutex_unlock(&fake.lock);
}

static unsigned int fake_get(unsigned int *field)
{
	unsigned int v;

	pthread_mutex_lock(&fake.lock);
	v = *field;
	pthread_mutex_unlock(&fake.lock);
	return v;
}

/* Waits until *field >= want, at most WAIT_MS. */
static bool fake_wait(unsigned int *field, unsigned int want)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&fake.lock);
	while (*field < want &&
	       pthread_cond_timedwait(&fake.cond, &fake.lock, &ts) == 0)
		;
	ok = *field >= want;
	pthread_mutex_unlock(&fake.lock);
	return ok;
}

/* --- the driver ------------------------------------------------------ */

struct drv {
	u64 base;
	struct virtio_device *vdev;
	u16 avail_idx;
};

static void *gpa(u64 addr, u64 len)
{
	return guest_mem_ptr(&kvm.mem, addr, len);
}

static struct vring_desc *desc_tab(void)
{
	return gpa(RING_GPA, 16 * QSIZE);
}

static struct vring_avail *avail_ring(void)
{
	return gpa(RING_GPA + 0x1000, 6 + 2 * QSIZE);
}

static struct vring_used *used_ring(void)
{
	return gpa(RING_GPA + 0x2000, 6 + 8 * QSIZE);
}

static void wr(struct drv *d, u64 off, u32 v)
{
	bus_dispatch(&kvm.mmio_bus, d->base + off, &v, 4, true);
}

static u32 rd(struct drv *d, u64 off)
{
	u32 v = 0;

	bus_dispatch(&kvm.mmio_bus, d->base + off, &v, 4, false);
	return v;
}

/* Reset, clean rings, and the driver's side of initialisation. */
static void drv_init(struct drv *d)
{
	wr(d, VIRTIO_MMIO_STATUS, 0);
	memset(gpa(RING_GPA, 0x3000), 0, 0x3000);
	d->avail_idx = 0;
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				  VIRTIO_CONFIG_S_DRIVER);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_9P_MOUNT_TAG);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1);	/* VERSION_1 */
	wr(d, VIRTIO_MMIO_STATUS, 0x0b);
	wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, RING_GPA);
	wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, RING_GPA + 0x1000);
	wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, RING_GPA + 0x2000);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(d, VIRTIO_MMIO_STATUS, 0x0f);
}

/*
 * Chain i: descriptors 2i (a T-message with tag i, @out_len bytes, none
 * if 0) and 2i+1 (@in_len writable bytes, none if 0), made available.
 */
static void post(struct drv *d, unsigned int i, u32 out_len, u32 in_len)
{
	struct vring_desc *desc = desc_tab();
	u8 *req = gpa(REQ_GPA + i * 64, 64);
	u16 head = (u16)(out_len ? 2 * i : 2 * i + 1);

	memset(req, 0, 64);
	req[0] = 64;
	req[4] = T_TYPE;
	req[5] = (u8)i;
	req[6] = (u8)(i >> 8);
	memset(gpa(RESP_GPA + i * 256, 256), 0xee, 256);
	desc[2 * i] = (struct vring_desc){
		.addr = htole64(REQ_GPA + i * 64), .len = htole32(out_len),
		.flags = htole16(in_len ? VRING_DESC_F_NEXT : 0),
		.next = htole16((u16)(2 * i + 1)),
	};
	desc[2 * i + 1] = (struct vring_desc){
		.addr = htole64(RESP_GPA + i * 256), .len = htole32(in_len),
		.flags = htole16(VRING_DESC_F_WRITE),
	};
	avail_ring()->ring[d->avail_idx % QSIZE] = htole16(head);
	d->avail_idx++;
}

static void kick(struct drv *d)
{
	/* Release: pairs with the acquire in vring_pop(): ring entries before idx. */
	smp_store_release(&avail_ring()->idx, htole16(d->avail_idx));
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static u16 used_idx(void)
{
	/* Acquire: pairs with the used-index release in vring_push(). */
	return le16toh(smp_load_acquire(&used_ring()->idx));
}

/*
 * How many chains the device thread has popped: its own counter, read
 * under the lock it pops with (vdev->lock, or the queue's own with a
 * thread per queue), as the device code reads it.
 */
static u16 popped_count(struct drv *d)
{
	struct virtio_device *vdev = d->vdev;
	struct virtio_queue *q = &vdev->queues[0];
	pthread_mutex_t *l = vdev->ops->thread_per_queue ? &q->lock : &vdev->lock;
	u16 n;

	pthread_mutex_lock(l);
	n = q->ring.last_avail_idx;
	pthread_mutex_unlock(l);
	return n;
}

static bool wait_used(u16 want)
{
	for (int i = 0; i < WAIT_MS && used_idx() < want; i++)
		usleep(1000);
	return used_idx() >= want;
}

/* The used entry for chain i: -1 if none, else its length. */
static long used_len_of(unsigned int i, u32 out_len)
{
	struct vring_used *u = used_ring();
	u16 head = (u16)(out_len ? 2 * i : 2 * i + 1);

	for (u16 k = 0; k < used_idx(); k++)
		if (le32toh(u->ring[k % QSIZE].id) == head)
			return le32toh(u->ring[k % QSIZE].len);
	return -1;
}

/* A helper thread, to find out whether a call blocks. */
struct bg {
	pthread_t t;
	void (*fn)(struct drv *d);
	struct drv *d;
	atomic_bool done;
};

static void *bg_main(void *opaque)
{
	struct bg *b = opaque;

	b->fn(b->d);
	atomic_store(&b->done, true);
	return NULL;
}

static void bg_start(struct bg *b, void (*fn)(struct drv *), struct drv *d)
{
	b->fn = fn;
	b->d = d;
	atomic_store(&b->done, false);
	pthread_create(&b->t, NULL, bg_main, b);
}

static bool bg_wait(struct bg *b)
{
	for (int i = 0; i < WAIT_MS && !atomic_load(&b->done); i++)
		usleep(1000);
	if (!atomic_load(&b->done))
		return false;
	pthread_join(b->t, NULL);
	return true;
}

static u32 config_tag_len;

static void read_config(struct drv *d)
{
	config_tag_len = rd(d, VIRTIO_MMIO_CONFIG) & 0xffff;
}

static void do_reset(struct drv *d)
{
	wr(d, VIRTIO_MMIO_STATUS, 0);
}

static void bus_master(struct drv *d, bool on)
{
	pthread_mutex_lock(&d->vdev->lock);
	virtio_set_dma_enabled(d->vdev, on);
	pthread_mutex_unlock(&d->vdev->lock);
}

static void bus_master_off(struct drv *d)
{
	bus_master(d, false);
}

/* --- the tests ------------------------------------------------------- */

static void test_config(struct drv *d, const char *tag)
{
	size_t n = strlen(tag);
	char got[LKVM_9P_TAG_MAX + 1] = "";
	u16 len = 0;

	is_int(rd(d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_9P, "device id 9");
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ok(rd(d, VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_9P_MOUNT_TAG),
	   "VIRTIO_9P_MOUNT_TAG offered");
	bus_dispatch(&kvm.mmio_bus, d->base + VIRTIO_MMIO_CONFIG, &len, 2,
		     false);
	is_int(le16toh(len), n, "config: tag_len");
	for (size_t i = 0; i < n; i++)
		bus_dispatch(&kvm.mmio_bus, d->base + VIRTIO_MMIO_CONFIG + 2 + i,
			     &got[i], 1, false);
	is_str(got, tag, "config: the tag, byte by byte");
	got[0] = 'x';
	bus_dispatch(&kvm.mmio_bus, d->base + VIRTIO_MMIO_CONFIG + 2 + n,
		     got, 1, false);
	is_int(got[0], 0, "config: nothing after the tag (no NUL counted)");
}

static void test_roundtrip(struct drv *d)
{
	u8 *resp = gpa(RESP_GPA + 5 * 256, 256);
	unsigned int before = fake_get(&fake.handled);

	drv_init(d);
	post(d, 5, 64, 256);
	kick(d);
	ok(wait_used(1), "a request completes");
	is_int(used_len_of(5, 64), reply_len(5), "used length is the reply's");
	ok(resp[4] == T_TYPE + 1 && resp[5] == 5 && resp[6] == 0 &&
	   resp[reply_len(5) - 1] == 5 && resp[reply_len(5)] == 0xee,
	   "the reply is in the writable buffer, nothing past it");
	is_int(fake_get(&fake.handled), before + 1, "the server ran it once");
	ok(!pthread_equal(fake.thread, d->vdev->thread) &&
	   !pthread_equal(fake.thread, pthread_self()),
	   "on a worker thread, not the device's");
}

static void test_malformed(struct drv *d)
{
	unsigned int before = fake_get(&fake.handled);

	drv_init(d);
	post(d, 0, 64, 0);		/* nothing writable */
	post(d, 1, 64, 10);		/* one byte short of an Rlerror */
	post(d, 2, 64, 11);		/* exactly an Rlerror */
	post(d, 3, 0, 64);		/* no T-message: the server says so */
	kick(d);
	ok(wait_used(4), "four odd chains all given back");
	is_int(used_len_of(0, 64), 0, "no writable part: used length 0");
	is_int(used_len_of(1, 64), 0, "10 bytes of reply room: used length 0");
	is_int(used_len_of(2, 64), 11, "11 bytes of room: the server replies");
	ok(used_len_of(3, 0) >= 11, "no readable part: the server replies");
	is_int(fake_get(&fake.handled), before + 2,
	       "the server saw only the chains with room");
	ok(!d->vdev->broken, "device not broken");
}

static void test_many(struct drv *d)
{
	unsigned int before = fake_get(&fake.handled);
	unsigned int base = fake_get(&fake.started);
	struct timespec t0, t1;
	struct bg cfgread;
	bool all = true;
	u16 popped;

	drv_init(d);
	gate(true);
	pthread_mutex_lock(&fake.lock);
	fake.max_running = 0;
	pthread_mutex_unlock(&fake.lock);
	for (unsigned int i = 0; i < NR_MANY; i++)
		post(d, i, 64, 256);
	kick(d);
	ok(fake_wait(&fake.started, base + 4),
	   "four requests stuck in the server");
	for (int i = 0; i < WAIT_MS &&
	     (popped = popped_count(d)) < 16;
	     i++)
		usleep(1000);
	is_int(popped, 16, "the device thread went on popping: 16 in flight");
	/* A config read needs vdev->lock: the device thread is not stuck. */
	bg_start(&cfgread, read_config, d);
	ok(bg_wait(&cfgread) && config_tag_len == 3,
	   "config read served while every worker is stuck");
	usleep(20000);
	is_int(popped_count(d), 16,
	       "no more than 16 popped while none completes (stalled)");
	is_int(used_idx(), 0, "nothing completed yet");

	fake.sleep_us = 2000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	gate(false);
	ok(wait_used(NR_MANY), "all 60 complete after the stall");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	diag("60 requests of 2 ms each: %ld ms",
	     (long)((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000));
	fake.sleep_us = 0;
	for (unsigned int i = 0; i < NR_MANY; i++)
		all = all && used_len_of(i, 64) == reply_len((u16)i) &&
		      ((u8 *)gpa(RESP_GPA + i * 256, 8))[5] == (u8)i;
	ok(all, "each with its own reply and length (none lost or mixed)");
	is_int(used_idx(), NR_MANY, "none completed twice");
	is_int(fake_get(&fake.handled), before + NR_MANY,
	       "the server ran each once");
	ok(fake_get(&fake.max_running) > 1 &&
	   fake_get(&fake.max_running) <= 4,
	   "requests ran in parallel, on at most four workers");
	diag("at most %u at once", fake_get(&fake.max_running));
}

static void test_reset(struct drv *d)
{
	struct vring_used *u = used_ring();
	unsigned int handled = fake_get(&fake.handled);
	unsigned int base = fake_get(&fake.started);
	unsigned int resets;
	bool untouched = true;
	struct bg reset;

	drv_init(d);
	resets = fake_get(&fake.resets);
	gate(true);
	for (unsigned int i = 0; i < 10; i++)
		post(d, i, 64, 256);
	kick(d);
	ok(fake_wait(&fake.started, base + 4), "reset: four requests running");
	for (int i = 0; i < WAIT_MS &&
	     popped_count(d) < 10; i++)
		usleep(1000);
	memset(u->ring, 0xab, 8 * QSIZE);
	bg_start(&reset, do_reset, d);
	usleep(50000);
	ok(!atomic_load(&reset.done), "reset waits for the running requests");
	gate(false);
	ok(bg_wait(&reset), "... and returns once they are done");
	is_int(rd(d, VIRTIO_MMIO_STATUS), 0, "device reset");
	for (unsigned int i = 0; i < 8 * QSIZE; i++)
		untouched = untouched && ((u8 *)u->ring)[i] == 0xab;
	ok(used_idx() == 0 && untouched,
	   "no completion reached the old ring");
	is_int(fake_get(&fake.handled), handled + 4,
	       "the six waiting requests were dropped unrun");
	is_int(fake_get(&fake.resets), resets + 1, "the server was reset");
	usleep(20000);
	is_int(fake_get(&fake.handled), handled + 4, "... and stay dropped");

	drv_init(d);
	post(d, 7, 64, 256);
	kick(d);
	ok(wait_used(1) && used_len_of(7, 64) == reply_len(7),
	   "after the reset a new driver's request works");
}

/*
 * Linked with -Wl,--wrap=virtio_queue_complete (Makefile): while set, a
 * completion is filed 20 ms late, which holds open the window between a
 * worker giving back its slot and filing its completion, where bus
 * mastering once went off with the completion still to come.
 */
static atomic_bool slow_complete;

void __real_virtio_queue_complete(struct virtio_queue *q, struct vring_id id,
				  u32 len);
void __wrap_virtio_queue_complete(struct virtio_queue *q, struct vring_id id,
				  u32 len);
void __wrap_virtio_queue_complete(struct virtio_queue *q, struct vring_id id,
				  u32 len)
{
	if (atomic_load(&slow_complete))
		usleep(20000);
	__real_virtio_queue_complete(q, id, len);
}

static void test_quiesce(struct drv *d)
{
	unsigned int base = fake_get(&fake.started);
	struct bg off;

	drv_init(d);
	gate(true);
	for (unsigned int i = 0; i < 6; i++)
		post(d, i, 64, 256);
	kick(d);
	ok(fake_wait(&fake.started, base + 4), "quiesce: four requests running");
	for (int i = 0; i < WAIT_MS &&
	     popped_count(d) < 6; i++)
		usleep(1000);
	atomic_store(&slow_complete, true);
	bg_start(&off, bus_master_off, d);
	usleep(50000);
	ok(!atomic_load(&off.done), "bus master off waits for the workers");
	gate(false);
	ok(bg_wait(&off), "... and returns once they are done");
	is_int(used_idx(), 6,
	       "every request, waiting ones too, completed before DMA went off");
	atomic_store(&slow_complete, false);
	bus_master(d, true);
	drv_init(d);
}

int main(void)
{
	struct lkvm_9p share = { .dir = "/srv/share", .tag = "abc" };
	struct lkvm_9p ro = { .dir = "/srv/ro", .tag = "ro-share",
			      .readonly = true };
	struct lkvm_9p bad = { .dir = "/etc/passwd", .tag = "x" };
	struct drv d = { .base = slot_base(0) };
	struct drv d1 = { .base = slot_base(1) };
	struct rlimit rl = { .rlim_cur = 300, .rlim_max = 600 };

	tap_plan(55);
	log_level = LOG_ERROR;	/* expected creation failures */
	kvm.cfg = &cfg;
	kvm.sys_fd = kvm.vm_fd = -1;
	bus_init(&kvm.pio_bus, "pio");
	bus_init(&kvm.mmio_bus, "mmio");
	ram = calloc(1, MEM_SIZE);
	guest_mem_add(&kvm.mem, 0, MEM_SIZE, ram);
	/*
	 * Two exports under an open-file limit of 300 (soft) / 600 (hard):
	 * the soft limit goes up to 600, and each export's fids, at two fds
	 * each, leave 256 fds for the rest: (600 - 256) / 4.
	 */
	cfg.nr_p9 = 2;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		return 1;

	is_int(virtio_9p__create(&kvm, &bad, VIRTIO_TRANSPORT_MMIO, &fail_ops,
				 NULL), -ENOTDIR,
	       "the server's open error is the device's");
	is_int(fake.closed, 0, "... and nothing to close");
	{
		struct lkvm_9p notag = { .dir = "/srv", .tag = "" };

		is_int(virtio_9p__create(&kvm, &notag, VIRTIO_TRANSPORT_MMIO,
					 &fake_ops, NULL), -EINVAL,
		       "an empty tag is refused");
	}
	is_int(virtio_9p__create(&kvm, &share, VIRTIO_TRANSPORT_MMIO,
				 &fake_ops, &d.vdev), 0,
	       "9p share on virtio-mmio");
	ok(!strcmp(fake.root, "/srv/share") && !fake.readonly,
	   "the server got the directory, read-write");
	if (getrlimit(RLIMIT_NOFILE, &rl))
		rl.rlim_cur = 0;
	ok(rl.rlim_cur == 600,
	   "the open-file soft limit is raised to the hard one (%llu)",
	   (unsigned long long)rl.rlim_cur);
	is_int(fake.max_fids, (600 - 256) / 4,
	       "fids per export fit two exports in it, 256 fds to spare");
	is_int(virtio_9p__create(&kvm, &ro, VIRTIO_TRANSPORT_MMIO, &fake_ops,
				 &d1.vdev), 0, "read-only share");
	ok(!strcmp(fake.root, "/srv/ro") && fake.readonly,
	   "the server got ,ro");

	test_config(&d, "abc");
	test_config(&d1, "ro-share");
	test_roundtrip(&d);
	test_malformed(&d);
	test_many(&d);
	test_reset(&d);
	test_quiesce(&d);

	while (kvm.nr_exit_hooks) {
		struct kvm_exit_hook *h = &kvm.exit_hooks[--kvm.nr_exit_hooks];

		h->fn(h->opaque);
	}
	is_int(fake.closed, 2, "VM exit closed both servers");
	bus_exit(&kvm.pio_bus);
	bus_exit(&kvm.mmio_bus);
	free(ram);
	return tap_done();
}

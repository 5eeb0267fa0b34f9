/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bare-metal virtio driver library for the lkvm test guests: split
 * virtqueues (driver side) over virtio-pci modern, virtio-pci legacy,
 * virtio-mmio v2 and v1, with MSI-X, INTx or no interrupts at all.
 *
 * Everything except the interrupt handlers is written to run at CPL3 (via
 * run_user(); pages are user-accessible): on the development host CPL0 is
 * emulated one instruction at a time, so ring work, polling and data
 * generation must not run there.  That host runs CPL3 with IOPL 0 and
 * IF 1 whatever run_user() asked for, so port I/O and cli/sti at CPL3 trap
 * to lib/user_io.c (call user_io_init()), and an interrupt raised while
 * CPL3 runs natively may be held until the next exit (such as that trap).
 * The user code waits for interrupts by spinning after irq_enable().
 *
 * Layouts are from the virtio 1.2 spec and <linux/virtio_*.h>; they are
 * repeated here because the guests are freestanding.
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include "guest.h"

/* ---- device status ---- */
#define VIRTIO_STATUS_ACKNOWLEDGE	0x01
#define VIRTIO_STATUS_DRIVER		0x02
#define VIRTIO_STATUS_DRIVER_OK		0x04
#define VIRTIO_STATUS_FEATURES_OK	0x08
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

/* ---- feature bits ---- */
#define VIRTIO_RING_F_INDIRECT_DESC	28
#define VIRTIO_RING_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32

#define VIRTIO_ID_NET			1
#define VIRTIO_ID_BLOCK			2
#define VIRTIO_ID_CONSOLE		3
#define VIRTIO_ID_RNG			4
#define VIRTIO_ID_BALLOON		5
#define VIRTIO_ID_9P			9

/* ---- split ring ---- */
#define VRING_DESC_F_NEXT		1
#define VRING_DESC_F_WRITE		2
#define VRING_DESC_F_INDIRECT		4
#define VRING_USED_F_NO_NOTIFY		1
#define VRING_AVAIL_F_NO_INTERRUPT	1

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];	/* then used_event */
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];	/* then avail_event */
};

/* Same as the kernel's: is new_idx past event since old_idx? */
static inline bool vring_need_event(uint16_t event, uint16_t new_idx,
				    uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/*
 * Guest-side barriers.  x86 is TSO: only store->load needs a fence
 * (mfence); the others are compiler barriers.  Each use names the
 * barrier in lkvm's virtio/vring.c that it pairs with.
 */
#define virt_mb()	asm volatile("mfence" ::: "memory")
#define virt_wmb()	barrier()
#define virt_rmb()	barrier()

/* ---- transports and interrupt modes ---- */
enum virtio_transport {
	VT_PCI,			/* virtio-pci modern (capabilities in a mem BAR) */
	VT_PCI_LEGACY,		/* virtio-pci legacy I/O BAR */
	VT_MMIO,		/* virtio-mmio version 2 */
	VT_MMIO_LEGACY,		/* virtio-mmio version 1 (QueuePFN) */
};

enum virtio_irq_mode {
	VIRQ_POLL,		/* no interrupts; rings are polled */
	VIRQ_MSIX,		/* PCI MSI-X: vector 0 config, 1+n queue n */
	VIRQ_INTX,		/* PCI INTx (IOAPIC, level) or the MMIO line */
};

#define VIRTIO_MAX_VQS		4
#define VIRTIO_VEC_BASE		0x40	/* IDT vector of MSI-X entry 0 */
#define VIRTIO_VEC_INTX		0x3f	/* IDT vector of INTx / MMIO line */

struct virtq_token {
	void *data;		/* caller's cookie, NULL = free */
	struct vring_desc *indirect;	/* indirect table to recycle */
	uint16_t ndesc;		/* ring descriptors used by this chain */
};

struct virtq {
	struct virtio_dev *vdev;
	unsigned int index;
	uint16_t size;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t *used_event;	/* &avail->ring[size] */
	uint16_t *avail_event;	/* &used->ring[size] */

	uint16_t free_head;
	uint16_t num_free;
	uint16_t avail_idx;	/* our shadow of avail->idx */
	uint16_t kicked_idx;	/* avail_idx at the last kick decision */
	uint16_t last_used;	/* next used entry to consume */
	uint16_t avail_flags;	/* shadow of avail->flags */
	uint16_t irq_used;	/* used->idx when virtq_wait() last saw an interrupt */
	bool cb_enabled;

	uint32_t notify_off;	/* modern: offset of the notify register */
	struct virtq_token tokens[1024];
	struct vring_desc *indirect_pool;	/* size tables of INDIRECT_MAX */
	uint16_t indirect_free[1024];
	uint16_t nr_indirect_free;

	/* counters */
	unsigned long nr_kicks;
	unsigned long nr_irqs;		/* by the interrupt handlers */
};

#define INDIRECT_MAX	16	/* descriptors per indirect table */

struct virtio_dev {
	enum virtio_transport transport;
	enum virtio_irq_mode irq_mode;
	uint32_t device_id;	/* VIRTIO_ID_* */

	/* PCI */
	int bus, dev, fn;
	uint16_t io_base;	/* legacy I/O BAR */
	uintptr_t common, notify, isr, devcfg;	/* modern, mapped */
	uint32_t notify_mult;
	uint8_t msix_cap;
	unsigned int msix_size;	/* entries in use */
	uintptr_t msix_table;
	uint8_t intx_line;
	bool legacy_msix;	/* legacy registers shifted by 4 */

	/* MMIO */
	uintptr_t mmio;
	unsigned int mmio_irq;
	uint32_t mmio_version;

	uint64_t features;	/* negotiated */
	bool event_idx, indirect;
	unsigned int nr_vqs;
	struct virtq *vqs[VIRTIO_MAX_VQS];

	/* Written by the interrupt handlers: READ_ONCE() elsewhere. */
	unsigned long nr_irqs, nr_config_irqs;
	uint8_t last_isr;
};

/* Heap for rings and buffers, physical = virtual, zeroed, never freed. */
void *vmalloc_pages(size_t bytes);	/* page aligned */
void *valloc(size_t bytes, size_t align);

/*
 * Options from the command line: transport=pci|pci-legacy|mmio|mmio-legacy,
 * irq=msix|intx|poll, event_idx=0|1, indirect=0|1.  Defaults: pci, msix
 * (intx for mmio), 1, 1.  Returns false with a message on a bad value.
 */
struct virtio_opts {
	enum virtio_transport transport;
	enum virtio_irq_mode irq_mode;
	bool event_idx;
	bool indirect;
};
bool virtio_parse_opts(struct virtio_opts *o);
const char *virtio_transport_name(enum virtio_transport t);
const char *virtio_irq_name(enum virtio_irq_mode m);

/*
 * Finds the first device of @device_id on @o->transport, resets it,
 * negotiates @want_features (transport bits are added from @o) and sets
 * up @nr_vqs queues, interrupts and DRIVER_OK.  Prints what it did.
 * Returns 0 or -1 with a message.  Must run at CPL3 or CPL0; installs the
 * interrupt handlers.
 */
int virtio_probe(struct virtio_dev *vd, const struct virtio_opts *o,
		 uint32_t device_id);
int virtio_init(struct virtio_dev *vd, const struct virtio_opts *o,
		uint64_t want_features, unsigned int nr_vqs);
/* Status 0 and wait until the device reads back 0. */
void virtio_reset(struct virtio_dev *vd);

uint8_t virtio_get_status(struct virtio_dev *vd);
void virtio_set_status(struct virtio_dev *vd, uint8_t s);
uint8_t virtio_read_isr(struct virtio_dev *vd);	/* reads and clears */
uint8_t virtio_cfg_read8(struct virtio_dev *vd, unsigned int off);
uint32_t virtio_cfg_read32(struct virtio_dev *vd, unsigned int off);
uint64_t virtio_cfg_read64(struct virtio_dev *vd, unsigned int off);
void virtio_cfg_write8(struct virtio_dev *vd, unsigned int off, uint8_t v);
/* Raw queue notification with any value (for hostile tests). */
void virtio_notify_raw(struct virtio_dev *vd, struct virtq *vq, uint16_t val);
/* Writes a new size and ring address for @vq (hostile: after DRIVER_OK). */
void virtio_requeue_config(struct virtio_dev *vd, struct virtq *vq,
			   uint16_t size, uint64_t desc_pa);
/* PCI command register: bus master on/off. */
void virtio_pci_bus_master(struct virtio_dev *vd, bool on);

/* ---- virtqueue operations, Linux semantics ---- */
struct vsg {
	void *addr;
	uint32_t len;
};

/*
 * Adds a chain of @nout device-readable then @nin device-writable
 * segments, through an indirect table if negotiated, @nout + @nin > 1 and
 * @indirect.  Returns 0, or -1 if the ring is full.
 */
int virtq_add(struct virtq *vq, const struct vsg *sg, unsigned int nout,
	      unsigned int nin, void *data, bool indirect);
/* Publishes an arbitrary head (hostile tests build their own chains). */
void virtq_publish_head(struct virtq *vq, uint16_t head);
/* Whether the device wants a notification for what was added. */
bool virtq_kick_prepare(struct virtq *vq);
void virtq_notify(struct virtq *vq);
/* kick_prepare + notify; returns true if notified. */
bool virtq_kick(struct virtq *vq);
/* Next used buffer's cookie (and written length), or NULL. */
void *virtq_get_buf(struct virtq *vq, uint32_t *len);
/*
 * The same, telling an empty ring (0) from an entry whose id is out of
 * range or not in flight (-1: consumed, *data NULL, for callers that
 * count such device bugs) and a good one (1).  @id and @len may be NULL.
 */
int virtq_get_used(struct virtq *vq, void **data, uint32_t *id,
		   uint32_t *len);
bool virtq_more_used(struct virtq *vq);
/* Suppress interrupts for @vq. */
void virtq_disable_cb(struct virtq *vq);
/*
 * Re-enable interrupts; returns the used index to hand to virtq_poll():
 * if that reports more buffers, they arrived before the enable took
 * effect and no interrupt may come for them.
 */
uint16_t virtq_enable_cb_prepare(struct virtq *vq);
bool virtq_poll(struct virtq *vq, uint16_t last_used);
/* enable_cb_prepare + poll: true if the caller may wait for an interrupt. */
bool virtq_enable_cb(struct virtq *vq);
/*
 * Like Linux's virtqueue_enable_cb_delayed(): with EVENT_IDX, ask for an
 * interrupt only once 3/4 of the outstanding buffers are used; false if
 * more than that are used already (process them first).  Without
 * EVENT_IDX it is virtq_enable_cb().
 */
bool virtq_enable_cb_delayed(struct virtq *vq);

/*
 * Waits up to @timeout_ms for a used buffer on @vq: spins on the ring
 * (poll mode) or, with interrupts, re-enables them and spins with IF=1
 * until the handler has run or the ring moved.  Returns true if a used
 * buffer is there.
 */
bool virtq_wait(struct virtq *vq, unsigned int timeout_ms);
/*
 * Interrupt accounting of virtq_wait(): used buffers that came without
 * an interrupt (a device bug), interrupts that came before used->idx moved.
 */
extern unsigned long virtq_missed_irqs, virtq_early_irqs;
/* One line of ring state, for timeouts. */
void virtq_dump(struct virtq *vq);

/* ---- interrupts on and off while user code runs ---- */
static inline void irq_enable(void)
{
	asm volatile("sti" ::: "memory");
}

static inline void irq_disable(void)
{
	asm volatile("cli" ::: "memory");
}

/* Milliseconds and microseconds since the first call of either (TSC). */
uint64_t ms_now(void);
uint64_t us_now(void);

/* ---- virtio-blk ---- */
#define VIRTIO_BLK_F_SIZE_MAX	1
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_MQ		12
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9

#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8

#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2

#define VIRTIO_BLK_ID_BYTES	20

struct virtio_blk_req_hdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

/* ---- virtio-console ---- */
#define VIRTIO_CONSOLE_F_SIZE		0
#define VIRTIO_CONSOLE_F_MULTIPORT	1

#endif

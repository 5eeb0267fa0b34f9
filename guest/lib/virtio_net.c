// SPDX-License-Identifier: GPL-2.0
/*
 * Minimal virtio-net driver for the test guests: one queue pair, the
 * control queue, a fixed set of receive buffers (optionally small, so
 * that MRG_RXBUF spreads frames over several) and copying transmit.
 * The API is declared by its users (guest/tests/vnet*.c), as vblk_sync().
 * Runs at CPL3 like the rest of the virtio library.
 */
#include "../include/virtio_net.h"

#define VNET_F_CSUM		0
#define VNET_F_MAC		5
#define VNET_F_MRG_RXBUF	15
#define VNET_F_STATUS		16
#define VNET_F_CTRL_VQ		17
#define VNET_F_CTRL_RX		18
#define VNET_HDR_LEN		12
#define VNET_TXBUF		2048
#define VNET_MAX_RX		256
#define VNET_MAX_TX		256

struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

static struct virtio_dev vnet_vd;
static uint8_t *rx_bufs[VNET_MAX_RX], *tx_bufs[VNET_MAX_TX];
static uint16_t tx_free[VNET_MAX_TX];
static unsigned int nr_rx, nr_tx, nr_tx_free, rx_size;
static bool tx_pending;
unsigned long vnet_rx_merged;	/* frames that took more than one buffer */


struct virtio_dev *vnet_dev(void)
{
	return &vnet_vd;
}

static int post_rx(uint8_t *b)
{
	struct vsg sg = { b, rx_size };

	return virtq_add(vnet_vd.vqs[0], &sg, 0, 1, b, false);
}

/* Posts every receive buffer; after a (re)initialisation. */
int vnet_fill_rx(void)
{
	for (unsigned int i = 0; i < nr_rx; i++)
		if (post_rx(rx_bufs[i]))
			return -1;
	virtq_kick(vnet_vd.vqs[0]);
	return 0;
}

/*
 * Probes and sets up the device: @features on top of MAC/STATUS, receive
 * buffers of @rxbuf bytes (header included), the MAC into @mac.  With
 * @fill false the receive queue is left empty (hostile tests).
 */
int vnet_setup(const struct virtio_opts *o, uint64_t features,
	       unsigned int rxbuf, uint8_t mac[6])
{
	struct virtio_dev *vd = &vnet_vd;
	unsigned int i, nq = (features & (1ULL << VNET_F_CTRL_VQ)) ? 3 : 2;

	if (!vd->device_id && virtio_probe(vd, o, VIRTIO_ID_NET))
		return -1;
	features |= 1ULL << VNET_F_MAC | 1ULL << VNET_F_STATUS;
	if (virtio_init(vd, o, features, nq))
		return -1;
	if (!(vd->features & (1ULL << VIRTIO_F_VERSION_1)) &&
	    !(vd->features & (1ULL << VNET_F_MRG_RXBUF))) {
		puts("vnet: needs VERSION_1 or MRG_RXBUF (12-byte header)");
		return -1;
	}
	for (i = 0; i < 6; i++)
		mac[i] = virtio_cfg_read8(vd, i);
	if (!(virtio_cfg_read8(vd, 6) & 1)) {
		puts("vnet: link is down");
		return -1;
	}
	if (!(vd->features & (1ULL << VNET_F_MRG_RXBUF)) && rxbuf < 1526)
		rxbuf = 1526;
	if (!rx_size) {
		rx_size = rxbuf;
		nr_rx = vd->vqs[0]->size < VNET_MAX_RX ? vd->vqs[0]->size : VNET_MAX_RX;
		nr_tx = vd->vqs[1]->size < VNET_MAX_TX ? vd->vqs[1]->size : VNET_MAX_TX;
		for (i = 0; i < nr_rx; i++)
			if (!(rx_bufs[i] = valloc(rx_size, 64)))
				return -1;
		for (i = 0; i < nr_tx; i++)
			if (!(tx_bufs[i] = valloc(VNET_TXBUF, 64)))
				return -1;
	}
	nr_tx_free = 0;
	for (i = 0; i < nr_tx; i++)
		tx_free[nr_tx_free++] = i;
	tx_pending = false;
	return 0;
}

void vnet_reclaim_tx(void)
{
	uint8_t *b;

	while ((b = virtq_get_buf(vnet_vd.vqs[1], NULL))) {
		for (unsigned int i = 0; i < nr_tx; i++) {
			if (tx_bufs[i] == b) {
				tx_free[nr_tx_free++] = i;
				break;
			}
		}
	}
}

bool vnet_tx_idle(void)
{
	vnet_reclaim_tx();
	return nr_tx_free == nr_tx;
}

/* Queues one frame (copied); 0, or -1 if the ring is full. */
int vnet_send(const void *frame, uint32_t len)
{
	struct vsg sg;
	uint8_t *b;
	unsigned int i;

	if (len > VNET_TXBUF - VNET_HDR_LEN)
		return -1;
	if (!nr_tx_free)
		vnet_reclaim_tx();
	if (!nr_tx_free)
		return -1;
	i = tx_free[--nr_tx_free];
	b = tx_bufs[i];
	memset(b, 0, VNET_HDR_LEN);
	memcpy(b + VNET_HDR_LEN, frame, len);
	sg = (struct vsg){ b, VNET_HDR_LEN + len };
	if (virtq_add(vnet_vd.vqs[1], &sg, 1, 0, b, false)) {
		tx_free[nr_tx_free++] = i;
		return -1;
	}
	tx_pending = true;
	return 0;
}

void vnet_flush(void)
{
	if (tx_pending)
		virtq_kick(vnet_vd.vqs[1]);
	tx_pending = false;
}

/*
 * The next received frame (without header) into @frame, merged from
 * num_buffers buffers.  Returns its length, 0 if none, -1 on a device
 * error (bad lengths, bad num_buffers).
 */
int vnet_recv(void *frame, uint32_t max)
{
	struct virtq *vq = vnet_vd.vqs[0];
	struct vnet_hdr *h;
	uint32_t len, got = 0, n;
	uint16_t nb;
	uint8_t *b;
	int ret = 0;

	b = virtq_get_buf(vq, &len);
	if (!b)
		return 0;
	if (len < VNET_HDR_LEN || len > rx_size) {
		printf("vnet: receive buffer with bad length %u\n", len);
		post_rx(b);
		return -1;
	}
	h = (struct vnet_hdr *)b;
	nb = (vnet_vd.features & (1ULL << VNET_F_MRG_RXBUF)) ? h->num_buffers : 1;
	if (!nb) {
		puts("vnet: num_buffers 0");
		return -1;
	}
	if (nb > 1)
		vnet_rx_merged++;
	for (uint16_t i = 0; i < nb; i++) {
		uint32_t off = i ? 0 : VNET_HDR_LEN;

		if (i) {
			uint64_t end = ms_now() + 1000;

			/* The rest of a merged frame is published with it. */
			while (!(b = virtq_get_buf(vq, &len))) {
				if (ms_now() > end) {
					puts("vnet: merged frame incomplete");
					return -1;
				}
				cpu_relax();
			}
			if (len > rx_size) {
				printf("vnet: bad length %u\n", len);
				ret = -1;
			}
		}
		n = len - off;
		if (ret == 0 && got + n <= max)
			memcpy((uint8_t *)frame + got, b + off, n);
		else
			ret = -1;
		got += n;
		post_rx(b);
	}
	virtq_kick(vq);
	return ret ? ret : (int)got;
}

bool vnet_wait_rx(unsigned int ms)
{
	return virtq_more_used(vnet_vd.vqs[0]) || virtq_wait(vnet_vd.vqs[0], ms);
}

/* A control command; returns the device's ack (0 = OK) or -1. */
int vnet_ctrl(uint8_t cls, uint8_t cmd, const void *data, uint32_t len)
{
	static uint8_t *buf;
	struct virtq *vq = vnet_vd.vqs[2];
	struct vsg sg[2];

	if (vnet_vd.nr_vqs < 3 || len > 1024)
		return -1;
	if (!buf)
		buf = valloc(1100, 64);
	buf[0] = cls;
	buf[1] = cmd;
	memcpy(buf + 2, data, len);
	buf[1090] = 0xff;
	sg[0] = (struct vsg){ buf, 2 + len };
	sg[1] = (struct vsg){ buf + 1090, 1 };
	if (virtq_add(vq, sg, 1, 1, buf, false))
		return -1;
	virtq_kick(vq);
	if (!virtq_wait(vq, 3000) || !virtq_get_buf(vq, NULL))
		return -1;
	return buf[1090];
}

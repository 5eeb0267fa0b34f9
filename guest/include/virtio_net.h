/* SPDX-License-Identifier: GPL-2.0 */
#ifndef GUEST_VIRTIO_NET_H
#define GUEST_VIRTIO_NET_H

/*
 * The virtio-net test guest's driver (lib/virtio_net.c) and its tiny
 * Ethernet/ARP/IPv4/UDP/TCP helpers (lib/virtio_net_ip.c).
 */
#include "guest.h"
#include "virtio.h"

#define ETH_P_IP	0x0800
#define ETH_P_ARP	0x0806

struct pkt {
	const uint8_t *eth;	/* the frame */
	uint32_t len;
	uint16_t type;		/* ethertype */
	/* IPv4 */
	uint32_t src, dst;	/* host order */
	uint8_t proto;
	const uint8_t *l4;
	uint32_t l4_len;
	/* UDP/TCP */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t tflags;
	const uint8_t *data;
	uint32_t data_len;
	/* ARP */
	uint16_t arp_op;
	uint8_t arp_sha[6];
	uint32_t arp_spa, arp_tpa;
};

uint16_t ip_csum(const void *p, uint32_t len, uint32_t sum);
uint32_t eth_hdr(uint8_t *f, const uint8_t dst[6], const uint8_t src[6],
		 uint16_t type);
uint32_t arp_build(uint8_t *f, const uint8_t mac[6], uint16_t op,
		   const uint8_t tha[6], uint32_t spa, uint32_t tpa);
uint32_t ip_build(uint8_t *f, const uint8_t dst_mac[6],
		  const uint8_t src_mac[6], uint32_t src, uint32_t dst,
		  uint8_t proto, uint32_t l4_len);
uint32_t udp_build(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6],
		   uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		   const void *data, uint32_t len);
uint32_t tcp_build(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6],
		   uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		   uint32_t seq, uint32_t ack, uint8_t flags, const void *data,
		   uint32_t len);
bool pkt_parse(struct pkt *p, const uint8_t *f, uint32_t len);

#define TCP_FIN	0x01
#define TCP_SYN	0x02
#define TCP_PSH	0x08
#define TCP_ACK	0x10

int vnet_setup(const struct virtio_opts *o, uint64_t features,
	       unsigned int rxbuf, uint8_t mac[6]);
struct virtio_dev *vnet_dev(void);
int vnet_fill_rx(void);
int vnet_send(const void *frame, uint32_t len);
void vnet_flush(void);
int vnet_recv(void *frame, uint32_t max);
bool vnet_wait_rx(unsigned int ms);
void vnet_reclaim_tx(void);
bool vnet_tx_idle(void);
int vnet_ctrl(uint8_t cls, uint8_t cmd, const void *data, uint32_t len);
extern unsigned long vnet_rx_merged;	/* frames that took >1 buffer */

#endif

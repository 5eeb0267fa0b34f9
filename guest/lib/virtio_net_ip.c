// SPDX-License-Identifier: GPL-2.0
/*
 * Just enough Ethernet/ARP/IPv4/UDP/TCP for the virtio-net test guest to
 * talk to a tap peer and to libslirp: frame builders and a parser.  No
 * options, no fragments, no retransmission queue: the tests' peers are a
 * host kernel and slirp over loopback.
 */
#include "../include/virtio_net.h"


static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, (uint16_t)v);
}

/* Internet checksum (RFC 1071) of @len bytes plus @sum, inverted. */
uint16_t ip_csum(const void *p, uint32_t len, uint32_t sum)
{
	const uint8_t *b = p;

	while (len > 1) {
		sum += be16(b);
		b += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)b[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t eth_hdr(uint8_t *f, const uint8_t dst[6], const uint8_t src[6],
		 uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
	return 14;
}

uint32_t arp_build(uint8_t *f, const uint8_t mac[6], uint16_t op,
		   const uint8_t tha[6], uint32_t spa, uint32_t tpa)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t *a = f + eth_hdr(f, op == 1 ? bcast : tha, mac, ETH_P_ARP);

	put16(a, 1);		/* Ethernet */
	put16(a + 2, ETH_P_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, mac, 6);
	put32(a + 14, spa);
	memcpy(a + 18, tha, 6);
	put32(a + 24, tpa);
	return 14 + 28;
}

uint32_t ip_build(uint8_t *f, const uint8_t dst_mac[6],
		  const uint8_t src_mac[6], uint32_t src, uint32_t dst,
		  uint8_t proto, uint32_t l4_len)
{
	uint8_t *ip = f + eth_hdr(f, dst_mac, src_mac, ETH_P_IP);

	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(20 + l4_len));
	put16(ip + 4, 0);
	put16(ip + 6, 0x4000);	/* DF */
	ip[8] = 64;
	ip[9] = proto;
	put16(ip + 10, 0);
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, ip_csum(ip, 20, 0));
	return 14 + 20;
}

static uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto,
			   uint32_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	       proto + len;
}

uint32_t udp_build(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6],
		   uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		   const void *data, uint32_t len)
{
	uint8_t *u = f + ip_build(f, dmac, smac, src, dst, 17, 8 + len);
	uint16_t c;

	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + len));
	put16(u + 6, 0);
	memcpy(u + 8, data, len);
	c = ip_csum(u, 8 + len, pseudo_sum(src, dst, 17, 8 + len));
	put16(u + 6, c ? c : 0xffff);
	return 14 + 20 + 8 + len;
}

uint32_t tcp_build(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6],
		   uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		   uint32_t seq, uint32_t ack, uint8_t flags, const void *data,
		   uint32_t len)
{
	uint8_t *t = f + ip_build(f, dmac, smac, src, dst, 6, 20 + len);

	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 14, 8192);	/* window */
	put16(t + 16, 0);
	put16(t + 18, 0);
	memcpy(t + 20, data, len);
	put16(t + 16, ip_csum(t, 20 + len, pseudo_sum(src, dst, 6, 20 + len)));
	return 14 + 20 + 20 + len;
}

/* Parses what the tests need; false for anything malformed. */
bool pkt_parse(struct pkt *p, const uint8_t *f, uint32_t len)
{
	const uint8_t *ip, *l4;
	uint32_t ihl, tot;

	memset(p, 0, sizeof(*p));
	if (len < 14)
		return false;
	p->eth = f;
	p->len = len;
	p->type = be16(f + 12);
	if (p->type == ETH_P_ARP) {
		if (len < 14 + 28)
			return false;
		p->arp_op = be16(f + 20);
		memcpy(p->arp_sha, f + 22, 6);
		p->arp_spa = be32(f + 28);
		p->arp_tpa = be32(f + 38);
		return true;
	}
	if (p->type != ETH_P_IP)
		return true;	/* other ethertypes: the caller looks at type */
	if (len < 14 + 20)
		return false;
	ip = f + 14;
	ihl = (ip[0] & 15) * 4;
	tot = be16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || 14 + tot > len)
		return false;
	p->src = be32(ip + 12);
	p->dst = be32(ip + 16);
	p->proto = ip[9];
	l4 = ip + ihl;
	p->l4 = l4;
	p->l4_len = tot - ihl;
	if (p->proto == 17 && p->l4_len >= 8) {
		p->sport = be16(l4);
		p->dport = be16(l4 + 2);
		p->data = l4 + 8;
		p->data_len = be16(l4 + 4) >= 8 && be16(l4 + 4) <= p->l4_len ?
			      be16(l4 + 4) - 8u : 0;
	} else if (p->proto == 6 && p->l4_len >= 20) {
		uint32_t off = (l4[12] >> 4) * 4;

		if (off < 20 || off > p->l4_len)
			return false;
		p->sport = be16(l4);
		p->dport = be16(l4 + 2);
		p->seq = be32(l4 + 4);
		p->ack = be32(l4 + 8);
		p->tflags = l4[13];
		p->data = l4 + off;
		p->data_len = p->l4_len - off;
	}
	return true;
}

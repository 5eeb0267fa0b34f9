// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net test guest, one test per run (test=<name>):
 *
 *   echo     n=N frames of size=S bytes (ethertype 0x88b5, sequence
 *            numbered, pattern filled) to a host program that echoes
 *            them back; at most window=W in flight; every frame must come
 *            back, in order, intact.  rxbuf=B makes receive buffers small
 *            so frames are merged from several (MRG_RXBUF).
 *   ping     ARP for 10.99.0.1 from 10.99.0.2, then ICMP echo to it.
 *   user     DHCP DISCOVER/REQUEST by hand (libslirp's server), TCP by
 *            hand to 10.0.2.2:tcpport (the host's loopback): SYN, data,
 *            the server's answer, FIN; then UDP echo on port 7 for a
 *            host port forward until a datagram "bye" came.
 *   hostile  case=txloop|rxro|rxloop: a malformed chain on the transmit
 *            or receive queue must make the device NEEDS_RESET; then the
 *            device is reset, set up again and an ARP exchange with
 *            slirp proves it works (run with -n mode=user).
 *   bench    dir=tx|rx n=N size=S: frames per second one way (tx: to
 *            ethertype 0x88b6 or, with udpport=P, UDP to 10.0.2.2:P; rx:
 *            counts 0x88b6 frames or UDP to port 9).
 *
 * Everything runs at CPL3.
 */
#include "guest.h"
#include "virtio.h"
#include "virtio_net.h"

#define ETH_P_TEST	0x88b5
#define ETH_P_BENCH	0x88b6
#define IP(a, b, c, d)	((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define MAX_FRAME	2048

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t zero_mac[6];
static struct virtio_opts opts;
static uint8_t mac[6], peer_mac[6];
static uint8_t *tx, *rx;
static uint32_t my_ip;
static char test[16];

static long opt(const char *key, long def)
{
	long v;

	return cmdline_get_int(key, &v) ? v : def;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int send_frame(uint32_t len)
{
	uint64_t end = ms_now() + 2000;

	while (vnet_send(tx, len)) {
		vnet_flush();
		if (ms_now() > end) {
			puts("vnet: transmit ring stuck");
			return -1;
		}
		cpu_relax();
	}
	vnet_flush();
	return 0;
}

/* Answers ARP requests for our address; true if @p was one. */
static bool arp_responder(const struct pkt *p)
{
	if (p->type != 0x0806 || p->arp_op != 1 || !my_ip ||
	    p->arp_tpa != my_ip)
		return false;
	send_frame(arp_build(tx, mac, 2, p->arp_sha, my_ip, p->arp_spa));
	return true;
}

/*
 * Next frame that @want accepts, within @ms; answers ARP on the way.
 * Returns its length or -1.
 */
static int recv_match(struct pkt *p, bool (*want)(const struct pkt *p),
		      unsigned int ms)
{
	uint64_t end = ms_now() + ms;
	int len;

	while (ms_now() < end) {
		len = vnet_recv(rx, MAX_FRAME);
		if (len < 0)
			return -1;
		if (!len) {
			vnet_wait_rx(50);
			continue;
		}
		if (!pkt_parse(p, rx, (uint32_t)len) || arp_responder(p))
			continue;
		if (want(p))
			return len;
	}
	return -1;
}

/* ---- echo ---- */

static void fill_pattern(uint8_t *f, uint32_t size, uint32_t seq)
{
	f += 14;
	put32(f, seq);
	put32(f + 4, 0x6c6b766d);	/* "lkvm" */
	for (uint32_t i = 8; i < size - 14; i++)
		f[i] = (uint8_t)(seq * 7 + i);
}

static int check_pattern(const uint8_t *f, uint32_t len, uint32_t size,
			 uint32_t seq)
{
	const uint8_t *d = f + 14;

	if (len != size || get32(d) != seq || get32(d + 4) != 0x6c6b766d)
		return -1;
	for (uint32_t i = 8; i < size - 14; i++)
		if (d[i] != (uint8_t)(seq * 7 + i))
			return -1;
	return 0;
}

static long test_echo(void)
{
	uint32_t n = opt("n", 1000), size = opt("size", 64);
	uint32_t window = opt("window", 32), sent = 0, got = 0, other = 0;
	uint64_t t0, t1, last = ms_now();
	int len;

	if (size < 64 || size > 1514 || !window || window > 200) {
		puts("vnet: bad echo options");
		return 1;
	}
	/* Until the echo program answers: probe frames, seq 0xffffffff. */
	for (int i = 0; i < 500; i++) {
		eth_hdr(tx, bcast, mac, ETH_P_TEST);
		fill_pattern(tx, size, 0xffffffff);
		send_frame(size);
		vnet_wait_rx(20);
		while ((len = vnet_recv(rx, MAX_FRAME)) > 0)
			if (!check_pattern(rx, (uint32_t)len, size, 0xffffffff))
				goto ready;
		if (len < 0)
			return 1;
	}
	puts("vnet: echo peer never answered");
	return 1;
ready:
	/* Late probe answers would look like reordering: let them drain. */
	for (uint64_t end = ms_now() + 200; ms_now() < end;)
		while (vnet_recv(rx, MAX_FRAME) > 0)
			;
	puts("vnet: echo peer ready");
	t0 = ms_now();
	while (got < n) {
		while (sent < n && sent - got < window) {
			eth_hdr(tx, bcast, mac, ETH_P_TEST);
			fill_pattern(tx, size, sent);
			if (vnet_send(tx, size))
				break;
			sent++;
		}
		vnet_flush();
		while ((len = vnet_recv(rx, MAX_FRAME)) != 0) {
			if (len < 0)
				return 1;
			if (rx[12] << 8 | rx[13]) {
				if ((rx[12] << 8 | rx[13]) != ETH_P_TEST) {
					other++;
					continue;
				}
			}
			if (get32(rx + 14) == 0xffffffff)
				continue;	/* a late probe */
			if (check_pattern(rx, (uint32_t)len, size, got)) {
				printf("vnet: frame %u: got seq %u len %d: lost, reordered or corrupted\n",
				       got, get32(rx + 14), len);
				return 1;
			}
			got++;
			last = ms_now();
		}
		if (got < n && !vnet_wait_rx(100) && ms_now() - last > 5000) {
			printf("vnet: echo stalled at %u/%u (sent %u)\n", got, n,
			       sent);
			virtq_dump(vnet_dev()->vqs[0]);
			virtq_dump(vnet_dev()->vqs[1]);
			return 1;
		}
	}
	t1 = ms_now();
	printf("vnet: echo %u frames of %u bytes each way, in order, %lu ms (%lu frames/s), %u other, %lu merged\n",
	       n, size, t1 - t0, (t1 - t0) ? n * 1000UL / (t1 - t0) : 0UL,
	       other, vnet_rx_merged);
	return 0;
}

/* ---- ping (tap peer 10.99.0.1) ---- */

static uint32_t want_ip;

static bool is_arp_reply(const struct pkt *p)
{
	return p->type == 0x0806 && p->arp_op == 2 && p->arp_spa == want_ip;
}

static bool is_icmp_reply(const struct pkt *p)
{
	return p->type == 0x0800 && p->proto == 1 && p->l4_len >= 8 &&
	       p->l4[0] == 0 && p->src == want_ip;
}

static int arp_resolve(uint32_t ip, uint8_t out[6])
{
	struct pkt p;

	want_ip = ip;
	for (int i = 0; i < 10; i++) {
		send_frame(arp_build(tx, mac, 1, zero_mac, my_ip, ip));
		if (recv_match(&p, is_arp_reply, 300) > 0) {
			memcpy(out, p.arp_sha, 6);
			return 0;
		}
	}
	return -1;
}

static long test_ping(void)
{
	uint32_t peer = IP(10, 99, 0, 1);
	uint8_t *icmp;
	struct pkt p;
	int ok = 0;

	my_ip = IP(10, 99, 0, 2);
	if (arp_resolve(peer, peer_mac)) {
		puts("vnet: no ARP reply from 10.99.0.1");
		return 1;
	}
	printf("vnet: arp 10.99.0.1 is at %02x:%02x:%02x:%02x:%02x:%02x\n",
	       peer_mac[0], peer_mac[1], peer_mac[2], peer_mac[3],
	       peer_mac[4], peer_mac[5]);
	for (uint16_t seq = 1; seq <= 3; seq++) {
		icmp = tx + ip_build(tx, peer_mac, mac, my_ip, peer, 1, 8 + 56);
		icmp[0] = 8;
		icmp[1] = 0;
		icmp[2] = icmp[3] = 0;
		icmp[4] = 0x12;
		icmp[5] = 0x34;
		icmp[6] = seq >> 8;
		icmp[7] = (uint8_t)seq;
		for (int i = 0; i < 56; i++)
			icmp[8 + i] = (uint8_t)(i + seq);
		uint16_t c = ip_csum(icmp, 64, 0);
		icmp[2] = c >> 8;
		icmp[3] = (uint8_t)c;
		send_frame(14 + 20 + 64);
		if (recv_match(&p, is_icmp_reply, 2000) < 0 ||
		    p.l4_len != 64 || p.l4[7] != (uint8_t)seq ||
		    memcmp(p.l4 + 8, icmp + 8, 56) || ip_csum(p.l4, 64, 0)) {
			printf("vnet: icmp seq %u: no good reply\n", seq);
			continue;
		}
		ok++;
	}
	printf("vnet: ping 10.99.0.1: %d/3 replies\n", ok);
	return ok == 3 ? 0 : 1;
}

/* ---- user mode: DHCP, TCP, UDP echo ---- */

#define DHCP_XID	0x6c6b766d

static uint32_t gw_ip = IP(10, 0, 2, 2);
static uint8_t dhcp_type;

static int dhcp_opt(const struct pkt *p, uint8_t code, const uint8_t **val)
{
	uint32_t i = 240;

	while (i + 2 <= p->data_len && p->data[i] != 255) {
		uint8_t c = p->data[i], l = p->data[i + 1];

		if (c == 0) {
			i++;
			continue;
		}
		if (i + 2 + l > p->data_len)
			return -1;
		if (c == code) {
			*val = p->data + i + 2;
			return l;
		}
		i += 2 + l;
	}
	return -1;
}

static bool is_dhcp(const struct pkt *p)
{
	const uint8_t *v;

	return p->type == 0x0800 && p->proto == 17 && p->dport == 68 &&
	       p->data_len >= 240 && get32(p->data + 4) == DHCP_XID &&
	       dhcp_opt(p, 53, &v) == 1 && v[0] == dhcp_type;
}

static void dhcp_send(uint8_t type, uint32_t req_ip, uint32_t server)
{
	static uint8_t b[300];
	uint8_t *o = b + 240;

	memset(b, 0, sizeof(b));
	b[0] = 1;
	b[1] = 1;
	b[2] = 6;
	put32(b + 4, DHCP_XID);
	b[10] = 0x80;		/* broadcast replies */
	memcpy(b + 28, mac, 6);
	put32(b + 236, 0x63825363);
	*o++ = 53;
	*o++ = 1;
	*o++ = type;
	if (req_ip) {
		*o++ = 50;
		*o++ = 4;
		put32(o, req_ip);
		o += 4;
		*o++ = 54;
		*o++ = 4;
		put32(o, server);
		o += 4;
	}
	*o++ = 55;
	*o++ = 2;
	*o++ = 1;
	*o++ = 3;
	*o = 255;
	send_frame(udp_build(tx, bcast, mac, 0, 0xffffffff, 68, 67, b,
			     sizeof(b)));
}

static int dhcp(void)
{
	uint32_t offered, server = 0;
	const uint8_t *v;
	struct pkt p;
	int i;

	for (i = 0, dhcp_type = 2; i < 5; i++) {
		dhcp_send(1, 0, 0);
		if (recv_match(&p, is_dhcp, 1000) > 0)
			break;
	}
	if (i == 5) {
		puts("vnet: no DHCPOFFER");
		return -1;
	}
	offered = get32(p.data + 16);
	if (dhcp_opt(&p, 54, &v) == 4)
		server = get32(v);
	for (i = 0, dhcp_type = 5; i < 5; i++) {
		dhcp_send(3, offered, server);
		if (recv_match(&p, is_dhcp, 1000) > 0)
			break;
	}
	if (i == 5) {
		puts("vnet: no DHCPACK");
		return -1;
	}
	my_ip = get32(p.data + 16);
	printf("vnet: dhcp lease %u.%u.%u.%u from %u.%u.%u.%u\n",
	       my_ip >> 24, my_ip >> 16 & 255, my_ip >> 8 & 255, my_ip & 255,
	       server >> 24, server >> 16 & 255, server >> 8 & 255,
	       server & 255);
	return 0;
}

static uint16_t tcp_sport = 40000, tcp_dport;

static bool is_tcp(const struct pkt *p)
{
	return p->type == 0x0800 && p->proto == 6 && p->src == gw_ip &&
	       p->sport == tcp_dport && p->dport == tcp_sport;
}

static void tcp_send(uint32_t seq, uint32_t ack, uint8_t flags,
		     const char *data, uint32_t len)
{
	send_frame(tcp_build(tx, peer_mac, mac, my_ip, gw_ip, tcp_sport,
			     tcp_dport, seq, ack, flags, data, len));
}

static int test_tcp(void)
{
	static const char msg[] = "hello from lkvm\n";
	uint32_t iss = 1000, snd, rcv = 0, got = 0;
	char reply[128];
	bool fin = false;
	struct pkt p;
	int i;

	for (i = 0; i < 5; i++) {
		tcp_send(iss, 0, TCP_SYN, NULL, 0);
		if (recv_match(&p, is_tcp, 1000) > 0 &&
		    (p.tflags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) &&
		    p.ack == iss + 1)
			break;
	}
	if (i == 5) {
		puts("vnet: tcp: no SYN-ACK");
		return -1;
	}
	snd = iss + 1;
	rcv = p.seq + 1;
	tcp_send(snd, rcv, TCP_ACK, NULL, 0);
	tcp_send(snd, rcv, TCP_ACK | TCP_PSH, msg, sizeof(msg) - 1);
	snd += sizeof(msg) - 1;
	puts("vnet: tcp: connected, data sent");
	while (!fin) {
		if (recv_match(&p, is_tcp, 5000) < 0) {
			puts("vnet: tcp: no answer");
			return -1;
		}
		if (p.seq != rcv)
			continue;	/* not the next in order: wait */
		for (uint32_t j = 0; j < p.data_len && got < sizeof(reply) - 1; j++)
			reply[got++] = (char)p.data[j];
		rcv += p.data_len;
		if (p.tflags & TCP_FIN) {
			rcv++;
			fin = true;
		}
		if (p.data_len || fin)
			tcp_send(snd, rcv, TCP_ACK, NULL, 0);
	}
	reply[got] = '\0';
	if (got && reply[got - 1] == '\n')
		reply[got - 1] = '\0';
	tcp_send(snd, rcv, TCP_FIN | TCP_ACK, NULL, 0);
	if (recv_match(&p, is_tcp, 2000) > 0 && p.ack == snd + 1)
		puts("vnet: tcp: closed");
	printf("vnet: tcp reply '%s'\n", reply);
	return 0;
}

static bool is_udp7(const struct pkt *p)
{
	return p->type == 0x0800 && p->proto == 17 && p->dport == 7 &&
	       p->dst == my_ip;
}

static int udp_echo(void)
{
	uint64_t end = ms_now() + 30000;
	unsigned int n = 0;
	struct pkt p;

	while (ms_now() < end) {
		if (recv_match(&p, is_udp7, 1000) < 0)
			continue;
		/* Reply to the sender's MAC (slirp's). */
		send_frame(udp_build(tx, p.eth + 6, mac, my_ip, p.src, 7,
				     p.sport, p.data, p.data_len));
		n++;
		if (p.data_len >= 3 && !memcmp(p.data, "bye", 3)) {
			printf("vnet: udp echo: %u datagrams, bye\n", n);
			return 0;
		}
	}
	printf("vnet: udp echo: %u datagrams, no bye\n", n);
	return -1;
}

static long test_user(void)
{
	if (dhcp())
		return 1;
	if (arp_resolve(gw_ip, peer_mac)) {
		puts("vnet: no ARP reply from 10.0.2.2");
		return 1;
	}
	tcp_dport = opt("tcpport", 0);
	if (tcp_dport && test_tcp())
		return 1;
	if (opt("udpecho", 0) && udp_echo())
		return 1;
	return 0;
}

/* ---- hostile ---- */

static void set_desc(struct vring_desc *d, void *addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	d->addr = (uintptr_t)addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

static long test_hostile(void)
{
	struct virtio_dev *vd = vnet_dev();
	char c[16];
	struct virtq *vq;
	uint64_t end;
	uint8_t st = 0;

	if (!cmdline_get_str("case", c, sizeof(c)) ||
	    vnet_setup(&opts, 0, 2048, mac))
		return 1;
	my_ip = IP(10, 0, 2, 15);
	if (!strncmp(c, "txloop", 7)) {
		vq = vd->vqs[1];
		set_desc(&vq->desc[0], tx, 64, VRING_DESC_F_NEXT, 1);
		set_desc(&vq->desc[1], tx, 64, VRING_DESC_F_NEXT, 0);
		virtq_publish_head(vq, 0);
		virtq_notify(vq);
	} else if (!strncmp(c, "rxro", 5) || !strncmp(c, "rxloop", 7)) {
		vq = vd->vqs[0];
		if (c[2] == 'r') {
			set_desc(&vq->desc[0], rx, 2048, 0, 0);
		} else {
			set_desc(&vq->desc[0], rx, 1024,
				 VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
			set_desc(&vq->desc[1], rx + 1024, 1024,
				 VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
		}
		virtq_publish_head(vq, 0);
		virtq_notify(vq);
		/* A frame must arrive for the device to take the buffer. */
		send_frame(arp_build(tx, mac, 1, zero_mac, my_ip, gw_ip));
	} else {
		printf("vnet: unknown case '%s'\n", c);
		return 1;
	}
	for (end = ms_now() + 3000; ms_now() < end;) {
		st = virtio_get_status(vd);
		if (st & VIRTIO_STATUS_NEEDS_RESET)
			break;
		cpu_relax();
	}
	if (!(st & VIRTIO_STATUS_NEEDS_RESET)) {
		printf("vnet: hostile %s: status 0x%x, no NEEDS_RESET\n", c, st);
		return 1;
	}
	printf("vnet: hostile %s: needs_reset\n", c);
	if (vnet_setup(&opts, 1 << 15, 2048, mac) || vnet_fill_rx() ||
	    arp_resolve(gw_ip, peer_mac)) {
		printf("vnet: hostile %s: not working after reset\n", c);
		return 1;
	}
	printf("vnet: hostile %s: recovered\n", c);
	return 0;
}

/* ---- bench ---- */

static bool is_bench(const struct pkt *p)
{
	return p->type == ETH_P_BENCH ||
	       (p->type == 0x0800 && p->proto == 17 && p->dport == 9);
}

static long test_bench(void)
{
	uint32_t n = opt("n", 100000), size = opt("size", 64), i = 0;
	uint16_t udpport = opt("udpport", 0);
	char dir[4] = "tx";
	uint64_t t0, t1, last = 0;	/* us */
	static uint8_t payload[1514];
	struct pkt p;
	int len;

	cmdline_get_str("dir", dir, sizeof(dir));
	if (size < 64 || size > 1514)
		return 1;
	if (opt("dhcp", 0) && (dhcp() || arp_resolve(gw_ip, peer_mac)))
		return 1;
	if (dir[0] == 't') {
		t0 = us_now();
		for (i = 0; i < n; i++) {
			if (udpport)
				len = udp_build(tx, peer_mac, mac, my_ip, gw_ip,
						9, udpport, payload, size - 42);
			else
				len = eth_hdr(tx, bcast, mac, ETH_P_BENCH) +
				      size - 14;
			while (vnet_send(tx, len)) {
				vnet_flush();
				virtq_wait(vnet_dev()->vqs[1], 100);
			}
			if ((i & 31) == 31)
				vnet_flush();
		}
		vnet_flush();
		while (!vnet_tx_idle())
			virtq_wait(vnet_dev()->vqs[1], 100);
	} else {
		puts("vnet: bench rx ready");
		if (recv_match(&p, is_bench, 30000) < 0)
			return 1;
		t0 = last = us_now();
		for (i = 1; i < n && us_now() - last < 2000000;) {
			len = vnet_recv(rx, MAX_FRAME);
			if (len < 0)
				return 1;
			if (!len) {
				vnet_wait_rx(100);
				continue;
			}
			if (pkt_parse(&p, rx, len) && is_bench(&p)) {
				i++;
				last = us_now();
			}
		}
	}
	/* rx: up to the last frame, not the idle wait after it. */
	t1 = dir[0] == 't' ? us_now() : last;
	printf("vnet: bench %s %u frames of %u bytes in %lu us: %lu frames/s kicks=%lu\n",
	       dir, i, size, t1 - t0, t1 > t0 ? i * 1000000UL / (t1 - t0) : 0UL,
	       (unsigned long)vnet_dev()->vqs[dir[0] == 't']->nr_kicks);
	return 0;
}

static long vnet_main(long unused)
{
	(void)unused;
	if (!virtio_parse_opts(&opts))
		return 1;
	if (!cmdline_get_str("test", test, sizeof(test))) {
		puts("vnet: test=echo|ping|user|hostile|bench needed");
		return 1;
	}
	tx = valloc(MAX_FRAME, 64);
	rx = valloc(MAX_FRAME, 64);
	if (!strncmp(test, "hostile", 8))
		return test_hostile();
	if (vnet_setup(&opts, (uint64_t)opt("features", 1 << 15 | 1 << 17 | 1 << 18),
		       opt("rxbuf", 2048), mac) || vnet_fill_rx())
		return 1;
	printf("vnet: mac %02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1],
	       mac[2], mac[3], mac[4], mac[5]);
	if (opt("promisc", 1) == 0) {
		uint8_t off = 0;

		if (vnet_ctrl(0, 0, &off, 1)) {
			puts("vnet: PROMISC off refused");
			return 1;
		}
		puts("vnet: promiscuous mode off");
	}
	if (!strncmp(test, "echo", 5))
		return test_echo();
	if (!strncmp(test, "ping", 5))
		return test_ping();
	if (!strncmp(test, "user", 5))
		return test_user();
	if (!strncmp(test, "bench", 6))
		return test_bench();
	printf("vnet: unknown test '%s'\n", test);
	return 1;
}

void guest_main(struct boot_info *bi)
{
	(void)bi;
	user_io_init();
	tsc_khz();
	guest_exit(run_user(vnet_main, 0));
}

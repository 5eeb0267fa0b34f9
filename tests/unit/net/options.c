// SPDX-License-Identifier: GPL-2.0
/* -n parsing, MACs, hostfwd, virtio-net header checks, rx filter, ctrl. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "lkvm/net.h"
#include "tap.h"

static int parse(struct lkvm_net *n, const char *arg)
{
	char err[128];

	return net_parse_option(n, arg, err, sizeof(err));
}

static void test_options(void)
{
	struct lkvm_net n;
	u8 mac[6], mac2[6];
	struct net_hostfwd f;

	is_int(parse(&n, "mode=tap,tapif=tap7,guest_mac=02:00:00:aa:bb:cc"), 0,
	       "tap with tapif and guest_mac");
	ok(n.mode == NET_MODE_TAP && !strcmp(n.tapif, "tap7") && n.mac_set &&
	   n.mac[3] == 0xaa && n.mac[5] == 0xcc && n.fd == -1,
	   "fields parsed");
	is_int(parse(&n, "mode=user,hostfwd=tcp::2222-:22,hostfwd=udp:127.0.0.1:5000-10.0.2.15:7"),
	       0, "user with two hostfwd");
	is_int(n.nr_hostfwd, 2, "two forwards kept");
	is_int(parse(&n, "mode=none"), 0, "none");
	is_int(parse(&n, "mode=tap,fd=5,script=/bin/true"), 0, "fd= and script=");
	is_int(n.fd, 5, "fd value");
	is_int(parse(&n, "tapif=x"), -EINVAL, "mode is required");
	is_int(parse(&n, "mode=bridge"), -EINVAL, "unknown mode");
	is_int(parse(&n, "mode=tap,guest_mac=01:00:00:00:00:01"), -EINVAL,
	       "multicast MAC refused");
	is_int(parse(&n, "mode=tap,guest_mac=00:11:22:33:44"), -EINVAL,
	       "short MAC refused");
	is_int(parse(&n, "mode=user,tapif=x"), -EINVAL, "tapif needs tap");
	is_int(parse(&n, "mode=tap,hostfwd=tcp::1-:2"), -EINVAL,
	       "hostfwd needs user");
	is_int(parse(&n, "mode=tap,fd=3,tapif=x"), -EINVAL, "fd and tapif");
	is_int(parse(&n, "mode=tap,bogus=1"), -EINVAL, "unknown key");
	is_int(parse(&n, "mode=tap,mq=4"), -EINVAL, "mq > 1 refused");
	is_int(parse(&n, "mode=tap,fd=-1"), -EINVAL, "negative fd");
	is_int(parse(&n, "mode=user,hostfwd=tcp::99999-:22"), -EINVAL,
	       "port out of range");

	is_int(net_parse_hostfwd("udp:127.0.0.1:5000-:7", &f), 0, "hostfwd udp");
	ok(f.udp && f.host_addr == htonl(INADDR_LOOPBACK) && f.host_port == 5000 &&
	   !f.guest_addr && f.guest_port == 7, "hostfwd fields");
	is_int(net_parse_hostfwd("sctp::1-:2", &f), -EINVAL, "bad protocol");

	net_default_mac("vm-a", 0, mac);
	net_default_mac("vm-a", 0, mac2);
	ok(!memcmp(mac, mac2, 6), "default MAC is stable");
	ok(!(mac[0] & 1) && (mac[0] & 2), "default MAC: unicast, local");
	net_default_mac("vm-b", 0, mac2);
	ok(memcmp(mac, mac2, 6), "another name, another MAC");
	net_default_mac("vm-a", 1, mac2);
	ok(memcmp(mac, mac2, 6), "another index, another MAC");
}

static void test_hdr(void)
{
	u64 all = NET_OFFLOAD_FEATURES;
	struct virtio_net_hdr_v1 h = { 0 };

	is_int(net_hdr_check_tx(&h, 0, 60), 0, "tx: plain header ok");
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = htole16(34);
	h.csum_offset = htole16(16);
	is_int(net_hdr_check_tx(&h, 0, 60), -EINVAL,
	       "tx: NEEDS_CSUM without CSUM refused");
	is_int(net_hdr_check_tx(&h, all, 60), 0, "tx: NEEDS_CSUM with CSUM");
	is_int(net_hdr_check_tx(&h, all, 51), -EINVAL,
	       "tx: checksum field past the end refused");
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = htole16(1448);
	is_int(net_hdr_check_tx(&h, all, 9000), 0, "tx: TSO4 with HOST_TSO4");
	is_int(net_hdr_check_tx(&h, 1ULL << VIRTIO_NET_F_CSUM, 9000), -EINVAL,
	       "tx: TSO4 without HOST_TSO4 refused");
	h.gso_size = 0;
	is_int(net_hdr_check_tx(&h, all, 9000), -EINVAL, "tx: gso_size 0 refused");
	h.gso_size = htole16(1448);
	h.flags = 0;
	is_int(net_hdr_check_tx(&h, all, 9000), -EINVAL,
	       "tx: GSO without NEEDS_CSUM refused");
	h.flags = 0x80;
	h.gso_type = 0;
	is_int(net_hdr_check_tx(&h, all, 60), -EINVAL, "tx: unknown flag refused");
	h = (struct virtio_net_hdr_v1){ .gso_type = 7 };
	is_int(net_hdr_check_tx(&h, all, 60), -EINVAL, "tx: unknown GSO type");

	h = (struct virtio_net_hdr_v1){ .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	is_int(net_hdr_check_rx(&h, 0, 60), 0, "rx: DATA_VALID, no GUEST_CSUM");
	is_int(h.flags, 0, "rx: DATA_VALID cleared for that guest");
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	is_int(net_hdr_check_rx(&h, 0, 60), -EINVAL,
	       "rx: partial checksum to a guest without GUEST_CSUM refused");
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	h.gso_size = htole16(1400);
	is_int(net_hdr_check_rx(&h, all, 9000), 0, "rx: TSO6 to a TSO6 guest");
	is_int(net_hdr_check_rx(&h, 1ULL << VIRTIO_NET_F_GUEST_CSUM, 9000),
	       -EINVAL, "rx: TSO6 to a guest without it refused");
}

static void test_filter(void)
{
	static const u8 me[6] = { 0x52, 0x54, 0, 1, 2, 3 };
	u8 other[14] = { 0x52, 0x54, 0, 9, 9, 9 };
	u8 mcast[14] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	u8 bc[14] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	u64 f = (1ULL << VIRTIO_NET_F_CTRL_RX) | (1ULL << VIRTIO_NET_F_CTRL_MAC_ADDR);
	struct net_rx_filter flt;
	u8 tbl[4 + 6 + 4 + 6], on = 1, off = 0;
	u32 one = htole32(1);

	net_rx_filter_reset(&flt, me);
	ok(net_rx_filter_accept(&flt, other, 14), "promiscuous after reset");
	is_int(net_ctrl_command(&flt, f, VIRTIO_NET_CTRL_RX,
				VIRTIO_NET_CTRL_RX_PROMISC, &off, 1),
	       VIRTIO_NET_OK, "PROMISC off");
	ok(!net_rx_filter_accept(&flt, other, 14), "other unicast filtered");
	ok(net_rx_filter_accept(&flt, me, 14), "own MAC accepted");
	ok(net_rx_filter_accept(&flt, bc, 14), "broadcast accepted");
	ok(!net_rx_filter_accept(&flt, mcast, 14), "multicast filtered");
	is_int(net_ctrl_command(&flt, f, VIRTIO_NET_CTRL_RX,
				VIRTIO_NET_CTRL_RX_ALLMULTI, &on, 1),
	       VIRTIO_NET_OK, "ALLMULTI on");
	ok(net_rx_filter_accept(&flt, mcast, 14), "multicast with ALLMULTI");
	memcpy(tbl, &one, 4);
	memcpy(tbl + 4, other, 6);
	memset(tbl + 10, 0, 4);
	is_int(net_ctrl_command(&flt, f, VIRTIO_NET_CTRL_MAC,
				VIRTIO_NET_CTRL_MAC_TABLE_SET, tbl, 14),
	       VIRTIO_NET_OK, "MAC table: one unicast, no multicast");
	ok(net_rx_filter_accept(&flt, other, 14), "table MAC accepted");
	is_int(net_ctrl_command(&flt, f, VIRTIO_NET_CTRL_MAC,
				VIRTIO_NET_CTRL_MAC_TABLE_SET, tbl, 12),
	       VIRTIO_NET_ERR, "truncated MAC table refused");
	one = htole32(1000);
	memcpy(tbl, &one, 4);
	is_int(net_ctrl_command(&flt, f, VIRTIO_NET_CTRL_MAC,
				VIRTIO_NET_CTRL_MAC_TABLE_SET, tbl, 20),
	       VIRTIO_NET_ERR, "huge entry count refused");
	is_int(net_ctrl_command(&flt, f, VIRTIO_NET_CTRL_MAC,
				VIRTIO_NET_CTRL_MAC_ADDR_SET, other, 6),
	       VIRTIO_NET_OK, "MAC_ADDR_SET");
	is_int(net_ctrl_command(&flt, f, VIRTIO_NET_CTRL_MAC,
				VIRTIO_NET_CTRL_MAC_ADDR_SET, mcast, 6),
	       VIRTIO_NET_ERR, "multicast MAC_ADDR_SET refused");
	is_int(net_ctrl_command(&flt, f, 99, 0, NULL, 0), VIRTIO_NET_ERR,
	       "unknown class refused");
	is_int(net_ctrl_command(&flt, 0, VIRTIO_NET_CTRL_RX,
				VIRTIO_NET_CTRL_RX_PROMISC, &on, 1),
	       VIRTIO_NET_ERR, "RX class without CTRL_RX refused");
}

int main(void)
{
	tap_plan(56);
	test_options();
	test_hdr();
	test_filter();
	return tap_done();
}

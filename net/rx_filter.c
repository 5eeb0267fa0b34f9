// SPDX-License-Identifier: GPL-2.0
/*
 * Receive filtering and the control queue's commands (virtio 1.2,
 * 5.1.6.5): promiscuous/all-multicast modes and the MAC tables.  Until
 * the driver says otherwise the device is promiscuous, as QEMU's is, so
 * a driver without CTRL_RX sees every frame.
 */
#include <endian.h>
#include <string.h>

#include "lkvm/net.h"

static const u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void net_rx_filter_reset(struct net_rx_filter *f, const u8 mac[6])
{
	memset(f, 0, sizeof(*f));
	memcpy(f->mac, mac, 6);
	f->promisc = true;
}

static bool in_table(const u8 (*tbl)[6], unsigned int n, const u8 *mac)
{
	for (unsigned int i = 0; i < n; i++)
		if (!memcmp(tbl[i], mac, 6))
			return true;
	return false;
}

bool net_rx_filter_accept(const struct net_rx_filter *f, const u8 *frame,
			  size_t len)
{
	if (f->promisc || len < 6)
		return true;
	if (!memcmp(frame, bcast, 6))
		return true;
	if (frame[0] & 1)
		return f->allmulti || in_table(f->multi, f->nr_multi, frame);
	return !memcmp(frame, f->mac, 6) || in_table(f->uni, f->nr_uni, frame);
}

/* One VIRTIO_NET_CTRL_MAC_TABLE_SET table at @data; returns bytes used or 0. */
static size_t parse_table(const u8 *data, size_t len, u8 (*tbl)[6],
			  unsigned int *n)
{
	u32 entries;

	if (len < 4)
		return 0;
	memcpy(&entries, data, 4);
	entries = le32toh(entries);
	if (entries > NET_MAC_TABLE_MAX || 4 + (size_t)entries * 6 > len)
		return 0;
	memcpy(tbl, data + 4, (size_t)entries * 6);
	*n = entries;
	return 4 + (size_t)entries * 6;
}

static u8 mac_command(struct net_rx_filter *f, u64 features, u8 cmd,
		      const u8 *data, size_t len)
{
	struct net_rx_filter tmp = *f;
	size_t used;

	switch (cmd) {
	case VIRTIO_NET_CTRL_MAC_TABLE_SET:
		used = parse_table(data, len, tmp.uni, &tmp.nr_uni);
		if (!used)
			return VIRTIO_NET_ERR;
		if (!parse_table(data + used, len - used, tmp.multi,
				 &tmp.nr_multi))
			return VIRTIO_NET_ERR;
		*f = tmp;	/* both tables or neither */
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_MAC_ADDR_SET:
		if (!(features & (1ULL << VIRTIO_NET_F_CTRL_MAC_ADDR)) ||
		    len != 6 || (data[0] & 1))
			return VIRTIO_NET_ERR;
		memcpy(f->mac, data, 6);
		return VIRTIO_NET_OK;
	}
	return VIRTIO_NET_ERR;
}

u8 net_ctrl_command(struct net_rx_filter *f, u64 features, u8 cls, u8 cmd,
		    const u8 *data, size_t len)
{
	switch (cls) {
	case VIRTIO_NET_CTRL_RX:
		if (!(features & (1ULL << VIRTIO_NET_F_CTRL_RX)) || len != 1)
			return VIRTIO_NET_ERR;
		if (cmd == VIRTIO_NET_CTRL_RX_PROMISC)
			f->promisc = data[0];
		else if (cmd == VIRTIO_NET_CTRL_RX_ALLMULTI)
			f->allmulti = data[0];
		else
			return VIRTIO_NET_ERR;	/* no CTRL_RX_EXTRA */
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_MAC:
		if (!(features & (1ULL << VIRTIO_NET_F_CTRL_RX)) &&
		    cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET)
			return VIRTIO_NET_ERR;
		return mac_command(f, features, cmd, data, len);
	case VIRTIO_NET_CTRL_MQ: {
		u16 pairs = 0;

		/* One queue pair, and MQ is not offered: only 1 is valid. */
		if (len == 2)
			memcpy(&pairs, data, 2);
		if (cmd == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET &&
		    (features & (1ULL << VIRTIO_NET_F_MQ)) &&
		    le16toh(pairs) == 1)
			return VIRTIO_NET_OK;
		return VIRTIO_NET_ERR;
	}
	}
	return VIRTIO_NET_ERR;
}

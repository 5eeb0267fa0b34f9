// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net header checks (virtio 1.2, 5.1.6.2): what a guest may claim
 * on transmit and what it may be handed on receive, for the features it
 * negotiated.  Neither side is trusted: a header that asks for an offload
 * the other end did not agree to drops the frame.
 */
#include <endian.h>
#include <errno.h>

#include "lkvm/net.h"

static bool has(u64 features, unsigned int bit)
{
	return features & (1ULL << bit);
}

/* The GSO type @h names, if @features (host or guest side) allow it. */
static int check_gso(const struct virtio_net_hdr_v1 *h, u64 features,
		     unsigned int tso4, unsigned int tso6, unsigned int ufo,
		     unsigned int ecn)
{
	u8 type = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if (type == VIRTIO_NET_HDR_GSO_NONE)
		return h->gso_type == VIRTIO_NET_HDR_GSO_NONE ? 0 : -EINVAL;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !has(features, ecn))
		return -EINVAL;
	switch (type) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (!has(features, tso4))
			return -EINVAL;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!has(features, tso6))
			return -EINVAL;
		break;
	case VIRTIO_NET_HDR_GSO_UDP:
		if (!has(features, ufo))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	/* Segmentation needs a segment size and a partial checksum. */
	if (!le16toh(h->gso_size) || !(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return -EINVAL;
	return 0;
}

static int check_csum(const struct virtio_net_hdr_v1 *h, size_t len)
{
	size_t start = le16toh(h->csum_start), off = le16toh(h->csum_offset);

	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return 0;
	/* The 16-bit checksum field must lie inside the frame. */
	return start + off + 2 <= len ? 0 : -EINVAL;
}

int net_hdr_check_tx(const struct virtio_net_hdr_v1 *h, u64 features,
		     size_t len)
{
	if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM |
			 VIRTIO_NET_HDR_F_DATA_VALID))
		return -EINVAL;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    !has(features, VIRTIO_NET_F_CSUM))
		return -EINVAL;
	if (check_csum(h, len))
		return -EINVAL;
	return check_gso(h, features, VIRTIO_NET_F_HOST_TSO4,
			 VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_HOST_UFO,
			 VIRTIO_NET_F_HOST_ECN);
}

int net_hdr_check_rx(struct virtio_net_hdr_v1 *h, u64 features, size_t len)
{
	bool csum = has(features, VIRTIO_NET_F_GUEST_CSUM);

	h->flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
	if (!csum) {
		/* A partial checksum cannot be handed to this guest. */
		if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			return -EINVAL;
		h->flags = 0;
		h->csum_start = h->csum_offset = 0;
	}
	if (check_csum(h, len))
		return -EINVAL;
	return check_gso(h, features, VIRTIO_NET_F_GUEST_TSO4,
			 VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_UFO,
			 VIRTIO_NET_F_GUEST_ECN);
}

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_NET_H
#define LKVM_NET_H

/*
 * Networking: the -n option, the virtio-net header helpers, the receive
 * filter and the backends virtio/net.c sends frames through.
 *
 *   virtio/net.c  --ops-->  net/tap.c     tap (or an inherited fd=)
 *                           net/user.c    libslirp, no root needed
 * (net/backend.c picks one; -n mode=none makes no device at all.)
 *
 * Threads: every backend call and callback runs on the device thread.
 * Backend watch callbacks take be->lock (the device's vdev->lock) before
 * they call be->rx_wake, so backends and the device never race.
 */
#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <linux/virtio_net.h>

#include "lkvm/config.h"
#include "lkvm/evloop.h"
#include "lkvm/types.h"

#define ETH_ALEN_		6
#define NET_HDR_LEN		12	/* struct virtio_net_hdr_v1 / _mrg_rxbuf */
#define NET_LEGACY_HDR_LEN	10	/* legacy, without MRG_RXBUF */
#define NET_MAX_FRAME		(65535 + 14 + 4)	/* GSO frame + VLAN tag */
/*
 * The user backend's backlog of frames for the guest (net/user.c): past
 * NET_USER_QLEN frames, or for a frame over NET_USER_SLOT, slirp's frame
 * is dropped and counted in rx_dropped, as a full NIC ring would.
 */
#define NET_USER_QLEN		512
#define NET_USER_SLOT		1536	/* >= slirp's if_mtu + Ethernet header */

/* ---- options (net/options.c) ---- */

/*
 * Parses one -n argument, "mode=tap|user|none,guest_mac=..,tapif=..,..",
 * into @n.  Returns 0, or -EINVAL with a message in @err.
 */
int net_parse_option(struct lkvm_net *n, const char *arg, char *err,
		     size_t errlen);
/* "52:54:00:12:34:56" -> @mac; -EINVAL on anything else. */
int net_parse_mac(const char *s, u8 mac[6]);
/* A stable locally administered unicast MAC from the VM name and index. */
void net_default_mac(const char *vm_name, unsigned int index, u8 mac[6]);
/*
 * "tcp:[haddr]:hport-[gaddr]:gport" (or udp:) -> parts, addresses in
 * network order; 0 means "unset".  Returns 0 or -EINVAL.
 */
struct net_hostfwd {
	bool udp;
	u32 host_addr, guest_addr;
	u16 host_port, guest_port;
};
int net_parse_hostfwd(const char *s, struct net_hostfwd *fwd);

/* ---- virtio-net header translation (net/vnet_hdr.c) ---- */

/* Offload features that a vnet-header backend (tap) can carry. */
#define NET_OFFLOAD_FEATURES						\
	((1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) | \
	 (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) | \
	 (1ULL << VIRTIO_NET_F_HOST_ECN) | (1ULL << VIRTIO_NET_F_HOST_UFO) | \
	 (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6) | \
	 (1ULL << VIRTIO_NET_F_GUEST_ECN) | (1ULL << VIRTIO_NET_F_GUEST_UFO))

/*
 * Checks a guest's transmit header against the negotiated @features and
 * the frame length @len (header excluded).  Returns 0 or -EINVAL.  The
 * header is the guest's own copy; fields are little-endian (legacy
 * drivers on a little-endian host are the same).
 */
int net_hdr_check_tx(const struct virtio_net_hdr_v1 *h, u64 features,
		     size_t len);
/*
 * Makes a backend's receive header fit what the guest negotiated: clears
 * offload bits the guest did not accept.  Returns 0, or -EINVAL if the
 * frame cannot be given to this guest (GSO it did not accept).
 */
int net_hdr_check_rx(struct virtio_net_hdr_v1 *h, u64 features, size_t len);

/* ---- receive filter (net/rx_filter.c) ---- */

#define NET_MAC_TABLE_MAX	64

struct net_rx_filter {
	u8 mac[6];
	bool promisc, allmulti;
	unsigned int nr_uni, nr_multi;
	u8 uni[NET_MAC_TABLE_MAX][6];
	u8 multi[NET_MAC_TABLE_MAX][6];
};

void net_rx_filter_reset(struct net_rx_filter *f, const u8 mac[6]);
/* Whether a frame whose first bytes are @frame (@len long) is wanted. */
bool net_rx_filter_accept(const struct net_rx_filter *f, const u8 *frame,
			  size_t len);
/*
 * A control-queue command (virtio 1.2, 5.1.6.5): @cls, @cmd and @data
 * from the driver.  Returns VIRTIO_NET_OK or VIRTIO_NET_ERR.  @features
 * are the negotiated ones.
 */
u8 net_ctrl_command(struct net_rx_filter *f, u64 features, u8 cls, u8 cmd,
		    const u8 *data, size_t len);

/* ---- backends ---- */

struct net_backend;

struct net_backend_ops {
	const char *name;
	/* Starts watching fds on @loop; called once, under be->lock. */
	int (*attach)(struct net_backend *be, struct evloop *loop);
	/*
	 * Sends one frame (led by a NET_HDR_LEN header if be->vnet_hdr).
	 * Returns 0 or a negative errno: the frame was dropped, counted.
	 */
	int (*send)(struct net_backend *be, const struct iovec *iov,
		    unsigned int cnt);
	/*
	 * The next frame, led by a NET_HDR_LEN header if be->vnet_hdr, into
	 * @buf.  Returns its length (0: an empty datagram, for the device
	 * to drop), -EAGAIN if none waits, or an errno.
	 * While frames wait, the backend keeps its readiness up, so a
	 * device that stops early (work budget) is called again.
	 */
	ssize_t (*recv)(struct net_backend *be, void *buf, size_t len);
	/* false: leave frames on the host side until true again. */
	void (*rx_enable)(struct net_backend *be, bool on);
	/* Guest-negotiated features: enable the matching receive offloads. */
	int (*set_offload)(struct net_backend *be, u64 guest_features);
	void (*free)(struct net_backend *be);
};

struct net_backend {
	const struct net_backend_ops *ops;
	const struct lkvm_net *cfg;
	bool vnet_hdr;			/* frames carry a 12-byte header */
	u64 features;			/* VIRTIO_NET_F_* offloads supported */
	pthread_mutex_t *lock;		/* the device's vdev->lock */
	/* Device thread, be->lock held: frames may be waiting. */
	void (*rx_wake)(void *opaque);
	void *opaque;
	u64 tx_dropped;			/* the backend could not send */
	u64 rx_dropped;			/* the backend had to drop */
	void *priv;
};

/*
 * Opens the backend @cfg asks for (tap: the device, script; user: the
 * slirp instance and its port forwards).  Nothing is watched until
 * ops->attach.  Returns 0 or a negative errno with a message printed.
 */
int net_backend_open(struct net_backend *be, const struct lkvm_net *cfg);
int net_tap_open(struct net_backend *be, const struct lkvm_net *cfg);
int net_user_open(struct net_backend *be, const struct lkvm_net *cfg);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_VIRTIO_DEVICES_H
#define LKVM_VIRTIO_DEVICES_H

/*
 * The virtio devices lkvm offers, each created on transport @kind.  Used
 * by virtio/devices.c and by the unit tests, which drive the devices on a
 * fake struct kvm; @out (optional) gets the device.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <sys/uio.h>

#include "lkvm/config.h"
#include "lkvm/virtio.h"

int virtio_blk__create(struct kvm *kvm, const struct lkvm_disk *disk,
		       unsigned int index, enum virtio_transport_kind kind,
		       struct virtio_device **out);
/* hvc0 on lkvm's terminal (stdin/stdout, Ctrl-A x, raw mode). */
int virtio_console__create(struct kvm *kvm, enum virtio_transport_kind kind,
			   struct virtio_device **out);
/* Another console on @port's fds, without the terminal's handling. */
int virtio_console__create_port(struct kvm *kvm,
				enum virtio_transport_kind kind,
				const struct lkvm_console_port *port,
				struct virtio_device **out);
int virtio_net__create(struct kvm *kvm, const struct lkvm_net *cfg,
		       unsigned int index, enum virtio_transport_kind kind,
		       struct virtio_device **out);
/*
 * How long virtio-net waits for a batch of receive buffers before it
 * looks anyway (virtio/net.c); 500 us, a test may change it (relaxed:
 * the value alone matters, nothing is published with it).
 */
extern atomic_uint virtio_net_rx_batch_us;
/*
 * The 9P2000.L server behind a virtio-9p device: fs/p9.h's functions
 * (virtio_9p_server), or a test's fake, which then needs no host files.
 */
struct p9_opts;
struct p9_server;
struct virtio_9p_server_ops {
	int (*open)(const struct p9_opts *opts, struct p9_server **out,
		    char *err, size_t errlen);
	void (*close)(struct p9_server *s);
	size_t (*handle)(struct p9_server *s, const struct iovec *req,
			 unsigned int nreq, size_t req_len,
			 const struct iovec *resp, unsigned int nresp,
			 size_t resp_len);
	void (*reset)(struct p9_server *s);
};
extern const struct virtio_9p_server_ops virtio_9p_server;

/* @sops: NULL for virtio_9p_server. */
int virtio_9p__create(struct kvm *kvm, const struct lkvm_9p *cfg,
		      enum virtio_transport_kind kind,
		      const struct virtio_9p_server_ops *sops,
		      struct virtio_device **out);
int virtio_rng__create(struct kvm *kvm, enum virtio_transport_kind kind,
		       struct virtio_device **out);
/*
 * The VM's one balloon (kvm->balloon), over the RAM registered in kvm->mem
 * so far: -EEXIST for a second, -EINVAL with --hugetlbfs.
 */
int virtio_balloon__create(struct kvm *kvm, enum virtio_transport_kind kind,
			   struct virtio_device **out);

#endif

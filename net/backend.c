// SPDX-License-Identifier: GPL-2.0
/* Picks the backend -n asked for; mode=none is here: frames go nowhere. */
#include <errno.h>
#include <stdlib.h>

#include "lkvm/log.h"
#include "lkvm/net.h"

static int none_attach(struct net_backend *be __unused,
		       struct evloop *loop __unused)
{
	return 0;
}

static int none_send(struct net_backend *be __unused,
		     const struct iovec *iov __unused, unsigned int cnt __unused)
{
	return 0;	/* a cable to nowhere: not a drop */
}

static ssize_t none_recv(struct net_backend *be __unused, void *buf __unused,
			 size_t len __unused)
{
	return -EAGAIN;
}

static void none_rx_enable(struct net_backend *be __unused, bool on __unused)
{
}

static int none_set_offload(struct net_backend *be __unused, u64 f __unused)
{
	return 0;
}

static void none_free(struct net_backend *be __unused)
{
}

static const struct net_backend_ops none_ops = {
	.name = "none",
	.attach = none_attach,
	.send = none_send,
	.recv = none_recv,
	.rx_enable = none_rx_enable,
	.set_offload = none_set_offload,
	.free = none_free,
};

int net_backend_open(struct net_backend *be, const struct lkvm_net *cfg)
{
	be->cfg = cfg;
	switch (cfg->mode) {
	case NET_MODE_TAP:
		return net_tap_open(be, cfg);
	case NET_MODE_USER:
		return net_user_open(be, cfg);
	case NET_MODE_NONE:
		be->ops = &none_ops;
		return 0;
	}
	return -EINVAL;
}

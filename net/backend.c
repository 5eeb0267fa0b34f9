// SPDX-License-Identifier: GPL-2.0
/*
 * Picks the backend -n asked for.  mode=none never gets here: as in
 * kvmtool it means no network device, and the parser adds none.
 */
#include <errno.h>

#include "lkvm/net.h"

int net_backend_open(struct net_backend *be, const struct lkvm_net *cfg)
{
	be->cfg = cfg;
	switch (cfg->mode) {
	case NET_MODE_TAP:
		return net_tap_open(be, cfg);
	case NET_MODE_USER:
		return net_user_open(be, cfg);
	case NET_MODE_NONE:
		break;
	}
	return -EINVAL;
}

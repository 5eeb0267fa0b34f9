// SPDX-License-Identifier: GPL-2.0
/*
 * Built instead of net/user.c when libslirp is not available (static and
 * cross builds: Debian ships no libslirp.a): mode=user is refused with a
 * message that says why, the other modes work as usual.
 */
#include <errno.h>

#include "lkvm/log.h"
#include "lkvm/net.h"

int net_user_open(struct net_backend *be __unused,
		  const struct lkvm_net *cfg __unused)
{
	pr_err("-n mode=user: this lkvm was built without libslirp "
	       "(Debian package libslirp-dev); use mode=tap");
	return -ENOTSUP;
}

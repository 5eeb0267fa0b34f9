/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libslirp, loaded when the first -n mode=user device is set up rather
 * than at exec (net/slirp-dl.c): lkvm without user networking never maps
 * libslirp, glib or pcre2.  net/user.c calls libslirp through here.
 */
#ifndef LKVM_NET_SLIRP_DL_H
#define LKVM_NET_SLIRP_DL_H

#include <slirp/libslirp.h>

struct slirp_api {
	Slirp *(*slirp_new)(const SlirpConfig *cfg, const SlirpCb *callbacks,
			    void *opaque);
	void (*slirp_cleanup)(Slirp *slirp);
	void (*slirp_input)(Slirp *slirp, const uint8_t *pkt, int pkt_len);
	void (*slirp_pollfds_fill)(Slirp *slirp, uint32_t *timeout,
				   SlirpAddPollCb add_poll, void *opaque);
	void (*slirp_pollfds_poll)(Slirp *slirp, int select_error,
				   SlirpGetREventsCb get_revents, void *opaque);
	int (*slirp_add_hostfwd)(Slirp *slirp, int is_udp,
				 struct in_addr host_addr, int host_port,
				 struct in_addr guest_addr, int guest_port);
};

/* The loaded library's entry points, or NULL with the reason said. */
const struct slirp_api *slirp_dl(void);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_FS_P9_H
#define LKVM_FS_P9_H

/*
 * A 9P2000.L file server over one exported host directory (the protocol
 * half of virtio-9p; virtio/9p.c is the device).  It knows nothing of
 * virtqueues: a request is a T-message in driver-readable buffers, the
 * reply an R-message written into driver-writable buffers.
 *
 * Every path is resolved beneath the export's root fd (openat2 with
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, or an O_NOFOLLOW walk), so no
 * message can reach outside it; a read-only export answers every
 * mutating message with EROFS; a malformed message gets an Rlerror.
 *
 * Threads: p9_server_handle() may run on several threads at once (the
 * fid table has its own lock); a slow host filesystem blocks only the
 * thread that called it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "lkvm/types.h"

#define P9_MSIZE_MAX	(512 * 1024)	/* largest msize we agree to */
#define P9_FIDS_MAX	4096		/* fids one client may hold */

struct p9_server;

struct p9_opts {
	const char *root;		/* host directory to export */
	bool readonly;
	u32 max_msize;			/* 0: P9_MSIZE_MAX */
	unsigned int max_fids;		/* 0: P9_FIDS_MAX */
};

/*
 * Opens the export.  Returns 0 and *out, or a negative errno with a
 * one-line reason in @err (e.g. "/srv/x: not a directory").
 */
int p9_server_open(const struct p9_opts *opts, struct p9_server **out,
		   char *err, size_t errlen);
void p9_server_close(struct p9_server *s);

/*
 * Handles one request: the T-message is the concatenation of @req
 * (@nreq buffers, @req_len bytes in all), the R-message goes to @resp
 * (@nresp buffers, @resp_len bytes of room).  Returns the reply's length
 * (always > 0: at worst an Rlerror; 0 only if @resp_len cannot hold even
 * that, then nothing was written).
 */
size_t p9_server_handle(struct p9_server *s, const struct iovec *req,
			unsigned int nreq, size_t req_len,
			const struct iovec *resp, unsigned int nresp,
			size_t resp_len);

/* Drops every fid (the driver reset the device or sent Tversion). */
void p9_server_reset(struct p9_server *s);

#endif

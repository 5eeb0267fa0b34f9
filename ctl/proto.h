/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_CTL_PROTO_H
#define LKVM_CTL_PROTO_H

/*
 * The control socket's wire format.  Both directions carry frames:
 *
 *	u32 length (little-endian)  |  length bytes of payload
 *
 * A request's payload is an argument vector: argc NUL-terminated strings
 * back to back (at least one, at most CTL_MAX_ARGS, nothing after the last
 * NUL), e.g. "pause\0" or "nmi\0" "1\0".  Its length is 1..CTL_MAX_REQUEST;
 * a client announcing more (or 0) gets an error reply and is closed.
 *
 * A reply's payload is a s32 status (little-endian, 0 or a negative
 * errno) followed by text for the user: the result (JSON when the request
 * carried --json) or, on error, one line saying what went wrong.  Its
 * length is 4..CTL_MAX_REPLY.
 *
 * A connection carries any number of request/reply pairs, strictly in
 * turn: the server reads the next request only once the previous reply
 * has been sent.
 */
#include <stddef.h>

#include "lkvm/types.h"

#define CTL_HDR_SIZE	4
#define CTL_MAX_REQUEST	4096
#define CTL_MAX_REPLY	(1024 * 1024)
#define CTL_MAX_ARGS	16

/* A growable byte buffer for replies; on ENOMEM it sets ->failed. */
struct ctl_buf {
	char *data;
	size_t len, cap;
	bool failed;
};

void ctl_buf_init(struct ctl_buf *b);
void ctl_buf_free(struct ctl_buf *b);
void ctl_buf_add(struct ctl_buf *b, const void *p, size_t n);
void ctl_buf_printf(struct ctl_buf *b, const char *fmt, ...) __printf(2, 3);
/* @s as a JSON string literal, quotes included. */
void ctl_buf_json_str(struct ctl_buf *b, const char *s);

void ctl_put_u32(u8 *p, u32 v);
u32 ctl_get_u32(const u8 *p);

/*
 * Looks at the @len bytes received so far: 0 when a whole frame of at most
 * @max payload bytes is not there yet, the frame's total size when it is,
 * -EMSGSIZE when the header announces more than @max, -EBADMSG for 0.
 */
long ctl_frame_check(const u8 *buf, size_t len, size_t max);

/*
 * Splits a request payload into @argv (at most @max entries, pointing
 * into @p): argc, or -EBADMSG when it is not 1..@max NUL-terminated
 * strings, -E2BIG when there are more than @max.
 */
int ctl_args_decode(const char *p, size_t len, const char **argv,
		    unsigned int max);
/* Appends the frame of request @argv (NULL-terminated) to @b. */
int ctl_args_encode(struct ctl_buf *b, const char *const argv[]);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the control socket's framing and argument decoding
 * (ctl/proto.c) on a byte stream that arrives in pieces, as ctl/server.c
 * sees it, and the VM-name check (ctl/path.c) on every decoded argument.
 * A request that decodes must encode back to the very same frame.
 * Input: byte 0 the size of each piece read (0 means 1), the stream after.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "ctl/path.h"
#include "ctl/proto.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static void request(const u8 *frame, size_t n)
{
	const char *argv[CTL_MAX_ARGS + 1];
	struct sockaddr_un sa;
	struct ctl_buf b;
	const char *why;
	int argc, i;

	argc = ctl_args_decode((const char *)frame + CTL_HDR_SIZE,
			       n - CTL_HDR_SIZE, argv, CTL_MAX_ARGS);
	if (argc == -E2BIG || argc == -EBADMSG)
		return;
	if (argc < 1 || argc > CTL_MAX_ARGS)
		abort();
	argv[argc] = NULL;
	for (i = 0; i < argc; i++) {
		if ((const u8 *)argv[i] < frame + CTL_HDR_SIZE ||
		    (const u8 *)argv[i] + strlen(argv[i]) >= frame + n)
			abort();
		why = NULL;
		if (ctl_name_check("/run/user/1000/lkvm", argv[i], &why)) {
			if (!why)
				abort();
		} else if (ctl_sock_addr("/run/user/1000/lkvm", argv[i], &sa)) {
			abort();	/* a name that passed must fit */
		}
	}
	ctl_buf_init(&b);
	if (ctl_args_encode(&b, argv) || b.len != n || memcmp(b.data, frame, n))
		abort();
	ctl_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static u8 in[CTL_HDR_SIZE + CTL_MAX_REQUEST];
	size_t in_len = 0, off = 1, piece;
	long n;

	if (!size)
		return 0;
	piece = data[0] ? data[0] : 1;
	while (off < size) {
		size_t k = size - off < piece ? size - off : piece;

		/* ctl/server.c reads at most what fits in its buffer. */
		if (k > sizeof(in) - in_len)
			k = sizeof(in) - in_len;
		memcpy(in + in_len, data + off, k);
		in_len += k;
		off += k;
		for (;;) {
			n = ctl_frame_check(in, in_len, CTL_MAX_REQUEST);
			if (n < 0)
				return 0;	/* the server closes */
			if (!n)
				break;
			if ((size_t)n > in_len || n < CTL_HDR_SIZE + 1)
				abort();
			request(in, (size_t)n);
			memmove(in, in + n, in_len - (size_t)n);
			in_len -= (size_t)n;
		}
		if (in_len == sizeof(in))
			abort();	/* full, yet no frame: cannot be */
	}
	return 0;
}

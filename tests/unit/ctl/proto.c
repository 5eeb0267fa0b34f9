// SPDX-License-Identifier: GPL-2.0
/* ctl/proto.c: framing with truncated, oversized and garbage input; JSON strings. */
#include <errno.h>
#include <string.h>

#include "ctl/proto.h"
#include "tap.h"

static void test_frame_check(void)
{
	u8 buf[CTL_HDR_SIZE + 8] = { 0 };

	is_int(ctl_frame_check(buf, 0, 100), 0, "no bytes: wait for more");
	is_int(ctl_frame_check(buf, 3, 100), 0, "half a header: wait for more");
	is_int(ctl_frame_check(buf, 4, 100), -EBADMSG, "length 0 is refused");
	ctl_put_u32(buf, 8);
	is_int(ctl_frame_check(buf, 4, 100), 0, "header only: wait for the payload");
	is_int(ctl_frame_check(buf, 11, 100), 0, "payload one byte short: wait");
	is_int(ctl_frame_check(buf, 12, 100), 12, "whole frame: its size");
	is_int(ctl_frame_check(buf, 12, 7), -EMSGSIZE, "over the limit: refused");
	ctl_put_u32(buf, 0xffffffffu);
	is_int(ctl_frame_check(buf, 4, CTL_MAX_REQUEST), -EMSGSIZE,
	       "4 GiB announced: refused from the header alone");
	ctl_put_u32(buf, CTL_MAX_REQUEST + 1);
	is_int(ctl_frame_check(buf, 4, CTL_MAX_REQUEST), -EMSGSIZE,
	       "one byte over CTL_MAX_REQUEST: refused");
}

static void test_args(void)
{
	const char *argv[CTL_MAX_ARGS];
	char many[CTL_MAX_ARGS * 2 + 2];

	is_int(ctl_args_decode("nmi\0" "1", 6, argv, CTL_MAX_ARGS), 2,
	       "two strings decode");
	ok(!strcmp(argv[0], "nmi") && !strcmp(argv[1], "1"),
	   "and point at the right bytes");
	is_int(ctl_args_decode("info", 4, argv, CTL_MAX_ARGS), -EBADMSG,
	       "no final NUL: malformed");
	is_int(ctl_args_decode("", 0, argv, CTL_MAX_ARGS), -EBADMSG,
	       "empty payload: malformed");
	is_int(ctl_args_decode("\0", 1, argv, CTL_MAX_ARGS), 1,
	       "one empty string is an argv (the dispatcher refuses it)");
	for (size_t i = 0; i < sizeof(many) - 1; i += 2) {
		many[i] = 'a';
		many[i + 1] = '\0';
	}
	is_int(ctl_args_decode(many, CTL_MAX_ARGS * 2, argv, CTL_MAX_ARGS),
	       CTL_MAX_ARGS, "CTL_MAX_ARGS strings decode");
	is_int(ctl_args_decode(many, CTL_MAX_ARGS * 2 + 2, argv, CTL_MAX_ARGS),
	       -E2BIG, "one more is refused");
}

static void test_encode(void)
{
	const char *const req[] = { "balloon", "inflate", "64", NULL };
	const char *argv[CTL_MAX_ARGS];
	static char big[CTL_MAX_REQUEST + 1];
	const char *const toobig[] = { big, NULL };
	const char *const none[] = { NULL };
	struct ctl_buf b;

	ctl_buf_init(&b);
	is_int(ctl_args_encode(&b, req), 0, "encode a request");
	is_int(ctl_frame_check((u8 *)b.data, b.len, CTL_MAX_REQUEST),
	       (long)b.len, "its frame is whole");
	is_int(ctl_args_decode(b.data + 4, b.len - 4, argv, CTL_MAX_ARGS), 3,
	       "and decodes back to 3 arguments");
	ok(!strcmp(argv[2], "64"), "last argument intact");
	ctl_buf_free(&b);
	memset(big, 'x', sizeof(big) - 1);
	is_int(ctl_args_encode(&b, toobig), -E2BIG,
	       "a request over CTL_MAX_REQUEST is not sent");
	is_int(ctl_args_encode(&b, none), -EINVAL, "an empty argv is not sent");
	is_int(b.len, 0, "and nothing was added");
	ctl_buf_free(&b);
}

static void test_json(void)
{
	struct ctl_buf b;

	ctl_buf_init(&b);
	ctl_buf_json_str(&b, "a\"b\\c\nd\te\x01\x7f" "é");
	ok(b.data && !strcmp(b.data, "\"a\\\"b\\\\c\\nd\\te\\u0001\\u007f" "é\""),
	   "JSON string escapes quote, backslash, controls; keeps UTF-8");
	if (b.data)
		diag("got %s", b.data);
	ctl_buf_free(&b);
}

static void test_buf_limit(void)
{
	static char chunk[64 * 1024];
	struct ctl_buf b;

	ctl_buf_init(&b);
	for (int i = 0; i < 32; i++)
		ctl_buf_add(&b, chunk, sizeof(chunk));
	ok(b.failed, "a reply past CTL_MAX_REPLY marks the buffer failed");
	ok(b.len <= CTL_MAX_REPLY + CTL_HDR_SIZE, "and stops growing");
	ctl_buf_free(&b);
}

int main(void)
{
	tap_plan(26);
	test_frame_check();
	test_args();
	test_encode();
	test_json();
	test_buf_limit();
	return tap_done();
}

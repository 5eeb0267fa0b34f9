// SPDX-License-Identifier: GPL-2.0
/* The control socket's framing (ctl/proto.h) and a reply buffer. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

void ctl_buf_init(struct ctl_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void ctl_buf_free(struct ctl_buf *b)
{
	free(b->data);
	ctl_buf_init(b);
}

static bool ctl_buf_reserve(struct ctl_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->failed)
		return false;
	/* One more for the NUL ctl_buf_printf's vsnprintf writes. */
	if (n > CTL_MAX_REPLY || b->len + n + 1 > CTL_MAX_REPLY + CTL_HDR_SIZE + 1) {
		b->failed = true;
		return false;
	}
	if (b->len + n + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void ctl_buf_add(struct ctl_buf *b, const void *p, size_t n)
{
	if (!ctl_buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void ctl_buf_printf(struct ctl_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !ctl_buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void ctl_buf_json_str(struct ctl_buf *b, const char *s)
{
	ctl_buf_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			ctl_buf_printf(b, "\\%c", c);
		else if (c == '\n')
			ctl_buf_add(b, "\\n", 2);
		else if (c == '\t')
			ctl_buf_add(b, "\\t", 2);
		else if (c < 0x20 || c == 0x7f)
			ctl_buf_printf(b, "\\u%04x", c);
		else
			ctl_buf_add(b, s, 1);
	}
	ctl_buf_add(b, "\"", 1);
}

void ctl_put_u32(u8 *p, u32 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
	p[2] = (u8)(v >> 16);
	p[3] = (u8)(v >> 24);
}

u32 ctl_get_u32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

long ctl_frame_check(const u8 *buf, size_t len, size_t max)
{
	u32 n;

	if (len < CTL_HDR_SIZE)
		return 0;
	n = ctl_get_u32(buf);
	if (!n)
		return -EBADMSG;
	if (n > max)
		return -EMSGSIZE;
	if (len < CTL_HDR_SIZE + (size_t)n)
		return 0;
	return (long)(CTL_HDR_SIZE + n);
}

int ctl_args_decode(const char *p, size_t len, const char **argv,
		    unsigned int max)
{
	unsigned int argc = 0;
	size_t i = 0;

	if (!len || p[len - 1] != '\0')
		return -EBADMSG;
	while (i < len) {
		size_t n = strlen(p + i);

		if (argc == max)
			return -E2BIG;
		argv[argc++] = p + i;
		i += n + 1;
	}
	return (int)argc;
}

int ctl_args_encode(struct ctl_buf *b, const char *const argv[])
{
	size_t total = 0, start = b->len;
	u8 hdr[CTL_HDR_SIZE];
	unsigned int i;

	for (i = 0; argv[i]; i++) {
		if (i == CTL_MAX_ARGS)
			return -E2BIG;
		total += strlen(argv[i]) + 1;
	}
	if (!i)
		return -EINVAL;
	if (total > CTL_MAX_REQUEST)
		return -E2BIG;
	ctl_put_u32(hdr, (u32)total);
	ctl_buf_add(b, hdr, sizeof(hdr));
	for (i = 0; argv[i]; i++)
		ctl_buf_add(b, argv[i], strlen(argv[i]) + 1);
	if (b->failed) {
		b->len = start;
		return -ENOMEM;
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The init's status line (see sandbox/report.h).  The parser runs in lkvm
 * on bytes from the guest, so it takes exactly the grammar and nothing
 * near it: a status outside 0-255, a signal outside 1-64, a number with
 * junk after it, or a control character in the text is malformed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static const char *const names[SANDBOX_NR_REASONS] = {
	[SANDBOX_EXIT] = "exit",
	[SANDBOX_SIGNAL] = "signal",
	[SANDBOX_PANIC] = "panic",
	[SANDBOX_TIMEOUT] = "timeout",
	[SANDBOX_VMM_ERROR] = "vmm-error",
	[SANDBOX_MISSING_SUPPORT] = "missing-kernel-support",
	[SANDBOX_INTERRUPTED] = "interrupted",
};

const char *sandbox_reason_name(enum sandbox_reason r)
{
	return (unsigned int)r < SANDBOX_NR_REASONS ? names[r] : "unknown";
}

/*
 * What mount(2) and finit_module(2) say when the kernel lacks a piece:
 * ENODEV, an unknown filesystem type; for 9p, EINVAL when no "virtio"
 * transport is registered (9pnet_virtio missing: Linux 6.1's parse_opts()
 * says "Could not find request transport" and fails with EINVAL; the
 * init's own options are known good, so that is what EINVAL means here),
 * ENOENT when no virtio device carries the tag (no virtio-pci/-mmio
 * driver probed it);
 * EOPNOTSUPP from finit_module for a compressed file it cannot inflate.
 */
const char *sandbox_missing_config(const char *step, int err)
{
	if (!strcmp(step, "9p-root")) {
		if (err == ENODEV)
			return "CONFIG_9P_FS";
		if (err == EINVAL || err == EPROTONOSUPPORT)
			return "CONFIG_NET_9P_VIRTIO";
		if (err == ENOENT)
			return "CONFIG_VIRTIO_PCI or CONFIG_VIRTIO_MMIO (no virtio-9p device with the root's tag)";
		return NULL;
	}
	if (!strcmp(step, "overlay"))
		return err == ENODEV ? "CONFIG_OVERLAY_FS" : NULL;
	if (!strcmp(step, "devtmpfs"))
		return err == ENODEV ? "CONFIG_DEVTMPFS" : NULL;
	if (!strcmp(step, "tmpfs"))
		return err == ENODEV ? "CONFIG_TMPFS" : NULL;
	if (!strcmp(step, "module-decompress"))
		return err == EOPNOTSUPP || err == EINVAL ? "CONFIG_MODULE_DECOMPRESS" : NULL;
	if (!strcmp(step, "status-port"))
		return err == ENOENT || err == ENODEV ? "CONFIG_VIRTIO_CONSOLE" : NULL;
	return NULL;
}

static int text_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int sandbox_report_format(const struct sandbox_report *r, char *buf,
			  size_t len)
{
	int n;

	switch (r->reason) {
	case SANDBOX_EXIT:
		if (r->code < 0 || r->code > 255)
			return -EINVAL;
		n = snprintf(buf, len, SANDBOX_REPORT_PREFIX "exit %d\n", r->code);
		break;
	case SANDBOX_SIGNAL:
		if (r->code < 1 || r->code > 64)
			return -EINVAL;
		n = snprintf(buf, len, SANDBOX_REPORT_PREFIX "signal %d\n", r->code);
		break;
	case SANDBOX_MISSING_SUPPORT:
	case SANDBOX_VMM_ERROR:
		if (!text_ok(r->detail))
			return -EINVAL;
		n = snprintf(buf, len, SANDBOX_REPORT_PREFIX "%s %s\n",
			     r->reason == SANDBOX_VMM_ERROR ? "init-error" :
			     names[r->reason], r->detail);
		break;
	default:
		return -EINVAL;
	}
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int number(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1]))
		return -EINVAL;
	v = strtol(s, &end, 10);
	if (*end || v < lo || v > hi)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

int sandbox_report_parse(const char *line, struct sandbox_report *r)
{
	char buf[SANDBOX_REPORT_MAX], *word, *arg;
	size_t len = strlen(line);

	memset(r, 0, sizeof(*r));
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;	/* a tty in the way may add it */
	if (len >= sizeof(buf) || strncmp(line, SANDBOX_REPORT_PREFIX,
					  strlen(SANDBOX_REPORT_PREFIX)))
		return -EINVAL;
	memcpy(buf, line, len);
	buf[len] = 0;
	word = buf + strlen(SANDBOX_REPORT_PREFIX);
	arg = strchr(word, ' ');
	if (!arg)
		return -EINVAL;
	*arg++ = 0;
	if (!strcmp(word, "exit")) {
		r->reason = SANDBOX_EXIT;
		return number(arg, 0, 255, &r->code);
	}
	if (!strcmp(word, "signal")) {
		r->reason = SANDBOX_SIGNAL;
		return number(arg, 1, 64, &r->code);
	}
	if (!strcmp(word, "missing-kernel-support"))
		r->reason = SANDBOX_MISSING_SUPPORT;
	else if (!strcmp(word, "init-error"))
		r->reason = SANDBOX_VMM_ERROR;
	else
		return -EINVAL;
	if (!text_ok(arg))
		return -EINVAL;
	strcpy(r->detail, arg);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The -n option, kvmtool's syntax: "mode=tap|user|none" followed by
 * ",key=value" pairs.  Values are kept in the option's own copy of the
 * argument (struct lkvm_net.spec), so nothing is allocated.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/net.h"

int net_parse_mac(const char *s, u8 mac[6])
{
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[0]) ||
		    !isxdigit((unsigned char)s[1]))
			return -EINVAL;
		mac[i] = (u8)strtoul((char[3]){ s[0], s[1], 0 }, NULL, 16);
		s += 2;
		if (i < 5 && *s++ != ':')
			return -EINVAL;
	}
	return *s ? -EINVAL : 0;
}

void net_default_mac(const char *vm_name, unsigned int index, u8 mac[6])
{
	u32 h = 2166136261u;	/* FNV-1a */

	for (const char *p = vm_name ? vm_name : ""; *p; p++)
		h = (h ^ (u8)*p) * 16777619u;
	h = (h ^ index) * 16777619u;
	/* 52:54:00 is locally administered, unicast (QEMU's prefix). */
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = (u8)(h >> 16);
	mac[4] = (u8)(h >> 8);
	mac[5] = (u8)h;
}

static int parse_port(const char *s, size_t n, u16 *port)
{
	unsigned long v = 0;

	if (!n || n > 5)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (!v || v > 65535)
		return -EINVAL;
	*port = (u16)v;
	return 0;
}

static int parse_addr(const char *s, size_t n, u32 *addr)
{
	char buf[INET_ADDRSTRLEN];
	struct in_addr a;

	*addr = 0;
	if (!n)
		return 0;
	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*addr = a.s_addr;
	return 0;
}

/* "[addr]:port" of @n bytes. */
static int parse_endpoint(const char *s, size_t n, u32 *addr, u16 *port)
{
	const char *colon = memrchr(s, ':', n);

	if (!colon)
		return -EINVAL;
	if (parse_addr(s, (size_t)(colon - s), addr))
		return -EINVAL;
	return parse_port(colon + 1, n - (size_t)(colon + 1 - s), port);
}

int net_parse_hostfwd(const char *s, struct net_hostfwd *fwd)
{
	const char *dash;

	*fwd = (struct net_hostfwd){ 0 };
	if (!strncmp(s, "tcp:", 4)) {
		s += 4;
	} else if (!strncmp(s, "udp:", 4)) {
		fwd->udp = true;
		s += 4;
	} else if (*s == ':') {		/* QEMU: protocol defaults to tcp */
		s++;
	} else {
		return -EINVAL;
	}
	dash = strchr(s, '-');
	if (!dash || strchr(dash + 1, '-'))
		return -EINVAL;
	if (parse_endpoint(s, (size_t)(dash - s), &fwd->host_addr,
			   &fwd->host_port))
		return -EINVAL;
	return parse_endpoint(dash + 1, strlen(dash + 1), &fwd->guest_addr,
			      &fwd->guest_port);
}

static int fail(char *err, size_t errlen, const char *fmt, const char *what)
{
	snprintf(err, errlen, fmt, what);
	return -EINVAL;
}

static int parse_kv(struct lkvm_net *n, char *key, char *val, char *err,
		    size_t errlen)
{
	struct net_hostfwd fwd;
	unsigned long v;
	char *end;

	if (!strcmp(key, "mode")) {
		if (!strcmp(val, "tap"))
			n->mode = NET_MODE_TAP;
		else if (!strcmp(val, "user"))
			n->mode = NET_MODE_USER;
		else if (!strcmp(val, "none"))
			n->mode = NET_MODE_NONE;
		else
			return fail(err, errlen,
				    "mode '%s': expected tap, user or none", val);
	} else if (!strcmp(key, "guest_mac")) {
		if (net_parse_mac(val, n->mac) || (n->mac[0] & 1))
			return fail(err, errlen,
				    "guest_mac '%s': expected a unicast xx:xx:xx:xx:xx:xx",
				    val);
		n->mac_set = true;
	} else if (!strcmp(key, "tapif")) {
		if (!*val || strlen(val) >= 16 || strchr(val, '/'))
			return fail(err, errlen, "tapif '%s': bad interface name",
				    val);
		n->tapif = val;
	} else if (!strcmp(key, "fd")) {
		errno = 0;
		v = strtoul(val, &end, 10);
		if (!isdigit((unsigned char)*val) || *end || errno ||
		    v > INT_MAX)
			return fail(err, errlen, "fd '%s': expected a number", val);
		n->fd = (int)v;
	} else if (!strcmp(key, "script")) {
		n->script = val;
	} else if (!strcmp(key, "downscript")) {
		n->downscript = val;
	} else if (!strcmp(key, "host_ip") || !strcmp(key, "guest_ip")) {
		struct in_addr a;

		if (inet_pton(AF_INET, val, &a) != 1)
			return fail(err, errlen, "'%s': expected an IPv4 address",
				    val);
		if (key[0] == 'h')
			n->host_ip = val;
		else
			n->guest_ip = val;
	} else if (!strcmp(key, "hostfwd")) {
		if (net_parse_hostfwd(val, &fwd))
			return fail(err, errlen,
				    "hostfwd '%s': expected [tcp|udp]:[addr]:port-[addr]:port",
				    val);
		if (n->nr_hostfwd == LKVM_NET_MAX_FWDS)
			return fail(err, errlen, "%s: too many hostfwd", val);
		n->hostfwd[n->nr_hostfwd++] = val;
	} else if (!strcmp(key, "mq")) {
		errno = 0;
		v = strtoul(val, &end, 10);
		if (!isdigit((unsigned char)*val) || *end || errno || v != 1)
			return fail(err, errlen,
				    "mq '%s': only 1 queue pair is supported", val);
		n->mq = (unsigned int)v;
	} else if (!strcmp(key, "trans") || !strcmp(key, "vhost") ||
		   !strcmp(key, "host_mac")) {
		/* kvmtool options we accept for compatibility and ignore. */
	} else {
		return fail(err, errlen, "unknown option '%s'", key);
	}
	return 0;
}

int net_parse_option(struct lkvm_net *n, const char *arg, char *err,
		     size_t errlen)
{
	bool have_mode = false;
	char *p, *tok;

	*n = (struct lkvm_net){ .mode = NET_MODE_NONE, .fd = -1, .mq = 1 };
	if (strlen(arg) >= sizeof(n->spec))
		return fail(err, errlen, "%s", "too long");
	strcpy(n->spec, arg);
	for (p = n->spec; (tok = strsep(&p, ","));) {
		char *eq = strchr(tok, '=');

		if (!*tok)
			continue;
		if (!eq || eq == tok)
			return fail(err, errlen, "'%s': expected key=value", tok);
		*eq = '\0';
		if (parse_kv(n, tok, eq + 1, err, errlen))
			return -EINVAL;
		have_mode |= !strcmp(tok, "mode");
	}
	if (!have_mode)
		return fail(err, errlen, "%s", "mode=tap|user|none is required");
	if (n->mode != NET_MODE_TAP &&
	    (n->tapif || n->fd >= 0 || n->script || n->downscript))
		return fail(err, errlen, "%s",
			    "tapif, fd, script and downscript need mode=tap");
	if (n->mode != NET_MODE_USER && (n->nr_hostfwd || n->host_ip ||
					 n->guest_ip))
		return fail(err, errlen, "%s",
			    "hostfwd, host_ip and guest_ip need mode=user");
	if (n->fd >= 0 && n->tapif)
		return fail(err, errlen, "%s", "fd and tapif exclude each other");
	return 0;
}

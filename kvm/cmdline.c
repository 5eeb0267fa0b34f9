// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel command line, kvmtool's way: lkvm generates what a stock
 * kernel needs (the console, and the root disk when there is one) and
 * appends -p to it, so `-p init=/bin/sh` still gets a console and a later
 * word of -p overrides a generated one.  --nodefaults (and the arch, for
 * payloads that are not Linux) drops the generated words: -p then reaches
 * the guest as given.  Device announcements the kernel cannot find any
 * other way (x86 virtio-mmio) are hardware description, not defaults, and
 * are kept either way.
 */
#include <stdlib.h>
#include <string.h>

#include "lkvm/config.h"

/* Whether a word of @s starts with @prefix (e.g. "root="). */
static bool cmdline__has_word(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	while (s && *s) {
		while (*s == ' ')
			s++;
		if (!strncmp(s, prefix, n))
			return true;
		s = strchr(s, ' ');
	}
	return false;
}

static void cmdline__append(char *buf, size_t *len, const char *word)
{
	size_t n;

	if (!word || !*word)
		return;
	n = strlen(word);
	if (*len)
		buf[(*len)++] = ' ';
	memcpy(buf + *len, word, n);
	*len += n;
	buf[*len] = '\0';
}

char *cmdline__build(const struct lkvm_config *cfg, const char *defaults,
		     const char *extra)
{
	const char *root = NULL;
	size_t len = 0, cap;
	char *buf;

	if (cfg->nodefaults)
		defaults = NULL;
	else if (cfg->default_params)
		defaults = cfg->default_params;
	/*
	 * kvmtool roots the guest on the first disk unless -p names a root;
	 * without a disk or initrd it would boot its 9p rootfs, which lkvm
	 * does not have, so there is nothing to point at then.
	 */
	if (defaults && !cfg->default_params &&
	    (cfg->nr_disks || cfg->initrd) &&
	    !cmdline__has_word(cfg->params, "root="))
		root = "root=/dev/vda rw";

	cap = 1;
	if (defaults)
		cap += strlen(defaults) + 1;
	if (root)
		cap += strlen(root) + 1;
	if (extra)
		cap += strlen(extra) + 1;
	if (cfg->params)
		cap += strlen(cfg->params) + 1;
	buf = malloc(cap);
	if (!buf)
		return NULL;
	buf[0] = '\0';
	cmdline__append(buf, &len, defaults);
	cmdline__append(buf, &len, root);
	cmdline__append(buf, &len, extra);
	/* Last, so the kernel's "later word wins" lets -p override. */
	cmdline__append(buf, &len, cfg->params);
	return buf;
}

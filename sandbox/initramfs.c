// SPDX-License-Identifier: GPL-2.0
/*
 * The initramfs `lkvm sandbox` boots: the init, its configuration and the
 * modules it loads, as one newc archive in memory (sandbox/cpio.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sandbox.h"

/*
 * Variables naming a host-side service or session the guest cannot reach
 * (see sandbox.h).  TERM, LANG, PATH, HOME, USER and the rest pass: the
 * guest sees the same files, so they mean the same there.
 */
static const char *const dropped_env[] = {
	"DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY",
	"SSH_AUTH_SOCK", "SSH_AGENT_PID", "GPG_AGENT_INFO",
	"XDG_RUNTIME_DIR", "XDG_SESSION_ID", "DBUS_SESSION_BUS_ADDRESS",
	"NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES",
};

bool sandbox_env_passes(const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t n;

	if (!eq || eq == kv)
		return false;
	n = (size_t)(eq - kv);
	for (size_t i = 0; i < sizeof(dropped_env) / sizeof(dropped_env[0]); i++)
		if (strlen(dropped_env[i]) == n && !strncmp(kv, dropped_env[i], n))
			return false;
	return true;
}

/* The name a module file gets in the initramfs: its own, under lkvm/modules/. */
static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* /lkvm/config's records, in a memory stream. */
static int write_config(const struct sandbox_image *img, FILE *f, char *err,
			size_t err_len)
{
	char num[32], line[8192];
	int ret = 0;

	for (char *const *a = img->argv; *a && !ret; a++)
		ret = initcfg_put(f, "arg", *a);
	for (char *const *e = img->envp; e && *e && !ret; e++)
		if (sandbox_env_passes(*e))
			ret = initcfg_put(f, "env", *e);
	if (!ret)
		ret = initcfg_put(f, "cwd", img->cwd);
	snprintf(num, sizeof(num), "%u", (unsigned int)img->uid);
	if (!ret)
		ret = initcfg_put(f, "uid", num);
	snprintf(num, sizeof(num), "%u", (unsigned int)img->gid);
	if (!ret)
		ret = initcfg_put(f, "gid", num);
	if (!ret)
		ret = initcfg_put(f, "root", SANDBOX_ROOT_TAG);
	for (size_t i = 0; i < img->nr_shares && !ret; i++) {
		const struct initcfg_share *s = &img->shares[i];

		snprintf(line, sizeof(line), "%s %s %s", s->ro ? "ro" : "rw",
			 s->tag, s->path);
		ret = initcfg_put(f, "share", line);
	}
	for (size_t i = 0; img->mods && i < img->mods->nr && !ret; i++) {
		const struct mod_entry *m = &img->mods->mods[i];

		if (!m->path)
			continue;
		snprintf(line, sizeof(line), "/lkvm/modules/%s",
			 base_name(m->path));
		ret = initcfg_put(f, "module", line);
	}
	if (ret)
		snprintf(err, err_len, "cannot write the init's configuration: %s",
			 strerror(-ret));
	return ret;
}

int sandbox_initramfs(const struct sandbox_image *img, struct cpio *out,
		      char *err, size_t err_len)
{
	char *cfg = NULL, name[512];
	size_t cfg_len = 0;
	FILE *f;
	int ret;

	cpio_init(out);
	f = open_memstream(&cfg, &cfg_len);
	if (!f) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	ret = write_config(img, f, err, err_len);
	if (fclose(f) && !ret) {
		snprintf(err, err_len, "out of memory");
		ret = -ENOMEM;
	}
	if (ret)
		goto out;

	/*
	 * The kernel opens /dev/console for PID 1 before the init mounts
	 * devtmpfs over /dev; without the node it warns on the console.
	 */
	ret = cpio_add_file(out, "init", 0755, img->init, img->init_len);
	if (!ret)
		ret = cpio_add_dir(out, "dev", 0755);
	if (!ret)
		ret = cpio_add_node(out, "dev/console", S_IFCHR, 0600, 5, 1);
	if (!ret)
		ret = cpio_add_dir(out, "lkvm", 0755);
	if (!ret)
		ret = cpio_add_file(out, INITCFG_PATH, 0644, cfg, cfg_len);
	if (!ret)
		ret = cpio_add_dir(out, "lkvm/modules", 0755);
	if (ret) {
		snprintf(err, err_len, "cannot build the initramfs: %s",
			 strerror(-ret));
		goto out;
	}
	for (size_t i = 0; img->mods && i < img->mods->nr; i++) {
		const struct mod_entry *m = &img->mods->mods[i];

		if (!m->path)
			continue;
		snprintf(name, sizeof(name), "lkvm/modules/%s",
			 base_name(m->path));
		ret = cpio_add_host_file(out, name, m->path);
		if (ret) {
			snprintf(err, err_len, "cannot read module %s: %s",
				 m->path, strerror(-ret));
			goto out;
		}
	}
	ret = cpio_finish(out);
	if (ret)
		snprintf(err, err_len, "cannot build the initramfs: %s",
			 strerror(-ret));
out:
	free(cfg);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * sandbox/modules.c: load order from modules.dep (installed trees), from
 * each .ko's .modinfo (trees without modules.dep: a package unpacked as
 * shipped, a kernel build tree), built-ins from modules.builtin, and what
 * is refused (cycles, missing dependencies, compressed modules whose
 * dependencies cannot be read).  Then the real Debian arm64 tree that
 * scripts/arm64-fetch.sh unpacks, when it is in the cache.
 */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "sandbox/modules.h"

static char tmp[] = "/tmp/lkvm-mods-XXXXXX";

__attribute__((format(printf, 2, 3)))
static void put(const char *content, const char *fmt, ...)
{
	char path[512], cmd[1100];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	if (system(cmd))
		return;
	f = fopen(path, "w");
	if (f) {
		fputs(content, f);
		fclose(f);
	}
}

/* A minimal ELF64 .ko: a .shstrtab and a .modinfo holding @info. */
static void put_ko(const char *path, const char *info, size_t info_len)
{
	static const char shstr[] = "\0.shstrtab\0.modinfo";
	Elf64_Ehdr eh = { 0 };
	Elf64_Shdr sh[3] = { { 0 } };
	size_t off_str = sizeof(eh), off_info = off_str + sizeof(shstr);
	size_t off_sh = (off_info + info_len + 7) & ~7UL;
	char cmd[600];
	FILE *f;

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_REL;
	eh.e_ehsize = sizeof(eh);
	eh.e_shoff = off_sh;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 3;
	eh.e_shstrndx = 1;
	sh[1].sh_name = 1;
	sh[1].sh_type = SHT_STRTAB;
	sh[1].sh_offset = off_str;
	sh[1].sh_size = sizeof(shstr);
	sh[2].sh_name = 11;
	sh[2].sh_type = SHT_PROGBITS;
	sh[2].sh_offset = off_info;
	sh[2].sh_size = info_len;
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	if (system(cmd))
		return;
	f = fopen(path, "w");
	if (!f)
		return;
	fwrite(&eh, sizeof(eh), 1, f);
	fwrite(shstr, sizeof(shstr), 1, f);
	fwrite(info, info_len, 1, f);
	while ((size_t)ftell(f) < off_sh)
		fputc(0, f);
	fwrite(sh, sizeof(sh), 1, f);
	fclose(f);
}

static int pos(const struct mod_list *l, const char *name)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcmp(l->mods[i].name, name))
			return (int)i;
	return -1;
}

static void order_str(const struct mod_list *l, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = 0;
	for (size_t i = 0; i < l->nr && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s%s", i ? " " : "",
				      l->mods[i].name, l->mods[i].builtin ? "(b)" : "");
}

static void test_dep_tree(void)
{
	const char *want[] = { "9p", "9pnet_virtio", "virtio_pci", "virtio-mmio",
			       "overlay", "virtio_console", "virtio" };
	const char *cyc[] = { "a" };
	char dir[256], order[1024];
	struct mod_list l;
	int ret;

	snprintf(dir, sizeof(dir), "%s/dep", tmp);
	put("kernel/fs/9p/9p.ko.xz: kernel/net/9p/9pnet.ko.xz kernel/fs/fscache/fscache.ko.xz kernel/fs/netfs/netfs.ko.xz\n"
	    "kernel/net/9p/9pnet.ko.xz:\n"
	    "kernel/net/9p/9pnet_virtio.ko.xz: kernel/net/9p/9pnet.ko.xz\n"
	    "kernel/fs/fscache/fscache.ko.xz: kernel/fs/netfs/netfs.ko.xz\n"
	    "kernel/fs/netfs/netfs.ko.xz:\n"
	    "kernel/drivers/virtio/virtio_pci.ko.zst: kernel/drivers/virtio/virtio_pci_modern_dev.ko.zst kernel/drivers/virtio/virtio-pci-legacy-dev.ko.gz\n"
	    "kernel/drivers/virtio/virtio_pci_modern_dev.ko.zst:\n"
	    "kernel/drivers/virtio/virtio-pci-legacy-dev.ko.gz:\n"
	    "kernel/drivers/virtio/virtio-mmio.ko:\n",
	    "%s/modules.dep", dir);
	put("kernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio_ring.ko\n"
	    "kernel/drivers/char/virtio_console.ko\n", "%s/modules.builtin", dir);
	put("x", "%s/kernel/fs/9p/9p.ko.xz", dir);
	put("x", "%s/kernel/net/9p/9pnet.ko.xz", dir);
	put("x", "%s/kernel/net/9p/9pnet_virtio.ko.xz", dir);
	put("x", "%s/kernel/fs/fscache/fscache.ko.xz", dir);
	put("x", "%s/kernel/fs/netfs/netfs.ko.xz", dir);
	put("x", "%s/kernel/drivers/virtio/virtio_pci.ko.zst", dir);
	put("x", "%s/kernel/drivers/virtio/virtio_pci_modern_dev.ko.zst", dir);
	put("x", "%s/kernel/drivers/virtio/virtio-pci-legacy-dev.ko.gz", dir);
	put("x", "%s/kernel/drivers/virtio/virtio-mmio.ko", dir);

	ret = modules_resolve(dir, want, sizeof(want) / sizeof(want[0]), &l);
	if (ret)
		diag("  %s", l.err);
	order_str(&l, order, sizeof(order));
	diag("order: %s", order);
	is_str(order, "9pnet netfs fscache 9p 9pnet_virtio virtio_pci_modern_dev "
	       "virtio_pci_legacy_dev virtio_pci virtio_mmio virtio_console(b) virtio(b)",
	       "modules.dep: dependencies first, each once, '-' as '_', built-ins marked");
	is_int(l.nr_missing, 1, "one wanted module is neither file nor built-in");
	is_str(l.nr_missing ? l.missing[0] : NULL, "overlay", "overlay is reported missing");
	ok(pos(&l, "9p") >= 0 && l.mods[pos(&l, "9p")].path &&
	   strstr(l.mods[pos(&l, "9p")].path, "/kernel/fs/9p/9p.ko.xz") &&
	   modules_is_compressed(l.mods[pos(&l, "9p")].path),
	   "a compressed module keeps its file name, marked compressed");
	ok(pos(&l, "virtio_mmio") >= 0 &&
	   !modules_is_compressed(l.mods[pos(&l, "virtio_mmio")].path),
	   "a plain .ko is not compressed");
	ok(pos(&l, "virtio") >= 0 && !l.mods[pos(&l, "virtio")].path,
	   "a built-in has no file");
	modules_free(&l);

	/* The dependency's file went away after depmod ran. */
	unlink(strcat(strcpy(order, dir), "/kernel/fs/netfs/netfs.ko.xz"));
	ret = modules_resolve(dir, want, 1, &l);
	diag("  %s", l.err);
	ok(ret == -ENOENT && strstr(l.err, "netfs.ko.xz"),
	   "a dependency whose file is missing fails, naming it");
	modules_free(&l);

	snprintf(dir, sizeof(dir), "%s/cycle", tmp);
	put("a.ko: b.ko\nb.ko: c.ko\nc.ko: a.ko\n", "%s/modules.dep", dir);
	put("x", "%s/a.ko", dir);
	put("x", "%s/b.ko", dir);
	put("x", "%s/c.ko", dir);
	ret = modules_resolve(dir, cyc, 1, &l);
	diag("  %s", l.err);
	ok(ret == -ELOOP && strstr(l.err, "cycle"), "a dependency cycle is refused");
	modules_free(&l);

	snprintf(dir, sizeof(dir), "%s/nodep", tmp);
	put("a.ko: gone.ko\n", "%s/modules.dep", dir);
	put("x", "%s/a.ko", dir);
	ret = modules_resolve(dir, cyc, 1, &l);
	diag("  %s", l.err);
	ok(ret == -ENOENT && strstr(l.err, "gone"),
	   "a dependency modules.dep names but does not list is missing, named");
	modules_free(&l);

	ret = modules_resolve("/nonexistent/lkvm-mods", cyc, 1, &l);
	ok(ret == -ENOENT && strstr(l.err, "/nonexistent/lkvm-mods"),
	   "a missing tree is -ENOENT, named");
	modules_free(&l);
}

#define INFO(s) s, sizeof(s)

static void test_build_tree(void)
{
	const char *want[] = { "9p", "9pnet_virtio", "overlay", "virtio_pci" };
	char dir[256], path[512], order[1024], deps[64];
	unsigned char junk[128] = { 0 };
	struct mod_list l;
	int ret;

	/* `make modules` output: .ko files next to their sources. */
	snprintf(dir, sizeof(dir), "%s/linux", tmp);
	snprintf(path, sizeof(path), "%s/fs/9p/9p.ko", dir);
	put_ko(path, INFO("license=GPL\0depends=9pnet,fscache\0\0\0name=9p\0vermagic=6.8.0 SMP"));
	snprintf(path, sizeof(path), "%s/net/9p/9pnet.ko", dir);
	put_ko(path, INFO("license=GPL\0depends=\0name=9pnet"));
	snprintf(path, sizeof(path), "%s/net/9p/9pnet_virtio.ko", dir);
	put_ko(path, INFO("depends=9pnet\0name=9pnet_virtio"));
	snprintf(path, sizeof(path), "%s/fs/fscache/fscache.ko", dir);
	put_ko(path, INFO("name=fscache\0depends=netfs"));
	snprintf(path, sizeof(path), "%s/fs/netfs/netfs.ko", dir);
	put_ko(path, INFO("name=netfs"));
	snprintf(path, sizeof(path), "%s/.git/objects/stale/9pnet.ko", dir);
	put("not an ELF", "%s", path);
	put("fs/overlayfs/overlay.ko\ndrivers/virtio/virtio_pci.ko\n",
	    "%s/modules.builtin", dir);
	put("fs/9p/9p.o\n", "%s/modules.order", dir);

	ret = modules_resolve(dir, want, sizeof(want) / sizeof(want[0]), &l);
	if (ret)
		diag("  %s", l.err);
	order_str(&l, order, sizeof(order));
	diag("order: %s", order);
	is_str(order, "9pnet netfs fscache 9p 9pnet_virtio overlay(b) virtio_pci(b)",
	       "a build tree: dependencies from .modinfo, dot-directories skipped");
	is_int(l.nr_missing, 0, "nothing missing");
	modules_free(&l);

	put("x", "%s/drivers/virtio/virtio_mmio.ko.xz", dir);
	ret = modules_resolve(dir, want, 1, &l);
	diag("  %s", l.err);
	ok(ret == -EOPNOTSUPP && strstr(l.err, "modules.dep"),
	   "compressed modules without modules.dep: refused, saying to run depmod");
	modules_free(&l);

	is_int(modules_modinfo_depends(junk, sizeof(junk), deps, sizeof(deps)), -ENOEXEC,
	       "modinfo: not an ELF");
	snprintf(path, sizeof(path), "%s/net/9p/9pnet_virtio.ko", dir);
	{
		FILE *f = fopen(path, "r");
		unsigned char buf[512];
		size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
		Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;

		if (f)
			fclose(f);
		ok(!modules_modinfo_depends(buf, n, deps, sizeof(deps)) &&
		   !strcmp(deps, "9pnet"), "modinfo: depends= read");
		is_int(modules_modinfo_depends(buf, n - 1, deps, sizeof(deps)), -ENOEXEC,
		       "modinfo: section headers cut off by the end: refused");
		eh->e_shoff = ~0ULL - 10;
		is_int(modules_modinfo_depends(buf, n, deps, sizeof(deps)), -ENOEXEC,
		       "modinfo: e_shoff near 2^64: refused, no overflow");
	}
}

/*
 * Debian's package ships no modules.dep (depmod writes it on install), so
 * this is the .modinfo path on the real thing.
 */
static void test_debian_arm64(void)
{
	const char *want[] = { "9p", "9pnet_virtio", "virtio_pci", "virtio_mmio",
			       "virtio_console", "overlay", "virtio", "virtio_ring" };
	const char *cache = getenv("LKVM_CACHE"), *home = getenv("HOME");
	char base[512], cmd[700], tree[600], order[1024];
	struct mod_list l;
	FILE *p;
	int ret, dup = 0, after = 1;

	if (cache)
		snprintf(base, sizeof(base), "%s", cache);
	else if (getenv("XDG_CACHE_HOME"))
		snprintf(base, sizeof(base), "%s/lkvm", getenv("XDG_CACHE_HOME"));
	else
		snprintf(base, sizeof(base), "%s/.cache/lkvm", home ? home : "");
	snprintf(cmd, sizeof(cmd), "ls -d %s/linux-arm64/modtree/lib/modules/*/ 2>/dev/null | head -1", base);
	tree[0] = 0;
	p = popen(cmd, "r");
	if (p) {
		if (!fgets(tree, sizeof(tree), p))
			tree[0] = 0;
		tree[strcspn(tree, "\n")] = 0;
		pclose(p);
	}
	if (!tree[0]) {
		for (int i = 0; i < 6; i++)
			ok(1, "# SKIP no Debian arm64 module tree in %s/linux-arm64/modtree (scripts/arm64-fetch.sh unpacks it)", base);
		return;
	}
	diag("tree: %s", tree);
	ret = modules_resolve(tree, want, sizeof(want) / sizeof(want[0]), &l);
	if (ret)
		diag("  %s", l.err);
	order_str(&l, order, sizeof(order));
	diag("order: %s", order);
	is_int(ret, 0, "Debian arm64: resolves");
	is_int(l.nr_missing, 0, "Debian arm64: every wanted module is there");
	ok(pos(&l, "9pnet") >= 0 && pos(&l, "netfs") >= 0 && pos(&l, "fscache") >= 0 &&
	   pos(&l, "9pnet") < pos(&l, "9p") && pos(&l, "fscache") < pos(&l, "9p") &&
	   pos(&l, "netfs") < pos(&l, "fscache"),
	   "Debian arm64: 9p after 9pnet, and fscache after netfs before it");
	ok(pos(&l, "virtio_pci_modern_dev") >= 0 &&
	   pos(&l, "virtio_pci_modern_dev") < pos(&l, "virtio_pci") &&
	   pos(&l, "virtio_pci_legacy_dev") < pos(&l, "virtio_pci"),
	   "Debian arm64: virtio_pci after its two helpers");
	ok(pos(&l, "virtio") >= 0 && l.mods[pos(&l, "virtio")].builtin &&
	   pos(&l, "virtio_ring") >= 0 && l.mods[pos(&l, "virtio_ring")].builtin,
	   "Debian arm64: virtio and virtio_ring are built in");
	for (size_t i = 0; i < l.nr; i++)
		for (size_t j = i + 1; j < l.nr; j++)
			dup |= !strcmp(l.mods[i].name, l.mods[j].name);
	/* Every file is a plain .ko: CONFIG_MODULE_COMPRESS_NONE on Debian 12. */
	for (size_t i = 0; i < l.nr; i++)
		after &= l.mods[i].builtin || !modules_is_compressed(l.mods[i].path);
	ok(!dup && after, "Debian arm64: no duplicates, every file an uncompressed .ko");
	modules_free(&l);
}

int main(void)
{
	char cmd[128];

	if (!mkdtemp(tmp)) {
		printf("1..0 # SKIP cannot make a temporary directory: %s\n", strerror(errno));
		return 0;
	}
	tap_plan(23);
	test_dep_tree();
	test_build_tree();
	test_debian_arm64();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd))
		diag("could not remove %s", tmp);
	return tap_done();
}

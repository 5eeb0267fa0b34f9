// SPDX-License-Identifier: GPL-2.0
/*
 * libslirp through dlopen() (see net/slirp-dl.h).  Linked at build time,
 * libslirp brings glib and pcre2 into every lkvm process, about 1 MiB of
 * resident pages, for a device few runs ask for.  The types still come
 * from <slirp/libslirp.h>; the soname is the ABI that header belongs to.
 * Loaded from the main thread during set-up, before privileges are
 * dropped and before any seccomp filter, so nothing is opened later.
 */
#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <gnu/lib-names.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "lkvm/log.h"
#include "slirp-dl.h"

#define SLIRP_SONAME	"libslirp.so.0"

static struct slirp_api api;
static const struct slirp_api *loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static const struct {
	const char *name;
	size_t off;
} syms[] = {
#define SYM(f)	{ #f, offsetof(struct slirp_api, f) }
	SYM(slirp_new), SYM(slirp_cleanup), SYM(slirp_input),
	SYM(slirp_pollfds_fill), SYM(slirp_pollfds_poll),
	SYM(slirp_add_hostfwd),
#undef SYM
};

/*
 * The x86 lkvm is static (Makefile): libslirp then runs on the system's
 * own libc.so beside the one linked in, which glibc supports only when
 * both are the same release.  A dynamic lkvm finds its own libc here.
 */
static bool slirp_dl_libc_ok(void)
{
	const char *(*version)(void);
	void *h = dlopen(LIBC_SO, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		pr_err("-n mode=user: cannot load %s: %s", LIBC_SO, dlerror());
		return false;
	}
	version = (const char *(*)(void))dlsym(h, "gnu_get_libc_version");
	if (!version || strcmp(version(), gnu_get_libc_version())) {
		pr_err("-n mode=user: this lkvm was linked with glibc %s but the system's is %s: rebuild lkvm (or build it with STATIC=0)",
		       gnu_get_libc_version(), version ? version() : "unknown");
		return false;
	}
	/* Kept open: libslirp needs it. */
	return true;
}

static void slirp_dl_load(void)
{
	void *h;

	if (!slirp_dl_libc_ok())
		return;
	h = dlopen(SLIRP_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		pr_err("-n mode=user: cannot load %s: %s (Debian package libslirp0)",
		       SLIRP_SONAME, dlerror());
		return;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p = dlsym(h, syms[i].name);

		if (!p) {
			pr_err("-n mode=user: %s has no %s", SLIRP_SONAME,
			       syms[i].name);
			dlclose(h);
			return;
		}
		*(void **)((char *)&api + syms[i].off) = p;
	}
	/* Never closed: slirp's sockets and timers live until lkvm ends. */
	loaded = &api;
}

const struct slirp_api *slirp_dl(void)
{
	pthread_once(&once, slirp_dl_load);
	return loaded;
}

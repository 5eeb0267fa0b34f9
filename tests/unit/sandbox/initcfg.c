// SPDX-License-Identifier: GPL-2.0
/*
 * sandbox/initcfg.c: what lkvm writes for the guest init is what the init
 * reads (argv and environment with newlines, shares, modules, devices),
 * the defaults, and the records the init refuses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "sandbox/initcfg.h"

static int parse_str(const char *recs, size_t len, struct initcfg *cfg)
{
	int ret = initcfg_parse(recs, len, cfg);

	if (ret)
		diag("  %s", cfg->err);
	return ret;
}

#define PARSE(lit, cfg) parse_str(lit, sizeof(lit) - 1, cfg)

int main(void)
{
	struct initcfg cfg;
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	tap_plan(24);

	m = open_memstream(&buf, &len);
	initcfg_put(m, "arg", "sh");
	initcfg_put(m, "arg", "-c");
	initcfg_put(m, "arg", "printf 'a\nb' ; exit 7");
	initcfg_put(m, "env", "MULTI=line1\nline2");
	initcfg_put(m, "env", "EMPTY=");
	initcfg_put(m, "cwd", "/home/me/linux");
	initcfg_put(m, "uid", "1000");
	initcfg_put(m, "gid", "1000");
	initcfg_put(m, "share", "rw lkvm-rw0 /home/me/out dir");
	initcfg_put(m, "share", "ro lkvm-ro0 /srv/data");
	initcfg_put(m, "module", "/lkvm/modules/9pnet.ko");
	initcfg_put(m, "module", "/lkvm/modules/9p.ko.xz");
	initcfg_put(m, "msize", "1048576");
	initcfg_put(m, "status", "/dev/hvc3");
	is_int(initcfg_put(m, "bad=key", "x"), -EINVAL, "a key with '=' cannot be written");
	fclose(m);

	is_int(initcfg_parse(buf, len, &cfg), 0, "what lkvm writes parses");
	ok(cfg.argc == 3 && !strcmp(cfg.argv[2], "printf 'a\nb' ; exit 7") && !cfg.argv[3],
	   "argv, a newline inside, NULL-terminated");
	ok(cfg.nr_env == 2 && !strcmp(cfg.envp[0], "MULTI=line1\nline2") &&
	   !strcmp(cfg.envp[1], "EMPTY=") && !cfg.envp[2], "environment as given");
	is_str(cfg.cwd, "/home/me/linux", "cwd");
	ok(cfg.uid == 1000 && cfg.gid == 1000, "uid and gid");
	ok(cfg.nr_shares == 2 && !strcmp(cfg.shares[0].tag, "lkvm-rw0") &&
	   !strcmp(cfg.shares[0].path, "/home/me/out dir") && !cfg.shares[0].ro &&
	   cfg.shares[1].ro && !strcmp(cfg.shares[1].path, "/srv/data"),
	   "shares: tag, a path with a space, ro/rw");
	ok(cfg.nr_modules == 2 && !strcmp(cfg.modules[1], "/lkvm/modules/9p.ko.xz"),
	   "modules in order");
	is_int(cfg.msize, 1048576, "msize");
	ok(!strcmp(cfg.dev_status, "/dev/hvc3") && !strcmp(cfg.dev_stdout, "/dev/hvc0") &&
	   !strcmp(cfg.dev_stderr, "/dev/hvc1") && !strcmp(cfg.root_tag, "lkvm-root"),
	   "status device as given; stdout, stderr and root tag defaults");
	initcfg_free(&cfg);
	free(buf);

	is_int(PARSE("arg=true\0", &cfg), 0, "a bare arg= is enough");
	ok(cfg.uid == 0 && !strcmp(cfg.cwd, "/") && cfg.msize == 512 * 1024 &&
	   cfg.nr_env == 1 && !strncmp(cfg.envp[0], "PATH=", 5),
	   "defaults: root, /, 512K msize, a PATH");
	initcfg_free(&cfg);

	is_int(PARSE("", &cfg), -EINVAL, "no arg=: refused");
	initcfg_free(&cfg);
	is_int(PARSE("arg=true", &cfg), -EINVAL, "a file cut short (no final NUL): refused");
	initcfg_free(&cfg);
	is_int(PARSE("arg=true\0bogus=1\0", &cfg), -EINVAL, "an unknown key: refused");
	initcfg_free(&cfg);
	is_int(PARSE("arg=true\0noequals\0", &cfg), -EINVAL, "a record without '=': refused");
	initcfg_free(&cfg);
	is_int(PARSE("arg=true\0\0", &cfg), -EINVAL, "an empty record: refused");
	initcfg_free(&cfg);
	is_int(PARSE("arg=true\0uid=4294967295\0", &cfg), -EINVAL, "uid -1 (setresuid's 'unchanged'): refused");
	initcfg_free(&cfg);
	is_int(PARSE("arg=true\0uid=-5\0", &cfg), -EINVAL, "a negative uid: refused");
	initcfg_free(&cfg);
	is_int(PARSE("arg=true\0cwd=relative\0", &cfg), -EINVAL, "a relative cwd: refused");
	initcfg_free(&cfg);
	is_int(PARSE("arg=true\0share=rw tag relative\0", &cfg), -EINVAL, "a relative share path: refused");
	initcfg_free(&cfg);
	is_int(PARSE("arg=true\0share=xx tag /p\0", &cfg), -EINVAL, "a share neither ro nor rw: refused");
	initcfg_free(&cfg);
	is_int(PARSE("arg=true\0env=NOVALUE\0", &cfg), -EINVAL, "env without '=': refused");
	initcfg_free(&cfg);
	is_int(PARSE("arg=true\0msize=100\0", &cfg), -EINVAL, "msize below 4096: refused");
	initcfg_free(&cfg);
	return tap_done();
}

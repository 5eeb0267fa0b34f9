// SPDX-License-Identifier: GPL-2.0
/*
 * The guest init's configuration records (see sandbox/initcfg.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "initcfg.h"

#define DEFAULT_MSIZE	(512 * 1024)

int initcfg_put(FILE *f, const char *key, const char *value)
{
	if (!*key || strchr(key, '=') || strchr(key, '\n'))
		return -EINVAL;
	if (fprintf(f, "%s=%s", key, value) < 0 || fputc(0, f) == EOF)
		return -EIO;
	return 0;
}

__attribute__((format(printf, 2, 3)))
static int bad(struct initcfg *cfg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cfg->err, sizeof(cfg->err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Appends @s to a NULL-terminated list. */
static int push(char ***list, size_t *nr, char *s)
{
	char **v;

	if (*nr >= INITCFG_MAX_LIST)
		return -E2BIG;
	v = realloc(*list, (*nr + 2) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	v[(*nr)++] = s;
	v[*nr] = NULL;
	*list = v;
	return 0;
}

static int number(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || *out > max)
		return -EINVAL;
	return 0;
}

static int share(struct initcfg *cfg, char *v)
{
	struct initcfg_share *s;
	char *tag, *path;
	bool ro;

	if (!strncmp(v, "ro ", 3))
		ro = true;
	else if (!strncmp(v, "rw ", 3))
		ro = false;
	else
		return bad(cfg, "share=%.40s: not 'ro TAG PATH' or 'rw TAG PATH'", v);
	tag = v + 3;
	path = strchr(tag, ' ');
	if (!path || path == tag || path[1] != '/')
		return bad(cfg, "share=%.40s: needs a tag and an absolute path", v);
	*path++ = 0;
	if (cfg->nr_shares >= INITCFG_MAX_LIST)
		return -E2BIG;
	s = realloc(cfg->shares, (cfg->nr_shares + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	cfg->shares = s;
	s[cfg->nr_shares++] = (struct initcfg_share){ tag, path, ro };
	return 0;
}

static int record(struct initcfg *cfg, char *rec)
{
	char *v = strchr(rec, '=');
	unsigned long n;

	if (!v)
		return bad(cfg, "record '%.40s' has no '='", rec);
	*v++ = 0;
	if (!strcmp(rec, "arg"))
		return push(&cfg->argv, &cfg->argc, v);
	if (!strcmp(rec, "env")) {
		if (!strchr(v, '=') || *v == '=')
			return bad(cfg, "env=%.40s: not NAME=VALUE", v);
		return push(&cfg->envp, &cfg->nr_env, v);
	}
	if (!strcmp(rec, "module"))
		return push(&cfg->modules, &cfg->nr_modules, v);
	if (!strcmp(rec, "share"))
		return share(cfg, v);
	if (!strcmp(rec, "uid") || !strcmp(rec, "gid")) {
		/* (uid_t)-1 means "unchanged" to setresuid(): not a user. */
		if (number(v, UINT_MAX - 1, &n))
			return bad(cfg, "%s=%.40s: not a number below 2^32-1", rec, v);
		if (rec[0] == 'u')
			cfg->uid = (uid_t)n;
		else
			cfg->gid = (gid_t)n;
		return 0;
	}
	if (!strcmp(rec, "msize")) {
		if (number(v, 64 * 1024 * 1024, &n) || n < 4096)
			return bad(cfg, "msize=%.40s: not 4096..64M", v);
		cfg->msize = (unsigned int)n;
		return 0;
	}
	if (!strcmp(rec, "root")) {
		if (!*v)
			return bad(cfg, "root= is empty");
		cfg->root_tag = v;
		return 0;
	}
	if (!strcmp(rec, "cwd") || !strcmp(rec, "stdin") ||
	    !strcmp(rec, "stdout") || !strcmp(rec, "stderr") ||
	    !strcmp(rec, "status")) {
		const char **slot = rec[1] == 'w' ? &cfg->cwd :
				    !strcmp(rec, "stdin") ? &cfg->dev_stdin :
				    !strcmp(rec, "stdout") ? &cfg->dev_stdout :
				    !strcmp(rec, "stderr") ? &cfg->dev_stderr :
				    &cfg->dev_status;

		if (v[0] != '/')
			return bad(cfg, "%s=%.40s: not an absolute path", rec, v);
		*slot = v;
		return 0;
	}
	return bad(cfg, "unknown key '%.40s'", rec);
}

int initcfg_parse(const char *data, size_t len, struct initcfg *cfg)
{
	size_t off = 0;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->cwd = "/";
	cfg->root_tag = "lkvm-root";
	cfg->msize = DEFAULT_MSIZE;
	cfg->dev_stdin = cfg->dev_stdout = "/dev/hvc0";
	cfg->dev_stderr = "/dev/hvc1";
	cfg->dev_status = "/dev/hvc2";
	if (len && data[len - 1])
		return bad(cfg, "the last record has no NUL: the file is cut short");
	cfg->buf = malloc(len + 1);
	if (!cfg->buf)
		return -ENOMEM;
	memcpy(cfg->buf, data, len);
	cfg->buf[len] = 0;
	while (off < len) {
		char *rec = cfg->buf + off;

		off += strlen(rec) + 1;
		if (!*rec)
			return bad(cfg, "an empty record");
		ret = record(cfg, rec);
		if (ret == -E2BIG)
			return bad(cfg, "more than %d of one kind of record", INITCFG_MAX_LIST);
		if (ret)
			return ret;
	}
	if (!cfg->argc)
		return bad(cfg, "no arg=: nothing to run");
	if (!cfg->envp) {
		ret = push(&cfg->envp, &cfg->nr_env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
		if (ret)
			return ret;
	}
	return 0;
}

void initcfg_free(struct initcfg *cfg)
{
	free(cfg->argv);
	free(cfg->envp);
	free(cfg->shares);
	free(cfg->modules);
	free(cfg->buf);
	cfg->argv = cfg->envp = cfg->modules = NULL;
	cfg->shares = NULL;
	cfg->buf = NULL;
}

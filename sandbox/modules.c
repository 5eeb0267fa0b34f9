// SPDX-License-Identifier: GPL-2.0
/*
 * Module load order for the sandbox's initramfs (see sandbox/modules.h).
 *
 * The tree is indexed once (name -> file, name -> the names it depends
 * on), then each wanted module is visited depth first: dependencies are
 * appended before the module, a module already appended is not appended
 * again, and reaching a module that is still being visited is a cycle,
 * which modprobe refuses too.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules.h"

enum { UNSEEN, VISITING, DONE };

struct mod {
	char *name;
	char *path;	/* absolute host path */
	char **deps;	/* names */
	size_t nr_deps;
	int state;
};

struct index {
	const char *tree;
	struct mod *mods;
	size_t nr, cap;
	char **builtin;
	size_t nr_builtin;
	bool have_dep;
	struct mod_list *out;
	int err;	/* first error of a tree walk */
};

static const char *const suffixes[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz" };

__attribute__((format(printf, 2, 3)))
static void set_err(struct mod_list *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->err, sizeof(out->err), fmt, ap);
	va_end(ap);
}

bool modules_is_compressed(const char *path)
{
	size_t len = strlen(path);

	return len > 3 && strcmp(path + len - 3, ".ko") != 0;
}

/* "kernel/fs/9p/9p.ko.xz" -> "9p"; NULL if it is no module file name. */
static char *name_of(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t blen, i;

	base = base ? base + 1 : path;
	blen = strlen(base);
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t slen = strlen(suffixes[i]);
		char *name, *p;

		if (blen <= slen || strcmp(base + blen - slen, suffixes[i]))
			continue;
		name = strndup(base, blen - slen);
		for (p = name; p && *p; p++)
			if (*p == '-')
				*p = '_';
		return name;
	}
	return NULL;
}

static char *norm(const char *s, size_t len)
{
	char *n = strndup(s, len), *p;

	for (p = n; p && *p; p++)
		if (*p == '-')
			*p = '_';
	return n;
}

static struct mod *find(struct index *ix, const char *name)
{
	for (size_t i = 0; i < ix->nr; i++)
		if (!strcmp(ix->mods[i].name, name))
			return &ix->mods[i];
	return NULL;
}

static bool is_builtin(const struct index *ix, const char *name)
{
	for (size_t i = 0; i < ix->nr_builtin; i++)
		if (!strcmp(ix->builtin[i], name))
			return true;
	return false;
}

static int add_dep(struct mod *m, const char *name, size_t len)
{
	char **d = realloc(m->deps, (m->nr_deps + 1) * sizeof(*d));

	if (!d)
		return -ENOMEM;
	m->deps = d;
	d[m->nr_deps] = norm(name, len);
	if (!d[m->nr_deps])
		return -ENOMEM;
	m->nr_deps++;
	return 0;
}

/* Takes @name and @path; a second file of the same name is ignored. */
static int add_mod(struct index *ix, char *name, char *path, struct mod **res)
{
	struct mod *m = find(ix, name);

	*res = NULL;
	if (m) {
		free(name);
		free(path);
		return 0;
	}
	if (ix->nr == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 64;
		struct mod *v = realloc(ix->mods, cap * sizeof(*v));

		if (!v) {
			free(name);
			free(path);
			return -ENOMEM;
		}
		ix->mods = v;
		ix->cap = cap;
	}
	m = &ix->mods[ix->nr++];
	memset(m, 0, sizeof(*m));
	m->name = name;
	m->path = path;
	*res = m;
	return 0;
}

static char *tree_path(const struct index *ix, const char *rel)
{
	char *p;

	if (rel[0] == '/')
		return strdup(rel);
	if (asprintf(&p, "%s/%s", ix->tree, rel) < 0)
		return NULL;
	return p;
}

/* modules.dep: "kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko ..." */
static int read_dep(struct index *ix, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	int ret = 0;

	while (!ret && getline(&line, &cap, f) >= 0) {
		char *colon = strchr(line, ':'), *p, *name, *path;
		struct mod *m;

		if (!colon)
			continue;
		*colon = 0;
		name = name_of(line);
		if (!name)
			continue;
		path = tree_path(ix, line);
		if (!path) {
			free(name);
			ret = -ENOMEM;
			break;
		}
		ret = add_mod(ix, name, path, &m);
		if (ret || !m)
			continue;
		for (p = colon + 1; *p;) {
			size_t n;

			p += strspn(p, " \t\n");
			n = strcspn(p, " \t\n");
			if (!n)
				break;
			{
				char *dn, *tok = strndup(p, n);

				dn = tok ? name_of(tok) : NULL;
				free(tok);
				if (!dn) {
					ret = tok ? 0 : -ENOMEM;
					p += n;
					continue;
				}
				ret = add_dep(m, dn, strlen(dn));
				free(dn);
			}
			if (ret)
				break;
			p += n;
		}
	}
	free(line);
	return ret;
}

int modules_modinfo_depends(const void *buf, size_t len, char *deps,
			    size_t deps_len)
{
	const unsigned char *b = buf;
	const Elf64_Ehdr *eh = buf;
	const Elf64_Shdr *sh, *strsh;
	size_t i;

	if (deps_len)
		deps[0] = 0;
	if (len < sizeof(*eh) || memcmp(b, ELFMAG, SELFMAG) ||
	    b[EI_CLASS] != ELFCLASS64 || b[EI_DATA] != ELFDATA2LSB)
		return -ENOEXEC;
	if (eh->e_shentsize != sizeof(Elf64_Shdr) || !eh->e_shnum ||
	    eh->e_shoff > len ||
	    (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > len - eh->e_shoff ||
	    eh->e_shstrndx >= eh->e_shnum)
		return -ENOEXEC;
	sh = (const Elf64_Shdr *)(b + eh->e_shoff);
	strsh = &sh[eh->e_shstrndx];
	if (strsh->sh_offset > len || strsh->sh_size > len - strsh->sh_offset)
		return -ENOEXEC;
	for (i = 0; i < eh->e_shnum; i++) {
		const char *s, *end;

		if (sh[i].sh_name >= strsh->sh_size ||
		    strnlen((const char *)b + strsh->sh_offset + sh[i].sh_name,
			    strsh->sh_size - sh[i].sh_name) ==
		    strsh->sh_size - sh[i].sh_name ||
		    strcmp((const char *)b + strsh->sh_offset + sh[i].sh_name,
			   ".modinfo"))
			continue;
		if (sh[i].sh_offset > len || sh[i].sh_size > len - sh[i].sh_offset)
			return -ENOEXEC;
		s = (const char *)b + sh[i].sh_offset;
		end = s + sh[i].sh_size;
		/* NUL-separated "key=value" strings; padding NULs between. */
		while (s < end) {
			size_t n = strnlen(s, (size_t)(end - s));

			if (n > 8 && !strncmp(s, "depends=", 8)) {
				if (n - 8 >= deps_len)
					return -ENAMETOOLONG;
				memcpy(deps, s + 8, n - 8);
				deps[n - 8] = 0;
				return 0;
			}
			s += n + 1;
		}
		return 0;
	}
	return -ENOEXEC;
}

static int read_file(const char *path, unsigned char **buf, size_t *len)
{
	struct stat st;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	*buf = NULL;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		ret = -ENOMEM;
		goto out;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, *buf + done, (size_t)st.st_size - done);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			ret = n ? -errno : -EIO;
			goto out;
		}
		done += (size_t)n;
	}
	*len = done;
out:
	if (ret) {
		free(*buf);
		*buf = NULL;
	}
	close(fd);
	return ret;
}

/* nftw has no user pointer: one walk at a time (lkvm resolves once). */
static struct index *walk_ix;

static int walk_one(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	struct index *ix = walk_ix;
	const char *base = path + ftw->base;
	unsigned char *buf;
	char deps[4096], *name, *p, *copy;
	struct mod *m;
	size_t len = 0;
	int ret;

	(void)st;
	if (type == FTW_D && ftw->level > 0 && base[0] == '.')
		return FTW_SKIP_SUBTREE;	/* .git, .tmp_versions */
	if (type != FTW_F)
		return FTW_CONTINUE;
	name = name_of(base);
	if (!name)
		return FTW_CONTINUE;
	if (modules_is_compressed(base)) {
		set_err(ix->out, "%s is compressed and the tree has no modules.dep to say what it needs (run depmod, or give uncompressed modules)", path);
		free(name);
		ix->err = -EOPNOTSUPP;
		return FTW_STOP;
	}
	copy = strdup(path);
	ret = copy ? add_mod(ix, name, copy, &m) : -ENOMEM;
	if (!copy)
		free(name);
	if (ret || !m)
		goto done;
	ret = read_file(path, &buf, &len);
	if (ret) {
		set_err(ix->out, "cannot read %s: %s", path, strerror(-ret));
		goto done;
	}
	ret = modules_modinfo_depends(buf, len, deps, sizeof(deps));
	free(buf);
	if (ret) {
		set_err(ix->out, "%s: no readable .modinfo (not a 64-bit little-endian kernel module)", path);
		goto done;
	}
	for (p = deps; *p && !ret;) {
		size_t n = strcspn(p, ",");

		if (n)
			ret = add_dep(m, p, n);
		p += n + (p[n] == ',');
	}
done:
	if (ret) {
		ix->err = ret;
		return FTW_STOP;
	}
	return FTW_CONTINUE;
}

static int read_builtin(struct index *ix, const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	int ret = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (getline(&line, &cap, f) >= 0) {
		char *name, **v;

		line[strcspn(line, "\n")] = 0;
		name = name_of(line);
		if (!name)
			continue;
		v = realloc(ix->builtin, (ix->nr_builtin + 1) * sizeof(*v));
		if (!v) {
			free(name);
			ret = -ENOMEM;
			break;
		}
		ix->builtin = v;
		v[ix->nr_builtin++] = name;
	}
	free(line);
	fclose(f);
	return ret;
}

static int append(struct mod_list *out, const char *name, const char *path)
{
	struct mod_entry *v = realloc(out->mods, (out->nr + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	out->mods = v;
	v[out->nr].name = strdup(name);
	v[out->nr].path = path ? strdup(path) : NULL;
	v[out->nr].builtin = !path;
	if (!v[out->nr].name || (path && !v[out->nr].path)) {
		free(v[out->nr].name);
		free(v[out->nr].path);
		return -ENOMEM;
	}
	out->nr++;
	return 0;
}

static bool listed(const struct mod_list *out, const char *name)
{
	for (size_t i = 0; i < out->nr; i++)
		if (!strcmp(out->mods[i].name, name))
			return true;
	return false;
}

static int visit(struct index *ix, const char *name, const char *needed_by)
{
	struct mod *m = find(ix, name);
	int ret;

	if (!m) {
		if (is_builtin(ix, name)) {
			if (listed(ix->out, name))
				return 0;
			return append(ix->out, name, NULL);
		}
		if (!needed_by) {
			char **v = realloc(ix->out->missing,
					   (ix->out->nr_missing + 1) * sizeof(*v));

			if (!v)
				return -ENOMEM;
			ix->out->missing = v;
			v[ix->out->nr_missing] = strdup(name);
			if (!v[ix->out->nr_missing])
				return -ENOMEM;
			ix->out->nr_missing++;
			return 0;
		}
		set_err(ix->out, "module %s needs %s, which is neither in %s nor built in",
			needed_by, name, ix->tree);
		return -ENOENT;
	}
	if (m->state == DONE)
		return 0;
	if (m->state == VISITING) {
		set_err(ix->out, "dependency cycle: %s needs %s, which needs it back",
			needed_by ? needed_by : name, name);
		return -ELOOP;
	}
	m->state = VISITING;
	for (size_t i = 0; i < m->nr_deps; i++) {
		ret = visit(ix, m->deps[i], m->name);
		if (ret)
			return ret;
	}
	m->state = DONE;
	if (access(m->path, R_OK)) {
		ret = -errno;
		set_err(ix->out, "%s: %s", m->path, strerror(errno));
		return ret;
	}
	return append(ix->out, m->name, m->path);
}

int modules_resolve(const char *tree, const char *const *wanted, size_t nr,
		    struct mod_list *out)
{
	struct index ix = { .tree = tree, .out = out };
	struct stat st;
	char *path = NULL;
	FILE *f;
	int ret;

	memset(out, 0, sizeof(*out));
	if (stat(tree, &st))
		ret = -errno;
	else
		ret = S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	if (ret) {
		set_err(out, "module tree %s: %s", tree, strerror(-ret));
		return ret;
	}
	if (asprintf(&path, "%s/modules.builtin", tree) < 0)
		return -ENOMEM;
	ret = read_builtin(&ix, path);
	free(path);
	if (ret) {
		set_err(out, "%s/modules.builtin: %s", tree, strerror(-ret));
		goto out;
	}
	if (asprintf(&path, "%s/modules.dep", tree) < 0) {
		ret = -ENOMEM;
		goto out;
	}
	f = fopen(path, "re");
	free(path);
	if (f) {
		ix.have_dep = true;
		ret = read_dep(&ix, f);
		fclose(f);
	} else {
		walk_ix = &ix;
		if (nftw(tree, walk_one, 16, FTW_PHYS | FTW_ACTIONRETVAL) < 0) {
			ret = -errno;
			set_err(out, "walking %s: %s", tree, strerror(errno));
		} else {
			ret = ix.err;
		}
		walk_ix = NULL;
	}
	if (ret)
		goto out;
	for (size_t i = 0; i < nr && !ret; i++) {
		char *n = norm(wanted[i], strlen(wanted[i]));

		ret = n ? visit(&ix, n, NULL) : -ENOMEM;
		free(n);
	}
out:
	if (ret == -ENOMEM && !out->err[0])
		set_err(out, "out of memory");
	for (size_t i = 0; i < ix.nr; i++) {
		free(ix.mods[i].name);
		free(ix.mods[i].path);
		for (size_t j = 0; j < ix.mods[i].nr_deps; j++)
			free(ix.mods[i].deps[j]);
		free(ix.mods[i].deps);
	}
	free(ix.mods);
	for (size_t i = 0; i < ix.nr_builtin; i++)
		free(ix.builtin[i]);
	free(ix.builtin);
	return ret;
}

void modules_free(struct mod_list *list)
{
	for (size_t i = 0; i < list->nr; i++) {
		free(list->mods[i].name);
		free(list->mods[i].path);
	}
	free(list->mods);
	for (size_t i = 0; i < list->nr_missing; i++)
		free(list->missing[i]);
	free(list->missing);
	list->mods = NULL;
	list->missing = NULL;
	list->nr = list->nr_missing = 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The qcow2 L2 table cache: a handful of tables, least recently used one
 * evicted.  It is write-through (the backend writes each changed entry to
 * the file itself), so eviction never writes and a crash never finds
 * dirty metadata only in memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

int qcow2_l2_cache_init(struct qcow2_l2_cache *c, unsigned int nr,
			size_t table_bytes,
			int (*load)(void *ctx, u64 off, void *buf, size_t len),
			void *ctx)
{
	*c = (struct qcow2_l2_cache){
		.nr = nr, .table_bytes = table_bytes, .load = load, .ctx = ctx,
	};
	c->e = calloc(nr, sizeof(*c->e));
	if (!c->e)
		return -ENOMEM;
	for (unsigned int i = 0; i < nr; i++) {
		c->e[i].table = malloc(table_bytes);
		if (!c->e[i].table) {
			qcow2_l2_cache_free(c);
			return -ENOMEM;
		}
	}
	return 0;
}

void qcow2_l2_cache_free(struct qcow2_l2_cache *c)
{
	if (c->e)
		for (unsigned int i = 0; i < c->nr; i++)
			free(c->e[i].table);
	free(c->e);
	c->e = NULL;
}

static struct qcow2_l2_entry *find(struct qcow2_l2_cache *c, u64 offset)
{
	for (unsigned int i = 0; i < c->nr; i++)
		if (c->e[i].offset == offset)
			return &c->e[i];
	return NULL;
}

static struct qcow2_l2_entry *victim(struct qcow2_l2_cache *c)
{
	struct qcow2_l2_entry *v = &c->e[0];

	for (unsigned int i = 0; i < c->nr; i++) {
		if (!c->e[i].offset)
			return &c->e[i];
		if (c->e[i].last_use < v->last_use)
			v = &c->e[i];
	}
	return v;
}

u64 *qcow2_l2_cache_get(struct qcow2_l2_cache *c, u64 offset, int *err)
{
	struct qcow2_l2_entry *e = find(c, offset);
	int ret;

	if (e) {
		c->hits++;
	} else {
		c->misses++;
		e = victim(c);
		e->offset = 0;
		ret = c->load(c->ctx, offset, e->table, c->table_bytes);
		if (ret) {
			*err = ret;
			return NULL;
		}
		e->offset = offset;
	}
	e->last_use = ++c->clock;
	return e->table;
}

u64 *qcow2_l2_cache_new(struct qcow2_l2_cache *c, u64 offset)
{
	struct qcow2_l2_entry *e = find(c, offset);

	if (!e)
		e = victim(c);
	memset(e->table, 0, c->table_bytes);
	e->offset = offset;
	e->last_use = ++c->clock;
	return e->table;
}

void qcow2_l2_cache_drop(struct qcow2_l2_cache *c, u64 offset)
{
	struct qcow2_l2_entry *e = find(c, offset);

	if (e && offset)
		e->offset = 0;
}

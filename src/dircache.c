/*
 * kruispunt - a small, bounded cache of directory result sets (dircache.h).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dircache.h"
#include "xmalloc.h"

#define CELL_NULL	SIZE_MAX

struct dircache_rows {
	atomic_uint	 refs;		/* the cache's and the readers' */
	unsigned int	 ncols;
	size_t		 nrows;
	size_t		 cap;		/* rows the offsets have room for */
	size_t		*off;		/* nrows * ncols offsets into buf */
	char		*buf;
	size_t		 len;
	size_t		 size;
};

struct dircache_slot {
	char			*key;
	uint64_t		 hash;
	int64_t			 loaded_us;
	struct dircache_rows	*rows;
};

struct dircache {
	pthread_mutex_t		 lock;	/* the slots; rows are immutable */
	struct dircache_slot	*slot;
	size_t			 nslots;
	size_t			 ways;		/* slots per set */
	size_t			 nsets;
	int64_t			 ttl_us;
	unsigned int		 generation;
	size_t			 hits;
	size_t			 misses;
};

/* Bumped to empty every cache (SIGHUP: the directory may have changed). */
static atomic_uint dircache_generation;

/* FNV-1a, 64 bits, with a final mix. */
static uint64_t
dircache_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	/* mixed, so that keys differing in their last digits spread over
	 * the sets (FNV-1a's low bits alone clustered them) */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/* The first slot of the set of hash h. */
static struct dircache_slot *
dircache_set(struct dircache *c, uint64_t h)
{
	return &c->slot[(h % c->nsets) * c->ways];
}

/* A cache of slots entries, each valid for ttl_us microseconds. */
struct dircache *
dircache_new(size_t slots, int64_t ttl_us)
{
	struct dircache *c = xcalloc(1, sizeof(*c));

	c->ways = slots >= DIRCACHE_WAYS ? DIRCACHE_WAYS : slots > 0 ? slots : 1;
	c->nsets = (slots > 0 ? slots : 1) / c->ways;
	c->nslots = c->nsets * c->ways;
	c->slot = xcalloc(c->nslots, sizeof(*c->slot));
	c->ttl_us = ttl_us;
	c->generation = atomic_load(&dircache_generation);
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

static void
dircache_slot_clear(struct dircache_slot *s)
{
	free(s->key);
	dircache_rows_release(s->rows);
	memset(s, 0, sizeof(*s));
}

static void
dircache_clear(struct dircache *c)
{
	size_t	i;

	for (i = 0; i < c->nslots; i++)
		dircache_slot_clear(&c->slot[i]);
}

/* Free the cache and every result set in it. */
void
dircache_free(struct dircache *c)
{
	if (c == NULL)
		return;
	dircache_clear(c);
	pthread_mutex_destroy(&c->lock);
	free(c->slot);
	free(c);
}

/* Empty every cache at its owner's next lookup. */
void
dircache_flush_all(void)
{
	atomic_fetch_add(&dircache_generation, 1);
}

/* The result set cached under key and still fresh at now_us, or NULL; the
 * caller holds a reference to it (dircache_rows_release when done). */
struct dircache_rows *
dircache_get(struct dircache *c, const char *key, int64_t now_us)
{
	unsigned int		 gen = atomic_load(&dircache_generation);
	uint64_t		 h = dircache_hash(key);
	struct dircache_slot	*s;
	struct dircache_rows	*rows = NULL;

	pthread_mutex_lock(&c->lock);
	if (gen != c->generation) {
		dircache_clear(c);
		c->generation = gen;
	}
	for (s = dircache_set(c, h); s < dircache_set(c, h) + c->ways; s++)
		if (s->key != NULL && s->hash == h && strcmp(s->key, key) == 0) {
			if (now_us < s->loaded_us ||
			    now_us - s->loaded_us >= c->ttl_us)
				break;
			rows = s->rows;
			atomic_fetch_add(&rows->refs, 1);
			break;
		}
	if (rows != NULL)
		c->hits++;
	else
		c->misses++;
	pthread_mutex_unlock(&c->lock);
	return rows;
}

/* An empty result set of ncols columns, to fill with dircache_rows_add;
 * the caller holds the one reference. */
struct dircache_rows *
dircache_rows_new(unsigned int ncols)
{
	struct dircache_rows *r = xcalloc(1, sizeof(*r));

	r->refs = 1;
	r->ncols = ncols;
	return r;
}

/* Append a row of ncols cells (NULL for SQL NULL), copied. */
void
dircache_rows_add(struct dircache_rows *r, const char *const *cells)
{
	unsigned int	i;

	if (r->nrows == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 4;
		r->off = xreallocarray(r->off, r->cap * (r->ncols ? r->ncols : 1),
		    sizeof(*r->off));
	}
	for (i = 0; i < r->ncols; i++) {
		size_t *o = &r->off[r->nrows * r->ncols + i];
		size_t	n;

		if (cells[i] == NULL) {
			*o = CELL_NULL;
			continue;
		}
		n = strlen(cells[i]) + 1;
		if (r->len + n > r->size) {
			while (r->len + n > r->size)
				r->size = r->size ? r->size * 2 : 256;
			r->buf = xreallocarray(r->buf, r->size, 1);
		}
		memcpy(r->buf + r->len, cells[i], n);
		*o = r->len;
		r->len += n;
	}
	r->nrows++;
}

/* Drop a reference; the last one frees the result set. */
void
dircache_rows_release(struct dircache_rows *r)
{
	if (r == NULL || atomic_fetch_sub(&r->refs, 1) > 1)
		return;
	free(r->off);
	free(r->buf);
	free(r);
}

/* Keep rows under key, loaded at now_us: the cache takes a reference of its
 * own (the caller keeps its one) and drops the one of the entry it replaces. */
void
dircache_put(struct dircache *c, const char *key, struct dircache_rows *rows,
    int64_t now_us)
{
	uint64_t		 h = dircache_hash(key);
	struct dircache_slot	*set = dircache_set(c, h), *s, *victim = set;
	char			*copy = xstrdup(key);

	pthread_mutex_lock(&c->lock);
	/* the key's own slot, else a free one, else the oldest */
	for (s = set; s < set + c->ways; s++) {
		if (s->key != NULL && s->hash == h && strcmp(s->key, key) == 0) {
			victim = s;
			break;
		}
		if (victim->key != NULL && (s->key == NULL ||
		    s->loaded_us < victim->loaded_us))
			victim = s;
	}
	s = victim;
	dircache_slot_clear(s);
	s->key = copy;
	s->hash = h;
	s->loaded_us = now_us;
	s->rows = rows;
	atomic_fetch_add(&rows->refs, 1);
	pthread_mutex_unlock(&c->lock);
}

/* The number of rows. */
size_t
dircache_nrows(const struct dircache_rows *r)
{
	return r->nrows;
}

/* Cell (row, col), or NULL for SQL NULL or out of range. */
const char *
dircache_cell(const struct dircache_rows *r, size_t row, unsigned int col)
{
	size_t	o;

	if (row >= r->nrows || col >= r->ncols)
		return NULL;
	o = r->off[row * r->ncols + col];
	return o == CELL_NULL ? NULL : r->buf + o;
}

/* Lookups answered from the cache, and those that were not. */
size_t
dircache_hits(struct dircache *c)
{
	size_t	n;

	pthread_mutex_lock(&c->lock);
	n = c->hits;
	pthread_mutex_unlock(&c->lock);
	return n;
}

size_t
dircache_misses(struct dircache *c)
{
	size_t	n;

	pthread_mutex_lock(&c->lock);
	n = c->misses;
	pthread_mutex_unlock(&c->lock);
	return n;
}

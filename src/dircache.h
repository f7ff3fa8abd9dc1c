/*
 * kruispunt - a small, bounded cache of directory result sets.
 *
 * The request path reads the same few rows of the small tables (services,
 * qualities, authorisations, availability, certificates, institutions) for
 * almost every exchange; only the person directory is large and varied. A
 * worker keeps the result sets of the small-table lookups for a short time
 * (the [database] directory_cache duration) so that a consult costs one
 * query (the person's files) instead of five. Bounded: a fixed number of
 * slots in sets of DIRCACHE_WAYS, the set chosen by a hash of the key; a new
 * entry takes a free slot of its set, else the one loaded longest ago. (With
 * one slot per set, two keys a consult needs every time that hashed alike
 * pushed each other out on every exchange: a person with files at 57
 * institutions cost 8 institution queries per consult.)
 *
 * Thread-safe: the workers of a hub share one cache (directory.c), so that
 * a certificate or an authorisation is read once per period for the whole
 * process, not once per worker (with 32 workers and 51 senders, per-worker
 * caches of 2 s read a certificate for 8 exchanges in 10). A lock guards
 * the slots only; a result set is never changed once put, and its
 * reference count is atomic, so readers use it without the lock. SIGHUP
 * (and dircache_flush_all) empties every cache at its next lookup.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_DIRCACHE_H
#define KP_DIRCACHE_H

#include <stddef.h>
#include <stdint.h>

struct dircache;
struct dircache_rows;

#define DIRCACHE_WAYS	4	/* slots per set */

struct dircache	*dircache_new(size_t slots, int64_t ttl_us);
void		 dircache_free(struct dircache *);
struct dircache_rows *dircache_get(struct dircache *, const char *key,
		    int64_t now_us);
struct dircache_rows *dircache_rows_new(unsigned int ncols);
void		 dircache_rows_add(struct dircache_rows *,
		    const char *const *cells);
void		 dircache_rows_release(struct dircache_rows *);
void		 dircache_put(struct dircache *, const char *key,
		    struct dircache_rows *, int64_t now_us);
size_t		 dircache_nrows(const struct dircache_rows *);
const char	*dircache_cell(const struct dircache_rows *, size_t row,
		    unsigned int col);
void		 dircache_flush_all(void);
size_t		 dircache_hits(struct dircache *);
size_t		 dircache_misses(struct dircache *);

#endif

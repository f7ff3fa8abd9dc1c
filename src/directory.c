/*
 * kruispunt - the reference directory in MariaDB: the lookups of the
 * request path, one connection and one set of prepared statements per worker.
 *
 * Each lookup is one prepared statement that an index answers (primary key,
 * or the leading columns of a secondary key): the cost of a decision does not
 * grow with the size of the person directory beyond a B-tree's log.
 * tests/directory.test EXPLAINs every statement of dir_queries[] on a
 * filled directory and fails on a full scan.
 *
 * The result sets of the small tables (everything but the person
 * directory and the writes) are kept, in one cache the workers share, for
 * [database] directory_cache (dircache.h): a change to an authorisation, a service or
 * a certificate reaches a running hub within that time, at once on SIGHUP.
 *
 * A connection lost between two exchanges (server restart, network) is
 * re-opened and the statements prepared again, once per call; a second
 * failure is reported, and the hub fails closed.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errmsg.h>
#include <mysql.h>

#include "config.h"
#include "db.h"
#include "dircache.h"
#include "directory.h"
#include "xmalloc.h"

/* Up to this many institutions, a worker with a cache keeps the whole table
 * (id, sector, endpoint, active) and finds a person's institutions in it by
 * binary search; a larger table is read an institution at a time. */
#define DIR_INSTITUTIONS_MAX		5000
#define DIR_INSTITUTIONS_LIMIT_TEXT	"5001"	/* one more: too many? */

enum dir_query_id {
	Q_PERSON_FILES,
	Q_AUTHS_FOR,
	Q_AUTHS_SERVICE,
	Q_AVAILABILITY,
	Q_SERVICE,
	Q_MUTATION_TYPE,
	Q_SUBSCRIBERS,
	Q_CERTIFICATE,
	Q_QUALITY,
	Q_INSTITUTION,
	Q_CERT_BY_SKI,
	Q_CERT_BY_THUMBPRINT,
	Q_CERT_BY_SERIAL,
	Q_LIST,
	Q_UNREGISTER,
	Q_REGISTER,		/* from here: inserts, no lookup to EXPLAIN */
	Q_MESSAGE_SEEN,
	Q_PURGE_SEEN,
	Q_INSTITUTIONS,		/* the whole small table, for the cache */
	Q_COUNT
};

/*
 * An expired claim is taken over, ticket first: MariaDB assigns left to
 * right, and the ticket's test must still see the old expiry.
 */
#define CLAIM_EXPIRED	"ticket = IF(expires_at < UTC_TIMESTAMP(6), " \
	"VALUES(ticket), ticket), expires_at = IF(expires_at < " \
	"UTC_TIMESTAMP(6), VALUES(expires_at), expires_at)"

static const struct {
	const char	*name;
	const char	*sql;
} dir_queries[Q_COUNT] = {
	[Q_PERSON_FILES] = { "person files of a person",
	    "SELECT institution, quality, begin_date, end_date FROM person_file "
	    "WHERE ssin = ? ORDER BY institution, quality, begin_date" },
	[Q_AUTHS_FOR] = { "authorisations for a service and quality",
	    "SELECT id, requester_sector, requester_institution, quality, "
	    "service, legal_basis, valid_from, valid_to FROM authorization "
	    "WHERE service = ? AND quality = ? ORDER BY id" },
	[Q_AUTHS_SERVICE] = { "authorisations for a service",
	    "SELECT id, requester_sector, requester_institution, quality, "
	    "service, legal_basis, valid_from, valid_to FROM authorization "
	    "WHERE service = ? ORDER BY id" },
	[Q_AVAILABILITY] = { "availability of a service",
	    "SELECT service, sector, institution, quality FROM availability "
	    "WHERE service = ? ORDER BY id" },
	[Q_SERVICE] = { "service",
	    "SELECT code FROM service WHERE code = ?" },
	[Q_MUTATION_TYPE] = { "mutation type",
	    "SELECT service, source FROM mutation_type WHERE code = ?" },
	[Q_SUBSCRIBERS] = { "subscribers of a mutation type",
	    "SELECT institution FROM subscription WHERE mutation_type = ? "
	    "ORDER BY institution" },
	[Q_CERTIFICATE] = { "institution of a certificate",
	    "SELECT i.id, i.name, i.sector, i.endpoint, i.active, c.revoked "
	    "FROM certificate c JOIN institution i ON i.id = c.institution "
	    "WHERE c.fingerprint = ?" },
	[Q_QUALITY] = { "quality",
	    "SELECT sector FROM quality WHERE code = ?" },
	[Q_INSTITUTION] = { "institution",
	    "SELECT id, name, sector, endpoint, active FROM institution "
	    "WHERE id = ?" },
	[Q_CERT_BY_SKI] = { "certificate by subject key identifier",
	    "SELECT pem, issuer FROM certificate WHERE ski = ? AND NOT revoked" },
	[Q_CERT_BY_THUMBPRINT] = { "certificate by thumbprint",
	    "SELECT pem, issuer FROM certificate WHERE thumbprint_sha1 = ? AND "
	    "NOT revoked" },
	[Q_CERT_BY_SERIAL] = { "certificate by serial number",
	    "SELECT pem, issuer FROM certificate WHERE serial = ? AND "
	    "NOT revoked" },
	[Q_REGISTER] = { "register a file",
	    "INSERT INTO person_file (ssin, institution, quality, begin_date, "
	    "end_date) VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
	    "end_date = VALUES(end_date)" },
	[Q_UNREGISTER] = { "end a file",
	    "UPDATE person_file SET end_date = ? WHERE ssin = ? AND "
	    "institution = ? AND quality = ? AND begin_date = ?" },
	[Q_LIST] = { "files of an institution on a person",
	    "SELECT quality, begin_date, end_date FROM person_file WHERE "
	    "ssin = ? AND institution = ? ORDER BY quality, begin_date" },
	[Q_MESSAGE_SEEN] = { "remember a MessageId",
	    "INSERT INTO message_seen (sender, message_id, expires_at, ticket) "
	    "VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE " CLAIM_EXPIRED },
	[Q_INSTITUTIONS] = { "every institution",
	    "SELECT id, sector, endpoint, active FROM institution ORDER BY id "
	    "LIMIT " DIR_INSTITUTIONS_LIMIT_TEXT },
	[Q_PURGE_SEEN] = { "forget expired MessageIds",
	    "DELETE FROM message_seen WHERE expires_at < UTC_TIMESTAMP(6) "
	    "ORDER BY expires_at LIMIT " DIR_PURGE_LIMIT_TEXT },
};

/* Where the rows of statement id come from: the cache or the server. */
struct dir_cursor {
	struct dircache_rows	*rows;	/* a reference, or NULL: q[id] */
	size_t			 next;
	size_t			 cur;
};

struct directory {
	const struct kp_config	*cf;
	MYSQL			*db;
	struct db_query		 q[Q_COUNT];
	struct dircache		*cache;	/* NULL: no caching */
	struct dir_cursor	 cursor[Q_COUNT];
	int			 lost;	/* the last dir_retry() lost a connection */
	char			 err[512];
};

#define DIR_CACHE_SLOTS	16384	/* 4,096 sets of 4, shared by the workers */

/*
 * The caches the directories of a process share (the hub's workers, the
 * delivery workers): one reading of a small-table row serves them all for
 * the cache period. One cache per period, made by the first directory_open
 * with that period and freed by the last directory_close; past
 * DIR_SHARED_MAX different periods a directory keeps a cache of its own.
 */
#define DIR_SHARED_MAX	4
static pthread_mutex_t	 dir_shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct dircache	*cache;
	int64_t		 ttl_us;
	int		 users;
} dir_shared[DIR_SHARED_MAX];

static struct dircache *
dir_cache_acquire(int64_t ttl_us)
{
	struct dircache	*c = NULL;
	int		 i, free_slot = -1;

	pthread_mutex_lock(&dir_shared_lock);
	for (i = 0; i < DIR_SHARED_MAX && c == NULL; i++) {
		if (dir_shared[i].cache == NULL) {
			if (free_slot == -1)
				free_slot = i;
		} else if (dir_shared[i].ttl_us == ttl_us) {
			c = dir_shared[i].cache;
			dir_shared[i].users++;
		}
	}
	if (c == NULL && free_slot != -1) {
		c = dir_shared[free_slot].cache = dircache_new(DIR_CACHE_SLOTS,
		    ttl_us);
		dir_shared[free_slot].ttl_us = ttl_us;
		dir_shared[free_slot].users = 1;
	} else if (c == NULL)
		c = dircache_new(DIR_CACHE_SLOTS, ttl_us);
	pthread_mutex_unlock(&dir_shared_lock);
	return c;
}

static void
dir_cache_release(struct dircache *c)
{
	int	i;

	if (c == NULL)
		return;
	pthread_mutex_lock(&dir_shared_lock);
	for (i = 0; i < DIR_SHARED_MAX; i++)
		if (dir_shared[i].cache == c)
			break;
	if (i == DIR_SHARED_MAX)
		dircache_free(c);
	else if (--dir_shared[i].users == 0) {
		dircache_free(c);
		dir_shared[i].cache = NULL;
	}
	pthread_mutex_unlock(&dir_shared_lock);
}

/* ------------------------------------------------------------------ */
/* Connection                                                          */
/* ------------------------------------------------------------------ */

static void
dir_disconnect(struct directory *d)
{
	size_t	i;

	for (i = 0; i < Q_COUNT; i++)
		db_query_close(&d->q[i]);
	db_close(d->db);
	d->db = NULL;
}

static int
dir_connect(struct directory *d)
{
	size_t	i;

	if ((d->db = db_connect(d->cf, d->err, sizeof(d->err))) == NULL)
		return -1;
	/* directory_consult_claim's two statements in one round trip; every
	 * other statement is prepared */
	if (mysql_set_server_option(d->db, MYSQL_OPTION_MULTI_STATEMENTS_ON) !=
	    0) {
		snprintf(d->err, sizeof(d->err), "multi-statements: %s",
		    mysql_error(d->db));
		dir_disconnect(d);
		return -1;
	}
	for (i = 0; i < Q_COUNT; i++) {
		if (db_query_prepare(d->db, &d->q[i], dir_queries[i].sql) == -1) {
			snprintf(d->err, sizeof(d->err), "preparing \"%s\": %s "
			    "(error %u)%s", dir_queries[i].name,
			    db_query_error(&d->q[i]), db_query_errno(&d->q[i]),
			    db_schema_hint(db_query_errno(&d->q[i])));
			dir_disconnect(d);
			return -1;
		}
	}
	return 0;
}

/* Open a connection and prepare the statements; NULL with err. */
struct directory *
directory_open(const struct kp_config *cf, char *err, size_t errlen)
{
	struct directory *d = xcalloc(1, sizeof(*d));

	d->cf = cf;
	if (dir_connect(d) == -1) {
		snprintf(err, errlen, "%s", d->err);
		free(d);
		return NULL;
	}
	if (cf->db_directory_cache > 0)
		d->cache = dir_cache_acquire((int64_t)cf->db_directory_cache *
		    1000);
	return d;
}

/* Close the connection. */
void
directory_close(struct directory *d)
{
	size_t	i;

	if (d == NULL)
		return;
	for (i = 0; i < Q_COUNT; i++)
		dircache_rows_release(d->cursor[i].rows);
	dir_cache_release(d->cache);
	dir_disconnect(d);
	free(d);
}

/* The last error, for logs and the admin tool. */
const char *
directory_error(const struct directory *d)
{
	return d->err;
}

/* What a try that failed without a server error number returns: neither
 * retried nor a lost connection. */
#define DIR_TRY_FAILED	UINT_MAX

/*
 * Run one try on a live connection until it succeeds: again after a Galera
 * conflict (1213: another node wrote the same row first; the statement, a
 * transaction of its own, runs again and sees it), up to 8 times; on a new
 * connection once when it was lost (behind a balancer the next one may reach
 * another cluster node: up to twice more, 200 ms apart, to open it). try
 * returns 0, or the server's error number with d->err set.
 */
static int
dir_retry(struct directory *d, unsigned int (*try)(struct directory *, void *),
    void *arg)
{
	struct timespec	nap = { 0, 200 * 1000000L };
	unsigned int	e;
	int		attempt, conflicts = 0, reconnects = 0;

	d->lost = 0;
	for (attempt = 0; attempt < 2; attempt++) {
		if (d->db == NULL && dir_connect(d) == -1) {
			if (attempt == 0 || ++reconnects > 2)
				return -1;
			nanosleep(&nap, NULL);
			attempt--;
			continue;
		}
		if ((e = try(d, arg)) == 0)
			return 0;
		if (db_error_is_retryable(e) && ++conflicts < 8) {
			attempt--;
			continue;
		}
		if (e != CR_SERVER_GONE_ERROR && e != CR_SERVER_LOST &&
		    e != CR_CONNECTION_ERROR)
			return -1;
		d->lost = 1;
		dir_disconnect(d);
	}
	return -1;
}

struct exec_try {
	enum dir_query_id	 id;
	const char *const	*params;
};

static unsigned int
exec_try(struct directory *d, void *arg)
{
	struct exec_try	*x = arg;
	unsigned int	 e;

	if (db_query_exec(&d->q[x->id], x->params) == 0)
		return 0;
	e = db_query_errno(&d->q[x->id]);
	snprintf(d->err, sizeof(d->err), "%s: %s (error %u)",
	    dir_queries[x->id].name, db_query_error(&d->q[x->id]), e);
	return e != 0 ? e : DIR_TRY_FAILED;
}

/* Run statement id, re-connecting once if the connection was lost. */
static int
dir_exec_live(struct directory *d, enum dir_query_id id,
    const char *const *params)
{
	struct exec_try	x = { id, params };

	return dir_retry(d, exec_try, &x);
}

static int64_t
dir_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The lookups whose result sets may be cached: the small tables. */
static int
dir_cacheable(enum dir_query_id id)
{
	return (id != Q_PERSON_FILES && id < Q_LIST) || id == Q_INSTITUTIONS;
}

/* The cache key of statement id with params; 0, or -1 if too long. */
static int
dir_cache_key(const struct directory *d, enum dir_query_id id,
    const char *const *params, char *key, size_t len)
{
	size_t		off;
	unsigned int	i;
	int		n;

	if ((n = snprintf(key, len, "%d", (int)id)) < 0 || (size_t)n >= len)
		return -1;
	off = (size_t)n;
	for (i = 0; i < d->q[id].nparams; i++) {
		n = snprintf(key + off, len - off, "\x1f%s",
		    params[i] != NULL ? params[i] : "\x1e");
		if (n < 0 || (size_t)n >= len - off)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/*
 * Run statement id: from the cache when it may be cached and is there, else
 * on the server (and then into the cache). Read the rows with dir_fetch and
 * dir_col.
 */
static int
dir_exec(struct directory *d, enum dir_query_id id, const char *const *params)
{
	struct dir_cursor	*c = &d->cursor[id];
	struct dircache_rows	*rows;
	const char		*cells[DB_MAX_COLS];
	char			 key[1024];
	int64_t			 now;
	unsigned int		 i;
	int			 rc;

	dircache_rows_release(c->rows);
	memset(c, 0, sizeof(*c));
	if (d->cache == NULL || !dir_cacheable(id) ||
	    dir_cache_key(d, id, params, key, sizeof(key)) == -1)
		return dir_exec_live(d, id, params);
	now = dir_now_us();
	if ((c->rows = dircache_get(d->cache, key, now)) != NULL)
		return 0;
	if (dir_exec_live(d, id, params) == -1)
		return -1;
	rows = dircache_rows_new(d->q[id].ncols);
	while ((rc = db_query_fetch(&d->q[id])) == 1) {
		for (i = 0; i < d->q[id].ncols; i++)
			cells[i] = db_query_col(&d->q[id], i);
		dircache_rows_add(rows, cells);
	}
	if (rc == -1) {
		snprintf(d->err, sizeof(d->err), "%s: %s",
		    dir_queries[id].name, db_query_error(&d->q[id]));
		dircache_rows_release(rows);
		return -1;
	}
	dircache_put(d->cache, key, rows, now);
	c->rows = rows;
	return 0;
}

/* The next row of statement id: 1, 0 at the end, -1 on error. */
static int
dir_fetch(struct directory *d, enum dir_query_id id)
{
	struct dir_cursor *c = &d->cursor[id];

	if (c->rows == NULL)
		return db_query_fetch(&d->q[id]);
	if (c->next >= dircache_nrows(c->rows))
		return 0;	/* like the server: the last row stays readable */
	c->cur = c->next++;
	return 1;
}

/* Column col of the current row of statement id (NULL for SQL NULL). */
static const char *
dir_col(const struct directory *d, enum dir_query_id id, unsigned int col)
{
	const struct dir_cursor *c = &d->cursor[id];

	if (c->rows == NULL)
		return db_query_col(&d->q[id], col);
	return dircache_cell(c->rows, c->cur, col);
}

/* Check that the directory answers: 0, or -1 with the error. */
int
directory_ping(struct directory *d)
{
	const char *const params[] = { "" };

	if (dir_exec(d, Q_SERVICE, params) == -1)
		return -1;
	while (dir_fetch(d, Q_SERVICE) == 1)
		;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Rows                                                                */
/* ------------------------------------------------------------------ */

/* src (NULL: "") into dst of len bytes, cut to fit. */
static void
dir_copy(char *dst, size_t len, const char *src)
{
	size_t	n = src != NULL ? strnlen(src, len - 1) : 0;

	memcpy(dst, src != NULL ? src : "", n);
	dst[n] = '\0';
}

static int
dir_period(const char *b, const char *e, struct period *p)
{
	return period_parse(b, e, p);
}

/* The row of institution id in the whole table (sorted by id), or -1. */
static long
dir_find_institution(const struct dircache_rows *rows, const char *id)
{
	size_t	lo = 0, hi = dircache_nrows(rows), mid;
	int	cmp;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((cmp = strcmp(id, dircache_cell(rows, mid, 0))) == 0)
			return (long)mid;
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/*
 * The institutions' sector, state and endpoint for a person's files: from
 * the small table, never joined for every person. With a cache, from the
 * whole table kept by the worker (one query per cache period); without
 * one, or when the table is too large to keep, an institution at a time.
 */
static int
dir_files_institutions(struct directory *d, struct dir_file *files, size_t n)
{
	const struct dircache_rows	*all = NULL;
	struct dir_institution		 inst;
	size_t				 i;
	long				 row;
	int				 rc;

	if (n > 0 && d->cache != NULL) {
		if (dir_exec(d, Q_INSTITUTIONS, NULL) == -1)
			return -1;
		all = d->cursor[Q_INSTITUTIONS].rows;
		if (all != NULL && dircache_nrows(all) > DIR_INSTITUTIONS_MAX)
			all = NULL;
	}
	for (i = 0; i < n; i++) {
		struct dir_file	*f = &files[i];

		/* an institution added since the table was kept is looked
		 * up on its own */
		if (all != NULL &&
		    (row = dir_find_institution(all, f->institution)) >= 0) {
			dir_copy(f->sector, sizeof(f->sector),
			    dircache_cell(all, (size_t)row, 1));
			dir_copy(f->endpoint, sizeof(f->endpoint),
			    dircache_cell(all, (size_t)row, 2));
			f->active = strcmp(dircache_cell(all, (size_t)row, 3),
			    "1") == 0;
			continue;
		}
		if ((rc = directory_institution(d, f->institution, &inst)) == -1)
			return -1;
		if (rc == 0)
			continue;	/* cannot happen: a foreign key */
		dir_copy(f->sector, sizeof(f->sector), inst.sector);
		f->active = inst.active;
		dir_copy(f->endpoint, sizeof(f->endpoint), inst.endpoint);
	}
	return 0;
}

/* Fetch the rows of Q_PERSON_FILES into a growing array. */
static int
dir_fetch_files(struct directory *d, struct dir_file **out, size_t *n)
{
	const enum dir_query_id q = Q_PERSON_FILES;
	size_t		 cap = 0;
	int		 rc;

	*n = 0;
	while ((rc = dir_fetch(d, q)) == 1) {
		struct dir_file *f;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xreallocarray(*out, cap, sizeof(**out));
		}
		f = &(*out)[*n];
		memset(f, 0, sizeof(*f));
		dir_copy(f->institution, sizeof(f->institution), dir_col(d, q, 0));
		dir_copy(f->quality, sizeof(f->quality), dir_col(d, q, 1));
		if (dir_period(dir_col(d, q, 2), dir_col(d, q, 3),
		    &f->period) == -1)
			continue;	/* cannot happen: the import checks */
		(*n)++;
	}
	if (rc == -1)
		return -1;
	return dir_files_institutions(d, *out, *n);
}

static int
dir_fetch_auths(struct directory *d, enum dir_query_id id,
    struct dir_authorization **out, size_t *n)
{
	const enum dir_query_id q = id;
	size_t		 cap = 0;
	int		 rc;

	*n = 0;
	while ((rc = dir_fetch(d, q)) == 1) {
		struct dir_authorization *a;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xreallocarray(*out, cap, sizeof(**out));
		}
		a = &(*out)[*n];
		memset(a, 0, sizeof(*a));
		dir_copy(a->id, sizeof(a->id), dir_col(d, q, 0));
		dir_copy(a->requester_sector, sizeof(a->requester_sector),
		    dir_col(d, q, 1));
		dir_copy(a->requester_institution,
		    sizeof(a->requester_institution), dir_col(d, q, 2));
		dir_copy(a->quality, sizeof(a->quality), dir_col(d, q, 3));
		dir_copy(a->service, sizeof(a->service), dir_col(d, q, 4));
		dir_copy(a->legal_basis, sizeof(a->legal_basis),
		    dir_col(d, q, 5));
		if (dir_period(dir_col(d, q, 6), dir_col(d, q, 7),
		    &a->valid) == -1)
			continue;
		(*n)++;
	}
	return rc;
}

static int
dir_fetch_avail(struct directory *d, struct dir_availability **out, size_t *n)
{
	const enum dir_query_id q = Q_AVAILABILITY;
	size_t		 cap = 0;
	int		 rc;

	*n = 0;
	while ((rc = dir_fetch(d, q)) == 1) {
		struct dir_availability *v;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xreallocarray(*out, cap, sizeof(**out));
		}
		v = &(*out)[*n];
		dir_copy(v->service, sizeof(v->service), dir_col(d, q, 0));
		dir_copy(v->sector, sizeof(v->sector), dir_col(d, q, 1));
		dir_copy(v->institution, sizeof(v->institution), dir_col(d, q, 2));
		dir_copy(v->quality, sizeof(v->quality), dir_col(d, q, 3));
		(*n)++;
	}
	return rc;
}

/* Run a one-row lookup: 1 with the row fetched, 0 if none, -1. */
static int
dir_lookup(struct directory *d, enum dir_query_id id, const char *key)
{
	const char *const	params[] = { key };
	int			rc;

	if (dir_exec(d, id, params) == -1)
		return -1;
	rc = dir_fetch(d, id);
	if (rc == 1)
		while (dir_fetch(d, id) == 1)
			;
	return rc;
}

static void
dir_fill_institution(const struct directory *d, enum dir_query_id q,
    struct dir_institution *out)
{
	memset(out, 0, sizeof(*out));
	dir_copy(out->id, sizeof(out->id), dir_col(d, q, 0));
	dir_copy(out->name, sizeof(out->name), dir_col(d, q, 1));
	dir_copy(out->sector, sizeof(out->sector), dir_col(d, q, 2));
	dir_copy(out->endpoint, sizeof(out->endpoint), dir_col(d, q, 3));
	out->active = strcmp(dir_col(d, q, 4), "1") == 0;
}

/* ------------------------------------------------------------------ */
/* Lookups                                                             */
/* ------------------------------------------------------------------ */

/* An institution by enterprise number: 1 found, 0 unknown, -1 error. */
int
directory_institution(struct directory *d, const char *id,
    struct dir_institution *out)
{
	int	rc;

	if ((rc = dir_lookup(d, Q_INSTITUTION, id)) == 1)
		dir_fill_institution(d, Q_INSTITUTION, out);
	return rc;
}

/* The institution a certificate (SHA-256 fingerprint, lower-case hex) is
 * registered to: 1 found, 0 not registered, -1 error. */
int
directory_certificate(struct directory *d, const char *fingerprint,
    struct dir_institution *out, bool *revoked)
{
	int	rc;

	if ((rc = dir_lookup(d, Q_CERTIFICATE, fingerprint)) == 1) {
		dir_fill_institution(d, Q_CERTIFICATE, out);
		*revoked = strcmp(dir_col(d, Q_CERTIFICATE, 5), "1") == 0;
	}
	return rc;
}

/* The sector that may hold files in a quality: 1, 0 unknown quality, -1. */
int
directory_quality_sector(struct directory *d, const char *quality,
    char sector[CODE_LEN])
{
	int	rc;

	if ((rc = dir_lookup(d, Q_QUALITY, quality)) == 1)
		dir_copy(sector, CODE_LEN, dir_col(d, Q_QUALITY, 0));
	return rc;
}

/* The rest of a consult's facts once the person's files were read (the
 * rows ready for dir_fetch_files): the authorisations and the service's
 * availability; 0, or -1 with c empty. */
static int
consult_rest(struct directory *d, const char *service, const char *quality,
    struct dir_consult *c)
{
	const char *const	p2[] = { service, quality };
	const char *const	p3[] = { service };
	struct consult_facts	*f = &c->facts;

	if (dir_fetch_files(d, &c->files, &f->nfiles) == -1 ||
	    dir_exec(d, Q_AUTHS_FOR, p2) == -1 ||
	    dir_fetch_auths(d, Q_AUTHS_FOR, &c->auths, &f->nauths) == -1 ||
	    dir_exec(d, Q_AVAILABILITY, p3) == -1 ||
	    dir_fetch_avail(d, &c->avail, &f->navail) == -1) {
		directory_consult_free(c);
		return -1;
	}
	f->files = c->files;
	f->auths = c->auths;
	f->avail = c->avail;
	return 0;
}

/* Gather the facts of a consult; 0 or -1. Free with directory_consult_free. */
int
directory_consult(struct directory *d, const char *ssin, const char *service,
    const char *quality, struct dir_consult *c)
{
	const char *const	p1[] = { ssin };
	int			 rc;

	memset(c, 0, sizeof(*c));
	if ((rc = dir_lookup(d, Q_SERVICE, service)) == -1)
		return -1;
	c->facts.service_known = rc == 1;
	if (!c->facts.service_known)
		return 0;
	if (dir_exec(d, Q_PERSON_FILES, p1) == -1)
		return -1;
	return consult_rest(d, service, quality, c);
}

/*
 * The MessageId claim and the person's files in one round trip: the two
 * statements as one text query (multi-statements; the values escaped for
 * the connection), the claim first. The claim is the same statement as
 * Q_MESSAGE_SEEN, committed on its own (autocommit) before the files are
 * read; when it fails the files are not read. When the connection is lost
 * after the claim's OK (a cluster node killed between the two), the files
 * are read again on a new connection without claiming twice. The files'
 * rows go where dir_fetch(Q_PERSON_FILES) reads them. 0 with *fresh (1: new, 0: already
 * claimed and unexpired), or -1 with the error.
 */
/*
 * After a claim that found the MessageId taken on a connection opened again
 * (the first one lost while the claim was on its way): 1 when the row is
 * this exchange's own, written by the try whose answer was lost (on a
 * Galera cluster the node may commit and replicate and die before it
 * answers), 0 when another exchange holds it, -1 on error. The row's
 * ticket tells.
 */
static int
claim_mine(struct directory *d, const char *sender, const char *message_id,
    const char *ticket)
{
	const char	*in[3] = { sender, message_id, ticket };
	char		 esc[3][2 * 130 + 1], q[1024];
	MYSQL_RES	*res;
	int		 n, mine;
	size_t		 i;

	if (d->db == NULL) {
		snprintf(d->err, sizeof(d->err), "claim: reading it back: no "
		    "connection");
		return -1;
	}
	for (i = 0; i < 3; i++) {
		if (strlen(in[i]) > 130) {
			snprintf(d->err, sizeof(d->err), "claim: a value is "
			    "too long");
			return -1;
		}
		mysql_real_escape_string(d->db, esc[i], in[i], strlen(in[i]));
	}
	n = snprintf(q, sizeof(q), "SELECT 1 FROM message_seen WHERE sender = "
	    "'%s' AND message_id = '%s' AND ticket = '%s'", esc[0], esc[1],
	    esc[2]);
	if (n < 0 || (size_t)n >= sizeof(q) ||
	    mysql_real_query(d->db, q, (unsigned long)n) != 0 ||
	    (res = mysql_store_result(d->db)) == NULL) {
		snprintf(d->err, sizeof(d->err), "claim: reading it back: %s",
		    mysql_error(d->db));
		return -1;
	}
	mine = mysql_num_rows(res) > 0;
	mysql_free_result(res);
	return mine;
}

struct claim_try {
	const char		*in[5];	/* sender, message_id, expires, ticket,
					 * ssin */
	int			 claimed;
	unsigned long long	 affected;
	MYSQL_RES		*res;
};

static unsigned int
claim_try(struct directory *d, void *arg)
{
	static const char	 files_sql[] = "SELECT institution, quality, "
	    "begin_date, end_date FROM person_file WHERE ssin = ";
	static const char	 files_order[] = " ORDER BY institution, "
	    "quality, begin_date";
	struct claim_try	*x = arg;
	char			 esc[5][2 * 130 + 1], q[2000];
	unsigned int		 e, i;
	int			 n;

	for (i = 0; i < 5; i++)
		mysql_real_escape_string(d->db, esc[i], x->in[i],
		    strlen(x->in[i]));
	if (!x->claimed)
		n = snprintf(q, sizeof(q), "INSERT INTO message_seen "
		    "(sender, message_id, expires_at, ticket) VALUES ('%s', "
		    "'%s', '%s', '%s') ON DUPLICATE KEY UPDATE " CLAIM_EXPIRED
		    "; %s'%s'%s", esc[0], esc[1], esc[2], esc[3], files_sql,
		    esc[4], files_order);
	else
		n = snprintf(q, sizeof(q), "%s'%s'%s", files_sql, esc[4],
		    files_order);
	if (n < 0 || (size_t)n >= sizeof(q)) {
		snprintf(d->err, sizeof(d->err), "claim: query too long");
		return DIR_TRY_FAILED;
	}
	if (mysql_real_query(d->db, q, (unsigned long)n) == 0) {
		if (!x->claimed) {
			/* the claim's OK came back: it is committed, and a
			 * retry (the connection lost while the files were
			 * read) reads the files alone - the claim again would
			 * find itself: REPLAY */
			x->affected = mysql_affected_rows(d->db);
			x->claimed = 1;
			if (mysql_next_result(d->db) == 0 &&
			    (x->res = mysql_store_result(d->db)) != NULL)
				return 0;
		} else if ((x->res = mysql_store_result(d->db)) != NULL)
			return 0;
	}
	e = mysql_errno(d->db);
	snprintf(d->err, sizeof(d->err), "%s: %s (error %u)",
	    dir_queries[Q_MESSAGE_SEEN].name, mysql_error(d->db), e);
	while (mysql_next_result(d->db) == 0)
		;	/* nothing may stay unread on the connection */
	return e != 0 ? e : DIR_TRY_FAILED;
}

static int
dir_claim_files(struct directory *d, const char *sender,
    const char *message_id, const char *expires, const char *ticket,
    const char *ssin, int *fresh)
{
	struct dir_cursor	*cur = &d->cursor[Q_PERSON_FILES];
	struct claim_try	 x = { { sender, message_id, expires, ticket,
				    ssin }, 0, 0, NULL };
	const char		*cells[DB_MAX_COLS];
	struct dircache_rows	*rows;
	MYSQL_ROW		 row;
	unsigned int		 i;

	for (i = 0; i < 5; i++)
		if (strlen(x.in[i]) > 130) {
			snprintf(d->err, sizeof(d->err), "claim: a value is too "
			    "long");
			return -1;
		}
	dircache_rows_release(cur->rows);
	memset(cur, 0, sizeof(*cur));
	if (dir_retry(d, claim_try, &x) == -1)
		return -1;
	rows = dircache_rows_new(mysql_num_fields(x.res));
	while ((row = mysql_fetch_row(x.res)) != NULL) {
		for (i = 0; i < mysql_num_fields(x.res) && i < DB_MAX_COLS; i++)
			cells[i] = row[i];
		dircache_rows_add(rows, cells);
	}
	mysql_free_result(x.res);
	while (mysql_next_result(d->db) == 0)
		;
	cur->rows = rows;	/* ours alone: never put in the cache */
	*fresh = x.affected > 0;
	if (!*fresh && d->lost &&
	    (*fresh = claim_mine(d, sender, message_id, ticket)) == -1) {
		*fresh = 0;
		return -1;
	}
	return 0;
}

/*
 * directory_message_seen and directory_consult together, for a Consult:
 * the claim and the person's files in one round trip to the server. 0 with
 * *fresh (as directory_message_seen) and, when *fresh, c filled; -1 with the
 * error (c is then empty).
 */
int
directory_consult_claim(struct directory *d, const char *sender,
    const char *message_id, const char *expires, const char *ticket,
    const char *ssin, const char *service, const char *quality,
    struct dir_consult *c, int *fresh)
{
	int			 rc;

	memset(c, 0, sizeof(*c));
	*fresh = 0;
	if ((rc = dir_lookup(d, Q_SERVICE, service)) == -1)
		return -1;
	if (rc == 0) {
		/* an unknown service: the claim alone */
		if ((rc = directory_message_seen(d, sender, message_id,
		    expires, ticket)) == -1)
			return -1;
		*fresh = rc;
		return 0;
	}
	c->facts.service_known = 1;
	if (dir_claim_files(d, sender, message_id, expires, ticket, ssin,
	    fresh) == -1)
		return -1;
	if (!*fresh)
		return 0;
	return consult_rest(d, service, quality, c);
}

/* Free the facts of a consult. */
void
directory_consult_free(struct dir_consult *c)
{
	free(c->files);
	free(c->auths);
	free(c->avail);
	memset(c, 0, sizeof(*c));
}

static int
dir_fetch_subscribers(struct directory *d, struct dir_mutation *m)
{
	const enum dir_query_id q = Q_SUBSCRIBERS;
	size_t		 cap = 0, n = 0;
	int		 rc;

	while ((rc = dir_fetch(d, q)) == 1) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			m->subscribers = xreallocarray(m->subscribers, cap,
			    sizeof(*m->subscribers));
		}
		dir_copy(m->subscribers[n], INSTITUTION_LEN, dir_col(d, q, 0));
		n++;
	}
	m->facts.nsubscribers = n;
	return rc;
}

/* Gather the facts of a mutation; 0 or -1. Free with directory_mutation_free. */
int
directory_mutation(struct directory *d, const char *ssin,
    const char *mutation_type, struct dir_mutation *m)
{
	const char *const	p1[] = { ssin };
	const char *const	p2[] = { mutation_type };
	struct mutation_facts	*f = &m->facts;
	int			 rc;

	memset(m, 0, sizeof(*m));
	if ((rc = dir_lookup(d, Q_MUTATION_TYPE, mutation_type)) == -1)
		return -1;
	f->type_known = rc == 1;
	if (!f->type_known)
		return 0;
	dir_copy(m->service, sizeof(m->service),
	    dir_col(d, Q_MUTATION_TYPE, 0));
	dir_copy(m->source, sizeof(m->source),
	    dir_col(d, Q_MUTATION_TYPE, 1));
	{
		const char *const p3[] = { m->service };
		if (dir_exec(d, Q_PERSON_FILES, p1) == -1 ||
		    dir_fetch_files(d, &m->files, &f->nfiles) == -1 ||
		    dir_exec(d, Q_SUBSCRIBERS, p2) == -1 ||
		    dir_fetch_subscribers(d, m) == -1 ||
		    dir_exec(d, Q_AUTHS_SERVICE, p3) == -1 ||
		    dir_fetch_auths(d, Q_AUTHS_SERVICE, &m->auths,
		    &f->nauths) == -1) {
			directory_mutation_free(m);
			return -1;
		}
	}
	f->type_service = m->service;
	f->type_source = m->source;
	f->files = m->files;
	f->subscribers = (const char (*)[INSTITUTION_LEN])m->subscribers;
	f->auths = m->auths;
	return 0;
}

/* Free the facts of a mutation. */
void
directory_mutation_free(struct dir_mutation *m)
{
	free(m->files);
	free(m->auths);
	free(m->subscribers);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ */
/* Writes of the request path                                          */
/* ------------------------------------------------------------------ */

/* A certificate referred to by SKI, thumbprint or serial (hex); fills
 * *pem (malloc'ed) and issuer of each candidate through a callback. */
int
directory_certificates(struct directory *d, enum dir_cert_key key,
    const char *value, int (*match)(void *, const char *pem,
    const char *issuer), void *arg)
{
	enum dir_query_id id = key == DIR_CERT_SKI ? Q_CERT_BY_SKI :
	    key == DIR_CERT_THUMBPRINT ? Q_CERT_BY_THUMBPRINT : Q_CERT_BY_SERIAL;
	const char *const p[] = { value };
	int		 rc, found = 0;

	if (dir_exec(d, id, p) == -1)
		return -1;
	while ((rc = dir_fetch(d, id)) == 1)
		if (!found && match(arg, dir_col(d, id, 0),
		    dir_col(d, id, 1)))
			found = 1;
	return rc == -1 ? -1 : found;
}

static int
dir_write(struct directory *d, enum dir_query_id id, const char *const *p,
    unsigned long long *affected)
{
	if (dir_exec(d, id, p) == -1)
		return -1;
	*affected = db_query_affected(&d->q[id]);
	return 0;
}

/* Record that institution holds a file on ssin; 0 or -1. */
int
directory_register(struct directory *d, const char *ssin,
    const char *institution, const char *quality, const char *begin,
    const char *end)
{
	const char *const	p[] = { ssin, institution, quality, begin,
				    end != NULL && *end ? end : NULL };
	unsigned long long	n;

	return dir_write(d, Q_REGISTER, p, &n);
}

/* End a file: 1 done, 0 no such file, -1 error. */
int
directory_unregister(struct directory *d, const char *ssin,
    const char *institution, const char *quality, const char *begin,
    const char *end)
{
	const char *const	p[] = { end, ssin, institution, quality, begin };
	unsigned long long	n;

	if (dir_write(d, Q_UNREGISTER, p, &n) == -1)
		return -1;
	return n > 0 ? 1 : 0;
}

/* The files institution holds on ssin, through a callback; 0 or -1. */
int
directory_list(struct directory *d, const char *ssin, const char *institution,
    void (*each)(void *, const char *quality, const char *begin,
    const char *end), void *arg)
{
	const char *const	p[] = { ssin, institution };
	int			rc;

	if (dir_exec(d, Q_LIST, p) == -1)
		return -1;
	while ((rc = dir_fetch(d, Q_LIST)) == 1)
		each(arg, dir_col(d, Q_LIST, 0),
		    dir_col(d, Q_LIST, 1),
		    dir_col(d, Q_LIST, 2));
	return rc;
}

/*
 * Remember sender's MessageId until expires ("YYYY-MM-DD HH:MM:SS.ffffff",
 * UTC), claimed by the exchange with this ticket: 1 new (or an expired one
 * reused), 0 already seen, -1 error. Shared by every hub node through the
 * database (the primary key decides). A claim retried on a new connection
 * that finds the MessageId taken asks whether the row is its own
 * (claim_mine()).
 */
int
directory_message_seen(struct directory *d, const char *sender,
    const char *message_id, const char *expires, const char *ticket)
{
	const char *const	p[] = { sender, message_id, expires, ticket };
	unsigned long long	n;

	if (dir_write(d, Q_MESSAGE_SEEN, p, &n) == -1)
		return -1;
	if (n == 0 && d->lost)
		return claim_mine(d, sender, message_id, ticket);
	return n > 0 ? 1 : 0;
}

/*
 * Forget MessageIds whose time is up (a message that old is refused as
 * EXPIRED before its MessageId is looked at): at most DIR_PURGE_LIMIT rows,
 * oldest first along the expiry index, in a transaction of their own so
 * that no lock is held for long; the number removed, or -1.
 */
long
directory_purge_seen(struct directory *d)
{
	const char *const	p[1] = { NULL };
	unsigned long long	n;

	if (dir_write(d, Q_PURGE_SEEN, p, &n) == -1)
		return -1;
	return (long)n;
}

/* ------------------------------------------------------------------ */
/* For tests                                                           */
/* ------------------------------------------------------------------ */

/* How many request-path statements there are. */
size_t
directory_query_count(void)
{
	return Q_REGISTER;	/* the lookups (and the UPDATE by key) */
}

/* Statement i's SQL, and its name in *name. */
const char *
directory_query_sql(size_t i, const char **name)
{
	if (i >= Q_COUNT)
		return NULL;
	if (name != NULL)
		*name = dir_queries[i].name;
	return dir_queries[i].sql;
}

/*
 * kruispunt - the reference directory as CSV files: import and export.
 *
 * One file per table, with a header row naming the columns in a fixed
 * order (dircsv_tables[] below, documented in kruispunt(1)). Dates are
 * YYYY-MM-DD, an empty end date is open-ended, booleans are 1 or 0, an empty
 * optional field is NULL ("any" or "none").
 *
 * An import is all or nothing. A first pass reads the whole file and checks
 * every row: the form of each field (SSIN check digits, enterprise numbers,
 * codes, dates), begin <= end, that every referenced code or institution is
 * in the directory, that a file is held in a quality of the institution's
 * sector, and that no key occurs twice. Each problem is printed as
 * "FILE:LINE: column: what is wrong", and if there is any, the database is
 * not touched. Only then a second pass writes the rows, in one transaction,
 * in batches of multi-row INSERTs; a row whose key is already in the
 * directory is updated (a merge), unless --replace emptied the table first
 * within the same transaction.
 *
 * Export writes the same format, rows ordered by key, so that exporting an
 * imported file gives back the same bytes when the file was in that order.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "dircsv.h"
#include "enterprise.h"
#include "output.h"
#include "period.h"
#include "progress.h"
#include "ssin.h"
#include "xmalloc.h"

#define MAX_COLS	8
#define MAX_PRINTED	1000	/* problems printed; the rest are counted */
#define BATCH_ROWS	1000

enum col_kind { K_CODE, K_TEXT, K_ENTERPRISE, K_SSIN, K_URL, K_BOOL, K_DATE,
	K_ID, K_LEGAL };
enum ref_kind { R_NONE, R_SECTOR, R_INSTITUTION, R_QUALITY, R_SERVICE,
	R_MUTATION_TYPE, R_COUNT };
enum insert_kind { I_UPSERT, I_IGNORE, I_PLAIN };

struct dircsv_col {
	const char	*csv;
	const char	*sql;
	enum col_kind	 kind;
	bool		 optional;
	enum ref_kind	 ref;
};

struct dircsv_table {
	const char		*name;
	const char		*sql_table;
	int			 ncols;
	int			 nkey;		/* the first nkey columns */
	enum insert_kind	 insert;
	const char		*order_by;
	struct dircsv_col	 cols[MAX_COLS];
};

static const struct dircsv_table dircsv_tables_def[] = {
	{ "sectors", "sector", 2, 1, I_UPSERT, "code", {
		{ "code", "code", K_CODE, false, R_NONE },
		{ "name", "name", K_TEXT, false, R_NONE } } },
	{ "institutions", "institution", 5, 1, I_UPSERT, "id", {
		{ "id", "id", K_ENTERPRISE, false, R_NONE },
		{ "name", "name", K_TEXT, false, R_NONE },
		{ "sector", "sector", K_CODE, false, R_SECTOR },
		{ "endpoint", "endpoint", K_URL, true, R_NONE },
		{ "active", "active", K_BOOL, false, R_NONE } } },
	{ "qualities", "quality", 3, 1, I_UPSERT, "code", {
		{ "code", "code", K_CODE, false, R_NONE },
		{ "sector", "sector", K_CODE, false, R_SECTOR },
		{ "description", "description", K_TEXT, false, R_NONE } } },
	{ "services", "service", 2, 1, I_UPSERT, "code", {
		{ "code", "code", K_CODE, false, R_NONE },
		{ "description", "description", K_TEXT, false, R_NONE } } },
	{ "mutation_types", "mutation_type", 3, 1, I_UPSERT, "code", {
		{ "code", "code", K_CODE, false, R_NONE },
		{ "service", "service", K_CODE, false, R_SERVICE },
		{ "source", "source", K_ENTERPRISE, false, R_INSTITUTION } } },
	{ "person_files", "person_file", 5, 4, I_UPSERT,
	  "ssin, institution, quality, begin_date", {
		{ "ssin", "ssin", K_SSIN, false, R_NONE },
		{ "institution", "institution", K_ENTERPRISE, false, R_INSTITUTION },
		{ "quality", "quality", K_CODE, false, R_QUALITY },
		{ "begin", "begin_date", K_DATE, false, R_NONE },
		{ "end", "end_date", K_DATE, true, R_NONE } } },
	{ "authorizations", "authorization", 8, 1, I_UPSERT, "id", {
		{ "id", "id", K_ID, false, R_NONE },
		{ "requester_sector", "requester_sector", K_CODE, false, R_SECTOR },
		{ "requester_institution", "requester_institution", K_ENTERPRISE,
		  true, R_INSTITUTION },
		{ "quality", "quality", K_CODE, false, R_QUALITY },
		{ "service", "service", K_CODE, false, R_SERVICE },
		{ "legal_basis", "legal_basis", K_LEGAL, false, R_NONE },
		{ "valid_from", "valid_from", K_DATE, false, R_NONE },
		{ "valid_to", "valid_to", K_DATE, true, R_NONE } } },
	{ "availability", "availability", 4, 4, I_PLAIN,
	  "service, sector, IFNULL(institution, ''), IFNULL(quality, '')", {
		{ "service", "service", K_CODE, false, R_SERVICE },
		{ "sector", "sector", K_CODE, false, R_SECTOR },
		{ "institution", "institution", K_ENTERPRISE, true, R_INSTITUTION },
		{ "quality", "quality", K_CODE, true, R_QUALITY } } },
	{ "subscriptions", "subscription", 2, 2, I_IGNORE,
	  "institution, mutation_type", {
		{ "institution", "institution", K_ENTERPRISE, false, R_INSTITUTION },
		{ "mutation_type", "mutation_type", K_CODE, false, R_MUTATION_TYPE } } },
};

#define NTABLES	(sizeof(dircsv_tables_def) / sizeof(dircsv_tables_def[0]))

static const char *const ref_sql[R_COUNT] = {
	[R_SECTOR] = "SELECT code, '' FROM sector ORDER BY code",
	[R_INSTITUTION] = "SELECT id, sector FROM institution ORDER BY id",
	[R_QUALITY] = "SELECT code, sector FROM quality ORDER BY code",
	[R_SERVICE] = "SELECT code, '' FROM service ORDER BY code",
	[R_MUTATION_TYPE] = "SELECT code, '' FROM mutation_type ORDER BY code",
};

static const char *const ref_name[R_COUNT] = {
	[R_SECTOR] = "sector", [R_INSTITUTION] = "institution",
	[R_QUALITY] = "quality", [R_SERVICE] = "service",
	[R_MUTATION_TYPE] = "mutation type",
};

/* Keys of a referenced table, sorted, each with an attribute (a sector). */
struct refset {
	char	**keys;
	char	**attrs;
	size_t	  n;
	bool	  loaded;
};

/* A row's key hash and line, for finding duplicates. */
struct keyline {
	uint64_t	hash;
	unsigned long	line;
};

struct import_state {
	const struct dircsv_table *t;
	const char	*path;
	FILE		*errfp;
	struct refset	 refs[R_COUNT];
	struct keyline	*keys;
	size_t		 nkeys, capkeys;
	unsigned long	 errors;
};

/* ------------------------------------------------------------------ */
/* Tables                                                              */
/* ------------------------------------------------------------------ */

static const struct dircsv_table *
dircsv_find(const char *name)
{
	size_t	i;

	for (i = 0; i < NTABLES; i++)
		if (strcmp(dircsv_tables_def[i].name, name) == 0)
			return &dircsv_tables_def[i];
	return NULL;
}

/* True for a table name import and export know. */
bool
dircsv_known_table(const char *name)
{
	return dircsv_find(name) != NULL;
}

/* The table names, in the order they must be imported. */
const char *
dircsv_tables(void)
{
	return "sectors, institutions, qualities, services, mutation_types, "
	    "person_files, authorizations, availability, subscriptions";
}

/* The header row of a table's file ("id,name,..."); a static buffer. */
const char *
dircsv_header(const char *name)
{
	static char			 buf[256];
	const struct dircsv_table	*t = dircsv_find(name);
	int				 i;

	buf[0] = '\0';
	for (i = 0; t != NULL && i < t->ncols; i++) {
		if (i > 0)
			strcat(buf, ",");
		strcat(buf, t->cols[i].csv);
	}
	return buf;
}

/* ------------------------------------------------------------------ */
/* Problems                                                            */
/* ------------------------------------------------------------------ */

static void problem(struct import_state *, unsigned long, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));

/* One problem: FILE:LINE: column: message. */
static void
problem(struct import_state *st, unsigned long line, const char *column,
    const char *fmt, ...)
{
	va_list	ap;

	if (++st->errors > MAX_PRINTED || st->errfp == NULL)
		return;
	fprintf(st->errfp, "%s:%lu: %s: ", st->path, line, column);
	va_start(ap, fmt);
	vfprintf(st->errfp, fmt, ap);
	va_end(ap);
	fputc('\n', st->errfp);
}

/* ------------------------------------------------------------------ */
/* References                                                          */
/* ------------------------------------------------------------------ */

static int
refset_load(MYSQL *db, enum ref_kind k, struct refset *r, char *err,
    size_t errlen)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	size_t		 cap = 0;

	if (r->loaded)
		return 0;
	if (mysql_query(db, ref_sql[k]) != 0 ||
	    (res = mysql_store_result(db)) == NULL) {
		snprintf(err, errlen, "reading the %ss: %s", ref_name[k],
		    mysql_error(db));
		return -1;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (r->n == cap) {
			cap = cap ? cap * 2 : 64;
			r->keys = xreallocarray(r->keys, cap, sizeof(char *));
			r->attrs = xreallocarray(r->attrs, cap, sizeof(char *));
		}
		r->keys[r->n] = xstrdup(row[0]);
		r->attrs[r->n] = xstrdup(row[1] != NULL ? row[1] : "");
		r->n++;
	}
	mysql_free_result(res);
	r->loaded = true;
	return 0;
}

static void
refset_free(struct refset *r)
{
	size_t	i;

	for (i = 0; i < r->n; i++) {
		free(r->keys[i]);
		free(r->attrs[i]);
	}
	free(r->keys);
	free(r->attrs);
	memset(r, 0, sizeof(*r));
}

/* The attribute of key (its sector), or NULL when key is not there. */
static const char *
refset_find(const struct refset *r, const char *key)
{
	size_t	lo = 0, hi = r->n, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(key, r->keys[mid])) == 0)
			return r->attrs[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Field checks                                                        */
/* ------------------------------------------------------------------ */

static bool
valid_chars(const char *s, size_t max, const char *extra, bool lower)
{
	size_t	n = strlen(s), i;

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (lower && c >= 'a' && c <= 'z') || strchr(extra, c) != NULL)
			continue;
		return false;
	}
	return true;
}

/* Valid UTF-8 text without control characters, 1..max bytes. */
static bool
valid_text(const char *s, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s);
	int			 more;

	if (n == 0 || n > max)
		return false;
	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f)
			return false;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0 && *p >= 0xc2)
			more = 1;
		else if ((*p & 0xf0) == 0xe0)
			more = 2;
		else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4)
			more = 3;
		else
			return false;
		for (p++; more > 0; more--, p++)
			if ((*p & 0xc0) != 0x80)
				return false;
	}
	return true;
}

/* Check one field's form; NULL if fine, else what is wrong. */
static const char *
check_field(const struct dircsv_col *c, const char *v)
{
	enum ssin_status	st;
	kp_day			k;

	if (*v == '\0')
		return c->optional ? NULL : "required";
	switch (c->kind) {
	case K_CODE:
		return valid_chars(v, 32, "_", false) ? NULL :
		    "not a code (1-32 of A-Z, 0-9, _)";
	case K_ID:
		return valid_chars(v, 64, "_-./", true) ? NULL :
		    "not an identifier (1-64 letters, digits, _ - . /)";
	case K_TEXT:
		return valid_text(v, 200) ? NULL :
		    "not text of 1-200 bytes of UTF-8 without control characters";
	case K_LEGAL:
		return valid_text(v, 128) ? NULL :
		    "not text of 1-128 bytes of UTF-8 without control characters";
	case K_ENTERPRISE:
		return enterprise_number_valid(v) ? NULL :
		    "not a valid enterprise number (10 digits, check digits)";
	case K_SSIN:
		st = ssin_parse(v, NULL);
		return st == SSIN_OK ? NULL : ssin_strerror(st);
	case K_URL:
		return (strncmp(v, "https://", 8) == 0 ||
		    strncmp(v, "http://", 7) == 0) && strlen(v) <= 500 &&
		    strpbrk(v, " \"'<>\\") == NULL && valid_text(v, 500) ? NULL :
		    "not an http:// or https:// URL of at most 500 bytes";
	case K_BOOL:
		return strcmp(v, "1") == 0 || strcmp(v, "0") == 0 ? NULL :
		    "not 1 or 0";
	case K_DATE:
		return day_parse(v, &k) == 0 ? NULL :
		    "not a date (YYYY-MM-DD)";
	}
	return "unknown column kind";
}

static int
col_index(const struct dircsv_table *t, const char *csv)
{
	int	i;

	for (i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].csv, csv) == 0)
			return i;
	return -1;
}

/* Checks across the fields of a row (all fields have a valid form). */
static void
check_row_consistency(struct import_state *st, unsigned long line, char **f)
{
	const struct dircsv_table	*t = st->t;
	const char			*isec, *qsec;
	kp_day				 a, b;
	int				 ib, ie, ii, iq, is;

	/* begin <= end */
	if (((ib = col_index(t, "begin")) >= 0 && (ie = col_index(t, "end")) >= 0) ||
	    ((ib = col_index(t, "valid_from")) >= 0 &&
	    (ie = col_index(t, "valid_to")) >= 0)) {
		if (*f[ie] != '\0' && day_parse(f[ib], &a) == 0 &&
		    day_parse(f[ie], &b) == 0 && a > b)
			problem(st, line, t->cols[ie].csv, "%s is before %s %s",
			    f[ie], t->cols[ib].csv, f[ib]);
	}
	/* a file is held in a quality of the institution's own sector */
	if (strcmp(t->name, "person_files") == 0) {
		isec = refset_find(&st->refs[R_INSTITUTION], f[1]);
		qsec = refset_find(&st->refs[R_QUALITY], f[2]);
		if (isec != NULL && qsec != NULL && strcmp(isec, qsec) != 0)
			problem(st, line, "quality", "%s is a quality of sector "
			    "%s, but institution %s is in sector %s", f[2], qsec,
			    f[1], isec);
	}
	/* availability: the institution and quality belong to the sector */
	if (strcmp(t->name, "availability") == 0) {
		is = 1, ii = 2, iq = 3;
		isec = *f[ii] ? refset_find(&st->refs[R_INSTITUTION], f[ii]) : NULL;
		qsec = *f[iq] ? refset_find(&st->refs[R_QUALITY], f[iq]) : NULL;
		if (isec != NULL && strcmp(isec, f[is]) != 0)
			problem(st, line, "institution", "%s is in sector %s, "
			    "not %s", f[ii], isec, f[is]);
		if (qsec != NULL && strcmp(qsec, f[is]) != 0)
			problem(st, line, "quality", "%s is a quality of sector "
			    "%s, not %s", f[iq], qsec, f[is]);
	}
}

static uint64_t
key_hash(const struct dircsv_table *t, char **f)
{
	uint64_t	h = 1469598103934665603ULL;
	int		i;
	const char	*p;

	for (i = 0; i < t->nkey; i++) {
		for (p = f[i]; *p != '\0'; p++) {
			h ^= (unsigned char)*p;
			h *= 1099511628211ULL;
		}
		h ^= 0x1f;
		h *= 1099511628211ULL;
	}
	return h;
}

static void
key_add(struct import_state *st, uint64_t h, unsigned long line)
{
	if (st->nkeys == st->capkeys) {
		st->capkeys = st->capkeys ? st->capkeys * 2 : 1024;
		st->keys = xreallocarray(st->keys, st->capkeys, sizeof(*st->keys));
	}
	st->keys[st->nkeys].hash = h;
	st->keys[st->nkeys].line = line;
	st->nkeys++;
}

static int
keyline_cmp(const void *a, const void *b)
{
	const struct keyline *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Report keys that occur twice (line 0: already in the directory). */
static void
check_duplicates(struct import_state *st)
{
	size_t	i;

	if (st->nkeys > 1)	/* qsort(NULL, 0, ...) is undefined */
		qsort(st->keys, st->nkeys, sizeof(*st->keys), keyline_cmp);
	for (i = 1; i < st->nkeys; i++) {
		if (st->keys[i].hash != st->keys[i - 1].hash)
			continue;
		if (st->keys[i - 1].line == 0)
			problem(st, st->keys[i].line, "row",
			    "the same rule is already in the directory");
		else
			problem(st, st->keys[i].line, "row",
			    "same key as line %lu", st->keys[i - 1].line);
	}
}

/* Load the existing keys of a table without a unique key (availability). */
static int
preload_keys(MYSQL *db, struct import_state *st, char *err, size_t errlen)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		 q[512], *f[MAX_COLS], empty[] = "";
	int		 i;

	snprintf(q, sizeof(q), "SELECT %s FROM %s", st->t->order_by,
	    st->t->sql_table);
	if (mysql_query(db, q) != 0 || (res = mysql_store_result(db)) == NULL) {
		snprintf(err, errlen, "reading %s: %s", st->t->name,
		    mysql_error(db));
		return -1;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		for (i = 0; i < st->t->nkey; i++)
			f[i] = row[i] != NULL ? row[i] : empty;
		key_add(st, key_hash(st->t, f), 0);
	}
	mysql_free_result(res);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The two passes                                                      */
/* ------------------------------------------------------------------ */

static int
open_csv(const char *path, FILE **fp, struct csv_reader **r, char *err,
    size_t errlen)
{
	if ((*fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	*r = csv_open(*fp);
	return 0;
}

/* Read and check the header row; 0 or -1 (reported). */
static int
check_header(struct import_state *st, struct csv_reader *r)
{
	char	**f;
	int	  n, i, ok;

	if ((ok = csv_next(r, &f, &n)) != 1) {
		problem(st, 1, "header", "%s", ok == 0 ? "the file is empty" :
		    csv_error(r));
		return -1;
	}
	ok = n == st->t->ncols;
	for (i = 0; ok && i < n; i++)
		ok = strcmp(f[i], st->t->cols[i].csv) == 0;
	if (!ok) {
		problem(st, (unsigned long)csv_line(r), "header",
		    "expected \"%s\"", dircsv_header(st->t->name));
		return -1;
	}
	return 0;
}

/* First pass: check every row; returns the number of rows. */
static unsigned long
pass_check(struct import_state *st, struct csv_reader *r)
{
	const struct dircsv_table	*t = st->t;
	unsigned long			 rows = 0, line;
	unsigned long			 before;
	const char			*why;
	char				**f;
	int				 n, rc, i;

	if (check_header(st, r) == -1)
		return 0;
	while ((rc = csv_next(r, &f, &n)) == 1) {
		rows++;
		line = (unsigned long)csv_line(r);
		if (n != t->ncols) {
			problem(st, line, "row", "%d fields, expected %d (%s)", n,
			    t->ncols, dircsv_header(t->name));
			continue;
		}
		before = st->errors;
		for (i = 0; i < n; i++) {
			const struct dircsv_col *c = &t->cols[i];
			if ((why = check_field(c, f[i])) != NULL) {
				problem(st, line, c->csv, "'%s': %s", f[i], why);
				continue;
			}
			if (c->ref != R_NONE && *f[i] != '\0' &&
			    refset_find(&st->refs[c->ref], f[i]) == NULL)
				problem(st, line, c->csv, "%s %s is not in the "
				    "directory", ref_name[c->ref], f[i]);
		}
		if (st->errors == before)
			check_row_consistency(st, line, f);
		if (st->errors == before)
			key_add(st, key_hash(t, f), line);
	}
	if (rc == -1)
		problem(st, (unsigned long)csv_line(r), "file", "%s", csv_error(r));
	check_duplicates(st);
	return rows;
}

static void
sql_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		while (*len + n + 1 > *cap)
			*cap = *cap ? *cap * 2 : 65536;
		*buf = xreallocarray(*buf, *cap, 1);
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void
sql_append_str(char **buf, size_t *len, size_t *cap, const char *s)
{
	sql_append(buf, len, cap, s, strlen(s));
}

/* "INSERT [IGNORE] INTO t (cols) VALUES " */
static void
sql_insert_head(const struct dircsv_table *t, char **buf, size_t *len,
    size_t *cap)
{
	int	i;

	*len = 0;
	sql_append_str(buf, len, cap, t->insert == I_IGNORE ?
	    "INSERT IGNORE INTO " : "INSERT INTO ");
	sql_append_str(buf, len, cap, t->sql_table);
	sql_append_str(buf, len, cap, " (");
	for (i = 0; i < t->ncols; i++) {
		if (i > 0)
			sql_append_str(buf, len, cap, ", ");
		sql_append_str(buf, len, cap, t->cols[i].sql);
	}
	sql_append_str(buf, len, cap, ") VALUES ");
}

/* " ON DUPLICATE KEY UPDATE c = VALUES(c), ..." for the non-key columns */
static void
sql_insert_tail(const struct dircsv_table *t, char **buf, size_t *len,
    size_t *cap)
{
	int	i;

	if (t->insert != I_UPSERT || t->nkey == t->ncols)
		return;
	sql_append_str(buf, len, cap, " ON DUPLICATE KEY UPDATE ");
	for (i = t->nkey; i < t->ncols; i++) {
		if (i > t->nkey)
			sql_append_str(buf, len, cap, ", ");
		sql_append_str(buf, len, cap, t->cols[i].sql);
		sql_append_str(buf, len, cap, " = VALUES(");
		sql_append_str(buf, len, cap, t->cols[i].sql);
		sql_append_str(buf, len, cap, ")");
	}
}

static void
sql_append_row(MYSQL *db, const struct dircsv_table *t, char **f, bool first,
    char **buf, size_t *len, size_t *cap)
{
	char	esc[2 * CSV_MAX_FIELD + 1];
	int	i;

	sql_append_str(buf, len, cap, first ? "(" : ", (");
	for (i = 0; i < t->ncols; i++) {
		if (i > 0)
			sql_append_str(buf, len, cap, ", ");
		if (*f[i] == '\0') {
			sql_append_str(buf, len, cap, "NULL");
			continue;
		}
		mysql_real_escape_string(db, esc, f[i], strlen(f[i]));
		sql_append_str(buf, len, cap, "'");
		sql_append_str(buf, len, cap, esc);
		sql_append_str(buf, len, cap, "'");
	}
	sql_append_str(buf, len, cap, ")");
}

static int
run_batch(MYSQL *db, const struct dircsv_table *t, char **buf, size_t *len,
    size_t *cap, char *err, size_t errlen)
{
	sql_insert_tail(t, buf, len, cap);
	if (mysql_real_query(db, *buf, *len) != 0) {
		snprintf(err, errlen, "writing %s: %s (error %u)", t->name,
		    mysql_error(db), mysql_errno(db));
		return -1;
	}
	return 0;
}

/* Second pass: write every row in one transaction. */
static int
pass_write(MYSQL *db, struct import_state *st, struct csv_reader *r,
    unsigned long total, bool replace, char *err, size_t errlen)
{
	const struct dircsv_table	*t = st->t;
	struct progress			*pr;
	char				**f, *buf = NULL, q[128];
	size_t				 len = 0, cap = 0;
	unsigned long			 done = 0, inbatch = 0;
	int				 n, rc = -1;

	if (csv_next(r, &f, &n) != 1)	/* the header, checked before */
		return -1;
	if (mysql_query(db, "START TRANSACTION") != 0)
		goto fail;
	if (replace) {
		snprintf(q, sizeof(q), "DELETE FROM %s", t->sql_table);
		if (mysql_query(db, q) != 0)
			goto fail;
	}
	pr = progress_start(stdout, "importing", total);
	sql_insert_head(t, &buf, &len, &cap);
	while (csv_next(r, &f, &n) == 1) {
		sql_append_row(db, t, f, inbatch == 0, &buf, &len, &cap);
		if (++inbatch == BATCH_ROWS) {
			if (run_batch(db, t, &buf, &len, &cap, err, errlen) == -1)
				goto fail_progress;
			done += inbatch;
			inbatch = 0;
			sql_insert_head(t, &buf, &len, &cap);
			progress_update(pr, done);
		}
	}
	if (inbatch > 0 &&
	    run_batch(db, t, &buf, &len, &cap, err, errlen) == -1)
		goto fail_progress;
	if (mysql_query(db, "COMMIT") != 0 || mysql_errno(db) != 0)
		goto fail_progress;
	progress_end(pr);
	free(buf);
	return 0;

fail_progress:
	progress_end(pr);
fail:
	if (err[0] == '\0')
		snprintf(err, errlen, "writing %s: %s (error %u)", t->name,
		    mysql_error(db), mysql_errno(db));
	mysql_query(db, "ROLLBACK");
	free(buf);
	return rc;
}

/*
 * Import path into table: all or nothing. Problems with the file are printed
 * to errfp and counted in res->errors (return 1); a database failure gives
 * -1 with err; success 0.
 */
int
dircsv_import(MYSQL *db, const char *table, const char *path, bool replace,
    FILE *errfp, struct dircsv_result *res, char *err, size_t errlen)
{
	struct import_state	 st;
	struct csv_reader	*r = NULL;
	FILE			*fp = NULL;
	int			 i, rc = -1;

	memset(&st, 0, sizeof(st));
	memset(res, 0, sizeof(*res));
	err[0] = '\0';
	if ((st.t = dircsv_find(table)) == NULL) {
		snprintf(err, errlen, "unknown table %s (one of: %s)", table,
		    dircsv_tables());
		return -1;
	}
	st.path = path;
	st.errfp = errfp;
	for (i = 0; i < st.t->ncols; i++)
		if (st.t->cols[i].ref != R_NONE &&
		    refset_load(db, st.t->cols[i].ref,
		    &st.refs[st.t->cols[i].ref], err, errlen) == -1)
			goto done;
	if (strcmp(table, "person_files") == 0 &&
	    refset_load(db, R_QUALITY, &st.refs[R_QUALITY], err, errlen) == -1)
		goto done;
	if (st.t->insert == I_PLAIN && !replace &&
	    preload_keys(db, &st, err, errlen) == -1)
		goto done;
	if (open_csv(path, &fp, &r, err, errlen) == -1)
		goto done;
	res->rows = pass_check(&st, r);
	res->errors = st.errors;
	if (st.errors > MAX_PRINTED && errfp != NULL)
		fprintf(errfp, "%s: %lu more problems not shown\n", path,
		    st.errors - MAX_PRINTED);
	if (st.errors > 0) {
		rc = 1;
		goto done;
	}
	csv_close(r);
	rewind(fp);
	r = csv_open(fp);
	rc = pass_write(db, &st, r, res->rows, replace, err, errlen);
done:
	csv_close(r);
	if (fp != NULL)
		fclose(fp);
	for (i = 0; i < R_COUNT; i++)
		refset_free(&st.refs[i]);
	free(st.keys);
	return rc;
}

/* Export table as CSV to out, ordered by key; 0 or -1 with err. */
int
dircsv_export(MYSQL *db, const char *table, FILE *out, char *err,
    size_t errlen)
{
	const struct dircsv_table	*t;
	const char			*cols[MAX_COLS], *vals[MAX_COLS];
	struct output			*o;
	MYSQL_RES			*res;
	MYSQL_ROW			 row;
	char				 q[1024];
	size_t				 len = 0;
	int				 i;

	if ((t = dircsv_find(table)) == NULL) {
		snprintf(err, errlen, "unknown table %s (one of: %s)", table,
		    dircsv_tables());
		return -1;
	}
	len += (size_t)snprintf(q, sizeof(q), "SELECT ");
	for (i = 0; i < t->ncols; i++) {
		cols[i] = t->cols[i].csv;
		len += (size_t)snprintf(q + len, sizeof(q) - len, "%s%s",
		    i ? ", " : "", t->cols[i].sql);
	}
	snprintf(q + len, sizeof(q) - len, " FROM %s ORDER BY %s", t->sql_table,
	    t->order_by);
	if (mysql_query(db, q) != 0 || (res = mysql_use_result(db)) == NULL) {
		snprintf(err, errlen, "reading %s: %s", table, mysql_error(db));
		return -1;
	}
	o = output_open(OUTPUT_CSV, out, t->ncols, cols);
	while ((row = mysql_fetch_row(res)) != NULL) {
		for (i = 0; i < t->ncols; i++)
			vals[i] = row[i];
		output_row(o, vals);
	}
	output_close(o);
	if (mysql_errno(db) != 0) {
		snprintf(err, errlen, "reading %s: %s", table, mysql_error(db));
		mysql_free_result(res);
		return -1;
	}
	mysql_free_result(res);
	return ferror(out) ? -1 : 0;
}

/*
 * kruispunt - the admin tool's policy-support statistics and research
 * extracts: stats population, exchanges, mutations, extract.
 *
 * No output holds an SSIN. Counts go through stats_suppress() (src/stats.c)
 * before they are shown; the extract names persons only by a keyed
 * pseudonym and lists them in pseudonym order, so that not even the order
 * of its rows follows the SSINs.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>
#include <openssl/crypto.h>

#include "admin.h"
#include "config.h"
#include "db.h"
#include "output.h"
#include "period.h"
#include "ssin.h"
#include "stats.h"
#include "xmalloc.h"

static int cmd_stats_population(struct admin_ctx *, int, char **);
static int cmd_stats_exchanges(struct admin_ctx *, int, char **);
static int cmd_stats_mutations(struct admin_ctx *, int, char **);
static int cmd_stats_extract(struct admin_ctx *, int, char **);

const struct admin_cmd admin_stats_cmds[] = {
	{ "stats population", "[--date DATE] [--threshold N]", 0,
	  "persons per sector and quality, and per pair of qualities",
	  cmd_stats_population },
	{ "stats exchanges", "--from DATE --to DATE [--by month|week|day] "
	  "[--threshold N]", 0,
	  "exchanges per period, sector, service and decision; latency",
	  cmd_stats_exchanges },
	{ "stats mutations", "--from DATE --to DATE [--threshold N]", 0,
	  "published mutations, deliveries, delays, dead letters per type",
	  cmd_stats_mutations },
	{ "stats extract", "--key-file FILE [--date DATE]", 0,
	  "pseudonymised person-level extract for research",
	  cmd_stats_extract },
	{ NULL, NULL, 0, NULL, NULL }
};

/* A query's rows, streamed: run it; NULL after a message. */
static MYSQL_RES *
stats_query(MYSQL *db, const char *cmd, const char *q, int stream)
{
	MYSQL_RES	*res;

	if (mysql_query(db, q) != 0 || (res = stream ? mysql_use_result(db) :
	    mysql_store_result(db)) == NULL) {
		fprintf(stderr, "kruispunt %s: %s\n", cmd, mysql_error(db));
		return NULL;
	}
	return res;
}

/* Free a result; -1 (after a message) if fetching ended on an error. */
static int
stats_query_end(MYSQL *db, const char *cmd, MYSQL_RES *res)
{
	int	rc = 0;

	if (mysql_errno(db) != 0) {
		fprintf(stderr, "kruispunt %s: %s\n", cmd, mysql_error(db));
		rc = -1;
	}
	mysql_free_result(res);
	return rc;
}

/* --threshold N (1 or more) or the configuration's; an exit status. */
static int
stats_threshold(const char *cmd, const char *opt, const struct kp_config *cf,
    uint64_t *out)
{
	char		*end;
	unsigned long	 v;

	*out = cf != NULL && cf->stats_threshold > 0 ?
	    (uint64_t)cf->stats_threshold : 10;
	if (opt == NULL)
		return ADMIN_EXIT_OK;
	v = strtoul(opt, &end, 10);
	if (*opt < '1' || *opt > '9' || *end != '\0' || v > 1000000) {
		fprintf(stderr, "kruispunt %s: --threshold %s is not a number "
		    "from 1 to 1000000\n", cmd, opt);
		return ADMIN_EXIT_USAGE;
	}
	*out = v;
	return ADMIN_EXIT_OK;
}

/* Check --from/--to (both needed, from not after to); an exit status. */
static int
stats_range(const char *cmd, const char *from, const char *to)
{
	kp_day	f, t;

	if (from == NULL || to == NULL) {
		fprintf(stderr, "kruispunt %s: --from and --to are required\n",
		    cmd);
		return ADMIN_EXIT_USAGE;
	}
	if (day_parse(from, &f) == -1 || day_parse(to, &t) == -1) {
		fprintf(stderr, "kruispunt %s: %s is not a date (YYYY-MM-DD)\n",
		    cmd, day_parse(from, &f) == -1 ? from : to);
		return ADMIN_EXIT_USAGE;
	}
	if (f > t) {
		fprintf(stderr, "kruispunt %s: --from %s is after --to %s\n",
		    cmd, from, to);
		return ADMIN_EXIT_USAGE;
	}
	return ADMIN_EXIT_OK;
}

/* Check --date, or take today's; an exit status. */
static int
stats_date(const char *cmd, const char *opt, char out[DAY_TEXT_LEN])
{
	kp_day	d;

	if (opt == NULL) {
		day_format(day_today(), out);
		return ADMIN_EXIT_OK;
	}
	if (day_parse(opt, &d) == -1) {
		fprintf(stderr, "kruispunt %s: %s is not a date (YYYY-MM-DD)\n",
		    cmd, opt);
		return ADMIN_EXIT_USAGE;
	}
	day_format(d, out);
	return ADMIN_EXIT_OK;
}

/* Check --threshold, connect, and settle the threshold; an exit status. */
static int
stats_open(struct admin_ctx *ctx, const char *cmd, const char *thr_opt,
    struct kp_config **cf, void **db, uint64_t *threshold)
{
	int	rc;

	if ((rc = stats_threshold(cmd, thr_opt, NULL, threshold)) != 0 ||
	    (rc = admin_open_db(ctx, cf, db)) != 0)
		return rc;
	return stats_threshold(cmd, thr_opt, *cf, threshold);
}

/* Read every later query from one snapshot; 0, or -1 after a message. */
static int
stats_snapshot(MYSQL *db, const char *cmd)
{
	if (mysql_query(db, "START TRANSACTION WITH CONSISTENT SNAPSHOT") == 0)
		return 0;
	fprintf(stderr, "kruispunt %s: %s\n", cmd, mysql_error(db));
	return -1;
}

/* ------------------------------------------------------------------ */
/* The persons of the directory at a date                             */
/* ------------------------------------------------------------------ */

struct stats_quals {
	unsigned int	  n;
	char		**code;		/* by sector, then code */
	char		**sector;
	unsigned int	 *by_code;	/* indexes, in code order */
};

static const struct stats_quals *stats_cmp_quals;

/* qsort order of quality indexes by code. */
static int
stats_cmp_qual(const void *a, const void *b)
{
	return strcmp(stats_cmp_quals->code[*(const unsigned int *)a],
	    stats_cmp_quals->code[*(const unsigned int *)b]);
}

/* Load the qualities; 0, or -1 after a message. */
static int
stats_quals_load(MYSQL *db, const char *cmd, struct stats_quals *qs)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	unsigned int	 i;

	memset(qs, 0, sizeof(*qs));
	if ((res = stats_query(db, cmd, "SELECT code, sector FROM quality "
	    "ORDER BY sector, code", 0)) == NULL)
		return -1;
	if (mysql_num_rows(res) > STATS_MAX_QUALITIES) {
		fprintf(stderr, "kruispunt %s: more than %d qualities\n", cmd,
		    STATS_MAX_QUALITIES);
		mysql_free_result(res);
		return -1;
	}
	qs->n = (unsigned int)mysql_num_rows(res);
	qs->code = xcalloc(qs->n + 1, sizeof(char *));
	qs->sector = xcalloc(qs->n + 1, sizeof(char *));
	qs->by_code = xcalloc(qs->n + 1, sizeof(unsigned int));
	for (i = 0; (row = mysql_fetch_row(res)) != NULL && i < qs->n; i++) {
		qs->code[i] = xstrdup(row[0]);
		qs->sector[i] = xstrdup(row[1]);
		qs->by_code[i] = i;
	}
	mysql_free_result(res);
	stats_cmp_quals = qs;
	if (qs->n > 1)
		qsort(qs->by_code, qs->n, sizeof(unsigned int), stats_cmp_qual);
	return 0;
}

/* The index of a quality code, or qs->n when unknown. */
static unsigned int
stats_quals_find(const struct stats_quals *qs, const char *code)
{
	unsigned int	lo = 0, hi = qs->n, mid;
	int		c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = strcmp(code, qs->code[qs->by_code[mid]])) == 0)
			return qs->by_code[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return qs->n;
}

/* Free the qualities. */
static void
stats_quals_free(struct stats_quals *qs)
{
	unsigned int	i;

	for (i = 0; i < qs->n; i++) {
		free(qs->code[i]);
		free(qs->sector[i]);
	}
	free(qs->code);
	free(qs->sector);
	free(qs->by_code);
}

/*
 * The (person, quality) pairs of the files current at a date, sorted by
 * person. One sequential scan of person_file: at any date most files are
 * current, so no index on the dates would spare reading nearly every row,
 * and a full scan of the clustered index is the cheapest way to read them
 * all (EXPLAIN: type ALL). The rows are streamed (mysql_use_result), packed
 * into one integer each and sorted here, where MariaDB would need a
 * temporary table for 4 million groups. 0, or -1 after a message.
 */
static int
stats_scan(MYSQL *db, const char *cmd, const char *date,
    const struct stats_quals *qs, uint64_t **pairsp, size_t *np)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	uint64_t	*pairs = NULL, num;
	size_t		 n = 0, cap = 0;
	unsigned int	 q;
	char		 sql[256];

	snprintf(sql, sizeof(sql), "SELECT ssin, quality FROM person_file "
	    "WHERE begin_date <= '%s' AND (end_date IS NULL OR end_date >= "
	    "'%s')", date, date);
	if ((res = stats_query(db, cmd, sql, 1)) == NULL)
		return -1;
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] == NULL || row[1] == NULL ||
		    stats_ssin_number(row[0], &num) == -1 ||
		    (q = stats_quals_find(qs, row[1])) == qs->n)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			pairs = xreallocarray(pairs, cap, sizeof(*pairs));
		}
		pairs[n++] = STATS_PACK(num, q);
	}
	if (stats_query_end(db, cmd, res) == -1) {
		free(pairs);
		return -1;
	}
	stats_sort(pairs, n);
	*pairsp = pairs;
	*np = n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* stats population                                                   */
/* ------------------------------------------------------------------ */

/* Print the counts per quality and per pair of qualities. */
static void
stats_population_print(struct admin_ctx *ctx, const char *date,
    const struct stats_quals *qs, const uint64_t *persons, const uint64_t *overlap, uint64_t threshold)
{
	static const char *const cols[] = { "date", "sector", "quality",
	    "and_sector", "and_quality", "persons" };
	struct stats_cell	*cells;
	struct stats_link	*links;
	struct output		*o;
	size_t			 nq = qs->n, npairs = nq * (nq - 1) / 2, c, l = 0;
	unsigned int		 a, b;
	char			 buf[STATS_CELL_TEXT];

	cells = xcalloc(nq + npairs + 1, sizeof(*cells));
	links = xcalloc(2 * npairs + 1, sizeof(*links));
	for (a = 0; a < nq; a++)
		cells[a].value = persons[a];
	for (c = nq, a = 0; a < nq; a++)
		for (b = a + 1; b < nq; b++, c++) {
			cells[c].value = overlap[(size_t)a * nq + b];
			links[l++] = (struct stats_link){ a, c, STATS_SUBSET };
			links[l++] = (struct stats_link){ b, c, STATS_SUBSET };
		}
	stats_suppress(cells, nq + npairs, links, l, threshold);
	o = output_open(ctx->format, stdout, 6, cols);
	for (a = 0; a < nq; a++) {
		const char *v[6] = { date, qs->sector[a], qs->code[a], NULL,
		    NULL, stats_cell_text(&cells[a], threshold, buf) };
		output_row(o, v);
	}
	for (c = nq, a = 0; a < nq; a++)
		for (b = a + 1; b < nq; b++, c++) {
			const char *v[6] = { date, qs->sector[a],
			    qs->code[a], qs->sector[b], qs->code[b],
			    stats_cell_text(&cells[c], threshold, buf) };
			output_row(o, v);
		}
	output_close(o);
	free(links);
	free(cells);
}

/* stats population: persons per quality and pair of qualities at a date. */
static int
cmd_stats_population(struct admin_ctx *ctx, int argc, char **argv)
{
	const char		*date_opt = NULL, *thr_opt = NULL;
	struct admin_opt	 opts[] = { { "date", &date_opt, NULL },
				    { "threshold", &thr_opt, NULL },
				    { NULL, NULL, NULL } };
	struct stats_quals	 qs;
	struct kp_config	*cf = NULL;
	uint64_t		*pairs = NULL, *persons = NULL, *overlap = NULL;
	uint64_t		 threshold;
	size_t			 n;
	void			*db = NULL;
	char			 date[DAY_TEXT_LEN];
	int			 rc;

	memset(&qs, 0, sizeof(qs));
	if (admin_parse_opts("stats population", &argc, argv, opts) == -1 ||
	    argc) {
		fprintf(stderr, "usage: kruispunt stats population [--date "
		    "DATE] [--threshold N]\n");
		return ADMIN_EXIT_USAGE;
	}
	if ((rc = stats_date("stats population", date_opt, date)) != 0 ||
	    (rc = stats_open(ctx, "stats population", thr_opt, &cf, &db,
	    &threshold)) != 0)
		goto out;
	rc = ADMIN_EXIT_FAIL;
	if (stats_quals_load(db, "stats population", &qs) == -1 ||
	    stats_scan(db, "stats population", date, &qs, &pairs, &n) == -1)
		goto out;
	persons = xcalloc(qs.n + 1, sizeof(*persons));
	overlap = xcalloc((size_t)qs.n * qs.n + 1, sizeof(*overlap));
	stats_count_persons(pairs, n, qs.n, persons, overlap);
	stats_population_print(ctx, date, &qs, persons, overlap, threshold);
	rc = ADMIN_EXIT_OK;
out:
	free(overlap);
	free(persons);
	free(pairs);
	stats_quals_free(&qs);
	db_close(db);
	config_free(cf);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Tables of counts with totals                                       */
/* ------------------------------------------------------------------ */

/* A row of a table: its keys (NULL: the total over that key) and count. */
struct stats_row {
	const char	*k[4];
	size_t		 cell;
	int		 has_pct;
	uint64_t	 p50, p99;
};

struct stats_table {
	struct stats_row	*rows;
	size_t			 nrows, caprows;
	struct stats_cell	*cells;
	size_t			 ncells, capcells;
	struct stats_link	*links;
	size_t			 nlinks, caplinks;
	char			**strs;
	size_t			 nstrs, capstrs;
};

/* Keep a copy of a string for the table's lifetime. */
static const char *
stats_table_str(struct stats_table *t, const char *s)
{
	if (s == NULL)
		s = "unknown";
	if (t->nstrs == t->capstrs) {
		t->capstrs = t->capstrs ? t->capstrs * 2 : 64;
		t->strs = xreallocarray(t->strs, t->capstrs, sizeof(char *));
	}
	return t->strs[t->nstrs++] = xstrdup(s);
}

/* A new count; its index. */
static size_t
stats_table_cell(struct stats_table *t, uint64_t value)
{
	if (t->ncells == t->capcells) {
		t->capcells = t->capcells ? t->capcells * 2 : 64;
		t->cells = xreallocarray(t->cells, t->capcells,
		    sizeof(*t->cells));
	}
	t->cells[t->ncells].value = value;
	t->cells[t->ncells].state = STATS_SHOWN;
	return t->ncells++;
}

/* A new row with a new count; its index. */
static size_t
stats_table_row(struct stats_table *t, const char *const k[4], uint64_t value)
{
	struct stats_row	*r;

	if (t->nrows == t->caprows) {
		t->caprows = t->caprows ? t->caprows * 2 : 64;
		t->rows = xreallocarray(t->rows, t->caprows, sizeof(*t->rows));
	}
	r = &t->rows[t->nrows];
	memset(r, 0, sizeof(*r));
	memcpy(r->k, k, sizeof(r->k));
	r->cell = stats_table_cell(t, value);
	return t->nrows++;
}

/* Record that inner is part of (or within) outer. */
static void
stats_table_link(struct stats_table *t, size_t outer, size_t inner,
    enum stats_link_kind kind)
{
	if (t->nlinks == t->caplinks) {
		t->caplinks = t->caplinks ? t->caplinks * 2 : 64;
		t->links = xreallocarray(t->links, t->caplinks,
		    sizeof(*t->links));
	}
	t->links[t->nlinks++] = (struct stats_link){ outer, inner, kind };
}

/* Free a table. */
static void
stats_table_free(struct stats_table *t)
{
	size_t	i;

	for (i = 0; i < t->nstrs; i++)
		free(t->strs[i]);
	free(t->strs);
	free(t->rows);
	free(t->cells);
	free(t->links);
}

/* Compare two keys; a total (NULL) after every code. */
static int
stats_key_cmp(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == NULL) - (b == NULL);
	return strcmp(a, b);
}

/* Row order: keys 0, 1, 2, 3. */
static int
stats_row_cmp(const void *pa, const void *pb)
{
	const struct stats_row	*a = pa, *b = pb;
	int			 i, c;

	for (i = 0; i < 4; i++)
		if ((c = stats_key_cmp(a->k[i], b->k[i])) != 0)
			return c;
	return 0;
}

/* Order by keys 0 and 2 (period and service), then 1. */
static int
stats_row_cmp_service(const void *pa, const void *pb)
{
	const struct stats_row	*a = pa, *b = pb;
	int			 c;

	if ((c = stats_key_cmp(a->k[0], b->k[0])) != 0 ||
	    (c = stats_key_cmp(a->k[2], b->k[2])) != 0)
		return c;
	return stats_key_cmp(a->k[1], b->k[1]);
}

/* Microseconds as milliseconds or seconds with three decimals. */
static const char *
stats_us_text(uint64_t us, double unit, char buf[32])
{
	snprintf(buf, 32, "%.3f", (double)us / unit);
	return buf;
}

/* ------------------------------------------------------------------ */
/* stats exchanges                                                    */
/* ------------------------------------------------------------------ */

/*
 * The exchanges of a range. The audit records are found through the index
 * audit_received (received_at), a range scan over the days asked; kind is
 * checked on those rows, and the requester's sector is one primary-key
 * lookup in institution per record. Both queries read one snapshot, so that
 * the latency ranks agree with the counts.
 */
#define STATS_EXCHANGES_FROM \
	"FROM audit_record a LEFT JOIN institution i ON i.id = a.sender " \
	"WHERE a.received_at >= '%s' AND a.received_at < DATE_ADD('%s', " \
	"INTERVAL 1 DAY) AND a.kind = 'exchange'"

/* Fill the table with the counts per period, sector, service, decision. */
static int
stats_exchanges_counts(MYSQL *db, const char *fmt, const char *from,
    const char *to, struct stats_table *t)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		 q[1024];

	snprintf(q, sizeof(q), "SELECT DATE_FORMAT(a.received_at, '%s'), "
	    "i.sector, a.service, a.decision, COUNT(*) " STATS_EXCHANGES_FROM
	    " GROUP BY 1, 2, 3, 4", fmt, from, to);
	if ((res = stats_query(db, "stats exchanges", q, 0)) == NULL)
		return -1;
	while ((row = mysql_fetch_row(res)) != NULL) {
		const char *k[4];
		k[0] = stats_table_str(t, row[0]);
		k[1] = stats_table_str(t, row[1]);
		k[2] = stats_table_str(t, row[2]);
		k[3] = stats_table_str(t, row[3]);
		stats_table_row(t, k, strtoull(row[4], NULL, 10));
	}
	return stats_query_end(db, "stats exchanges", res);
}

/*
 * Add the totals: per period, sector and service (over decisions); per
 * period and service (over sectors); per period. The rows per period and
 * service are left at [*ps, *pe), in (period, service) order.
 */
static void
stats_exchanges_totals(struct stats_table *t, size_t *ps, size_t *pe)
{
	struct stats_row	*tmp;
	size_t			 nd = t->nrows, n1, i, tot = 0;

	if (nd > 1)
		qsort(t->rows, nd, sizeof(*t->rows), stats_row_cmp);
	for (i = 0; i < nd; i++) {
		struct stats_row *r = &t->rows[i];
		if (i == 0 || stats_key_cmp(r->k[0], t->rows[tot].k[0]) ||
		    stats_key_cmp(r->k[1], t->rows[tot].k[1]) ||
		    stats_key_cmp(r->k[2], t->rows[tot].k[2])) {
			const char *k[4] = { r->k[0], r->k[1], r->k[2], NULL };
			tot = stats_table_row(t, k, 0);
		}
		t->cells[t->rows[tot].cell].value += t->cells[t->rows[i].cell].value;
		stats_table_link(t, t->rows[tot].cell, t->rows[i].cell, STATS_PART);
	}
	n1 = t->nrows - nd;
	tmp = xreallocarray(NULL, n1 + 1, sizeof(*tmp));
	if (n1 > 0)	/* t->rows is NULL when there is no row */
		memcpy(tmp, t->rows + nd, n1 * sizeof(*tmp));
	if (n1 > 1)
		qsort(tmp, n1, sizeof(*tmp), stats_row_cmp_service);
	*ps = t->nrows;
	for (i = 0; i < n1; i++) {
		if (i == 0 || stats_key_cmp(tmp[i].k[0], t->rows[tot].k[0]) ||
		    stats_key_cmp(tmp[i].k[2], t->rows[tot].k[2])) {
			const char *k[4] = { tmp[i].k[0], NULL, tmp[i].k[2], NULL };
			tot = stats_table_row(t, k, 0);
		}
		t->cells[t->rows[tot].cell].value += t->cells[tmp[i].cell].value;
		stats_table_link(t, t->rows[tot].cell, tmp[i].cell, STATS_PART);
	}
	*pe = t->nrows;
	free(tmp);
	for (i = *ps; i < *pe; i++) {
		if (i == *ps || stats_key_cmp(t->rows[i].k[0], t->rows[tot].k[0])) {
			const char *k[4] = { t->rows[i].k[0], NULL, NULL, NULL };
			tot = stats_table_row(t, k, 0);
		}
		t->cells[t->rows[tot].cell].value +=
		    t->cells[t->rows[i].cell].value;
		stats_table_link(t, t->rows[tot].cell, t->rows[i].cell,
		    STATS_PART);
	}
}

/* The row of [ps, pe) for a period and service, or NULL. */
static struct stats_row *
stats_exchanges_find(struct stats_table *t, size_t ps, size_t pe,
    const char *period, const char *service)
{
	struct stats_row	key;

	memset(&key, 0, sizeof(key));
	key.k[0] = period;
	key.k[2] = service;
	return bsearch(&key, t->rows + ps, pe - ps, sizeof(key),
	    stats_row_cmp_service);
}

/* The p50 and p99 latency of each period and service, by nearest rank. */
static int
stats_exchanges_latency(MYSQL *db, const char *fmt, const char *from,
    const char *to, struct stats_table *t, size_t ps, size_t pe)
{
	struct stats_row	*r = NULL;
	MYSQL_RES		*res;
	MYSQL_ROW		 row;
	uint64_t		 pos = 0, n = 0, v;
	char			 q[1024];

	snprintf(q, sizeof(q), "SELECT DATE_FORMAT(a.received_at, '%s'), "
	    "COALESCE(a.service, 'unknown'), a.latency_us "
	    STATS_EXCHANGES_FROM " ORDER BY 1, 2, 3", fmt, from, to);
	if ((res = stats_query(db, "stats exchanges", q, 1)) == NULL)
		return -1;
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (r == NULL || strcmp(r->k[0], row[0]) != 0 ||
		    strcmp(r->k[2], row[1]) != 0) {
			if ((r = stats_exchanges_find(t, ps, pe, row[0],
			    row[1])) == NULL)
				continue;
			r->has_pct = 1;
			pos = 0;
			n = t->cells[r->cell].value;
		}
		v = strtoull(row[2], NULL, 10);
		pos++;
		if (pos == stats_rank(n, 50))
			r->p50 = v;
		if (pos == stats_rank(n, 99))
			r->p99 = v;
	}
	return stats_query_end(db, "stats exchanges", res);
}

/* Print the table, every row in order, counts suppressed. */
static void
stats_exchanges_print(struct admin_ctx *ctx, struct stats_table *t,
    uint64_t threshold)
{
	static const char *const cols[] = { "period", "requester_sector",
	    "service", "decision", "exchanges", "p50_ms", "p99_ms" };
	struct output	*o;
	size_t		 i;
	char		 buf[STATS_CELL_TEXT], p50[32], p99[32];

	stats_suppress(t->cells, t->ncells, t->links, t->nlinks, threshold);
	if (t->nrows > 1)
		qsort(t->rows, t->nrows, sizeof(*t->rows), stats_row_cmp);
	o = output_open(ctx->format, stdout, 7, cols);
	for (i = 0; i < t->nrows; i++) {
		const struct stats_row *r = &t->rows[i];
		/* latency only of groups at the threshold or above */
		int pct = r->has_pct && t->cells[r->cell].value >= threshold;
		const char *v[7] = { r->k[0],
		    r->k[1] ? r->k[1] : STATS_TOTAL,
		    r->k[2] ? r->k[2] : STATS_TOTAL,
		    r->k[3] ? r->k[3] : STATS_TOTAL,
		    stats_cell_text(&t->cells[r->cell], threshold, buf),
		    pct ? stats_us_text(r->p50, 1000.0, p50) : NULL,
		    pct ? stats_us_text(r->p99, 1000.0, p99) : NULL };
		output_row(o, v);
	}
	output_close(o);
}

/* stats exchanges: exchanges per period, sector, service and decision. */
static int
cmd_stats_exchanges(struct admin_ctx *ctx, int argc, char **argv)
{
	const char		*from = NULL, *to = NULL, *by = "month",
				*thr_opt = NULL, *fmt;
	struct admin_opt	 opts[] = { { "from", &from, NULL },
				    { "to", &to, NULL }, { "by", &by, NULL },
				    { "threshold", &thr_opt, NULL },
				    { NULL, NULL, NULL } };
	struct stats_table	 t;
	struct kp_config	*cf = NULL;
	uint64_t		 threshold;
	size_t			 ps = 0, pe = 0;
	void			*db = NULL;
	int			 rc;

	memset(&t, 0, sizeof(t));
	if (admin_parse_opts("stats exchanges", &argc, argv, opts) == -1 ||
	    argc) {
		fprintf(stderr, "usage: kruispunt stats exchanges --from DATE "
		    "--to DATE [--by month|week|day] [--threshold N]\n");
		return ADMIN_EXIT_USAGE;
	}
	if ((rc = stats_range("stats exchanges", from, to)) != 0)
		return rc;
	if (strcmp(by, "month") == 0)
		fmt = "%Y-%m";
	else if (strcmp(by, "week") == 0)
		fmt = "%x-W%v";		/* ISO 8601 week */
	else if (strcmp(by, "day") == 0)
		fmt = "%Y-%m-%d";
	else {
		fprintf(stderr, "kruispunt stats exchanges: --by is month, "
		    "week or day, not %s\n", by);
		return ADMIN_EXIT_USAGE;
	}
	if ((rc = stats_open(ctx, "stats exchanges", thr_opt, &cf, &db,
	    &threshold)) != 0)
		goto out;
	rc = ADMIN_EXIT_FAIL;
	if (stats_snapshot(db, "stats exchanges") == -1)
		goto out;
	if (stats_exchanges_counts(db, fmt, from, to, &t) == -1)
		goto out;
	stats_exchanges_totals(&t, &ps, &pe);
	if (stats_exchanges_latency(db, fmt, from, to, &t, ps, pe) == -1)
		goto out;
	stats_exchanges_print(ctx, &t, threshold);
	rc = ADMIN_EXIT_OK;
out:
	stats_table_free(&t);
	db_close(db);
	config_free(cf);
	return rc;
}

/* ------------------------------------------------------------------ */
/* stats mutations                                                    */
/* ------------------------------------------------------------------ */

/* The columns of counts per mutation type. */
enum { M_PUBLISHED, M_DELIVERIES, M_DELIVERED, M_PENDING, M_DEAD, M_NCOLS };

struct stats_mtype {
	char		*code;
	uint64_t	 v[M_NCOLS];
	int		 has_pct;
	uint64_t	 p50, p99;
};

struct stats_mtypes {
	struct stats_mtype	*t;
	size_t			 n, cap;
};

/* The entry of a mutation type, made when new. */
static struct stats_mtype *
stats_mtype(struct stats_mtypes *m, const char *code)
{
	size_t	i;

	if (code == NULL)
		code = "unknown";
	for (i = 0; i < m->n; i++)
		if (strcmp(m->t[i].code, code) == 0)
			return &m->t[i];
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->t = xreallocarray(m->t, m->cap, sizeof(*m->t));
	}
	memset(&m->t[m->n], 0, sizeof(m->t[m->n]));
	m->t[m->n].code = xstrdup(code);
	return &m->t[m->n++];
}

/* qsort order of mutation types. */
static int
stats_mtype_cmp(const void *a, const void *b)
{
	return strcmp(((const struct stats_mtype *)a)->code,
	    ((const struct stats_mtype *)b)->code);
}

/*
 * The publications of a range are found through the index audit_received;
 * their deliveries through outbox_ticket (one lookup per publication), so
 * no query reads the whole outbox. Deliveries that `kruispunt outbox purge`
 * removed are no longer counted.
 */
#define STATS_MUTATIONS_FROM \
	"FROM audit_record a %s WHERE a.received_at >= '%s' AND " \
	"a.received_at < DATE_ADD('%s', INTERVAL 1 DAY) AND a.kind = " \
	"'exchange' AND a.operation = 'PublishMutation' AND a.decision = 'OK'"
#define STATS_OUTBOX_JOIN	"JOIN outbox o ON o.ticket = a.ticket"

/* Count publications and deliveries per type (and delivery state). */
static int
stats_mutations_counts(MYSQL *db, const char *from, const char *to,
    struct stats_mtypes *m)
{
	struct stats_mtype	*e;
	MYSQL_RES		*res;
	MYSQL_ROW		 row;
	char			 q[1024];
	int			 col;

	snprintf(q, sizeof(q), "SELECT a.service, COUNT(*) "
	    STATS_MUTATIONS_FROM " GROUP BY 1", "", from, to);
	if ((res = stats_query(db, "stats mutations", q, 0)) == NULL)
		return -1;
	while ((row = mysql_fetch_row(res)) != NULL)
		stats_mtype(m, row[0])->v[M_PUBLISHED] =
		    strtoull(row[1], NULL, 10);
	if (stats_query_end(db, "stats mutations", res) == -1)
		return -1;
	snprintf(q, sizeof(q), "SELECT o.mutation_type, o.state, COUNT(*) "
	    STATS_MUTATIONS_FROM " GROUP BY 1, 2", STATS_OUTBOX_JOIN, from, to);
	if ((res = stats_query(db, "stats mutations", q, 0)) == NULL)
		return -1;
	while ((row = mysql_fetch_row(res)) != NULL) {
		e = stats_mtype(m, row[0]);
		col = strcmp(row[1], "delivered") == 0 ? M_DELIVERED :
		    strcmp(row[1], "dead") == 0 ? M_DEAD : M_PENDING;
		e->v[col] += strtoull(row[2], NULL, 10);
		e->v[M_DELIVERIES] += strtoull(row[2], NULL, 10);
	}
	return stats_query_end(db, "stats mutations", res);
}

/* The p50 and p99 delay from queueing to delivery, per type. */
static int
stats_mutations_delay(MYSQL *db, const char *from, const char *to,
    struct stats_mtypes *m)
{
	struct stats_mtype	*e = NULL, key;
	MYSQL_RES		*res;
	MYSQL_ROW		 row;
	uint64_t		 pos = 0, v;
	char			 q[1024];

	snprintf(q, sizeof(q), "SELECT o.mutation_type, GREATEST(0, "
	    "TIMESTAMPDIFF(MICROSECOND, o.created_at, o.delivered_at)) "
	    STATS_MUTATIONS_FROM " AND o.state = 'delivered' AND "
	    "o.delivered_at IS NOT NULL ORDER BY 1, 2", STATS_OUTBOX_JOIN,
	    from, to);
	if ((res = stats_query(db, "stats mutations", q, 1)) == NULL)
		return -1;
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (e == NULL || strcmp(e->code, row[0]) != 0) {
			key.code = row[0];
			if ((e = bsearch(&key, m->t, m->n, sizeof(key),
			    stats_mtype_cmp)) == NULL)
				continue;
			e->has_pct = 1;
			pos = 0;
		}
		v = strtoull(row[1], NULL, 10);
		pos++;
		if (pos == stats_rank(e->v[M_DELIVERED], 50))
			e->p50 = v;
		if (pos == stats_rank(e->v[M_DELIVERED], 99))
			e->p99 = v;
	}
	return stats_query_end(db, "stats mutations", res);
}

/* Print a row per type and the totals, counts suppressed. */
static void
stats_mutations_print(struct admin_ctx *ctx, const struct stats_mtypes *m,
    uint64_t threshold)
{
	static const char *const cols[] = { "mutation_type", "published",
	    "deliveries", "delivered", "pending", "dead", "p50_delay_s",
	    "p99_delay_s" };
	struct stats_cell	*cells;
	struct stats_link	*links;
	struct output		*o;
	size_t			 i, tot = m->n * M_NCOLS, l = 0;
	int			 j;
	char			 b[M_NCOLS][STATS_CELL_TEXT], p50[32], p99[32];

	cells = xcalloc(tot + M_NCOLS, sizeof(*cells));
	links = xcalloc((m->n + 1) * (M_NCOLS + 3), sizeof(*links));
	for (i = 0; i <= m->n; i++) {
		size_t row = i * M_NCOLS;
		for (j = 0; j < M_NCOLS; j++) {
			if (i < m->n) {
				cells[row + j].value = m->t[i].v[j];
				cells[tot + j].value += m->t[i].v[j];
				links[l++] = (struct stats_link){ tot + j,
				    row + j, STATS_PART };
			}
		}
		for (j = M_DELIVERED; j <= M_DEAD; j++)
			links[l++] = (struct stats_link){ row + M_DELIVERIES,
			    row + j, STATS_PART };
	}
	stats_suppress(cells, tot + M_NCOLS, links, l, threshold);
	o = output_open(ctx->format, stdout, 8, cols);
	for (i = 0; i <= m->n; i++) {
		const struct stats_mtype *e = i < m->n ? &m->t[i] : NULL;
		int pct = e != NULL && e->has_pct &&
		    e->v[M_DELIVERED] >= threshold;
		const char *v[8];
		v[0] = e != NULL ? e->code : STATS_TOTAL;
		for (j = 0; j < M_NCOLS; j++)
			v[1 + j] = stats_cell_text(&cells[i * M_NCOLS + j],
			    threshold, b[j]);
		v[6] = pct ? stats_us_text(e->p50, 1e6, p50) : NULL;
		v[7] = pct ? stats_us_text(e->p99, 1e6, p99) : NULL;
		output_row(o, v);
	}
	output_close(o);
	free(links);
	free(cells);
}

/* stats mutations: publications and deliveries per mutation type. */
static int
cmd_stats_mutations(struct admin_ctx *ctx, int argc, char **argv)
{
	const char		*from = NULL, *to = NULL, *thr_opt = NULL;
	struct admin_opt	 opts[] = { { "from", &from, NULL },
				    { "to", &to, NULL },
				    { "threshold", &thr_opt, NULL },
				    { NULL, NULL, NULL } };
	struct stats_mtypes	 m;
	struct kp_config	*cf = NULL;
	uint64_t		 threshold;
	size_t			 i;
	void			*db = NULL;
	int			 rc;

	memset(&m, 0, sizeof(m));
	if (admin_parse_opts("stats mutations", &argc, argv, opts) == -1 ||
	    argc) {
		fprintf(stderr, "usage: kruispunt stats mutations --from DATE "
		    "--to DATE [--threshold N]\n");
		return ADMIN_EXIT_USAGE;
	}
	if ((rc = stats_range("stats mutations", from, to)) != 0)
		return rc;
	if ((rc = stats_open(ctx, "stats mutations", thr_opt, &cf, &db,
	    &threshold)) != 0)
		goto out;
	rc = ADMIN_EXIT_FAIL;
	if (stats_snapshot(db, "stats mutations") == -1)
		goto out;
	if (stats_mutations_counts(db, from, to, &m) == -1)
		goto out;
	if (m.n > 0)
		if (m.n > 1)
			qsort(m.t, m.n, sizeof(*m.t), stats_mtype_cmp);
	if (stats_mutations_delay(db, from, to, &m) == -1)
		goto out;
	stats_mutations_print(ctx, &m, threshold);
	rc = ADMIN_EXIT_OK;
out:
	for (i = 0; i < m.n; i++)
		free(m.t[i].code);
	free(m.t);
	db_close(db);
	config_free(cf);
	return rc;
}

/* ------------------------------------------------------------------ */
/* stats extract                                                      */
/* ------------------------------------------------------------------ */

/* One person of an extract. */
struct stats_person {
	unsigned char	pseudonym[STATS_PSEUDONYM_RAW];
	char		age[8];
	const char	*sex;
	unsigned int	files;		/* index of its set of files */
};

/* The distinct sets of (sector, quality) of an extract, as text. */
struct stats_sets {
	char		**text;
	size_t		  n, cap;
	size_t		 *slot;		/* open addressing: index + 1, or 0 */
	size_t		  nslots;
};

/* FNV-1a of a string. */
static uint64_t
stats_hash(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The index of a set's text, added when new. */
static unsigned int
stats_sets_intern(struct stats_sets *s, const char *text)
{
	size_t	i, j, *old, nold;

	if (2 * (s->n + 1) > s->nslots) {
		old = s->slot;
		nold = s->nslots;
		s->nslots = s->nslots ? s->nslots * 2 : 256;
		s->slot = xcalloc(s->nslots, sizeof(size_t));
		for (i = 0; i < nold; i++) {
			if (old[i] == 0)
				continue;
			j = stats_hash(s->text[old[i] - 1]) & (s->nslots - 1);
			while (s->slot[j] != 0)
				j = (j + 1) & (s->nslots - 1);
			s->slot[j] = old[i];
		}
		free(old);
	}
	j = stats_hash(text) & (s->nslots - 1);
	for (; s->slot[j] != 0; j = (j + 1) & (s->nslots - 1))
		if (strcmp(s->text[s->slot[j] - 1], text) == 0)
			return (unsigned int)(s->slot[j] - 1);
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->text = xreallocarray(s->text, s->cap, sizeof(char *));
	}
	s->text[s->n] = xstrdup(text);
	s->slot[j] = ++s->n;
	return (unsigned int)(s->n - 1);
}

/* qsort order of persons: by pseudonym. */
static int
stats_person_cmp(const void *a, const void *b)
{
	return memcmp(((const struct stats_person *)a)->pseudonym,
	    ((const struct stats_person *)b)->pseudonym, STATS_PSEUDONYM_RAW);
}

/*
 * Turn sorted (person, quality) pairs into persons: pseudonym, age band and
 * sex at the date, and their set of files. Returns the number of persons.
 */
static size_t
stats_extract_persons(const uint64_t *pairs, size_t n,
    const struct stats_quals *qs, const unsigned char *key, size_t keylen,
    const char *date, struct stats_person **out, struct stats_sets *sets)
{
	struct stats_person	*p = NULL;
	struct ssin_info	 si;
	size_t			 np = 0, cap = 0, i = 0, len;
	unsigned int		 q, last;
	uint64_t		 who;
	char			 ssin[SSIN_LEN + 1], *files;
	int			 y = 1970, m = 1, d = 1;

	sscanf(date, "%d-%d-%d", &y, &m, &d);
	files = xmalloc((size_t)qs->n * 66 + 1);
	while (i < n) {
		who = STATS_PACK_PERSON(pairs[i]);
		if (np == cap) {
			cap = cap ? cap * 2 : 4096;
			p = xreallocarray(p, cap, sizeof(*p));
		}
		for (len = 0, last = qs->n; i < n &&
		    STATS_PACK_PERSON(pairs[i]) == who; i++) {
			if ((q = STATS_PACK_QUALITY(pairs[i])) == last)
				continue;
			len += (size_t)sprintf(files + len, "%s%s:%s",
			    len ? ";" : "", qs->sector[q], qs->code[q]);
			last = q;
		}
		stats_ssin_text(who, ssin);
		stats_pseudonym_raw(key, keylen, ssin, p[np].pseudonym);
		if (ssin_parse(ssin, &si) == SSIN_OK) {
			stats_age_band(&si, y, m, d, p[np].age);
			p[np].sex = stats_sex(&si);
		} else {
			snprintf(p[np].age, sizeof(p[np].age), "unknown");
			p[np].sex = "unknown";
		}
		p[np].files = stats_sets_intern(sets, files);
		np++;
	}
	OPENSSL_cleanse(ssin, sizeof(ssin));
	free(files);
	*out = p;
	return np;
}

/* stats extract: one pseudonymised row per person at a date. */
static int
cmd_stats_extract(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char *const cols[] = { "pseudonym", "age_band", "sex",
	    "files" };
	const char		*keyfile = NULL, *date_opt = NULL;
	struct admin_opt	 opts[] = { { "key-file", &keyfile, NULL },
				    { "date", &date_opt, NULL },
				    { NULL, NULL, NULL } };
	struct stats_quals	 qs;
	struct stats_sets	 sets;
	struct stats_person	*persons = NULL;
	struct kp_config	*cf = NULL;
	struct output		*o;
	unsigned char		*key = NULL;
	uint64_t		*pairs = NULL;
	size_t			 keylen = 0, n, np, i;
	void			*db = NULL;
	char			 date[DAY_TEXT_LEN], err[1024],
				 hex[STATS_PSEUDONYM_LEN];
	int			 rc;

	memset(&qs, 0, sizeof(qs));
	memset(&sets, 0, sizeof(sets));
	if (admin_parse_opts("stats extract", &argc, argv, opts) == -1 ||
	    argc || keyfile == NULL) {
		fprintf(stderr, "usage: kruispunt stats extract --key-file FILE "
		    "[--date DATE]\n");
		return ADMIN_EXIT_USAGE;
	}
	if ((rc = stats_date("stats extract", date_opt, date)) != 0)
		return rc;
	if (stats_key_load(keyfile, &key, &keylen, err, sizeof(err)) == -1) {
		fprintf(stderr, "kruispunt stats extract: %s\n", err);
		return ADMIN_EXIT_FAIL;
	}
	if ((rc = admin_open_db(ctx, &cf, &db)) != 0)
		goto out;
	rc = ADMIN_EXIT_FAIL;
	if (stats_quals_load(db, "stats extract", &qs) == -1 ||
	    stats_scan(db, "stats extract", date, &qs, &pairs, &n) == -1)
		goto out;
	np = stats_extract_persons(pairs, n, &qs, key, keylen, date, &persons,
	    &sets);
	if (np > 1)
		qsort(persons, np, sizeof(*persons), stats_person_cmp);
	o = output_open(ctx->format, stdout, 4, cols);
	for (i = 0; i < np; i++) {
		const char *v[4] = { hex, persons[i].age, persons[i].sex,
		    sets.text[persons[i].files] };
		stats_pseudonym_hex(persons[i].pseudonym, hex);
		output_row(o, v);
	}
	output_close(o);
	rc = ADMIN_EXIT_OK;
out:
	for (i = 0; i < sets.n; i++)
		free(sets.text[i]);
	free(sets.text);
	free(sets.slot);
	free(persons);
	free(pairs);
	stats_quals_free(&qs);
	stats_key_free(key, keylen);
	db_close(db);
	config_free(cf);
	return rc;
}

/*
 * kruispunt - the audit officers' commands: verify, search, show,
 * who-consulted, export.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "admin.h"
#include "auditread.h"
#include "certificate.h"
#include "config.h"
#include "db.h"
#include "enterprise.h"
#include "output.h"
#include "period.h"
#include "ssin.h"
#include "xmalloc.h"

static int cmd_verify(struct admin_ctx *, int, char **);
static int cmd_search(struct admin_ctx *, int, char **);
static int cmd_show(struct admin_ctx *, int, char **);
static int cmd_who(struct admin_ctx *, int, char **);
static int cmd_export(struct admin_ctx *, int, char **);

const struct admin_cmd admin_audit_cmds[] = {
	{ "audit verify", "[--node NODE] [--hub-cert CERT.pem]", 0,
	  "check every hash chain; exit 1 if a record was changed, removed, "
	  "inserted or reordered", cmd_verify },
	{ "audit search",
	  "[--explain] [--ssin N] [--institution ID] [--ticket T] [--message-id M] "
	  "[--service S] [--decision D] [--from DATE] [--to DATE] [--limit N] "
	  "[--page P]", 0, "find exchanges, newest first", cmd_search },
	{ "audit show", "TICKET", 1, "one exchange in full", cmd_show },
	{ "audit who-consulted", "SSIN [--from DATE] [--to DATE]", 1,
	  "every institution that obtained data about a person", cmd_who },
	{ "audit export", "--from DATE --to DATE", 0,
	  "every record of a period (use --format csv or json)", cmd_export },
	{ NULL, NULL, 0, NULL, NULL }
};

static int
audit_open_db(struct admin_ctx *ctx, struct kp_config **cf, MYSQL **db)
{
	void	*p;
	int	 rc = admin_open_db(ctx, cf, &p);

	*db = p;
	return rc;
}

static void
audit_close_db(struct kp_config *cf, MYSQL *db)
{
	db_close(db);
	config_free(cf);
}

/* Run q and print its rows with the given column names; an exit status. */
static int
audit_query(struct admin_ctx *ctx, MYSQL *db, const char *q,
    const char *const *cols, int ncols)
{
	struct output	*o;
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	const char	*v[32];
	unsigned long	 n = 0;
	int		 i;

	if (mysql_query(db, q) != 0 || (res = mysql_use_result(db)) == NULL) {
		fprintf(stderr, "kruispunt audit: %s\n", mysql_error(db));
		return ADMIN_EXIT_FAIL;
	}
	o = output_open(ctx->format, stdout, ncols, cols);
	while ((row = mysql_fetch_row(res)) != NULL) {
		for (i = 0; i < ncols; i++)
			v[i] = row[i];
		output_row(o, v);
		n++;
	}
	output_close(o);
	mysql_free_result(res);
	if (n == 0)
		fprintf(stderr, "kruispunt audit: no record matches\n");
	return ADMIN_EXIT_OK;
}

/* Append " AND <cond>" with an escaped value to the query buffer. */
static void
where(MYSQL *db, char *q, size_t len, const char *fmt, const char *value)
{
	char	esc[300], part[800];

	mysql_real_escape_string(db, esc, value,
	    (unsigned long)strnlen(value, 140));
	snprintf(part, sizeof(part), fmt, esc);
	strncat(q, part, len - strlen(q) - 1);
}

static int
bad_value(const char *cmd, const char *what, const char *v)
{
	fprintf(stderr, "kruispunt %s: %s is not %s\n", cmd, v, what);
	return ADMIN_EXIT_USAGE;
}

static int
check_dates(const char *cmd, const char *from, const char *to)
{
	kp_day	d;

	if (from != NULL && day_parse(from, &d) == -1)
		return bad_value(cmd, "a date (YYYY-MM-DD)", from);
	if (to != NULL && day_parse(to, &d) == -1)
		return bad_value(cmd, "a date (YYYY-MM-DD)", to);
	return ADMIN_EXIT_OK;
}

static int
cmd_verify(struct admin_ctx *ctx, int argc, char **argv)
{
	const char		*node = NULL, *certfile = NULL;
	struct admin_opt	 opts[] = { { "node", &node, NULL },
				    { "hub-cert", &certfile, NULL },
				    { NULL, NULL, NULL } };
	struct auditread_verify	 v;
	struct kp_config	*cf;
	MYSQL			*db, *db2;
	X509			*cert = NULL;
	char			 err[512], *pem = NULL;
	int			 rc;

	if (admin_parse_opts("audit verify", &argc, argv, opts) == -1 || argc) {
		fprintf(stderr, "usage: kruispunt audit verify [--node NODE] "
		    "[--hub-cert CERT.pem]\n");
		return ADMIN_EXIT_USAGE;
	}
	if ((rc = audit_open_db(ctx, &cf, &db)) != 0)
		return rc;
	if (certfile == NULL)
		certfile = cf->signing_certificate;	/* the hub's own */
	if (certfile != NULL &&
	    (cert = certificate_read_pem(certfile, &pem, err, sizeof(err))) == NULL) {
		fprintf(stderr, "kruispunt audit verify: %s\n", err);
		audit_close_db(cf, db);
		return ADMIN_EXIT_USAGE;
	}
	free(pem);
	if ((db2 = db_connect(cf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "kruispunt audit verify: %s\n", err);
		audit_close_db(cf, db);
		return ADMIN_EXIT_UNAVAILABLE;
	}
	if (auditread_verify(db, db2, node, cert, stdout, &v, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "kruispunt audit verify: %s\n", err);
		rc = ADMIN_EXIT_FAIL;
	} else {
		printf("%lu record%s and %lu signed checkpoint%s verified in "
		    "%.2f s (%.0f records/s): %s\n", v.records,
		    v.records == 1 ? "" : "s", v.checkpoints,
		    v.checkpoints == 1 ? "" : "s", v.seconds,
		    v.seconds > 0 ? (double)v.records / v.seconds : 0,
		    v.problems == 0 ? "every chain is intact" : "PROBLEMS FOUND");
		if (v.unsigned_tail > 0)
			printf("%lu record%s after the last checkpoint (signed at "
			    "the next checkpoint or when the hub stops)\n",
			    v.unsigned_tail, v.unsigned_tail == 1 ? "" : "s");
		if (v.problems > 0) {
			printf("%lu problem%s\n", v.problems,
			    v.problems == 1 ? "" : "s");
			rc = ADMIN_EXIT_FAIL;
		}
	}
	db_close(db2);
	X509_free(cert);
	audit_close_db(cf, db);
	return rc;
}

static const char *const search_cols[] = { "received_at", "ticket",
    "operation", "sender", "message_id", "ssin", "quality", "service",
    "decision", "authorization", "targets", "latency_us" };

static const char search_select[] = "SELECT r.received_at, r.ticket, "
    "r.operation, r.sender, r.message_id, r.ssin, r.quality, r.service, "
    "r.decision, r.authorization_id, (SELECT GROUP_CONCAT(CONCAT("
    "t.institution, ':', t.status) ORDER BY t.position SEPARATOR ' ') FROM "
    "audit_target t WHERE t.node = r.node AND t.seq = r.seq), r.latency_us";

static int
cmd_search(struct admin_ctx *ctx, int argc, char **argv)
{
	const char	*ssin = NULL, *inst = NULL, *ticket = NULL, *mid = NULL,
			*service = NULL, *decision = NULL, *from = NULL, *to = NULL,
			*limit = "50", *page = "1";
	static const char *const explain_cols[] = { "id", "select_type",
	    "table", "type", "possible_keys", "key", "key_len", "ref", "rows",
	    "extra" };
	int		 explain = 0;
	struct admin_opt opts[] = {
		{ "explain", NULL, &explain },
		{ "ssin", &ssin, NULL }, { "institution", &inst, NULL },
		{ "ticket", &ticket, NULL }, { "message-id", &mid, NULL },
		{ "service", &service, NULL }, { "decision", &decision, NULL },
		{ "from", &from, NULL }, { "to", &to, NULL },
		{ "limit", &limit, NULL }, { "page", &page, NULL },
		{ NULL, NULL, NULL } };
	struct kp_config *cf;
	MYSQL		 *db;
	char		  q[4096], tail[128], period[256];
	long		  nlimit, npage;
	int		  rc;

	if (admin_parse_opts("audit search", &argc, argv, opts) == -1 || argc)
		return ADMIN_EXIT_USAGE;
	if (ssin != NULL && !ssin_valid(ssin))
		return bad_value("audit search", "a valid SSIN", ssin);
	if (inst != NULL && !enterprise_number_valid(inst))
		return bad_value("audit search", "an enterprise number", inst);
	if ((rc = check_dates("audit search", from, to)) != 0)
		return rc;
	nlimit = strtol(limit, NULL, 10);
	npage = strtol(page, NULL, 10);
	if (nlimit < 1 || nlimit > 100000 || npage < 1)
		return bad_value("audit search", "a valid --limit or --page",
		    limit);
	if ((rc = audit_open_db(ctx, &cf, &db)) != 0)
		return rc;
	period[0] = '\0';
	if (from)
		where(db, period, sizeof(period), " AND received_at >= '%s'", from);
	if (to)
		where(db, period, sizeof(period), " AND received_at < "
		    "DATE_ADD('%s', INTERVAL 1 DAY)", to);
	snprintf(q, sizeof(q), "%s%s", explain ? "EXPLAIN " : "", search_select);
	if (inst) {
		/* as sender or as a target: the records of each by its own
		 * index (sender, received_at) and (institution, received_at),
		 * then the records themselves by primary key, in that order
		 * (STRAIGHT_JOIN: left to itself, the optimizer may read every
		 * record newest first and probe the list); an OR of the two
		 * read the whole table */
		strncat(q, " FROM (SELECT node, seq FROM audit_record WHERE 1 = 1",
		    sizeof(q) - strlen(q) - 1);
		where(db, q, sizeof(q), " AND sender = '%s'", inst);
		strncat(q, period, sizeof(q) - strlen(q) - 1);
		strncat(q, " UNION SELECT node, seq FROM audit_target WHERE 1 = 1",
		    sizeof(q) - strlen(q) - 1);
		where(db, q, sizeof(q), " AND institution = '%s'", inst);
		strncat(q, period, sizeof(q) - strlen(q) - 1);
		strncat(q, ") m STRAIGHT_JOIN audit_record r ON r.node = m.node AND "
		    "r.seq = m.seq WHERE 1 = 1", sizeof(q) - strlen(q) - 1);
	} else
		strncat(q, " FROM audit_record r WHERE 1 = 1",
		    sizeof(q) - strlen(q) - 1);
	if (ssin)
		where(db, q, sizeof(q), " AND r.ssin = '%s'", ssin);
	if (ticket)
		where(db, q, sizeof(q), " AND r.ticket = '%s'", ticket);
	if (mid)
		where(db, q, sizeof(q), " AND r.message_id = '%s'", mid);
	if (service)
		where(db, q, sizeof(q), " AND r.service = '%s'", service);
	if (decision)
		where(db, q, sizeof(q), " AND r.decision = '%s'", decision);
	if (from)
		where(db, q, sizeof(q), " AND r.received_at >= '%s'", from);
	if (to)
		where(db, q, sizeof(q), " AND r.received_at < DATE_ADD('%s', "
		    "INTERVAL 1 DAY)", to);
	snprintf(tail, sizeof(tail), " ORDER BY r.received_at DESC, r.ticket "
	    "LIMIT %ld OFFSET %ld", nlimit, (npage - 1) * nlimit);
	strncat(q, tail, sizeof(q) - strlen(q) - 1);
	rc = explain ? audit_query(ctx, db, q, explain_cols, 10) :
	    audit_query(ctx, db, q, search_cols, 12);
	audit_close_db(cf, db);
	return rc;
}

static int
cmd_show(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char *const cols[] = { "field", "value" };
	static const char *const names[] = { "node", "seq", "ticket", "kind",
	    "operation", "received_at", "answered_at", "latency_us", "sender",
	    "sender_name", "sender_cert", "message_id", "ssin", "quality",
	    "service", "period_begin", "period_end", "decision", "reason",
	    "authorization", "legal_basis", "request_digest", "answer_digest",
	    "prev_hash", "hash" };
	struct kp_config *cf;
	struct output	 *o;
	MYSQL		 *db;
	MYSQL_RES	 *res;
	MYSQL_ROW	  row;
	char		  q[2048];
	int		  rc, i, found = 0;

	if (argc != 1)
		return ADMIN_EXIT_USAGE;
	if ((rc = audit_open_db(ctx, &cf, &db)) != 0)
		return rc;
	q[0] = '\0';
	where(db, q, sizeof(q), "SELECT r.node, r.seq, r.ticket, r.kind, "
	    "r.operation, r.received_at, r.answered_at, r.latency_us, r.sender, "
	    "i.name, r.sender_cert, r.message_id, r.ssin, r.quality, r.service, "
	    "r.period_begin, r.period_end, r.decision, r.reason, "
	    "r.authorization_id, r.legal_basis, r.request_digest, "
	    "r.answer_digest, r.prev_hash, r.hash FROM audit_record r LEFT JOIN "
	    "institution i ON i.id = r.sender WHERE r.ticket = '%s'", argv[0]);
	if (mysql_query(db, q) != 0 || (res = mysql_store_result(db)) == NULL) {
		fprintf(stderr, "kruispunt audit show: %s\n", mysql_error(db));
		audit_close_db(cf, db);
		return ADMIN_EXIT_FAIL;
	}
	o = output_open(ctx->format, stdout, 2, cols);
	if ((row = mysql_fetch_row(res)) != NULL) {
		found = 1;
		for (i = 0; i < 25; i++) {
			const char *v[2] = { names[i], row[i] };
			output_row(o, v);
		}
	}
	mysql_free_result(res);
	if (found) {
		q[0] = '\0';
		where(db, q, sizeof(q), "SELECT t.institution, i.name, t.status, "
		    "t.answer_digest FROM audit_target t JOIN audit_record r ON "
		    "r.node = t.node AND r.seq = t.seq LEFT JOIN institution i ON "
		    "i.id = t.institution WHERE r.ticket = '%s' ORDER BY "
		    "t.position", argv[0]);
		if (mysql_query(db, q) == 0 && (res = mysql_store_result(db)) != NULL) {
			while ((row = mysql_fetch_row(res)) != NULL) {
				char buf[400];
				const char *v[2] = { "target", buf };
				snprintf(buf, sizeof(buf), "%s (%s): %s%s%s", row[0],
				    row[1] ? row[1] : "?", row[2],
				    row[3] ? ", answer sha256 " : "",
				    row[3] ? row[3] : "");
				output_row(o, v);
			}
			mysql_free_result(res);
		}
	}
	output_close(o);
	audit_close_db(cf, db);
	if (!found) {
		fprintf(stderr, "kruispunt audit show: no record with ticket %s\n",
		    argv[0]);
		return ADMIN_EXIT_FAIL;
	}
	return ADMIN_EXIT_OK;
}

static int
cmd_who(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char *const cols[] = { "received_at", "requester",
	    "requester_name", "service", "source", "quality", "legal_basis",
	    "ticket" };
	const char		*from = NULL, *to = NULL;
	struct admin_opt	 opts[] = { { "from", &from, NULL },
				    { "to", &to, NULL }, { NULL, NULL, NULL } };
	struct kp_config	*cf;
	MYSQL			*db;
	char			 q[2048];
	int			 rc;

	if (admin_parse_opts("audit who-consulted", &argc, argv, opts) == -1 ||
	    argc != 1)
		return ADMIN_EXIT_USAGE;
	if (!ssin_valid(argv[0]))
		return bad_value("audit who-consulted", "a valid SSIN", argv[0]);
	if ((rc = check_dates("audit who-consulted", from, to)) != 0)
		return rc;
	if ((rc = audit_open_db(ctx, &cf, &db)) != 0)
		return rc;
	q[0] = '\0';
	where(db, q, sizeof(q), "SELECT r.received_at, r.sender, i.name, "
	    "r.service, t.institution, r.quality, r.legal_basis, r.ticket FROM "
	    "audit_record r JOIN audit_target t ON t.node = r.node AND t.seq = "
	    "r.seq LEFT JOIN institution i ON i.id = r.sender WHERE r.ssin = '%s' "
	    "AND r.operation = 'Consult' AND t.status = 'OK'", argv[0]);
	if (from)
		where(db, q, sizeof(q), " AND r.received_at >= '%s'", from);
	if (to)
		where(db, q, sizeof(q), " AND r.received_at < DATE_ADD('%s', "
		    "INTERVAL 1 DAY)", to);
	strncat(q, " ORDER BY r.received_at DESC", sizeof(q) - strlen(q) - 1);
	rc = audit_query(ctx, db, q, cols, 8);
	audit_close_db(cf, db);
	return rc;
}

static int
cmd_export(struct admin_ctx *ctx, int argc, char **argv)
{
	const char		*from = NULL, *to = NULL;
	struct admin_opt	 opts[] = { { "from", &from, NULL },
				    { "to", &to, NULL }, { NULL, NULL, NULL } };
	struct kp_config	*cf;
	MYSQL			*db;
	char			 q[4096];
	int			 rc;

	if (admin_parse_opts("audit export", &argc, argv, opts) == -1 || argc ||
	    from == NULL || to == NULL) {
		fprintf(stderr, "usage: kruispunt [--format csv|json] audit export "
		    "--from DATE --to DATE\n");
		return ADMIN_EXIT_USAGE;
	}
	if ((rc = check_dates("audit export", from, to)) != 0)
		return rc;
	if ((rc = audit_open_db(ctx, &cf, &db)) != 0)
		return rc;
	snprintf(q, sizeof(q), "%s", search_select);
	where(db, q, sizeof(q), " AND r.received_at >= '%s'", from);
	where(db, q, sizeof(q), " AND r.received_at < DATE_ADD('%s', INTERVAL 1 "
	    "DAY) ORDER BY r.received_at, r.ticket", to);
	rc = audit_query(ctx, db, q, search_cols, 12);
	audit_close_db(cf, db);
	return rc;
}

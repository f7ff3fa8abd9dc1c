/*
 * kruispunt - the admin tool's commands on the outbox of notifications:
 * list, retry, purge.
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
#include "config.h"
#include "db.h"
#include "enterprise.h"
#include "output.h"
#include "period.h"

static int cmd_outbox_list(struct admin_ctx *, int, char **);
static int cmd_outbox_retry(struct admin_ctx *, int, char **);
static int cmd_outbox_purge(struct admin_ctx *, int, char **);

const struct admin_cmd admin_outbox_cmds[] = {
	{ "outbox list", "[--state pending|dead|delivered] [--institution ID]",
	  0, "list notifications, newest first", cmd_outbox_list },
	{ "outbox retry", "DELIVERY | --institution ID", 0,
	  "make dead (or waiting) notifications due again now",
	  cmd_outbox_retry },
	{ "outbox purge", "--delivered-before YYYY-MM-DD", 0,
	  "delete delivered notifications (and their payloads)",
	  cmd_outbox_purge },
	{ NULL, NULL, 0, NULL, NULL }
};

static int
outbox_valid_state(const char *s)
{
	return strcmp(s, "pending") == 0 || strcmp(s, "dead") == 0 ||
	    strcmp(s, "delivered") == 0;
}

static int
cmd_outbox_list(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char *const cols[] = { "delivery_id", "ticket",
	    "recipient", "quality", "mutation_type", "ssin", "state",
	    "attempts", "next_attempt", "created_at", "delivered_at",
	    "last_error" };
	const char		*state = NULL, *inst = NULL;
	struct admin_opt	 opts[] = { { "state", &state, NULL },
				    { "institution", &inst, NULL },
				    { NULL, NULL, NULL } };
	struct kp_config	*cf;
	struct output		*o;
	void			*db;
	MYSQL_RES		*res;
	MYSQL_ROW		 row;
	char			 q[1024];
	int			 rc, i;

	if (admin_parse_opts("outbox list", &argc, argv, opts) == -1 || argc) {
		fprintf(stderr, "usage: kruispunt outbox list [--state "
		    "pending|dead|delivered] [--institution ID]\n");
		return ADMIN_EXIT_USAGE;
	}
	if ((state != NULL && !outbox_valid_state(state)) ||
	    (inst != NULL && !enterprise_number_valid(inst))) {
		fprintf(stderr, "kruispunt outbox list: --state is pending, dead "
		    "or delivered; --institution an enterprise number\n");
		return ADMIN_EXIT_USAGE;
	}
	if ((rc = admin_open_db(ctx, &cf, &db)) != 0)
		return rc;
	snprintf(q, sizeof(q), "SELECT delivery_id, ticket, recipient, quality, "
	    "mutation_type, ssin, state, attempts, next_attempt, created_at, "
	    "delivered_at, last_error FROM outbox WHERE 1 = 1%s%s%s%s%s%s "
	    "ORDER BY created_at DESC, delivery_id LIMIT 10000",
	    state ? " AND state = '" : "", state ? state : "", state ? "'" : "",
	    inst ? " AND recipient = '" : "", inst ? inst : "", inst ? "'" : "");
	if (mysql_query(db, q) != 0 || (res = mysql_store_result(db)) == NULL) {
		fprintf(stderr, "kruispunt outbox list: %s\n", mysql_error(db));
		db_close(db);
		config_free(cf);
		return ADMIN_EXIT_FAIL;
	}
	o = output_open(ctx->format, stdout, 12, cols);
	while ((row = mysql_fetch_row(res)) != NULL) {
		const char *v[12];
		for (i = 0; i < 12; i++)
			v[i] = row[i];
		output_row(o, v);
	}
	output_close(o);
	mysql_free_result(res);
	db_close(db);
	config_free(cf);
	return ADMIN_EXIT_OK;
}

static int
cmd_outbox_retry(struct admin_ctx *ctx, int argc, char **argv)
{
	const char		*inst = NULL;
	struct admin_opt	 opts[] = { { "institution", &inst, NULL },
				    { NULL, NULL, NULL } };
	struct kp_config	*cf;
	void			*db;
	char			 q[512], esc[128];
	int			 rc;

	if (admin_parse_opts("outbox retry", &argc, argv, opts) == -1 ||
	    (inst == NULL) == (argc == 0) || argc > 1 ||
	    (inst != NULL && !enterprise_number_valid(inst))) {
		fprintf(stderr, "usage: kruispunt outbox retry DELIVERY | "
		    "--institution ID\n");
		return ADMIN_EXIT_USAGE;
	}
	if ((rc = admin_open_db(ctx, &cf, &db)) != 0)
		return rc;
	mysql_real_escape_string(db, esc, inst != NULL ? inst : argv[0],
	    (unsigned long)strnlen(inst != NULL ? inst : argv[0], 60));
	snprintf(q, sizeof(q), "UPDATE outbox SET state = 'pending', "
	    "next_attempt = UTC_TIMESTAMP(6), attempts = 0 WHERE state <> "
	    "'delivered' AND %s = '%s'", inst != NULL ? "recipient" :
	    "delivery_id", esc);
	if (mysql_query(db, q) != 0) {
		fprintf(stderr, "kruispunt outbox retry: %s\n", mysql_error(db));
		rc = ADMIN_EXIT_FAIL;
	} else if (mysql_affected_rows(db) == 0 && inst == NULL) {
		fprintf(stderr, "kruispunt outbox retry: no undelivered "
		    "notification %s\n", argv[0]);
		rc = ADMIN_EXIT_FAIL;
	} else
		printf("%llu notification%s due again\n",
		    (unsigned long long)mysql_affected_rows(db),
		    mysql_affected_rows(db) == 1 ? "" : "s");
	db_close(db);
	config_free(cf);
	return rc;
}

static int
cmd_outbox_purge(struct admin_ctx *ctx, int argc, char **argv)
{
	const char		*before = NULL;
	struct admin_opt	 opts[] = { { "delivered-before", &before, NULL },
				    { NULL, NULL, NULL } };
	struct kp_config	*cf;
	void			*db;
	kp_day			 day;
	char			 q[256];
	int			 rc;

	if (admin_parse_opts("outbox purge", &argc, argv, opts) == -1 || argc ||
	    before == NULL || day_parse(before, &day) == -1) {
		fprintf(stderr, "usage: kruispunt outbox purge --delivered-before "
		    "YYYY-MM-DD\n");
		return ADMIN_EXIT_USAGE;
	}
	if ((rc = admin_open_db(ctx, &cf, &db)) != 0)
		return rc;
	snprintf(q, sizeof(q), "DELETE FROM outbox WHERE state = 'delivered' "
	    "AND delivered_at < '%s'", before);
	if (mysql_query(db, q) != 0) {
		fprintf(stderr, "kruispunt outbox purge: %s\n", mysql_error(db));
		rc = ADMIN_EXIT_FAIL;
	} else
		printf("%llu delivered notification%s purged\n",
		    (unsigned long long)mysql_affected_rows(db),
		    mysql_affected_rows(db) == 1 ? "" : "s");
	db_close(db);
	config_free(cf);
	return rc;
}

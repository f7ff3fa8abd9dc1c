/*
 * kruispunt - consistency checks of the reference directory.
 *
 * What the import cannot refuse row by row, but an operator must know:
 * files of one person at one institution in one quality whose periods
 * overlap; authorisations that can never match (expired, for a quality of
 * another sector, naming an institution of another sector or an inactive
 * one); active institutions without a usable certificate or without an
 * endpoint; services that are authorised but available nowhere; mutation
 * types whose authentic source is inactive; subscriptions that can never be
 * served because the subscriber is authorised for the type's service in no
 * quality. Each finding is one row: kind, object, problem.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "dircheck.h"

/* Each check: a query whose rows are (object, problem). */
static const struct {
	const char	*kind;
	const char	*sql;
} dircheck_checks[] = {
	{ "person_file",
	  "SELECT CONCAT(a.ssin, ' at ', a.institution, ' as ', a.quality), "
	  "CONCAT('period ', a.begin_date, '/', IFNULL(a.end_date, ''), "
	  "' overlaps ', b.begin_date, '/', IFNULL(b.end_date, '')) "
	  "FROM person_file a JOIN person_file b ON b.ssin = a.ssin AND "
	  "b.institution = a.institution AND b.quality = a.quality AND "
	  "b.begin_date > a.begin_date "
	  "WHERE a.end_date IS NULL OR a.end_date >= b.begin_date "
	  "ORDER BY a.ssin, a.institution, a.quality, a.begin_date" },
	{ "authorization",
	  "SELECT id, CONCAT('expired on ', valid_to, ': can never match') "
	  "FROM authorization WHERE valid_to < UTC_DATE() ORDER BY id" },
	{ "authorization",
	  "SELECT a.id, CONCAT('quality ', a.quality, ' is held by sector ', "
	  "q.sector, ', not by the requester sector ', a.requester_sector, "
	  "': can never match') FROM authorization a "
	  "JOIN quality q ON q.code = a.quality "
	  "WHERE q.sector <> a.requester_sector ORDER BY a.id" },
	{ "authorization",
	  "SELECT a.id, CONCAT('institution ', a.requester_institution, "
	  "' is in sector ', i.sector, ', not ', a.requester_sector, "
	  "': can never match') FROM authorization a "
	  "JOIN institution i ON i.id = a.requester_institution "
	  "WHERE i.sector <> a.requester_sector ORDER BY a.id" },
	{ "authorization",
	  "SELECT a.id, CONCAT('institution ', a.requester_institution, "
	  "' is inactive') FROM authorization a "
	  "JOIN institution i ON i.id = a.requester_institution "
	  "WHERE NOT i.active ORDER BY a.id" },
	{ "institution",
	  "SELECT i.id, 'active, but no valid registered certificate: it "
	  "cannot be identified' FROM institution i WHERE i.active AND "
	  "NOT EXISTS (SELECT 1 FROM certificate c WHERE c.institution = i.id "
	  "AND NOT c.revoked AND c.not_after > UTC_TIMESTAMP()) ORDER BY i.id" },
	{ "institution",
	  "SELECT id, 'active, but no endpoint: it cannot be asked for data "
	  "or notified' FROM institution WHERE active AND "
	  "(endpoint IS NULL OR endpoint = '') ORDER BY id" },
	{ "service",
	  "SELECT s.code, 'authorised, but available nowhere: every consult "
	  "ends NOT_AVAILABLE_IN_NETWORK' FROM service s WHERE EXISTS "
	  "(SELECT 1 FROM authorization a WHERE a.service = s.code) AND NOT "
	  "EXISTS (SELECT 1 FROM availability v WHERE v.service = s.code) "
	  "ORDER BY s.code" },
	{ "mutation_type",
	  "SELECT m.code, CONCAT('authentic source ', m.source, ' is inactive') "
	  "FROM mutation_type m JOIN institution i ON i.id = m.source "
	  "WHERE NOT i.active ORDER BY m.code" },
	{ "subscription",
	  "SELECT CONCAT(s.institution, ' to ', s.mutation_type), "
	  "CONCAT('not authorised for service ', m.service, ' in any quality: "
	  "it will never be notified') FROM subscription s "
	  "JOIN mutation_type m ON m.code = s.mutation_type "
	  "JOIN institution i ON i.id = s.institution WHERE NOT EXISTS "
	  "(SELECT 1 FROM authorization a WHERE a.service = m.service AND "
	  "(a.requester_institution = s.institution OR "
	  "(a.requester_institution IS NULL AND a.requester_sector = i.sector)))"
	  " ORDER BY s.institution, s.mutation_type" },
};

/* Run every check, one output row per finding; 0 or -1 with err. */
int
dircheck_run(MYSQL *db, struct output *o, unsigned long *problems, char *err,
    size_t errlen)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	size_t		 i;

	*problems = 0;
	for (i = 0; i < sizeof(dircheck_checks) / sizeof(dircheck_checks[0]); i++) {
		if (mysql_query(db, dircheck_checks[i].sql) != 0 ||
		    (res = mysql_store_result(db)) == NULL) {
			snprintf(err, errlen, "checking %s: %s",
			    dircheck_checks[i].kind, mysql_error(db));
			return -1;
		}
		while ((row = mysql_fetch_row(res)) != NULL) {
			const char *v[3] = { dircheck_checks[i].kind, row[0],
			    row[1] };
			output_row(o, v);
			(*problems)++;
		}
		mysql_free_result(res);
	}
	return 0;
}

/*
 * kruispunt tests - the audit writer tries a batch again when a second try
 * may commit it (src/audit.c; on a Galera cluster these are everyday
 * events), shown deterministically on a private standalone MariaDB:
 *
 *   - a deadlock (1213) in the middle of a batch: another transaction,
 *     heavier so that InnoDB rolls the writer back, takes the very sequence
 *     number the writer was inserting; the writer tries again once it is
 *     released and commits the record under that number;
 *   - the writer's connection killed while its batch waits for a lock (the
 *     batch's fate is lost with the connection, as when a Galera node
 *     dies): it reconnects, reads its head and writes the batch again.
 *
 * Each time audit_append succeeds, the record's SQL side effect ran exactly
 * once, and the chain verifies.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>

#include "audit.h"
#include "auditread.h"
#include "common.h"
#include "config.h"
#include "db.h"
#include "migrate.h"
#include "xmalloc.h"

#define NODE	"node-retry"
#define ALSO	"UPDATE retry_lock SET v = v + 1 WHERE id = 1"

static struct kp_config	*cf;
static MYSQL		*db, *db2;
static struct audit_log	*alog;

static int
init(void)
{
	const char	*top = getenv("top_srcdir");
	char		 err[512], *sqldir;
	int		 nerr;
	FILE		*devnull = fopen("/dev/null", "w");

	if ((cf = config_load(getenv("KP_TEST_CONF"), CONF_FOR_ADMIN, stderr,
	    &nerr)) == NULL || (db = db_connect(cf, err, sizeof(err))) == NULL ||
	    (db2 = db_connect(cf, err, sizeof(err))) == NULL)
		return 1;
	xasprintf(&sqldir, "%s/sql", top ? top : ".");
	if (migrate_run(db, sqldir, devnull, err, sizeof(err)) == -1)
		return 1;
	free(sqldir);
	fclose(devnull);
	if (mysql_query(db, "CREATE TABLE retry_lock (id INT PRIMARY KEY, "
	    "v INT NOT NULL)") != 0 ||
	    mysql_query(db, "INSERT INTO retry_lock VALUES (1, 0)") != 0 ||
	    mysql_query(db, "CREATE TABLE retry_weight (id INT PRIMARY KEY)") != 0)
		return 1;
	if ((alog = audit_open(cf, NODE, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	return 0;
}

static int
clean(void)
{
	audit_close(alog);
	db_close(db);
	db_close(db2);
	config_free(cf);
	return 0;
}

/* One statement on c; its error number (0 when it worked). */
static unsigned int
q(MYSQL *c, const char *sql)
{
	MYSQL_RES	*res;

	if (mysql_query(c, sql) != 0)
		return mysql_errno(c);
	if ((res = mysql_store_result(c)) != NULL)
		mysql_free_result(res);
	return 0;
}

/* The first column of the first row of a query on db, as a number. */
static long
num(const char *sql)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	long		 n = -1;

	if (mysql_query(db, sql) != 0 || (res = mysql_store_result(db)) == NULL)
		return -1;
	if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL)
		n = atol(row[0]);
	mysql_free_result(res);
	return n;
}

static void
nap_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The connection id of the writer once it waits in ALSO (at most 10 s), or
 * -1; a connection other than not_id. */
static long
writer_waiting(long not_id)
{
	char	sql[256];
	long	id;
	int	i;

	snprintf(sql, sizeof(sql), "SELECT ID FROM information_schema.PROCESSLIST "
	    "WHERE INFO = '%s' AND ID <> %ld", ALSO, not_id);
	for (i = 0; i < 200; i++) {
		if ((id = num(sql)) > 0)
			return id;
		nap_ms(50);
	}
	return -1;
}

struct append {
	struct audit_record	r;
	int			rc;
	pthread_t		t;
};

static void *
append_run(void *arg)
{
	struct append	*a = arg;

	a->rc = audit_append(alog, &a->r);
	return NULL;
}

static void
append_start(struct append *a)
{
	audit_record_init(&a->r, "exchange", "Consult");
	snprintf(a->r.sender, sizeof(a->r.sender), "0200000142");
	snprintf(a->r.decision, sizeof(a->r.decision), "OK");
	snprintf(a->r.reason, sizeof(a->r.reason), "retry test");
	audit_record_add_target(&a->r);
	snprintf(a->r.targets[0].institution,
	    sizeof(a->r.targets[0].institution), "0100000169");
	snprintf(a->r.targets[0].status, sizeof(a->r.targets[0].status), "OK");
	a->r.also = ALSO;
	a->rc = -2;
	pthread_create(&a->t, NULL, append_run, a);
}

static void
chain_verifies(unsigned long records)
{
	struct auditread_verify	v;
	char			err[512], *out = NULL;
	size_t			len;
	FILE			*fp = open_memstream(&out, &len);

	CU_ASSERT_EQUAL_FATAL(auditread_verify(db, db2, NODE, NULL, fp, &v, err,
	    sizeof(err)), 0);
	fclose(fp);
	CU_ASSERT_EQUAL(v.records, records);
	CU_ASSERT_EQUAL(v.problems, 0);
	if (v.problems)
		fprintf(stderr, "\n%s", out);
	free(out);
}

static void
test_deadlock_retried(void)
{
	struct append	a;
	char		sql[512];
	unsigned int	e;
	int		i;

	/* a heavy transaction holds the row the batch's ALSO updates */
	CU_ASSERT_EQUAL_FATAL(q(db2, "START TRANSACTION"), 0);
	for (i = 0; i < 50; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO retry_weight VALUES (%d)",
		    i);
		CU_ASSERT_EQUAL(q(db2, sql), 0);
	}
	CU_ASSERT_EQUAL(q(db2, "SELECT v FROM retry_lock WHERE id = 1 FOR UPDATE"),
	    0);
	append_start(&a);
	CU_ASSERT_FATAL(writer_waiting(0) > 0);
	/* ... and now wants the sequence number the batch holds: a deadlock,
	 * and InnoDB rolls the lighter transaction, the writer's, back */
	e = q(db2, "INSERT INTO audit_record (node, seq, ticket, kind, operation, "
	    "received_at, answered_at, latency_us, decision, reason, prev_hash, "
	    "hash) VALUES ('" NODE "', 1, 'a0000000-0000-4000-8000-000000000001', "
	    "'exchange', 'Consult', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), 0, 'X', "
	    "'X', REPEAT('0', 64), REPEAT('0', 64))");
	CU_ASSERT_EQUAL(e, 0);	/* the writer was the deadlock's victim */
	nap_ms(300);
	CU_ASSERT_EQUAL(a.rc, -2);	/* its second try waits for seq 1 */
	CU_ASSERT_EQUAL(q(db2, "ROLLBACK"), 0);
	pthread_join(a.t, NULL);
	audit_record_release(&a.r);
	CU_ASSERT_EQUAL(a.rc, 0);
	CU_ASSERT_EQUAL(a.r.seq, 1);
	CU_ASSERT_EQUAL(num("SELECT v FROM retry_lock WHERE id = 1"), 1);
	CU_ASSERT_EQUAL(num("SELECT COUNT(*) FROM retry_weight"), 0);
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM audit_record WHERE "
	    "ticket = '%s' AND node = '" NODE "' AND seq = 1", a.r.ticket);
	CU_ASSERT_EQUAL(num(sql), 1);
	chain_verifies(1);
}

static void
test_connection_lost_retried(void)
{
	struct append	a;
	char		sql[128];
	long		id, id2;

	CU_ASSERT_EQUAL_FATAL(q(db2, "START TRANSACTION"), 0);
	CU_ASSERT_EQUAL(q(db2, "SELECT v FROM retry_lock WHERE id = 1 FOR UPDATE"),
	    0);
	append_start(&a);
	CU_ASSERT_FATAL((id = writer_waiting(0)) > 0);
	snprintf(sql, sizeof(sql), "KILL CONNECTION %ld", id);
	CU_ASSERT_EQUAL(q(db, sql), 0);
	/* it comes back on a new connection and waits again */
	CU_ASSERT((id2 = writer_waiting(id)) > 0);
	CU_ASSERT_EQUAL(a.rc, -2);
	CU_ASSERT_EQUAL(q(db2, "COMMIT"), 0);
	pthread_join(a.t, NULL);
	audit_record_release(&a.r);
	CU_ASSERT_EQUAL(a.rc, 0);
	CU_ASSERT_EQUAL(a.r.seq, 2);
	CU_ASSERT_EQUAL(num("SELECT v FROM retry_lock WHERE id = 1"), 2);
	CU_ASSERT_EQUAL(num("SELECT COUNT(*) FROM audit_record WHERE node = '"
	    NODE "'"), 2);
	chain_verifies(2);
}

int
main(void)
{
	CU_pSuite	s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("audit writer retries (real MariaDB)", init, clean);
	CU_add_test(s, "a deadlock in a batch: the batch is tried again",
	    test_deadlock_retried);
	CU_add_test(s, "the connection lost under a batch: reconnect, try again",
	    test_connection_lost_retried);
	return test_run();
}

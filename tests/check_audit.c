/*
 * kruispunt tests - the audit trail against a real, private MariaDB: group
 * commit from several threads, the hash chain, signed checkpoints, and that
 * `audit verify` finds every kind of tampering: a changed field, a removed
 * record, a forged record, and a whole tail rewritten with correct hashes
 * (which only the signed checkpoint reveals); a group of records is
 * committed whole or not at all.
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

#include <mysql.h>
#include <openssl/pem.h>

#include "audit.h"
#include "auditread.h"
#include "common.h"
#include "config.h"
#include "db.h"
#include "migrate.h"
#include "xmalloc.h"

#define NODE	"node-a"

static struct kp_config	*cf;
static MYSQL		*db, *db2;
static X509		*hub_cert, *other_cert;
static char		*out;
static size_t		 outlen;

static X509 *
read_cert(const char *dir, const char *name)
{
	char	*path;
	FILE	*fp;
	X509	*x;

	xasprintf(&path, "%s/%s", dir, name);
	fp = fopen(path, "r");
	free(path);
	if (fp == NULL)
		return NULL;
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	return x;
}

static int
init(void)
{
	const char	*top = getenv("top_srcdir");
	char		 err[512], *cmd, *sqldir;
	int		 nerr;
	FILE		*devnull = fopen("/dev/null", "w");

	xasprintf(&cmd, "%s/tests/make-pki %s/pki >/dev/null", top ? top : ".",
	    test_tmpdir());
	if (system(cmd) != 0)
		return 1;
	free(cmd);
	if ((cf = config_load(getenv("KP_TEST_CONF"), CONF_FOR_ADMIN, stderr,
	    &nerr)) == NULL || (db = db_connect(cf, err, sizeof(err))) == NULL ||
	    (db2 = db_connect(cf, err, sizeof(err))) == NULL)
		return 1;
	xasprintf(&sqldir, "%s/sql", top ? top : ".");
	if (migrate_run(db, sqldir, devnull, err, sizeof(err)) == -1)
		return 1;
	free(sqldir);
	fclose(devnull);
	xasprintf(&cf->signing_key, "%s/pki/hub.key", test_tmpdir());
	xasprintf(&cf->signing_certificate, "%s/pki/hub.crt", test_tmpdir());
	cf->hub_checkpoint_records = 5;
	cf->hub_checkpoint_interval = 3600 * 1000;
	xasprintf(&cmd, "%s/pki", test_tmpdir());
	hub_cert = read_cert(cmd, "hub.crt");
	other_cert = read_cert(cmd, "rsa.crt");
	free(cmd);
	return hub_cert == NULL || other_cert == NULL;
}

static int
clean(void)
{
	X509_free(hub_cert);
	X509_free(other_cert);
	db_close(db);
	db_close(db2);
	config_free(cf);
	free(out);
	return 0;
}

/* Run the verification; returns the number of problems, the report in out. */
static unsigned long
verify(struct auditread_verify *v, X509 *cert)
{
	char	err[512];
	FILE	*fp;

	free(out);
	out = NULL;
	fp = open_memstream(&out, &outlen);
	CU_ASSERT_EQUAL_FATAL(auditread_verify(db, db2, NULL, cert, fp, v, err,
	    sizeof(err)), 0);
	fclose(fp);
	return v->problems;
}

static void
sql(const char *q)
{
	if (mysql_query(db, q) != 0)
		fprintf(stderr, "\n  %s: %s\n", q, mysql_error(db));
	CU_ASSERT_EQUAL(mysql_errno(db), 0);
}

static void
test_hash_covers_every_field(void)
{
	struct audit_record	r;
	char			h0[AUDIT_HASH_LEN], h[AUDIT_HASH_LEN];

	audit_record_init(&r, "exchange", "Consult");
	snprintf(r.ssin, sizeof(r.ssin), "78031914571");
	snprintf(r.decision, sizeof(r.decision), "OK");
	audit_record_add_target(&r);
	snprintf(r.targets[0].institution, sizeof(r.targets[0].institution),
	    "0200000142");
	snprintf(r.targets[0].status, sizeof(r.targets[0].status), "OK");
	audit_hash(NODE, &r, h0);
	audit_hash("node-b", &r, h);
	CU_ASSERT_STRING_NOT_EQUAL(h, h0);
	r.ssin[10] = '2';
	audit_hash(NODE, &r, h);
	CU_ASSERT_STRING_NOT_EQUAL(h, h0);
	r.ssin[10] = '1';
	r.targets[0].status[0] = 'X';
	audit_hash(NODE, &r, h);
	CU_ASSERT_STRING_NOT_EQUAL(h, h0);
	r.targets[0].status[0] = 'O';
	r.seq = 2;
	audit_hash(NODE, &r, h);
	CU_ASSERT_STRING_NOT_EQUAL(h, h0);
	r.seq = 0;
	/* moving a value from one field to the next changes the hash too */
	snprintf(r.quality, sizeof(r.quality), "A");
	audit_hash(NODE, &r, h0);
	r.quality[0] = '\0';
	snprintf(r.service, sizeof(r.service), "A");
	audit_hash(NODE, &r, h);
	CU_ASSERT_STRING_NOT_EQUAL(h, h0);
	audit_record_release(&r);
}

static struct audit_log	*alog;

static void *
appender(void *arg)
{
	int	i, *failures = arg;

	for (i = 0; i < 3; i++) {
		struct audit_record r;
		audit_record_init(&r, "exchange", "Consult");
		snprintf(r.sender, sizeof(r.sender), "0200000142");
		snprintf(r.ssin, sizeof(r.ssin), "78031914571");
		snprintf(r.decision, sizeof(r.decision), "OK");
		snprintf(r.reason, sizeof(r.reason), "test");
		audit_record_add_target(&r);
		snprintf(r.targets[0].institution,
		    sizeof(r.targets[0].institution), "0100000169");
		snprintf(r.targets[0].status, sizeof(r.targets[0].status), "OK");
		if (audit_append(alog, &r) != 0 || r.seq == 0)
			(*failures)++;
		audit_record_release(&r);
	}
	return NULL;
}

static void
test_concurrent_appends_chain(void)
{
	struct auditread_verify	v;
	pthread_t		t[4];
	int			failures = 0, i;
	char			err[512];
	MYSQL_RES		*res;
	MYSQL_ROW		 row;

	alog = audit_open(cf, NODE, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(alog);
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, appender, &failures);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	audit_close(alog);	/* writes the last checkpoint */
	CU_ASSERT_EQUAL(failures, 0);
	CU_ASSERT_EQUAL_FATAL(mysql_query(db, "SELECT COUNT(*), MIN(seq), "
	    "MAX(seq) FROM audit_record WHERE node = '" NODE "'"), 0);
	res = mysql_store_result(db);
	row = mysql_fetch_row(res);
	CU_ASSERT_STRING_EQUAL(row[0], "12");
	CU_ASSERT_STRING_EQUAL(row[1], "1");
	CU_ASSERT_STRING_EQUAL(row[2], "12");
	mysql_free_result(res);
	CU_ASSERT_EQUAL(verify(&v, hub_cert), 0);
	CU_ASSERT_EQUAL(v.records, 12);
	CU_ASSERT(v.checkpoints >= 2);
	CU_ASSERT_EQUAL(v.unsigned_tail, 0);
	if (v.problems)
		fprintf(stderr, "\n%s", out);
}

static void
test_changed_field(void)
{
	struct auditread_verify v;

	sql("UPDATE audit_record SET decision = 'NOT_AUTHORIZED' WHERE node = '"
	    NODE "' AND seq = 4");
	CU_ASSERT(verify(&v, hub_cert) >= 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "record 4 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "was changed"));
	sql("UPDATE audit_record SET decision = 'OK' WHERE node = '" NODE
	    "' AND seq = 4");
	CU_ASSERT_EQUAL(verify(&v, hub_cert), 0);
	/* a target changed */
	sql("UPDATE audit_target SET institution = '0600000131' WHERE node = '"
	    NODE "' AND seq = 9");
	CU_ASSERT(verify(&v, hub_cert) >= 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "record 9 "));
	sql("UPDATE audit_target SET institution = '0100000169' WHERE node = '"
	    NODE "' AND seq = 9");
	CU_ASSERT_EQUAL(verify(&v, hub_cert), 0);
}

static void
test_removed_and_inserted(void)
{
	struct auditread_verify v;

	sql("CREATE TEMPORARY TABLE keep AS SELECT * FROM audit_record WHERE "
	    "node = '" NODE "' AND seq = 7");
	sql("DELETE FROM audit_record WHERE node = '" NODE "' AND seq = 7");
	CU_ASSERT(verify(&v, hub_cert) >= 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "record 8 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "removed"));
	sql("INSERT INTO audit_record SELECT * FROM keep");
	sql("DROP TEMPORARY TABLE keep");
	CU_ASSERT_EQUAL(verify(&v, hub_cert), 0);

	/* a forged record appended at the end, with a made-up hash */
	sql("INSERT INTO audit_record (node, seq, ticket, kind, operation, "
	    "received_at, answered_at, latency_us, sender, ssin, decision, "
	    "reason, prev_hash, hash) SELECT node, 13, "
	    "'00000000-0000-4000-8000-000000000013', kind, operation, "
	    "received_at, answered_at, latency_us, '0600000131', ssin, 'OK', "
	    "'forged', hash, REPEAT('a', 64) FROM audit_record WHERE node = '"
	    NODE "' AND seq = 12");
	CU_ASSERT(verify(&v, hub_cert) >= 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "00000000-0000-4000-8000-000000000013"));
	sql("DELETE FROM audit_record WHERE node = '" NODE "' AND seq = 13");
	CU_ASSERT_EQUAL(verify(&v, hub_cert), 0);
}

/* Rewrite records 10-12 with a changed decision and recomputed hashes, as
 * someone with write access to the database (but not the hub's key) could. */
static void
test_rewritten_tail(void)
{
	struct auditread_verify	v;
	struct audit_record	r;
	char			prev[AUDIT_HASH_LEN], q[1024];
	MYSQL_RES		*res;
	MYSQL_ROW		 row;
	unsigned long long	 seq;

	CU_ASSERT_EQUAL_FATAL(mysql_query(db, "SELECT hash FROM audit_record "
	    "WHERE node = '" NODE "' AND seq = 9"), 0);
	res = mysql_store_result(db);
	row = mysql_fetch_row(res);
	snprintf(prev, sizeof(prev), "%s", row[0]);
	mysql_free_result(res);
	for (seq = 10; seq <= 12; seq++) {
		snprintf(q, sizeof(q), "SELECT ticket, received_at, answered_at "
		    "FROM audit_record WHERE node = '" NODE "' AND seq = %llu", seq);
		CU_ASSERT_EQUAL_FATAL(mysql_query(db, q), 0);
		res = mysql_store_result(db);
		row = mysql_fetch_row(res);
		audit_record_init(&r, "exchange", "Consult");
		snprintf(r.ticket, sizeof(r.ticket), "%s", row[0]);
		mysql_free_result(res);
		/* what the record would say after a rewrite: re-read it whole
		 * through the verifier's own view is not needed; we only need
		 * the hash to be self-consistent, so write a fresh record */
		r.seq = seq;
		r.received_us = r.answered_us = 1700000000000000LL + (int64_t)seq;
		snprintf(r.sender, sizeof(r.sender), "0600000131");
		snprintf(r.decision, sizeof(r.decision), "OK");
		snprintf(r.reason, sizeof(r.reason), "rewritten");
		snprintf(r.prev_hash, sizeof(r.prev_hash), "%s", prev);
		audit_hash(NODE, &r, r.hash);
		snprintf(q, sizeof(q), "UPDATE audit_record SET sender = "
		    "'0600000131', ssin = NULL, decision = 'OK', reason = "
		    "'rewritten', received_at = '2023-11-14 22:13:20.%06llu', "
		    "answered_at = '2023-11-14 22:13:20.%06llu', latency_us = 0, "
		    "prev_hash = '%s', hash = '%s' WHERE node = '" NODE "' AND "
		    "seq = %llu", seq, seq, prev, r.hash, seq);
		sql(q);
		snprintf(q, sizeof(q), "DELETE FROM audit_target WHERE node = '"
		    NODE "' AND seq = %llu", seq);
		sql(q);
		snprintf(prev, sizeof(prev), "%s", r.hash);
	}
	CU_ASSERT(verify(&v, hub_cert) >= 1);
	/* the chain itself is consistent again... */
	CU_ASSERT_PTR_NULL(strstr(out, "was changed"));
	/* ...but the hub's signed checkpoint at 12 disagrees */
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "record 12 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "rewritten up to here"));
	if (strstr(out, "rewritten up to here") == NULL)
		fprintf(stderr, "\n%s", out);
}

static void
test_checkpoint_certificate(void)
{
	struct auditread_verify v;

	CU_ASSERT(verify(&v, other_cert) >= 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "not by the hub certificate given"));
	CU_ASSERT(verify(&v, NULL) >= 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "no hub certificate given"));
	/* a forged signature */
	/* the first checkpoint (its position depends on the batches) */
	sql("UPDATE audit_checkpoint SET signature = CONCAT(IF(LEFT(signature, "
	    "4) = 'AAAA', 'BBBB', 'AAAA'), SUBSTRING(signature, 5)) WHERE node = '"
	    NODE "' ORDER BY seq LIMIT 1");
	CU_ASSERT_EQUAL(mysql_affected_rows(db), 1);
	CU_ASSERT(verify(&v, hub_cert) >= 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "signature is not valid"));
}

/* A count from SQL. */
static long
count(const char *q)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	long		 n = -1;

	if (mysql_query(db, q) == 0 && (res = mysql_store_result(db)) != NULL) {
		if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL)
			n = atol(row[0]);
		mysql_free_result(res);
	}
	return n;
}

/*
 * A group (audit_append_group) is committed in one transaction with its
 * SQL, also when it is larger than a batch: one failing statement and none
 * of it is there; otherwise all of it, in sequence.
 */
static void
test_group(void)
{
	struct audit_record	*r = xcalloc(600, sizeof(*r));
	struct audit_log	*g;
	char			 err[512], *also[600];
	int			 i;

	sql("CREATE TABLE grp (k INT PRIMARY KEY)");
	g = audit_open(cf, "node-g", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	for (i = 0; i < 600; i++) {
		audit_record_init(&r[i], "delivery", "ReceiveMutation");
		snprintf(r[i].decision, sizeof(r[i].decision), "DELIVERED");
		snprintf(r[i].reason, sizeof(r[i].reason), "group test");
		/* the last one collides with the first */
		xasprintf(&also[i], "INSERT INTO grp VALUES (%d)", i < 599 ? i : 0);
		r[i].also = also[i];
	}
	CU_ASSERT_EQUAL(audit_append_group(g, r, 600), -1);
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM audit_record WHERE node = "
	    "'node-g'"), 0);
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM grp"), 0);
	for (i = 0; i < 600; i++) {
		audit_record_init(&r[i], "delivery", "ReceiveMutation");
		snprintf(r[i].decision, sizeof(r[i].decision), "DELIVERED");
		snprintf(r[i].reason, sizeof(r[i].reason), "group test");
		free(also[i]);
		xasprintf(&also[i], "INSERT INTO grp VALUES (%d)", i);
		r[i].also = also[i];
	}
	CU_ASSERT_EQUAL(audit_append_group(g, r, 600), 0);
	CU_ASSERT_EQUAL(r[0].seq, 1);
	CU_ASSERT_EQUAL(r[599].seq, 600);
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM audit_record WHERE node = "
	    "'node-g'"), 600);
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM grp"), 600);
	CU_ASSERT_EQUAL(audit_append_group(g, r, 0), 0);
	audit_close(g);
	for (i = 0; i < 600; i++)
		free(also[i]);
	free(r);
}

int
main(void)
{
	CU_pSuite	s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("audit (real MariaDB)", init, clean);
	CU_add_test(s, "the hash covers every field", test_hash_covers_every_field);
	CU_add_test(s, "concurrent appends form one chain with checkpoints",
	    test_concurrent_appends_chain);
	CU_add_test(s, "a changed field or target is found", test_changed_field);
	CU_add_test(s, "a removed or a forged record is found",
	    test_removed_and_inserted);
	CU_add_test(s, "a tail rewritten with correct hashes is found by the "
	    "signed checkpoint", test_rewritten_tail);
	CU_add_test(s, "checkpoints must be signed by the hub",
	    test_checkpoint_certificate);
	CU_add_test(s, "a group is committed whole or not at all",
	    test_group);
	return test_run();
}

/*
 * kruispunt tests - the directory module, migrations and the CSV import,
 * against the private MariaDB server of tests/with-mariadb: the decisions of
 * the sample network computed from the real database, and proof that every
 * request-path statement is answered by an index (EXPLAIN on a directory
 * filled with enough rows that the optimiser would rather scan if it could).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "certificate.h"
#include "certlookup.h"
#include "common.h"
#include "config.h"
#include "db.h"
#include "dircache.h"
#include "dircsv.h"
#include "directory.h"
#include "dispatch.h"
#include "migrate.h"
#include "xmalloc.h"

#define UNEMP	"0100000169"
#define FUND1	"0200000142"
#define FUND2	"0200000241"
/* two exchanges' tickets */
#define TK		"6f1c0b2e-4a57-4d2b-9c1e-0d3a5b7e9f21"
#define TK_OTHER	"0b9d4c3a-7e21-4f60-8a15-c2e4d6f8a0b3"
#define NR	"0300000115"
#define PENS	"0600000131"

static struct kp_config	*cf;
static MYSQL		*db;
static struct directory	*dir;

static int
init(void)
{
	static const char *const tables[] = { "sectors", "institutions",
	    "qualities", "services", "mutation_types", "person_files",
	    "authorizations", "availability", "subscriptions" };
	struct dircsv_result	 res;
	const char		*top = getenv("top_srcdir");
	char			 err[1024], *sqldir, *path;
	size_t			 i;
	int			 nerr;
	FILE			*devnull = fopen("/dev/null", "w");

	if ((cf = config_load(getenv("KP_TEST_CONF"), CONF_FOR_ADMIN, stderr,
	    &nerr)) == NULL || (db = db_connect(cf, err, sizeof(err))) == NULL)
		return 1;
	xasprintf(&sqldir, "%s/sql", top != NULL ? top : ".");
	if (migrate_run(db, sqldir, devnull, err, sizeof(err)) == -1) {
		fprintf(stderr, "migrate: %s\n", err);
		return 1;
	}
	free(sqldir);
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		xasprintf(&path, "%s/etc/sample/%s.csv", top != NULL ? top : ".",
		    tables[i]);
		if (dircsv_import(db, tables[i], path, false, stderr, &res, err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "import %s: %s\n", path, err);
			return 1;
		}
		free(path);
	}
	fclose(devnull);
	if ((dir = directory_open(cf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	return 0;
}

static int
clean(void)
{
	directory_close(dir);
	db_close(db);
	config_free(cf);
	return 0;
}

static void
test_migrate_twice(void)
{
	const char	*top = getenv("top_srcdir");
	char		 err[512], *sqldir, *out = NULL;
	size_t		 len;
	int		 v;
	FILE		*fp = open_memstream(&out, &len);

	xasprintf(&sqldir, "%s/sql", top != NULL ? top : ".");
	CU_ASSERT_EQUAL(migrate_run(db, sqldir, fp, err, sizeof(err)), 0);
	fclose(fp);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "nothing to do"));
	CU_ASSERT_EQUAL(migrate_version(db, &v), 0);
	CU_ASSERT(v >= 1);
	free(out);
	free(sqldir);
}

/* Run a consult through the database and the decision. */
static enum kp_error
consult(const char *requester, const char *ssin, const char *service,
    const char *quality, const char *b, const char *e,
    struct consult_decision *d, struct dir_consult *c)
{
	struct dir_institution	inst;
	struct consult_request	q;

	CU_ASSERT_EQUAL_FATAL(directory_institution(dir, requester, &inst), 1);
	CU_ASSERT_EQUAL_FATAL(directory_consult(dir, ssin, service, quality, c), 0);
	memset(&q, 0, sizeof(q));
	q.requester = inst.id;
	q.requester_sector = inst.sector;
	q.service = service;
	q.quality = quality;
	CU_ASSERT_EQUAL_FATAL(period_parse(b, e, &q.period), 0);
	CU_ASSERT_EQUAL_FATAL(day_parse("2026-06-30", &q.today), 0);
	dispatch_consult(&q, &c->facts, d);
	return d->code;
}

static void
test_sample_decisions(void)
{
	struct consult_decision	d;
	struct dir_consult	c;

	/* answered by two sources: both health funds over the period */
	CU_ASSERT_EQUAL(consult(UNEMP, "78031914571", "HEALTH_INSURABILITY",
	    "UNEMPLOYED", "2025-09-01", "2026-06-30", &d, &c), KP_OK);
	CU_ASSERT_EQUAL_FATAL(d.ntargets, 2);
	CU_ASSERT_STRING_EQUAL(d.targets[0].file->institution, FUND1);
	CU_ASSERT_STRING_EQUAL(d.targets[1].file->institution, FUND2);
	CU_ASSERT_STRING_EQUAL(d.authorization->id, "AUTH-002");
	dispatch_consult_free(&d);
	directory_consult_free(&c);

	/* not authorised */
	CU_ASSERT_EQUAL(consult(PENS, "41101612040", "UNEMPLOYMENT_STATUS",
	    "PENSIONER", "2026-01-01", NULL, &d, &c), KP_NOT_AUTHORIZED);
	dispatch_consult_free(&d);
	directory_consult_free(&c);

	/* only once: nobody holds child-benefit data on this person */
	CU_ASSERT_EQUAL(consult(UNEMP, "78031914571", "CHILD_BENEFIT_STATUS",
	    "UNEMPLOYED", "2026-01-01", NULL, &d, &c), KP_OK);
	CU_ASSERT_EQUAL(d.ntargets, 0);
	dispatch_consult_free(&d);
	directory_consult_free(&c);

	/* no file on the person */
	CU_ASSERT_EQUAL(consult(FUND2, "61021216096", "UNEMPLOYMENT_STATUS",
	    "INSURED", "2026-01-01", NULL, &d, &c), KP_PERSON_NOT_INTEGRATED);
	dispatch_consult_free(&d);
	directory_consult_free(&c);

	/* unknown service */
	CU_ASSERT_EQUAL(consult(FUND2, "61021216096", "NO_SUCH_SERVICE",
	    "INSURED", "2026-01-01", NULL, &d, &c), KP_UNKNOWN_SERVICE);
	dispatch_consult_free(&d);
	directory_consult_free(&c);
}

static void
test_sample_mutation(void)
{
	struct mutation_request	 q;
	struct mutation_decision d;
	struct dir_mutation	 m;

	CU_ASSERT_EQUAL_FATAL(directory_mutation(dir, "78031914571",
	    "ADDRESS_CHANGE", &m), 0);
	CU_ASSERT_TRUE(m.facts.type_known);
	CU_ASSERT_STRING_EQUAL(m.source, NR);
	q.source = NR;
	CU_ASSERT_EQUAL_FATAL(day_parse("2026-06-30", &q.today), 0);
	dispatch_mutation(&q, &m.facts, &d);
	CU_ASSERT_EQUAL(d.code, KP_OK);
	/* the unemployment office and the current health fund; not the fund
	 * whose file ended, not the source */
	CU_ASSERT_EQUAL_FATAL(d.nrecipients, 2);
	CU_ASSERT_STRING_EQUAL(d.recipients[0].file->institution, UNEMP);
	CU_ASSERT_STRING_EQUAL(d.recipients[0].authorization->id, "AUTH-008");
	CU_ASSERT_STRING_EQUAL(d.recipients[1].file->institution, FUND2);
	CU_ASSERT_STRING_EQUAL(d.recipients[1].authorization->id, "AUTH-007");
	dispatch_mutation_free(&d);
	directory_mutation_free(&m);

	CU_ASSERT_EQUAL(directory_mutation(dir, "78031914571", "NOPE", &m), 0);
	CU_ASSERT_FALSE(m.facts.type_known);
	directory_mutation_free(&m);
}

static void
test_lookups(void)
{
	struct dir_institution	inst;
	char			sector[CODE_LEN];
	bool			revoked;

	CU_ASSERT_EQUAL(directory_institution(dir, FUND1, &inst), 1);
	CU_ASSERT_STRING_EQUAL(inst.sector, "HEALTH");
	CU_ASSERT_TRUE(inst.active);
	CU_ASSERT_PTR_NOT_NULL(strstr(inst.endpoint, "http://127.0.0.1:"));
	CU_ASSERT_EQUAL(directory_institution(dir, "0123456749", &inst), 0);
	CU_ASSERT_EQUAL(directory_quality_sector(dir, "PENSIONER", sector), 1);
	CU_ASSERT_STRING_EQUAL(sector, "PENSION");
	CU_ASSERT_EQUAL(directory_quality_sector(dir, "NOPE", sector), 0);
	CU_ASSERT_EQUAL(directory_certificate(dir, "00", &inst, &revoked), 0);
	CU_ASSERT_EQUAL(directory_ping(dir), 0);
}

/* A count from SQL, or -1. */
static long
count(const char *sql)
{
	MYSQL_RES	*r;
	MYSQL_ROW	 row;
	long		 n = -1;

	if (mysql_query(db, sql) != 0 || (r = mysql_store_result(db)) == NULL)
		return -1;
	if ((row = mysql_fetch_row(r)) != NULL && row[0] != NULL)
		n = atol(row[0]);
	mysql_free_result(r);
	return n;
}

static void
test_purge_seen(void)
{
	char	q[256];
	int	i;

	CU_ASSERT_EQUAL_FATAL(mysql_query(db, "DELETE FROM message_seen"), 0);
	/* 2,500 expired MessageIds (synthetic senders), 3 still current */
	for (i = 0; i < 2500; i += 500) {
		snprintf(q, sizeof(q), "INSERT INTO message_seen (sender, message_id, expires_at) SELECT '%s', "
		    "CONCAT('old-', seq), UTC_TIMESTAMP(6) - INTERVAL seq SECOND "
		    "FROM seq_%d_to_%d", FUND1, i + 1, i + 500);
		CU_ASSERT_EQUAL_FATAL(mysql_query(db, q), 0);
	}
	CU_ASSERT_EQUAL(directory_message_seen(dir, FUND2, "new-1",
	    "2099-01-01 00:00:00.000000", TK), 1);
	CU_ASSERT_EQUAL(directory_message_seen(dir, FUND2, "new-2",
	    "2099-01-01 00:00:00.000000", TK), 1);
	CU_ASSERT_EQUAL(directory_message_seen(dir, FUND1, "old-7",
	    "2099-01-01 00:00:00.000000", TK), 1);	/* an expired one, reused */
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM message_seen"), 2502);
	CU_ASSERT_EQUAL(directory_purge_seen(dir), DIR_PURGE_LIMIT);
	CU_ASSERT_EQUAL(directory_purge_seen(dir), DIR_PURGE_LIMIT);
	CU_ASSERT_EQUAL(directory_purge_seen(dir), 499);
	CU_ASSERT_EQUAL(directory_purge_seen(dir), 0);
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM message_seen"), 3);
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM message_seen WHERE "
	    "message_id IN ('new-1', 'new-2', 'old-7')"), 3);
	/* what was purged is new again; what was kept is still a replay */
	CU_ASSERT_EQUAL(directory_message_seen(dir, FUND1, "old-8",
	    "2099-01-01 00:00:00.000000", TK), 1);
	CU_ASSERT_EQUAL(directory_message_seen(dir, FUND2, "new-1",
	    "2099-01-01 00:00:00.000000", TK), 0);
}

static void test_reconnect(void);
static void kill_directory_connection(void);
static void fill(const char *);

/* The claim and the files in one round trip: the files as
 * directory_consult reads them, the claim as directory_message_seen makes
 * it (a MessageId with quotes and a backslash stays one value), the
 * claim survives a lost connection, and a claim whose answer was lost is
 * told from a replay. */
static void
test_consult_claim(void)
{
	struct dir_consult	 a, b;
	const char		*odd = "it's \\ \"odd\"; DROP TABLE x; --";
	int			 fresh = -1;
	size_t			 i, nfiles;

	CU_ASSERT_EQUAL_FATAL(directory_consult(dir, "78031914571", "WAGES",
	    "INSURED", &a), 0);
	nfiles = a.facts.nfiles;
	CU_ASSERT_EQUAL_FATAL(directory_consult_claim(dir, FUND2, odd,
	    "2099-01-01 00:00:00.000000", TK, "78031914571", "WAGES", "INSURED",
	    &b, &fresh), 0);
	CU_ASSERT_EQUAL(fresh, 1);
	CU_ASSERT_TRUE(a.facts.nfiles > 0);
	CU_ASSERT_EQUAL_FATAL(b.facts.nfiles, a.facts.nfiles);
	CU_ASSERT_EQUAL(b.facts.nauths, a.facts.nauths);
	CU_ASSERT_EQUAL(b.facts.navail, a.facts.navail);
	CU_ASSERT_TRUE(b.facts.service_known);
	for (i = 0; i < a.facts.nfiles; i++) {
		CU_ASSERT_STRING_EQUAL(b.files[i].institution,
		    a.files[i].institution);
		CU_ASSERT_STRING_EQUAL(b.files[i].quality, a.files[i].quality);
		CU_ASSERT_STRING_EQUAL(b.files[i].endpoint, a.files[i].endpoint);
		CU_ASSERT_EQUAL(memcmp(&b.files[i].period, &a.files[i].period,
		    sizeof(a.files[i].period)), 0);
	}
	directory_consult_free(&a);
	directory_consult_free(&b);
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM message_seen WHERE "
	    "message_id = 'it''s \\\\ \"odd\"; DROP TABLE x; --'"), 1);
	/* the same again: claimed already, either way */
	CU_ASSERT_EQUAL(directory_consult_claim(dir, FUND2, odd,
	    "2099-01-01 00:00:00.000000", TK, "78031914571", "WAGES", "INSURED",
	    &b, &fresh), 0);
	CU_ASSERT_EQUAL(fresh, 0);
	CU_ASSERT_EQUAL(b.facts.nfiles, 0);
	CU_ASSERT_EQUAL(directory_message_seen(dir, FUND2, odd,
	    "2099-01-01 00:00:00.000000", TK), 0);
	/* an unknown service: claimed all the same */
	CU_ASSERT_EQUAL(directory_consult_claim(dir, FUND2, "claim-2",
	    "2099-01-01 00:00:00.000000", TK, "78031914571", "NO_SUCH_SERVICE",
	    "INSURED", &b, &fresh), 0);
	CU_ASSERT_EQUAL(fresh, 1);
	CU_ASSERT_FALSE(b.facts.service_known);
	CU_ASSERT_EQUAL(directory_message_seen(dir, FUND2, "claim-2",
	    "2099-01-01 00:00:00.000000", TK), 0);
	/* after a lost connection (test_reconnect): opened again */
	test_reconnect();
	CU_ASSERT_EQUAL(directory_consult_claim(dir, FUND2, "claim-3",
	    "2099-01-01 00:00:00.000000", TK, "78031914571", "WAGES", "INSURED",
	    &b, &fresh), 0);
	CU_ASSERT_EQUAL(fresh, 1);
	CU_ASSERT_EQUAL(b.facts.nfiles, nfiles);
	directory_consult_free(&b);
	/* the connection lost with the claim on its way, the row written (a
	 * cluster node that committed and died before answering): the retry
	 * on a new connection finds the row - this exchange's own (its
	 * ticket) is fresh, another's is a replay, even with the same expiry
	 * to the microsecond (two nodes, one MessageId, one instant) */
	fill("INSERT INTO message_seen (sender, message_id, expires_at, ticket) "
	    "VALUES ('" FUND2 "', 'claim-4', '2099-01-01 00:00:00.123456', '"
	    TK "'), ('" FUND2 "', 'claim-5', '2099-01-01 00:00:00.123456', '"
	    TK_OTHER "'), ('" FUND2 "', 'claim-6', '2099-01-01 00:00:00.123456', "
	    "NULL)");
	kill_directory_connection();
	CU_ASSERT_EQUAL(directory_consult_claim(dir, FUND2, "claim-4",
	    "2099-01-01 00:00:00.123456", TK, "78031914571", "WAGES", "INSURED",
	    &b, &fresh), 0);
	CU_ASSERT_EQUAL(fresh, 1);
	CU_ASSERT_EQUAL(b.facts.nfiles, nfiles);
	directory_consult_free(&b);
	kill_directory_connection();
	CU_ASSERT_EQUAL(directory_consult_claim(dir, FUND2, "claim-5",
	    "2099-01-01 00:00:00.123456", TK, "78031914571", "WAGES", "INSURED",
	    &b, &fresh), 0);
	CU_ASSERT_EQUAL(fresh, 0);
	directory_consult_free(&b);
	kill_directory_connection();
	CU_ASSERT_EQUAL(directory_message_seen(dir, FUND2, "claim-4",
	    "2099-01-01 00:00:00.123456", TK), 1);
	kill_directory_connection();
	CU_ASSERT_EQUAL(directory_message_seen(dir, FUND2, "claim-5",
	    "2099-01-01 00:00:00.123456", TK), 0);
	/* a row from before schema version 7 has no ticket: never one's own */
	kill_directory_connection();
	CU_ASSERT_EQUAL(directory_message_seen(dir, FUND2, "claim-6",
	    "2099-01-01 00:00:00.123456", TK), 0);
	/* without a lost connection, one's own ticket is no excuse */
	CU_ASSERT_EQUAL(directory_message_seen(dir, FUND2, "claim-4",
	    "2099-01-01 00:00:00.123456", TK), 0);
	/* a claim names its exchange; an expired one taken over names the
	 * new one */
	CU_ASSERT_EQUAL(directory_message_seen(dir, FUND2, "claim-7",
	    "2099-01-01 00:00:00.000000", TK_OTHER), 1);
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM message_seen WHERE "
	    "message_id = 'claim-7' AND ticket = '" TK_OTHER "'"), 1);
	fill("UPDATE message_seen SET expires_at = '2000-01-01 00:00:00' WHERE "
	    "message_id = 'claim-7'");
	CU_ASSERT_EQUAL(directory_consult_claim(dir, FUND2, "claim-7",
	    "2099-01-01 00:00:00.000000", TK, "78031914571", "WAGES", "INSURED",
	    &b, &fresh), 0);
	CU_ASSERT_EQUAL(fresh, 1);
	directory_consult_free(&b);
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM message_seen WHERE "
	    "message_id = 'claim-7' AND ticket = '" TK "' AND expires_at = "
	    "'2099-01-01 00:00:00'"), 1);
}

/* A certificate of the test PKI (tests/make-pki), or NULL. */
static X509 *
pki_cert(const char *name, char **path)
{
	const char	*pki = getenv("KP_TEST_PKI");
	FILE		*fp;
	X509		*x = NULL;

	if (pki == NULL)
		return NULL;
	xasprintf(path, "%s/%s.crt", pki, name);
	if ((fp = fopen(*path, "r")) != NULL) {
		x = PEM_read_X509(fp, NULL, NULL, NULL);
		fclose(fp);
	}
	return x;
}

/* One certlookup_fn() call: its result; *found the X509 it gave (freed). */
static int
lookup(struct certlookup *l, const struct wsse_keyref *ref, X509 *expect)
{
	X509	*got = NULL;
	int	 rc;

	certlookup_reset(l);
	rc = certlookup_fn(l, ref, &got);
	if (ref->kind != WSSE_KEYREF_TOKEN) {
		CU_ASSERT_EQUAL(got != NULL, rc == 1);
		if (got != NULL)
			CU_ASSERT_EQUAL(X509_cmp(got, expect), 0);
		X509_free(got);
	}
	return rc;
}

/* Keys named by token, SubjectKeyIdentifier, thumbprint and issuer/serial
 * are resolved against the certificates registered in the directory. */
static void
test_certlookup(void)
{
	struct certlookup	 l = { .dir = dir };
	struct wsse_keyref	 ref;
	struct cert_info	 info;
	unsigned char		 sha1[EVP_MAX_MD_SIZE], bad[20];
	unsigned int		 sha1len;
	const ASN1_OCTET_STRING	*ski;
	BIGNUM			*bn;
	X509			*x, *other;
	char			*path, *opath, err[512], *serial;

	x = pki_cert("rsa", &path);
	other = pki_cert("other", &opath);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	CU_ASSERT_EQUAL_FATAL(certificate_add(db, FUND1, path, &info, err,
	    sizeof(err)), 0);

	memset(&ref, 0, sizeof(ref));
	ref.kind = WSSE_KEYREF_TOKEN;
	ref.cert = x;
	CU_ASSERT_EQUAL(lookup(&l, &ref, x), 1);
	CU_ASSERT_STRING_EQUAL(l.inst.id, FUND1);
	CU_ASSERT_FALSE(l.revoked);
	ref.cert = other;			/* valid, not registered */
	CU_ASSERT_EQUAL(lookup(&l, &ref, other), 0);

	memset(&ref, 0, sizeof(ref));
	ref.kind = WSSE_KEYREF_SKI;
	CU_ASSERT_PTR_NOT_NULL_FATAL(ski = X509_get0_subject_key_id(x));
	ref.data = ASN1_STRING_get0_data(ski);
	ref.len = (size_t)ASN1_STRING_length(ski);
	CU_ASSERT_EQUAL(lookup(&l, &ref, x), 1);
	CU_ASSERT_STRING_EQUAL(l.inst.id, FUND1);
	memset(bad, 0x5a, sizeof(bad));
	ref.data = bad;
	ref.len = sizeof(bad);
	CU_ASSERT_EQUAL(lookup(&l, &ref, x), 0);

	ref.kind = WSSE_KEYREF_THUMBPRINT;
	CU_ASSERT_EQUAL_FATAL(X509_digest(x, EVP_sha1(), sha1, &sha1len), 1);
	ref.data = sha1;
	ref.len = sha1len;
	CU_ASSERT_EQUAL(lookup(&l, &ref, x), 1);
	CU_ASSERT_STRING_EQUAL(l.inst.id, FUND1);

	memset(&ref, 0, sizeof(ref));
	ref.kind = WSSE_KEYREF_ISSUER_SERIAL;
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	serial = BN_bn2dec(bn);
	ref.serial = serial;
	ref.issuer = info.issuer;		/* RFC 2253, as clients send it */
	CU_ASSERT_EQUAL(lookup(&l, &ref, x), 1);
	CU_ASSERT_STRING_EQUAL(l.inst.id, FUND1);
	ref.issuer = "CN=Somebody Else,O=Elsewhere";
	CU_ASSERT_EQUAL(lookup(&l, &ref, x), 0);

	/* a revoked registration resolves no more (and says so by token) */
	CU_ASSERT_EQUAL_FATAL(certificate_revoke(db, info.fingerprint, err,
	    sizeof(err)), 0);
	dircache_flush_all();
	ref.issuer = info.issuer;
	CU_ASSERT_EQUAL(lookup(&l, &ref, x), 0);
	memset(&ref, 0, sizeof(ref));
	ref.kind = WSSE_KEYREF_TOKEN;
	ref.cert = x;
	lookup(&l, &ref, x);
	CU_ASSERT_TRUE(l.revoked);

	OPENSSL_free(serial);
	BN_free(bn);
	X509_free(x);
	X509_free(other);
	free(path);
	free(opath);
}

/* Kill the directory's connection from another one (the next statement on
 * it fails as if the server had gone). */
static void
kill_directory_connection(void)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		 q[64];

	CU_ASSERT_EQUAL_FATAL(mysql_query(db, "SELECT ID FROM "
	    "information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND "
	    "DB IS NOT NULL"), 0);
	res = mysql_store_result(db);
	while ((row = mysql_fetch_row(res)) != NULL) {
		snprintf(q, sizeof(q), "KILL CONNECTION %s", row[0]);
		mysql_query(db, q);
	}
	mysql_free_result(res);
}

static void
test_reconnect(void)
{
	struct dir_institution	inst;

	/* kill our own directory connection from another one: the next
	 * lookup re-connects and succeeds */
	CU_ASSERT_EQUAL_FATAL(directory_institution(dir, FUND1, &inst), 1);
	kill_directory_connection();
	CU_ASSERT_EQUAL(directory_institution(dir, FUND1, &inst), 1);
}

static void
fill(const char *sql)
{
	if (mysql_query(db, sql) != 0)
		fprintf(stderr, "\n  %s\n  %s\n", sql, mysql_error(db));
	CU_ASSERT_EQUAL(mysql_errno(db), 0);
}

/* Substitute the statement's ? by literal values. */
static char *
with_values(const char *sql, const char *const *values)
{
	char	*out = xmalloc(strlen(sql) + 512), *o = out;
	int	 k = 0;

	for (; *sql != '\0'; sql++) {
		if (*sql != '?') {
			*o++ = *sql;
			continue;
		}
		o += sprintf(o, "'%s'", values[k++]);
	}
	*o = '\0';
	return out;
}

/* A directory with [database] directory_cache set to ms. */
static struct directory *
open_with_cache(int ms)
{
	struct directory	*d;
	int			 saved = cf->db_directory_cache;
	char			 err[512];

	cf->db_directory_cache = ms;
	d = directory_open(cf, err, sizeof(err));
	cf->db_directory_cache = saved;
	CU_ASSERT_PTR_NOT_NULL(d);
	return d;
}

static void
test_cache(void)
{
	struct directory	*cached = open_with_cache(3600 * 1000);
	struct directory	*direct = open_with_cache(0), *other;
	struct dir_institution	 inst;
	struct dir_consult	 c;
	size_t			 before;

	if (cached == NULL || direct == NULL)
		return;
	CU_ASSERT_EQUAL(directory_institution(cached, FUND1, &inst), 1);
	CU_ASSERT_STRING_NOT_EQUAL(inst.name, "Renamed for the cache test");
	CU_ASSERT_EQUAL(directory_consult(cached, "78031914571", "WAGES",
	    "INSURED", &c), 0);
	before = c.facts.nauths;
	directory_consult_free(&c);

	fill("UPDATE institution SET name = 'Renamed for the cache test' "
	    "WHERE id = '" FUND1 "'");
	fill("UPDATE authorization SET service = 'PENSION_STATUS' "
	    "WHERE id = 'AUTH-004'");	/* the only WAGES for INSURED */
	/* the small tables are kept ... */
	CU_ASSERT_EQUAL(directory_institution(cached, FUND1, &inst), 1);
	CU_ASSERT_STRING_NOT_EQUAL(inst.name, "Renamed for the cache test");
	CU_ASSERT_EQUAL(directory_consult(cached, "78031914571", "WAGES",
	    "INSURED", &c), 0);
	CU_ASSERT_EQUAL(c.facts.nauths, before);
	directory_consult_free(&c);
	/* ... for every directory of the process with that period (the hub's
	 * workers share one cache): this one never read the row itself */
	other = open_with_cache(3600 * 1000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	CU_ASSERT_EQUAL(directory_institution(other, FUND1, &inst), 1);
	CU_ASSERT_STRING_NOT_EQUAL(inst.name, "Renamed for the cache test");
	directory_close(other);
	/* ... not without a cache ... */
	CU_ASSERT_EQUAL(directory_institution(direct, FUND1, &inst), 1);
	CU_ASSERT_STRING_EQUAL(inst.name, "Renamed for the cache test");
	CU_ASSERT_EQUAL(directory_consult(direct, "78031914571", "WAGES",
	    "INSURED", &c), 0);
	CU_ASSERT_EQUAL(c.facts.nauths, 0);
	directory_consult_free(&c);
	/* ... and not after a flush (SIGHUP) */
	dircache_flush_all();
	CU_ASSERT_EQUAL(directory_institution(cached, FUND1, &inst), 1);
	CU_ASSERT_STRING_EQUAL(inst.name, "Renamed for the cache test");
	CU_ASSERT_EQUAL(directory_consult(cached, "78031914571", "WAGES",
	    "INSURED", &c), 0);
	CU_ASSERT_EQUAL(c.facts.nauths, 0);
	directory_consult_free(&c);

	/* the person directory is never kept: a new file shows at once */
	CU_ASSERT_EQUAL(directory_consult(cached, "78031914571", "WAGES",
	    "INSURED", &c), 0);
	before = c.facts.nfiles;
	directory_consult_free(&c);
	CU_ASSERT_EQUAL(directory_register(cached, "78031914571", PENS,
	    "PENSIONER", "2020-01-01", NULL), 0);
	CU_ASSERT_EQUAL(directory_consult(cached, "78031914571", "WAGES",
	    "INSURED", &c), 0);
	CU_ASSERT_EQUAL(c.facts.nfiles, before + 1);
	directory_consult_free(&c);

	fill("DELETE FROM person_file WHERE ssin = '78031914571' AND "
	    "institution = '" PENS "' AND quality = 'PENSIONER' AND "
	    "begin_date = '2020-01-01'");
	fill("UPDATE authorization SET service = 'WAGES' WHERE id = 'AUTH-004'");
	fill("UPDATE institution SET name = 'Cache test done' WHERE id = '"
	    FUND1 "'");
	dircache_flush_all();
	directory_close(cached);
	directory_close(direct);
}

/* A person's files carry the same institution facts whether they come from
 * the whole institution table a cached worker keeps or one at a time. */
static void
test_files_same_with_and_without_cache(void)
{
	struct directory	*cached = open_with_cache(3600 * 1000);
	struct directory	*direct = open_with_cache(0);
	struct dir_consult	 a, b;
	MYSQL_RES		*r;
	MYSQL_ROW		 row;
	size_t			 i, persons = 0, files = 0;

	if (cached == NULL || direct == NULL)
		return;
	CU_ASSERT_EQUAL_FATAL(mysql_query(db, "SELECT DISTINCT ssin FROM "
	    "person_file"), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r = mysql_store_result(db));
	while ((row = mysql_fetch_row(r)) != NULL) {
		CU_ASSERT_EQUAL(directory_consult(cached, row[0], "WAGES",
		    "INSURED", &a), 0);
		CU_ASSERT_EQUAL(directory_consult(direct, row[0], "WAGES",
		    "INSURED", &b), 0);
		CU_ASSERT_EQUAL(a.facts.nfiles, b.facts.nfiles);
		for (i = 0; i < a.facts.nfiles && i < b.facts.nfiles; i++) {
			CU_ASSERT_STRING_EQUAL(a.files[i].institution,
			    b.files[i].institution);
			CU_ASSERT_STRING_EQUAL(a.files[i].sector, b.files[i].sector);
			CU_ASSERT_STRING_EQUAL(a.files[i].endpoint,
			    b.files[i].endpoint);
			CU_ASSERT_EQUAL(a.files[i].active, b.files[i].active);
			CU_ASSERT(a.files[i].sector[0] != '\0');
			files++;
		}
		directory_consult_free(&a);
		directory_consult_free(&b);
		persons++;
	}
	mysql_free_result(r);
	CU_ASSERT(persons >= 30);
	CU_ASSERT(files >= 100);

	/* an institution and a file added after the table was kept: found */
	fill("INSERT INTO institution VALUES ('0700000104', 'Added later', "
	    "'HEALTH', 'http://127.0.0.1:1/later', 1)");
	fill("INSERT INTO person_file (ssin, institution, quality, begin_date, "
	    "end_date) VALUES ('78031914571', '0700000104', 'INSURED', "
	    "'2020-01-01', NULL)");
	CU_ASSERT_EQUAL(directory_consult(cached, "78031914571", "WAGES",
	    "INSURED", &a), 0);
	for (i = 0; i < a.facts.nfiles; i++)
		if (strcmp(a.files[i].institution, "0700000104") == 0)
			break;
	CU_ASSERT_FATAL(i < a.facts.nfiles);
	CU_ASSERT_STRING_EQUAL(a.files[i].sector, "HEALTH");
	CU_ASSERT_STRING_EQUAL(a.files[i].endpoint, "http://127.0.0.1:1/later");
	CU_ASSERT_TRUE(a.files[i].active);
	directory_consult_free(&a);
	fill("DELETE FROM person_file WHERE institution = '0700000104'");
	fill("DELETE FROM institution WHERE id = '0700000104'");
	directory_close(cached);
	directory_close(direct);
}

static void
test_request_path_uses_indexes(void)
{
	/* per statement, in the order of directory.c's dir_queries[] */
	static const char *const values[][5] = {
		{ "78031914571", NULL },		/* person files */
		{ "WAGES", "INSURED" },		/* authorisations for */
		{ "WAGES", NULL },			/* authorisations service */
		{ "WAGES", NULL },			/* availability */
		{ "WAGES", NULL },			/* service */
		{ "ADDRESS_CHANGE", NULL },		/* mutation type */
		{ "ADDRESS_CHANGE", NULL },		/* subscribers */
		{ "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", NULL },
		{ "INSURED", NULL },			/* quality */
		{ FUND1, NULL },			/* institution */
		{ "0123abcd", NULL },			/* certificate by SKI */
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL },
		{ "1", NULL },				/* by serial */
		{ "78031914571", FUND1 },		/* list */
		{ "2026-01-01", "78031914571", FUND1, "INSURED", "2010-01-01" },
	};
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	MYSQL_FIELD	*fields;
	const char	*name;
	char		*sql, *explain;
	unsigned int	 i, ntype = 0;
	size_t		 k;

	CU_ASSERT_EQUAL_FATAL(directory_query_count(),
	    sizeof(values) / sizeof(values[0]));
	/* Enough rows that a scan would be the optimiser's choice if no
	 * index served: 200,000 files of other persons, many services,
	 * authorisations and availability rules, a registered certificate. */
	fill("INSERT INTO person_file (ssin, institution, quality, begin_date) "
	    "SELECT CONCAT('8', LPAD(seq, 10, '0')), '" FUND1 "', 'INSURED', '2020-01-01' "
	    "FROM seq_1_to_200000");
	fill("INSERT INTO service (code, description) SELECT CONCAT('S', seq), "
	    "'filler' FROM seq_1_to_2000");
	fill("INSERT INTO authorization (id, requester_sector, quality, service, "
	    "legal_basis, valid_from) SELECT CONCAT('F', seq), 'HEALTH', "
	    "'INSURED', CONCAT('S', seq), 'filler', '2020-01-01' FROM "
	    "seq_1_to_2000");
	fill("INSERT INTO availability (service, sector) SELECT CONCAT('S', seq), "
	    "'HEALTH' FROM seq_1_to_2000");
	fill("INSERT INTO mutation_type (code, service, source) SELECT "
	    "CONCAT('M', seq), CONCAT('S', seq), '" NR "' FROM seq_1_to_2000");
	fill("INSERT INTO subscription (institution, mutation_type) SELECT '"
	    FUND1 "', CONCAT('M', seq) FROM seq_1_to_2000");
	fill("INSERT INTO certificate (fingerprint, institution, subject, issuer, "
	    "serial, thumbprint_sha1, not_before, not_after, pem) VALUES "
	    "(REPEAT('f', 64), '" FUND1 "', 's', 'i', '1', REPEAT('a', 40), "
	    "NOW(), NOW(), 'x')");
	fill("ANALYZE TABLE person_file, service, authorization, availability, "
	    "mutation_type, subscription, certificate, institution, quality");
	res = mysql_store_result(db);
	mysql_free_result(res);

	for (k = 0; k < directory_query_count(); k++) {
		sql = with_values(directory_query_sql(k, &name), values[k]);
		xasprintf(&explain, "EXPLAIN %s", sql);
		CU_ASSERT_EQUAL_FATAL(mysql_query(db, explain), 0);
		res = mysql_store_result(db);
		fields = mysql_fetch_fields(res);
		for (i = 0; i < mysql_num_fields(res); i++)
			if (strcmp(fields[i].name, "type") == 0)
				ntype = i;
		while ((row = mysql_fetch_row(res)) != NULL) {
			const char *type = row[ntype] != NULL ? row[ntype] : "NULL";
			if (strcmp(type, "ALL") == 0 || strcmp(type, "index") == 0) {
				fprintf(stderr, "\n  full scan (%s) in \"%s\":\n  %s\n",
				    type, name, sql);
				CU_FAIL("a request-path statement scans a table");
			} else
				CU_PASS("indexed");
		}
		mysql_free_result(res);
		free(explain);
		free(sql);
	}
}

int
main(void)
{
	CU_pSuite	s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("directory (real MariaDB, sample network)", init, clean);
	CU_add_test(s, "migrate is safe to run twice", test_migrate_twice);
	CU_add_test(s, "consult decisions from the database", test_sample_decisions);
	CU_add_test(s, "mutation recipients from the database", test_sample_mutation);
	CU_add_test(s, "lookups", test_lookups);
	CU_add_test(s, "expired MessageIds are purged, current ones kept",
	    test_purge_seen);
	CU_add_test(s, "keys by token, SKI, thumbprint and issuer/serial "
	    "found among the registered certificates", test_certlookup);
	CU_add_test(s, "a lost connection is re-opened", test_reconnect);
	CU_add_test(s, "a Consult's claim and files in one round trip",
	    test_consult_claim);
	CU_add_test(s, "the small tables are cached, the person files not",
	    test_cache);
	CU_add_test(s, "files' institutions alike from the kept table and live",
	    test_files_same_with_and_without_cache);
	CU_add_test(s, "every request-path statement uses an index",
	    test_request_path_uses_indexes);
	return test_run();
}

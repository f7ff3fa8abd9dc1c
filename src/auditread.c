/*
 * kruispunt - reading the audit trail back: the chain check and the audit
 * officers' queries.
 *
 * auditread_verify() walks each node's chain in sequence order, recomputes
 * every record's hash from its fields (and its targets) exactly as the
 * writer did (audit_hash), and compares: a changed field gives a hash that
 * differs; a removed record leaves a gap in the sequence and a prev_hash
 * that no longer matches; an inserted record has no place in the sequence
 * or breaks the next record's prev_hash; reordering breaks both. Records and
 * their targets are streamed side by side on two connections
 * (mysql_use_result), so memory does not grow with the trail.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "audit.h"
#include "auditread.h"
#include "certificate.h"
#include "progress.h"
#include "xmalloc.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

static void
copy(char *dst, size_t len, const char *v)
{
	snprintf(dst, len, "%s", v != NULL ? v : "");
}

/* "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) to microseconds since the epoch. */
static int64_t
parse_time(const char *s)
{
	struct tm	tm;
	long		frac = 0;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || sscanf(s, "%d-%d-%d %d:%d:%d.%ld", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	    &frac) < 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000000 + frac;
}

static void
problem(FILE *out, struct auditread_verify *v, const char *node,
    const char *seq, const char *ticket, const char *what)
{
	v->problems++;
	fprintf(out, "node %s, record %s (ticket %s): %s\n", node, seq,
	    ticket != NULL ? ticket : "-", what);
}

/* The targets of one node, streamed in (seq, position) order beside the
 * records on a second connection. */
struct targets {
	MYSQL_RES		*res;
	MYSQL_ROW		 row;	/* the next target not yet used */
};

static int
targets_open(MYSQL *db, const char *node, struct targets *tg)
{
	char	q[512], esc[200];

	mysql_real_escape_string(db, esc, node, (unsigned long)strlen(node));
	snprintf(q, sizeof(q), "SELECT seq, institution, status, answer_digest "
	    "FROM audit_target WHERE node = '%s' ORDER BY seq, position", esc);
	if (mysql_query(db, q) != 0 || (tg->res = mysql_use_result(db)) == NULL)
		return -1;
	tg->row = mysql_fetch_row(tg->res);
	return 0;
}

/* Attach the targets of record seq to r. */
static void
targets_take(struct targets *tg, unsigned long long seq, struct audit_record *r)
{
	while (tg->row != NULL && strtoull(tg->row[0], NULL, 10) < seq)
		tg->row = mysql_fetch_row(tg->res);
	while (tg->row != NULL && strtoull(tg->row[0], NULL, 10) == seq) {
		struct audit_target *t = audit_record_add_target(r);
		copy(t->institution, sizeof(t->institution), tg->row[1]);
		copy(t->status, sizeof(t->status), tg->row[2]);
		copy(t->answer_digest, sizeof(t->answer_digest), tg->row[3]);
		tg->row = mysql_fetch_row(tg->res);
	}
}

/* Check one checkpoint's signature with the hub certificate; 1 if good. */
static int
checkpoint_signed(X509 *cert, const char *node, const char *seq,
    const char *hash, const char *sig64)
{
	EVP_PKEY	*key = X509_get0_pubkey(cert);
	EVP_MD_CTX	*md;
	unsigned char	 sig[1100];
	char		 text[256];
	int		 n, ok;

	if (key == NULL || strlen(sig64) > 1400)
		return 0;
	n = EVP_DecodeBlock(sig, (const unsigned char *)sig64,
	    (int)strlen(sig64));
	if (n <= 0)
		return 0;
	n -= (int)(strlen(sig64) >= 2 && sig64[strlen(sig64) - 1] == '=') +
	    (int)(strlen(sig64) >= 2 && sig64[strlen(sig64) - 2] == '=');
	audit_checkpoint_text(node, strtoull(seq, NULL, 10), hash, text,
	    sizeof(text));
	if ((md = EVP_MD_CTX_new()) == NULL)
		return 0;
	ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestVerify(md, sig, (size_t)n, (unsigned char *)text,
	    strlen(text)) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

/*
 * Each signed checkpoint of node: the record at its position must have the
 * hash it signed, and the signature must be the hub's.
 */
static int
verify_checkpoints(MYSQL *db, const char *node, X509 *cert, FILE *out,
    struct auditread_verify *v, unsigned long long last_seq, char *err,
    size_t errlen)
{
	MYSQL_RES		*res;
	MYSQL_ROW		 row;
	char			 q[1024], esc[200], fp[AUDIT_HASH_LEN] = "", what[300];
	unsigned long long	 covered = 0;

	if (cert != NULL)
		certificate_fingerprint(cert, fp);	/* "" if it cannot */
	mysql_real_escape_string(db, esc, node, (unsigned long)strlen(node));
	snprintf(q, sizeof(q), "SELECT c.seq, c.hash, c.signature, "
	    "c.certificate, r.hash, r.ticket FROM audit_checkpoint c LEFT JOIN "
	    "audit_record r ON r.node = c.node AND r.seq = c.seq WHERE "
	    "c.node = '%s' ORDER BY c.seq", esc);
	if (mysql_query(db, q) != 0 || (res = mysql_store_result(db)) == NULL) {
		snprintf(err, errlen, "reading the checkpoints: %s",
		    mysql_error(db));
		return -1;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		v->checkpoints++;
		if (row[4] == NULL || strcmp(row[4], row[1]) != 0) {
			snprintf(what, sizeof(what), "the signed checkpoint says "
			    "hash %.16s..., the chain has %.16s...: the trail was "
			    "rewritten up to here", row[1], row[4] ? row[4] :
			    "no record");
			problem(out, v, node, row[0], row[5], what);
		}
		if (cert == NULL) {
			problem(out, v, node, row[0], row[5], "checkpoint "
			    "signature not checked: no hub certificate given");
		} else if (strcmp(fp, row[3]) != 0) {
			snprintf(what, sizeof(what), "checkpoint signed by "
			    "certificate %.16s..., not by the hub certificate "
			    "given", row[3]);
			problem(out, v, node, row[0], row[5], what);
		} else if (!checkpoint_signed(cert, node, row[0], row[1], row[2]))
			problem(out, v, node, row[0], row[5], "the checkpoint's "
			    "signature is not valid");
		covered = strtoull(row[0], NULL, 10);
	}
	mysql_free_result(res);
	if (last_seq > covered)
		v->unsigned_tail += (unsigned long)(last_seq - covered);
	return 0;
}

static int
verify_node(MYSQL *db, MYSQL *db2, const char *node, X509 *cert, FILE *out,
    struct auditread_verify *v, struct progress *pr, char *err, size_t errlen)
{
	struct targets		 tg = { NULL, NULL };
	struct audit_record	 r;
	MYSQL_RES		*res;
	MYSQL_ROW		 row;
	char			 q[1024], esc[200], prev[AUDIT_HASH_LEN], h[AUDIT_HASH_LEN];
	unsigned long long	 expect = 1, seq;

	if (targets_open(db2, node, &tg) == -1) {
		snprintf(err, errlen, "reading the targets: %s", mysql_error(db2));
		return -1;
	}
	mysql_real_escape_string(db, esc, node, (unsigned long)strlen(node));
	snprintf(q, sizeof(q), "SELECT seq, ticket, kind, operation, received_at, "
	    "answered_at, sender, sender_cert, message_id, ssin, quality, "
	    "service, period_begin, period_end, decision, reason, "
	    "authorization_id, legal_basis, request_digest, answer_digest, "
	    "prev_hash, hash FROM audit_record WHERE node = '%s' ORDER BY seq",
	    esc);
	if (mysql_query(db, q) != 0 || (res = mysql_use_result(db)) == NULL) {
		snprintf(err, errlen, "reading the audit trail: %s",
		    mysql_error(db));
		mysql_free_result(tg.res);
		return -1;
	}
	memcpy(prev, ZERO_HASH, sizeof(prev));
	memset(&r, 0, sizeof(r));
	while ((row = mysql_fetch_row(res)) != NULL) {
		audit_record_clear(&r);	/* one target buffer for the walk */
		seq = strtoull(row[0], NULL, 10);
		r.seq = seq;
		copy(r.ticket, sizeof(r.ticket), row[1]);
		r.kind = row[2];
		r.operation = row[3];
		r.received_us = parse_time(row[4]);
		r.answered_us = parse_time(row[5]);
		copy(r.sender, sizeof(r.sender), row[6]);
		copy(r.sender_cert, sizeof(r.sender_cert), row[7]);
		copy(r.message_id, sizeof(r.message_id), row[8]);
		copy(r.ssin, sizeof(r.ssin), row[9]);
		copy(r.quality, sizeof(r.quality), row[10]);
		copy(r.service, sizeof(r.service), row[11]);
		copy(r.period_begin, sizeof(r.period_begin), row[12]);
		copy(r.period_end, sizeof(r.period_end), row[13]);
		copy(r.decision, sizeof(r.decision), row[14]);
		copy(r.reason, sizeof(r.reason), row[15]);
		copy(r.authorization_id, sizeof(r.authorization_id), row[16]);
		copy(r.legal_basis, sizeof(r.legal_basis), row[17]);
		copy(r.request_digest, sizeof(r.request_digest), row[18]);
		copy(r.answer_digest, sizeof(r.answer_digest), row[19]);
		copy(r.prev_hash, sizeof(r.prev_hash), row[20]);
		targets_take(&tg, seq, &r);
		if (seq != expect) {
			snprintf(q, sizeof(q), "sequence jumps from %llu to %llu: "
			    "%llu record%s removed", expect - 1, seq, seq - expect,
			    seq - expect == 1 ? "" : "s");
			problem(out, v, node, row[0], row[1], q);
		}
		if (strcmp(r.prev_hash, prev) != 0)
			problem(out, v, node, row[0], row[1], "does not follow the "
			    "record before it (prev_hash differs): a record was "
			    "removed, inserted or reordered here");
		audit_hash(node, &r, h);
		if (row[21] == NULL || strcmp(h, row[21]) != 0)
			problem(out, v, node, row[0], row[1], "its content does "
			    "not match its hash: the record was changed");
		memcpy(prev, row[21] != NULL ? row[21] : "", sizeof(prev) - 1);
		prev[AUDIT_HASH_LEN - 1] = '\0';
		expect = seq + 1;
		v->records++;
		progress_update(pr, v->records);
	}
	audit_record_release(&r);
	mysql_free_result(res);
	while (tg.row != NULL)
		tg.row = mysql_fetch_row(tg.res);
	mysql_free_result(tg.res);
	return verify_checkpoints(db, node, cert, out, v, expect - 1, err, errlen);
}

/* Verify the chains of every node (or one); problems are printed to out. */
int
auditread_verify(MYSQL *db, MYSQL *db2, const char *node, X509 *cert,
    FILE *out, struct auditread_verify *v, char *err, size_t errlen)
{
	MYSQL_RES		*res;
	MYSQL_ROW		 row;
	struct progress		*pr;
	struct timespec		 t0, t1;
	char			**nodes = NULL;
	unsigned long		 total = 0;
	size_t			 n = 0, i;
	int			 rc = 0;

	memset(v, 0, sizeof(*v));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (mysql_query(db, "SELECT node, COUNT(*) FROM audit_record GROUP BY "
	    "node ORDER BY node") != 0 || (res = mysql_store_result(db)) ==
	    NULL) {
		snprintf(err, errlen, "%s", mysql_error(db));
		return -1;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (node != NULL && strcmp(node, row[0]) != 0)
			continue;
		nodes = xreallocarray(nodes, n + 1, sizeof(char *));
		nodes[n++] = xstrdup(row[0]);
		total += strtoul(row[1], NULL, 10);
	}
	mysql_free_result(res);
	/* db2 streams the targets beside the records */
	pr = progress_start(stderr, "verifying", total);
	for (i = 0; i < n && rc == 0; i++)
		rc = verify_node(db, db2, nodes[i], cert, out, v, pr, err, errlen);
	progress_end(pr);
	for (i = 0; i < n; i++)
		free(nodes[i]);
	free(nodes);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	v->seconds = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return rc;
}

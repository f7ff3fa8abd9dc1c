/*
 * kruispunt - the audit trail: records in a hash chain per hub node, written
 * durably (group commit) before any answer leaves.
 *
 * Workers call audit_append(), which queues the record and waits. One writer
 * thread takes everything queued, gives each record the node's next sequence
 * number and chains it (prev_hash = the hash of the record before), writes
 * the whole batch in one transaction (one prepared INSERT per table executed
 * for all its rows: dbbulk.h), commits, and only
 * then wakes the workers: a worker never sends an answer whose record is not
 * committed. Under load the batch grows and one commit (one log flush)
 * serves many exchanges. audit_append_group() queues records that must be
 * committed together (a delivery worker's attempts); no batch ends inside
 * such a group.
 *
 * If the database refuses or is unreachable, every record of the batch fails
 * (audit_append returns -1) and the hub answers INTERNAL without passing data
 * on: it fails closed. When a COMMIT's fate is unknown (the connection died
 * during it), the writer reconnects and reads the node's head back: if the
 * batch's last sequence number is there, the batch was committed.
 *
 * On a Galera cluster (DESIGN.md, "Scale") a batch is retried with the same
 * sequence numbers when it may succeed on a second try: at once on a
 * deadlock or certification failure (1213, reported by a statement or by
 * the COMMIT), and, when the store was healthy, for up to AUDIT_RETRY_MS
 * after a lost connection or a node outside the Primary Component (1047,
 * 1180): the writer reconnects, possibly to another node behind the load
 * balancer, and reads its head with wsrep_sync_wait, so that a batch the
 * cluster did commit is recognised and never written twice. Beyond that the
 * batch fails (fail closed), and while the store is unhealthy the writer
 * tries to reconnect every AUDIT_PROBE_MS, so /health recovers by itself.
 *
 * The hash covers a canonical encoding of every field: each as a 4-byte
 * big-endian length and its bytes (NULL as length 0xffffffff), in the order
 * of audit_hash() below, then the previous hash. Changing, removing,
 * inserting or reordering a record breaks the chain (kruispunt audit verify).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errmsg.h>
#include <mysql.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "audit.h"
#include "certificate.h"
#include "config.h"
#include "db.h"
#include "dbbulk.h"
#include "log.h"
#include "xmalloc.h"

#define AUDIT_BATCH_MAX	512
#define AUDIT_RETRY_DEADLOCK	8	/* attempts of a batch on 1213 */
#define AUDIT_RETRY_MS		3000	/* reconnecting to retry a batch */
#define AUDIT_PROBE_MS		1000	/* reconnecting while unhealthy */
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

struct audit_pending {
	struct audit_record	*rec;
	int			 rc;	/* set before done is posted */
	sem_t			 done;	/* this worker's wake-up, not everyone's */
	struct audit_pending	*next;
	int			 more;	/* next is of the same group: no cut */
};

struct audit_log {
	const struct kp_config	*cf;
	char			 node[65];
	MYSQL			*db;
	struct db_bulk		 brec, btgt, bout;	/* prepared on db */
	uint64_t		 seq;		/* the node's last sequence number */
	char			 head[AUDIT_HASH_LEN];
	pthread_mutex_t		 mtx;
	pthread_cond_t		 work;		/* something queued, or stop */
	struct audit_pending	*first, *last;
	int			 idle;		/* the writer waits for work */
	int			 stop;
	int			 healthy;
	unsigned int		 err;		/* why the last write failed */
	char			 why[256];	/* why reading the head failed */
	unsigned int		 why_errno;
	pthread_t		 writer;
	/* signed checkpoints of the chain head */
	EVP_PKEY		*key;
	char			 cert_fp[AUDIT_HASH_LEN];
	uint64_t		 cp_seq;
	int64_t			 cp_time;
	int			 cp_records;
	int64_t			 cp_interval_us;
};

/* ------------------------------------------------------------------ */
/* Records                                                             */
/* ------------------------------------------------------------------ */

/*
 * A new ticket: a random (version 4) UUID, lower case. OpenSSL's generator
 * (one per thread, seeded by the kernel) costs no system call per ticket,
 * where libuuid's made five.
 */
void
audit_ticket_new(char out[AUDIT_TICKET_LEN])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 u[16];
	int			 i, j;

	if (RAND_bytes(u, sizeof(u)) != 1) {
		log_warnx("audit: no random bytes for a ticket");
		abort();	/* cannot happen once OpenSSL is seeded */
	}
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);	/* version 4 */
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	for (i = 0, j = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[u[i] >> 4];
		out[j++] = hex[u[i] & 0x0f];
	}
	out[j] = '\0';
}

/* Microseconds since the epoch. */
int64_t
audit_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "YYYY-MM-DD HH:MM:SS.ffffff" in UTC, as DATETIME(6) gives it back. */
void
audit_time_format(int64_t us, char out[27])
{
	time_t		t = (time_t)(us / 1000000);
	struct tm	tm;
	int		frac = (int)(us % 1000000), i, y;

	gmtime_r(&t, &tm);
	y = tm.tm_year + 1900;
	if (y < 0 || y > 9999 || frac < 0) {	/* not a time we write */
		snprintf(out, 27, "0000-00-00 00:00:00.000000");
		return;
	}
	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + (tm.tm_mon + 1) / 10);
	out[6] = (char)('0' + (tm.tm_mon + 1) % 10);
	out[7] = '-';
	out[8] = (char)('0' + tm.tm_mday / 10);
	out[9] = (char)('0' + tm.tm_mday % 10);
	out[10] = ' ';
	out[11] = (char)('0' + tm.tm_hour / 10);
	out[12] = (char)('0' + tm.tm_hour % 10);
	out[13] = ':';
	out[14] = (char)('0' + tm.tm_min / 10);
	out[15] = (char)('0' + tm.tm_min % 10);
	out[16] = ':';
	out[17] = (char)('0' + tm.tm_sec / 10);
	out[18] = (char)('0' + tm.tm_sec % 10);
	out[19] = '.';
	for (i = 25; i >= 20; i--) {
		out[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	out[26] = '\0';
}

/* A new ticket, the kind and operation, the reception time: now. */
static void
record_start(struct audit_record *r, const char *kind, const char *operation)
{
	audit_ticket_new(r->ticket);
	r->kind = kind;
	r->operation = operation;
	r->received_us = audit_now_us();
}

/* A fresh record with a new ticket and the reception time set to now (no
 * targets: audit_record_release() frees what audit_record_add_target()
 * adds). */
void
audit_record_init(struct audit_record *r, const char *kind,
    const char *operation)
{
	memset(r, 0, sizeof(*r));
	record_start(r, kind, operation);
}

/* Empty a record for use again, keeping the buffer of its targets (a
 * record reused for many keeps one buffer, freed by audit_record_release). */
void
audit_record_clear(struct audit_record *r)
{
	struct audit_target	*keep = r->targets;
	int			 cap = r->cap_targets;

	memset(r, 0, sizeof(*r));
	r->targets = keep;
	r->cap_targets = cap;
}

/* audit_record_init() for a record used before, keeping its buffer. */
void
audit_record_renew(struct audit_record *r, const char *kind,
    const char *operation)
{
	audit_record_clear(r);
	record_start(r, kind, operation);
}

/* A new, zeroed target at the end of the record's list: as many as an
 * exchange has (a consult may ask many sources, a publication queue many
 * recipients; the record lists them all). */
struct audit_target *
audit_record_add_target(struct audit_record *r)
{
	if (r->ntargets == r->cap_targets) {
		r->cap_targets = r->cap_targets ? r->cap_targets * 2 : 4;
		r->targets = xreallocarray(r->targets, (size_t)r->cap_targets,
		    sizeof(*r->targets));
	}
	memset(&r->targets[r->ntargets], 0, sizeof(r->targets[0]));
	return &r->targets[r->ntargets++];
}

/* Free a record's targets (not its outbox, which its maker owns). */
void
audit_record_release(struct audit_record *r)
{
	free(r->targets);
	r->targets = NULL;
	r->ntargets = r->cap_targets = 0;
}

/* SHA-256, fetched from the provider once rather than for every record. */
static EVP_MD		*sha256_md;
static pthread_once_t	 sha256_once = PTHREAD_ONCE_INIT;

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *
sha256(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_md != NULL ? sha256_md : EVP_sha256();
}

/* SHA-256 of a buffer, lower-case hex. */
void
audit_sha256_hex(const void *p, size_t n, char out[AUDIT_HASH_LEN])
{
	unsigned char	md[32];
	unsigned int	len = 0;

	EVP_Digest(p, n, md, &len, sha256(), NULL);
	certificate_hex(md, 32, out);
}

/* The encoding of a record, hashed a buffer at a time. */
struct hash_buf {
	EVP_MD_CTX	*md;
	size_t		 n;
	unsigned char	 buf[2048];
};

static void
hash_bytes(struct hash_buf *h, const void *p, size_t n)
{
	if (h->n + n > sizeof(h->buf)) {
		EVP_DigestUpdate(h->md, h->buf, h->n);
		h->n = 0;
		if (n > sizeof(h->buf)) {
			EVP_DigestUpdate(h->md, p, n);
			return;
		}
	}
	memcpy(h->buf + h->n, p, n);
	h->n += n;
}

static void
hash_field(struct hash_buf *h, const char *v)
{
	unsigned char	len[4];
	size_t		n;

	if (v == NULL || *v == '\0') {
		memset(len, 0xff, 4);
		hash_bytes(h, len, 4);
		return;
	}
	n = strlen(v);
	len[0] = (unsigned char)(n >> 24);
	len[1] = (unsigned char)(n >> 16);
	len[2] = (unsigned char)(n >> 8);
	len[3] = (unsigned char)n;
	hash_bytes(h, len, 4);
	hash_bytes(h, v, n);
}

/* audit_hash with the two times already formatted. */
static void
hash_record(const char *node, const struct audit_record *r, const char *rt,
    const char *at, char out[AUDIT_HASH_LEN])
{
	struct hash_buf	 h;
	unsigned char	 digest[32];
	unsigned int	 len = 0;
	char		 num[32];
	int		 i;

	h.n = 0;
	if ((h.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h.md, sha256(), NULL) != 1) {
		log_warnx("audit: cannot hash a record: out of memory");
		abort();
	}
	hash_field(&h, "kruispunt-audit-1");
	hash_field(&h, node);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)r->seq);
	hash_field(&h, num);
	hash_field(&h, r->ticket);
	hash_field(&h, r->kind);
	hash_field(&h, r->operation);
	hash_field(&h, rt);
	hash_field(&h, at);
	snprintf(num, sizeof(num), "%lld",
	    (long long)(r->answered_us - r->received_us));
	hash_field(&h, num);
	hash_field(&h, r->sender);
	hash_field(&h, r->sender_cert);
	hash_field(&h, r->message_id);
	hash_field(&h, r->ssin);
	hash_field(&h, r->quality);
	hash_field(&h, r->service);
	hash_field(&h, r->period_begin);
	hash_field(&h, r->period_end);
	hash_field(&h, r->decision);
	hash_field(&h, r->reason);
	hash_field(&h, r->authorization_id);
	hash_field(&h, r->legal_basis);
	hash_field(&h, r->request_digest);
	hash_field(&h, r->answer_digest);
	snprintf(num, sizeof(num), "%d", r->ntargets);
	hash_field(&h, num);
	for (i = 0; i < r->ntargets; i++) {
		hash_field(&h, r->targets[i].institution);
		hash_field(&h, r->targets[i].status);
		hash_field(&h, r->targets[i].answer_digest);
	}
	hash_field(&h, r->prev_hash);
	EVP_DigestUpdate(h.md, h.buf, h.n);
	EVP_DigestFinal_ex(h.md, digest, &len);
	EVP_MD_CTX_free(h.md);
	certificate_hex(digest, 32, out);
}

/* The hash of a record in node's chain (r->seq and r->prev_hash set). */
void
audit_hash(const char *node, const struct audit_record *r,
    char out[AUDIT_HASH_LEN])
{
	char	rt[27], at[27];

	audit_time_format(r->received_us, rt);
	audit_time_format(r->answered_us, at);
	hash_record(node, r, rt, at, out);
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

/* A value of at most 255 bytes, as the columns are. */
#define SHORT	255
#define LONG	((size_t)-1)

static const char audit_insert[] = "INSERT INTO audit_record (node, seq, "
    "ticket, kind, operation, received_at, answered_at, latency_us, sender, "
    "sender_cert, message_id, ssin, quality, service, period_begin, "
    "period_end, decision, reason, authorization_id, legal_basis, "
    "request_digest, answer_digest, prev_hash, hash) VALUES (?, ?, ?, ?, ?, "
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

static const char target_insert[] = "INSERT INTO audit_target (node, seq, "
    "position, institution, status, answer_digest, received_at) VALUES "
    "(?, ?, ?, ?, ?, ?, ?)";

static const char outbox_insert[] = "INSERT INTO outbox (delivery_id, ticket, "
    "recipient, quality, authorization_id, source, mutation_type, ssin, "
    "effective_date, payload, state, attempts, next_attempt, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)";

static void
bulk_record(struct audit_log *a, const struct audit_record *r, const char *rt,
    const char *at)
{
	struct db_bulk	*b = &a->brec;
	char		 num[32];

	db_bulk_row(b);
	db_bulk_val(b, a->node, SHORT);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)r->seq);
	db_bulk_val(b, num, SHORT);
	db_bulk_val(b, r->ticket, SHORT);
	db_bulk_val(b, r->kind, SHORT);
	db_bulk_val(b, r->operation, SHORT);
	db_bulk_val(b, rt, SHORT);
	db_bulk_val(b, at, SHORT);
	snprintf(num, sizeof(num), "%lld",
	    (long long)(r->answered_us - r->received_us));
	db_bulk_val(b, num, SHORT);
	db_bulk_val(b, r->sender, SHORT);
	db_bulk_val(b, r->sender_cert, SHORT);
	db_bulk_val(b, r->message_id, SHORT);
	db_bulk_val(b, r->ssin, SHORT);
	db_bulk_val(b, r->quality, SHORT);
	db_bulk_val(b, r->service, SHORT);
	db_bulk_val(b, r->period_begin, SHORT);
	db_bulk_val(b, r->period_end, SHORT);
	db_bulk_val(b, r->decision, SHORT);
	db_bulk_val(b, r->reason, SHORT);
	db_bulk_val(b, r->authorization_id, SHORT);
	db_bulk_val(b, r->legal_basis, SHORT);
	db_bulk_val(b, r->request_digest, SHORT);
	db_bulk_val(b, r->answer_digest, SHORT);
	db_bulk_val(b, r->prev_hash, SHORT);
	db_bulk_val(b, r->hash, SHORT);
}

static void
bulk_targets(struct audit_log *a, const struct audit_record *r,
    const char *rt)
{
	struct db_bulk	*b = &a->btgt;
	char		 num[32], pos[16];
	int		 i;

	snprintf(num, sizeof(num), "%llu", (unsigned long long)r->seq);
	for (i = 0; i < r->ntargets; i++) {
		db_bulk_row(b);
		db_bulk_val(b, a->node, SHORT);
		db_bulk_val(b, num, SHORT);
		snprintf(pos, sizeof(pos), "%d", i);
		db_bulk_val(b, pos, SHORT);
		db_bulk_val(b, r->targets[i].institution, SHORT);
		db_bulk_val(b, r->targets[i].status, SHORT);
		db_bulk_val(b, r->targets[i].answer_digest, SHORT);
		db_bulk_val(b, rt, SHORT);
	}
}

static void
bulk_outbox(struct audit_log *a, const struct audit_record *r)
{
	struct db_bulk	*b = &a->bout;
	char		 now[27];
	int		 i;

	audit_time_format(r->answered_us, now);
	for (i = 0; i < r->noutbox; i++) {
		const struct audit_outbox *o = &r->outbox[i];
		db_bulk_row(b);
		db_bulk_val(b, o->delivery_id, SHORT);
		db_bulk_val(b, r->ticket, SHORT);
		db_bulk_val(b, o->recipient, SHORT);
		db_bulk_val(b, o->quality, SHORT);
		db_bulk_val(b, o->authorization_id, SHORT);
		db_bulk_val(b, o->source, SHORT);
		db_bulk_val(b, o->mutation_type, SHORT);
		db_bulk_val(b, o->ssin, SHORT);
		db_bulk_val(b, o->effective_date, SHORT);
		db_bulk_val(b, o->payload, LONG);
		db_bulk_val(b, now, SHORT);
		db_bulk_val(b, now, SHORT);
	}
}

static void
audit_unprepare(struct audit_log *a)
{
	db_bulk_close(&a->brec);
	db_bulk_close(&a->btgt);
	db_bulk_close(&a->bout);
}

/* Prepare the writer's statements on a->db; 0 or -1. */
/* Why opening the log failed: the error's number and text. */
static void
audit_why(struct audit_log *a, unsigned int e, const char *text)
{
	a->why_errno = e;
	snprintf(a->why, sizeof(a->why), "%s", text);
}

static int
audit_prepare(struct audit_log *a)
{
	struct db_bulk	*failed;

	audit_unprepare(a);
	if (db_bulk_prepare(a->db, failed = &a->brec, audit_insert) == 0 &&
	    db_bulk_prepare(a->db, failed = &a->btgt, target_insert) == 0 &&
	    db_bulk_prepare(a->db, failed = &a->bout, outbox_insert) == 0)
		return 0;
	if (failed->st != NULL)
		audit_why(a, mysql_stmt_errno(failed->st),
		    mysql_stmt_error(failed->st));
	else
		audit_why(a, mysql_errno(a->db), mysql_error(a->db));
	return -1;
}

/* Read the node's chain head; 0 or -1 with a->why_errno and a->why. */
static int
audit_read_head(struct audit_log *a)
{
	struct db_query		 q;
	const char *const	 p[] = { a->node };
	int			 rc = -1;

	audit_why(a, 0, "");
	/* Galera: what this node wrote through another node is read too */
	if (db_sync_wait(a->db, 1) == -1) {
		audit_why(a, mysql_errno(a->db), mysql_error(a->db));
		return -1;
	}
	if (db_query_prepare(a->db, &q, "SELECT seq, hash FROM audit_record "
	    "WHERE node = ? ORDER BY seq DESC LIMIT 1") == 0 &&
	    db_query_exec(&q, p) == 0) {
		switch (db_query_fetch(&q)) {
		case 1:
			a->seq = strtoull(db_query_col(&q, 0), NULL, 10);
			snprintf(a->head, sizeof(a->head), "%s", db_query_col(&q, 1));
			while (db_query_fetch(&q) == 1)
				;
			rc = 0;
			break;
		case 0:
			a->seq = 0;
			snprintf(a->head, sizeof(a->head), "%s", ZERO_HASH);
			rc = 0;
			break;
		}
	}
	if (rc == -1)
		audit_why(a, db_query_errno(&q), db_query_errno(&q) != 0 ?
		    db_query_error(&q) : "reading the head row failed");
	db_query_close(&q);
	if (rc == 0 && db_sync_wait(a->db, 0) == -1) {
		audit_why(a, mysql_errno(a->db), mysql_error(a->db));
		rc = -1;
	}
	return rc;
}

static int
audit_connect(struct audit_log *a)
{
	char	err[512];

	audit_unprepare(a);
	db_close(a->db);
	if ((a->db = db_connect(a->cf, err, sizeof(err))) == NULL) {
		log_warnx("audit: %s", err);
		a->err = CR_CONNECTION_ERROR;
		return -1;
	}
	if (audit_read_head(a) == -1 || audit_prepare(a) == -1) {
		a->err = mysql_errno(a->db);
		log_warnx("audit: reading the chain head of node %s: %s "
		    "(error %u)", a->node, a->why, a->why_errno);
		audit_unprepare(a);
		db_close(a->db);
		a->db = NULL;
		return -1;
	}
	return 0;
}

/* Write one batch in one transaction; 0 when committed. */
static int
audit_write(struct audit_log *a, struct audit_pending *batch)
{
	struct audit_pending	*p;
	struct db_bulk		*failed = NULL;
	uint64_t		 seq = a->seq, first = a->seq;
	char			 head[AUDIT_HASH_LEN];
	const char		*why;
	unsigned int		 e;
	int			 rc = -1;

	memcpy(head, a->head, sizeof(head));
	db_bulk_reset(&a->brec);
	db_bulk_reset(&a->btgt);
	db_bulk_reset(&a->bout);
	for (p = batch; p != NULL; p = p->next) {
		struct audit_record *r = p->rec;
		char rt[27], at[27];
		r->seq = ++seq;
		memcpy(r->prev_hash, head, sizeof(head));
		audit_time_format(r->received_us, rt);
		audit_time_format(r->answered_us, at);
		hash_record(a->node, r, rt, at, r->hash);
		memcpy(head, r->hash, sizeof(head));
		bulk_record(a, r, rt, at);
		bulk_targets(a, r, rt);
		bulk_outbox(a, r);
	}
	if (mysql_query(a->db, "START TRANSACTION") != 0)
		goto fail;
	if (db_bulk_exec(&a->brec) != 0)
		failed = &a->brec;
	else if (db_bulk_exec(&a->btgt) != 0)
		failed = &a->btgt;
	else if (db_bulk_exec(&a->bout) != 0)
		failed = &a->bout;
	if (failed != NULL) {
		e = db_bulk_errno(failed);
		why = db_bulk_error(failed);
		goto failed;
	}
	for (p = batch; p != NULL; p = p->next)
		if (p->rec->also != NULL && mysql_query(a->db, p->rec->also) != 0)
			goto fail;
	if (mysql_query(a->db, "COMMIT") != 0 || mysql_errno(a->db) != 0)
		goto unknown;
	a->seq = seq;
	memcpy(a->head, head, sizeof(head));
	return 0;

fail:
	e = mysql_errno(a->db);
	why = mysql_error(a->db);
failed:
	a->err = e;
	log_warnx("audit: writing %llu.. failed: %s (error %u)",
	    (unsigned long long)(a->seq + 1), why, e);
	mysql_query(a->db, "ROLLBACK");
	if (db_error_is_duplicate(e))
		goto head;	/* an earlier try of this batch was committed? */
	if (db_error_is_unavailable(e) || e >= 2000)
		audit_connect(a);
	return rc;
unknown:
	a->err = e = mysql_errno(a->db);
	log_warnx("audit: COMMIT of %llu..%llu failed: %s (error %u)",
	    (unsigned long long)(a->seq + 1), (unsigned long long)seq,
	    mysql_error(a->db), e);
	if (db_error_is_retryable(e))
		goto done;	/* certification failed: rolled back */
head:
	/* The commit's fate is unknown: the head in the database tells. */
	if (audit_connect(a) == 0 && a->seq == seq)
		rc = 0;
	else if (a->db != NULL && a->seq != first)
		a->err = 0;	/* neither before nor after: do not retry */
done:
	return rc;
}

static void
audit_nap(int64_t ms)
{
	struct timespec	ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Write one batch, trying again what a second try may commit (see the top of
 * this file); 0 when committed. Whenever the writer had to reconnect, the
 * head it reads back tells whether an earlier try was committed after all.
 */
static int
audit_write_retry(struct audit_log *a, struct audit_pending *batch)
{
	struct audit_pending	*p;
	int64_t			 deadline = audit_now_us() +
				    (a->healthy ? AUDIT_RETRY_MS * 1000 : 0);
	uint64_t		 first = a->seq, n = 0;
	unsigned int		 jitter = (unsigned int)audit_now_us();
	int			 conflicts = 0, known = a->db != NULL;

	for (p = batch; p != NULL; p = p->next)
		n++;
	for (;;) {
		a->err = 0;
		if (a->db == NULL && audit_connect(a) == 0) {
			if (!known) {
				first = a->seq;
				known = 1;
			} else if (a->seq == first + n)
				return 0;	/* committed before the loss */
			else if (a->seq != first)
				return -1;	/* another writer? do not guess */
		}
		if (a->db != NULL && audit_write(a, batch) == 0)
			return 0;
		if (db_error_is_retryable(a->err)) {
			if (++conflicts >= AUDIT_RETRY_DEADLOCK)
				return -1;
			audit_nap(1 + rand_r(&jitter) % (5 * conflicts));
			continue;
		}
		if (a->err == 0 || !(db_error_is_unavailable(a->err) ||
		    a->err >= 2000) || audit_now_us() >= deadline)
			return -1;
		audit_nap(200);
	}
}

/* The text a checkpoint signs. */
void
audit_checkpoint_text(const char *node, uint64_t seq, const char *hash,
    char *out, size_t len)
{
	snprintf(out, len, "kruispunt-checkpoint-1\n%s\n%llu\n%s\n", node,
	    (unsigned long long)seq, hash);
}

/* Sign and store the chain head; 0 or -1. */
static int
audit_checkpoint(struct audit_log *a)
{
	EVP_MD_CTX	*md;
	unsigned char	 sig[1024];
	char		 text[256], b64[1500], q[2200], now[27];
	size_t		 siglen = sizeof(sig);
	int		 rc = -1;

	if (a->key == NULL || a->seq == a->cp_seq || a->db == NULL)
		return 0;
	audit_checkpoint_text(a->node, a->seq, a->head, text, sizeof(text));
	if ((md = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, a->key) == 1 &&
	    EVP_DigestSign(md, sig, &siglen, (unsigned char *)text,
	    strlen(text)) == 1) {
		EVP_EncodeBlock((unsigned char *)b64, sig, (int)siglen);
		audit_time_format(audit_now_us(), now);
		snprintf(q, sizeof(q), "INSERT INTO audit_checkpoint (node, seq, "
		    "hash, signed_at, algorithm, signature, certificate) VALUES "
		    "('%s', %llu, '%s', '%s', 'sha256', '%s', '%s')", a->node,
		    (unsigned long long)a->seq, a->head, now, b64, a->cert_fp);
		if (mysql_query(a->db, q) == 0) {
			a->cp_seq = a->seq;
			a->cp_time = audit_now_us();
			rc = 0;
		} else
			log_warnx("audit: checkpoint at %llu: %s",
			    (unsigned long long)a->seq, mysql_error(a->db));
	}
	EVP_MD_CTX_free(md);
	return rc;
}

static void
audit_maybe_checkpoint(struct audit_log *a)
{
	if (a->seq - a->cp_seq >= (uint64_t)a->cp_records ||
	    (a->seq != a->cp_seq && audit_now_us() - a->cp_time >=
	    a->cp_interval_us))
		audit_checkpoint(a);
}

static void *
audit_writer(void *arg)
{
	struct audit_log	*a = arg;
	struct audit_pending	*batch, *p, *end;
	struct timespec		 ts;
	int			 n, rc;

	pthread_mutex_lock(&a->mtx);
	for (;;) {
		while (a->first == NULL && !a->stop) {
			if (a->healthy) {
				a->idle = 1;
				pthread_cond_wait(&a->work, &a->mtx);
				a->idle = 0;
				continue;
			}
			/* the store failed: see whether it is back */
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += AUDIT_PROBE_MS / 1000;
			a->idle = 1;
			rc = pthread_cond_timedwait(&a->work, &a->mtx, &ts);
			a->idle = 0;
			if (rc == 0 || a->first != NULL || a->stop)
				continue;
			pthread_mutex_unlock(&a->mtx);
			rc = audit_connect(a);
			pthread_mutex_lock(&a->mtx);
			if (rc == 0)
				a->healthy = 1;
		}
		if (a->first == NULL && a->stop)
			break;
		batch = a->first;
		for (n = 1, end = batch; end->next != NULL && (n < AUDIT_BATCH_MAX ||
		    end->more); end = end->next)
			n++;
		a->first = end->next;
		if (a->first == NULL)
			a->last = NULL;
		end->next = NULL;
		pthread_mutex_unlock(&a->mtx);

		rc = audit_write_retry(a, batch);

		if (rc == 0)
			audit_maybe_checkpoint(a);
		/*
		 * Wake the batch's workers without holding the lock, which
		 * the woken would otherwise queue for (and the next workers
		 * to enqueue with them).
		 */
		for (p = batch; p != NULL; p = end) {
			end = p->next;	/* p is the worker's once posted */
			p->rc = rc;
			sem_post(&p->done);
		}
		pthread_mutex_lock(&a->mtx);
		a->healthy = rc == 0;
	}
	pthread_mutex_unlock(&a->mtx);
	audit_checkpoint(a);	/* the head at stop */
	return NULL;
}

/* Load the key that signs checkpoints, and its certificate's fingerprint. */
static int
audit_load_key(struct audit_log *a, const struct kp_config *cf, char *err,
    size_t errlen)
{
	FILE		*fp;
	X509		*x = NULL;

	if (cf->signing_key == NULL || cf->signing_certificate == NULL)
		return 0;	/* a tool without the key: no checkpoints */
	if ((fp = fopen(cf->signing_key, "r")) != NULL) {
		a->key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
		fclose(fp);
	}
	if ((fp = fopen(cf->signing_certificate, "r")) != NULL) {
		x = PEM_read_X509(fp, NULL, NULL, NULL);
		fclose(fp);
	}
	if (a->key == NULL || x == NULL ||
	    certificate_fingerprint(x, a->cert_fp) == -1) {
		snprintf(err, errlen, "cannot load the signing key %s and "
		    "certificate %s for audit checkpoints", cf->signing_key,
		    cf->signing_certificate);
		X509_free(x);
		return -1;
	}
	X509_free(x);
	return 0;
}

/* Open the node's audit log and start its writer; NULL with err. */
struct audit_log *
audit_open(const struct kp_config *cf, const char *node, char *err,
    size_t errlen)
{
	struct audit_log	*a = xcalloc(1, sizeof(*a));

	a->cf = cf;
	snprintf(a->node, sizeof(a->node), "%s", node);
	if ((a->db = db_connect(cf, err, errlen)) == NULL) {
		free(a);
		return NULL;
	}
	if (audit_read_head(a) == -1 || audit_prepare(a) == -1) {
		snprintf(err, errlen, "reading the audit chain of node %s: %s "
		    "(error %u)%s", node, a->why, a->why_errno,
		    db_schema_hint(a->why_errno));
		audit_unprepare(a);
		db_close(a->db);
		free(a);
		return NULL;
	}
	if (audit_load_key(a, cf, err, errlen) == -1) {
		db_close(a->db);
		free(a);
		return NULL;
	}
	a->cp_seq = a->seq;
	a->cp_time = audit_now_us();
	a->cp_records = cf->hub_checkpoint_records > 0 ?
	    cf->hub_checkpoint_records : 1000;
	a->cp_interval_us = (int64_t)(cf->hub_checkpoint_interval > 0 ?
	    cf->hub_checkpoint_interval : 60000) * 1000;
	a->healthy = 1;
	pthread_mutex_init(&a->mtx, NULL);
	pthread_cond_init(&a->work, NULL);
	if (pthread_create(&a->writer, NULL, audit_writer, a) != 0) {
		snprintf(err, errlen, "cannot start the audit writer");
		db_close(a->db);
		free(a);
		return NULL;
	}
	return a;
}

/* Queue first..last (linked); -1 when the log is stopping. */
static int
audit_enqueue(struct audit_log *a, struct audit_pending *first,
    struct audit_pending *last)
{
	struct audit_pending	*p;

	for (p = first; ; p = p->next) {
		sem_init(&p->done, 0, 0);
		if (p == last)
			break;
	}
	pthread_mutex_lock(&a->mtx);
	if (a->stop) {
		pthread_mutex_unlock(&a->mtx);
		for (p = first; ; p = p->next) {
			sem_destroy(&p->done);
			if (p == last)
				break;
		}
		return -1;
	}
	if (a->last != NULL)
		a->last->next = first;
	else
		a->first = first;
	a->last = last;
	if (a->idle)	/* a busy writer looks at the queue anyway */
		pthread_cond_signal(&a->work);
	pthread_mutex_unlock(&a->mtx);
	return 0;
}

/* Wait until the writer is done with p (then p->rc is its outcome). */
static void
audit_wait(struct audit_pending *p)
{
	while (sem_wait(&p->done) == -1 && errno == EINTR)
		;
	sem_destroy(&p->done);
}

/*
 * Append a record without waiting: the caller does other work (the hub
 * signs its answer) and then waits with audit_append_end, before anything
 * leaves. NULL when the store cannot take it (stopping). The record must
 * stay in place and unchanged until then; the writer sets r->seq, r->hash.
 */
struct audit_pending *
audit_append_begin(struct audit_log *a, struct audit_record *r)
{
	struct audit_pending	*p = xcalloc(1, sizeof(*p));

	p->rec = r;
	p->rc = -1;
	if (r->answered_us == 0)
		r->answered_us = audit_now_us();
	if (audit_enqueue(a, p, p) == -1) {
		free(p);
		return NULL;
	}
	return p;
}

/* Wait for a record of audit_append_begin: 0 once committed, or -1 when it
 * could not be. */
int
audit_append_end(struct audit_pending *p)
{
	int	rc;

	audit_wait(p);
	rc = p->rc;
	free(p);
	return rc;
}

/*
 * Append a record and wait until it is committed: 0, or -1 when the store
 * could not take it (the caller then fails closed). Sets r->seq, r->hash.
 */
int
audit_append(struct audit_log *a, struct audit_record *r)
{
	struct audit_pending	p;

	memset(&p, 0, sizeof(p));
	p.rec = r;
	p.rc = -1;
	if (r->answered_us == 0)
		r->answered_us = audit_now_us();
	if (audit_enqueue(a, &p, &p) == -1)
		return -1;
	audit_wait(&p);
	return p.rc;
}

/*
 * Append n records that must be committed together, in one transaction (a
 * delivery worker's attempts with the outbox updates in their also), and
 * wait: 0, or -1 when they could not be (none of them is then committed).
 */
int
audit_append_group(struct audit_log *a, struct audit_record *r, int n)
{
	struct audit_pending	*p;
	int64_t			 now = audit_now_us();
	int			 i, rc;

	if (n <= 0)
		return 0;
	p = xcalloc((size_t)n, sizeof(*p));
	for (i = 0; i < n; i++) {
		p[i].rec = &r[i];
		p[i].rc = -1;
		p[i].next = i + 1 < n ? &p[i + 1] : NULL;
		p[i].more = i + 1 < n;
		if (r[i].answered_us == 0)
			r[i].answered_us = now;
	}
	if (audit_enqueue(a, &p[0], &p[n - 1]) == -1) {
		free(p);
		return -1;
	}
	for (i = 0; i < n; i++)	/* in one batch: posted in this order */
		audit_wait(&p[i]);
	rc = p[n - 1].rc;
	free(p);
	return rc;
}

/* Whether the last write succeeded (for /health). */
int
audit_healthy(struct audit_log *a)
{
	int	h;

	pthread_mutex_lock(&a->mtx);
	h = a->healthy;
	pthread_mutex_unlock(&a->mtx);
	return h;
}

/* Write what is queued, stop the writer and close. */
void
audit_close(struct audit_log *a)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mtx);
	a->stop = 1;
	pthread_cond_signal(&a->work);
	pthread_mutex_unlock(&a->mtx);
	pthread_join(a->writer, NULL);
	pthread_mutex_destroy(&a->mtx);
	pthread_cond_destroy(&a->work);
	audit_unprepare(a);
	db_close(a->db);
	EVP_PKEY_free(a->key);
	free(a);
}

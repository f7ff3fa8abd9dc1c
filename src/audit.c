/*
 * kruispunt - the audit trail: records in a hash chain per hub node, written
 * durably (group commit) before any answer leaves.
 *
 * Workers call audit_append(), which queues the record and waits. One writer
 * thread takes everything queued, gives each record the node's next sequence
 * number and chains it (prev_hash = the hash of the record before), writes
 * the whole batch in one transaction of multi-row INSERTs, commits, and only
 * then wakes the workers: a worker never sends an answer whose record is not
 * committed. Under load the batch grows and one commit (one log flush)
 * serves many exchanges.
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

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errmsg.h>
#include <mysql.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <uuid/uuid.h>

#include "audit.h"
#include "certificate.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "xmalloc.h"

#define AUDIT_BATCH_MAX	512
#define AUDIT_RETRY_DEADLOCK	8	/* attempts of a batch on 1213 */
#define AUDIT_RETRY_MS		3000	/* reconnecting to retry a batch */
#define AUDIT_PROBE_MS		1000	/* reconnecting while unhealthy */
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

struct audit_pending {
	struct audit_record	*rec;
	int			 done;
	int			 rc;
	struct audit_pending	*next;
};

struct audit_log {
	const struct kp_config	*cf;
	char			 node[65];
	MYSQL			*db;
	uint64_t		 seq;		/* the node's last sequence number */
	char			 head[AUDIT_HASH_LEN];
	pthread_mutex_t		 mtx;
	pthread_cond_t		 work;		/* something queued, or stop */
	pthread_cond_t		 done;		/* a batch finished */
	struct audit_pending	*first, *last;
	int			 stop;
	int			 healthy;
	unsigned int		 err;		/* why the last write failed */
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

/* A new ticket: a random UUID, lower case. */
void
audit_ticket_new(char out[AUDIT_TICKET_LEN])
{
	uuid_t	u;

	uuid_generate_random(u);
	uuid_unparse_lower(u, out);
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
	char		buf[20];
	int		frac = (int)(us % 1000000), i;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	memcpy(out, buf, 19);
	out[19] = '.';
	for (i = 25; i >= 20; i--) {
		out[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	out[26] = '\0';
}

/* A fresh record with a new ticket and the reception time set to now. */
void
audit_record_init(struct audit_record *r, const char *kind,
    const char *operation)
{
	memset(r, 0, sizeof(*r));
	audit_ticket_new(r->ticket);
	r->kind = kind;
	r->operation = operation;
	r->received_us = audit_now_us();
}

/* SHA-256 of a buffer, lower-case hex. */
void
audit_sha256_hex(const void *p, size_t n, char out[AUDIT_HASH_LEN])
{
	unsigned char	md[32];
	unsigned int	len = 0;

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	certificate_hex(md, 32, out);
}

static void
hash_field(EVP_MD_CTX *md, const char *v)
{
	unsigned char	len[4];
	size_t		n;

	if (v == NULL || *v == '\0') {
		memset(len, 0xff, 4);
		EVP_DigestUpdate(md, len, 4);
		return;
	}
	n = strlen(v);
	len[0] = (unsigned char)(n >> 24);
	len[1] = (unsigned char)(n >> 16);
	len[2] = (unsigned char)(n >> 8);
	len[3] = (unsigned char)n;
	EVP_DigestUpdate(md, len, 4);
	EVP_DigestUpdate(md, v, n);
}

/* The hash of a record in node's chain (r->seq and r->prev_hash set). */
void
audit_hash(const char *node, const struct audit_record *r,
    char out[AUDIT_HASH_LEN])
{
	EVP_MD_CTX	*md = EVP_MD_CTX_new();
	unsigned char	 digest[32];
	unsigned int	 len = 0;
	char		 num[32], rt[27], at[27];
	int		 i;

	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	hash_field(md, "kruispunt-audit-1");
	hash_field(md, node);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)r->seq);
	hash_field(md, num);
	hash_field(md, r->ticket);
	hash_field(md, r->kind);
	hash_field(md, r->operation);
	audit_time_format(r->received_us, rt);
	audit_time_format(r->answered_us, at);
	hash_field(md, rt);
	hash_field(md, at);
	snprintf(num, sizeof(num), "%lld",
	    (long long)(r->answered_us - r->received_us));
	hash_field(md, num);
	hash_field(md, r->sender);
	hash_field(md, r->sender_cert);
	hash_field(md, r->message_id);
	hash_field(md, r->ssin);
	hash_field(md, r->quality);
	hash_field(md, r->service);
	hash_field(md, r->period_begin);
	hash_field(md, r->period_end);
	hash_field(md, r->decision);
	hash_field(md, r->reason);
	hash_field(md, r->authorization_id);
	hash_field(md, r->legal_basis);
	hash_field(md, r->request_digest);
	hash_field(md, r->answer_digest);
	snprintf(num, sizeof(num), "%d", r->ntargets);
	hash_field(md, num);
	for (i = 0; i < r->ntargets; i++) {
		hash_field(md, r->targets[i].institution);
		hash_field(md, r->targets[i].status);
		hash_field(md, r->targets[i].answer_digest);
	}
	hash_field(md, r->prev_hash);
	EVP_DigestFinal_ex(md, digest, &len);
	EVP_MD_CTX_free(md);
	certificate_hex(digest, 32, out);
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

struct sqlbuf {
	char	*p;
	size_t	 len, cap;
};

static void
sb_add(struct sqlbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 16384;
		b->p = xreallocarray(b->p, b->cap, 1);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct sqlbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* A quoted, escaped value, or NULL for an empty string. */
static void
sb_val(struct audit_log *a, struct sqlbuf *b, const char *v, int comma)
{
	char	esc[2 * 256 + 1];
	size_t	n;

	if (comma)
		sb_str(b, ", ");
	if (v == NULL || *v == '\0') {
		sb_str(b, "NULL");
		return;
	}
	n = strlen(v);
	if (n > 255)
		n = 255;
	mysql_real_escape_string(a->db, esc, v, (unsigned long)n);
	sb_str(b, "'");
	sb_str(b, esc);
	sb_str(b, "'");
}

/* A quoted, escaped value of any length. */
static void
sb_long(struct audit_log *a, struct sqlbuf *b, const char *v)
{
	char	*esc;
	size_t	 n;

	sb_str(b, ", ");
	if (v == NULL) {
		sb_str(b, "NULL");
		return;
	}
	n = strlen(v);
	esc = xmalloc(2 * n + 1);
	mysql_real_escape_string(a->db, esc, v, (unsigned long)n);
	sb_str(b, "'");
	sb_str(b, esc);
	sb_str(b, "'");
	free(esc);
}

static void
sb_outbox(struct audit_log *a, struct sqlbuf *b, const struct audit_record *r,
    const struct audit_outbox *o, int first)
{
	char	now[27];

	audit_time_format(r->answered_us, now);
	sb_str(b, first ? "(" : ", (");
	sb_val(a, b, o->delivery_id, 0);
	sb_val(a, b, r->ticket, 1);
	sb_val(a, b, o->recipient, 1);
	sb_val(a, b, o->quality, 1);
	sb_val(a, b, o->authorization_id, 1);
	sb_val(a, b, o->source, 1);
	sb_val(a, b, o->mutation_type, 1);
	sb_val(a, b, o->ssin, 1);
	sb_val(a, b, o->effective_date, 1);
	sb_long(a, b, o->payload);
	sb_str(b, ", 'pending', 0");
	sb_val(a, b, now, 1);
	sb_val(a, b, now, 1);
	sb_str(b, ")");
}

static const char outbox_insert[] = "INSERT INTO outbox (delivery_id, ticket, "
    "recipient, quality, authorization_id, source, mutation_type, ssin, "
    "effective_date, payload, state, attempts, next_attempt, created_at) "
    "VALUES ";

static void
sb_record(struct audit_log *a, struct sqlbuf *b, const struct audit_record *r,
    int first)
{
	char	num[32], rt[27], at[27];

	audit_time_format(r->received_us, rt);
	audit_time_format(r->answered_us, at);
	sb_str(b, first ? "(" : ", (");
	sb_val(a, b, a->node, 0);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)r->seq);
	sb_val(a, b, num, 1);
	sb_val(a, b, r->ticket, 1);
	sb_val(a, b, r->kind, 1);
	sb_val(a, b, r->operation, 1);
	sb_val(a, b, rt, 1);
	sb_val(a, b, at, 1);
	snprintf(num, sizeof(num), "%lld",
	    (long long)(r->answered_us - r->received_us));
	sb_val(a, b, num, 1);
	sb_val(a, b, r->sender, 1);
	sb_val(a, b, r->sender_cert, 1);
	sb_val(a, b, r->message_id, 1);
	sb_val(a, b, r->ssin, 1);
	sb_val(a, b, r->quality, 1);
	sb_val(a, b, r->service, 1);
	sb_val(a, b, r->period_begin, 1);
	sb_val(a, b, r->period_end, 1);
	sb_val(a, b, r->decision, 1);
	sb_val(a, b, r->reason, 1);
	sb_val(a, b, r->authorization_id, 1);
	sb_val(a, b, r->legal_basis, 1);
	sb_val(a, b, r->request_digest, 1);
	sb_val(a, b, r->answer_digest, 1);
	sb_val(a, b, r->prev_hash, 1);
	sb_val(a, b, r->hash, 1);
	sb_str(b, ")");
}

static const char audit_insert[] = "INSERT INTO audit_record (node, seq, "
    "ticket, kind, operation, received_at, answered_at, latency_us, sender, "
    "sender_cert, message_id, ssin, quality, service, period_begin, "
    "period_end, decision, reason, authorization_id, legal_basis, "
    "request_digest, answer_digest, prev_hash, hash) VALUES ";

static const char target_insert[] = "INSERT INTO audit_target (node, seq, "
    "position, institution, status, answer_digest, received_at) VALUES ";

/* Read the node's chain head; 0 or -1. */
static int
audit_read_head(struct audit_log *a)
{
	struct db_query		 q;
	const char *const	 p[] = { a->node };
	int			 rc = -1;

	/* Galera: what this node wrote through another node is read too */
	if (db_sync_wait(a->db, 1) == -1)
		return -1;
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
	db_query_close(&q);
	if (rc == 0 && db_sync_wait(a->db, 0) == -1)
		rc = -1;
	return rc;
}

static int
audit_connect(struct audit_log *a)
{
	char	err[512];

	db_close(a->db);
	if ((a->db = db_connect(a->cf, err, sizeof(err))) == NULL) {
		log_warnx("audit: %s", err);
		a->err = CR_CONNECTION_ERROR;
		return -1;
	}
	if (audit_read_head(a) == -1) {
		a->err = mysql_errno(a->db);
		log_warnx("audit: reading the chain head of node %s: %s",
		    a->node, mysql_error(a->db));
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
	struct sqlbuf		 rec = { NULL, 0, 0 }, tgt = { NULL, 0, 0 };
	struct sqlbuf		 out = { NULL, 0, 0 };
	struct audit_pending	*p;
	uint64_t		 seq = a->seq, first = a->seq;
	char			 head[AUDIT_HASH_LEN], num[32], pos[16], rt[27];
	unsigned int		 e;
	int			 i, ntgt = 0, nout = 0, rc = -1;

	memcpy(head, a->head, sizeof(head));
	sb_str(&rec, audit_insert);
	sb_str(&tgt, target_insert);
	sb_str(&out, outbox_insert);
	for (p = batch; p != NULL; p = p->next) {
		struct audit_record *r = p->rec;
		r->seq = ++seq;
		memcpy(r->prev_hash, head, sizeof(head));
		audit_hash(a->node, r, r->hash);
		memcpy(head, r->hash, sizeof(head));
		sb_record(a, &rec, r, p == batch);
		audit_time_format(r->received_us, rt);
		for (i = 0; i < r->ntargets; i++) {
			sb_str(&tgt, ntgt++ ? ", (" : "(");
			sb_val(a, &tgt, a->node, 0);
			snprintf(num, sizeof(num), "%llu", (unsigned long long)r->seq);
			sb_val(a, &tgt, num, 1);
			snprintf(pos, sizeof(pos), "%d", i);
			sb_val(a, &tgt, pos, 1);
			sb_val(a, &tgt, r->targets[i].institution, 1);
			sb_val(a, &tgt, r->targets[i].status, 1);
			sb_val(a, &tgt, r->targets[i].answer_digest, 1);
			sb_val(a, &tgt, rt, 1);
			sb_str(&tgt, ")");
		}
		for (i = 0; i < r->noutbox; i++)
			sb_outbox(a, &out, r, &r->outbox[i], nout++ == 0);
	}
	if (mysql_query(a->db, "START TRANSACTION") != 0 ||
	    mysql_real_query(a->db, rec.p, rec.len) != 0 ||
	    (ntgt > 0 && mysql_real_query(a->db, tgt.p, tgt.len) != 0) ||
	    (nout > 0 && mysql_real_query(a->db, out.p, out.len) != 0))
		goto fail;
	for (p = batch; p != NULL; p = p->next)
		if (p->rec->also != NULL && mysql_query(a->db, p->rec->also) != 0)
			goto fail;
	if (mysql_query(a->db, "COMMIT") != 0 || mysql_errno(a->db) != 0)
		goto unknown;
	a->seq = seq;
	memcpy(a->head, head, sizeof(head));
	rc = 0;
	goto done;

fail:
	a->err = e = mysql_errno(a->db);
	log_warnx("audit: writing %llu.. failed: %s (error %u)",
	    (unsigned long long)(a->seq + 1), mysql_error(a->db), e);
	mysql_query(a->db, "ROLLBACK");
	if (db_error_is_duplicate(e))
		goto head;	/* an earlier try of this batch was committed? */
	if (db_error_is_unavailable(e) || e >= 2000)
		audit_connect(a);
	goto done;
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
	free(rec.p);
	free(tgt.p);
	free(out.p);
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
				pthread_cond_wait(&a->work, &a->mtx);
				continue;
			}
			/* the store failed: see whether it is back */
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += AUDIT_PROBE_MS / 1000;
			if (pthread_cond_timedwait(&a->work, &a->mtx, &ts) == 0 ||
			    a->first != NULL || a->stop)
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
		for (n = 1, end = batch; end->next != NULL && n < AUDIT_BATCH_MAX;
		    end = end->next)
			n++;
		a->first = end->next;
		if (a->first == NULL)
			a->last = NULL;
		end->next = NULL;
		pthread_mutex_unlock(&a->mtx);

		rc = audit_write_retry(a, batch);

		if (rc == 0)
			audit_maybe_checkpoint(a);
		pthread_mutex_lock(&a->mtx);
		a->healthy = rc == 0;
		for (p = batch; p != NULL; p = p->next) {
			p->rc = rc;
			p->done = 1;
		}
		pthread_cond_broadcast(&a->done);
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
	unsigned char	 md[32];
	unsigned int	 mdlen;

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
	    X509_digest(x, EVP_sha256(), md, &mdlen) != 1) {
		snprintf(err, errlen, "cannot load the signing key %s and "
		    "certificate %s for audit checkpoints", cf->signing_key,
		    cf->signing_certificate);
		X509_free(x);
		return -1;
	}
	certificate_hex(md, mdlen, a->cert_fp);
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
	if (audit_read_head(a) == -1) {
		snprintf(err, errlen, "reading the audit chain of node %s: %s "
		    "(is the schema migrated?)", node, mysql_error(a->db));
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
	pthread_cond_init(&a->done, NULL);
	if (pthread_create(&a->writer, NULL, audit_writer, a) != 0) {
		snprintf(err, errlen, "cannot start the audit writer");
		db_close(a->db);
		free(a);
		return NULL;
	}
	return a;
}

/*
 * Append a record and wait until it is committed: 0, or -1 when the store
 * could not take it (the caller then fails closed). Sets r->seq, r->hash.
 */
int
audit_append(struct audit_log *a, struct audit_record *r)
{
	struct audit_pending	p = { r, 0, -1, NULL };

	if (r->answered_us == 0)
		r->answered_us = audit_now_us();
	pthread_mutex_lock(&a->mtx);
	if (a->stop) {
		pthread_mutex_unlock(&a->mtx);
		return -1;
	}
	if (a->last != NULL)
		a->last->next = &p;
	else
		a->first = &p;
	a->last = &p;
	pthread_cond_signal(&a->work);
	while (!p.done)
		pthread_cond_wait(&a->done, &a->mtx);
	pthread_mutex_unlock(&a->mtx);
	return p.rc;
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
	pthread_cond_destroy(&a->done);
	db_close(a->db);
	EVP_PKEY_free(a->key);
	free(a);
}

/*
 * kruispunt - the signal function's delivery side: workers that send the
 * outbox's notifications to their recipients, with retries.
 *
 * Each delivery worker has its own database connection, XML security
 * context and outbound connections (kept alive, one per recipient). It
 * claims up to [notify] batch due rows of the outbox for a lease, in one
 * short transaction (SELECT ... FOR UPDATE SKIP LOCKED, then UPDATE; READ
 * COMMITTED): any hub node may race for rows, a row goes to one of them, and
 * a claim never waits for rows another worker is claiming or settling, so
 * claims cannot deadlock with each other or with the audit writer. A claimed
 * row's next_attempt is the end of its lease: the rows in flight are out of
 * the range that the next claim reads, and come back by themselves when
 * the lease ends unsettled. The recipients' endpoints are read after the
 * claim (a worker asks about a recipient at most once a second).
 *
 * For each row it sends ReceiveMutation signed by the hub with the row's
 * DeliveryId and verifies that the acknowledgement is signed by the
 * certificate registered to that recipient and names that DeliveryId
 * (a worker looks a certificate's registration up once a second). A
 * worker makes [notify] lanes calls at a time (each lane with its own XML
 * security context and connections), through its batch recipient by
 * recipient: a recipient then gets several deliveries at once and makes
 * them durable together (kruispunt-institution: one fdatasync for all that
 * arrived while the previous one ran), where one call at a time costs it
 * an fdatasync for each.
 * Then all the batch's attempts are audited in one group
 * (audit_append_group: one transaction, shared with other records by the
 * group commit) together with the outbox updates: the acknowledged rows
 * marked delivered in one statement; a failed row due again after an
 * exponential backoff with jitter, or dead after [notify] max_attempts.
 *
 * A row whose worker died (or whose attempts could not be audited) is taken
 * again when its lease expires: delivery is at least once, and the stable
 * DeliveryId lets the recipient drop a duplicate. On a Galera cluster two
 * nodes racing for the same rows cannot both win: the loser's claim fails
 * certification (1213) and it simply claims again. A slow or dead recipient
 * holds up only the worker that is calling it, for one call per batch and
 * lane: after a call to a recipient got no answer (refused, timed out), the
 * batch's other rows for that recipient are not tried but handed back, due
 * when the failed row is due again, and after a call that took more than a
 * second, due after [notify] backoff_min; a worker also stops trying its
 * batch's rows after half the lease and hands the rest back.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <mysql.h>

#include "audit.h"
#include "certlookup.h"
#include "config.h"
#include "db.h"
#include "directory.h"
#include "envelope.h"
#include "forward.h"
#include "log.h"
#include "notify.h"
#include "soapmsg.h"
#include "wsse.h"
#include "xmalloc.h"

#define NOTIFY_ACTION	"urn:kruispunt:institution:1#ReceiveMutation"
#define NOTIFY_CERTS	16	/* registrations remembered by a worker */
#define NOTIFY_CERT_MS	1000	/* for this long */
#define NOTIFY_SLOW_MS	1000	/* a call this slow holds its recipient back */
#define NOTIFY_ENDPOINTS 64	/* recipients' endpoints remembered by a worker */
#define NOTIFY_ENDPOINT_MS 1000	/* for this long */

/* A recipient of the claimed batch. */
struct recipient {
	char	 id[11];
	char	 endpoint[501];
	int	 active;
	int	 held;	/* a call in this batch got no answer, or a slow one */
	int64_t	 next_us;	/* then: when its other rows are due again */
};

/* A recipient's endpoint as the directory said it lately. */
struct endpoint_seen {
	char	 id[11];
	char	 endpoint[501];
	int	 active;
	int64_t	 until_us;
};

/* A certificate registration looked up during this batch. */
struct cert_seen {
	X509			*cert;
	int64_t			 until_us;
	int			 found;
	bool			 revoked;
	struct dir_institution	 inst;
};

/* One claimed row and what became of it. */
struct delivery {
	char		 delivery_id[AUDIT_TICKET_LEN];
	char		 ticket[AUDIT_TICKET_LEN];
	char		 recipient[11];
	char		 quality[33];
	char		 authorization_id[65];
	char		 source[11];
	char		 mutation_type[33];
	char		 ssin[12];
	char		 effective_date[11];
	char		*payload;
	xmlDocPtr	 pdoc;		/* parsed once a publication (see */
	int		 pdoc_own;	/* notify_parse_payloads); freed here */
	int		 pdoc_lane;	/* too large: the lane parses it */
	int		 attempts;
	struct recipient *to;
	/* the attempt */
	int		 tried;
	int		 ok;
	const char	*state;		/* delivered, pending or dead */
	int64_t		 next_us;
	char		 why[300];
	char		 digest[65];
	char		*also;		/* its outbox update, when not delivered */
	int		 order;		/* its place in the claim */
	int		 noanswer;	/* the call got no answer */
	int64_t		 slow_until;	/* the call was slow: its recipient waits */
};

struct notify_worker;

/*
 * A lane: what one call in flight needs (XML security context, outbound
 * connections, the registrations looked up). A
 * worker has [notify] lanes of them; lane 0 is the worker's own thread,
 * the others are threads that take rows of the worker's batch too. The
 * batch is tried in the order of its recipients, so that the lanes call
 * the same recipient at the same time and it makes their deliveries
 * durable with one fdatasync.
 */
struct notify_lane {
	struct notify_worker	*w;
	int			 index;
	pthread_t		 thread;
	int			 started;
	struct wsse_ctx		*wsse;
	struct certlookup	 lookup;
	struct cert_seen	 certs[NOTIFY_CERTS];
	int			 ncerts;
	struct forward		*fwd;
	unsigned int		 seed;
};

struct notify_worker {
	struct notify		*n;
	int			 index;
	pthread_t		 thread;
	MYSQL			*db;
	struct directory	*dir;		/* the lanes' lookups, ... */
	pthread_mutex_t		 dir_mtx;	/* ... one at a time */
	struct notify_lane	*lanes;
	int			 nlanes;
	pthread_mutex_t		 lmtx;		/* the rows handed to lanes: */
	pthread_cond_t		 lwork;
	pthread_cond_t		 ldone;
	int			 lcount;	/* rows 0..lcount-1 of d[] */
	int			 lnext;		/* the next one to take */
	int			 lbusy;		/* lanes in a call */
	int			 lstop;
	struct endpoint_seen	 endpoints[NOTIFY_ENDPOINTS];
	int			 nendpoints;
	unsigned int		 seed;
	char			 token[100];
	int64_t			 claimed_us;
	unsigned int		 claim_errno;	/* why the last claim failed */
	char			 claim_error[256];
	struct delivery		*d;		/* [notify] batch rows */
	int			 nd;
	struct recipient	*to;		/* their recipients */
	int			 nto;
	struct audit_record	*recs;		/* the batch's attempts */
};

struct notify {
	const struct kp_config	*cf;
	struct audit_log	*audit;
	struct replay		*replay;
	struct envelope_limits	 limits;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;
	atomic_int		 stop;
	int			 wakeups;
	int			 nworkers;
	int			 batch;
	int			 lanes;
	struct notify_worker	*workers;
};

/*
 * The wait before attempt number attempts+1: min * 2^attempts, at most max,
 * minus up to a fifth at random so that many deliveries do not come back at
 * the same moment.
 */
int64_t
notify_backoff_ms(int attempts, int64_t min_ms, int64_t max_ms,
    unsigned int random)
{
	int64_t	d = min_ms;
	int	i;

	for (i = 0; i < attempts && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	return d - (int64_t)(random % 1000) * (d / 5) / 1000;
}

/* ------------------------------------------------------------------ */
/* SQL text                                                            */
/* ------------------------------------------------------------------ */

struct sql {
	char	*p;
	size_t	 len, cap;
};

static void
sql_add(struct sql *b, const char *s)
{
	size_t	n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 1024;
		b->p = xreallocarray(b->p, b->cap, 1);
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

/* Add 'value', escaped, and a comma before it unless first. */
static void
sql_quoted(MYSQL *db, struct sql *b, const char *v, int first)
{
	char	esc[2 * 100 + 1];

	mysql_real_escape_string(db, esc, v, (unsigned long)strnlen(v, 100));
	sql_add(b, first ? "'" : ", '");
	sql_add(b, esc);
	sql_add(b, "'");
}

/* ------------------------------------------------------------------ */
/* Claiming                                                            */
/* ------------------------------------------------------------------ */

static void
copy_col(char *dst, size_t len, const char *v)
{
	snprintf(dst, len, "%s", v != NULL ? v : "");
}

static void
notify_release_rows(struct notify_worker *w)
{
	int	i;

	for (i = 0; i < w->nd; i++) {
		free(w->d[i].payload);
		free(w->d[i].also);
		if (w->d[i].pdoc_own)
			xmlFreeDoc(w->d[i].pdoc);
	}
	w->nd = 0;
	w->nto = 0;
}

static void
notify_forget_certs(struct notify_lane *l)
{
	int	i;

	for (i = 0; i < l->ncerts; i++)
		X509_free(l->certs[i].cert);
	l->ncerts = 0;
}

/* A recipient's endpoint as looked up less than NOTIFY_ENDPOINT_MS ago. */
static const struct endpoint_seen *
notify_endpoint_seen(struct notify_worker *w, const char *id, int64_t now)
{
	int	i;

	for (i = 0; i < w->nendpoints; i++)
		if (strcmp(w->endpoints[i].id, id) == 0)
			return w->endpoints[i].until_us > now ?
			    &w->endpoints[i] : NULL;
	return NULL;
}

/* Remember what the directory said of a recipient's endpoint. */
static void
notify_endpoint_keep(struct notify_worker *w, const struct recipient *to,
    int64_t now)
{
	struct endpoint_seen	*e = NULL;
	int			 i;

	for (i = 0; i < w->nendpoints; i++)
		if (strcmp(w->endpoints[i].id, to->id) == 0)
			e = &w->endpoints[i];
	if (e == NULL) {
		if (w->nendpoints < NOTIFY_ENDPOINTS)
			e = &w->endpoints[w->nendpoints++];
		else	/* full: replace one at random */
			e = &w->endpoints[rand_r(&w->seed) % NOTIFY_ENDPOINTS];
	}
	snprintf(e->id, sizeof(e->id), "%s", to->id);
	snprintf(e->endpoint, sizeof(e->endpoint), "%s", to->endpoint);
	e->active = to->active;
	e->until_us = now + NOTIFY_ENDPOINT_MS * 1000;
}

/*
 * The recipients of the claimed rows, with their endpoints; 0 or -1. A
 * worker asks the directory about a recipient at most once a second
 * (NOTIFY_ENDPOINT_MS), so a changed or deactivated endpoint counts for
 * the deliveries tried a second later.
 */
static int
notify_recipients(struct notify_worker *w)
{
	struct sql			 q = { NULL, 0, 0 };
	const struct endpoint_seen	*e;
	MYSQL_RES			*res;
	MYSQL_ROW			 row;
	int64_t				 now = audit_now_us();
	int				 i, j, ask = 0, rc = -1;

	for (i = 0; i < w->nd; i++) {
		for (j = 0; j < w->nto; j++)
			if (strcmp(w->to[j].id, w->d[i].recipient) == 0)
				break;
		if (j == w->nto) {
			memset(&w->to[j], 0, sizeof(w->to[j]));
			snprintf(w->to[j].id, sizeof(w->to[j].id), "%s",
			    w->d[i].recipient);
			w->nto++;
		}
		w->d[i].to = &w->to[j];
	}
	sql_add(&q, "SELECT id, endpoint, active FROM institution WHERE id IN (");
	for (j = 0; j < w->nto; j++) {
		if ((e = notify_endpoint_seen(w, w->to[j].id, now)) != NULL) {
			snprintf(w->to[j].endpoint, sizeof(w->to[j].endpoint),
			    "%s", e->endpoint);
			w->to[j].active = e->active;
			continue;
		}
		sql_quoted(w->db, &q, w->to[j].id, ask++ == 0);
	}
	sql_add(&q, ")");
	if (ask == 0) {
		rc = 0;
		goto done;
	}
	if (mysql_real_query(w->db, q.p, q.len) != 0 ||
	    (res = mysql_store_result(w->db)) == NULL)
		goto done;
	while ((row = mysql_fetch_row(res)) != NULL)
		for (j = 0; j < w->nto; j++)
			if (row[0] != NULL && strcmp(w->to[j].id, row[0]) == 0) {
				copy_col(w->to[j].endpoint,
				    sizeof(w->to[j].endpoint), row[1]);
				w->to[j].active = row[2] != NULL &&
				    strcmp(row[2], "1") == 0;
			}
	mysql_free_result(res);
	/* what was asked, found or not (then no endpoint), is remembered */
	for (j = 0; j < w->nto; j++)
		if (notify_endpoint_seen(w, w->to[j].id, now) == NULL)
			notify_endpoint_keep(w, &w->to[j], now);
	rc = 0;
done:
	free(q.p);
	return rc;
}

/* Keep the database's error before a ROLLBACK clears it. */
static void
notify_claim_error(struct notify_worker *w)
{
	w->claim_errno = mysql_errno(w->db);
	snprintf(w->claim_error, sizeof(w->claim_error), "%s",
	    mysql_error(w->db));
}

/*
 * Claim due rows for this worker's new token: the number claimed (0 when
 * none is due) with w->d[] and w->to[] filled, or -1 on a database error.
 */
static int
notify_claim(struct notify_worker *w)
{
	struct sql	 q = { NULL, 0, 0 };
	char		 sel[768], until[27], uuid[AUDIT_TICKET_LEN];
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	int		 i;

	audit_ticket_new(uuid);
	snprintf(w->token, sizeof(w->token), "%s:%d:%s", w->n->cf->hub_node,
	    w->index, uuid);
	w->claimed_us = audit_now_us();
	audit_time_format(w->claimed_us + (int64_t)w->n->cf->notify_lease *
	    1000, until);
	snprintf(sel, sizeof(sel), "SELECT delivery_id, ticket, recipient, "
	    "quality, authorization_id, source, mutation_type, ssin, "
	    "effective_date, payload, attempts FROM outbox WHERE state = "
	    "'pending' AND next_attempt <= UTC_TIMESTAMP(6) AND (claimed_until "
	    "IS NULL OR claimed_until < UTC_TIMESTAMP(6)) ORDER BY next_attempt "
	    "LIMIT %d FOR UPDATE SKIP LOCKED", w->n->batch);
	if (mysql_query(w->db, "START TRANSACTION") != 0) {
		notify_claim_error(w);
		return -1;
	}
	if (mysql_query(w->db, sel) != 0 ||
	    (res = mysql_store_result(w->db)) == NULL)
		goto fail;
	while (w->nd < w->n->batch && (row = mysql_fetch_row(res)) != NULL) {
		struct delivery *e = &w->d[w->nd++];
		memset(e, 0, sizeof(*e));
		copy_col(e->delivery_id, sizeof(e->delivery_id), row[0]);
		copy_col(e->ticket, sizeof(e->ticket), row[1]);
		copy_col(e->recipient, sizeof(e->recipient), row[2]);
		copy_col(e->quality, sizeof(e->quality), row[3]);
		copy_col(e->authorization_id, sizeof(e->authorization_id), row[4]);
		copy_col(e->source, sizeof(e->source), row[5]);
		copy_col(e->mutation_type, sizeof(e->mutation_type), row[6]);
		copy_col(e->ssin, sizeof(e->ssin), row[7]);
		copy_col(e->effective_date, sizeof(e->effective_date), row[8]);
		e->payload = row[9] != NULL ? xstrdup(row[9]) : NULL;
		e->attempts = row[10] != NULL ? atoi(row[10]) : 0;
	}
	mysql_free_result(res);
	if (w->nd == 0) {
		mysql_query(w->db, "ROLLBACK");
		return 0;
	}
	sql_add(&q, "UPDATE outbox SET claimed_by = ");
	sql_quoted(w->db, &q, w->token, 1);
	sql_add(&q, ", claimed_until = ");
	sql_quoted(w->db, &q, until, 1);
	sql_add(&q, ", next_attempt = ");	/* out of the due range */
	sql_quoted(w->db, &q, until, 1);
	sql_add(&q, " WHERE delivery_id IN (");
	for (i = 0; i < w->nd; i++)
		sql_quoted(w->db, &q, w->d[i].delivery_id, i == 0);
	sql_add(&q, ")");
	if (mysql_real_query(w->db, q.p, q.len) != 0 ||
	    mysql_query(w->db, "COMMIT") != 0)
		goto fail;
	free(q.p);
	if (notify_recipients(w) == -1) {
		/* claimed, but not to be tried now: the lease brings them back */
		notify_claim_error(w);
		notify_release_rows(w);
		return -1;
	}
	return w->nd;
fail:
	free(q.p);
	notify_claim_error(w);
	mysql_query(w->db, "ROLLBACK");
	notify_release_rows(w);
	return -1;
}

/* ------------------------------------------------------------------ */
/* One attempt                                                         */
/* ------------------------------------------------------------------ */

/* The directory lookup of a lane: the worker's directory, one lane at a
 * time. */
static int
notify_lookup_dir(struct notify_lane *l, const struct wsse_keyref *ref,
    X509 **cert)
{
	int	rc;

	pthread_mutex_lock(&l->w->dir_mtx);
	rc = certlookup_fn(&l->lookup, ref, cert);
	pthread_mutex_unlock(&l->w->dir_mtx);
	return rc;
}

/*
 * wsse's registration lookup for the acknowledgements: a worker asks the
 * directory about a certificate at most once a second (NOTIFY_CERT_MS), so a
 * revocation counts for acknowledgements within a second.
 */
static int
notify_lookup(void *arg, const struct wsse_keyref *ref, X509 **cert)
{
	struct notify_lane	*l = arg;
	struct cert_seen	*c;
	int64_t			 now = audit_now_us();
	int			 i, rc;

	if (ref->kind != WSSE_KEYREF_TOKEN || ref->cert == NULL)
		return notify_lookup_dir(l, ref, cert);
	for (i = 0; i < l->ncerts; i++) {
		c = &l->certs[i];
		if (c->until_us <= now) {	/* too old: forget it */
			X509_free(c->cert);
			*c = l->certs[--l->ncerts];
			i--;
			continue;
		}
		/* the same certificate: X509_cmp compares the DER encodings */
		if (X509_cmp(c->cert, ref->cert) == 0) {
			l->lookup.found = c->found;
			l->lookup.failed = 0;
			l->lookup.revoked = c->revoked;
			l->lookup.inst = c->inst;
			return c->found;
		}
	}
	rc = notify_lookup_dir(l, ref, cert);
	if (rc != -1 && l->ncerts < NOTIFY_CERTS && X509_up_ref(ref->cert) == 1) {
		c = &l->certs[l->ncerts++];
		c->cert = ref->cert;
		c->until_us = now + NOTIFY_CERT_MS * 1000;
		c->found = rc;
		c->revoked = l->lookup.revoked;
		c->inst = l->lookup.inst;
	}
	return rc;
}

/*
 * Parse the payloads of the batch before the lanes take its rows: once a
 * publication, whose rows the claim returns one after the other (same
 * payload), and not once a delivery. The lanes only read the trees (each
 * copies the children into its own request). A payload that is not XML
 * stays NULL: its deliveries carry none, as before. One larger than
 * NOTIFY_PREPARSE_MAX is left to the lane, which parses it for the
 * delivery and frees it: a batch never holds many large trees at once.
 */
#define NOTIFY_PREPARSE_MAX	(64 * 1024)

static xmlDocPtr
notify_parse(const char *payload)
{
	return xmlReadMemory(payload, (int)strlen(payload), "payload.xml",
	    NULL, XML_PARSE_NONET);
}

static void
notify_parse_payloads(struct notify_worker *w)
{
	struct delivery	*d, *prev = NULL;
	int		 i;

	for (i = 0; i < w->nd; prev = d, i++) {
		d = &w->d[i];
		d->pdoc = NULL;
		d->pdoc_own = 0;
		d->pdoc_lane = 0;
		if (d->payload == NULL)
			continue;
		if (prev != NULL && prev->payload != NULL &&
		    strcmp(prev->payload, d->payload) == 0) {
			d->pdoc = prev->pdoc;
			d->pdoc_lane = prev->pdoc_lane;
			continue;
		}
		if (strlen(d->payload) > NOTIFY_PREPARSE_MAX) {
			d->pdoc_lane = 1;
			continue;
		}
		d->pdoc = notify_parse(d->payload);
		d->pdoc_own = d->pdoc != NULL;
	}
}

static int
notify_request(struct notify_lane *l, const struct delivery *d, char **out,
    size_t *len)
{
	xmlDocPtr	 doc, pdoc;
	xmlNodePtr	 body, req;
	char		 reason[256];
	int		 rc;

	doc = soapmsg_new(11, &body);
	req = soapmsg_add(body, KI_NS, "ReceiveMutationRequest", NULL);
	soapmsg_add(req, KI_NS, "Ticket", d->ticket);
	soapmsg_add(req, KI_NS, "DeliveryId", d->delivery_id);
	soapmsg_add(req, KI_NS, "Source", d->source);
	soapmsg_add(req, KI_NS, "MutationType", d->mutation_type);
	soapmsg_add(req, KI_NS, "Ssin", d->ssin);
	soapmsg_add(req, KI_NS, "EffectiveDate", d->effective_date);
	soapmsg_add(req, KI_NS, "Quality", d->quality);
	pdoc = d->pdoc_lane ? notify_parse(d->payload) : d->pdoc;
	if (pdoc != NULL)
		soapmsg_copy_children(soapmsg_add(req, KI_NS, "Payload", NULL),
		    xmlDocGetRootElement(pdoc));
	if (pdoc != d->pdoc)
		xmlFreeDoc(pdoc);
	rc = wsse_sign(l->wsse, doc, reason, sizeof(reason)) == KP_OK &&
	    soapmsg_serialize(doc, out, len) == 0 ? 0 : -1;
	xmlFreeDoc(doc);
	return rc;
}

/* Check the acknowledgement; 0 when it is right, else -1 with why. */
static int
notify_ack(struct notify_lane *l, struct delivery *d,
    const struct forward_reply *r)
{
	struct notify_worker	*w = l->w;
	struct envelope		*env = NULL;
	struct wsse_result	 res;
	char			 reason[256], ack[64], code[64], t[64], text[200];
	int			 rc = -1;

	if (envelope_parse(r->body, r->len, &w->n->limits, &env, reason,
	    sizeof(reason)) != KP_OK) {
		snprintf(d->why, sizeof(d->why), "HTTP %d, not a SOAP answer: %s",
		    r->status, reason);
		return -1;
	}
	if (soapmsg_read_fault(env->body, code, sizeof(code), t, sizeof(t),
	    text, sizeof(text))) {
		snprintf(d->why, sizeof(d->why), "fault %s: %s", code, text);
		goto done;
	}
	memset(&res, 0, sizeof(res));
	certlookup_reset(&l->lookup);
	if (wsse_verify(l->wsse, env, &res) != KP_OK || !l->lookup.found ||
	    l->lookup.revoked || strcmp(l->lookup.inst.id, d->recipient) != 0) {
		snprintf(d->why, sizeof(d->why), "acknowledgement not signed by "
		    "%s: %s", d->recipient, res.error != KP_OK ? res.reason :
		    "certificate registered to another institution");
		wsse_result_clear(&res);
		goto done;
	}
	wsse_result_clear(&res);
	if (env->payload == NULL ||
	    !envelope_is(env->payload, KI_NS, "ReceiveMutationResponse") ||
	    soapmsg_text(env->payload, KI_NS, "Ack", ack, sizeof(ack)) == NULL ||
	    strcmp(ack, d->delivery_id) != 0) {
		snprintf(d->why, sizeof(d->why), "the answer does not "
		    "acknowledge %.36s", d->delivery_id);
		goto done;
	}
	soapmsg_digest(env->payload, d->digest);	/* the acknowledgement */
	rc = 0;
done:
	envelope_free(env);
	return rc;
}

/*
 * Send one delivery and judge the answer; d->ok, d->why, d->digest, and
 * d->noanswer or d->slow_until for its recipient (which the caller marks,
 * holding the lanes' lock: the recipient is shared by the lanes).
 */
static void
notify_attempt(struct notify_lane *l, struct delivery *d)
{
	const struct kp_config	*cf = l->w->n->cf;
	struct forward_reply	 r;
	char			*body = NULL;
	size_t			 len;
	int64_t			 t0 = 0, now;

	d->tried = 1;
	memset(&r, 0, sizeof(r));
	if (d->to == NULL || d->to->endpoint[0] == '\0' || !d->to->active)
		snprintf(d->why, sizeof(d->why), "no active endpoint for %s",
		    d->recipient);
	else if (notify_request(l, d, &body, &len) == -1)
		snprintf(d->why, sizeof(d->why), "could not sign the "
		    "notification");
	else {
		t0 = audit_now_us();
		if (forward_call(l->fwd, d->to->endpoint, NOTIFY_ACTION, 11,
		    body, len, &r, d->why, sizeof(d->why)) == -1)
			d->noanswer = 1;	/* its other rows wait */
		else if (notify_ack(l, d, &r) == 0)
			d->ok = 1;
	}
	free(body);
	forward_reply_clear(&r);
	now = audit_now_us();
	if (t0 != 0 && !d->noanswer && now - t0 > NOTIFY_SLOW_MS * 1000)
		/* slow: its other rows go back, for a later claim */
		d->slow_until = now + (int64_t)cf->notify_backoff_min * 1000;

	if (d->ok)
		d->state = "delivered";
	else if (d->attempts + 1 >= cf->notify_max_attempts)
		d->state = "dead";
	else
		d->state = "pending";
	d->next_us = now + notify_backoff_ms(d->attempts,
	    cf->notify_backoff_min, cf->notify_backoff_max,
	    (unsigned int)rand_r(&l->seed)) * 1000;
}

/* What an attempt says of its recipient (the lanes' lock held). */
static void
notify_mark_recipient(struct delivery *d)
{
	struct recipient	*to = d->to;

	if (to == NULL)
		return;
	if (d->noanswer)
		to->held = 1;
	else if (d->slow_until != 0 && !to->held) {
		to->held = 1;
		to->next_us = d->slow_until;
	}
	if (to->held && to->next_us == 0)
		to->next_us = d->next_us;
}

/*
 * Take rows of the batch and try them until none is left to take; a row
 * whose recipient is held, or any row after half the lease (but the
 * first), is left untried (handed back). Called by every lane.
 */
static void
notify_lane_work(struct notify_lane *l)
{
	struct notify_worker	*w = l->w;
	int64_t			 half = (int64_t)w->n->cf->notify_lease * 1000 / 2;
	struct delivery		*d;
	int			 i;

	pthread_mutex_lock(&w->lmtx);
	while (w->lnext < w->lcount) {
		i = w->lnext++;
		d = &w->d[i];
		if ((d->to != NULL && d->to->held) ||
		    (i > 0 && audit_now_us() - w->claimed_us > half))
			continue;
		w->lbusy++;
		pthread_mutex_unlock(&w->lmtx);
		notify_attempt(l, d);
		pthread_mutex_lock(&w->lmtx);
		w->lbusy--;
		notify_mark_recipient(d);
	}
	if (w->lbusy == 0)
		pthread_cond_broadcast(&w->ldone);
	pthread_mutex_unlock(&w->lmtx);
}

/* A lane's thread: it helps with every batch of its worker. */
static void *
notify_lane_run(void *arg)
{
	struct notify_lane	*l = arg;
	struct notify_worker	*w = l->w;

	pthread_mutex_lock(&w->lmtx);
	for (;;) {
		while (!w->lstop && w->lnext >= w->lcount)
			pthread_cond_wait(&w->lwork, &w->lmtx);
		if (w->lstop)
			break;
		pthread_mutex_unlock(&w->lmtx);
		notify_lane_work(l);
		pthread_mutex_lock(&w->lmtx);
	}
	pthread_mutex_unlock(&w->lmtx);
	return NULL;
}

/* By recipient, then in the claim's order. */
static int
notify_by_recipient(const void *a, const void *b)
{
	const struct delivery	*x = a, *y = b;
	const struct recipient	*p = x->to, *q = y->to;

	if (p != q) {
		if (p == NULL || q == NULL)
			return p == NULL ? -1 : 1;
		return p < q ? -1 : 1;
	}
	return x->order - y->order;
}

/* Try the batch's rows with all the lanes; back when all are done. */
static void
notify_try_all(struct notify_worker *w)
{
	int	i;

	for (i = 0; i < w->nd; i++)
		w->d[i].order = i;
	notify_parse_payloads(w);	/* in the claim's order */
	if (w->nlanes > 1)
		qsort(w->d, (size_t)w->nd, sizeof(*w->d), notify_by_recipient);
	pthread_mutex_lock(&w->lmtx);
	w->lnext = 0;
	w->lcount = w->nd;
	if (w->nlanes > 1)
		pthread_cond_broadcast(&w->lwork);
	pthread_mutex_unlock(&w->lmtx);
	notify_lane_work(&w->lanes[0]);
	pthread_mutex_lock(&w->lmtx);
	while (w->lnext < w->lcount || w->lbusy > 0)
		pthread_cond_wait(&w->ldone, &w->lmtx);
	w->lcount = 0;
	w->lnext = 0;
	pthread_mutex_unlock(&w->lmtx);
}

/* The outbox update of an attempt that failed. */
static void
notify_failed_sql(struct notify_worker *w, struct delivery *d)
{
	struct sql	q = { NULL, 0, 0 };
	char		next[27];

	audit_time_format(d->next_us, next);
	sql_add(&q, "UPDATE outbox SET state = ");
	sql_quoted(w->db, &q, d->state, 1);
	sql_add(&q, ", attempts = attempts + 1, next_attempt = ");
	sql_quoted(w->db, &q, next, 1);
	sql_add(&q, ", delivered_at = NULL, last_error = ");
	{
		char	esc[2 * 200 + 1];

		mysql_real_escape_string(w->db, esc, d->why,
		    (unsigned long)strnlen(d->why, 200));
		sql_add(&q, "'");
		sql_add(&q, esc);
		sql_add(&q, "'");
	}
	sql_add(&q, ", claimed_by = NULL, claimed_until = NULL WHERE "
	    "delivery_id = ");
	sql_quoted(w->db, &q, d->delivery_id, 1);
	sql_add(&q, " AND claimed_by = ");
	sql_quoted(w->db, &q, w->token, 1);
	d->also = q.p;
}

/* The audit record of an attempt. */
static void
notify_record(struct audit_record *rec, const struct delivery *d)
{
	struct audit_target	*t;

	audit_record_renew(rec, "delivery", "ReceiveMutation");
	snprintf(rec->sender, sizeof(rec->sender), "%s", d->source);
	snprintf(rec->message_id, sizeof(rec->message_id), "%.36s",
	    d->delivery_id);
	snprintf(rec->ssin, sizeof(rec->ssin), "%s", d->ssin);
	snprintf(rec->quality, sizeof(rec->quality), "%s", d->quality);
	snprintf(rec->service, sizeof(rec->service), "%s", d->mutation_type);
	snprintf(rec->authorization_id, sizeof(rec->authorization_id), "%s",
	    d->authorization_id);
	snprintf(rec->decision, sizeof(rec->decision), "%s", d->ok ?
	    "DELIVERED" : strcmp(d->state, "dead") == 0 ? "DEAD" : "RETRY");
	snprintf(rec->reason, sizeof(rec->reason), "attempt %d for "
	    "publication %s%s%.180s", d->attempts + 1, d->ticket, d->ok ? "" : ": ",
	    d->ok ? "" : d->why);
	t = audit_record_add_target(rec);
	snprintf(t->institution, sizeof(t->institution), "%s", d->recipient);
	snprintf(t->status, sizeof(t->status), "%s",
	    d->ok ? "ACK" : "UNAVAILABLE");
	snprintf(t->answer_digest, sizeof(t->answer_digest), "%s", d->digest);
	rec->also = d->also;
}

/*
 * Hand back the rows not tried: due when their recipient's failed row is
 * due again (or as they were), for any worker of any node.
 */
static void
notify_hand_back(struct notify_worker *w)
{
	struct sql	 q;
	char		 next[27];
	int		 i, j, any;

	for (j = -1; j < w->nto; j++) {
		if (j >= 0 && !w->to[j].held)
			continue;
		memset(&q, 0, sizeof(q));
		sql_add(&q, "UPDATE outbox SET claimed_by = NULL, claimed_until "
		    "= NULL, next_attempt = ");
		if (j >= 0) {
			audit_time_format(w->to[j].next_us, next);
			sql_quoted(w->db, &q, next, 1);
		} else
			sql_add(&q, "UTC_TIMESTAMP(6)");
		sql_add(&q, " WHERE claimed_by = ");
		sql_quoted(w->db, &q, w->token, 1);
		sql_add(&q, " AND delivery_id IN (");
		for (any = 0, i = 0; i < w->nd; i++)
			if (!w->d[i].tried && (j >= 0 ? w->d[i].to == &w->to[j] :
			    w->d[i].to == NULL || !w->d[i].to->held)) {
				sql_quoted(w->db, &q, w->d[i].delivery_id,
				    any++ == 0);
			}
		sql_add(&q, ")");
		if (any > 0 && mysql_real_query(w->db, q.p, q.len) != 0)
			log_warnx("notify: handing back %d rows: %s (their "
			    "lease brings them back)", any, mysql_error(w->db));
		free(q.p);
	}
}

/* Try the claimed rows, then audit the attempts and settle the rows. */
static void
notify_batch(struct notify_worker *w)
{
	struct sql	 done = { NULL, 0, 0 };
	int		 i, nrec = 0, ndone = 0, nback = 0, first_ok = -1;

	notify_try_all(w);
	for (i = 0; i < w->nd; i++) {
		struct delivery *d = &w->d[i];
		if (!d->tried) {
			nback++;
			continue;
		}
		if (d->ok) {
			if (first_ok == -1)
				first_ok = i;
			if (ndone++ == 0) {
				sql_add(&done, "UPDATE outbox SET state = "
				    "'delivered', attempts = attempts + 1, "
				    "delivered_at = UTC_TIMESTAMP(6), last_error "
				    "= NULL, claimed_by = NULL, claimed_until = "
				    "NULL WHERE claimed_by = ");
				sql_quoted(w->db, &done, w->token, 1);
				sql_add(&done, " AND delivery_id IN (");
			}
			sql_quoted(w->db, &done, d->delivery_id, ndone == 1);
		} else
			notify_failed_sql(w, d);
	}
	if (ndone > 0) {
		sql_add(&done, ")");
		w->d[first_ok].also = done.p;	/* freed with the row */
	}
	/* the attempts are audited before the outbox says what happened */
	for (i = 0; i < w->nd; i++)
		if (w->d[i].tried)
			notify_record(&w->recs[nrec++], &w->d[i]);
	if (audit_append_group(w->n->audit, w->recs, nrec) == -1) {
		log_warnx("notify: %d attempts could not be audited; they will "
		    "be tried again", nrec);
		return;		/* the lease expires; the rows come back */
	}
	for (i = 0, nrec = 0; i < w->nd; i++) {
		struct delivery *d = &w->d[i];
		if (!d->tried)
			continue;
		log_info("delivery ticket=%s delivery=%s recipient=%s "
		    "attempt=%d outcome=%s%s%s", w->recs[nrec++].ticket,
		    d->delivery_id, d->recipient, d->attempts + 1, d->ok ?
		    "DELIVERED" : strcmp(d->state, "dead") == 0 ? "DEAD" :
		    "RETRY", d->ok ? "" : " error=", d->ok ? "" : d->why);
	}
	if (nback > 0)
		notify_hand_back(w);
}

/* ------------------------------------------------------------------ */
/* Workers                                                             */
/* ------------------------------------------------------------------ */

static void
notify_sleep(struct notify *n, int ms)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&n->mtx);
	if (n->wakeups == 0 && !atomic_load(&n->stop))
		pthread_cond_timedwait(&n->cond, &n->mtx, &ts);
	if (n->wakeups > 0)
		n->wakeups--;
	pthread_mutex_unlock(&n->mtx);
}

/* The worker's own connection: READ COMMITTED, so that a claim locks only
 * the rows it takes. */
static MYSQL *
notify_connect(struct notify *n, char *err, size_t errlen)
{
	MYSQL	*db;

	if ((db = db_connect(n->cf, err, errlen)) == NULL)
		return NULL;
	if (mysql_query(db, "SET SESSION TRANSACTION ISOLATION LEVEL READ "
	    "COMMITTED") != 0) {
		snprintf(err, errlen, "%s", mysql_error(db));
		db_close(db);
		return NULL;
	}
	return db;
}

static void *
notify_run(void *arg)
{
	struct notify_worker	*w = arg;
	struct notify		*n = w->n;
	char			 err[256];
	int			 rc;

	while (!atomic_load(&n->stop)) {
		if (w->db == NULL &&
		    (w->db = notify_connect(n, err, sizeof(err))) == NULL) {
			log_warnx("notify: %s", err);
			notify_sleep(n, 1000);
			continue;
		}
		rc = notify_claim(w);
		if (rc == -1) {
			if (db_error_is_retryable(w->claim_errno)) {
				/* another node's claim won (Galera) */
				notify_sleep(n, 10 + (int)(rand_r(&w->seed) % 90));
				continue;
			}
			log_warnx("notify: claiming: %s (error %u)", w->claim_error,
			    w->claim_errno);
			db_close(w->db);
			w->db = NULL;
			notify_sleep(n, 1000);
			continue;
		}
		if (rc == 0) {
			notify_sleep(n, 500);
			continue;
		}
		notify_batch(w);
		notify_release_rows(w);
	}
	return NULL;
}

/* A lane's contexts; 0 or -1 with err. */
static int
notify_lane_init(struct notify_worker *w, struct notify_lane *l, int i,
    char *err, size_t errlen)
{
	struct notify		*n = w->n;
	struct wsse_options	 o;
	struct forward_options	 fo;

	l->w = w;
	l->index = i;
	l->seed = (unsigned int)(audit_now_us() ^ (w->index * 7919) ^
	    (i * 104729));
	l->lookup.dir = w->dir;
	wsse_options_default(&o);
	o.ca_file = n->cf->trust_ca_file;
	o.crl_file = n->cf->trust_crl_file;
	o.clock_skew_ms = n->cf->clock_skew;
	o.max_age_ms = n->cf->max_message_age;
	o.lookup = notify_lookup;
	o.lookup_arg = l;
	o.replay = n->replay;
	o.key_file = n->cf->signing_key;
	o.cert_file = n->cf->signing_certificate;
	o.ttl_ms = n->cf->max_message_age;
	if ((l->wsse = wsse_ctx_new(&o, err, errlen)) == NULL)
		return -1;
	fo.connect_timeout_ms = n->cf->connect_timeout;
	fo.timeout_ms = n->cf->target_timeout;
	fo.max_response = n->cf->max_message_size;
	fo.ca_file = n->cf->trust_ca_file;
	l->fwd = forward_new(&fo);
	return 0;
}

static void
notify_lane_free(struct notify_lane *l)
{
	if (l->wsse != NULL)
		wsse_ctx_free(l->wsse);
	forward_free(l->fwd);
	notify_forget_certs(l);
}

static int
notify_worker_init(struct notify *n, struct notify_worker *w, int i,
    char *err, size_t errlen)
{
	int	j;

	w->n = n;
	w->index = i;
	w->seed = (unsigned int)(audit_now_us() ^ (i * 7919));
	w->d = xcalloc((size_t)n->batch, sizeof(*w->d));
	w->to = xcalloc((size_t)n->batch, sizeof(*w->to));
	w->recs = xcalloc((size_t)n->batch, sizeof(*w->recs));
	pthread_mutex_init(&w->dir_mtx, NULL);
	pthread_mutex_init(&w->lmtx, NULL);
	pthread_cond_init(&w->lwork, NULL);
	pthread_cond_init(&w->ldone, NULL);
	w->lanes = xcalloc((size_t)n->lanes, sizeof(*w->lanes));
	if ((w->dir = directory_open(n->cf, err, errlen)) == NULL)
		return -1;
	for (j = 0; j < n->lanes; j++) {
		if (notify_lane_init(w, &w->lanes[j], j, err, errlen) == -1)
			return -1;
		w->nlanes = j + 1;
		if (j > 0) {
			if (pthread_create(&w->lanes[j].thread, NULL,
			    notify_lane_run, &w->lanes[j]) != 0) {
				snprintf(err, errlen, "cannot start a delivery "
				    "lane");
				return -1;
			}
			w->lanes[j].started = 1;
		}
	}
	return 0;
}

static void
notify_worker_free(struct notify_worker *w)
{
	int	i;

	if (w->lanes != NULL) {
		pthread_mutex_lock(&w->lmtx);
		w->lstop = 1;
		pthread_cond_broadcast(&w->lwork);
		pthread_mutex_unlock(&w->lmtx);
		for (i = 0; i < w->n->lanes; i++) {
			if (w->lanes[i].started)
				pthread_join(w->lanes[i].thread, NULL);
			notify_lane_free(&w->lanes[i]);
		}
		free(w->lanes);
		pthread_mutex_destroy(&w->dir_mtx);
		pthread_mutex_destroy(&w->lmtx);
		pthread_cond_destroy(&w->lwork);
		pthread_cond_destroy(&w->ldone);
	}
	db_close(w->db);
	directory_close(w->dir);
	free(w->d);
	free(w->to);
	for (i = 0; w->recs != NULL && i < w->n->batch; i++)
		audit_record_release(&w->recs[i]);
	free(w->recs);
}

/* Start [notify] workers delivery workers; NULL with err. */
struct notify *
notify_start(const struct kp_config *cf, struct audit_log *audit,
    struct replay *replay, char *err, size_t errlen)
{
	struct notify	*n = xcalloc(1, sizeof(*n));
	int		 i;

	n->cf = cf;
	n->audit = audit;
	n->replay = replay;
	n->batch = cf->notify_batch > 0 ? cf->notify_batch : 16;
	n->lanes = cf->notify_lanes > 0 ? cf->notify_lanes : 1;
	envelope_limits_default(&n->limits);
	n->limits.max_size = (size_t)cf->max_message_size;
	pthread_mutex_init(&n->mtx, NULL);
	pthread_cond_init(&n->cond, NULL);
	n->nworkers = cf->notify_workers;
	n->workers = xcalloc((size_t)(n->nworkers > 0 ? n->nworkers : 1),
	    sizeof(*n->workers));
	for (i = 0; i < n->nworkers; i++) {
		if (notify_worker_init(n, &n->workers[i], i, err, errlen) == -1 ||
		    pthread_create(&n->workers[i].thread, NULL, notify_run,
		    &n->workers[i]) != 0) {
			notify_worker_free(&n->workers[i]);
			n->nworkers = i;
			notify_stop(n);
			return NULL;
		}
	}
	return n;
}

/* Tell the workers that something was queued. */
void
notify_wake(struct notify *n)
{
	if (n == NULL)
		return;
	pthread_mutex_lock(&n->mtx);
	n->wakeups = n->nworkers;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->mtx);
}

/* Stop the workers (a batch in flight finishes) and free. */
void
notify_stop(struct notify *n)
{
	int	i;

	if (n == NULL)
		return;
	atomic_store(&n->stop, 1);
	notify_wake(n);
	for (i = 0; i < n->nworkers; i++)
		pthread_join(n->workers[i].thread, NULL);
	for (i = 0; i < n->nworkers; i++)
		notify_worker_free(&n->workers[i]);
	free(n->workers);
	pthread_mutex_destroy(&n->mtx);
	pthread_cond_destroy(&n->cond);
	free(n);
}

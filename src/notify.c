/*
 * kruispunt - the signal function's delivery side: workers that send the
 * outbox's notifications to their recipients, with retries.
 *
 * Each delivery worker has its own database connection, XML security
 * context and outbound connections. It claims one due row of the outbox for
 * a lease (an UPDATE ... LIMIT that any hub node may race for: a row goes
 * to one of them; a worker takes a few at once), sends ReceiveMutation signed by the hub with the
 * row's DeliveryId, verifies that the acknowledgement is signed by the
 * certificate registered to that recipient and names that DeliveryId, audits
 * the attempt and, in the same transaction (one log flush, shared with the
 * other workers' records by the group commit), marks the row delivered, or
 * due again after an exponential backoff with jitter, or dead after
 * [notify] max_attempts. A
 * row whose worker died (or whose attempt could not be audited) is taken
 * again when its lease expires: delivery is at least once, and the stable
 * DeliveryId lets the recipient drop a duplicate. On a Galera cluster two
 * nodes racing for the same rows cannot both win: the loser's claim fails
 * certification (1213) and it simply claims again. A slow recipient holds up
 * only the worker that is calling it, for at most the target timeout.
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

struct notify_worker {
	struct notify		*n;
	int			 index;
	pthread_t		 thread;
	MYSQL			*db;
	struct directory	*dir;
	struct wsse_ctx		*wsse;
	struct certlookup	 lookup;
	struct forward		*fwd;
	unsigned int		 seed;
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
	struct notify_worker	*workers;
};

/* One claimed row. */
struct delivery {
	char	 delivery_id[AUDIT_TICKET_LEN];
	char	 ticket[AUDIT_TICKET_LEN];
	char	 recipient[11];
	char	 quality[33];
	char	 authorization_id[65];
	char	 source[11];
	char	 mutation_type[33];
	char	 ssin[12];
	char	 effective_date[11];
	char	*payload;
	int	 attempts;
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
/* The outbox                                                          */
/* ------------------------------------------------------------------ */

static void
copy_col(char *dst, size_t len, const char *v)
{
	snprintf(dst, len, "%s", v != NULL ? v : "");
}

#define NOTIFY_BATCH	4	/* rows claimed at once by a worker */

/* Claim due rows; the number claimed (0 when none is due, at most max) with
 * d[] filled, or -1 on error. */
static int
notify_claim(struct notify_worker *w, struct delivery *d, int max,
    const char *token)
{
	char		 q[1024], until[27];
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	int		 rc = 0;

	audit_time_format(audit_now_us() + (int64_t)w->n->cf->notify_lease * 1000,
	    until);
	snprintf(q, sizeof(q), "UPDATE outbox SET claimed_by = '%s', "
	    "claimed_until = '%s' WHERE state = 'pending' AND next_attempt <= "
	    "UTC_TIMESTAMP(6) AND (claimed_until IS NULL OR claimed_until < "
	    "UTC_TIMESTAMP(6)) ORDER BY next_attempt LIMIT %d", token, until,
	    max);
	if (mysql_query(w->db, q) != 0)
		return -1;
	if (mysql_affected_rows(w->db) == 0)
		return 0;
	snprintf(q, sizeof(q), "SELECT delivery_id, ticket, recipient, quality, "
	    "authorization_id, source, mutation_type, ssin, effective_date, "
	    "payload, attempts FROM outbox WHERE claimed_by = '%s'", token);
	if (mysql_query(w->db, q) != 0 || (res = mysql_store_result(w->db)) ==
	    NULL)
		return -1;
	while (rc < max && (row = mysql_fetch_row(res)) != NULL) {
		struct delivery *e = &d[rc++];
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
		e->attempts = atoi(row[10]);
	}
	mysql_free_result(res);
	return rc;
}

/* The outbox update that records an attempt's outcome; it runs in the
 * transaction of the attempt's audit record. */
static void
notify_settle(struct notify_worker *w, const struct delivery *d,
    const char *token, const char *state, int64_t next_us, const char *error,
    char *q, size_t qlen)
{
	char	next[27], esc[512];

	audit_time_format(next_us, next);
	mysql_real_escape_string(w->db, esc, error, (unsigned long)strnlen(error,
	    200));
	snprintf(q, qlen, "UPDATE outbox SET state = '%s', attempts = "
	    "attempts + 1, next_attempt = '%s', delivered_at = %s, last_error = "
	    "%s%s%s, claimed_by = NULL, claimed_until = NULL WHERE delivery_id = "
	    "'%.36s' AND claimed_by = '%.99s'", state, next,
	    strcmp(state, "delivered") == 0 ? "UTC_TIMESTAMP(6)" : "NULL",
	    *error ? "'" : "", *error ? esc : "NULL", *error ? "'" : "",
	    d->delivery_id, token);
}

/* ------------------------------------------------------------------ */
/* One attempt                                                         */
/* ------------------------------------------------------------------ */

static int
notify_request(struct notify_worker *w, const struct delivery *d, char **out,
    size_t *len)
{
	xmlDocPtr	 doc, pdoc = NULL;
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
	if (d->payload != NULL && (pdoc = xmlReadMemory(d->payload,
	    (int)strlen(d->payload), "payload.xml", NULL, XML_PARSE_NONET)) !=
	    NULL)
		soapmsg_copy_children(soapmsg_add(req, KI_NS, "Payload", NULL),
		    xmlDocGetRootElement(pdoc));
	rc = wsse_sign(w->wsse, doc, reason, sizeof(reason)) == KP_OK &&
	    soapmsg_serialize(doc, out, len) == 0 ? 0 : -1;
	if (pdoc != NULL)
		xmlFreeDoc(pdoc);
	xmlFreeDoc(doc);
	return rc;
}

/* Check the acknowledgement; 0 when it is right, else -1 with why. */
static int
notify_ack(struct notify_worker *w, const struct delivery *d,
    const struct forward_reply *r, char *digest, char *why, size_t whylen)
{
	struct envelope		*env = NULL;
	struct wsse_result	 res;
	char			 reason[256], ack[64], code[64], t[64], text[200];
	int			 rc = -1;

	if (envelope_parse(r->body, r->len, &w->n->limits, &env, reason,
	    sizeof(reason)) != KP_OK) {
		snprintf(why, whylen, "HTTP %d, not a SOAP answer: %s", r->status,
		    reason);
		return -1;
	}
	if (soapmsg_read_fault(env->body, code, sizeof(code), t, sizeof(t),
	    text, sizeof(text))) {
		snprintf(why, whylen, "fault %s: %s", code, text);
		goto done;
	}
	memset(&res, 0, sizeof(res));
	certlookup_reset(&w->lookup);
	if (wsse_verify(w->wsse, env, &res) != KP_OK || !w->lookup.found ||
	    w->lookup.revoked || strcmp(w->lookup.inst.id, d->recipient) != 0) {
		snprintf(why, whylen, "acknowledgement not signed by %s: %s",
		    d->recipient, res.error != KP_OK ? res.reason :
		    "certificate registered to another institution");
		wsse_result_clear(&res);
		goto done;
	}
	wsse_result_clear(&res);
	if (env->payload == NULL ||
	    !envelope_is(env->payload, KI_NS, "ReceiveMutationResponse") ||
	    soapmsg_text(env->payload, KI_NS, "Ack", ack, sizeof(ack)) == NULL ||
	    strcmp(ack, d->delivery_id) != 0) {
		snprintf(why, whylen, "the answer does not acknowledge %.36s",
		    d->delivery_id);
		goto done;
	}
	soapmsg_digest(env->payload, digest);	/* the acknowledgement */
	rc = 0;
done:
	envelope_free(env);
	return rc;
}

static void
notify_attempt(struct notify_worker *w, struct delivery *d, const char *token)
{
	const struct kp_config	*cf = w->n->cf;
	struct dir_institution	 inst;
	struct forward_reply	 r;
	struct audit_record	 rec;
	char			*body = NULL, why[300], digest[65] = "", settle[2048];
	const char		*state;
	size_t			 len;
	int64_t			 next;
	int			 ok = 0;

	audit_record_init(&rec, "delivery", "ReceiveMutation");
	memset(&r, 0, sizeof(r));
	why[0] = '\0';
	if (directory_institution(w->dir, d->recipient, &inst) != 1 ||
	    inst.endpoint[0] == '\0' || !inst.active)
		snprintf(why, sizeof(why), "no active endpoint for %s",
		    d->recipient);
	else if (notify_request(w, d, &body, &len) == -1)
		snprintf(why, sizeof(why), "could not sign the notification");
	else if (forward_call(w->fwd, inst.endpoint, NOTIFY_ACTION, 11, body,
	    len, &r, why, sizeof(why)) == 0 &&
	    notify_ack(w, d, &r, digest, why, sizeof(why)) == 0)
		ok = 1;
	free(body);
	forward_reply_clear(&r);

	if (ok)
		state = "delivered";
	else if (d->attempts + 1 >= cf->notify_max_attempts)
		state = "dead";
	else
		state = "pending";
	next = audit_now_us() + notify_backoff_ms(d->attempts,
	    cf->notify_backoff_min, cf->notify_backoff_max,
	    (unsigned int)rand_r(&w->seed)) * 1000;

	/* the attempt is audited before the outbox says what happened */
	snprintf(rec.sender, sizeof(rec.sender), "%s", d->source);
	snprintf(rec.message_id, sizeof(rec.message_id), "%.36s", d->delivery_id);
	snprintf(rec.ssin, sizeof(rec.ssin), "%s", d->ssin);
	snprintf(rec.quality, sizeof(rec.quality), "%s", d->quality);
	snprintf(rec.service, sizeof(rec.service), "%s", d->mutation_type);
	snprintf(rec.authorization_id, sizeof(rec.authorization_id), "%s",
	    d->authorization_id);
	snprintf(rec.decision, sizeof(rec.decision), "%s", ok ? "DELIVERED" :
	    strcmp(state, "dead") == 0 ? "DEAD" : "RETRY");
	snprintf(rec.reason, sizeof(rec.reason), "attempt %d for publication "
	    "%s%s%s", d->attempts + 1, d->ticket, ok ? "" : ": ", why);
	snprintf(rec.targets[0].institution, sizeof(rec.targets[0].institution),
	    "%s", d->recipient);
	snprintf(rec.targets[0].status, sizeof(rec.targets[0].status), "%s",
	    ok ? "ACK" : "UNAVAILABLE");
	snprintf(rec.targets[0].answer_digest,
	    sizeof(rec.targets[0].answer_digest), "%s", digest);
	rec.ntargets = 1;
	notify_settle(w, d, token, state, next, ok ? "" : why, settle,
	    sizeof(settle));
	rec.also = settle;
	if (audit_append(w->n->audit, &rec) == -1) {
		log_warnx("notify: delivery %s: the attempt could not be "
		    "audited; it will be tried again", d->delivery_id);
		return;		/* the lease expires; the row comes back */
	}
	log_info("delivery ticket=%s delivery=%s recipient=%s attempt=%d "
	    "outcome=%s%s%s", rec.ticket, d->delivery_id, d->recipient,
	    d->attempts + 1, rec.decision, ok ? "" : " error=", ok ? "" : why);
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

static void *
notify_run(void *arg)
{
	struct notify_worker	*w = arg;
	struct notify		*n = w->n;
	struct delivery		 d[NOTIFY_BATCH];
	char			 token[100], uuid[AUDIT_TICKET_LEN], err[256];
	int			 rc, i;

	while (!atomic_load(&n->stop)) {
		if (w->db == NULL &&
		    (w->db = db_connect(n->cf, err, sizeof(err))) == NULL) {
			log_warnx("notify: %s", err);
			notify_sleep(n, 1000);
			continue;
		}
		audit_ticket_new(uuid);
		snprintf(token, sizeof(token), "%s:%d:%s", n->cf->hub_node,
		    w->index, uuid);
		rc = notify_claim(w, d, NOTIFY_BATCH, token);
		if (rc == -1 && db_error_is_retryable(mysql_errno(w->db))) {
			/* Galera: another node claimed the same rows first */
			notify_sleep(n, 5 + (int)(rand_r(&w->seed) % 50));
			continue;
		}
		if (rc == -1) {
			log_warnx("notify: claiming: %s", mysql_error(w->db));
			db_close(w->db);
			w->db = NULL;
			notify_sleep(n, 1000);
			continue;
		}
		if (rc == 0) {
			notify_sleep(n, 500);
			continue;
		}
		for (i = 0; i < rc; i++) {
			notify_attempt(w, &d[i], token);
			free(d[i].payload);
		}
	}
	return NULL;
}

static int
notify_worker_init(struct notify *n, struct notify_worker *w, int i,
    char *err, size_t errlen)
{
	struct wsse_options	o;
	struct forward_options	fo;

	w->n = n;
	w->index = i;
	w->seed = (unsigned int)(audit_now_us() ^ (i * 7919));
	if ((w->dir = directory_open(n->cf, err, errlen)) == NULL)
		return -1;
	w->lookup.dir = w->dir;
	wsse_options_default(&o);
	o.ca_file = n->cf->trust_ca_file;
	o.crl_file = n->cf->trust_crl_file;
	o.clock_skew_ms = n->cf->clock_skew;
	o.max_age_ms = n->cf->max_message_age;
	o.lookup = certlookup_fn;
	o.lookup_arg = &w->lookup;
	o.replay = n->replay;
	o.key_file = n->cf->signing_key;
	o.cert_file = n->cf->signing_certificate;
	o.ttl_ms = n->cf->max_message_age;
	if ((w->wsse = wsse_ctx_new(&o, err, errlen)) == NULL)
		return -1;
	fo.connect_timeout_ms = n->cf->connect_timeout;
	fo.timeout_ms = n->cf->target_timeout;
	fo.max_response = n->cf->max_message_size;
	fo.ca_file = n->cf->trust_ca_file;
	w->fwd = forward_new(&fo);
	return 0;
}

static void
notify_worker_free(struct notify_worker *w)
{
	db_close(w->db);
	directory_close(w->dir);
	if (w->wsse != NULL)
		wsse_ctx_free(w->wsse);
	forward_free(w->fwd);
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

/* Stop the workers (an attempt in flight finishes) and free. */
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

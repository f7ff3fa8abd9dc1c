/*
 * kruispunt - the hub's exchange pipeline: parse, verify, identify, decide,
 * forward, audit, sign, answer (DESIGN.md, "One exchange, end to end").
 *
 * Every POST is one exchange with a fresh ticket. Each step either moves on
 * or ends the exchange with a refusal code; whatever the outcome, the audit
 * record is written (and committed) before anything is sent back, and if it
 * cannot be written the requester gets INTERNAL and no data: the hub fails
 * closed. Who the sender is comes only from the verified signing certificate
 * and the directory's registration of it; the request's Body must conform to
 * the wire contract's schema; the payload is never interpreted, only copied
 * (as a subtree) and digested.
 *
 * Consult: the decision (src/dispatch.c) names the target institutions; the
 * hub signs one ProvideData per target, sends them in parallel (one thread
 * per extra target, each on its own kept-alive connection), verifies each
 * answer's signature against the certificate registered to that very
 * institution, and builds the ConsultResponse: OK when every target
 * answered, PARTIAL when some did, TARGET_UNAVAILABLE when none did.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/xmlschemas.h>

#include "audit.h"
#include "certificate.h"
#include "certlookup.h"
#include "config.h"
#include "dircache.h"
#include "directory.h"
#include "dispatch.h"
#include "envelope.h"
#include "forward.h"
#include "hub.h"
#include "log.h"
#include "notify.h"
#include "replay.h"
#include "soapmsg.h"
#include "ssin.h"
#include "wsse.h"
#include "xmalloc.h"

#ifndef KP_DATADIR
#define KP_DATADIR "/usr/local/share/kruispunt"
#endif

#define HUB_PARALLEL	8	/* targets asked at once */

/* Where an exchange's time goes, summed over the exchanges (/metrics). */
enum hub_phase {
	PH_WAIT,	/* for a worker state, the request read */
	PH_CHECK,	/* parse, verify, schema, fields (and a claim) */
	PH_DIRECTORY,	/* a Consult's claim, directory read, decision */
	PH_FORWARD,	/* a Consult's calls to the institutions */
	PH_AUDIT,	/* the audit record, until committed */
	PH_REPLY,	/* the answer signed and serialised */
	PH_COUNT
};
static const char *const hub_phase_names[PH_COUNT] = {
	"worker_wait", "check", "directory", "forward", "audit", "reply"
};
#define INSTITUTION_ACTION "urn:kruispunt:institution:1#"

struct hub {
	const struct kp_config	*cf;
	struct audit_log	*audit;
	struct notify		*notify;
	struct replay		*replay;
	xmlSchemaPtr		 schema;
	char			*wsdl;
	char			*xsd_hub;
	char			*xsd_institution;
	struct envelope_limits	 limits;
	atomic_int		 reload;
	atomic_ulong		 exchanges;
	atomic_ulong		 refused[KP_ERROR_COUNT];
	atomic_ullong		 phase_us[PH_COUNT];
	/* the thread that forgets expired MessageIds (hub_purge_main()) */
	pthread_t		 purge_thread;
	pthread_mutex_t		 purge_lock;
	pthread_cond_t		 purge_cv;
	int			 purge_started, purge_stop;
	atomic_ulong		 purged;
};

#define HUB_PURGE_INTERVAL	1	/* seconds between purges of message_seen */
#define HUB_PURGE_ROUNDS	100	/* statements per purge at most */

struct hub_worker {
	struct hub		*hub;
	struct directory	*dir;
	struct wsse_ctx		*wsse;
	struct forward		*fwd[HUB_PARALLEL];
	xmlSchemaValidCtxtPtr	 vctx;
	int			 reload_seen;
	struct certlookup	 lookup;	/* what the last lookup found */
	char			 schema_error[256];
};

/* One exchange in progress. */
struct exchange {
	struct hub_worker	*w;
	struct audit_record	 rec;
	struct envelope		*env;
	int			 soap_version;
	xmlNodePtr		 req;
	const char		*op;
	struct dir_institution	 sender;
	enum kp_error		 code;
	char			 reason[256];
	char			 status[32];	/* OK, PARTIAL, ... */
	xmlDocPtr		 answer;
	int64_t			 phase_us[PH_COUNT];
};

static int64_t
hub_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ------------------------------------------------------------------ */
/* Set-up                                                              */
/* ------------------------------------------------------------------ */

/* Where the WSDL, XSD and SQL files are: $KRUISPUNT_DATA_DIR or installed. */
const char *
hub_data_dir(void)
{
	const char	*env = getenv("KRUISPUNT_DATA_DIR");

	return env != NULL && *env != '\0' ? env : KP_DATADIR;
}

static char *
hub_read_file(const char *dir, const char *name, char *err, size_t errlen)
{
	char	*path, *buf;
	FILE	*fp;
	long	 n;

	xasprintf(&path, "%s/%s", dir, name);
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(path);
		return NULL;
	}
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, fp) != (size_t)n)
		n = 0;
	buf[n] = '\0';
	fclose(fp);
	free(path);
	return buf;
}

/* The WSDL with every soap:address location replaced by the hub's URL. */
static char *
hub_wsdl(const char *wsdl, const char *url)
{
	const char	*placeholder = "https://kruispunt.invalid/kruispunt";
	const char	*p, *q;
	char		*out;
	size_t		 n = 0, pl = strlen(placeholder), ul = strlen(url);

	out = xmalloc(strlen(wsdl) + 4 * ul + 1);
	for (p = wsdl; (q = strstr(p, placeholder)) != NULL; p = q + pl) {
		memcpy(out + n, p, (size_t)(q - p));
		n += (size_t)(q - p);
		memcpy(out + n, url, ul);
		n += ul;
	}
	strcpy(out + n, p);
	return out;
}

static void
hub_schema_error(void *ctx, const char *fmt, ...)
{
	struct hub_worker	*w = ctx;
	va_list			 ap;

	if (w->schema_error[0] != '\0')
		return;		/* the first error says enough */
	va_start(ap, fmt);
	vsnprintf(w->schema_error, sizeof(w->schema_error), fmt, ap);
	va_end(ap);
	w->schema_error[strcspn(w->schema_error, "\n")] = '\0';
}

/*
 * Forget expired MessageIds (message_seen would otherwise grow by one row
 * per exchange forever): once a second, on a connection of its own, delete
 * them in statements of DIR_PURGE_LIMIT rows until fewer are left. Every
 * node of a cluster does this; two purges that meet only delete less each.
 * A failure is logged (once a minute at most) and tried again a second
 * later; the request path never waits for it.
 */
static void *
hub_purge_main(void *arg)
{
	struct hub		*h = arg;
	struct directory	*dir = NULL;
	struct timespec		 until;
	char			 err[512];
	time_t			 warned = 0, now;
	long			 n = 0;
	int			 rounds;

	pthread_mutex_lock(&h->purge_lock);
	while (!h->purge_stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += HUB_PURGE_INTERVAL;
		pthread_cond_timedwait(&h->purge_cv, &h->purge_lock, &until);
		if (h->purge_stop)
			break;
		pthread_mutex_unlock(&h->purge_lock);
		if (dir == NULL)
			dir = directory_open(h->cf, err, sizeof(err));
		for (rounds = 0; dir != NULL && rounds < HUB_PURGE_ROUNDS &&
		    (n = directory_purge_seen(dir)) >= 0; rounds++) {
			atomic_fetch_add(&h->purged, (unsigned long)n);
			if (n < DIR_PURGE_LIMIT)
				break;
		}
		if ((dir == NULL || n < 0) && (now = time(NULL)) - warned >= 60) {
			log_warnx("expired MessageIds not purged: %s",
			    dir == NULL ? err : directory_error(dir));
			warned = now;
		}
		pthread_mutex_lock(&h->purge_lock);
	}
	pthread_mutex_unlock(&h->purge_lock);
	directory_close(dir);
	return NULL;
}

/* Set up what the workers share; NULL with err. */
struct hub *
hub_new(const struct kp_config *cf, char *err, size_t errlen)
{
	struct hub		*h = xcalloc(1, sizeof(*h));
	xmlSchemaParserCtxtPtr	 pc;
	const char		*dir = hub_data_dir();
	char			*path, *wsdl, url[600];

	h->cf = cf;
	envelope_limits_default(&h->limits);
	h->limits.max_size = (size_t)cf->max_message_size;
	h->limits.max_depth = cf->max_depth;
	h->limits.max_attributes = cf->max_attributes;
	if (wsse_global_init(err, errlen) == -1)
		goto fail;
	xasprintf(&path, "%s/xsd/institution.xsd", dir);
	pc = xmlSchemaNewParserCtxt(path);
	h->schema = xmlSchemaParse(pc);
	xmlSchemaFreeParserCtxt(pc);
	if (h->schema == NULL) {
		snprintf(err, errlen, "cannot load the wire contract schema %s",
		    path);
		free(path);
		goto fail;
	}
	free(path);
	if ((wsdl = hub_read_file(dir, "wsdl/kruispunt.wsdl", err, errlen)) ==
	    NULL || (h->xsd_hub = hub_read_file(dir, "xsd/kruispunt.xsd", err,
	    errlen)) == NULL || (h->xsd_institution = hub_read_file(dir,
	    "xsd/institution.xsd", err, errlen)) == NULL) {
		free(wsdl);
		goto fail;
	}
	if (cf->hub_public_url != NULL)
		snprintf(url, sizeof(url), "%s", cf->hub_public_url);
	else
		snprintf(url, sizeof(url), "%s://%s:%d/kruispunt",
		    cf->tls_enabled ? "https" : "http", cf->hub_listen,
		    cf->hub_port);
	h->wsdl = hub_wsdl(wsdl, url);
	free(wsdl);
	h->replay = replay_memory_new(1 << 20);
	if ((h->audit = audit_open(cf, cf->hub_node, err, errlen)) == NULL)
		goto fail;
	if ((h->notify = notify_start(cf, h->audit, h->replay, err, errlen)) ==
	    NULL)
		goto fail;
	pthread_mutex_init(&h->purge_lock, NULL);
	pthread_cond_init(&h->purge_cv, NULL);
	if (pthread_create(&h->purge_thread, NULL, hub_purge_main, h) != 0) {
		snprintf(err, errlen, "cannot start the MessageId purge thread");
		goto fail;
	}
	h->purge_started = 1;
	return h;
fail:
	hub_free(h);
	return NULL;
}

/* Free what hub_new made (after the server stopped). */
void
hub_free(struct hub *h)
{
	if (h == NULL)
		return;
	if (h->purge_started) {
		pthread_mutex_lock(&h->purge_lock);
		h->purge_stop = 1;
		pthread_cond_signal(&h->purge_cv);
		pthread_mutex_unlock(&h->purge_lock);
		pthread_join(h->purge_thread, NULL);
	}
	notify_stop(h->notify);
	audit_close(h->audit);
	if (h->replay != NULL)
		replay_free(h->replay);
	if (h->schema != NULL)
		xmlSchemaFree(h->schema);
	free(h->wsdl);
	free(h->xsd_hub);
	free(h->xsd_institution);
	free(h);
}

/* Ask every worker to reload its trust anchors and CRL, and to forget the
 * directory tables it keeps (SIGHUP). */
void
hub_reload(struct hub *h)
{
	atomic_fetch_add(&h->reload, 1);
	dircache_flush_all();
}

/* ------------------------------------------------------------------ */
/* Workers                                                             */
/* ------------------------------------------------------------------ */

static struct wsse_ctx *
hub_wsse(struct hub_worker *w, char *err, size_t errlen)
{
	const struct kp_config	*cf = w->hub->cf;
	struct wsse_options	 o;

	wsse_options_default(&o);
	o.ca_file = cf->trust_ca_file;
	o.crl_file = cf->trust_crl_file;
	o.clock_skew_ms = cf->clock_skew;
	o.max_age_ms = cf->max_message_age;
	o.lookup = certlookup_fn;
	o.lookup_arg = &w->lookup;
	o.replay = w->hub->replay;
	o.key_file = cf->signing_key;
	o.cert_file = cf->signing_certificate;
	o.ttl_ms = cf->max_message_age;
	return wsse_ctx_new(&o, err, errlen);
}

static void
hub_worker_free(void *state)
{
	struct hub_worker	*w = state;
	int			 i;

	if (w == NULL)
		return;
	directory_close(w->dir);
	if (w->wsse != NULL)
		wsse_ctx_free(w->wsse);
	for (i = 0; i < HUB_PARALLEL; i++)
		forward_free(w->fwd[i]);
	if (w->vctx != NULL)
		xmlSchemaFreeValidCtxt(w->vctx);
	free(w);
}

static void *
hub_worker_new(void *arg)
{
	struct hub		*h = arg;
	struct hub_worker	*w = xcalloc(1, sizeof(*w));
	struct forward_options	 fo;
	char			 err[512];
	int			 i;

	w->hub = h;
	if ((w->dir = directory_open(h->cf, err, sizeof(err))) == NULL ||
	    (w->lookup.dir = w->dir) == NULL ||
	    (w->wsse = hub_wsse(w, err, sizeof(err))) == NULL) {
		log_warnx("worker: %s", err);
		hub_worker_free(w);
		return NULL;
	}
	fo.connect_timeout_ms = h->cf->connect_timeout;
	fo.timeout_ms = h->cf->target_timeout;
	fo.max_response = h->cf->max_message_size;
	fo.ca_file = h->cf->trust_ca_file;
	for (i = 0; i < HUB_PARALLEL; i++)
		w->fwd[i] = forward_new(&fo);
	w->vctx = xmlSchemaNewValidCtxt(h->schema);
	xmlSchemaSetValidErrors(w->vctx, hub_schema_error, hub_schema_error, w);
	w->reload_seen = atomic_load(&h->reload);
	return w;
}

/* ------------------------------------------------------------------ */
/* Steps                                                               */
/* ------------------------------------------------------------------ */

static int
refuse(struct exchange *x, enum kp_error code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* End the exchange with a refusal; always returns -1. */
static int
refuse(struct exchange *x, enum kp_error code, const char *fmt, ...)
{
	va_list	ap;

	x->code = code;
	va_start(ap, fmt);
	vsnprintf(x->reason, sizeof(x->reason), fmt, ap);
	va_end(ap);
	return -1;
}

static int
step_verify(struct exchange *x)
{
	struct hub_worker	*w = x->w;
	struct wsse_result	 res;
	enum kp_error		 e;

	certlookup_reset(&w->lookup);
	memset(&res, 0, sizeof(res));
	e = wsse_verify(w->wsse, x->env, &res);
	if (res.fingerprint[0] != '\0')
		snprintf(x->rec.sender_cert, sizeof(x->rec.sender_cert), "%s",
		    res.fingerprint);
	if (e != KP_OK) {
		refuse(x, w->lookup.failed ? KP_INTERNAL : e, "%s",
		    w->lookup.failed ? "the directory could not be read" :
		    res.reason);
		wsse_result_clear(&res);
		return -1;
	}
	wsse_result_clear(&res);
	if (!w->lookup.found)
		return refuse(x, KP_UNKNOWN_SENDER, "the signing certificate is "
		    "not registered");
	if (w->lookup.revoked)
		return refuse(x, KP_UNKNOWN_SENDER, "the signing certificate is "
		    "revoked in the directory");
	if (!w->lookup.inst.active)
		return refuse(x, KP_UNKNOWN_SENDER, "institution %s is not "
		    "active", w->lookup.inst.id);
	x->sender = w->lookup.inst;
	snprintf(x->rec.sender, sizeof(x->rec.sender), "%s", x->sender.id);
	return 0;
}

/* Which operation, and is its Body what the schema says? */
static int
step_operation(struct exchange *x)
{
	static const char *const ops[][2] = {
		{ "ConsultRequest", "Consult" },
		{ "ManageAccessRequest", "ManageAccess" },
		{ "PublishMutationRequest", "PublishMutation" },
	};
	struct hub_worker	*w = x->w;
	size_t			 i;

	x->req = x->env->payload;
	for (i = 0; x->req != NULL && i < sizeof(ops) / sizeof(ops[0]); i++)
		if (envelope_is(x->req, KP_NS, ops[i][0]))
			x->op = ops[i][1];
	if (x->op == NULL)
		return refuse(x, KP_INVALID_MESSAGE, "the Body holds no request "
		    "of wire contract v1 (ConsultRequest, ManageAccessRequest, "
		    "PublishMutationRequest)");
	x->rec.operation = x->op;
	w->schema_error[0] = '\0';
	if (xmlSchemaValidateOneElement(w->vctx, x->req) != 0)
		return refuse(x, KP_INVALID_MESSAGE, "%s does not conform to "
		    "the schema: %s", x->op, w->schema_error[0] ?
		    w->schema_error : "invalid");
	return 0;
}

/* Until when a MessageId stays claimed. */
static void
claim_expiry(struct exchange *x, char expires[27])
{
	audit_time_format(x->rec.received_us +
	    (int64_t)x->w->hub->cf->max_message_age * 1000 * 2, expires);
}

/* The outcome of a MessageId claim (directory_message_seen's rc). */
static int
claim_checked(struct exchange *x, int rc)
{
	if (rc == -1)
		return refuse(x, KP_INTERNAL, "the replay store could not be "
		    "written: %s", directory_error(x->w->dir));
	if (rc == 0)
		return refuse(x, KP_REPLAY, "MessageId %s was already used by "
		    "%s", x->rec.message_id, x->sender.id);
	return 0;
}

/*
 * The fields every request has; SSIN and MessageId checks. The MessageId
 * is claimed (message_seen, shared by every hub node: a message replayed
 * to another node is refused there too) before anything is forwarded; for
 * a Consult the claim travels with the directory read (hub_consult), one
 * round trip to the database instead of two.
 */
static int
step_fields(struct exchange *x)
{
	struct audit_record	*r = &x->rec;
	xmlNodePtr		 period;
	char			 expires[27];
	enum ssin_status	 st;
	int			 rc;

	soapmsg_text(x->req, KP_NS, "MessageId", r->message_id,
	    sizeof(r->message_id));
	soapmsg_text(x->req, KP_NS, "Ssin", r->ssin, sizeof(r->ssin));
	soapmsg_text(x->req, KP_NS, "Quality", r->quality, sizeof(r->quality));
	if (soapmsg_text(x->req, KP_NS, "Service", r->service,
	    sizeof(r->service)) == NULL)
		soapmsg_text(x->req, KP_NS, "MutationType", r->service,
		    sizeof(r->service));
	if ((period = soapmsg_child(x->req, KP_NS, "Period")) != NULL) {
		soapmsg_text(period, KP_NS, "Begin", r->period_begin,
		    sizeof(r->period_begin));
		soapmsg_text(period, KP_NS, "End", r->period_end,
		    sizeof(r->period_end));
	}
	soapmsg_payload_digest(soapmsg_child(x->req, KP_NS, "Payload"),
	    r->request_digest);
	if ((st = ssin_parse(r->ssin, NULL)) != SSIN_OK)
		return refuse(x, KP_INVALID_SSIN, "SSIN %s: %s", r->ssin,
		    ssin_strerror(st));
	if (strcmp(x->op, "Consult") == 0)
		return 0;	/* claimed with the directory read: hub_consult */
	claim_expiry(x, expires);
	rc = directory_message_seen(x->w->dir, x->sender.id, r->message_id,
	    expires, r->ticket);
	return claim_checked(x, rc);
}

/* ------------------------------------------------------------------ */
/* Consult                                                             */
/* ------------------------------------------------------------------ */

struct call {
	struct hub_worker	*w;
	struct forward		*fwd;
	const char		*endpoint;
	char			*body;
	size_t			 len;
	struct forward_reply	 reply;
	int			 rc;
	char			 err[256];
	pthread_t		 thread;
	int			 threaded;
};

static void *
call_run(void *arg)
{
	struct call	*c = arg;

	c->rc = forward_call(c->fwd, c->endpoint, INSTITUTION_ACTION
	    "ProvideData", 11, c->body, c->len, &c->reply, c->err,
	    sizeof(c->err));
	return NULL;
}

/* The signed ProvideData for one target. */
static int
consult_request(struct exchange *x, const struct consult_decision *d,
    const struct dir_file *target, char **out, size_t *len)
{
	struct audit_record	*r = &x->rec;
	xmlDocPtr		 doc;
	xmlNodePtr		 body, req, period, payload, p;
	char			 reason[256];
	int			 rc;

	(void)target;
	doc = soapmsg_new(11, &body);
	req = soapmsg_add(body, KI_NS, "ProvideDataRequest", NULL);
	soapmsg_add(req, KI_NS, "Ticket", r->ticket);
	soapmsg_add(req, KI_NS, "Requester", x->sender.id);
	soapmsg_add(req, KI_NS, "RequesterQuality", r->quality);
	soapmsg_add(req, KI_NS, "Service", r->service);
	soapmsg_add(req, KI_NS, "Ssin", r->ssin);
	period = soapmsg_add(req, KI_NS, "Period", NULL);
	soapmsg_add_kp(period, "Begin", r->period_begin);
	if (r->period_end[0] != '\0')
		soapmsg_add_kp(period, "End", r->period_end);
	soapmsg_add(req, KI_NS, "Authorization", d->authorization->legal_basis);
	if ((p = soapmsg_child(x->req, KP_NS, "Payload")) != NULL) {
		payload = soapmsg_add(req, KI_NS, "Payload", NULL);
		soapmsg_copy_children(payload, p);
	}
	rc = wsse_sign(x->w->wsse, doc, reason, sizeof(reason)) == KP_OK &&
	    soapmsg_serialize(doc, out, len) == 0 ? 0 : -1;
	if (rc == -1)
		log_warnx("ticket=%s signing the ProvideData failed: %s",
		    r->ticket, reason);
	xmlFreeDoc(doc);
	return rc;
}

/*
 * Check one target's answer: parsed, signed by that institution, a
 * ProvideDataResponse. Returns the status text (OK, NO_DATA, UNAVAILABLE);
 * *env keeps the parsed answer for its payload.
 */
static const char *
consult_answer(struct exchange *x, const struct dir_file *target,
    struct call *c, struct envelope **env, xmlNodePtr *resp, char *why,
    size_t whylen)
{
	struct hub_worker	*w = x->w;
	struct wsse_result	 res;
	char			 reason[256], code[64], ticket[64], text[256];
	char			 status[32];

	*env = NULL;
	*resp = NULL;
	if (c->rc == -1) {
		snprintf(why, whylen, "%s", c->err);
		return "UNAVAILABLE";
	}
	if (envelope_parse(c->reply.body, c->reply.len, &w->hub->limits, env,
	    reason, sizeof(reason)) != KP_OK) {
		snprintf(why, whylen, "answer not a SOAP message: %s", reason);
		return "UNAVAILABLE";
	}
	if (soapmsg_read_fault((*env)->body, code, sizeof(code), ticket,
	    sizeof(ticket), text, sizeof(text))) {
		snprintf(why, whylen, "fault %.60s %.200s", code, text);
		return "UNAVAILABLE";
	}
	memset(&res, 0, sizeof(res));
	certlookup_reset(&w->lookup);
	if (wsse_verify(w->wsse, *env, &res) != KP_OK || !w->lookup.found ||
	    w->lookup.revoked ||
	    strcmp(w->lookup.inst.id, target->institution) != 0) {
		snprintf(why, whylen, "answer not signed by %s: %s",
		    target->institution, res.error != KP_OK ? res.reason :
		    "certificate registered to another institution");
		wsse_result_clear(&res);
		return "UNAVAILABLE";
	}
	wsse_result_clear(&res);
	*resp = (*env)->payload;
	if (*resp == NULL || !envelope_is(*resp, KI_NS, "ProvideDataResponse") ||
	    soapmsg_text(*resp, KI_NS, "Status", status, sizeof(status)) ==
	    NULL || (strcmp(status, "OK") != 0 && strcmp(status, "NO_DATA") != 0)) {
		snprintf(why, whylen, "answer is not a ProvideDataResponse");
		*resp = NULL;
		return "UNAVAILABLE";
	}
	return strcmp(status, "OK") == 0 ? "OK" : "NO_DATA";
}

/*
 * Sign the requests of targets first..first+n-1 (the wsse context is this
 * worker's alone), then run the calls in parallel; -1 (nothing left to
 * free) when a request cannot be signed.
 */
static int
consult_wave(struct exchange *x, const struct consult_decision *d,
    size_t first, size_t n, struct call *calls)
{
	struct hub_worker	*w = x->w;
	size_t			 i;

	memset(calls, 0, n * sizeof(*calls));
	for (i = 0; i < n; i++) {
		const struct dir_file *t = d->targets[first + i].file;
		calls[i].w = w;
		calls[i].fwd = w->fwd[i];
		calls[i].rc = -1;
		if (t->endpoint[0] == '\0') {
			snprintf(calls[i].err, sizeof(calls[i].err),
			    "no endpoint for %s", t->institution);
			continue;
		}
		calls[i].endpoint = t->endpoint;
		if (consult_request(x, d, t, &calls[i].body, &calls[i].len) == -1) {
			while (i > 0)
				free(calls[--i].body);
			return -1;
		}
	}
	for (i = 1; i < n; i++)
		if (calls[i].endpoint != NULL && pthread_create(&calls[i].thread,
		    NULL, call_run, &calls[i]) == 0)
			calls[i].threaded = 1;
	for (i = 0; i < n; i++)
		if (calls[i].endpoint != NULL && !calls[i].threaded)
			call_run(&calls[i]);
	for (i = 0; i < n; i++)
		if (calls[i].threaded)
			pthread_join(calls[i].thread, NULL);
	return 0;
}

/*
 * Ask every target and build the ConsultResponse: HUB_PARALLEL at a time,
 * in parallel (a worker has that many outbound connections), wave after
 * wave when the directory names more; every target gets its Answer and its
 * line in the audit record.
 */
static int
consult_forward(struct exchange *x, const struct consult_decision *d)
{
	struct audit_record	*r = &x->rec;
	struct call		 calls[HUB_PARALLEL];
	struct envelope		*env;
	xmlNodePtr		 resp, body, cr, ans, p;
	const char		*st;
	char			 why[300];
	size_t			 n = d->ntargets, first, k, i;
	size_t			 ok = 0;

	x->answer = soapmsg_new(x->soap_version, &body);
	cr = soapmsg_add_kp(body, "ConsultResponse", NULL);
	soapmsg_add_kp(cr, "Ticket", r->ticket);
	p = soapmsg_add_kp(cr, "Status", "OK");
	for (first = 0; first < n; first += k) {
		k = n - first < HUB_PARALLEL ? n - first : HUB_PARALLEL;
		if (consult_wave(x, d, first, k, calls) == -1) {
			xmlFreeDoc(x->answer);
			x->answer = NULL;
			return refuse(x, KP_INTERNAL, "could not sign the request "
			    "to %s", d->targets[first].file->institution);
		}
		for (i = 0; i < k; i++) {
			const struct dir_file *t = d->targets[first + i].file;
			struct audit_target *at = audit_record_add_target(r);
			why[0] = '\0';
			st = consult_answer(x, t, &calls[i], &env, &resp, why,
			    sizeof(why));
			snprintf(at->institution, sizeof(at->institution), "%s",
			    t->institution);
			snprintf(at->status, sizeof(at->status), "%s", st);
			if (strcmp(st, "UNAVAILABLE") != 0)
				ok++;
			else
				log_info("ticket=%s target=%s unavailable: %s",
				    r->ticket, t->institution, why);
			ans = soapmsg_add_kp(cr, "Answer", NULL);
			soapmsg_add_kp(ans, "Source", t->institution);
			soapmsg_add_kp(ans, "Status", st);
			if (resp != NULL &&
			    (resp = soapmsg_child(resp, KI_NS, "Payload")) != NULL) {
				soapmsg_payload_digest(resp, at->answer_digest);
				soapmsg_copy_children(soapmsg_add_kp(ans,
				    "Payload", NULL), resp);
			}
			envelope_free(env);
			forward_reply_clear(&calls[i].reply);
			free(calls[i].body);
		}
	}
	if (ok == 0) {
		xmlFreeDoc(x->answer);
		x->answer = NULL;
		return refuse(x, KP_TARGET_UNAVAILABLE, "%s",
		    n == 1 ? "the institution holding the data did not answer" :
		    "none of the institutions holding the data answered");
	}
	snprintf(x->status, sizeof(x->status), "%s", ok == n ? "OK" :
	    "PARTIAL");
	xmlNodeSetContent(p, BAD_CAST x->status);
	return 0;
}

static int
hub_consult(struct exchange *x)
{
	struct audit_record	*r = &x->rec;
	struct consult_request	 q;
	struct consult_decision	 d;
	struct dir_consult	 c;
	xmlNodePtr		 body, cr;
	char			 expires[27];
	int64_t			 t;
	int			 rc, fresh;

	memset(&q, 0, sizeof(q));
	t = hub_now_us();
	claim_expiry(x, expires);
	if (directory_consult_claim(x->w->dir, x->sender.id, r->message_id,
	    expires, r->ticket, r->ssin, r->service, r->quality, &c,
	    &fresh) == -1)
		return refuse(x, KP_INTERNAL, "the directory or the replay store "
		    "could not be read: %s", directory_error(x->w->dir));
	if (claim_checked(x, fresh) == -1)
		return -1;
	if (period_parse(r->period_begin, r->period_end, &q.period) == -1) {
		directory_consult_free(&c);
		return refuse(x, KP_INVALID_MESSAGE, "the Period ends before it "
		    "begins");
	}
	q.requester = x->sender.id;
	q.requester_sector = x->sender.sector;
	q.service = r->service;
	q.quality = r->quality;
	q.today = day_today();
	dispatch_consult(&q, &c.facts, &d);
	if (d.authorization != NULL) {
		snprintf(r->authorization_id, sizeof(r->authorization_id), "%s",
		    d.authorization->id);
		snprintf(r->legal_basis, sizeof(r->legal_basis), "%s",
		    d.authorization->legal_basis);
	}
	x->phase_us[PH_DIRECTORY] += hub_now_us() - t;
	if (d.code != KP_OK)
		rc = refuse(x, d.code, "%s", d.reason);
	else if (d.ntargets == 0) {
		/* "only once": not in the network; not a refusal */
		snprintf(x->status, sizeof(x->status), "NOT_AVAILABLE_IN_NETWORK");
		x->answer = soapmsg_new(x->soap_version, &body);
		cr = soapmsg_add_kp(body, "ConsultResponse", NULL);
		soapmsg_add_kp(cr, "Ticket", r->ticket);
		soapmsg_add_kp(cr, "Status", x->status);
		rc = 0;
	} else {
		t = hub_now_us();
		rc = consult_forward(x, &d);
		x->phase_us[PH_FORWARD] += hub_now_us() - t;
	}
	dispatch_consult_free(&d);
	directory_consult_free(&c);
	return rc;
}

/* ------------------------------------------------------------------ */
/* ManageAccess                                                        */
/* ------------------------------------------------------------------ */

struct list_ctx {
	xmlNodePtr	 resp;
	const char	*quality;
};

static void
list_one(void *arg, const char *quality, const char *begin, const char *end)
{
	struct list_ctx	*l = arg;
	xmlNodePtr	 reg, period;

	if (l->quality[0] != '\0' && strcmp(l->quality, quality) != 0)
		return;
	reg = soapmsg_add_kp(l->resp, "Registration", NULL);
	soapmsg_add_kp(reg, "Quality", quality);
	period = soapmsg_add_kp(reg, "Period", NULL);
	soapmsg_add_kp(period, "Begin", begin);
	if (end != NULL && *end != '\0')
		soapmsg_add_kp(period, "End", end);
}

static int
hub_manage_access(struct exchange *x)
{
	struct audit_record	*r = &x->rec;
	struct access_request	 q;
	struct access_facts	 f;
	struct access_decision	 d;
	struct list_ctx		 l;
	xmlNodePtr		 body, resp, status;
	char			 action[16], sector[CODE_LEN], today[DAY_TEXT_LEN];
	struct period		 p;
	int			 rc;

	soapmsg_text(x->req, KP_NS, "Action", action, sizeof(action));
	x->answer = soapmsg_new(x->soap_version, &body);
	resp = soapmsg_add_kp(body, "ManageAccessResponse", NULL);
	soapmsg_add_kp(resp, "Ticket", r->ticket);
	status = soapmsg_add_kp(resp, "Status", "OK");
	snprintf(x->status, sizeof(x->status), "OK");
	if (strcmp(action, "LIST") == 0) {
		l.resp = resp;
		l.quality = r->quality;
		if (directory_list(x->w->dir, r->ssin, x->sender.id, list_one,
		    &l) == -1)
			return refuse(x, KP_INTERNAL, "the directory could not be "
			    "read: %s", directory_error(x->w->dir));
		snprintf(x->reason, sizeof(x->reason), "listed");
		return 0;
	}
	if (r->quality[0] == '\0' || r->period_begin[0] == '\0')
		return refuse(x, KP_INVALID_MESSAGE, "%s needs a Quality and a "
		    "Period", action);
	if (period_parse(r->period_begin, r->period_end, &p) == -1)
		return refuse(x, KP_INVALID_MESSAGE, "the Period ends before it "
		    "begins");
	if ((rc = directory_quality_sector(x->w->dir, r->quality, sector)) == -1)
		return refuse(x, KP_INTERNAL, "the directory could not be read: "
		    "%s", directory_error(x->w->dir));
	q.requester = x->sender.id;
	q.requester_sector = x->sender.sector;
	q.quality = r->quality;
	f.quality_known = rc == 1;
	f.quality_sector = sector;
	dispatch_manage_access(&q, &f, &d);
	if (d.code != KP_OK)
		return refuse(x, d.code, "%s", d.reason);
	if (strcmp(action, "REGISTER") == 0) {
		if (directory_register(x->w->dir, r->ssin, x->sender.id,
		    r->quality, r->period_begin, r->period_end) == -1)
			return refuse(x, KP_INTERNAL, "the directory could not "
			    "be written: %s", directory_error(x->w->dir));
		snprintf(x->reason, sizeof(x->reason), "registered");
		return 0;
	}
	day_format(day_today(), today);
	rc = directory_unregister(x->w->dir, r->ssin, x->sender.id, r->quality,
	    r->period_begin, r->period_end[0] ? r->period_end : today);
	if (rc == -1)
		return refuse(x, KP_INTERNAL, "the directory could not be "
		    "written: %s", directory_error(x->w->dir));
	if (rc == 0) {
		xmlNodeSetContent(status, BAD_CAST "NOT_REGISTERED");
		snprintf(x->status, sizeof(x->status), "NOT_REGISTERED");
	}
	snprintf(x->reason, sizeof(x->reason), rc ? "ended" : "no such file");
	return 0;
}

/* ------------------------------------------------------------------ */
/* PublishMutation                                                     */
/* ------------------------------------------------------------------ */

/* The Payload element, with the namespaces it uses, as text. */
static char *
publish_payload(xmlNodePtr payload)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 copy;
	char		*out = NULL;
	size_t		 len;

	if (payload == NULL)
		return NULL;
	doc = xmlNewDoc(BAD_CAST "1.0");
	copy = xmlDocCopyNode(payload, doc, 1);
	xmlDocSetRootElement(doc, copy);
	xmlReconciliateNs(doc, copy);
	if (soapmsg_serialize(doc, &out, &len) == -1)
		out = NULL;
	xmlFreeDoc(doc);
	return out;
}

static int
hub_publish(struct exchange *x)
{
	struct audit_record	 *r = &x->rec;
	struct mutation_request	  q;
	struct mutation_decision  d;
	struct dir_mutation	  m;
	struct audit_outbox	 *o;
	struct audit_target	 *t;
	xmlNodePtr		  body, resp;
	char			  effective[16], count[16], *payload;
	kp_day			  day;
	size_t			  i;

	soapmsg_text(x->req, KP_NS, "EffectiveDate", effective, sizeof(effective));
	if (day_parse(effective, &day) == -1)
		return refuse(x, KP_INVALID_MESSAGE, "EffectiveDate %s is not a "
		    "date", effective);
	if (directory_mutation(x->w->dir, r->ssin, r->service, &m) == -1)
		return refuse(x, KP_INTERNAL, "the directory could not be read: "
		    "%s", directory_error(x->w->dir));
	q.source = x->sender.id;
	q.today = day_today();
	dispatch_mutation(&q, &m.facts, &d);
	if (d.code != KP_OK) {
		refuse(x, d.code, "%s", d.reason);
		directory_mutation_free(&m);
		return -1;
	}
	payload = publish_payload(soapmsg_child(x->req, KP_NS, "Payload"));
	r->outbox = d.nrecipients ? xcalloc(d.nrecipients, sizeof(*r->outbox)) :
	    NULL;
	for (i = 0; i < d.nrecipients; i++) {
		o = &r->outbox[r->noutbox++];
		audit_ticket_new(o->delivery_id);
		snprintf(o->recipient, sizeof(o->recipient), "%s",
		    d.recipients[i].file->institution);
		snprintf(o->quality, sizeof(o->quality), "%s",
		    d.recipients[i].file->quality);
		snprintf(o->authorization_id, sizeof(o->authorization_id), "%s",
		    d.recipients[i].authorization->id);
		snprintf(o->source, sizeof(o->source), "%s", x->sender.id);
		snprintf(o->mutation_type, sizeof(o->mutation_type), "%s",
		    r->service);
		snprintf(o->ssin, sizeof(o->ssin), "%s", r->ssin);
		day_format(day, o->effective_date);
		o->payload = payload != NULL ? xstrdup(payload) : NULL;
		t = audit_record_add_target(r);
		snprintf(t->institution, sizeof(t->institution), "%s",
		    o->recipient);
		snprintf(t->status, sizeof(t->status), "QUEUED");
	}
	free(payload);
	snprintf(count, sizeof(count), "%zu", d.nrecipients);
	snprintf(x->status, sizeof(x->status), "OK");
	snprintf(x->reason, sizeof(x->reason), "%zu recipient%s queued",
	    d.nrecipients, d.nrecipients == 1 ? "" : "s");
	x->answer = soapmsg_new(x->soap_version, &body);
	resp = soapmsg_add_kp(body, "PublishMutationResponse", NULL);
	soapmsg_add_kp(resp, "Ticket", r->ticket);
	soapmsg_add_kp(resp, "RecipientsQueued", count);
	dispatch_mutation_free(&d);
	directory_mutation_free(&m);
	return 0;
}

/* ------------------------------------------------------------------ */
/* One exchange                                                        */
/* ------------------------------------------------------------------ */

static void
exchange_reply(struct exchange *x, struct server_reply *reply)
{
	char		reason[256];
	xmlDocPtr	doc = x->answer;
	int		fault = x->code != KP_OK;

	if (fault)
		doc = soapmsg_fault(x->soap_version, x->code, x->reason,
		    x->rec.ticket);
	if (wsse_sign(x->w->wsse, doc, reason, sizeof(reason)) != KP_OK)
		log_warnx("ticket=%s signing the answer failed: %s",
		    x->rec.ticket, reason);
	reply->status = fault ? 500 : 200;
	reply->content_type = soapmsg_content_type(x->soap_version);
	if (soapmsg_serialize(doc, &reply->body, &reply->len) == -1)
		server_reply_text(reply, 500, "text/plain; charset=utf-8",
		    "INTERNAL\n");
	if (doc != x->answer)
		xmlFreeDoc(doc);
}

/*
 * Audit the exchange and build the signed reply while the record is being
 * committed (the record holds the answer's digest, not its signature);
 * the reply is handed to the server, and so leaves, only once the record
 * is committed. When it could not be, the reply becomes INTERNAL (no
 * data). The time of each: *audit_us waiting for the commit after the
 * reply was built, *reply_us building it (both when it must be rebuilt).
 */
static void
exchange_audit_reply(struct exchange *x, struct server_reply *reply,
    int64_t *audit_us, int64_t *reply_us)
{
	struct audit_record	*r = &x->rec;
	struct audit_pending	*p;
	int64_t			 t = hub_now_us();
	int			 rc = -1;

	snprintf(r->decision, sizeof(r->decision), "%s", x->code != KP_OK ?
	    kp_strerror(x->code) : x->status);
	snprintf(r->reason, sizeof(r->reason), "%s", x->reason[0] ? x->reason :
	    kp_error_text(x->code));
	if (x->code == KP_OK && x->answer != NULL)
		soapmsg_digest(envelope_first_element(
		    xmlDocGetRootElement(x->answer)->children->next),
		    r->answer_digest);
	r->answered_us = audit_now_us();
	p = audit_append_begin(x->w->hub->audit, r);
	exchange_reply(x, reply);
	*reply_us = hub_now_us() - t;
	t = hub_now_us();
	if (p != NULL)
		rc = audit_append_end(p);
	*audit_us = hub_now_us() - t;
	if (rc == 0)
		return;
	log_warnx("ticket=%s the audit record could not be written: "
	    "answering INTERNAL", r->ticket);
	free(reply->body);
	reply->body = NULL;
	xmlFreeDoc(x->answer);
	x->answer = NULL;
	x->code = KP_INTERNAL;
	snprintf(x->reason, sizeof(x->reason), "the audit store is "
	    "unavailable; nothing was passed on");
	t = hub_now_us();
	exchange_reply(x, reply);
	*reply_us += hub_now_us() - t;
}

static void
hub_exchange(struct hub_worker *w, const struct server_request *req,
    struct server_reply *reply)
{
	struct exchange	 x;
	enum kp_error	 e;
	char		 why[256];
	int64_t		 t = hub_now_us();
	int		 i;

	memset(&x, 0, sizeof(x));
	x.w = w;
	x.phase_us[PH_WAIT] = req->waited_us;
	x.soap_version = 11;
	audit_record_init(&x.rec, "exchange", "unknown");
	if ((e = envelope_parse(req->body, req->len, &w->hub->limits, &x.env,
	    why, sizeof(why))) != KP_OK)
		refuse(&x, e, "%s", why);
	else {
		x.soap_version = x.env->soap_version;
		if (step_verify(&x) == 0 && step_operation(&x) == 0 &&
		    step_fields(&x) == 0) {
			if (strcmp(x.op, "Consult") == 0)
				hub_consult(&x);
			else if (strcmp(x.op, "ManageAccess") == 0)
				hub_manage_access(&x);
			else
				hub_publish(&x);
		}
	}
	if (x.code == KP_OK && x.reason[0] == '\0')
		snprintf(x.reason, sizeof(x.reason), "%s", x.status);
	x.phase_us[PH_CHECK] = hub_now_us() - t - x.phase_us[PH_DIRECTORY] -
	    x.phase_us[PH_FORWARD];
	exchange_audit_reply(&x, reply, &x.phase_us[PH_AUDIT],
	    &x.phase_us[PH_REPLY]);
	if (x.code == KP_OK && x.rec.noutbox > 0)
		notify_wake(w->hub->notify);
	for (i = 0; i < PH_COUNT; i++)
		if (x.phase_us[i] > 0)
			atomic_fetch_add(&w->hub->phase_us[i],
			    (unsigned long long)x.phase_us[i]);
	atomic_fetch_add(&w->hub->exchanges, 1);
	if (x.code != KP_OK)
		atomic_fetch_add(&w->hub->refused[x.code], 1);
	log_info("exchange ticket=%s sender=%s op=%s decision=%s latency_us=%lld",
	    x.rec.ticket, x.rec.sender[0] ? x.rec.sender : "-",
	    x.rec.operation, x.rec.decision,
	    (long long)(audit_now_us() - x.rec.received_us));
	xmlFreeDoc(x.answer);
	envelope_free(x.env);
	for (i = 0; i < x.rec.noutbox; i++)
		free(x.rec.outbox[i].payload);
	free(x.rec.outbox);
	audit_record_release(&x.rec);
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */
/* ------------------------------------------------------------------ */

static void
hub_metrics(struct hub *h, struct server_reply *reply)
{
	char		buf[8192];
	size_t		n = 0;
	uint64_t	c14n_own, c14n_libxml2, sign_own, sign_xmlsec;
	int		i;

	n += (size_t)snprintf(buf + n, sizeof(buf) - n,
	    "# HELP kruispunt_exchanges_total Exchanges answered.\n"
	    "# TYPE kruispunt_exchanges_total counter\n"
	    "kruispunt_exchanges_total %lu\n"
	    "# HELP kruispunt_refusals_total Exchanges refused, by code.\n"
	    "# TYPE kruispunt_refusals_total counter\n",
	    atomic_load(&h->exchanges));
	for (i = 1; i < KP_ERROR_COUNT && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    "kruispunt_refusals_total{code=\"%s\"} %lu\n",
		    kp_strerror((enum kp_error)i), atomic_load(&h->refused[i]));
	if (n < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    "# HELP kruispunt_exchange_phase_microseconds_total Time "
		    "the exchanges spent, by step (worker_wait: for a worker "
		    "state; check: parse, signature, schema, and the other "
		    "operations' work; directory and "
		    "forward: a Consult's; reply: signed and serialised, "
		    "while the audit record is committed; audit: the wait "
		    "for that commit after the reply was ready).\n"
		    "# TYPE kruispunt_exchange_phase_microseconds_total "
		    "counter\n");
	for (i = 0; i < PH_COUNT && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    "kruispunt_exchange_phase_microseconds_total{phase=\"%s\"} "
		    "%llu\n", hub_phase_names[i],
		    atomic_load(&h->phase_us[i]));
	wsse_c14n_counts(&c14n_own, &c14n_libxml2);
	wsse_sign_counts(&sign_own, &sign_xmlsec);
	if (n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - n,
		    "# HELP kruispunt_message_ids_purged_total Expired "
		    "MessageIds removed from message_seen by this node.\n"
		    "# TYPE kruispunt_message_ids_purged_total counter\n"
		    "kruispunt_message_ids_purged_total %lu\n"
		    "# HELP kruispunt_canonicalisations_total Canonical forms "
		    "signed or checked, by who wrote them (kruispunt's c14n, or "
		    "libxml2's for what it leaves).\n"
		    "# TYPE kruispunt_canonicalisations_total counter\n"
		    "kruispunt_canonicalisations_total{by=\"kruispunt\"} %llu\n"
		    "kruispunt_canonicalisations_total{by=\"libxml2\"} %llu\n"
		    "# HELP kruispunt_signatures_total Signatures made, by who "
		    "computed them (kruispunt, or xmlsec's transforms when the "
		    "c14n is left to libxml2).\n"
		    "# TYPE kruispunt_signatures_total counter\n"
		    "kruispunt_signatures_total{by=\"kruispunt\"} %llu\n"
		    "kruispunt_signatures_total{by=\"xmlsec\"} %llu\n",
		    atomic_load(&h->purged), (unsigned long long)c14n_own,
		    (unsigned long long)c14n_libxml2,
		    (unsigned long long)sign_own,
		    (unsigned long long)sign_xmlsec);
	server_reply_text(reply, 200, "text/plain; version=0.0.4", buf);
}

static void
hub_get(struct hub_worker *w, const struct server_request *req,
    struct server_reply *reply)
{
	struct hub	*h = w->hub;
	const char	*path = req->path;

	if (strcmp(path, "/health") == 0) {
		if (directory_ping(w->dir) == 0 && audit_healthy(h->audit))
			server_reply_text(reply, 200, "text/plain; charset=utf-8",
			    "OK\n");
		else
			server_reply_text(reply, 503, "text/plain; charset=utf-8",
			    "UNAVAILABLE: the directory or the audit store does "
			    "not answer\n");
	} else if (strstr(path, "?wsdl") != NULL || strstr(path, "?WSDL") != NULL)
		server_reply_text(reply, 200, "text/xml; charset=utf-8", h->wsdl);
	else if (strcmp(path, "/xsd/kruispunt.xsd") == 0)
		server_reply_text(reply, 200, "text/xml; charset=utf-8",
		    h->xsd_hub);
	else if (strcmp(path, "/xsd/institution.xsd") == 0)
		server_reply_text(reply, 200, "text/xml; charset=utf-8",
		    h->xsd_institution);
	else if (strcmp(path, "/metrics") == 0)
		hub_metrics(h, reply);
	else
		server_reply_text(reply, 404, "text/plain; charset=utf-8",
		    "not found\n");
}

static void
hub_handle(void *state, const struct server_request *req,
    struct server_reply *reply)
{
	struct hub_worker	*w = state;
	char			 err[256];
	int			 gen = atomic_load(&w->hub->reload);

	if (gen != w->reload_seen) {
		w->reload_seen = gen;
		if (wsse_ctx_reload_trust(w->wsse, err, sizeof(err)) == -1)
			log_warnx("reload: %s", err);
	}
	if (strcmp(req->method, "GET") == 0)
		hub_get(w, req, reply);
	else
		hub_exchange(w, req, reply);
}

/* A request refused before parsing (413): audited as INVALID_MESSAGE. */
static void
hub_refused(void *arg, const struct server_request *req, int status)
{
	struct hub		*h = arg;
	struct audit_record	 r;

	audit_record_init(&r, "exchange", "unknown");
	snprintf(r.decision, sizeof(r.decision), "INVALID_MESSAGE");
	snprintf(r.reason, sizeof(r.reason), "HTTP %d from %s: %s", status,
	    req->peer, status == 413 ? "message larger than the limit" :
	    "refused before parsing");
	r.answered_us = audit_now_us();
	if (audit_append(h->audit, &r) == -1)
		log_warnx("ticket=%s the audit record could not be written",
		    r.ticket);
	atomic_fetch_add(&h->refused[KP_INVALID_MESSAGE], 1);
	log_info("exchange ticket=%s sender=- op=unknown decision=INVALID_MESSAGE "
	    "http=%d peer=%s", r.ticket, status, req->peer);
}

/* The hub's callbacks for the server. */
void
hub_server_ops(struct hub *h, struct server_ops *ops)
{
	ops->worker_new = hub_worker_new;
	ops->worker_free = hub_worker_free;
	ops->handle = hub_handle;
	ops->refused = hub_refused;
	ops->arg = h;
}

/*
 * kruispunt - the reference institution endpoint (kruispunt-institution):
 * the model of what every institution connected to the hub implements.
 *
 * Each request's raw bytes are parsed hardened (envelope) and verified
 * (wsse: the trust anchors of [institution] ca_file; with hub_certificate,
 * the signer must be exactly that certificate, pinned by its SHA-256
 * fingerprint). Only then is the Body's element read: a ProvideDataRequest
 * into the typed struct that gSOAP generated from wsdl/institution.wsdl
 * (strict: a missing or an unexpected element is INVALID_MESSAGE), its
 * answer built as the typed struct, written by the generated serialiser and
 * put into an envelope of the request's SOAP version; a
 * ReceiveMutationRequest, the fan-out's hot path, straight from the
 * verified tree with the same strictness (its seven flat fields in the
 * schema's order, an optional Payload, nothing else), its acknowledgement
 * built as a tree. The answer is signed with [institution] key and sent
 * back. A refusal is a signed SOAP fault with a kp:Error detail and HTTP
 * 500.
 *
 * ProvideData answers from the data file ([institution] data, read at start
 * and on SIGHUP; see kruispunt-institution(8)): an Answer for the request's
 * (Service, Ssin) gives Status OK and its payload, none gives NO_DATA.
 * ReceiveMutation appends one line per new DeliveryId to [institution]
 * mutation_log, made durable (fdatasync) before the acknowledgement, and
 * acknowledges a DeliveryId seen before (in the log at start, or since)
 * without writing it again.
 *
 * There is no replay cache: a message received twice gets the same answer
 * (ProvideData reads only; ReceiveMutation is idempotent by DeliveryId), and
 * a hub that sends a delivery again with the same signed bytes must be
 * acknowledged, not refused.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "soapH.h"

#include "audit.h"
#include "certificate.h"
#include "config.h"
#include "daemon.h"
#include "envelope.h"
#include "enterprise.h"
#include "institution.h"
#include "log.h"
#include "period.h"
#include "server.h"
#include "soapmsg.h"
#include "ssin.h"
#include "wsse.h"
#include "xmalloc.h"

#define INSTITUTION_WORKERS	16
#define INSTITUTION_CONNECTIONS	64
#define DATA_MAX_SIZE		(64L * 1024 * 1024)

struct institution_data {
	struct institution_answer	*answers;	/* sorted */
	size_t				 n;
};

/* The DeliveryIds seen: an open-addressing set of strings. */
struct seen {
	char	**slots;
	size_t	  cap;
	size_t	  n;
};

struct institution {
	const struct kp_config	*cf;
	char			*data_path;	/* absolute */
	char			*mlog_path;	/* absolute, or NULL */
	pthread_rwlock_t	 data_lock;
	struct institution_data	*data;
	pthread_mutex_t		 mlog_lock;
	pthread_cond_t		 mlog_synced_cv;
	int			 mlog_fd;
	uint64_t		 mlog_written;	/* lines written ... */
	uint64_t		 mlog_synced;	/* ... and made durable */
	int			 mlog_syncing;	/* a thread is in fdatasync */
	int			 mlog_broken;	/* a sync failed: ack nothing */
	struct seen		 seen;
	struct envelope_limits	 limits;
	struct wsse_certset	*hub_set;
	char			 hub_fingerprint[65];	/* "" when not pinned */
	struct server		*server;
};

/* What a worker owns: its XML security context and gSOAP context. */
struct inst_worker {
	struct institution	*inst;
	struct wsse_ctx		*wsse;
	struct soap		*soap;
};

/* The fields of a ReceiveMutationRequest, in the schema's order. */
enum {
	M_TICKET, M_DELIVERY_ID, M_SOURCE, M_MUTATION_TYPE, M_SSIN,
	M_EFFECTIVE_DATE, M_QUALITY, M_FIELDS
};

static const char *const mutation_fields[M_FIELDS] = {
	"Ticket", "DeliveryId", "Source", "MutationType", "Ssin",
	"EffectiveDate", "Quality"
};

/* A delivery as read from the verified Body. */
struct mutation {
	char		 f[M_FIELDS][64];
	xmlNodePtr	 payload;	/* ki:Payload, or NULL */
};

/* One exchange, for the reply and the log line. */
struct exchange {
	const char	*operation;
	int		 soap_version;
	enum kp_error	 error;
	char		 reason[256];
	char		 ticket[AUDIT_TICKET_LEN];
	char		 ssin[16];
	char		 detail[160];
	const char	*outcome;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* True for a code of the wire contract: [A-Z0-9_]{1,32}. */
int
institution_is_code(const char *s)
{
	size_t	i;

	for (i = 0; s != NULL && s[i] != '\0'; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return s != NULL && i >= 1 && i <= 32;
}

/* True for a ticket: a UUID in lower-case hexadecimal. */
int
institution_is_ticket(const char *s)
{
	size_t	i;

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

/*
 * An element as standalone XML text (the namespaces it uses from its
 * ancestors declared on it); malloc'ed, or NULL.
 */
char *
institution_node_xml(xmlNodePtr n)
{
	xmlDocPtr	doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr	copy;
	xmlBufferPtr	buf = NULL;
	char		*s = NULL;

	if (doc == NULL || (copy = xmlDocCopyNode(n, doc, 1)) == NULL)
		goto cleanup;
	xmlDocSetRootElement(doc, copy);
	if ((buf = xmlBufferCreate()) == NULL)
		goto cleanup;
	if (xmlNodeDump(buf, doc, copy, 0, 0) >= 0)
		s = xstrdup((const char *)xmlBufferContent(buf));
cleanup:
	if (buf != NULL)
		xmlBufferFree(buf);
	xmlFreeDoc(doc);
	return s;
}

/* An envelope whose Body holds the element written in xml (our own
 * serialiser's output); NULL if it does not parse. */
xmlDocPtr
institution_envelope(int soap_version, const char *xml)
{
	xmlDocPtr	in, doc = NULL;
	xmlNodePtr	body, copy;

	in = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (in == NULL || xmlDocGetRootElement(in) == NULL)
		goto cleanup;
	doc = soapmsg_new(soap_version, &body);
	if ((copy = xmlDocCopyNode(xmlDocGetRootElement(in), doc, 1)) == NULL) {
		xmlFreeDoc(doc);
		doc = NULL;
		goto cleanup;
	}
	xmlAddChild(body, copy);
cleanup:
	xmlFreeDoc(in);
	return doc;
}

/* Why gSOAP could not read or write a message, as text. */
const char *
institution_soap_reason(struct soap *soap, char *buf, size_t len)
{
	const char	**s;

	switch (soap->error) {
	case SOAP_OCCURS:
		snprintf(buf, len, "a required element is missing or an element "
		    "occurs too often");
		break;
	case SOAP_TAG_MISMATCH:
	case SOAP_NO_TAG:
		snprintf(buf, len, "unexpected element <%s>", soap->tag);
		break;
	case SOAP_TYPE:
		snprintf(buf, len, "a value of the wrong type in <%s>",
		    soap->tag);
		break;
	default:
		soap_set_fault(soap);
		s = soap_faultstring(soap);
		snprintf(buf, len, "gSOAP error %d%s%s", soap->error,
		    s != NULL && *s != NULL ? ": " : "",
		    s != NULL && *s != NULL ? *s : "");
		break;
	}
	return buf;
}

/* Milliseconds on the monotonic clock. */
static double
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------ */
/* The data file                                                       */
/* ------------------------------------------------------------------ */

/* Order answers by service, then SSIN. */
static int
answer_cmp(const void *a, const void *b)
{
	const struct institution_answer	*x = a, *y = b;
	int				 c = strcmp(x->service, y->service);

	return c != 0 ? c : strcmp(x->ssin, y->ssin);
}

/* True when a text node holds only blanks. */
static int
is_blank(xmlNodePtr n)
{
	return n->type == XML_TEXT_NODE && xmlIsBlankNode(n);
}

/* Read a whole file; NULL with err. */
static char *
data_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE	*fp;
	char	*buf = NULL;
	long	 size;

	if ((fp = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0 || size > DATA_MAX_SIZE) {
		snprintf(err, errlen, "%s: cannot read (or larger than %ld "
		    "bytes)", path, DATA_MAX_SIZE);
		goto cleanup;
	}
	buf = xmalloc((size_t)size + 1);
	if (fread(buf, 1, (size_t)size, fp) != (size_t)size) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		free(buf);
		buf = NULL;
		goto cleanup;
	}
	buf[size] = '\0';
	*len = (size_t)size;
cleanup:
	fclose(fp);
	return buf;
}

/* Read one Answer element into a; 0, or -1 with err. */
static int
data_answer(const char *path, xmlNodePtr n, struct institution_answer *a,
    char *err, size_t errlen)
{
	struct ssin_info	 info;
	enum ssin_status	 st;
	xmlAttrPtr		 at;
	xmlNodePtr		 c;
	xmlChar			*service = NULL, *ssin = NULL;
	int			 rc = -1;

	memset(a, 0, sizeof(*a));
	a->line = (int)xmlGetLineNo(n);
	for (at = n->properties; at != NULL; at = at->next)
		if (at->ns != NULL || (!xmlStrEqual(at->name, BAD_CAST "service") &&
		    !xmlStrEqual(at->name, BAD_CAST "ssin"))) {
			snprintf(err, errlen, "%s:%d: Answer: unknown attribute "
			    "'%s'", path, a->line, (const char *)at->name);
			goto cleanup;
		}
	service = xmlGetNoNsProp(n, BAD_CAST "service");
	ssin = xmlGetNoNsProp(n, BAD_CAST "ssin");
	if (service == NULL || !institution_is_code((const char *)service)) {
		snprintf(err, errlen, "%s:%d: Answer: service must be a code "
		    "(A-Z, 0-9, _; at most 32)", path, a->line);
		goto cleanup;
	}
	if (ssin == NULL ||
	    (st = ssin_parse((const char *)ssin, &info)) != SSIN_OK) {
		snprintf(err, errlen, "%s:%d: Answer: ssin: %s", path, a->line,
		    ssin == NULL ? "missing" : ssin_strerror(st));
		goto cleanup;
	}
	snprintf(a->service, sizeof(a->service), "%s", (const char *)service);
	snprintf(a->ssin, sizeof(a->ssin), "%s", (const char *)ssin);
	for (c = n->children; c != NULL; c = c->next) {
		if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE ||
		    is_blank(c))
			continue;
		if (c->type != XML_ELEMENT_NODE) {
			snprintf(err, errlen, "%s:%d: Answer: text outside a "
			    "payload element", path, a->line);
			goto cleanup;
		}
		a->any = xreallocarray(a->any, (size_t)a->nany + 1,
		    sizeof(char *));
		if ((a->any[a->nany] = institution_node_xml(c)) == NULL) {
			snprintf(err, errlen, "%s:%d: cannot copy the payload",
			    path, (int)xmlGetLineNo(c));
			goto cleanup;
		}
		a->nany++;
	}
	rc = 0;
cleanup:
	xmlFree(service);
	xmlFree(ssin);
	return rc;
}

/* Free the payload of one answer. */
static void
answer_clear(struct institution_answer *a)
{
	int	i;

	for (i = 0; i < a->nany; i++)
		free(a->any[i]);
	free(a->any);
	a->any = NULL;
	a->nany = 0;
}

/* Read the Answers under root into d; 0, or -1 with err. */
static int
data_answers(const char *path, xmlNodePtr root, struct institution_data *d,
    char *err, size_t errlen)
{
	xmlNodePtr	n;
	size_t		i;

	for (n = root->children; n != NULL; n = n->next) {
		if (n->type == XML_COMMENT_NODE || n->type == XML_PI_NODE ||
		    is_blank(n))
			continue;
		if (!envelope_is(n, INSTITUTION_DATA_NS, "Answer")) {
			snprintf(err, errlen, "%s:%d: only Answer elements may "
			    "be in Data", path, (int)xmlGetLineNo(n));
			return -1;
		}
		d->answers = xreallocarray(d->answers, d->n + 1,
		    sizeof(*d->answers));
		if (data_answer(path, n, &d->answers[d->n], err, errlen) != 0) {
			answer_clear(&d->answers[d->n]);
			return -1;
		}
		d->n++;
	}
	if (d->n > 0)
		qsort(d->answers, d->n, sizeof(*d->answers), answer_cmp);
	for (i = 1; i < d->n; i++)
		if (answer_cmp(&d->answers[i - 1], &d->answers[i]) == 0) {
			struct institution_answer *a = &d->answers[i - 1],
			    *b = &d->answers[i];
			snprintf(err, errlen, "%s:%d: a second Answer for service "
			    "%s and SSIN %s (the other is at line %d)", path,
			    a->line > b->line ? a->line : b->line, a->service,
			    a->ssin, a->line > b->line ? b->line : a->line);
			return -1;
		}
	return 0;
}

/* libxml2's structured error hook: keep the first error of a parse. */
static void
data_first_error(void *arg, xmlErrorPtr e)
{
	xmlError	*first = arg;

	if (first->code == 0 && e != NULL && e->level >= XML_ERR_ERROR) {
		first->code = e->code;
		first->line = e->line;
		first->message = e->message != NULL ? xstrdup(e->message) : NULL;
	}
}

/*
 * Load a data file (format in kruispunt-institution(8)); NULL with err as
 * "FILE:LINE: problem".
 */
struct institution_data *
institution_data_load(const char *path, char *err, size_t errlen)
{
	struct institution_data	*d = xcalloc(1, sizeof(*d));
	xmlParserCtxtPtr	 ctxt = NULL;
	xmlDocPtr		 doc = NULL;
	xmlNodePtr		 root;
	xmlError		 first;
	char			*buf;
	size_t			 len = 0, l;

	if ((buf = data_read_file(path, &len, err, errlen)) == NULL)
		goto fail;
	if ((ctxt = xmlNewParserCtxt()) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	memset(&first, 0, sizeof(first));
	xmlSetStructuredErrorFunc(&first, data_first_error);	/* this thread */
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, path, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES);
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (doc == NULL || first.code != 0) {
		snprintf(err, errlen, "%s:%d: %s", path, first.line,
		    first.message != NULL ? first.message : "not XML");
		if ((l = strlen(err)) > 0 && err[l - 1] == '\n')
			err[l - 1] = '\0';
		free(first.message);
		goto fail;
	}
	root = xmlDocGetRootElement(doc);
	if (doc->intSubset != NULL) {
		snprintf(err, errlen, "%s:1: a DOCTYPE is not allowed", path);
		goto fail;
	}
	if (root == NULL || !envelope_is(root, INSTITUTION_DATA_NS, "Data")) {
		snprintf(err, errlen, "%s:%d: the root element must be Data in "
		    "namespace %s", path, root ? (int)xmlGetLineNo(root) : 1,
		    INSTITUTION_DATA_NS);
		goto fail;
	}
	if (data_answers(path, root, d, err, errlen) != 0)
		goto fail;
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	free(buf);
	return d;
fail:
	xmlFreeDoc(doc);
	if (ctxt != NULL)
		xmlFreeParserCtxt(ctxt);
	free(buf);
	institution_data_free(d);
	return NULL;
}

/* The answer for (service, ssin), or NULL. */
const struct institution_answer *
institution_data_find(const struct institution_data *d, const char *service,
    const char *ssin)
{
	struct institution_answer	key;

	if (d == NULL || d->n == 0 || service == NULL || ssin == NULL ||
	    strlen(service) >= sizeof(key.service) ||
	    strlen(ssin) >= sizeof(key.ssin))
		return NULL;
	memset(&key, 0, sizeof(key));
	snprintf(key.service, sizeof(key.service), "%s", service);
	snprintf(key.ssin, sizeof(key.ssin), "%s", ssin);
	return bsearch(&key, d->answers, d->n, sizeof(*d->answers), answer_cmp);
}

/* How many answers the data hold. */
size_t
institution_data_count(const struct institution_data *d)
{
	return d != NULL ? d->n : 0;
}

/* Free loaded data. */
void
institution_data_free(struct institution_data *d)
{
	size_t	i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++)
		answer_clear(&d->answers[i]);
	free(d->answers);
	free(d);
}

/* ------------------------------------------------------------------ */
/* The DeliveryIds seen and the mutation log                           */
/* ------------------------------------------------------------------ */

/* FNV-1a of a string. */
static uint64_t
seen_hash(const char *s)
{
	uint64_t	h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* True when id is in the set. */
static int
seen_has(const struct seen *set, const char *id)
{
	size_t	i;

	if (set->cap == 0)
		return 0;
	for (i = seen_hash(id) & (set->cap - 1); set->slots[i] != NULL;
	    i = (i + 1) & (set->cap - 1))
		if (strcmp(set->slots[i], id) == 0)
			return 1;
	return 0;
}

/* Put a copy of id (not yet in) into the set, growing it at half full. */
static void
seen_add(struct seen *set, const char *id)
{
	struct seen	bigger;
	size_t		i, j;

	if ((set->n + 1) * 2 > set->cap) {
		bigger.cap = set->cap ? set->cap * 2 : 1024;
		bigger.n = set->n;
		bigger.slots = xcalloc(bigger.cap, sizeof(char *));
		for (i = 0; i < set->cap; i++) {
			if (set->slots[i] == NULL)
				continue;
			for (j = seen_hash(set->slots[i]) & (bigger.cap - 1);
			    bigger.slots[j] != NULL; j = (j + 1) & (bigger.cap - 1))
				;
			bigger.slots[j] = set->slots[i];
		}
		free(set->slots);
		*set = bigger;
	}
	for (i = seen_hash(id) & (set->cap - 1); set->slots[i] != NULL;
	    i = (i + 1) & (set->cap - 1))
		;
	set->slots[i] = xstrdup(id);
	set->n++;
}

/* Free the set's strings. */
static void
seen_clear(struct seen *set)
{
	size_t	i;

	for (i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
	memset(set, 0, sizeof(*set));
}

/* Learn the DeliveryIds (2nd column) of an existing log; the number of
 * lines, -1 if unreadable; *partial when the last line has no newline. */
static long
mlog_learn(struct institution *inst, const char *path, int *partial)
{
	FILE	*fp;
	char	*line = NULL, *id, *end;
	size_t	 cap = 0;
	ssize_t	 n;
	long	 lines = 0;

	*partial = 0;
	if ((fp = fopen(path, "r")) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((n = getline(&line, &cap, fp)) > 0) {
		lines++;
		*partial = line[n - 1] != '\n';
		if ((id = strchr(line, '\t')) == NULL)
			continue;
		id++;
		if ((end = strchr(id, '\t')) != NULL)
			*end = '\0';
		if (institution_is_ticket(id) && !seen_has(&inst->seen, id))
			seen_add(&inst->seen, id);
	}
	free(line);
	fclose(fp);
	return lines;
}

/* Open the mutation log for appending, learning what it holds; 0 or -1. */
static int
mlog_open(struct institution *inst, char *err, size_t errlen)
{
	int	partial, fd;
	long	lines;

	if ((lines = mlog_learn(inst, inst->mlog_path, &partial)) < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", inst->mlog_path,
		    strerror(errno));
		return -1;
	}
	if ((fd = open(inst->mlog_path, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0640)) == -1) {
		snprintf(err, errlen, "%s: cannot open for appending: %s",
		    inst->mlog_path, strerror(errno));
		return -1;
	}
	/* a line cut by a crash: the next one starts on a line of its own */
	if (partial && write(fd, "\n", 1) != 1) {
		snprintf(err, errlen, "%s: cannot write: %s", inst->mlog_path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (inst->mlog_fd != -1)
		close(inst->mlog_fd);
	inst->mlog_fd = fd;
	log_debug("institution", "%s: %ld line%s, %zu delivery id%s known",
	    inst->mlog_path, lines, lines == 1 ? "" : "s", inst->seen.n,
	    inst->seen.n == 1 ? "" : "s");
	return 0;
}

/* Write all of buf; 0 or -1. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The current time as 2026-11-28T18:50:00.123Z. */
static void
utc_now(char *buf, size_t len)
{
	struct timespec	ts;
	struct tm	tm;
	char		s[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", s, (int)(ts.tv_nsec / 1000000) % 1000);
}

/*
 * Wait (mlog_lock held) until the log is durable up to line upto: one
 * thread syncs for all that wrote meanwhile (group commit), the others
 * wait for it. 0, or -1 when a sync failed (the log is then broken and
 * nothing more is acknowledged).
 */
static int
mlog_sync_upto(struct institution *inst, uint64_t upto)
{
	uint64_t	target;
	int		r;

	while (inst->mlog_synced < upto && !inst->mlog_broken) {
		if (inst->mlog_syncing) {
			pthread_cond_wait(&inst->mlog_synced_cv, &inst->mlog_lock);
			continue;
		}
		inst->mlog_syncing = 1;
		target = inst->mlog_written;
		pthread_mutex_unlock(&inst->mlog_lock);
		r = fdatasync(inst->mlog_fd);
		pthread_mutex_lock(&inst->mlog_lock);
		inst->mlog_syncing = 0;
		if (r != 0) {
			log_warn("%s: cannot write", inst->mlog_path);
			inst->mlog_broken = 1;
		} else if (target > inst->mlog_synced)
			inst->mlog_synced = target;
		pthread_cond_broadcast(&inst->mlog_synced_cv);
	}
	return inst->mlog_broken ? -1 : 0;
}

/*
 * Record a delivery: 1 when its DeliveryId was seen before (nothing
 * written), 0 when written and made durable, -1 when it could not be. The
 * acknowledgement, either way, leaves only once the line is durable.
 */
static int
mlog_record(struct institution *inst, const struct mutation *m,
    const char *digest)
{
	const char	*id = m->f[M_DELIVERY_ID];
	char	*line = NULL, now[40];
	int	 rc = -1;

	pthread_mutex_lock(&inst->mlog_lock);
	if (inst->mlog_broken)
		goto cleanup;
	if (seen_has(&inst->seen, id)) {
		/* its line may still be on its way to the disk */
		if (inst->mlog_fd == -1 ||
		    mlog_sync_upto(inst, inst->mlog_written) == 0)
			rc = 1;
		goto cleanup;
	}
	if (inst->mlog_fd != -1) {
		utc_now(now, sizeof(now));
		xasprintf(&line, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", now,
		    id, m->f[M_TICKET], m->f[M_SOURCE], m->f[M_MUTATION_TYPE],
		    m->f[M_SSIN], m->f[M_EFFECTIVE_DATE], m->f[M_QUALITY], digest);
		if (write_all(inst->mlog_fd, line, strlen(line)) != 0) {
			log_warn("%s: cannot write", inst->mlog_path);
			inst->mlog_broken = 1;
			goto cleanup;
		}
		inst->mlog_written++;
	}
	seen_add(&inst->seen, id);
	if (inst->mlog_fd != -1 &&
	    mlog_sync_upto(inst, inst->mlog_written) != 0)
		goto cleanup;
	rc = 0;
cleanup:
	pthread_mutex_unlock(&inst->mlog_lock);
	free(line);
	return rc;
}

/* The payload's digest for the mutation log; "-" when there is none. */
static void
payload_digest(xmlNodePtr payload, char out[AUDIT_HASH_LEN])
{
	soapmsg_payload_digest(payload, out);
	if (out[0] == '\0')
		snprintf(out, AUDIT_HASH_LEN, "-");
}

/* ------------------------------------------------------------------ */
/* Typed reading and writing with the generated (de)serialisers         */
/* ------------------------------------------------------------------ */

/*
 * gSOAP's soap_read_X and soap_write_X macros end in a comma expression
 * that -Wunused-value flags; their code is gSOAP's, so the warning is off
 * here only. Input and output are strings (soap->is, soap->os).
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-value"

/* Read a ProvideDataRequest from standalone XML; a gSOAP status. */
static int
read_provide(struct soap *soap, const char *xml,
    struct _ki__ProvideDataRequest *r)
{
	int	rc;

	soap->is = xml;
	rc = soap_read__ki__ProvideDataRequest(soap, r);
	soap->is = NULL;
	return rc;
}

/* Write a ProvideDataResponse into *out (gSOAP-managed); a gSOAP status. */
static int
write_provide(struct soap *soap, const struct _ki__ProvideDataResponse *r,
    char **out)
{
	int	rc;

	soap->os = (const char **)out;
	rc = soap_write__ki__ProvideDataResponse(soap, r);
	soap->os = NULL;
	return rc;
}

#pragma GCC diagnostic pop

/* ------------------------------------------------------------------ */
/* The operations                                                      */
/* ------------------------------------------------------------------ */

/* Refuse the exchange: NULL, with x->error and x->reason set. */
static xmlDocPtr
refuse(struct exchange *x, enum kp_error e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static xmlDocPtr
refuse(struct exchange *x, enum kp_error e, const char *fmt, ...)
{
	va_list	ap;

	x->error = e;
	va_start(ap, fmt);
	vsnprintf(x->reason, sizeof(x->reason), fmt, ap);
	va_end(ap);
	return NULL;
}

/* The typed answer written by gSOAP, in an envelope; NULL on failure. */
static xmlDocPtr
answer_doc(struct exchange *x, struct soap *soap, int rc, const char *xml)
{
	char		why[200];
	xmlDocPtr	doc;

	if (rc != SOAP_OK || xml == NULL)
		return refuse(x, KP_INTERNAL, "cannot write the answer: %s",
		    institution_soap_reason(soap, why, sizeof(why)));
	if ((doc = institution_envelope(x->soap_version, xml)) == NULL)
		return refuse(x, KP_INTERNAL, "cannot build the answer");
	return doc;
}

/* Refuse a request the typed reader would not take. */
static xmlDocPtr
refuse_typed(struct exchange *x, struct soap *soap)
{
	char	why[200];

	return refuse(x, KP_INVALID_MESSAGE, "%s: %s", x->operation,
	    institution_soap_reason(soap, why, sizeof(why)));
}

/* Check an SSIN of a request. */
static int
check_ssin(struct exchange *x, const char *ssin)
{
	struct ssin_info	info;
	enum ssin_status	st;

	snprintf(x->ssin, sizeof(x->ssin), "%s", ssin != NULL ? ssin : "-");
	if (ssin == NULL || (st = ssin_parse(ssin, &info)) != SSIN_OK) {
		refuse(x, KP_INVALID_SSIN, "Ssin: %s",
		    ssin == NULL ? "missing" : ssin_strerror(st));
		return -1;
	}
	return 0;
}

/* ProvideData: the data file's answer for (Service, Ssin). */
static xmlDocPtr
provide_data(struct inst_worker *w, const char *xml, struct exchange *x)
{
	struct institution		*inst = w->inst;
	struct _ki__ProvideDataRequest	 req;
	struct _ki__ProvideDataResponse	 resp;
	struct kp__Payload		 payload;
	const struct institution_answer	*a;
	char				*out = NULL;
	int				 rc;

	x->operation = "ProvideData";
	if (read_provide(w->soap, xml, &req) != SOAP_OK)
		return refuse_typed(x, w->soap);
	snprintf(x->detail, sizeof(x->detail), "service=%s requester=%s",
	    req.Service, req.Requester);
	if (check_ssin(x, req.Ssin) != 0)
		return NULL;
	soap_default__ki__ProvideDataResponse(w->soap, &resp);
	pthread_rwlock_rdlock(&inst->data_lock);
	a = institution_data_find(inst->data, req.Service, req.Ssin);
	resp.Status = a != NULL ? ki__ProvideStatus__OK :
	    ki__ProvideStatus__NO_USCOREDATA;
	if (a != NULL && a->nany > 0) {
		payload.__size = a->nany;
		payload.__any = a->any;
		resp.Payload = &payload;
	}
	rc = write_provide(w->soap, &resp, &out);
	pthread_rwlock_unlock(&inst->data_lock);
	x->outcome = a != NULL ? "OK" : "NO_DATA";
	return answer_doc(x, w->soap, rc, out);
}

/* True when a node is text made only of XML white space. */
static int
is_blank_text(xmlNodePtr n)
{
	const xmlChar	*p;

	if (n->type != XML_TEXT_NODE)
		return 0;
	for (p = n->content; p != NULL && *p != '\0'; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			return 0;
	return 1;
}

/* An element's text into buf (no child elements, at most len - 1
 * bytes); 0, or -1. */
static int
simple_text(xmlNodePtr e, char *buf, size_t len)
{
	xmlNodePtr	c;
	size_t		n = 0, k;

	for (c = e->children; c != NULL; c = c->next) {
		if (c->type == XML_COMMENT_NODE)
			continue;
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
			return -1;
		k = c->content != NULL ? strlen((const char *)c->content) : 0;
		if (n + k >= len)
			return -1;
		memcpy(buf + n, c->content, k);
		n += k;
	}
	buf[n] = '\0';
	return 0;
}

/*
 * Read a ReceiveMutationRequest from the verified tree, as strictly as
 * the schema (xsd/institution.xsd) says: its seven fields in order, each
 * once and text only, then an optional Payload, nothing else. 0, or -1
 * with the refusal in x.
 */
static int
read_mutation(struct exchange *x, xmlNodePtr req, struct mutation *m)
{
	xmlNodePtr	 c;
	const char	*name;
	int		 next = 0, i;

	memset(m, 0, sizeof(*m));
	for (c = req->children; c != NULL; c = c->next) {
		if (c->type == XML_COMMENT_NODE || is_blank_text(c))
			continue;
		if (c->type != XML_ELEMENT_NODE) {
			refuse(x, KP_INVALID_MESSAGE, "%s: text or other content "
			    "between the elements", x->operation);
			return -1;
		}
		name = (const char *)c->name;
		if (next < M_FIELDS && envelope_is(c, KI_NS,
		    mutation_fields[next])) {
			if (simple_text(c, m->f[next], sizeof(m->f[next])) != 0) {
				refuse(x, KP_INVALID_MESSAGE, "%s: <%s> is not a "
				    "short text", x->operation, name);
				return -1;
			}
			next++;
			continue;
		}
		if (next == M_FIELDS && envelope_is(c, KI_NS, "Payload")) {
			m->payload = c;
			next++;
			continue;
		}
		for (i = 0; i < next && i < M_FIELDS; i++)
			if (envelope_is(c, KI_NS, mutation_fields[i]))
				break;
		if (i < next && i < M_FIELDS)
			refuse(x, KP_INVALID_MESSAGE, "%s: <%s> occurs more "
			    "than once", x->operation, name);
		else if (next < M_FIELDS)
			refuse(x, KP_INVALID_MESSAGE, "%s: unexpected element "
			    "<%s> where <%s> is required", x->operation, name,
			    mutation_fields[next]);
		else
			refuse(x, KP_INVALID_MESSAGE, "%s: unexpected element "
			    "<%s>", x->operation, name);
		return -1;
	}
	if (next < M_FIELDS) {
		refuse(x, KP_INVALID_MESSAGE, "%s: a required element is "
		    "missing: <%s>", x->operation, mutation_fields[next]);
		return -1;
	}
	return 0;
}

/* Check the fields of a delivery (they go into the mutation log). */
static int
check_delivery(struct exchange *x, const struct mutation *m)
{
	kp_day	day;

	if (!institution_is_ticket(m->f[M_DELIVERY_ID]) ||
	    !institution_is_ticket(m->f[M_TICKET])) {
		refuse(x, KP_INVALID_MESSAGE, "Ticket and DeliveryId must be "
		    "UUIDs in lower-case hexadecimal");
		return -1;
	}
	if (!enterprise_number_valid(m->f[M_SOURCE])) {
		refuse(x, KP_INVALID_MESSAGE, "Source is not a valid "
		    "enterprise number");
		return -1;
	}
	if (!institution_is_code(m->f[M_MUTATION_TYPE]) ||
	    !institution_is_code(m->f[M_QUALITY])) {
		refuse(x, KP_INVALID_MESSAGE, "MutationType and Quality must "
		    "be codes");
		return -1;
	}
	if (day_parse(m->f[M_EFFECTIVE_DATE], &day) != 0) {
		refuse(x, KP_INVALID_MESSAGE, "EffectiveDate is not a date "
		    "(YYYY-MM-DD)");
		return -1;
	}
	return check_ssin(x, m->f[M_SSIN]);
}

/*
 * ReceiveMutation: log a new delivery once, acknowledge every one. The
 * request is read from the verified tree and the acknowledgement built as
 * one (no second parse through gSOAP's reader: this is the hot path of
 * the fan-out, and the fields are few and flat).
 */
static xmlDocPtr
receive_mutation(struct inst_worker *w, xmlNodePtr elem, struct exchange *x)
{
	struct mutation	 m;
	char		 digest[AUDIT_HASH_LEN];
	xmlDocPtr	 doc;
	xmlNodePtr	 body, resp;

	x->operation = "ReceiveMutation";
	if (read_mutation(x, elem, &m) != 0)
		return NULL;
	snprintf(x->detail, sizeof(x->detail), "delivery=%.40s type=%.40s "
	    "source=%.40s", m.f[M_DELIVERY_ID], m.f[M_MUTATION_TYPE],
	    m.f[M_SOURCE]);
	if (check_delivery(x, &m) != 0)
		return NULL;
	payload_digest(m.payload, digest);
	switch (mlog_record(w->inst, &m, digest)) {
	case 0:
		x->outcome = "ACK";
		break;
	case 1:
		x->outcome = "DUPLICATE";
		break;
	default:
		return refuse(x, KP_INTERNAL, "the mutation log cannot be "
		    "written; send the delivery again later");
	}
	doc = soapmsg_new(x->soap_version, &body);
	resp = soapmsg_add(body, KI_NS, "ReceiveMutationResponse", NULL);
	soapmsg_add(resp, KI_NS, "Ack", m.f[M_DELIVERY_ID]);
	return doc;
}

/* The request's operation and ki:Ticket (not yet verified: only to name
 * the exchange in the log and correlate a fault), or a new ticket. */
static void
request_ticket(const struct envelope *env, struct exchange *x)
{
	char	buf[64];

	if (envelope_is(env->payload, KI_NS, "ProvideDataRequest"))
		x->operation = "ProvideData";
	else if (envelope_is(env->payload, KI_NS, "ReceiveMutationRequest"))
		x->operation = "ReceiveMutation";

	if (env->payload != NULL &&
	    soapmsg_text(env->payload, KI_NS, "Ticket", buf, sizeof(buf)) &&
	    institution_is_ticket(buf))
		snprintf(x->ticket, sizeof(x->ticket), "%s", buf);
	else
		audit_ticket_new(x->ticket);
}

/* Parse, verify and answer one POST; the answer, or NULL with x->error. */
static xmlDocPtr
exchange(struct inst_worker *w, const struct server_request *req,
    struct exchange *x)
{
	struct institution	*inst = w->inst;
	struct envelope		*env = NULL;
	struct wsse_result	 res;
	xmlDocPtr		 answer = NULL;
	char			*xml = NULL;

	memset(&res, 0, sizeof(res));
	x->error = envelope_parse(req->body, req->len, &inst->limits, &env,
	    x->reason, sizeof(x->reason));
	if (x->error != KP_OK) {
		audit_ticket_new(x->ticket);
		goto cleanup;
	}
	x->soap_version = env->soap_version;
	request_ticket(env, x);
	if (wsse_verify(w->wsse, env, &res) != KP_OK) {
		refuse(x, res.error, "%s", res.reason);
		goto cleanup;
	}
	if (inst->hub_fingerprint[0] != '\0' &&
	    strcmp(res.fingerprint, inst->hub_fingerprint) != 0) {
		refuse(x, KP_UNKNOWN_SENDER, "the signer is not the hub");
		goto cleanup;
	}
	if (env->payload == NULL) {
		refuse(x, KP_INVALID_MESSAGE, "the Body is empty");
		goto cleanup;
	}
	if (envelope_is(env->payload, KI_NS, "ReceiveMutationRequest"))
		answer = receive_mutation(w, env->payload, x);
	else if (envelope_is(env->payload, KI_NS, "ProvideDataRequest")) {
		if ((xml = institution_node_xml(env->payload)) == NULL) {
			refuse(x, KP_INTERNAL, "cannot copy the Body");
			goto cleanup;
		}
		answer = provide_data(w, xml, x);
	} else
		refuse(x, KP_INVALID_MESSAGE, "unknown operation <%s>",
		    (const char *)env->payload->name);
cleanup:
	if (xml != NULL) {	/* gSOAP read and wrote it (ProvideData) */
		soap_destroy(w->soap);
		soap_end(w->soap);
	}
	free(xml);
	wsse_result_clear(&res);
	envelope_free(env);
	return answer;
}

/* Sign an answer and put it in the reply; 0, or -1. */
static int
reply_signed(struct inst_worker *w, xmlDocPtr doc, int status,
    int soap_version, struct server_reply *reply)
{
	char	reason[256], *out = NULL;
	size_t	len;

	if (wsse_sign(w->wsse, doc, reason, sizeof(reason)) != KP_OK) {
		log_warnx("cannot sign the answer: %s", reason);
		return -1;
	}
	if (soapmsg_serialize(doc, &out, &len) != 0)
		return -1;
	free(reply->body);
	reply->status = status;
	reply->content_type = soapmsg_content_type(soap_version);
	reply->body = out;
	reply->len = len;
	return 0;
}

/* GET: /health answers, nothing else does. */
static void
handle_get(const struct server_request *req, struct server_reply *reply)
{
	if (req->path != NULL && strcmp(req->path, "/health") == 0)
		server_reply_text(reply, 200, NULL, "OK\n");
	else
		server_reply_text(reply, 404, NULL, "not found\n");
}

/* The server's handler: one request, one signed answer, one log line. */
static void
handle(void *state, const struct server_request *req,
    struct server_reply *reply)
{
	struct inst_worker	*w = state;
	struct exchange		 x;
	xmlDocPtr		 doc;
	double			 t0 = mono_ms();
	size_t			 len;

	if (strcmp(req->method, "POST") != 0) {
		handle_get(req, reply);
		return;
	}
	memset(&x, 0, sizeof(x));
	x.operation = "-";
	x.soap_version = 11;
	snprintf(x.ssin, sizeof(x.ssin), "-");
	if ((doc = exchange(w, req, &x)) == NULL) {
		len = strlen(x.reason);
		while (len > 0 && (x.reason[len - 1] == '\n' ||
		    x.reason[len - 1] == ' '))
			x.reason[--len] = '\0';
		doc = soapmsg_fault(x.soap_version, x.error, x.reason, x.ticket);
	}
	if (reply_signed(w, doc, x.error == KP_OK ? 200 : 500, x.soap_version,
	    reply) != 0)
		server_reply_text(reply, 500, NULL, "cannot sign the answer\n");
	xmlFreeDoc(doc);
	if (x.error != KP_OK)
		x.outcome = kp_strerror(x.error);
	log_info("%s ticket=%s ssin=%s%s%s outcome=%s%s%s peer=%s ms=%.1f",
	    x.operation, x.ticket, x.ssin, x.detail[0] ? " " : "", x.detail,
	    x.outcome, x.error != KP_OK ? " reason=" : "",
	    x.error != KP_OK ? x.reason : "", req->peer, mono_ms() - t0);
}

/* The server's hook for a request refused before the handler. */
static void
refused(void *arg, const struct server_request *req, int status)
{
	(void)arg;
	log_info("- refused peer=%s status=%d", req->peer, status);
}

/* ------------------------------------------------------------------ */
/* Workers                                                             */
/* ------------------------------------------------------------------ */

/* A worker state: a wsse context (verify and sign) and a gSOAP context. */
static void *
worker_new(void *arg)
{
	struct institution	*inst = arg;
	const struct kp_config	*cf = inst->cf;
	struct inst_worker	*w = xcalloc(1, sizeof(*w));
	struct wsse_options	 o;
	char			 err[256];

	w->inst = inst;
	wsse_options_default(&o);
	o.ca_file = cf->inst_ca_file;
	o.clock_skew_ms = cf->clock_skew;
	o.max_age_ms = cf->max_message_age;
	o.lookup = inst->hub_set != NULL ? wsse_certset_lookup : NULL;
	o.lookup_arg = inst->hub_set;
	o.key_file = cf->inst_key;
	o.cert_file = cf->inst_certificate;
	if ((w->wsse = wsse_ctx_new(&o, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		free(w);
		return NULL;
	}
	w->soap = soap_new2(SOAP_XML_STRICT, SOAP_XML_CANONICAL | SOAP_IO_BUFFER);
	return w;
}

/* Free a worker state. */
static void
worker_free(void *state)
{
	struct inst_worker	*w = state;

	if (w == NULL)
		return;
	if (w->soap != NULL) {
		soap_destroy(w->soap);
		soap_end(w->soap);
		soap_free(w->soap);
	}
	wsse_ctx_free(w->wsse);
	free(w);
}

/* ------------------------------------------------------------------ */
/* Start, reload, run, stop                                            */
/* ------------------------------------------------------------------ */

/* The SHA-256 fingerprint (hex) of the first certificate of a PEM file. */
int
institution_cert_fingerprint(const char *path, char out[65], char *err, size_t errlen)
{
	FILE		*fp;
	X509		*x = NULL;

	if ((fp = fopen(path, "r")) != NULL) {
		x = PEM_read_X509(fp, NULL, NULL, NULL);
		fclose(fp);
	}
	if (x == NULL || certificate_fingerprint(x, out) == -1) {
		snprintf(err, errlen, "%s: cannot read a PEM certificate", path);
		X509_free(x);
		return -1;
	}
	X509_free(x);
	return 0;
}

/* An absolute path (the daemon leaves its directory); malloc'ed. */
static char *
absolute(const char *path)
{
	char	cwd[PATH_MAX], *s;

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(path);
	xasprintf(&s, "%s/%s", cwd, path);
	return s;
}

/* Pin the hub's certificate, when [institution] hub_certificate names one. */
static int
pin_hub(struct institution *inst, char *err, size_t errlen)
{
	const char	*path = inst->cf->inst_hub_certificate;

	if (path == NULL || *path == '\0') {
		log_warnx("no hub_certificate: any certificate issued by %s is "
		    "taken for the hub", inst->cf->inst_ca_file);
		return 0;
	}
	if (institution_cert_fingerprint(path, inst->hub_fingerprint, err, errlen) != 0)
		return -1;
	if ((inst->hub_set = wsse_certset_new()) == NULL ||
	    wsse_certset_add_file(inst->hub_set, path, err, errlen) < 0)
		return -1;
	return 0;
}

/* Set everything up and listen; NULL with err. */
struct institution *
institution_new(const struct kp_config *cf, char *err, size_t errlen)
{
	struct institution	*inst = xcalloc(1, sizeof(*inst));
	struct server_options	 so;
	struct server_ops	 ops = { worker_new, worker_free, handle,
	    refused, NULL };

	inst->cf = cf;
	inst->mlog_fd = -1;
	pthread_rwlock_init(&inst->data_lock, NULL);
	pthread_mutex_init(&inst->mlog_lock, NULL);
	pthread_cond_init(&inst->mlog_synced_cv, NULL);
	envelope_limits_default(&inst->limits);
	inst->limits.max_size = (size_t)cf->max_message_size;
	inst->limits.max_depth = cf->max_depth;
	inst->limits.max_attributes = cf->max_attributes;
	inst->data_path = absolute(cf->inst_data);
	if ((inst->data = institution_data_load(inst->data_path, err,
	    errlen)) == NULL)
		goto fail;
	if (cf->inst_mutation_log != NULL && *cf->inst_mutation_log != '\0') {
		inst->mlog_path = absolute(cf->inst_mutation_log);
		if (mlog_open(inst, err, errlen) != 0)
			goto fail;
	}
	if (pin_hub(inst, err, errlen) != 0)
		goto fail;
	memset(&so, 0, sizeof(so));
	so.listen = cf->inst_listen;
	so.port = cf->inst_port;
	so.workers = INSTITUTION_WORKERS;
	so.max_connections = INSTITUTION_CONNECTIONS;
	so.max_message_size = cf->max_message_size;
	so.read_timeout_ms = cf->read_timeout;
	so.send_timeout_ms = cf->send_timeout;
	ops.arg = inst;
	if ((inst->server = server_new(&so, &ops, err, errlen)) == NULL)
		goto fail;
	log_info("institution %s: %zu answer%s from %s, listening on %s port "
	    "%d", cf->inst_id, inst->data->n, inst->data->n == 1 ? "" : "s",
	    inst->data_path, cf->inst_listen, institution_port(inst));
	return inst;
fail:
	institution_free(inst);
	return NULL;
}

/* The port listened on. */
int
institution_port(const struct institution *inst)
{
	return server_port(inst->server);
}

/* SIGHUP: read the data file again (keeping the old data if it is bad)
 * and reopen the mutation log; 0, or -1 after a logged problem. */
int
institution_reload(struct institution *inst)
{
	struct institution_data	*d, *old;
	char			 err[512];
	int			 rc = 0;

	if ((d = institution_data_load(inst->data_path, err, sizeof(err))) ==
	    NULL) {
		log_warnx("%s; keeping the data read before", err);
		rc = -1;
	} else {
		pthread_rwlock_wrlock(&inst->data_lock);
		old = inst->data;
		inst->data = d;
		pthread_rwlock_unlock(&inst->data_lock);
		institution_data_free(old);
		log_info("reloaded %s: %zu answer%s", inst->data_path, d->n,
		    d->n == 1 ? "" : "s");
	}
	if (inst->mlog_path != NULL) {
		pthread_mutex_lock(&inst->mlog_lock);
		/* what was written to the old file is made durable first */
		if (inst->mlog_fd != -1)
			(void)mlog_sync_upto(inst, inst->mlog_written);
		if (mlog_open(inst, err, sizeof(err)) != 0) {
			log_warnx("%s; keeping the file open before", err);
			rc = -1;
		} else
			inst->mlog_broken = 0;	/* a fresh file: try again */
		pthread_mutex_unlock(&inst->mlog_lock);
	}
	return rc;
}

/* daemon's stop hook: finish the exchanges in flight, then return. */
static void
stop_hook(void *arg)
{
	struct institution	*inst = arg;

	server_stop(inst->server);
}

/* daemon's reload hook (SIGHUP). */
static void
reload_hook(void *arg)
{
	institution_reload(arg);
}

/* Serve until SIGTERM or SIGINT (SIGHUP reloads); 0, or -1. */
int
institution_run(struct institution *inst)
{
	int	rc;

	daemon_signals_block();
	if (daemon_signals_start(stop_hook, reload_hook, inst) != 0) {
		log_warnx("cannot start the signal thread");
		return -1;
	}
	rc = server_run(inst->server) == 0 ? 0 : -1;
	daemon_signals_stop();
	return rc;
}

/* Free everything (after institution_run returned). */
void
institution_free(struct institution *inst)
{
	if (inst == NULL)
		return;
	server_free(inst->server);
	wsse_certset_free(inst->hub_set);
	institution_data_free(inst->data);
	if (inst->mlog_fd != -1)
		close(inst->mlog_fd);
	seen_clear(&inst->seen);
	free(inst->data_path);
	free(inst->mlog_path);
	pthread_rwlock_destroy(&inst->data_lock);
	pthread_mutex_destroy(&inst->mlog_lock);
	pthread_cond_destroy(&inst->mlog_synced_cv);
	free(inst);
}

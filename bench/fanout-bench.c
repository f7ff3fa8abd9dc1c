/*
 * kruispunt bench - the two clients of the fan-out benchmark (run-fanout).
 *
 *   fanout-bench publish [options] -K KEY -C CERT --ssins FILE URL
 *   fanout-bench receive [options] -K KEY -C CERT --ssins FILE URL...
 *
 * publish  signs COUNT PublishMutation requests as an authentic source (the
 *          National Register's key) and posts them to the hub over CONNS
 *          kept-alive connections; an answer counts as good when it is
 *          HTTP 200 and carries RecipientsQueued (summed; with --expect N
 *          each must say N). This fills the outbox through the real path.
 * receive  the baseline: signs COUNT ReceiveMutation requests with the
 *          hub's key, as the hub's delivery workers build them (a new
 *          DeliveryId each, the same payload), and posts them straight to
 *          the recipients, request k to URL number k mod the URL count
 *          (with --group G: k / G mod the count, so that the connections
 *          send runs of G requests to one recipient at a time),
 *          over CONNS connection threads (each keeps one connection per
 *          URL). An answer counts as good when it is HTTP 200 and its Ack
 *          names the DeliveryId; with -V the acknowledgement's signature is
 *          also verified (against --ca), as the hub does.
 *
 * Every request is signed before the clock starts (two signing threads), so
 * the client's signing does not take CPU from the servers while measured.
 * Prints one line of key=value pairs: requests, ok, errors, seconds, rate
 * (good answers per second),
 * and for publish queued; the first few errors go to stderr.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>

#include "audit.h"
#include "envelope.h"
#include "forward.h"
#include "soapmsg.h"
#include "wsse.h"
#include "xmalloc.h"

#define FB_MAX_URLS	64
#define FB_MAX_CONNS	256
#define FB_SIGNERS	2

struct fb {
	int		 publish;	/* else receive */
	const char	*key, *cert, *ca;
	const char	*type, *effective, *source, *quality;
	char		**ssins;
	long		 nssins;
	const char	*urls[FB_MAX_URLS];
	int		 nurls;
	int		 conns;
	long		 count;
	int		 expect;
	int		 verify;
	int		 group;		/* receive: runs of this many to one URL */
	char		**bodies;	/* pre-signed */
	size_t		*lens;
	char		**ids;		/* receive: the DeliveryIds */
	long		 next;
	pthread_mutex_t	 mtx;
	long		 ok, errors, queued;
	int		 reported;
};

struct signer {
	struct fb	*b;
	int		 index;
};

static int64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: fanout-bench publish|receive [-c CONNS] [-n COUNT] -K KEY "
	    "-C CERT\n"
	    "       --ssins FILE [--type T] [--effective DATE] [--expect N] "
	    "[--source ID]\n"
	    "       [--quality Q] [--group G] [-V --ca FILE] URL...\n");
	exit(2);
}

/* The SSINs, one a line. */
static void
read_ssins(struct fb *b, const char *path)
{
	FILE	*fp;
	char	 line[64];
	long	 cap = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strlen(line) != 11)
			continue;
		if (b->nssins == cap) {
			cap = cap ? cap * 2 : 1024;
			b->ssins = xreallocarray(b->ssins, (size_t)cap,
			    sizeof(*b->ssins));
		}
		b->ssins[b->nssins++] = xstrdup(line);
	}
	fclose(fp);
}

/* The payload, as a publisher sends it and a recipient gets it. */
static void
add_payload(xmlNodePtr req, const char *ns, long n)
{
	xmlNodePtr	p, a;
	char		street[64];

	snprintf(street, sizeof(street), "Voorbeeldstraat %ld", n % 300 + 1);
	p = soapmsg_add(req, ns, "Payload", NULL);
	a = soapmsg_add(p, "urn:example:address:1", "Address", NULL);
	soapmsg_add(a, "urn:example:address:1", "Street", street);
	soapmsg_add(a, "urn:example:address:1", "PostalCode", "1000");
}

/* Request n, unsigned. */
static xmlDocPtr
request_doc(struct fb *b, long n)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 body, req;
	const char	*ssin = b->ssins[n % b->nssins];
	char		 id[AUDIT_TICKET_LEN], ticket[AUDIT_TICKET_LEN];

	doc = soapmsg_new(11, &body);
	audit_ticket_new(id);
	if (b->publish) {
		req = soapmsg_add(body, KP_NS, "PublishMutationRequest", NULL);
		soapmsg_add(req, KP_NS, "MessageId", id);
		soapmsg_add(req, KP_NS, "MutationType", b->type);
		soapmsg_add(req, KP_NS, "Ssin", ssin);
		soapmsg_add(req, KP_NS, "EffectiveDate", b->effective);
		add_payload(req, KP_NS, n);
	} else {
		audit_ticket_new(ticket);
		b->ids[n] = xstrdup(id);
		req = soapmsg_add(body, KI_NS, "ReceiveMutationRequest", NULL);
		soapmsg_add(req, KI_NS, "Ticket", ticket);
		soapmsg_add(req, KI_NS, "DeliveryId", id);
		soapmsg_add(req, KI_NS, "Source", b->source);
		soapmsg_add(req, KI_NS, "MutationType", b->type);
		soapmsg_add(req, KI_NS, "Ssin", ssin);
		soapmsg_add(req, KI_NS, "EffectiveDate", b->effective);
		soapmsg_add(req, KI_NS, "Quality", b->quality);
		add_payload(req, KI_NS, n);
	}
	return doc;
}

static struct wsse_ctx *
signer_ctx(struct fb *b)
{
	struct wsse_options	 o;
	struct wsse_ctx		*ctx;
	char			 err[256];

	wsse_options_default(&o);
	o.key_file = b->key;
	o.cert_file = b->cert;
	o.ca_file = b->ca;
	if ((ctx = wsse_ctx_new(&o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fanout-bench: %s\n", err);
		exit(2);
	}
	return ctx;
}

static void *
sign_thread(void *arg)
{
	struct signer	*s = arg;
	struct fb	*b = s->b;
	struct wsse_ctx	*ctx = signer_ctx(b);
	xmlDocPtr	 doc;
	char		 reason[256];
	long		 n;

	for (n = s->index; n < b->count; n += FB_SIGNERS) {
		doc = request_doc(b, n);
		if (wsse_sign(ctx, doc, reason, sizeof(reason)) != KP_OK ||
		    soapmsg_serialize(doc, &b->bodies[n], &b->lens[n]) != 0) {
			fprintf(stderr, "fanout-bench: cannot sign: %s\n", reason);
			exit(2);
		}
		xmlFreeDoc(doc);
	}
	wsse_ctx_free(ctx);
	return NULL;
}

/* The text of the first element with this local name, or -1. */
static int
xml_text(const char *xml, const char *name, char *out, size_t outlen)
{
	const char	*p = xml, *s, *e;
	size_t		 nlen = strlen(name), len;

	while ((p = strstr(p, name)) != NULL) {
		if (p > xml && (p[-1] == ':' || p[-1] == '<') && p[nlen] == '>') {
			s = p + nlen + 1;
			if ((e = strchr(s, '<')) == NULL)
				return -1;
			len = (size_t)(e - s) < outlen - 1 ? (size_t)(e - s) :
			    outlen - 1;
			memcpy(out, s, len);
			out[len] = '\0';
			return 0;
		}
		p += nlen;
	}
	return -1;
}

/* Whether the answer to request n is good; why not in err. */
static int
check_answer(struct fb *b, struct wsse_ctx *ctx, long n,
    const struct forward_reply *r, long *queued, char *err, size_t errlen)
{
	struct envelope_limits	 lim;
	struct envelope		*env = NULL;
	struct wsse_result	 res;
	char			 v[64];

	if (r->status != 200) {
		if (xml_text(r->body, "Code", v, sizeof(v)) == -1)
			snprintf(v, sizeof(v), "-");
		snprintf(err, errlen, "HTTP %d, fault code %s", r->status, v);
		return -1;
	}
	if (b->publish) {
		if (xml_text(r->body, "RecipientsQueued", v, sizeof(v)) == -1) {
			snprintf(err, errlen, "no RecipientsQueued");
			return -1;
		}
		*queued = atol(v);
		if (b->expect >= 0 && *queued != b->expect) {
			snprintf(err, errlen, "%ld recipients queued, not %d",
			    *queued, b->expect);
			return -1;
		}
		return 0;
	}
	if (xml_text(r->body, "Ack", v, sizeof(v)) == -1 ||
	    strcmp(v, b->ids[n]) != 0) {
		snprintf(err, errlen, "the answer does not acknowledge %s",
		    b->ids[n]);
		return -1;
	}
	if (!b->verify)
		return 0;
	envelope_limits_default(&lim);
	memset(&res, 0, sizeof(res));
	if (envelope_parse(r->body, r->len, &lim, &env, err, errlen) != KP_OK)
		return -1;
	if (wsse_verify(ctx, env, &res) != KP_OK) {
		snprintf(err, errlen, "acknowledgement: %s", res.reason);
		wsse_result_clear(&res);
		envelope_free(env);
		return -1;
	}
	wsse_result_clear(&res);
	envelope_free(env);
	return 0;
}

static void *
send_thread(void *arg)
{
	struct fb		*b = arg;
	struct forward_options	 fo;
	struct forward		*f;
	struct forward_reply	 r;
	struct wsse_ctx		*ctx = b->verify ? signer_ctx(b) : NULL;
	const char		*action;
	char			 err[300];
	long			 n, q, ok = 0, errors = 0, queued = 0;
	int			 good;

	memset(&fo, 0, sizeof(fo));
	fo.connect_timeout_ms = 5000;
	fo.timeout_ms = 30000;
	fo.max_response = 1L << 20;
	fo.ca_file = b->ca;
	f = forward_new(&fo);
	action = b->publish ? KP_NS "#PublishMutation" :
	    KI_NS "#ReceiveMutation";
	for (;;) {
		pthread_mutex_lock(&b->mtx);
		n = b->next < b->count ? b->next++ : -1;
		pthread_mutex_unlock(&b->mtx);
		if (n == -1)
			break;
		q = 0;
		good = 0;
		if (forward_call(f, b->urls[n / b->group % b->nurls], action, 11,
		    b->bodies[n], b->lens[n], &r, err, sizeof(err)) == 0) {
			good = check_answer(b, ctx, n, &r, &q, err,
			    sizeof(err)) == 0;
			forward_reply_clear(&r);
		}
		if (good) {
			ok++;
			queued += q;
		} else {
			errors++;
			pthread_mutex_lock(&b->mtx);
			if (b->reported++ < 5)
				fprintf(stderr, "fanout-bench: %s: %s\n",
				    b->urls[n / b->group % b->nurls], err);
			pthread_mutex_unlock(&b->mtx);
		}
	}
	pthread_mutex_lock(&b->mtx);
	b->ok += ok;
	b->errors += errors;
	b->queued += queued;
	pthread_mutex_unlock(&b->mtx);
	if (ctx != NULL)
		wsse_ctx_free(ctx);
	forward_free(f);
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ca", required_argument, NULL, 'A' },
		{ "ssins", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 't' },
		{ "effective", required_argument, NULL, 'e' },
		{ "expect", required_argument, NULL, 'x' },
		{ "source", required_argument, NULL, 'S' },
		{ "quality", required_argument, NULL, 'q' },
		{ "group", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 } };
	struct fb	*b = xcalloc(1, sizeof(*b));
	struct signer	 sg[FB_SIGNERS];
	pthread_t	 th[FB_MAX_CONNS];
	struct sigaction sa;
	char		 err[256];
	int64_t		 t0;
	double		 secs;
	int		 ch, i;

	b->conns = 8;
	b->count = 1000;
	b->group = 1;
	b->expect = -1;
	b->type = "ADDRESS_CHANGE";
	b->effective = "2026-11-15";
	b->source = "0300000115";
	b->quality = "INSURED";
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "publish") == 0)
		b->publish = 1;
	else if (strcmp(argv[1], "receive") != 0)
		usage();
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "c:n:K:C:V", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c': b->conns = atoi(optarg); break;
		case 'n': b->count = atol(optarg); break;
		case 'K': b->key = optarg; break;
		case 'C': b->cert = optarg; break;
		case 'V': b->verify = 1; break;
		case 'A': b->ca = optarg; break;
		case 's': read_ssins(b, optarg); break;
		case 't': b->type = optarg; break;
		case 'e': b->effective = optarg; break;
		case 'x': b->expect = atoi(optarg); break;
		case 'S': b->source = optarg; break;
		case 'q': b->quality = optarg; break;
		case 'g': b->group = atoi(optarg) > 0 ? atoi(optarg) : 1; break;
		default: usage();
		}
	}
	for (i = optind; i < argc && b->nurls < FB_MAX_URLS; i++)
		b->urls[b->nurls++] = argv[i];
	if (b->nurls == 0 || i < argc || b->key == NULL || b->cert == NULL ||
	    b->nssins == 0 || b->conns < 1 || b->conns > FB_MAX_CONNS ||
	    b->count < 1 || b->count > 10000000 || (b->verify && b->ca == NULL) ||
	    (b->publish && b->nurls != 1))
		usage();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (wsse_global_init(err, sizeof(err)) != 0) {
		fprintf(stderr, "fanout-bench: %s\n", err);
		return 2;
	}
	pthread_mutex_init(&b->mtx, NULL);
	b->bodies = xcalloc((size_t)b->count, sizeof(*b->bodies));
	b->lens = xcalloc((size_t)b->count, sizeof(*b->lens));
	b->ids = xcalloc((size_t)b->count, sizeof(*b->ids));
	t0 = now_ns();
	for (i = 0; i < FB_SIGNERS; i++) {
		sg[i].b = b;
		sg[i].index = i;
		if (pthread_create(&th[i], NULL, sign_thread, &sg[i]) != 0)
			return 2;
	}
	for (i = 0; i < FB_SIGNERS; i++)
		pthread_join(th[i], NULL);
	fprintf(stderr, "fanout-bench: %ld requests signed in %.2f s\n",
	    b->count, (double)(now_ns() - t0) / 1e9);
	t0 = now_ns();
	for (i = 0; i < b->conns; i++)
		if (pthread_create(&th[i], NULL, send_thread, b) != 0)
			return 2;
	for (i = 0; i < b->conns; i++)
		pthread_join(th[i], NULL);
	secs = (double)(now_ns() - t0) / 1e9;
	printf("requests=%ld ok=%ld errors=%ld seconds=%.3f rate=%.1f",
	    b->count, b->ok, b->errors, secs, (double)b->ok / secs);
	if (b->publish)
		printf(" queued=%ld", b->queued);
	printf("\n");
	return b->errors > 0 ? 1 : 0;
}

/*
 * kruispunt bench - a load generator for the hub and for institutions.
 *
 *   kruispunt-bench [options] URL
 *
 * Sends signed SOAP requests over kept-alive connections (src/forward.c),
 * one thread per connection, each request with a unique MessageId (Consult)
 * or Ticket (ProvideData), signed by one of many institution identities
 * (key/certificate pairs, taken round-robin). Two kinds of request:
 *
 *   consult   a kp:ConsultRequest to the hub (Service, Ssin, Quality, Period)
 *   provide   a ki:ProvideDataRequest straight to an institution, as the hub
 *             would send it (sign it with the hub's key)
 *
 * By default every request is signed before the clock starts (the pool is
 * the request count), so that the generator's own signing does not compete
 * with the server for the CPU; -S signs each request just before it is sent.
 * With -r the load is open-loop at that many requests per second in total,
 * and latency is measured from the moment a request was due (no coordinated
 * omission); without -r each connection sends its next request as soon as
 * the previous answer is in.
 *
 * Prints one summary line of key=value pairs (requests, ok, errors, seconds,
 * rate, p50/p90/p99/max latency in microseconds), then the answers by status
 * and the errors by fault code; -o writes the tickets received, one a line.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>

#include "soapmsg.h"
#include "forward.h"
#include "wsse.h"
#include "xmalloc.h"

#define BENCH_MAX_IDS		10000
#define BENCH_MAX_CONNS		1024
#define BENCH_MAX_CODES		32
#define BENCH_MAX_SSINS		256
#define BENCH_MAX_ANSWER	(4L * 1024 * 1024)

enum kind { KIND_CONSULT, KIND_PROVIDE };

struct identity {
	char	*key;
	char	*cert;
};

/* One signed request, ready to send. */
struct request {
	char	*body;
	size_t	 len;
};

/* A count per code (fault code or answer status). */
struct counts {
	char	 code[BENCH_MAX_CODES][40];
	long	 n[BENCH_MAX_CODES];
	int	 ncodes;
};

struct bench {
	enum kind	 kind;
	const char	*url;
	const char	*action;
	const char	*ca;
	const char	*tickets_path;
	const char	*service;
	const char	*quality;
	const char	*begin;
	const char	*end;
	const char	*requester;
	const char	*legal_basis;
	char		*ssins[BENCH_MAX_SSINS];
	int		 nssins;
	struct identity	 ids[BENCH_MAX_IDS];
	int		 nids;
	int		 conns;
	long		 count;
	double		 duration;
	double		 rate;
	int		 warmup;
	int		 sign_inline;
	int		 timeout_ms;
	char		 run_id[24];
	struct request	*pool;		/* count requests, when pre-signed */
	long		 next;		/* the next request to send */
	pthread_mutex_t	 mtx;
	pthread_barrier_t ready;	/* the warm-ups are done */
	pthread_barrier_t go;		/* start_ns and stop_ns are set */
	int64_t		 start_ns;
	int64_t		 stop_ns;
};

/* What one connection measured. */
struct worker {
	struct bench	*b;
	int		 index;
	pthread_t	 thread;
	int64_t		*lat_us;
	long		 nlat;
	long		 ok;
	long		 errors;
	struct counts	 status;	/* answers, by Status */
	struct counts	 faults;	/* errors, by code */
	char		**tickets;
	long		 ntickets;
	long		 captickets;
};

static volatile sig_atomic_t stopping;

/* SIGINT/SIGTERM: finish the requests in flight and report. */
static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Nanoseconds on the monotonic clock. */
static int64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleep until the monotonic time t (ns). */
static void
sleep_until(int64_t t)
{
	struct timespec	ts;

	ts.tv_sec = t / 1000000000;
	ts.tv_nsec = t % 1000000000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR && !stopping)
		;
}

/* Add one to code's count. */
static void
counts_add(struct counts *c, const char *code)
{
	int	i;

	for (i = 0; i < c->ncodes; i++)
		if (strcmp(c->code[i], code) == 0) {
			c->n[i]++;
			return;
		}
	if (c->ncodes == BENCH_MAX_CODES)
		i = BENCH_MAX_CODES - 1;	/* lumped into the last one */
	else
		snprintf(c->code[c->ncodes++], sizeof(c->code[0]), "%s", code);
	c->n[i]++;
}

/* Merge src's counts into dst. */
static void
counts_merge(struct counts *dst, const struct counts *src)
{
	int	i;
	long	k;

	for (i = 0; i < src->ncodes; i++)
		for (k = 0; k < src->n[i]; k++)
			counts_add(dst, src->code[i]);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

/* The unsigned envelope of request number n. */
static xmlDocPtr
request_doc(const struct bench *b, long n)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 body, req, period, payload, q;
	const char	*ssin = b->ssins[n % b->nssins];
	const char	*ns = b->kind == KIND_CONSULT ? KP_NS : KI_NS;
	char		 id[64];

	snprintf(id, sizeof(id), "bench-%s-%ld", b->run_id, n);
	doc = soapmsg_new(11, &body);
	if (b->kind == KIND_CONSULT) {
		req = soapmsg_add(body, KP_NS, "ConsultRequest", NULL);
		soapmsg_add(req, KP_NS, "MessageId", id);
		soapmsg_add(req, KP_NS, "Service", b->service);
		soapmsg_add(req, KP_NS, "Ssin", ssin);
		soapmsg_add(req, KP_NS, "Quality", b->quality);
	} else {
		req = soapmsg_add(body, KI_NS, "ProvideDataRequest", NULL);
		soapmsg_add(req, KI_NS, "Ticket", id);
		soapmsg_add(req, KI_NS, "Requester", b->requester);
		soapmsg_add(req, KI_NS, "RequesterQuality", b->quality);
		soapmsg_add(req, KI_NS, "Service", b->service);
		soapmsg_add(req, KI_NS, "Ssin", ssin);
	}
	period = soapmsg_add(req, ns, "Period", NULL);
	soapmsg_add_kp(period, "Begin", b->begin);
	if (b->end != NULL)
		soapmsg_add_kp(period, "End", b->end);
	if (b->kind == KIND_PROVIDE)
		soapmsg_add(req, KI_NS, "Authorization", b->legal_basis);
	payload = soapmsg_add(req, ns, "Payload", NULL);
	q = soapmsg_add(payload, "urn:example:q", "Ask", "all");
	(void)q;
	return doc;
}

/* A signing context for one identity; exits when the key does not load. */
static struct wsse_ctx *
identity_ctx(const struct identity *id)
{
	struct wsse_options	 o;
	struct wsse_ctx		*ctx;
	char			 err[256];

	wsse_options_default(&o);
	o.key_file = id->key;
	o.cert_file = id->cert;
	if ((ctx = wsse_ctx_new(&o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "kruispunt-bench: %s: %s\n", id->key, err);
		exit(1);
	}
	return ctx;
}

/* Build and sign request number n; exits on failure (a set-up error). */
static void
request_sign(const struct bench *b, struct wsse_ctx *ctx, long n,
    struct request *r)
{
	xmlDocPtr	doc = request_doc(b, n);
	char		reason[256];

	if (wsse_sign(ctx, doc, reason, sizeof(reason)) != KP_OK ||
	    soapmsg_serialize(doc, &r->body, &r->len) != 0) {
		fprintf(stderr, "kruispunt-bench: cannot sign: %s\n", reason);
		exit(1);
	}
	xmlFreeDoc(doc);
}

/* Pre-signing thread: the requests of identities i ≡ index (mod conns). */
static void *
presign_thread(void *arg)
{
	struct worker	*w = arg;
	struct bench	*b = w->b;
	struct wsse_ctx	*ctx;
	long		 n;
	int		 i;

	for (i = w->index; i < b->nids; i += b->conns) {
		if (i >= b->count)
			break;
		ctx = identity_ctx(&b->ids[i]);
		for (n = i; n < b->count; n += b->nids)
			request_sign(b, ctx, n, &b->pool[n]);
		wsse_ctx_free(ctx);
	}
	return NULL;
}

/* Sign the whole pool with all threads; the seconds it took. */
static double
presign(struct bench *b, struct worker *w)
{
	int64_t	t0 = now_ns();
	int	i;

	b->pool = xcalloc((size_t)b->count, sizeof(*b->pool));
	for (i = 0; i < b->conns; i++)
		if (pthread_create(&w[i].thread, NULL, presign_thread, &w[i]))
			exit(1);
	for (i = 0; i < b->conns; i++)
		pthread_join(w[i].thread, NULL);
	return (double)(now_ns() - t0) / 1e9;
}

/* ------------------------------------------------------------------ */
/* The exchange                                                        */
/* ------------------------------------------------------------------ */

/* Copy the text of the first <...:name> or <name> element into out. */
static int
xml_text(const char *xml, const char *name, char *out, size_t outlen)
{
	const char	*p = xml, *s, *e;
	size_t		 nlen = strlen(name), len;

	while ((p = strstr(p, name)) != NULL) {
		if ((p[-1] == ':' || p[-1] == '<') && p[nlen] == '>') {
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

/* Keep a ticket for -o. */
static void
keep_ticket(struct worker *w, const char *ticket)
{
	if (w->ntickets == w->captickets) {
		w->captickets = w->captickets ? w->captickets * 2 : 1024;
		w->tickets = xreallocarray(w->tickets, (size_t)w->captickets,
		    sizeof(*w->tickets));
	}
	w->tickets[w->ntickets++] = xstrdup(ticket);
}

/* Classify an answer: ok (by Status) or an error (by fault code). */
static void
classify(struct worker *w, const struct forward_reply *r, int measured)
{
	char	code[40], ticket[64];

	if (r->status == 200) {
		if (xml_text(r->body, "Status", code, sizeof(code)) == -1)
			snprintf(code, sizeof(code), "(none)");
		if (measured) {
			w->ok++;
			counts_add(&w->status, code);
		}
	} else {
		if (xml_text(r->body, "Code", code, sizeof(code)) == -1)
			snprintf(code, sizeof(code), "HTTP_%d", r->status);
		if (measured) {
			w->errors++;
			counts_add(&w->faults, code);
		}
	}
	if (w->b->tickets_path != NULL && xml_text(r->body, "Ticket", ticket,
	    sizeof(ticket)) == 0)
		keep_ticket(w, ticket);
}

/* Take the next request number; -1 when all are taken. */
static long
take(struct bench *b)
{
	long	n = -1;

	pthread_mutex_lock(&b->mtx);
	if (b->next < b->count)
		n = b->next++;
	pthread_mutex_unlock(&b->mtx);
	return n;
}

/* One connection: send requests until the count or the time is used up. */
static void *
worker_thread(void *arg)
{
	struct worker		*w = arg;
	struct bench		*b = w->b;
	struct forward_options	 fo;
	struct forward		*f;
	struct forward_reply	 r;
	struct request		 req, warm;
	struct wsse_ctx		*ctx = NULL;
	int64_t			 due, t0, t1, interval = 0;
	long			 n, k = 0;
	int			 i, ident = -1;
	char			 err[256];

	memset(&fo, 0, sizeof(fo));
	fo.connect_timeout_ms = 5000;
	fo.timeout_ms = b->timeout_ms;
	fo.max_response = BENCH_MAX_ANSWER;
	fo.ca_file = b->ca;
	f = forward_new(&fo);
	w->lat_us = xcalloc((size_t)b->count, sizeof(*w->lat_us));
	/* warm-up: open the connection (TLS handshake) and fill caches */
	for (i = 0; i < b->warmup; i++) {
		ctx = identity_ctx(&b->ids[w->index % b->nids]);
		request_sign(b, ctx, b->count + w->index * 100L + i, &warm);
		wsse_ctx_free(ctx);
		ctx = NULL;
		if (forward_call(f, b->url, b->action, 11, warm.body, warm.len,
		    &r, err, sizeof(err)) == 0) {
			classify(w, &r, 0);
			forward_reply_clear(&r);
		}
		free(warm.body);
	}
	pthread_barrier_wait(&b->ready);
	pthread_barrier_wait(&b->go);
	if (b->rate > 0)
		interval = (int64_t)(1e9 * b->conns / b->rate);
	due = b->start_ns + (interval * w->index) / b->conns;
	while (!stopping && (n = take(b)) != -1) {
		if (b->rate > 0) {
			sleep_until(due);
			t0 = due;
			due += interval;
		} else
			t0 = now_ns();
		if (t0 >= b->stop_ns || now_ns() >= b->stop_ns)
			break;
		if (b->sign_inline) {
			if (ident != (int)(n % b->nids)) {
				wsse_ctx_free(ctx);
				ident = (int)(n % b->nids);
				ctx = identity_ctx(&b->ids[ident]);
			}
			request_sign(b, ctx, n, &req);
			if (b->rate <= 0)
				t0 = now_ns();
		} else
			req = b->pool[n];
		if (forward_call(f, b->url, b->action, 11, req.body, req.len, &r,
		    err, sizeof(err)) == 0) {
			t1 = now_ns();
			classify(w, &r, 1);
			forward_reply_clear(&r);
		} else {
			t1 = now_ns();
			w->errors++;
			counts_add(&w->faults, "TRANSPORT");
			if (k == 0 || w->errors < 4)
				fprintf(stderr, "kruispunt-bench: %s\n", err);
		}
		w->lat_us[w->nlat++] = (t1 - t0) / 1000;
		k++;
		if (b->sign_inline)
			free(req.body);
	}
	wsse_ctx_free(ctx);
	forward_free(f);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Report                                                              */
/* ------------------------------------------------------------------ */

/* qsort: ascending int64. */
static int
cmp64(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile of n sorted values. */
static int64_t
percentile(const int64_t *v, long n, double p)
{
	long	i;

	if (n == 0)
		return 0;
	i = (long)(p / 100.0 * (double)n + 0.5) - 1;
	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	return v[i];
}

/* Print the summary and write the tickets. */
static int
report(struct bench *b, struct worker *w, double secs)
{
	struct counts	 status, faults;
	int64_t		*all;
	long		 n = 0, ok = 0, errors = 0, k;
	int		 i;
	FILE		*fp;

	memset(&status, 0, sizeof(status));
	memset(&faults, 0, sizeof(faults));
	for (i = 0; i < b->conns; i++)
		n += w[i].nlat;
	all = xcalloc((size_t)n + 1, sizeof(*all));
	for (n = 0, i = 0; i < b->conns; i++) {
		memcpy(all + n, w[i].lat_us, (size_t)w[i].nlat * sizeof(*all));
		n += w[i].nlat;
		ok += w[i].ok;
		errors += w[i].errors;
		counts_merge(&status, &w[i].status);
		counts_merge(&faults, &w[i].faults);
	}
	qsort(all, (size_t)n, sizeof(*all), cmp64);
	printf("requests=%ld ok=%ld errors=%ld seconds=%.3f rate=%.1f "
	    "p50_us=%lld p90_us=%lld p99_us=%lld max_us=%lld\n", n, ok, errors,
	    secs, secs > 0 ? (double)n / secs : 0.0,
	    (long long)percentile(all, n, 50), (long long)percentile(all, n, 90),
	    (long long)percentile(all, n, 99),
	    (long long)(n ? all[n - 1] : 0));
	for (i = 0; i < status.ncodes; i++)
		printf("status %s=%ld\n", status.code[i], status.n[i]);
	for (i = 0; i < faults.ncodes; i++)
		printf("error %s=%ld\n", faults.code[i], faults.n[i]);
	free(all);
	if (b->tickets_path == NULL)
		return errors ? 1 : 0;
	if ((fp = fopen(b->tickets_path, "w")) == NULL) {
		fprintf(stderr, "kruispunt-bench: %s: %s\n", b->tickets_path,
		    strerror(errno));
		return 2;
	}
	for (i = 0; i < b->conns; i++)
		for (k = 0; k < w[i].ntickets; k++)
			fprintf(fp, "%s\n", w[i].tickets[k]);
	if (fclose(fp) != 0)
		return 2;
	return errors ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

/* Say how to call the program and exit 2. */
static void
usage(void)
{
	fprintf(stderr,
	    "usage: kruispunt-bench [-S] [-k consult|provide] [-c CONNS] "
	    "[-n COUNT] [-d SECONDS]\n"
	    "       [-r RATE] [-w WARMUP] [-i IDENTITIES | -K KEY -C CERT] "
	    "[--ca FILE]\n"
	    "       [--service S] [--quality Q] [--ssin A,B,...] "
	    "[--period BEGIN/END]\n"
	    "       [--requester ID] [--legal-basis TEXT] [-o TICKETS] "
	    "[-T TIMEOUT_MS] URL\n"
	    "  IDENTITIES: a file with one 'KEY CERT' pair (PEM files) a line\n");
	exit(2);
}

/* Read the identities file: one "KEY CERT" a line, # comments. */
static void
read_identities(struct bench *b, const char *path)
{
	FILE	*fp;
	char	 line[2048], key[1024], cert[1024];

	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "kruispunt-bench: %s: %s\n", path,
		    strerror(errno));
		exit(2);
	}
	while (fgets(line, sizeof(line), fp) != NULL && b->nids < BENCH_MAX_IDS) {
		if (line[0] == '#' || sscanf(line, "%1023s %1023s", key,
		    cert) != 2)
			continue;
		b->ids[b->nids].key = xstrdup(key);
		b->ids[b->nids].cert = xstrdup(cert);
		b->nids++;
	}
	fclose(fp);
}

/* Split "A,B,C" into the SSIN list. */
static void
read_ssins(struct bench *b, const char *list)
{
	char	*s = xstrdup(list), *tok, *save = NULL;

	for (tok = strtok_r(s, ",", &save); tok != NULL && b->nssins <
	    BENCH_MAX_SSINS; tok = strtok_r(NULL, ",", &save))
		b->ssins[b->nssins++] = xstrdup(tok);
	free(s);
}

/* Parse the command line into b; exits on a usage error. */
static void
parse_args(struct bench *b, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ca", required_argument, NULL, 'A' },
		{ "service", required_argument, NULL, 's' },
		{ "quality", required_argument, NULL, 'q' },
		{ "ssin", required_argument, NULL, 'p' },
		{ "period", required_argument, NULL, 'P' },
		{ "requester", required_argument, NULL, 'R' },
		{ "legal-basis", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 } };
	const char	*key = NULL, *cert = NULL;
	char		*slash;
	int		 ch;

	while ((ch = getopt_long(argc, argv, "Sk:c:n:d:r:w:i:K:C:o:T:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'S': b->sign_inline = 1; break;
		case 'k':
			if (strcmp(optarg, "consult") == 0)
				b->kind = KIND_CONSULT;
			else if (strcmp(optarg, "provide") == 0)
				b->kind = KIND_PROVIDE;
			else
				usage();
			break;
		case 'c': b->conns = atoi(optarg); break;
		case 'n': b->count = atol(optarg); break;
		case 'd': b->duration = atof(optarg); break;
		case 'r': b->rate = atof(optarg); break;
		case 'w': b->warmup = atoi(optarg); break;
		case 'i': read_identities(b, optarg); break;
		case 'K': key = optarg; break;
		case 'C': cert = optarg; break;
		case 'o': b->tickets_path = optarg; break;
		case 'T': b->timeout_ms = atoi(optarg); break;
		case 'A': b->ca = optarg; break;
		case 's': b->service = optarg; break;
		case 'q': b->quality = optarg; break;
		case 'p': read_ssins(b, optarg); break;
		case 'P':
			b->begin = xstrdup(optarg);
			if ((slash = strchr(b->begin, '/')) != NULL) {
				*slash = '\0';
				b->end = slash[1] ? slash + 1 : NULL;
			}
			break;
		case 'R': b->requester = optarg; break;
		case 'L': b->legal_basis = optarg; break;
		default: usage();
		}
	}
	if (argc - optind != 1)
		usage();
	b->url = argv[optind];
	if (key != NULL && cert != NULL && b->nids < BENCH_MAX_IDS) {
		b->ids[b->nids].key = xstrdup(key);
		b->ids[b->nids].cert = xstrdup(cert);
		b->nids++;
	}
	if (b->nids == 0 || b->nssins == 0 || b->conns < 1 ||
	    b->conns > BENCH_MAX_CONNS || b->count < 1 ||
	    b->count > 100000000 || b->duration <= 0 || b->duration > 86400 ||
	    b->rate < 0 || b->warmup < 0 || b->warmup > 100)
		usage();
}

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

/* Parse, sign, run the connections, report. */
int
main(int argc, char **argv)
{
	struct bench	*b = xcalloc(1, sizeof(*b));
	struct worker	*w;
	struct sigaction sa;
	char		 err[256];
	double		 secs, signsecs = 0;
	int		 i;

	b->kind = KIND_CONSULT;
	b->conns = 8;
	b->count = 10000;
	b->duration = 60;
	b->warmup = 1;
	b->timeout_ms = 10000;
	b->service = "UNEMPLOYMENT_STATUS";
	b->quality = "INSURED";
	b->begin = "2025-09-01";
	b->end = "2025-12-31";
	b->requester = "0200000142";
	b->legal_basis = "ISC deliberation 26/021 (sickness benefits)";
	parse_args(b, argc, argv);
	b->action = b->kind == KIND_CONSULT ? KP_NS "#Consult" :
	    KI_NS "#ProvideData";
	snprintf(b->run_id, sizeof(b->run_id), "%llx-%lx",
	    (unsigned long long)time(NULL), (unsigned long)now_ns() & 0xffffff);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (wsse_global_init(err, sizeof(err)) != 0) {
		fprintf(stderr, "kruispunt-bench: %s\n", err);
		return 2;
	}
	pthread_mutex_init(&b->mtx, NULL);
	w = xcalloc((size_t)b->conns, sizeof(*w));
	for (i = 0; i < b->conns; i++) {
		w[i].b = b;
		w[i].index = i;
	}
	if (!b->sign_inline) {
		signsecs = presign(b, w);
		fprintf(stderr, "kruispunt-bench: %ld requests signed by %d "
		    "identities in %.2f s\n", b->count, b->nids, signsecs);
	}
	pthread_barrier_init(&b->ready, NULL, (unsigned)b->conns + 1);
	pthread_barrier_init(&b->go, NULL, (unsigned)b->conns + 1);
	for (i = 0; i < b->conns; i++)
		if (pthread_create(&w[i].thread, NULL, worker_thread, &w[i])) {
			fprintf(stderr, "kruispunt-bench: cannot start a thread\n");
			return 2;
		}
	pthread_barrier_wait(&b->ready);
	b->start_ns = now_ns();
	b->stop_ns = b->start_ns + (int64_t)(b->duration * 1e9);
	pthread_barrier_wait(&b->go);
	for (i = 0; i < b->conns; i++)
		pthread_join(w[i].thread, NULL);
	secs = (double)(now_ns() - b->start_ns) / 1e9;
	return report(b, w, secs);
}

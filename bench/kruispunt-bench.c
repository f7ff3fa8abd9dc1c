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
 * with the server for the CPU; -S signs each request just before it is sent
 * (needed for runs longer than the signatures' lifetime of 5 minutes).
 * With -r/--rate the load is open-loop at that many requests per second in
 * total, paced per connection (each connection sends every CONNS/RATE
 * seconds; at most CONNS requests are in flight, so a server that cannot
 * keep up gets the requests back to back, never more at once), and latency
 * is measured from the moment a request was due (no coordinated omission);
 * without a rate each connection sends its next request as soon as the
 * previous answer is in.
 *
 * A share of the requests can be ones that must be refused: with
 * --refused-service S every Nth consult (--refused-every N, default 10)
 * asks for service S, which the senders are not authorised for, and must
 * get the fault --expect-fault (default NOT_AUTHORIZED); those are counted
 * as "refused", apart from the errors.
 *
 * Prints one summary line of key=value pairs (requests, ok, refused,
 * errors, seconds, rate, p50/p90/p99/max latency in microseconds), then the
 * answers by status, the expected refusals and the errors by fault code
 * (TRANSPORT: no answer; NOT_REFUSED: a request that should have been
 * refused was answered; NO_TICKET: an answer without a ticket, with
 * --tickets). -o/--tickets writes the ticket of every answer (data or
 * fault, warm-up included), one a line. --interval N prints a progress line
 * to stderr every N seconds. Exit status: 0 when every answer was as
 * expected, 1 when there was an error, 2 on a usage or set-up problem.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
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
#define BENCH_CTX_SLOTS		32	/* signing contexts kept per connection (-S) */

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
	int		 begin_alloc;	/* begin is ours to free */
	const char	*requester;
	const char	*legal_basis;
	const char	*refused_service;	/* every refused_every-th request */
	long		 refused_every;
	const char	*expect_fault;		/* the code those must get */
	double		 interval;		/* progress line every N s; 0: none */
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
	/* for the progress lines: what all connections did so far */
	atomic_long	 n_sent;
	atomic_long	 n_ok;
	atomic_long	 n_refused;
	atomic_long	 n_errors;
	atomic_llong	 max_us;	/* the slowest since the last line */
	atomic_int	 n_done;	/* connections that ended */
};

/* What one connection measured. */
struct worker {
	struct bench	*b;
	int		 index;
	pthread_t	 thread;
	int64_t		*lat_us;
	long		 nlat;
	long		 caplat;
	long		 ok;
	long		 refused;
	long		 errors;
	struct counts	 status;	/* answers, by Status */
	struct counts	 refusals;	/* expected refusals, by code */
	struct counts	 faults;	/* errors, by code */
	struct wsse_ctx	*ctx[BENCH_CTX_SLOTS];	/* -S: by identity */
	int		 ctx_id[BENCH_CTX_SLOTS];
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

/* Is request number n one that must be refused? */
static int
must_refuse(const struct bench *b, long n)
{
	return b->refused_service != NULL &&
	    n % b->refused_every == b->refused_every - 1;
}

/* The unsigned envelope of request number n. */
static xmlDocPtr
request_doc(const struct bench *b, long n)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 body, req, period, payload, q;
	const char	*ssin = b->ssins[n % b->nssins];
	const char	*ns = b->kind == KIND_CONSULT ? KP_NS : KI_NS;
	const char	*service = must_refuse(b, n) ? b->refused_service :
			    b->service;
	char		 id[64];

	snprintf(id, sizeof(id), "bench-%s-%ld", b->run_id, n);
	doc = soapmsg_new(11, &body);
	if (b->kind == KIND_CONSULT) {
		req = soapmsg_add(body, KP_NS, "ConsultRequest", NULL);
		soapmsg_add(req, KP_NS, "MessageId", id);
		soapmsg_add(req, KP_NS, "Service", service);
		soapmsg_add(req, KP_NS, "Ssin", ssin);
		soapmsg_add(req, KP_NS, "Quality", b->quality);
	} else {
		req = soapmsg_add(body, KI_NS, "ProvideDataRequest", NULL);
		soapmsg_add(req, KI_NS, "Ticket", id);
		soapmsg_add(req, KI_NS, "Requester", b->requester);
		soapmsg_add(req, KI_NS, "RequesterQuality", b->quality);
		soapmsg_add(req, KI_NS, "Service", service);
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
	o.cert_cache = 4;		/* signing only: no certificates to keep */
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

/* Count an error (by code). */
static void
count_error(struct worker *w, const char *code)
{
	w->errors++;
	counts_add(&w->faults, code);
	atomic_fetch_add(&w->b->n_errors, 1);
}

/*
 * Classify the answer to request n: ok (by Status), an expected refusal
 * (by fault code), or an error (by fault code; NOT_REFUSED when a request
 * that must be refused was answered; NO_TICKET when an answer carries no
 * ticket and tickets are kept). Warm-up answers (!measured) are not
 * counted, but their tickets are kept.
 */
static void
classify(struct worker *w, long n, const struct forward_reply *r,
    int measured)
{
	struct bench	*b = w->b;
	char		 code[40], ticket[64];
	int		 has_ticket;

	has_ticket = xml_text(r->body, "Ticket", ticket, sizeof(ticket)) == 0;
	if (has_ticket && b->tickets_path != NULL)
		keep_ticket(w, ticket);
	if (!measured)
		return;
	if (r->status == 200) {
		if (xml_text(r->body, "Status", code, sizeof(code)) == -1)
			snprintf(code, sizeof(code), "(none)");
	} else if (xml_text(r->body, "Code", code, sizeof(code)) == -1)
		snprintf(code, sizeof(code), "HTTP_%d", r->status);
	if (!has_ticket && b->tickets_path != NULL)
		count_error(w, "NO_TICKET");
	else if (must_refuse(b, n)) {
		if (r->status == 200)
			count_error(w, "NOT_REFUSED");
		else if (strcmp(code, b->expect_fault) != 0)
			count_error(w, code);
		else {
			w->refused++;
			counts_add(&w->refusals, code);
			atomic_fetch_add(&b->n_refused, 1);
		}
	} else if (r->status == 200) {
		w->ok++;
		counts_add(&w->status, code);
		atomic_fetch_add(&b->n_ok, 1);
	} else
		count_error(w, code);
}

/* Keep a latency; the progress lines' maximum too. */
static void
keep_latency(struct worker *w, int64_t us)
{
	long long	max;

	if (w->nlat == w->caplat) {
		w->caplat = w->caplat ? w->caplat * 2 : 4096;
		w->lat_us = xreallocarray(w->lat_us, (size_t)w->caplat,
		    sizeof(*w->lat_us));
	}
	w->lat_us[w->nlat++] = us;
	atomic_fetch_add(&w->b->n_sent, 1);
	max = atomic_load(&w->b->max_us);
	while (us > max && !atomic_compare_exchange_weak(&w->b->max_us, &max,
	    us))
		;
}

/* The signing context of identity i, kept in a small per-connection cache. */
static struct wsse_ctx *
worker_ctx(struct worker *w, int i)
{
	int	slot = i % BENCH_CTX_SLOTS;

	if (w->ctx[slot] == NULL || w->ctx_id[slot] != i) {
		wsse_ctx_free(w->ctx[slot]);
		w->ctx[slot] = identity_ctx(&w->b->ids[i]);
		w->ctx_id[slot] = i;
	}
	return w->ctx[slot];
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
	long			 n, k = 0, wn;
	int			 i;
	char			 err[256];

	memset(&fo, 0, sizeof(fo));
	fo.connect_timeout_ms = 5000;
	fo.timeout_ms = b->timeout_ms;
	fo.max_response = BENCH_MAX_ANSWER;
	fo.ca_file = b->ca;
	f = forward_new(&fo);
	/* warm-up: open the connection (TLS handshake) and fill caches */
	for (i = 0; i < b->warmup; i++) {
		ctx = identity_ctx(&b->ids[w->index % b->nids]);
		wn = b->count + w->index * 100L + i;
		request_sign(b, ctx, wn, &warm);
		wsse_ctx_free(ctx);
		ctx = NULL;
		if (forward_call(f, b->url, b->action, 11, warm.body, warm.len,
		    &r, err, sizeof(err)) == 0) {
			classify(w, wn, &r, 0);
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
			request_sign(b, worker_ctx(w, (int)(n % b->nids)), n,
			    &req);
			if (b->rate <= 0)
				t0 = now_ns();
		} else
			req = b->pool[n];
		if (forward_call(f, b->url, b->action, 11, req.body, req.len, &r,
		    err, sizeof(err)) == 0) {
			t1 = now_ns();
			classify(w, n, &r, 1);
			forward_reply_clear(&r);
		} else {
			t1 = now_ns();
			count_error(w, "TRANSPORT");
			if (k == 0 || w->errors < 4)
				fprintf(stderr, "kruispunt-bench: %s\n", err);
		}
		keep_latency(w, (t1 - t0) / 1000);
		k++;
		if (b->sign_inline)
			free(req.body);
	}
	for (i = 0; i < BENCH_CTX_SLOTS; i++)
		wsse_ctx_free(w->ctx[i]);
	forward_free(f);
	atomic_fetch_add(&b->n_done, 1);
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
	struct counts	 status, refusals, faults;
	int64_t		*all;
	long		 n = 0, ok = 0, refused = 0, errors = 0, k;
	int		 i;
	FILE		*fp;

	memset(&status, 0, sizeof(status));
	memset(&refusals, 0, sizeof(refusals));
	memset(&faults, 0, sizeof(faults));
	for (i = 0; i < b->conns; i++)
		n += w[i].nlat;
	all = xcalloc((size_t)n + 1, sizeof(*all));
	for (n = 0, i = 0; i < b->conns; i++) {
		memcpy(all + n, w[i].lat_us, (size_t)w[i].nlat * sizeof(*all));
		n += w[i].nlat;
		ok += w[i].ok;
		refused += w[i].refused;
		errors += w[i].errors;
		counts_merge(&status, &w[i].status);
		counts_merge(&refusals, &w[i].refusals);
		counts_merge(&faults, &w[i].faults);
	}
	if (n > 1)
		qsort(all, (size_t)n, sizeof(*all), cmp64);
	printf("requests=%ld ok=%ld refused=%ld errors=%ld seconds=%.3f "
	    "rate=%.1f p50_us=%lld p90_us=%lld p99_us=%lld max_us=%lld\n", n,
	    ok, refused, errors, secs, secs > 0 ? (double)n / secs : 0.0,
	    (long long)percentile(all, n, 50), (long long)percentile(all, n, 90),
	    (long long)percentile(all, n, 99),
	    (long long)(n ? all[n - 1] : 0));
	for (i = 0; i < status.ncodes; i++)
		printf("status %s=%ld\n", status.code[i], status.n[i]);
	for (i = 0; i < refusals.ncodes; i++)
		printf("refused %s=%ld\n", refusals.code[i], refusals.n[i]);
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

/* Say how to call the program; exit 0 after -h (stdout), else 2. */
static void
usage_to(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: kruispunt-bench [-S] [-k consult|provide] [-c CONNS] "
	    "[-n COUNT] [-d SECONDS]\n"
	    "       [-r|--rate RATE] [-w WARMUP] [-i IDENTITIES | -K KEY -C CERT] "
	    "[--ca FILE]\n"
	    "       [--service S] [--quality Q] [--ssin A,B,...] "
	    "[--period BEGIN/END]\n"
	    "       [--requester ID] [--legal-basis TEXT] [-o|--tickets FILE] "
	    "[-T TIMEOUT_MS]\n"
	    "       [--refused-service S [--refused-every N] "
	    "[--expect-fault CODE]] [--interval SECONDS] URL\n"
	    "       kruispunt-bench -h\n"
	    "  -S              sign each request just before sending it (long runs)\n"
	    "  -r, --rate R    R requests/s in total, open loop, paced per "
	    "connection\n"
	    "  -n COUNT        at most COUNT requests (default 10000; with -S and "
	    "a rate:\n"
	    "                  rate x seconds + CONNS)\n"
	    "  -o, --tickets F the ticket of every answer, one a line\n"
	    "  --refused-service S  every Nth request (--refused-every, default "
	    "10) asks\n"
	    "                  for S and must get fault CODE (--expect-fault, "
	    "default\n"
	    "                  NOT_AUTHORIZED): counted as refused, not as an "
	    "error\n"
	    "  --interval N    a progress line on stderr every N seconds\n"
	    "  IDENTITIES: a file with one 'KEY CERT' pair (PEM files) a line\n"
	    "  exit 0: every answer as expected; 1: errors; 2: usage or set-up\n");
	exit(status);
}

/* A usage error: the usage on stderr, exit 2. */
static void
usage(void)
{
	usage_to(stderr, 2);
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
		{ "rate", required_argument, NULL, 'r' },
		{ "tickets", required_argument, NULL, 'o' },
		{ "refused-service", required_argument, NULL, 'X' },
		{ "refused-every", required_argument, NULL, 'E' },
		{ "expect-fault", required_argument, NULL, 'F' },
		{ "interval", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	const char	*key = NULL, *cert = NULL;
	char		*slash;
	int		 ch, count_given = 0;

	while ((ch = getopt_long(argc, argv, "Sk:c:n:d:r:w:i:K:C:o:T:h", longopts,
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
		case 'n': b->count = atol(optarg); count_given = 1; break;
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
			if (b->begin_alloc)
				free((char *)b->begin);
			b->begin = xstrdup(optarg);
			b->begin_alloc = 1;
			if ((slash = strchr(b->begin, '/')) != NULL) {
				*slash = '\0';
				b->end = slash[1] ? slash + 1 : NULL;
			}
			break;
		case 'R': b->requester = optarg; break;
		case 'L': b->legal_basis = optarg; break;
		case 'X': b->refused_service = optarg; break;
		case 'E': b->refused_every = atol(optarg); break;
		case 'F': b->expect_fault = optarg; break;
		case 'I': b->interval = atof(optarg); break;
		case 'h': usage_to(stdout, 0); break;
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
	/* signed as they go at a steady rate: enough for the whole duration */
	if (!count_given && b->sign_inline && b->rate > 0 &&
	    b->rate * b->duration <= 100000000)
		b->count = (long)(b->rate * b->duration) + b->conns;
	if (b->nids == 0 || b->nssins == 0 || b->conns < 1 ||
	    b->conns > BENCH_MAX_CONNS || b->count < 1 ||
	    b->count > 100000000 || b->duration <= 0 || b->duration > 86400 ||
	    b->rate < 0 || b->warmup < 0 || b->warmup > 100 ||
	    b->refused_every < 1 || b->interval < 0 || b->interval > 86400)
		usage();
}

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

/* Print a progress line every b->interval seconds until the connections
 * have all ended: the counts so far, the rate and the slowest answer of
 * the last interval. */
static void
progress(struct bench *b)
{
	int64_t	next = b->start_ns, t;
	long	sent, last = 0;
	double	secs;

	for (;;) {
		next += (int64_t)(b->interval * 1e9);
		/* wake every 0.1 s to notice the end */
		while ((t = now_ns()) < next &&
		    atomic_load(&b->n_done) < b->conns)
			sleep_until(t + 100000000 < next ? t + 100000000 : next);
		if (atomic_load(&b->n_done) >= b->conns)
			return;
		sent = atomic_load(&b->n_sent);
		secs = (double)(now_ns() - b->start_ns) / 1e9;
		fprintf(stderr, "kruispunt-bench: t=%.0fs requests=%ld ok=%ld "
		    "refused=%ld errors=%ld rate=%.1f max_ms=%.1f\n", secs, sent,
		    atomic_load(&b->n_ok), atomic_load(&b->n_refused),
		    atomic_load(&b->n_errors), (double)(sent - last) /
		    b->interval, (double)atomic_exchange(&b->max_us, 0) / 1000);
		last = sent;
	}
}

/* Free what main() allocated (so that LeakSanitizer sees no leak). */
static void
bench_free(struct bench *b, struct worker *w)
{
	long	k;
	int	i;

	for (i = 0; i < b->conns; i++) {
		for (k = 0; k < w[i].ntickets; k++)
			free(w[i].tickets[k]);
		free(w[i].tickets);
		free(w[i].lat_us);
	}
	free(w);
	for (k = 0; b->pool != NULL && k < b->count; k++)
		free(b->pool[k].body);
	free(b->pool);
	for (i = 0; i < b->nids; i++) {
		free(b->ids[i].key);
		free(b->ids[i].cert);
	}
	for (i = 0; i < b->nssins; i++)
		free(b->ssins[i]);
	if (b->begin_alloc)
		free((char *)b->begin);
	pthread_barrier_destroy(&b->ready);
	pthread_barrier_destroy(&b->go);
	pthread_mutex_destroy(&b->mtx);
	free(b);
}

/* Parse, sign, run the connections, report. */
int
main(int argc, char **argv)
{
	struct bench	*b = xcalloc(1, sizeof(*b));
	struct worker	*w;
	struct sigaction sa;
	char		 err[256];
	double		 secs, signsecs = 0;
	int		 i, rc;

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
	b->refused_every = 10;
	b->expect_fault = "NOT_AUTHORIZED";
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
	if (b->interval > 0)
		progress(b);
	for (i = 0; i < b->conns; i++)
		pthread_join(w[i].thread, NULL);
	secs = (double)(now_ns() - b->start_ns) / 1e9;
	rc = report(b, w, secs);
	fflush(stdout);
	bench_free(b, w);
	return rc;
}

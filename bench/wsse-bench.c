/*
 * kruispunt - WS-Security benchmark: signs/s and verifies/s on one core.
 *
 *   bench/wsse-bench PKI-DIR [seconds-per-case [rsa|ec256 [size]]]
 *
 * For RSA-2048 and ECDSA P-256 (rsa and ec256 of tests/make-pki) and
 * unsigned requests of about 2, 4, 20 and 200 KB ("size"; "bytes" is the
 * signed envelope): "sign" is wsse_sign() + serialisation of the signed
 * envelope into the bytes to send (soapmsg_serialize(), as the hub and the
 * institution send their messages), done on a fresh copy of the parsed
 * request whose making is not timed (the hub builds each message it signs;
 * it never copies one); "verify" is envelope_parse() + wsse_verify() with the
 * context's caches warm (the hub's request path for a sender seen before,
 * without the replay cache so that one message can be verified repeatedly).
 *
 * KP_BENCH_OPS=N in the environment replaces the time per case by a fixed
 * number of operations (N signs, then N verifies), for `perf stat`;
 * KP_BENCH_CLOCK=cpu times with the thread's CPU clock instead of the wall
 * clock: on a shared machine, what the operation costs rather than how long
 * it waited for a core; KP_BENCH_C14N=libxml2 canonicalises as xmlsec does
 * on its own (libxml2's xmlC14NExecute()), and KP_BENCH_C14N=both measures
 * both in alternating slices and prints their ratio (what bench/run-wsse
 * does: the baseline in the same run).
 *
 * Each figure is the median of SLICES timed slices of the case's time, so
 * that a noisy neighbour on a shared machine moves it less; the spread
 * (fastest and slowest slice, us/op) is printed too.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "envelope.h"
#include "soapmsg.h"
#include "wsse.h"
#include "xmalloc.h"

#define SLICES	7

static double	seconds_per_case = 1.0;
static long	ops_per_slice;	/* KP_BENCH_OPS/SLICES: fixed work, for perf stat */
static clockid_t clock_id = CLOCK_MONOTONIC;	/* KP_BENCH_CLOCK=cpu: thread CPU time */
static int	modes[2] = { 0, 1 };	/* wsse_c14n_libxml2_only() per mode */
static int	nmodes = 1;		/* KP_BENCH_C14N=both: 2 */

/* What one case measured: us/op of the median, fastest, slowest slice. */
struct timing {
	double	median, fastest, slowest;
};

/* Order doubles. */
static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sort the slices' us/op into a timing. */
static void
summarise(double us[SLICES], struct timing *t)
{
	qsort(us, SLICES, sizeof(us[0]), cmp_double);
	t->fastest = us[0];
	t->median = us[SLICES / 2];
	t->slowest = us[SLICES - 1];
}

/* Seconds of the bench's clock (monotonic, or this thread's CPU time). */
static double
now(void)
{
	struct timespec	ts;

	clock_gettime(clock_id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* An unsigned request of about size bytes. */
static char *
request(size_t size)
{
	char	*s = xmalloc(size + 1024), *p = s;
	size_t	 i = 0;

	p += sprintf(p, "<soap:Envelope xmlns:soap='" ENVELOPE_NS_SOAP11 "'>"
	    "<soap:Body><kp:ConsultRequest xmlns:kp='urn:kruispunt:hub:1'>"
	    "<kp:MessageId>bench-1</kp:MessageId><kp:Payload>");
	while ((size_t)(p - s) < size - 600)
		p += sprintf(p, "<d n='%zu'>abcdefghijklmnopqrstuvwxyz0123456789</d>",
		    i++);
	sprintf(p, "</kp:Payload></kp:ConsultRequest></soap:Body></soap:Envelope>");
	return s;
}

/* A context for who (signing) that also verifies. */
static struct wsse_ctx *
context(const char *pki, const char *who)
{
	struct wsse_options	 o;
	struct wsse_ctx		*ctx;
	char			 err[256], *ca, *key, *crt, *crl;

	xasprintf(&ca, "%s/ca.crt", pki);
	xasprintf(&crl, "%s/crl.pem", pki);
	xasprintf(&key, "%s/%s.key", pki, who);
	xasprintf(&crt, "%s/%s.crt", pki, who);
	wsse_options_default(&o);
	o.ca_file = ca;
	o.crl_file = crl;
	o.key_file = key;
	o.cert_file = crt;
	if ((ctx = wsse_ctx_new(&o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "wsse-bench: %s\n", err);
		exit(1);
	}
	free(crt);
	free(key);
	free(crl);
	free(ca);
	return ctx;
}

/* Copy, sign and serialise once; the serialised bytes in *out; the
 * seconds of the sign and serialisation (not of the copy) added to *spent.
 * (Not inlined, so that a profiler can count it alone.) */
static void __attribute__((noinline))
sign_once(struct wsse_ctx *ctx, struct envelope *env, char **out, size_t *len,
    double *spent)
{
	xmlDocPtr	 doc;
	char		 reason[256];
	double		 t0;

	doc = xmlCopyDoc(env->doc, 1);
	t0 = now();
	if (wsse_sign(ctx, doc, reason, sizeof(reason)) != KP_OK ||
	    soapmsg_serialize(doc, out, len) != 0) {
		fprintf(stderr, "wsse-bench: sign: %s\n", reason);
		exit(1);
	}
	*spent += now() - t0;
	xmlFreeDoc(doc);
}

/* One slice of signs of the parsed request, us/op; the signed bytes of
 * the last in *out. */
static double
sign_slice(struct wsse_ctx *ctx, struct envelope *env, char **out)
{
	size_t		 len;
	double		 t0, spent = 0;
	long		 n = 0;

	t0 = now();
	do {
		free(*out);
		sign_once(ctx, env, out, &len, &spent);
		n++;
	} while (ops_per_slice > 0 ? n < ops_per_slice :
	    now() - t0 < seconds_per_case / SLICES / nmodes);
	return spent * 1e6 / n;
}

/* Parse and verify msg once (not inlined either). */
static void __attribute__((noinline))
verify_once(struct wsse_ctx *ctx, const char *msg, size_t len,
    const struct envelope_limits *l)
{
	struct envelope		*env;
	struct wsse_result	 res;
	char			 reason[256];

	memset(&res, 0, sizeof(res));
	if (envelope_parse(msg, len, l, &env, reason, sizeof(reason)) != KP_OK ||
	    wsse_verify(ctx, env, &res) != KP_OK) {
		fprintf(stderr, "wsse-bench: verify: %s %s\n", reason, res.reason);
		exit(1);
	}
	wsse_result_clear(&res);
	envelope_free(env);
}

/* One slice of parses and verifies of msg, us/op. */
static double
verify_slice(struct wsse_ctx *ctx, const char *msg,
    const struct envelope_limits *l)
{
	size_t		 len = strlen(msg);
	double		 t0;
	long		 n = 0;

	t0 = now();
	do {
		verify_once(ctx, msg, len, l);
		n++;
	} while (ops_per_slice > 0 ? n < ops_per_slice :
	    now() - t0 < seconds_per_case / SLICES / nmodes);
	return (now() - t0) * 1e6 / n;
}

/* "fastest-slowest" in a static buffer (one per call site use). */
static const char *
spread(double fastest, double slowest)
{
	static char	buf[2][32];
	static int	which;

	which = !which;
	snprintf(buf[which], sizeof(buf[which]), "%.0f-%.0f", fastest, slowest);
	return buf[which];
}

/* The rows of one key type and size: each mode's slices alternate, so
 * that a neighbour's load falls on both canonicalisations alike. */
static void
bench_case(const char *pki, const char *who, size_t size)
{
	struct envelope_limits	 l;
	struct envelope		*env;
	struct wsse_ctx		*ctx = context(pki, who);
	char			*req = request(size), *msg = NULL, reason[256];
	double			 su[2][SLICES], vu[2][SLICES];
	struct timing		 sign[2], verify[2];
	int			 i, m;

	envelope_limits_default(&l);
	if (envelope_parse(req, strlen(req), &l, &env, reason, sizeof(reason)) != KP_OK) {
		fprintf(stderr, "wsse-bench: %s\n", reason);
		exit(1);
	}
	for (i = 0; i < SLICES; i++)
		for (m = 0; m < nmodes; m++) {
			wsse_c14n_libxml2_only(modes[m]);
			su[m][i] = sign_slice(ctx, env, &msg);
		}
	for (m = 0; m < nmodes; m++) {
		wsse_c14n_libxml2_only(modes[m]);
		verify_once(ctx, msg, strlen(msg), &l);	/* warm the caches */
	}
	for (i = 0; i < SLICES; i++)
		for (m = 0; m < nmodes; m++) {
			wsse_c14n_libxml2_only(modes[m]);
			vu[m][i] = verify_slice(ctx, msg, &l);
		}
	for (m = 0; m < nmodes; m++) {
		summarise(su[m], &sign[m]);
		summarise(vu[m], &verify[m]);
		printf("%-6s %-7s %6zu %7zu %8.0f %8.1f %13s %9.0f %8.1f %13s\n",
		    who, modes[m] ? "libxml2" : "own", size, strlen(msg),
		    1e6 / sign[m].median, sign[m].median,
		    spread(sign[m].fastest, sign[m].slowest),
		    1e6 / verify[m].median, verify[m].median,
		    spread(verify[m].fastest, verify[m].slowest));
	}
	if (nmodes == 2)
		printf("%-6s %-7s %6zu %7s %8s %8.2f %13s %9s %8.2f\n", who,
		    "ratio", size, "", "", sign[0].median / sign[1].median, "", "",
		    verify[0].median / verify[1].median);
	fflush(stdout);
	wsse_c14n_libxml2_only(0);
	free(msg);
	envelope_free(env);
	free(req);
	wsse_ctx_free(ctx);
}

int
main(int argc, char *argv[])
{
	static const size_t sizes[] = { 2048, 4096, 20480, 204800 };
	static const char *const who[] = { "rsa", "ec256" };
	const char *c14n;
	size_t	i, k;

	if (argc < 2) {
		fprintf(stderr, "usage: wsse-bench PKI-DIR [seconds-per-case "
		    "[rsa|ec256 [size]]]\n");
		return 2;
	}
	if (argc > 2)
		seconds_per_case = atof(argv[2]);
	if (getenv("KP_BENCH_CLOCK") != NULL &&
	    strcmp(getenv("KP_BENCH_CLOCK"), "cpu") == 0)
		clock_id = CLOCK_THREAD_CPUTIME_ID;
	if ((c14n = getenv("KP_BENCH_C14N")) != NULL) {
		if (strcmp(c14n, "libxml2") == 0)
			modes[0] = 1;
		else if (strcmp(c14n, "both") == 0)
			nmodes = 2;
	}
	if (getenv("KP_BENCH_OPS") != NULL &&
	    (ops_per_slice = atol(getenv("KP_BENCH_OPS")) / SLICES) < 1)
		ops_per_slice = 1;
	printf("%-6s %-7s %6s %7s %8s %8s %13s %9s %8s %13s\n", "key", "c14n", "size",
	    "bytes", "signs/s", "us/sign", "(spread)", "verifs/s", "us/verif",
	    "(spread)");
	for (k = 0; k < 2; k++)
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			if ((argc <= 3 || strcmp(argv[3], who[k]) == 0) &&
			    (argc <= 4 || (size_t)atol(argv[4]) == sizes[i]))
				bench_case(argv[1], who[k], sizes[i]);
	return 0;
}

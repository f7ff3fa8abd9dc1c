/*
 * kruispunt - WS-Security benchmark: signs/s and verifies/s on one core.
 *
 *   bench/wsse-bench PKI-DIR [seconds-per-case]
 *
 * For RSA-2048 and ECDSA P-256 (rsa and ec256 of tests/make-pki) and
 * envelopes of about 2, 4, 20 and 200 KB: "sign" is copy of the parsed
 * envelope + wsse_sign() + serialisation; "verify" is envelope_parse() +
 * wsse_verify() with the chain-verdict cache (the hub's request path, without
 * the replay cache so that one message can be verified repeatedly).
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
#include "wsse.h"
#include "xmalloc.h"

static double	seconds_per_case = 1.0;

/* Monotonic seconds. */
static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
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

/* Sign the parsed request repeatedly; the signed bytes of the last round. */
static char *
bench_sign(struct wsse_ctx *ctx, struct envelope *env, double *per_s)
{
	xmlDocPtr	 doc = NULL;
	xmlChar		*mem = NULL;
	char		 reason[256], *out;
	double		 t0 = now(), t;
	long		 n = 0;
	int		 len;

	do {
		xmlFree(mem);
		xmlFreeDoc(doc);
		doc = xmlCopyDoc(env->doc, 1);
		if (wsse_sign(ctx, doc, reason, sizeof(reason)) != KP_OK) {
			fprintf(stderr, "wsse-bench: sign: %s\n", reason);
			exit(1);
		}
		xmlDocDumpMemory(doc, &mem, &len);
		n++;
	} while ((t = now() - t0) < seconds_per_case);
	*per_s = n / t;
	out = xstrndup((const char *)mem, (size_t)len);
	xmlFree(mem);
	xmlFreeDoc(doc);
	return out;
}

/* Parse and verify msg repeatedly. */
static double
bench_verify(struct wsse_ctx *ctx, const char *msg)
{
	struct envelope_limits	 l;
	struct envelope		*env;
	struct wsse_result	 res;
	char			 reason[256];
	size_t			 len = strlen(msg);
	double			 t0 = now(), t;
	long			 n = 0;

	envelope_limits_default(&l);
	do {
		if (envelope_parse(msg, len, &l, &env, reason, sizeof(reason)) != KP_OK ||
		    wsse_verify(ctx, env, &res) != KP_OK) {
			fprintf(stderr, "wsse-bench: verify: %s %s\n", reason, res.reason);
			exit(1);
		}
		wsse_result_clear(&res);
		envelope_free(env);
		n++;
	} while ((t = now() - t0) < seconds_per_case);
	return n / t;
}

/* One row: key type and size. */
static void
bench_case(const char *pki, const char *who, size_t size)
{
	struct envelope_limits	 l;
	struct envelope		*env;
	struct wsse_ctx		*ctx = context(pki, who);
	char			*req = request(size), *msg, reason[256];
	double			 sign_s, verify_s;

	envelope_limits_default(&l);
	if (envelope_parse(req, strlen(req), &l, &env, reason, sizeof(reason)) != KP_OK) {
		fprintf(stderr, "wsse-bench: %s\n", reason);
		exit(1);
	}
	msg = bench_sign(ctx, env, &sign_s);
	verify_s = bench_verify(ctx, msg);
	printf("%-6s %8zu %10.0f %9.1f %10.0f %9.1f\n", who, strlen(msg),
	    sign_s, 1e6 / sign_s, verify_s, 1e6 / verify_s);
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
	size_t	i, k;

	if (argc < 2) {
		fprintf(stderr, "usage: wsse-bench PKI-DIR [seconds-per-case]\n");
		return 2;
	}
	if (argc > 2)
		seconds_per_case = atof(argv[2]);
	printf("%-6s %8s %10s %9s %10s %9s\n", "key", "bytes", "signs/s",
	    "us/sign", "verifies/s", "us/verify");
	for (k = 0; k < 2; k++)
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			bench_case(argv[1], who[k], sizes[i]);
	return 0;
}

/*
 * kruispunt fuzz - WS-Security verification (src/wsse.c on xmlsec1) of a
 * parsed envelope, with a test PKI made at run time by tests/make-pki (the
 * directory in $KP_FUZZ_PKI): trust anchor, CRL, registered certificates
 * (rsa, ec256, ec384) for the non-token key references, and a replay cache.
 *
 * An input whose first byte is odd is first signed by the hub's signer
 * (wsse_sign), so that the fuzzer also reaches the checks that follow a good
 * signature; the byte is dropped before parsing. The verifier's clock is
 * fixed at start-up, so seeds signed just before the run stay fresh.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "envelope.h"
#include "log.h"
#include "replay.h"
#include "soapmsg.h"
#include "wsse.h"
#include "xmalloc.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct envelope_limits	 limits;
static struct wsse_ctx		*verifier, *signer;
static struct wsse_certset	*registered;
static int64_t			 start_ms;

/* The fixed clock of the run. */
static int64_t
fixed_clock(void)
{
	return start_ms;
}

/* Silence libxml2's and xmlsec's error printing. */
static void
quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

/* A path in the PKI directory (kept for the whole run). */
static char *
pki(const char *name)
{
	static char	*paths[16];
	static size_t	 npaths;
	const char	*dir = getenv("KP_FUZZ_PKI");
	char		*p;

	if (dir == NULL) {
		fprintf(stderr, "fuzz-wsse: set KP_FUZZ_PKI to a tests/make-pki "
		    "directory\n");
		exit(2);
	}
	xasprintf(&p, "%s/%s", dir, name);
	if (npaths == sizeof(paths) / sizeof(paths[0]))
		abort();
	paths[npaths++] = p;
	return p;
}

/* Once: xmlsec, the verifying and the signing contexts. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct wsse_options	o;
	char			err[256];
	const char		*reg[] = { "rsa.crt", "ec256.crt", "ec384.crt" };
	size_t			i;

	(void)argc;
	(void)argv;
	log_init("fuzz-wsse", 1, LOG_LEVEL_ERROR);
	if (wsse_global_init(err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz-wsse: %s\n", err);
		exit(2);
	}
	xmlSetGenericErrorFunc(NULL, quiet);
	envelope_limits_default(&limits);
	limits.max_size = 256 * 1024;
	start_ms = wsse_now_ms();
	registered = wsse_certset_new();
	for (i = 0; i < sizeof(reg) / sizeof(reg[0]); i++)
		if (wsse_certset_add_file(registered, pki(reg[i]), err,
		    sizeof(err)) < 0) {
			fprintf(stderr, "fuzz-wsse: %s\n", err);
			exit(2);
		}
	wsse_options_default(&o);
	o.ca_file = pki("ca.crt");
	o.crl_file = pki("crl.pem");
	o.lookup = wsse_certset_lookup;
	o.lookup_arg = registered;
	o.replay = replay_memory_new(4096);
	o.clock = fixed_clock;
	if ((verifier = wsse_ctx_new(&o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz-wsse: verifier: %s\n", err);
		exit(2);
	}
	wsse_options_default(&o);
	o.key_file = pki("rsa.key");
	o.cert_file = pki("rsa.crt");
	o.clock = fixed_clock;
	if ((signer = wsse_ctx_new(&o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz-wsse: signer: %s\n", err);
		exit(2);
	}
	return 0;
}

/* Sign a parsed envelope, serialise it and parse it again; NULL if any
 * step refuses. */
static struct envelope *
signed_copy(struct envelope *env)
{
	struct envelope	*out = NULL;
	char		 reason[256], *buf;
	size_t		 len;

	if (wsse_sign(signer, env->doc, reason, sizeof(reason)) != KP_OK)
		return NULL;
	if (soapmsg_serialize(env->doc, &buf, &len) != 0)
		return NULL;
	if (envelope_parse(buf, len, &limits, &out, reason,
	    sizeof(reason)) != KP_OK)
		out = NULL;
	free(buf);
	return out;
}

/* One input: a mode byte, then a whole message. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope		*env = NULL, *s;
	struct wsse_result	 res;
	char			 reason[256];
	enum kp_error		 e;

	if (size < 1)
		return 0;
	if (envelope_parse((const char *)data + 1, size - 1, &limits, &env,
	    reason, sizeof(reason)) != KP_OK)
		return 0;
	if (data[0] & 1) {
		s = signed_copy(env);
		envelope_free(env);
		if ((env = s) == NULL)
			return 0;
	}
	memset(&res, 0, sizeof(res));
	e = wsse_verify(verifier, env, &res);
	if (e == KP_OK && (res.cert == NULL || res.ncovered < 2))
		abort();	/* accepted without a signer, Body and Timestamp */
	if (getenv("KP_FUZZ_DEBUG") != NULL)
		fprintf(stderr, "fuzz-wsse: %s %s\n", kp_strerror(e), res.reason);
	wsse_result_clear(&res);
	envelope_free(env);
	return 0;
}

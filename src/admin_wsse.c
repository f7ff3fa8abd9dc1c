/*
 * kruispunt - the admin tool's commands for institution developers:
 * signing and verifying WS-Security messages.
 *
 *   kruispunt sign --key K --cert C [--ttl S] IN.xml > OUT.xml
 *   kruispunt verify --ca CA [--crl CRL] [--cert FILE]... [--cert-dir DIR]
 *                    [--skew S] [--max-age S] IN.xml
 *
 * Both run exactly the code the hub runs (envelope, wsse). `verify` prints
 * who signed, what the signature covers and the verdict, or the refusal code
 * and why, and exits 1 when the message would be refused. With --cert or
 * --cert-dir the signer must be among those certificates (as the hub
 * requires it to be registered), and keys named by X509IssuerSerial,
 * SubjectKeyIdentifier or ThumbprintSHA1 are found there.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/tree.h>

#include "admin.h"
#include "envelope.h"
#include "output.h"
#include "wsse.h"
#include "xmalloc.h"

#define TOOL_MAX_MESSAGE	(64 * 1024 * 1024)

static int cmd_sign(struct admin_ctx *, int, char **);
static int cmd_verify(struct admin_ctx *, int, char **);

const struct admin_cmd admin_wsse_cmds[] = {
	{ "sign", "--key K --cert C [--ttl S] IN.xml", 1,
	  "sign a SOAP envelope with WS-Security; the result on stdout",
	  cmd_sign },
	{ "verify", "--ca CA [--crl F] [--cert F] [--cert-dir D] IN.xml", 1,
	  "check a signed envelope as the hub would; exit 1 if refused",
	  cmd_verify },
	{ NULL, NULL, 0, NULL, NULL }
};

/* The options of sign and verify. */
struct wsse_args {
	const char		*in;
	const char		*key;
	const char		*ca;
	const char		*crl;
	const char		*cert_dir;
	const char		*certs[16];
	int			 ncerts;
	long			 ttl;
	long			 skew;
	long			 max_age;
};

/* A whole number of seconds, or -1. */
static long
seconds(const char *s)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 86400 * 365)
		return -1;
	return v;
}

/* Store an option's value; 0, or -1 when it is not known or bad. */
static int
set_option(struct wsse_args *a, const char *opt, const char *val)
{
	if (strcmp(opt, "--key") == 0)
		a->key = val;
	else if (strcmp(opt, "--cert") == 0 && a->ncerts < 16)
		a->certs[a->ncerts++] = val;
	else if (strcmp(opt, "--ca") == 0)
		a->ca = val;
	else if (strcmp(opt, "--crl") == 0)
		a->crl = val;
	else if (strcmp(opt, "--cert-dir") == 0)
		a->cert_dir = val;
	else if (strcmp(opt, "--ttl") == 0)
		return (a->ttl = seconds(val)) > 0 ? 0 : -1;
	else if (strcmp(opt, "--skew") == 0)
		return (a->skew = seconds(val)) >= 0 ? 0 : -1;
	else if (strcmp(opt, "--max-age") == 0)
		return (a->max_age = seconds(val)) > 0 ? 0 : -1;
	else
		return -1;
	return 0;
}

/* Parse "--opt value"... IN; 0, or -1 after a message on stderr. */
static int
parse_args(const char *cmd, int argc, char **argv, struct wsse_args *a)
{
	int	i;

	memset(a, 0, sizeof(*a));
	a->ttl = 300;
	a->skew = 300;
	a->max_age = 600;
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) != 0 || strcmp(argv[i], "-") == 0) {
			if (a->in != NULL) {
				fprintf(stderr, "kruispunt %s: one input file only\n", cmd);
				return -1;
			}
			a->in = argv[i];
		} else if (i + 1 >= argc || set_option(a, argv[i], argv[i + 1]) != 0) {
			fprintf(stderr, "kruispunt %s: bad option %s\n", cmd, argv[i]);
			return -1;
		} else
			i++;
	}
	if (a->in == NULL) {
		fprintf(stderr, "kruispunt %s: no input file\n", cmd);
		return -1;
	}
	return 0;
}

/* Read a whole file (or stdin for "-") into memory. */
static char *
read_all(const char *path, size_t *len)
{
	FILE	*fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char	*buf = NULL;
	size_t	 cap = 0, n;

	*len = 0;
	if (fp == NULL)
		return NULL;
	do {
		if (*len == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = xreallocarray(buf, cap, 1);
		}
		n = fread(buf + *len, 1, cap - *len, fp);
		*len += n;
	} while (n > 0 && *len <= TOOL_MAX_MESSAGE);
	if (fp != stdin)
		fclose(fp);
	return buf;
}

/* Read and parse the input envelope; prints why not. */
static struct envelope *
load_envelope(const char *cmd, const char *path)
{
	struct envelope_limits	 l;
	struct envelope		*env = NULL;
	char			*buf, reason[256];
	size_t			 len;
	enum kp_error		 e;

	envelope_limits_default(&l);
	l.max_size = TOOL_MAX_MESSAGE;
	if ((buf = read_all(path, &len)) == NULL) {
		fprintf(stderr, "kruispunt %s: %s: %s\n", cmd, path, strerror(errno));
		return NULL;
	}
	e = envelope_parse(buf, len, &l, &env, reason, sizeof(reason));
	free(buf);
	if (e != KP_OK)
		fprintf(stderr, "kruispunt %s: %s: %s: %s\n", cmd, path,
		    kp_strerror(e), reason);
	return env;
}

/* kruispunt sign */
static int
cmd_sign(struct admin_ctx *actx, int argc, char **argv)
{
	struct wsse_args	 a;
	struct wsse_options	 o;
	struct wsse_ctx		*ctx = NULL;
	struct envelope		*env = NULL;
	char			 err[256];
	int			 rc = ADMIN_EXIT_USAGE;

	(void)actx;
	if (parse_args("sign", argc, argv, &a) != 0)
		goto cleanup;
	if (a.key == NULL || a.ncerts != 1) {
		fprintf(stderr, "kruispunt sign: --key and one --cert are "
		    "required\n");
		goto cleanup;
	}
	rc = ADMIN_EXIT_FAIL;
	wsse_options_default(&o);
	o.key_file = a.key;
	o.cert_file = a.certs[0];
	o.ttl_ms = a.ttl * 1000;
	if ((ctx = wsse_ctx_new(&o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "kruispunt sign: %s\n", err);
		goto cleanup;
	}
	if ((env = load_envelope("sign", a.in)) == NULL)
		goto cleanup;
	if (wsse_sign(ctx, env->doc, err, sizeof(err)) != KP_OK) {
		fprintf(stderr, "kruispunt sign: %s\n", err);
		goto cleanup;
	}
	if (xmlDocDump(stdout, env->doc) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "kruispunt sign: cannot write the result\n");
		goto cleanup;
	}
	rc = ADMIN_EXIT_OK;
cleanup:
	envelope_free(env);
	wsse_ctx_free(ctx);
	return rc;
}

/* The --cert and --cert-dir certificates, or NULL when none given. */
static struct wsse_certset *
load_certset(const struct wsse_args *a, int *failed)
{
	struct wsse_certset	*cs;
	char			 err[256];
	int			 i;

	*failed = 0;
	if (a->ncerts == 0 && a->cert_dir == NULL)
		return NULL;
	cs = wsse_certset_new();
	for (i = 0; cs != NULL && i < a->ncerts && !*failed; i++)
		*failed = wsse_certset_add_file(cs, a->certs[i], err, sizeof(err)) < 0;
	if (cs != NULL && !*failed && a->cert_dir != NULL)
		*failed = wsse_certset_add_dir(cs, a->cert_dir, err, sizeof(err)) < 0;
	if (cs == NULL || *failed) {
		fprintf(stderr, "kruispunt verify: %s\n", cs ? err : "out of memory");
		*failed = 1;
	}
	return cs;
}

/* A time in ms as UTC text. */
static void
show_time(int64_t ms, char *buf, size_t len)
{
	time_t		t = (time_t)(ms / 1000);
	struct tm	tm;

	if (ms == 0) {
		snprintf(buf, len, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Print the verdict as field/value rows. */
static void
print_result(struct admin_ctx *actx, const struct wsse_result *r)
{
	static const char *const cols[] = { "field", "value" };
	struct output	*o = output_open(actx->format, stdout, 2, cols);
	char		 covered[WSSE_MAX_COVERED * 66] = "", created[32], expires[32];
	int		 i;

	for (i = 0; i < r->ncovered; i++)
		snprintf(covered + strlen(covered), sizeof(covered) - strlen(covered),
		    "%s%s", i ? ", " : "", r->covered[i]);
	show_time(r->created_ms, created, sizeof(created));
	show_time(r->expires_ms, expires, sizeof(expires));
	{
		const char *rows[][2] = {
			{ "verdict", kp_strerror(r->error) },
			{ "reason", r->reason },
			{ "explanation", kp_error_text(r->error) },
			{ "signer", r->subject[0] ? r->subject : "-" },
			{ "fingerprint", r->fingerprint[0] ? r->fingerprint : "-" },
			{ "key", r->key[0] ? r->key : "-" },
			{ "key_reference", r->keyref[0] ? r->keyref : "-" },
			{ "covered", covered[0] ? covered : "-" },
			{ "created", created },
			{ "expires", expires },
		};
		for (i = 0; i < (int)(sizeof(rows) / sizeof(rows[0])); i++)
			output_row(o, rows[i]);
	}
	output_close(o);
}

/* kruispunt verify */
static int
cmd_verify(struct admin_ctx *actx, int argc, char **argv)
{
	struct wsse_args	 a;
	struct wsse_options	 o;
	struct wsse_result	 res;
	struct wsse_certset	*cs = NULL;
	struct wsse_ctx		*ctx = NULL;
	struct envelope		*env = NULL;
	char			 err[256];
	int			 rc = ADMIN_EXIT_USAGE, failed;

	memset(&res, 0, sizeof(res));
	if (parse_args("verify", argc, argv, &a) != 0)
		goto cleanup;
	if (a.ca == NULL) {
		fprintf(stderr, "kruispunt verify: --ca is required\n");
		goto cleanup;
	}
	rc = ADMIN_EXIT_FAIL;
	cs = load_certset(&a, &failed);
	if (failed)
		goto cleanup;
	wsse_options_default(&o);
	o.ca_file = a.ca;
	o.crl_file = a.crl;
	o.clock_skew_ms = a.skew * 1000;
	o.max_age_ms = a.max_age * 1000;
	o.lookup = cs != NULL ? wsse_certset_lookup : NULL;
	o.lookup_arg = cs;
	if ((ctx = wsse_ctx_new(&o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "kruispunt verify: %s\n", err);
		goto cleanup;
	}
	if ((env = load_envelope("verify", a.in)) == NULL)
		goto cleanup;
	wsse_verify(ctx, env, &res);
	print_result(actx, &res);
	rc = res.error == KP_OK ? ADMIN_EXIT_OK : ADMIN_EXIT_FAIL;
cleanup:
	wsse_result_clear(&res);
	envelope_free(env);
	wsse_ctx_free(ctx);
	wsse_certset_free(cs);
	return rc;
}

/*
 * kruispunt - the registered-certificate lookup that wsse_verify asks: is
 * this signer registered, and to which institution?
 *
 * A signature with a BinarySecurityToken names its certificate; the lookup
 * then only says whether that certificate (by its SHA-256 fingerprint) is
 * registered in the directory, and to whom. A reference without a
 * certificate (X509IssuerSerial, SubjectKeyIdentifier, SHA-1 thumbprint) is
 * resolved among the registered, unrevoked certificates only: the hub never
 * trusts a key it was not told about.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/pem.h>

#include "certificate.h"
#include "certlookup.h"

struct cert_match {
	const struct wsse_keyref *ref;
	X509			**out;
};

/* Normalise an RFC 2253 name: no blanks after separators, case folded. */
static void
name_norm(const char *in, char *out, size_t len)
{
	size_t	n = 0;

	for (; *in != '\0' && n + 1 < len; in++) {
		if ((*in == ' ') && n > 0 && (out[n - 1] == ',' ||
		    out[n - 1] == '=' || out[n - 1] == '+'))
			continue;
		if (*in == ' ' && (in[1] == ',' || in[1] == '=' || in[1] == '+'))
			continue;
		out[n++] = (char)(*in >= 'A' && *in <= 'Z' ? *in + 32 : *in);
	}
	out[n] = '\0';
}

static int
hub_cert_match(void *arg, const char *pem, const char *issuer)
{
	struct cert_match	*m = arg;
	char			 a[1001], b[1001];
	BIO			*bio;
	X509			*x;

	if (m->ref->kind == WSSE_KEYREF_ISSUER_SERIAL) {
		name_norm(issuer, a, sizeof(a));
		name_norm(m->ref->issuer != NULL ? m->ref->issuer : "", b,
		    sizeof(b));
		if (strcmp(a, b) != 0)
			return 0;
	}
	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return 0;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x == NULL)
		return 0;
	*m->out = x;
	return 1;
}

/* Forget the last lookup's result. */
void
certlookup_reset(struct certlookup *l)
{
	l->found = 0;
	l->failed = 0;
	l->revoked = false;
	memset(&l->inst, 0, sizeof(l->inst));
}

/*
 * wsse's lookup (wsse_lookup_fn; arg is a struct certlookup): is this
 * certificate registered, or which registered one does a reference without
 * a certificate mean? The institution found stays in the struct.
 */
int
certlookup_fn(void *arg, const struct wsse_keyref *ref, X509 **cert)
{
	struct certlookup	*l = arg;
	struct cert_match	 m = { ref, cert };
	char			 hex[257], fingerprint[65];
	BIGNUM			*bn = NULL;
	char			*serial;
	int			 rc;

	l->found = 0;
	if (ref->kind != WSSE_KEYREF_TOKEN) {
		*cert = NULL;
		if (ref->kind == WSSE_KEYREF_ISSUER_SERIAL) {
			if (ref->serial == NULL || BN_dec2bn(&bn, ref->serial) == 0)
				return 0;
			serial = BN_bn2hex(bn);
			rc = directory_certificates(l->dir, DIR_CERT_SERIAL,
			    serial, hub_cert_match, &m);
			OPENSSL_free(serial);
			BN_free(bn);
		} else {
			if (ref->len * 2 >= sizeof(hex))
				return 0;
			certificate_hex(ref->data, ref->len, hex);
			rc = directory_certificates(l->dir, ref->kind ==
			    WSSE_KEYREF_SKI ? DIR_CERT_SKI : DIR_CERT_THUMBPRINT,
			    hex, hub_cert_match, &m);
		}
		if (rc != 1)
			return rc;
	}
	if (certificate_fingerprint(*cert != NULL && ref->kind !=
	    WSSE_KEYREF_TOKEN ? *cert : ref->cert, fingerprint) == -1)
		return 0;
	rc = directory_certificate(l->dir, fingerprint, &l->inst,
	    &l->revoked);
	if (rc == -1) {
		l->failed = 1;
		return -1;
	}
	l->found = rc == 1;
	if (rc == 0 && *cert != NULL && ref->kind != WSSE_KEYREF_TOKEN) {
		X509_free(*cert);
		*cert = NULL;
	}
	return rc;
}

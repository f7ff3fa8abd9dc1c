/*
 * kruispunt - an in-memory set of registered certificates.
 *
 * Backs the wsse lookup callback for `kruispunt verify --cert/--cert-dir` and
 * the tests; the hub itself answers the same questions from the directory's
 * registered certificates. Issuer names are compared as RFC 2253 text,
 * case-insensitive and with blanks around ',' and '=' ignored.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "wsse.h"
#include "xmalloc.h"

struct wsse_certset {
	STACK_OF(X509)	*certs;
};

/* An empty set. */
struct wsse_certset *
wsse_certset_new(void)
{
	struct wsse_certset	*cs = xcalloc(1, sizeof(*cs));

	if ((cs->certs = sk_X509_new_null()) == NULL) {
		free(cs);
		return NULL;
	}
	return cs;
}

/* Free the set and its certificates. */
void
wsse_certset_free(struct wsse_certset *cs)
{
	if (cs == NULL)
		return;
	sk_X509_pop_free(cs->certs, X509_free);
	free(cs);
}

/* Add every certificate of a PEM file; the number added, or -1. */
int
wsse_certset_add_file(struct wsse_certset *cs, const char *path, char *err,
    size_t errlen)
{
	FILE	*fp;
	X509	*x;
	int	 n = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open", path);
		return -1;
	}
	while ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
		sk_X509_push(cs->certs, x);
		n++;
	}
	fclose(fp);
	if (n == 0) {
		snprintf(err, errlen, "%s: no PEM certificate", path);
		return -1;
	}
	return n;
}

/* Add the certificates of every *.pem and *.crt file in dir. */
int
wsse_certset_add_dir(struct wsse_certset *cs, const char *dir, char *err,
    size_t errlen)
{
	DIR		*d;
	struct dirent	*de;
	char		*path;
	size_t		 len;
	int		 n = 0, r;

	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: cannot open the directory", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || (strcmp(de->d_name + len - 4, ".pem") != 0 &&
		    strcmp(de->d_name + len - 4, ".crt") != 0))
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		r = wsse_certset_add_file(cs, path, err, errlen);
		free(path);
		if (r < 0) {
			n = -1;
			break;
		}
		n += r;
	}
	closedir(d);
	return n;
}

/* Issuer text normalised for comparison. */
static void
normalise_dn(const char *in, char *out, size_t len)
{
	size_t	n = 0;

	for (; *in && n + 1 < len; in++) {
		if (isspace((unsigned char)*in) && (n == 0 || out[n - 1] == ',' ||
		    out[n - 1] == '=' || in[1] == ',' || in[1] == '=' ||
		    in[1] == '\0' || isspace((unsigned char)in[1])))
			continue;
		out[n++] = (char)tolower((unsigned char)*in);
	}
	out[n] = '\0';
}

/* True when cert's issuer and serial are those of ref. */
static int
match_issuer_serial(X509 *cert, const struct wsse_keyref *ref)
{
	char	 a[512], b[512], *text = NULL, *dec = NULL;
	BIO	*bio;
	BIGNUM	*bn;
	int	 n, ok = 0;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return 0;
	X509_NAME_print_ex(bio, X509_get_issuer_name(cert), 0, XN_FLAG_RFC2253);
	n = BIO_read(bio, a, sizeof(a) - 1);
	a[n > 0 ? n : 0] = '\0';
	BIO_free(bio);
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL)) != NULL)
		dec = BN_bn2dec(bn);
	normalise_dn(a, b, sizeof(b));
	text = xstrdup(b);
	normalise_dn(ref->issuer, a, sizeof(a));
	ok = dec != NULL && strcmp(text, a) == 0 && strcmp(dec, ref->serial) == 0;
	free(text);
	OPENSSL_free(dec);
	BN_free(bn);
	return ok;
}

/* True when cert is the one ref names. */
static int
certset_match(X509 *cert, const struct wsse_keyref *ref)
{
	const ASN1_OCTET_STRING	*ski;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen;

	switch (ref->kind) {
	case WSSE_KEYREF_TOKEN:
		return X509_cmp(cert, ref->cert) == 0;
	case WSSE_KEYREF_SKI:
		ski = X509_get0_subject_key_id(cert);
		return ski != NULL && (size_t)ASN1_STRING_length(ski) == ref->len &&
		    memcmp(ASN1_STRING_get0_data(ski), ref->data, ref->len) == 0;
	case WSSE_KEYREF_THUMBPRINT:
		return X509_digest(cert, EVP_sha1(), md, &mdlen) == 1 &&
		    mdlen == ref->len && memcmp(md, ref->data, mdlen) == 0;
	case WSSE_KEYREF_ISSUER_SERIAL:
		return match_issuer_serial(cert, ref);
	}
	return 0;
}

/* The wsse_lookup_fn over a certset. */
int
wsse_certset_lookup(void *arg, const struct wsse_keyref *ref, X509 **cert)
{
	struct wsse_certset	*cs = arg;
	X509			*x;
	int			 i;

	for (i = 0; i < sk_X509_num(cs->certs); i++) {
		x = sk_X509_value(cs->certs, i);
		if (certset_match(x, ref)) {
			if (X509_up_ref(x) != 1)
				return -1;
			*cert = x;
			return 1;
		}
	}
	return 0;
}

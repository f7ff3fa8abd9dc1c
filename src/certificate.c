/*
 * kruispunt - X.509 certificates as the directory registers them.
 *
 * An institution is known to the hub by the certificates registered to it:
 * `kruispunt directory add-cert` stores the SHA-256 fingerprint of the DER
 * form (how the hub maps a verified signer to its institution), the SHA-1
 * thumbprint, issuer and serial, and subject key identifier (how key
 * references without a certificate are resolved), the validity, and the PEM
 * itself. `revoke-cert` marks a certificate revoked: the hub then refuses it
 * whatever the CA's revocation list says.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "certificate.h"
#include "db.h"
#include "xmalloc.h"

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void
certificate_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t	i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int
cert_name(X509_NAME *name, char *out, size_t len)
{
	BIO	*bio = BIO_new(BIO_s_mem());
	int	 n;

	if (bio == NULL)
		return -1;
	X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	n = BIO_read(bio, out, (int)len - 1);
	out[n > 0 ? n : 0] = '\0';
	BIO_free(bio);
	return 0;
}

static int
cert_time(const ASN1_TIME *t, char out[20])
{
	struct tm	tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
	return 0;
}

/* The ex_data slot where a certificate's fingerprint is kept (a copy of
 * its hex, freed with the certificate). */
static int		fp_index = -1;
static pthread_once_t	fp_once = PTHREAD_ONCE_INIT;

static void
fp_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	(void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
	free(ptr);
}

static void
fp_init(void)
{
	fp_index = X509_get_ex_new_index(0, NULL, NULL, NULL, fp_free);
}

/*
 * The SHA-256 fingerprint of a certificate (lower-case hex) into out; 0 or
 * -1. The hub maps every signer to an institution by it, twice per
 * exchange, mostly for the same few certificates (each worker's WS-Security
 * context keeps the X509 of a token it has seen); a certificate never
 * changes once parsed, so the hex is kept with the X509 object and freed
 * with it. Only one thread uses an X509 of a worker's context at a time.
 */
int
certificate_fingerprint(X509 *x, char out[65])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	const char	*kept;
	char		*copy;

	pthread_once(&fp_once, fp_init);
	if (fp_index >= 0 && (kept = X509_get_ex_data(x, fp_index)) != NULL) {
		memcpy(out, kept, 65);
		return 0;
	}
	if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32)
		return -1;
	certificate_hex(md, mdlen, out);
	if (fp_index >= 0) {
		copy = xstrdup(out);
		if (X509_set_ex_data(x, fp_index, copy) != 1)
			free(copy);
	}
	return 0;
}

/* Fill info from a certificate; 0 or -1. */
int
certificate_info(X509 *x, struct cert_info *info)
{
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen;
	const ASN1_OCTET_STRING	*ski;
	BIGNUM			*bn;
	char			*hex;

	memset(info, 0, sizeof(*info));
	if (certificate_fingerprint(x, info->fingerprint) == -1)
		return -1;
	if (X509_digest(x, EVP_sha1(), md, &mdlen) != 1)
		return -1;
	certificate_hex(md, mdlen, info->thumbprint_sha1);
	cert_name(X509_get_subject_name(x), info->subject, sizeof(info->subject));
	cert_name(X509_get_issuer_name(x), info->issuer, sizeof(info->issuer));
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) == NULL)
		return -1;
	hex = BN_bn2hex(bn);
	snprintf(info->serial, sizeof(info->serial), "%s", hex != NULL ? hex : "");
	OPENSSL_free(hex);
	BN_free(bn);
	if ((ski = X509_get0_subject_key_id(x)) != NULL &&
	    (size_t)ASN1_STRING_length(ski) * 2 < sizeof(info->ski))
		certificate_hex(ASN1_STRING_get0_data(ski),
		    (size_t)ASN1_STRING_length(ski), info->ski);
	if (cert_time(X509_get0_notBefore(x), info->not_before) == -1 ||
	    cert_time(X509_get0_notAfter(x), info->not_after) == -1)
		return -1;
	return 0;
}

/* Read one PEM certificate; *pem gets the PEM text (free it). */
X509 *
certificate_read_pem(const char *path, char **pem, char *err, size_t errlen)
{
	FILE	*fp;
	X509	*x;
	BIO	*bio;
	char	*data;
	long	 n;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (x == NULL) {
		snprintf(err, errlen, "%s: not a PEM certificate", path);
		return NULL;
	}
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(bio, x);
	n = BIO_get_mem_data(bio, &data);
	*pem = xstrndup(data, (size_t)n);
	BIO_free(bio);
	return x;
}

/* Register the certificate in path to institution; 0 or -1 with err. */
int
certificate_add(MYSQL *db, const char *institution, const char *path,
    struct cert_info *info, char *err, size_t errlen)
{
	struct db_query	 q;
	X509		*x;
	char		*pem = NULL;
	int		 rc = -1;

	if ((x = certificate_read_pem(path, &pem, err, errlen)) == NULL)
		return -1;
	if (certificate_info(x, info) == -1) {
		snprintf(err, errlen, "%s: cannot read the certificate's fields",
		    path);
		goto done;
	}
	if (db_query_prepare(db, &q, "INSERT INTO certificate (fingerprint, "
	    "institution, subject, issuer, serial, ski, thumbprint_sha1, "
	    "not_before, not_after, pem) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	    == -1) {
		snprintf(err, errlen, "%s", db_query_error(&q));
		db_query_close(&q);
		goto done;
	}
	{
		const char *const p[] = { info->fingerprint, institution,
		    info->subject, info->issuer, info->serial,
		    info->ski[0] ? info->ski : NULL, info->thumbprint_sha1,
		    info->not_before, info->not_after, pem };
		if (db_query_exec(&q, p) == -1) {
			unsigned int e = db_query_errno(&q);
			if (e == 1062)
				snprintf(err, errlen, "certificate %s is already "
				    "registered", info->fingerprint);
			else if (e == 1452)
				snprintf(err, errlen, "institution %s is not in "
				    "the directory", institution);
			else
				snprintf(err, errlen, "%s", db_query_error(&q));
		} else
			rc = 0;
	}
	db_query_close(&q);
done:
	free(pem);
	X509_free(x);
	return rc;
}

/* Mark a registered certificate revoked: 0, 1 if unknown, -1 with err. */
int
certificate_revoke(MYSQL *db, const char *fingerprint, char *err,
    size_t errlen)
{
	struct db_query		 q;
	const char *const	 p[] = { fingerprint };
	int			 rc = -1;

	if (db_query_prepare(db, &q, "SELECT revoked FROM certificate "
	    "WHERE fingerprint = ?") == -1 || db_query_exec(&q, p) == -1) {
		snprintf(err, errlen, "%s", db_query_error(&q));
		db_query_close(&q);
		return -1;
	}
	rc = db_query_fetch(&q) == 1 ? 0 : 1;
	while (rc == 0 && db_query_fetch(&q) == 1)
		;
	db_query_close(&q);
	if (rc == 1)
		return 1;
	if (db_query_prepare(db, &q, "UPDATE certificate SET revoked = TRUE, "
	    "revoked_at = COALESCE(revoked_at, UTC_TIMESTAMP()) "
	    "WHERE fingerprint = ?") == -1 || db_query_exec(&q, p) == -1) {
		snprintf(err, errlen, "%s", db_query_error(&q));
		rc = -1;
	}
	db_query_close(&q);
	return rc;
}

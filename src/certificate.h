/*
 * kruispunt - X.509 certificates as the directory registers them.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_CERTIFICATE_H
#define KP_CERTIFICATE_H

#include <stddef.h>

#include <mysql.h>
#include <openssl/x509.h>

/* What the directory keeps of a certificate. */
struct cert_info {
	char	fingerprint[65];	/* SHA-256 of the DER form, hex */
	char	thumbprint_sha1[41];	/* for ThumbprintSHA1 references */
	char	subject[1001];		/* RFC 2253 */
	char	issuer[1001];
	char	serial[101];		/* hex */
	char	ski[129];		/* hex, "" when absent */
	char	not_before[20];		/* YYYY-MM-DD HH:MM:SS, UTC */
	char	not_after[20];
};

int	certificate_info(X509 *, struct cert_info *);
int	certificate_fingerprint(X509 *, char out[65]);
X509	*certificate_read_pem(const char *path, char **pem, char *err, size_t);
void	certificate_hex(const unsigned char *, size_t, char *out);
int	certificate_add(MYSQL *, const char *institution, const char *path,
	    struct cert_info *, char *err, size_t errlen);
int	certificate_revoke(MYSQL *, const char *fingerprint, char *err,
	    size_t errlen);

#endif

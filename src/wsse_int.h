/*
 * kruispunt - what wsse.c and wsse_sign.c share; not for other modules.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_WSSE_INT_H
#define KP_WSSE_INT_H

#include <xmlsec/xmlsec.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/keys.h>

#include "wsse.h"

/* Refusal reasons are formatted as the envelope module does. */
#define wsse_refuse	envelope_refuse

#define WSSE_CHAIN_CACHE	256	/* chain verdicts per context */

/* A certificate chain verdict, by SHA-256 fingerprint. */
struct wsse_chain_entry {
	unsigned char	fp[32];
	int64_t		until;
	int		x509_error;	/* X509_V_OK when the chain verified */
};

struct wsse_ctx {
	struct wsse_options	 opt;
	char			*ca_file;
	char			*crl_file;
	X509_STORE		*store;
	X509_STORE_CTX		*store_ctx;
	struct wsse_chain_entry	 cache[WSSE_CHAIN_CACHE];
	xmlSecDSigCtx		 dsig;

	/* signing: loaded once */
	xmlSecKeyPtr		 sign_key;
	X509			*sign_cert;
	char			*sign_bst;	/* base64 DER of sign_cert */
	int			 sign_ec;
};

int64_t		 wsse_ctx_now(const struct wsse_ctx *);
int		 wsse_sign_load(struct wsse_ctx *, char *err, size_t errlen);
void		 wsse_sign_unload(struct wsse_ctx *);
xmlSecKeyPtr	 wsse_key_from_evp(EVP_PKEY *);
const char	*wsse_xmlsec_error(void);
void		 wsse_xmlsec_error_reset(void);

#endif

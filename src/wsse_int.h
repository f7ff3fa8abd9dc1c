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

/* The XML Signature namespace, as envelope_is and soapmsg_child take it. */
#define DS_NS		"http://www.w3.org/2000/09/xmldsig#"

#define WSSE_CHAIN_CACHE	256	/* chain verdicts per context */
#define WSSE_CERT_WAYS		4	/* parsed certificates: ways per set */
#define WSSE_CERT_CACHE_DEFAULT	256	/* parsed certificates per context */

/* A certificate chain verdict, by SHA-256 fingerprint. */
struct wsse_chain_entry {
	unsigned char	fp[32];
	int64_t		until;
	int		x509_error;	/* X509_V_OK when the chain verified */
};

/*
 * A parsed certificate, found again by the exact bytes it came from: the
 * base64 text of a BinarySecurityToken, or the DER of a certificate that the
 * lookup returned. It holds no trust decision (the chain verdict is cached
 * apart, by fingerprint, and forgotten on wsse_ctx_reload_trust()); only what
 * follows from those bytes alone: the X509, its fingerprint and subject, the
 * key strength (only strong keys are kept) and the key wrapped for xmlsec.
 */
struct wsse_cert_entry {
	uint64_t	 hash;
	unsigned char	*bytes;		/* NULL: an empty slot */
	size_t		 len;
	int		 kind;		/* CERT_FROM_TOKEN, CERT_FROM_LOOKUP */
	uint64_t	 used;		/* LRU tick */
	X509		*cert;
	xmlSecKeyPtr	 key;		/* the public key, for dsigCtx->signKey */
	unsigned char	 fp[32];	/* SHA-256 of the DER (X509_digest) */
	char		 fingerprint[65];
	char		 subject[256];
	char		 keydesc[32];
};

struct wsse_ctx {
	struct wsse_options	 opt;
	char			*ca_file;
	char			*crl_file;
	X509_STORE		*store;
	X509_STORE_CTX		*store_ctx;
	struct wsse_chain_entry	 cache[WSSE_CHAIN_CACHE];
	struct wsse_cert_entry	*certs;		/* nsets x WSSE_CERT_WAYS */
	struct wsse_cert_entry	 pending;	/* parsed, chain not yet checked */
	size_t			 cert_sets;
	uint64_t		 tick;
	struct wsse_stats	 stats;
	xmlSecDSigCtx		 dsig;

	/* signing: loaded once */
	xmlSecKeyPtr		 sign_key;
	EVP_PKEY		*sign_pkey;	/* the same key, for sign_own */
	EVP_MD_CTX		*sign_md;
	X509			*sign_cert;
	char			*sign_bst;	/* base64 DER of sign_cert */
	int			 sign_ec;
	uint64_t		 id_seed;	/* wsu:Ids: random start */
	uint64_t		 id_count;	/* and a counter */
};

/*
 * The tree pruned to one path while xmlsec canonicalises (wsse.c). libxml2's
 * c14n walks the whole document for every pass (three per signature: Body,
 * Timestamp, SignedInfo) and asks xmlsec about every node. Exclusive c14n of
 * an element depends only on its subtree and the namespaces declared on its
 * ancestors, never on siblings, so just before each pass the target and its
 * ancestors are made only children (their siblings stay linked to each
 * other and to their parent, merely unreachable from it for a moment): the
 * bytes hashed and signed are the same, the walk is the target's subtree.
 */
#define WSSE_PRUNE_DEPTH	32	/* deeper targets: no pruning */

struct wsse_prune_level {
	xmlNodePtr	node;		/* an ancestor-or-self of the target */
	xmlNodePtr	prev, next;	/* its siblings */
	xmlNodePtr	first, last;	/* its parent's children */
};

struct wsse_prune {
	xmlDocPtr		 doc;
	xmlNodePtr		 signed_info;
	int			 n;	/* levels pruned now */
	struct wsse_prune_level	 level[WSSE_PRUNE_DEPTH];
};

void		 wsse_prune_begin(struct wsse_prune *, xmlSecDSigCtxPtr,
		    xmlNodePtr signature);
void		 wsse_prune_end(struct wsse_prune *);
int64_t		 wsse_ctx_now(const struct wsse_ctx *);
int		 wsse_sign_load(struct wsse_ctx *, char *err, size_t errlen);
void		 wsse_sign_unload(struct wsse_ctx *);
xmlSecKeyPtr	 wsse_key_from_evp(EVP_PKEY *);
int		 wsse_c14n_register(void);
int		 wsse_sigalg_register(void);
xmlSecTransformId wsse_sigalg(xmlSecTransformId);
int		 wsse_c14n_enable(xmlSecDSigCtxPtr);
int		 wsse_c14n_subtree(const xmlNode *, char **out, size_t *len);
int		 wsse_ecdsa_raw(EVP_PKEY *, const unsigned char *der,
		    size_t len, unsigned char *raw, size_t rawlen);
const char	*wsse_xmlsec_error(void);
void		 wsse_xmlsec_error_reset(void);

#endif

/*
 * kruispunt - WS-Security (X.509 Token Profile 1.0/1.1) verify and sign.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_WSSE_H
#define KP_WSSE_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>
#include <openssl/x509.h>

#include "envelope.h"
#include "errors.h"
#include "replay.h"

#define WSSE_NS	"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
#define WSU_NS	"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
#define WSSE_X509V3	"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
#define WSSE_SKI	"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509SubjectKeyIdentifier"
#define WSSE_THUMBPRINT	"http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#ThumbprintSHA1"
#define WSSE_BASE64	"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"

/* How a signature names its key. */
enum wsse_keyref_kind {
	WSSE_KEYREF_TOKEN,		/* a BinarySecurityToken: cert is set */
	WSSE_KEYREF_ISSUER_SERIAL,	/* issuer (RFC 2253 text) and serial (decimal) */
	WSSE_KEYREF_SKI,		/* data: the SubjectKeyIdentifier */
	WSSE_KEYREF_THUMBPRINT,		/* data: SHA-1 of the DER certificate */
};

struct wsse_keyref {
	enum wsse_keyref_kind	 kind;
	X509			*cert;
	const unsigned char	*data;
	size_t			 len;
	const char		*issuer;
	const char		*serial;
};

/*
 * The registered-certificate lookup. For WSSE_KEYREF_TOKEN it says whether
 * the (already verified) certificate is registered; for the others it finds
 * the certificate and puts a new reference to it in *cert. Returns 1 when
 * found/registered, 0 when not, -1 when it cannot tell (database down).
 */
typedef int (*wsse_lookup_fn)(void *arg, const struct wsse_keyref *,
    X509 **cert);

struct wsse_options {
	const char	*ca_file;	/* trust anchors (PEM); needed to verify */
	const char	*crl_file;	/* CRLs (PEM), or NULL */
	int64_t		 clock_skew_ms;
	int64_t		 max_age_ms;	/* oldest wsu:Created accepted */
	int64_t		 chain_cache_ms; /* how long a chain verdict is reused */
	wsse_lookup_fn	 lookup;	/* NULL: no registration check */
	void		*lookup_arg;
	struct replay	*replay;	/* NULL: no replay check */
	const char	*key_file;	/* signing key (PEM), or NULL */
	const char	*cert_file;	/* its certificate (PEM) */
	int64_t		 ttl_ms;	/* Expires - Created of what we sign */
	int64_t		(*clock)(void);	/* ms since the epoch; NULL: real time */
	size_t		 cert_cache;	/* parsed certificates kept per context;
					   0: the default (256) */
};

/* What a context's caches did (wsse_ctx_stats()); for /metrics and tests. */
struct wsse_stats {
	uint64_t	cert_hits;	/* certificate parsed before: reused */
	uint64_t	cert_misses;	/* certificate parsed now */
	uint64_t	chain_hits;	/* chain verdict reused */
	uint64_t	chain_misses;	/* chain verified now */
	size_t		certs_cached;	/* parsed certificates held now */
	size_t		certs_capacity;	/* at most this many */
};

#define WSSE_MAX_COVERED	8

/* What wsse_verify() found; free with wsse_result_clear(). */
struct wsse_result {
	enum kp_error	 error;
	char		 reason[256];
	X509		*cert;		/* the signer, once its signature checked */
	char		 fingerprint[65];	/* SHA-256, lowercase hex */
	char		 subject[256];
	char		 key[32];	/* "RSA-2048", "EC-P-256", ... */
	const char	*keyref;	/* how the key was named */
	int		 ncovered;
	char		 covered[WSSE_MAX_COVERED][64];	/* signed elements */
	int64_t		 created_ms;
	int64_t		 expires_ms;	/* 0 when the Timestamp has none */
	unsigned char	 signed_info[32];	/* SHA-256 of the canonical
					 * SignedInfo: what was signed */
};

/*
 * One wsse_ctx per worker thread. A context keeps, bounded: parsed
 * certificates (by the exact token bytes, or the DER the lookup returned;
 * only those whose chain verified), chain verdicts (by fingerprint, for
 * chain_cache_ms and never past the certificate's notAfter), the signing
 * key. wsse_ctx_reload_trust() forgets verdicts and certificates, so a new
 * CRL takes effect at once. wsse_verify() and wsse_sign() change the tree
 * they are given while they run (ids are registered; during each c14n pass
 * the tree is pruned to the part being hashed and then restored exactly):
 * no other thread may read that document during the call.
 */
struct wsse_ctx;

int		 wsse_global_init(char *err, size_t errlen);
void		 wsse_options_default(struct wsse_options *);
struct wsse_ctx	*wsse_ctx_new(const struct wsse_options *, char *err,
		    size_t errlen);
void		 wsse_ctx_free(struct wsse_ctx *);
int		 wsse_ctx_reload_trust(struct wsse_ctx *, char *err,
		    size_t errlen);
void		 wsse_ctx_stats(const struct wsse_ctx *, struct wsse_stats *);
enum kp_error	 wsse_verify(struct wsse_ctx *, struct envelope *,
		    struct wsse_result *);
void		 wsse_result_clear(struct wsse_result *);
enum kp_error	 wsse_sign(struct wsse_ctx *, xmlDocPtr, char *reason,
		    size_t reasonlen);
int64_t		 wsse_now_ms(void);

/* Canonicalisations written by kruispunt's own exclusive c14n and those
 * left to libxml2's (wsse_c14n.c), since the process started. */
void		 wsse_c14n_counts(uint64_t *fast, uint64_t *libxml2);
/* For benches: every canonicalisation by libxml2, as xmlsec does it. */
void		 wsse_c14n_libxml2_only(int);
/* Signatures computed by kruispunt (wsse_sign.c) and by xmlsec's
 * transforms (what kruispunt's c14n leaves to libxml2), since the process
 * started; for tests and benches, every one by xmlsec. */
void		 wsse_sign_counts(uint64_t *own, uint64_t *xmlsec);
void		 wsse_sign_xmlsec_only(int);

/* An in-memory set of registered certificates (wsse_certset.c). */
struct wsse_certset;

struct wsse_certset *wsse_certset_new(void);
int		 wsse_certset_add_file(struct wsse_certset *, const char *path,
		    char *err, size_t errlen);
int		 wsse_certset_add_dir(struct wsse_certset *, const char *dir,
		    char *err, size_t errlen);
int		 wsse_certset_lookup(void *certset, const struct wsse_keyref *,
		    X509 **cert);
void		 wsse_certset_free(struct wsse_certset *);

#endif

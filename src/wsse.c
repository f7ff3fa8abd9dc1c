/*
 * kruispunt - WS-Security (X.509 Token Profile 1.0/1.1) verification.
 *
 * The hub trusts nothing a sender writes about itself: who signed comes only
 * from a certificate whose chain verified to the configured trust anchors
 * and whose key verified the signature. xmlsec does the XML-DSig arithmetic;
 * everything around it is ours, because xmlsec alone accepts wrapped and
 * fetching signatures (see notes/wsse-gsoap-facts.md):
 *
 *  1. structure: exactly one wsse:Security directly under soap:Header, one
 *     ds:Signature and one wsu:Timestamp directly under it, any order;
 *  2. ids: every wsu:Id is registered with xmlAddID by us, and an id that
 *     occurs twice (also against xml:id) refuses the message;
 *  3. SignedInfo: exclusive c14n, RSA-SHA256/384/512 or ECDSA-SHA256/384,
 *     SHA-256/384/512 digests, exc-c14n as the only reference transform and
 *     "#id" as the only URI form, no ds:Object; xmlsec is told the same
 *     (whitelists, same-document URIs, manifests ignored, no I/O callbacks),
 *     so nothing is ever fetched;
 *  4. key: a wsse:SecurityTokenReference to a BinarySecurityToken in the same
 *     Security header, or a SubjectKeyIdentifier, ThumbprintSHA1 or
 *     X509IssuerSerial resolved by the caller's lookup; RSA >= 2048 bits or
 *     EC P-256/P-384; chain to the anchors with the CRL, the verdict cached
 *     per context by fingerprint; the parsed certificate (X509, fingerprint,
 *     subject, the key wrapped for xmlsec) cached per context by the exact
 *     bytes it came from, once its chain verified (parsing a certificate
 *     with OpenSSL 3 costs more than all the rest of a verification);
 *  4b. an ECDSA SignatureValue in DER, as gSOAP's wsse plugin writes it,
 *     is read as the r || s that XML-DSig prescribes (ecdsa_der_to_raw);
 *  5. after overall success only, each reference of SignedInfo succeeded and
 *     the Body and the Timestamp found in step 1 are among the nodes they
 *     resolve to;
 *  6. Timestamp: Created no later than now + skew, no older than max age +
 *     skew; Expires (if any) not past by more than the skew;
 *  7. replay: (signer fingerprint, SignatureValue bytes) remembered until
 *     the end of the window in which step 6 would accept the message.
 *
 * Speed (bench/run-wsse): besides the caches, "#id" is resolved by xmlGetID()
 * rather than an XPath context per reference, and before each c14n pass the
 * tree is pruned to the path to the element being hashed, because libxml2's
 * c14n otherwise walks the whole document three times per signature.
 *
 * One wsse_ctx per worker thread; wsse_global_init() once per process.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/valid.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/transforms.h>

#include "log.h"
#include "wsse_int.h"
#include "xmalloc.h"

#define EXC_C14N	"http://www.w3.org/2001/10/xml-exc-c14n#"

static const char *const signature_methods[] = {
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
	NULL
};

static const char *const digest_methods[] = {
	"http://www.w3.org/2001/04/xmlenc#sha256",
	"http://www.w3.org/2001/04/xmldsig-more#sha384",
	"http://www.w3.org/2001/04/xmlenc#sha512",
	NULL
};

/* The nodes of the Security header that verification works on. */
struct sec_parts {
	xmlNodePtr	security;
	xmlNodePtr	signature;
	xmlNodePtr	timestamp;
};

/* ------------------------------------------------------------------ */
/* Process-wide initialisation and xmlsec's errors                     */
/* ------------------------------------------------------------------ */

static pthread_once_t	global_once = PTHREAD_ONCE_INIT;
static int		global_status = -1;
static _Thread_local char xmlsec_error[200];

/* Keep the first xmlsec error of the current operation, per thread. */
static void
xmlsec_error_cb(const char *file, int line, const char *func,
    const char *object, const char *subject, int reason, const char *msg)
{
	(void)file;
	(void)line;
	(void)reason;
	if (xmlsec_error[0] != '\0')
		return;
	snprintf(xmlsec_error, sizeof(xmlsec_error), "%s%s%s: %s",
	    object ? object : "", object ? " " : "",
	    subject ? subject : (func ? func : "xmlsec"), msg ? msg : "");
}

/* The first xmlsec error since the last reset. */
const char *
wsse_xmlsec_error(void)
{
	return xmlsec_error[0] ? xmlsec_error : "no detail from xmlsec";
}

/* Forget the last xmlsec error. */
void
wsse_xmlsec_error_reset(void)
{
	xmlsec_error[0] = '\0';
}

/* Initialise libxml2, xmlsec and its OpenSSL backend, without any I/O. */
static void
global_init_once(void)
{
	xmlInitParser();
	if (xmlSecInit() < 0)
		return;
	if (xmlSecCheckVersion() != 1)
		return;
	if (xmlSecCryptoAppInit(NULL) < 0 || xmlSecCryptoInit() < 0)
		return;
	/* no file, http or ftp reads from xmlsec, whatever a message says */
	xmlSecIOCleanupCallbacks();
	xmlSecErrorsSetCallback(xmlsec_error_cb);
	if (wsse_c14n_register() != 0 || wsse_sigalg_register() != 0)
		return;
	global_status = 0;
}

/* Once per process, before any context; safe to call from any thread. */
int
wsse_global_init(char *err, size_t errlen)
{
	pthread_once(&global_once, global_init_once);
	if (global_status != 0)
		wsse_refuse(err, errlen, KP_INTERNAL,
		    "cannot initialise xmlsec1 with OpenSSL");
	return global_status;
}

/* Milliseconds since the epoch, real time. */
int64_t
wsse_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The context's notion of now. */
int64_t
wsse_ctx_now(const struct wsse_ctx *ctx)
{
	return ctx->opt.clock != NULL ? ctx->opt.clock() : wsse_now_ms();
}

/* ------------------------------------------------------------------ */
/* Contexts and the trust store                                        */
/* ------------------------------------------------------------------ */

/* Defaults as in kruispunt.conf(5). */
void
wsse_options_default(struct wsse_options *o)
{
	memset(o, 0, sizeof(*o));
	o->clock_skew_ms = 300 * 1000;
	o->max_age_ms = 600 * 1000;
	o->chain_cache_ms = 300 * 1000;
	o->ttl_ms = 300 * 1000;
}

/* Build an X509_STORE from the CA file and the CRL file. */
static X509_STORE *
store_load(const char *ca_file, const char *crl_file, char *err, size_t errlen)
{
	X509_STORE	*store;

	if ((store = X509_STORE_new()) == NULL)
		return NULL;
	if (X509_STORE_load_file(store, ca_file) != 1) {
		wsse_refuse(err, errlen, KP_INTERNAL, "%s: cannot load the "
		    "trust anchors (PEM certificates)", ca_file);
		goto fail;
	}
	if (crl_file != NULL) {
		if (X509_STORE_load_file(store, crl_file) != 1) {
			wsse_refuse(err, errlen, KP_INTERNAL, "%s: cannot load "
			    "the CRL (PEM)", crl_file);
			goto fail;
		}
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	}
	return store;
fail:
	X509_STORE_free(store);
	return NULL;
}

/* Empty one slot of the certificate cache. */
static void
cert_entry_clear(struct wsse_cert_entry *ce)
{
	if (ce->key != NULL)
		xmlSecKeyDestroy(ce->key);
	X509_free(ce->cert);
	free(ce->bytes);
	memset(ce, 0, sizeof(*ce));
}

/* Forget every parsed certificate. */
static void
certcache_flush(struct wsse_ctx *ctx)
{
	size_t	i;

	for (i = 0; ctx->certs != NULL && i < ctx->cert_sets * WSSE_CERT_WAYS; i++)
		cert_entry_clear(&ctx->certs[i]);
	cert_entry_clear(&ctx->pending);
}

/* (Re)load the trust anchors and CRL; forget cached verdicts and certificates. */
int
wsse_ctx_reload_trust(struct wsse_ctx *ctx, char *err, size_t errlen)
{
	X509_STORE	*store;

	if (ctx->ca_file == NULL)
		return 0;
	if ((store = store_load(ctx->ca_file, ctx->crl_file, err, errlen)) == NULL)
		return -1;
	X509_STORE_free(ctx->store);
	ctx->store = store;
	memset(ctx->cache, 0, sizeof(ctx->cache));
	certcache_flush(ctx);
	return 0;
}

/* What the context's caches did so far. */
void
wsse_ctx_stats(const struct wsse_ctx *ctx, struct wsse_stats *st)
{
	size_t	i;

	*st = ctx->stats;
	st->certs_cached = 0;
	st->certs_capacity = ctx->cert_sets * WSSE_CERT_WAYS;
	for (i = 0; i < st->certs_capacity; i++)
		st->certs_cached += ctx->certs[i].bytes != NULL;
}

/* A context for one worker: trust store, chain cache, signing key. */
struct wsse_ctx *
wsse_ctx_new(const struct wsse_options *opt, char *err, size_t errlen)
{
	struct wsse_ctx	*ctx;

	if (wsse_global_init(err, errlen) != 0)
		return NULL;
	ctx = xcalloc(1, sizeof(*ctx));
	ctx->opt = *opt;
	ctx->ca_file = opt->ca_file ? xstrdup(opt->ca_file) : NULL;
	ctx->crl_file = opt->crl_file ? xstrdup(opt->crl_file) : NULL;
	ctx->opt.ca_file = ctx->ca_file;
	ctx->opt.crl_file = ctx->crl_file;
	ctx->opt.key_file = ctx->opt.cert_file = NULL;
	ctx->cert_sets = (opt->cert_cache ? opt->cert_cache :
	    WSSE_CERT_CACHE_DEFAULT) / WSSE_CERT_WAYS;
	if (ctx->cert_sets == 0)
		ctx->cert_sets = 1;
	ctx->certs = xcalloc(ctx->cert_sets * WSSE_CERT_WAYS,
	    sizeof(*ctx->certs));
	if ((ctx->store_ctx = X509_STORE_CTX_new()) == NULL)
		goto fail;
	if (wsse_ctx_reload_trust(ctx, err, errlen) != 0)
		goto fail;
	if (opt->key_file != NULL && opt->cert_file != NULL) {
		ctx->opt.key_file = opt->key_file;
		ctx->opt.cert_file = opt->cert_file;
		if (wsse_sign_load(ctx, err, errlen) != 0)
			goto fail;
		ctx->opt.key_file = ctx->opt.cert_file = NULL;
	}
	return ctx;
fail:
	wsse_ctx_free(ctx);
	return NULL;
}

/* Free a context. */
void
wsse_ctx_free(struct wsse_ctx *ctx)
{
	if (ctx == NULL)
		return;
	wsse_sign_unload(ctx);
	certcache_flush(ctx);
	free(ctx->certs);
	X509_STORE_CTX_free(ctx->store_ctx);
	X509_STORE_free(ctx->store);
	free(ctx->crl_file);
	free(ctx->ca_file);
	free(ctx);
}

/* Free what a result holds and reset it. */
void
wsse_result_clear(struct wsse_result *res)
{
	X509_free(res->cert);
	memset(res, 0, sizeof(*res));
}

/* ------------------------------------------------------------------ */
/* Structure and ids                                                   */
/* ------------------------------------------------------------------ */

/* The only child element of parent named ns:name, counting them. */
static xmlNodePtr
only_child(xmlNodePtr parent, const char *ns, const char *name, int *count)
{
	xmlNodePtr	n, found = NULL;

	*count = 0;
	for (n = envelope_first_element(parent); n != NULL;
	    n = envelope_next_element(n)) {
		if (envelope_is(n, ns, name)) {
			if (found == NULL)
				found = n;
			(*count)++;
		}
	}
	return found;
}

/* Find wsse:Security, its ds:Signature and its wsu:Timestamp. */
static enum kp_error
find_parts(struct envelope *env, struct sec_parts *p, char *reason, size_t rlen)
{
	int	n;

	memset(p, 0, sizeof(*p));
	if (env->header == NULL)
		return wsse_refuse(reason, rlen, KP_INVALID_SIGNATURE,
		    "no SOAP Header, so no WS-Security signature");
	p->security = only_child(env->header, WSSE_NS, "Security", &n);
	if (n == 0)
		return wsse_refuse(reason, rlen, KP_INVALID_SIGNATURE,
		    "no wsse:Security header");
	if (n > 1)
		return wsse_refuse(reason, rlen, KP_INVALID_MESSAGE,
		    "%d wsse:Security headers; exactly one is allowed", n);
	p->signature = only_child(p->security, DS_NS, "Signature", &n);
	if (n == 0)
		return wsse_refuse(reason, rlen, KP_INVALID_SIGNATURE,
		    "no ds:Signature directly under wsse:Security");
	if (n > 1)
		return wsse_refuse(reason, rlen, KP_INVALID_MESSAGE,
		    "%d ds:Signature elements in wsse:Security", n);
	p->timestamp = only_child(p->security, WSU_NS, "Timestamp", &n);
	if (n == 0)
		return wsse_refuse(reason, rlen, KP_EXPIRED,
		    "no wsu:Timestamp directly under wsse:Security");
	if (n > 1)
		return wsse_refuse(reason, rlen, KP_INVALID_MESSAGE,
		    "%d wsu:Timestamp elements in wsse:Security", n);
	return KP_OK;
}

/* Register the wsu:Id of n and its descendants; refuse an id seen twice. */
static enum kp_error
register_ids(xmlDocPtr doc, xmlNodePtr n, char *reason, size_t rlen)
{
	xmlAttrPtr	 attr, old;
	xmlChar		*id;
	enum kp_error	 e = KP_OK;

	for (; n != NULL && e == KP_OK; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if ((attr = xmlHasNsProp(n, BAD_CAST "Id", BAD_CAST WSU_NS)) != NULL &&
		    (id = xmlNodeGetContent((xmlNodePtr)attr)) != NULL) {
			old = xmlGetID(doc, id);
			if (old != NULL && old != attr)
				e = wsse_refuse(reason, rlen, KP_INVALID_MESSAGE,
				    "the id '%.64s' occurs more than once",
				    (const char *)id);
			else if (old == NULL && xmlAddID(NULL, doc, id, attr) == NULL)
				e = wsse_refuse(reason, rlen, KP_INVALID_MESSAGE,
				    "the id '%.64s' cannot be registered",
				    (const char *)id);
			xmlFree(id);
		}
		if (e == KP_OK)
			e = register_ids(doc, n->children, reason, rlen);
	}
	return e;
}

/* The element whose registered id is the fragment of uri "#id", or NULL. */
static xmlNodePtr
node_by_uri(xmlDocPtr doc, const char *uri)
{
	xmlAttrPtr	attr;

	if (uri == NULL || uri[0] != '#')
		return NULL;
	attr = xmlGetID(doc, BAD_CAST (uri + 1));
	return attr != NULL ? attr->parent : NULL;
}

/* ------------------------------------------------------------------ */
/* SignedInfo: algorithms and URIs, before xmlsec sees it              */
/* ------------------------------------------------------------------ */

/* True when s is in the NULL-terminated list. */
static int
in_list(const char *s, const char *const *list)
{
	for (; s != NULL && *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* The Algorithm attribute of n, as a static copy for messages. */
static const char *
algorithm(xmlNodePtr n, char *buf, size_t len)
{
	xmlChar	*a = xmlGetNoNsProp(n, BAD_CAST "Algorithm");

	snprintf(buf, len, "%s", a ? (const char *)a : "");
	xmlFree(a);
	return buf;
}

/* True when uri is "#" followed by an NCName-like id. */
static int
uri_is_local_id(const char *uri)
{
	const char	*p;

	if (uri == NULL || uri[0] != '#' || uri[1] == '\0')
		return 0;
	for (p = uri + 1; *p; p++)
		if (!(*p == '-' || *p == '_' || *p == '.' ||
		    (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z')))
			return 0;
	return !(uri[1] >= '0' && uri[1] <= '9') && uri[1] != '-' && uri[1] != '.';
}

/* A c14n method or transform: exclusive c14n, optionally with a PrefixList. */
static enum kp_error
check_c14n(xmlNodePtr n, const char *what, char *reason, size_t rlen)
{
	char		alg[128];
	xmlNodePtr	c;

	if (strcmp(algorithm(n, alg, sizeof(alg)), EXC_C14N) != 0)
		return wsse_refuse(reason, rlen, KP_INVALID_SIGNATURE,
		    "%s '%s' is not allowed (exclusive c14n only)", what, alg);
	for (c = envelope_first_element(n); c != NULL; c = envelope_next_element(c))
		if (!envelope_is(c, EXC_C14N, "InclusiveNamespaces"))
			return wsse_refuse(reason, rlen, KP_INVALID_SIGNATURE,
			    "unexpected <%s> in %s", (const char *)c->name, what);
	return KP_OK;
}

/* One ds:Reference: local URI, exc-c14n transforms, strong digest. */
static enum kp_error
check_reference(xmlNodePtr ref, char *reason, size_t rlen)
{
	xmlNodePtr	 n, t;
	xmlChar		*uri = xmlGetNoNsProp(ref, BAD_CAST "URI");
	char		 alg[128];
	enum kp_error	 e = KP_OK;

	if (!uri_is_local_id((const char *)uri))
		e = wsse_refuse(reason, rlen, KP_INVALID_SIGNATURE,
		    "reference URI '%.80s' is not allowed (only \"#id\" in "
		    "the same message)", uri ? (const char *)uri : "");
	n = envelope_first_element(ref);
	if (e == KP_OK && envelope_is(n, DS_NS, "Transforms")) {
		for (t = envelope_first_element(n); t != NULL && e == KP_OK;
		    t = envelope_next_element(t))
			e = check_c14n(t, "reference transform", reason, rlen);
		n = envelope_next_element(n);
	}
	if (e == KP_OK && !envelope_is(n, DS_NS, "DigestMethod"))
		e = wsse_refuse(reason, rlen, KP_INVALID_SIGNATURE,
		    "a ds:Reference lacks its DigestMethod");
	if (e == KP_OK && !in_list(algorithm(n, alg, sizeof(alg)), digest_methods))
		e = wsse_refuse(reason, rlen, KP_INVALID_SIGNATURE,
		    "digest method '%s' is not allowed (SHA-256 or stronger)",
		    alg);
	xmlFree(uri);
	return e;
}

/* SignedInfo and the shape of ds:Signature. */
static enum kp_error
check_signed_info(xmlNodePtr sig, char *reason, size_t rlen)
{
	xmlNodePtr	 si = envelope_first_element(sig), n;
	char		 alg[128];
	enum kp_error	 e;
	int		 nref = 0;

	for (n = envelope_next_element(si); n != NULL; n = envelope_next_element(n))
		if (!envelope_is(n, DS_NS, "SignatureValue") &&
		    !envelope_is(n, DS_NS, "KeyInfo"))
			return wsse_refuse(reason, rlen, KP_INVALID_SIGNATURE,
			    "ds:%s is not allowed in ds:Signature",
			    (const char *)n->name);
	if (!envelope_is(si, DS_NS, "SignedInfo"))
		return wsse_refuse(reason, rlen, KP_INVALID_SIGNATURE,
		    "ds:Signature does not start with ds:SignedInfo");
	n = envelope_first_element(si);
	if (!envelope_is(n, DS_NS, "CanonicalizationMethod"))
		return wsse_refuse(reason, rlen, KP_INVALID_SIGNATURE,
		    "ds:SignedInfo lacks its CanonicalizationMethod");
	if ((e = check_c14n(n, "canonicalization method", reason, rlen)) != KP_OK)
		return e;
	n = envelope_next_element(n);
	if (!envelope_is(n, DS_NS, "SignatureMethod") ||
	    !in_list(algorithm(n, alg, sizeof(alg)), signature_methods) ||
	    envelope_first_element(n) != NULL)
		return wsse_refuse(reason, rlen, KP_INVALID_SIGNATURE,
		    "signature method '%s' is not allowed (RSA-SHA256/384/512 "
		    "or ECDSA-SHA256/384)", n ? alg : "");
	for (n = envelope_next_element(n); n != NULL; n = envelope_next_element(n)) {
		if (!envelope_is(n, DS_NS, "Reference"))
			return wsse_refuse(reason, rlen, KP_INVALID_SIGNATURE,
			    "unexpected <%s> in ds:SignedInfo", (const char *)n->name);
		if ((e = check_reference(n, reason, rlen)) != KP_OK)
			return e;
		nref++;
	}
	if (nref == 0 || nref > WSSE_MAX_COVERED)
		return wsse_refuse(reason, rlen, KP_INVALID_SIGNATURE,
		    "ds:SignedInfo has %d references (1 to %d)", nref,
		    WSSE_MAX_COVERED);
	return KP_OK;
}

/* ------------------------------------------------------------------ */
/* The key: SecurityTokenReference                                     */
/* ------------------------------------------------------------------ */

/* Base64 text decoded into a new buffer; NULL when not base64. */
static unsigned char *
base64_decode(const xmlChar *text, int len, int *outlen)
{
	unsigned char	*out = NULL;
	EVP_ENCODE_CTX	*ec = NULL;
	int		 l1 = 0, l2 = 0;

	if (text == NULL || len <= 0)
		return NULL;
	if ((ec = EVP_ENCODE_CTX_new()) == NULL)
		return NULL;
	out = xmalloc((size_t)len);
	EVP_DecodeInit(ec);
	if (EVP_DecodeUpdate(ec, out, &l1, text, len) < 0 ||
	    EVP_DecodeFinal(ec, out + l1, &l2) != 1 || l1 + l2 == 0) {
		free(out);
		out = NULL;
	} else
		*outlen = l1 + l2;
	EVP_ENCODE_CTX_free(ec);
	return out;
}

/* Base64 text of n decoded into a new buffer; NULL when not base64. */
static unsigned char *
base64_of(xmlNodePtr n, int *outlen)
{
	xmlChar		*text = xmlNodeGetContent(n);
	unsigned char	*out;

	out = base64_decode(text, xmlStrlen(text), outlen);
	xmlFree(text);
	return out;
}

/* ------------------------------------------------------------------ */
/* Parsed certificates, kept per context                               */
/* ------------------------------------------------------------------ */

#define CERT_FROM_TOKEN		1	/* bytes: BinarySecurityToken text */
#define CERT_FROM_LOOKUP	2	/* bytes: DER from the lookup */

static enum kp_error	check_key_strength(X509 *, struct wsse_result *);
static void		describe_cert(X509 *, const unsigned char[32],
			    struct wsse_result *);

/*
 * Where bytes go in the cache. Entries are compared in full, so this is no
 * trust decision and need only spread the keys; colliding keys can at worst
 * evict each other, and every miss costs what parsing always cost.
 */
static uint64_t
cert_hash(int kind, const unsigned char *b, size_t len)
{
	uint64_t	h = 14695981039346656037ULL ^ (uint64_t)kind, w;

	for (; len >= 8; b += 8, len -= 8) {
		memcpy(&w, b, 8);
		h = (h ^ w) * 1099511628211ULL;
		h ^= h >> 29;
	}
	for (; len > 0; b++, len--)
		h = (h ^ *b) * 1099511628211ULL;
	return h ^ (h >> 32);
}

/* The set of WSSE_CERT_WAYS slots that a hash belongs to. */
static struct wsse_cert_entry *
cert_set(struct wsse_ctx *ctx, uint64_t h)
{
	return &ctx->certs[(h % ctx->cert_sets) * WSSE_CERT_WAYS];
}

/* Describe the signer in res from a cache entry. */
static void
cert_entry_describe(const struct wsse_cert_entry *ce, struct wsse_result *res)
{
	memcpy(res->fingerprint, ce->fingerprint, sizeof(res->fingerprint));
	memcpy(res->subject, ce->subject, sizeof(res->subject));
	memcpy(res->key, ce->keydesc, sizeof(res->key));
}

/* The entry parsed earlier from exactly these bytes, or NULL. */
static struct wsse_cert_entry *
certcache_find(struct wsse_ctx *ctx, int kind, const unsigned char *b,
    size_t len, uint64_t h)
{
	struct wsse_cert_entry	*set = cert_set(ctx, h);
	int			 i;

	for (i = 0; i < WSSE_CERT_WAYS; i++)
		if (set[i].bytes != NULL && set[i].hash == h &&
		    set[i].kind == kind && set[i].len == len &&
		    memcmp(set[i].bytes, b, len) == 0) {
			set[i].used = ++ctx->tick;
			ctx->stats.cert_hits++;
			return &set[i];
		}
	return NULL;
}

/*
 * A certificate just parsed from bytes (adopted; freed on failure): hash
 * and describe it, check its key and wrap the key for xmlsec, into the
 * context's pending slot. certcache_commit() moves it into the cache once
 * its chain verified, so certificates that are refused (weak key, unknown
 * issuer, revoked) never take a place from ones that are used. *out stays
 * valid until the next parse.
 */
static enum kp_error
certcache_add(struct wsse_ctx *ctx, int kind, const unsigned char *b,
    size_t len, uint64_t h, X509 *cert, struct wsse_cert_entry **out,
    struct wsse_result *res)
{
	struct wsse_cert_entry	 ce;
	unsigned int		 fplen;
	enum kp_error		 e;

	memset(&ce, 0, sizeof(ce));
	ce.cert = cert;
	ctx->stats.cert_misses++;
	if (X509_digest(cert, EVP_sha256(), ce.fp, &fplen) != 1) {
		e = wsse_refuse(res->reason, sizeof(res->reason), KP_INTERNAL,
		    "cannot hash the certificate");
		goto fail;
	}
	describe_cert(cert, ce.fp, res);
	if ((e = check_key_strength(cert, res)) != KP_OK)
		goto fail;
	wsse_xmlsec_error_reset();
	if ((ce.key = wsse_key_from_evp(X509_get0_pubkey(cert))) == NULL) {
		e = wsse_refuse(res->reason, sizeof(res->reason), KP_INTERNAL,
		    "cannot prepare xmlsec: %s", wsse_xmlsec_error());
		goto fail;
	}
	memcpy(ce.fingerprint, res->fingerprint, sizeof(ce.fingerprint));
	memcpy(ce.subject, res->subject, sizeof(ce.subject));
	memcpy(ce.keydesc, res->key, sizeof(ce.keydesc));
	ce.bytes = xmalloc(len);
	memcpy(ce.bytes, b, len);
	ce.len = len;
	ce.kind = kind;
	ce.hash = h;
	cert_entry_clear(&ctx->pending);
	ctx->pending = ce;
	*out = &ctx->pending;
	return KP_OK;
fail:
	cert_entry_clear(&ce);
	return e;
}

/* Keep a certificate whose chain verified: into the free or least recently
 * used slot of its set; where the entry is now. Entries found in the cache
 * stay where they are. */
static struct wsse_cert_entry *
certcache_commit(struct wsse_ctx *ctx, struct wsse_cert_entry *ce)
{
	struct wsse_cert_entry	*set, *victim;
	int			 i;

	if (ce != &ctx->pending)
		return ce;
	set = cert_set(ctx, ce->hash);
	victim = &set[0];
	for (i = 0; i < WSSE_CERT_WAYS && set[i].bytes != NULL; i++)
		if (set[i].used < victim->used)
			victim = &set[i];
	if (i < WSSE_CERT_WAYS)
		victim = &set[i];
	cert_entry_clear(victim);
	*victim = *ce;
	victim->used = ++ctx->tick;
	memset(ce, 0, sizeof(*ce));
	return victim;
}

/* A certificate returned by the lookup (adopted), through the cache. */
static enum kp_error
cert_from_lookup(struct wsse_ctx *ctx, X509 *cert, struct wsse_cert_entry **out,
    struct wsse_result *res)
{
	unsigned char	*der = NULL;
	uint64_t	 h;
	int		 len;
	enum kp_error	 e;

	if ((len = i2d_X509(cert, &der)) <= 0) {
		X509_free(cert);
		return wsse_refuse(res->reason, sizeof(res->reason), KP_INTERNAL,
		    "cannot encode the registered certificate");
	}
	h = cert_hash(CERT_FROM_LOOKUP, der, (size_t)len);
	if ((*out = certcache_find(ctx, CERT_FROM_LOOKUP, der, (size_t)len,
	    h)) != NULL) {
		X509_free(cert);
		cert_entry_describe(*out, res);
		e = KP_OK;
	} else
		e = certcache_add(ctx, CERT_FROM_LOOKUP, der, (size_t)len, h,
		    cert, out, res);
	OPENSSL_free(der);
	return e;
}

/* The certificate of the BinarySecurityToken that "#id" names, via the cache. */
static enum kp_error
token_cert(struct wsse_ctx *ctx, xmlDocPtr doc, xmlNodePtr security,
    const char *uri, struct wsse_cert_entry **out, struct wsse_result *res)
{
	xmlNodePtr		 bst = node_by_uri(doc, uri);
	xmlChar			*vt = NULL, *copy = NULL;
	const xmlChar		*text;
	unsigned char		*der = NULL;
	const unsigned char	*p;
	X509			*cert = NULL;
	uint64_t		 h;
	int			 len = 0, tlen;
	enum kp_error		 e = KP_OK;

	if (bst == NULL || !envelope_is(bst, WSSE_NS, "BinarySecurityToken") ||
	    bst->parent != security) {
		e = wsse_refuse(res->reason, sizeof(res->reason),
		    KP_INVALID_SIGNATURE, "the token reference '%.64s' does not "
		    "name a BinarySecurityToken of this wsse:Security header",
		    uri ? uri : "");
		goto cleanup;
	}
	vt = xmlGetNoNsProp(bst, BAD_CAST "ValueType");
	if (vt == NULL || strcmp((const char *)vt, WSSE_X509V3) != 0) {
		e = wsse_refuse(res->reason, sizeof(res->reason),
		    KP_INVALID_SIGNATURE, "the BinarySecurityToken is not an "
		    "X.509v3 certificate");
		goto cleanup;
	}
	/* the text as sent; no copy when it is one text node, as usual */
	if (bst->children != NULL && bst->children->next == NULL &&
	    bst->children->type == XML_TEXT_NODE)
		text = bst->children->content;
	else
		text = copy = xmlNodeGetContent(bst);
	tlen = xmlStrlen(text);
	h = cert_hash(CERT_FROM_TOKEN, text, (size_t)tlen);
	if (tlen > 0 && (*out = certcache_find(ctx, CERT_FROM_TOKEN, text,
	    (size_t)tlen, h)) != NULL) {
		cert_entry_describe(*out, res);
		goto cleanup;
	}
	if ((der = base64_decode(text, tlen, &len)) == NULL) {
		e = wsse_refuse(res->reason, sizeof(res->reason),
		    KP_INVALID_SIGNATURE, "the BinarySecurityToken is not base64");
		goto cleanup;
	}
	p = der;
	if ((cert = d2i_X509(NULL, &p, len)) == NULL || p != der + len) {
		X509_free(cert);
		e = wsse_refuse(res->reason, sizeof(res->reason),
		    KP_INVALID_SIGNATURE, "the BinarySecurityToken is not one "
		    "DER certificate");
		goto cleanup;
	}
	e = certcache_add(ctx, CERT_FROM_TOKEN, text, (size_t)tlen, h, cert,
	    out, res);
cleanup:
	free(der);
	xmlFree(copy);
	xmlFree(vt);
	return e;
}

/* Ask the lookup for a certificate named by ref. */
static enum kp_error
lookup_cert(struct wsse_ctx *ctx, const struct wsse_keyref *ref, X509 **cert,
    char *reason, size_t rlen)
{
	int	r;

	if (ctx->opt.lookup == NULL)
		return wsse_refuse(reason, rlen, KP_INVALID_SIGNATURE,
		    "the key is named by reference and no registered "
		    "certificates are available to resolve it");
	r = ctx->opt.lookup(ctx->opt.lookup_arg, ref, cert);
	if (r < 0)
		return wsse_refuse(reason, rlen, KP_INTERNAL,
		    "the registered certificates cannot be read");
	if (r == 0 || *cert == NULL)
		return wsse_refuse(reason, rlen, KP_UNKNOWN_SENDER,
		    "no registered certificate matches the key reference");
	return KP_OK;
}

/* A wsse:KeyIdentifier: SubjectKeyIdentifier or ThumbprintSHA1. */
static enum kp_error
key_identifier(struct wsse_ctx *ctx, xmlNodePtr ki, X509 **cert,
    struct wsse_result *res)
{
	struct wsse_keyref	 ref;
	xmlChar			*vt = xmlGetNoNsProp(ki, BAD_CAST "ValueType");
	unsigned char		*data = NULL;
	int			 len = 0;
	enum kp_error		 e = KP_OK;

	memset(&ref, 0, sizeof(ref));
	if (vt != NULL && strcmp((const char *)vt, WSSE_SKI) == 0) {
		ref.kind = WSSE_KEYREF_SKI;
		res->keyref = "SubjectKeyIdentifier";
	} else if (vt != NULL && strcmp((const char *)vt, WSSE_THUMBPRINT) == 0) {
		ref.kind = WSSE_KEYREF_THUMBPRINT;
		res->keyref = "ThumbprintSHA1";
	} else
		e = wsse_refuse(res->reason, sizeof(res->reason),
		    KP_INVALID_SIGNATURE, "key identifier type '%.100s' is "
		    "not supported", vt ? (const char *)vt : "");
	if (e == KP_OK && (data = base64_of(ki, &len)) == NULL)
		e = wsse_refuse(res->reason, sizeof(res->reason),
		    KP_INVALID_SIGNATURE, "the key identifier is not base64");
	if (e == KP_OK) {
		ref.data = data;
		ref.len = (size_t)len;
		e = lookup_cert(ctx, &ref, cert, res->reason, sizeof(res->reason));
	}
	free(data);
	xmlFree(vt);
	return e;
}

/* A ds:X509Data holding ds:X509IssuerSerial. */
static enum kp_error
issuer_serial(struct wsse_ctx *ctx, xmlNodePtr x509data, X509 **cert,
    struct wsse_result *res)
{
	struct wsse_keyref	 ref;
	xmlNodePtr		 is = envelope_first_element(x509data), n;
	xmlChar			*issuer = NULL, *serial = NULL;
	enum kp_error		 e;

	memset(&ref, 0, sizeof(ref));
	res->keyref = "X509IssuerSerial";
	if (envelope_is(is, DS_NS, "X509IssuerSerial")) {
		n = envelope_first_element(is);
		if (envelope_is(n, DS_NS, "X509IssuerName"))
			issuer = xmlNodeGetContent(n);
		n = envelope_next_element(n);
		if (envelope_is(n, DS_NS, "X509SerialNumber"))
			serial = xmlNodeGetContent(n);
	}
	if (issuer == NULL || serial == NULL) {
		e = wsse_refuse(res->reason, sizeof(res->reason),
		    KP_INVALID_SIGNATURE, "ds:X509Data must hold one "
		    "X509IssuerSerial with X509IssuerName and X509SerialNumber");
		goto cleanup;
	}
	ref.kind = WSSE_KEYREF_ISSUER_SERIAL;
	ref.issuer = (const char *)issuer;
	ref.serial = (const char *)serial;
	e = lookup_cert(ctx, &ref, cert, res->reason, sizeof(res->reason));
cleanup:
	xmlFree(serial);
	xmlFree(issuer);
	return e;
}

/* Resolve ds:KeyInfo/wsse:SecurityTokenReference to a certificate. */
static enum kp_error
resolve_key(struct wsse_ctx *ctx, xmlDocPtr doc, const struct sec_parts *p,
    struct wsse_cert_entry **out, struct wsse_result *res)
{
	xmlNodePtr	 ki = NULL, str, n;
	xmlChar		*uri;
	X509		*cert = NULL;
	enum kp_error	 e;
	int		 count;

	ki = only_child(p->signature, DS_NS, "KeyInfo", &count);
	str = ki ? envelope_first_element(ki) : NULL;
	if (envelope_is(str, DS_NS, "KeyValue"))
		return wsse_refuse(res->reason, sizeof(res->reason),
		    KP_INVALID_SIGNATURE, "a bare ds:KeyValue is not trusted: "
		    "the key must come from an X.509 certificate");
	if (!envelope_is(str, WSSE_NS, "SecurityTokenReference") ||
	    envelope_next_element(str) != NULL)
		return wsse_refuse(res->reason, sizeof(res->reason),
		    KP_INVALID_SIGNATURE, "ds:KeyInfo must hold exactly one "
		    "wsse:SecurityTokenReference");
	n = envelope_first_element(str);
	if (n == NULL || envelope_next_element(n) != NULL)
		return wsse_refuse(res->reason, sizeof(res->reason),
		    KP_INVALID_SIGNATURE, "the SecurityTokenReference must "
		    "hold exactly one reference");
	if (envelope_is(n, WSSE_NS, "Reference")) {
		res->keyref = "BinarySecurityToken";
		uri = xmlGetNoNsProp(n, BAD_CAST "URI");
		e = token_cert(ctx, doc, p->security, (const char *)uri, out,
		    res);
		xmlFree(uri);
		return e;
	}
	if (envelope_is(n, WSSE_NS, "KeyIdentifier"))
		e = key_identifier(ctx, n, &cert, res);
	else if (envelope_is(n, DS_NS, "X509Data"))
		e = issuer_serial(ctx, n, &cert, res);
	else
		return wsse_refuse(res->reason, sizeof(res->reason),
		    KP_INVALID_SIGNATURE, "unsupported key reference <%s>",
		    (const char *)n->name);
	if (e != KP_OK) {
		X509_free(cert);
		return e;
	}
	return cert_from_lookup(ctx, cert, out, res);
}

/* ------------------------------------------------------------------ */
/* The certificate: key strength, chain, cached verdicts               */
/* ------------------------------------------------------------------ */

/* RSA >= 2048 bits or EC on P-256/P-384; describe the key. */
static enum kp_error
check_key_strength(X509 *cert, struct wsse_result *res)
{
	EVP_PKEY	*pk = X509_get0_pubkey(cert);
	char		 group[64] = "";
	int		 bits;

	if (pk == NULL)
		return wsse_refuse(res->reason, sizeof(res->reason),
		    KP_INVALID_SIGNATURE, "the certificate has no usable key");
	bits = EVP_PKEY_get_bits(pk);
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA) {
		snprintf(res->key, sizeof(res->key), "RSA-%d", bits);
		if (bits < 2048)
			return wsse_refuse(res->reason, sizeof(res->reason),
			    KP_INVALID_SIGNATURE, "the RSA key has %d bits; at "
			    "least 2048 are required", bits);
		return KP_OK;
	}
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC &&
	    EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), NULL) == 1) {
		if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) {
			snprintf(res->key, sizeof(res->key), "EC-P-256");
			return KP_OK;
		}
		if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0) {
			snprintf(res->key, sizeof(res->key), "EC-P-384");
			return KP_OK;
		}
	}
	return wsse_refuse(res->reason, sizeof(res->reason), KP_INVALID_SIGNATURE,
	    "the certificate's key type is not allowed (RSA >= 2048 bits, EC "
	    "P-256 or P-384)%s%s", group[0] ? ": " : "", group);
}

/* Verify the chain to the trust anchors with OpenSSL; an X509_V_ code. */
static int
chain_verify(struct wsse_ctx *ctx, X509 *cert)
{
	X509_STORE_CTX	*sc = ctx->store_ctx;
	int		 err, ok;

	if (X509_STORE_CTX_init(sc, ctx->store, cert, NULL) != 1)
		return X509_V_ERR_UNSPECIFIED;
	if (ctx->opt.clock != NULL)
		X509_STORE_CTX_set_time(sc, 0, (time_t)(wsse_ctx_now(ctx) / 1000));
	ok = X509_verify_cert(sc);
	err = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(sc);
	if (ok != 1 && err == X509_V_OK)
		err = X509_V_ERR_UNSPECIFIED;	/* never OK by accident */
	X509_STORE_CTX_cleanup(sc);
	return err;
}

/* The chain verdict, from the cache when fresh. */
static enum kp_error
check_chain(struct wsse_ctx *ctx, X509 *cert, const unsigned char fp[32],
    struct wsse_result *res)
{
	struct wsse_chain_entry	*ce;
	int64_t			 now = wsse_ctx_now(ctx), until;
	struct tm		 tm;
	int			 err;

	if (ctx->store == NULL)
		return wsse_refuse(res->reason, sizeof(res->reason), KP_INTERNAL,
		    "no trust anchors are configured");
	ce = &ctx->cache[(fp[0] | fp[1] << 8) % WSSE_CHAIN_CACHE];
	if (memcmp(ce->fp, fp, 32) == 0 && ce->until > now) {
		err = ce->x509_error;
		ctx->stats.chain_hits++;
	} else {
		ctx->stats.chain_misses++;
		err = chain_verify(ctx, cert);
		until = now + ctx->opt.chain_cache_ms;
		if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1 &&
		    (int64_t)timegm(&tm) * 1000 < until)
			until = (int64_t)timegm(&tm) * 1000;
		memcpy(ce->fp, fp, 32);
		ce->x509_error = err;
		ce->until = until;
	}
	if (err != X509_V_OK)
		return wsse_refuse(res->reason, sizeof(res->reason),
		    KP_INVALID_SIGNATURE, "the certificate is not trusted: %s",
		    X509_verify_cert_error_string(err));
	return KP_OK;
}

/* Fill the result's description of the signer. */
static void
describe_cert(X509 *cert, const unsigned char fp[32], struct wsse_result *res)
{
	BIO	*b;
	int	 i, n;

	for (i = 0; i < 32; i++)
		snprintf(res->fingerprint + 2 * i, 3, "%02x", fp[i]);
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return;
	X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
	n = BIO_read(b, res->subject, sizeof(res->subject) - 1);
	res->subject[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

/* ------------------------------------------------------------------ */
/* xmlsec                                                              */
/* ------------------------------------------------------------------ */

/* An xmlsec key holding a new reference to pkey. */
xmlSecKeyPtr
wsse_key_from_evp(EVP_PKEY *pkey)
{
	xmlSecKeyDataPtr data;
	xmlSecKeyPtr	 key;

	if (EVP_PKEY_up_ref(pkey) != 1)
		return NULL;
	if ((data = xmlSecOpenSSLEvpKeyAdopt(pkey)) == NULL) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	if ((key = xmlSecKeyCreate()) == NULL || xmlSecKeySetValue(key, data) < 0) {
		xmlSecKeyDataDestroy(data);
		if (key != NULL)
			xmlSecKeyDestroy(key);
		return NULL;
	}
	return key;
}

/* Allow only the algorithms of the wire contract; no fetches, no manifests. */
static int
dsig_restrict(xmlSecDSigCtxPtr d)
{
	d->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
	d->flags |= XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
	/*
	 * "#id" by xmlGetID() rather than by an XPointer id('...'): the same
	 * node set (the element and its subtree without comments), without an
	 * XPath context per reference, and exactly the lookup that
	 * check_covered() makes; check_signed_info() has already limited the
	 * URIs to "#" and an NCName. The pruning around each c14n pass
	 * (wsse_prune_begin()) relies on c14n being the only transform.
	 */
	d->flags |= XMLSEC_DSIG_FLAGS_USE_VISA3D_HACK;
	return wsse_c14n_enable(d) ||
	    xmlSecDSigCtxEnableReferenceTransform(d, xmlSecTransformSha256Id) ||
	    xmlSecDSigCtxEnableReferenceTransform(d, xmlSecTransformSha384Id) ||
	    xmlSecDSigCtxEnableReferenceTransform(d, xmlSecTransformSha512Id) ||
	    xmlSecDSigCtxEnableSignatureTransform(d, wsse_sigalg(xmlSecTransformRsaSha256Id)) ||
	    xmlSecDSigCtxEnableSignatureTransform(d, wsse_sigalg(xmlSecTransformRsaSha384Id)) ||
	    xmlSecDSigCtxEnableSignatureTransform(d, wsse_sigalg(xmlSecTransformRsaSha512Id)) ||
	    xmlSecDSigCtxEnableSignatureTransform(d, wsse_sigalg(xmlSecTransformEcdsaSha256Id)) ||
	    xmlSecDSigCtxEnableSignatureTransform(d, wsse_sigalg(xmlSecTransformEcdsaSha384Id))
	    ? -1 : 0;
}

/* After success: every reference succeeded; note what Body/Timestamp got. */
static enum kp_error
check_covered(xmlDocPtr doc, xmlSecDSigCtxPtr d, struct envelope *env,
    const struct sec_parts *p, struct wsse_result *res)
{
	xmlSecDSigReferenceCtxPtr r;
	xmlNodePtr		  n;
	xmlSecSize		  i, size = xmlSecPtrListGetSize(&d->signedInfoReferences);
	int			  body = 0, ts = 0;

	for (i = 0; i < size; i++) {
		r = xmlSecPtrListGetItem(&d->signedInfoReferences, i);
		if (r == NULL || r->status != xmlSecDSigStatusSucceeded)
			return wsse_refuse(res->reason, sizeof(res->reason),
			    KP_INVALID_SIGNATURE, "a reference did not verify");
		n = node_by_uri(doc, (const char *)r->uri);
		body |= n == env->body;
		ts |= n == p->timestamp;
		if (res->ncovered < WSSE_MAX_COVERED && n != NULL)
			snprintf(res->covered[res->ncovered++],
			    sizeof(res->covered[0]), "%s:%s (%s)",
			    n->ns && n->ns->prefix ? (const char *)n->ns->prefix : "",
			    (const char *)n->name, (const char *)r->uri);
	}
	if (!body)
		return wsse_refuse(res->reason, sizeof(res->reason),
		    KP_INVALID_SIGNATURE, "the signature does not cover the "
		    "soap:Body of this envelope");
	if (!ts)
		return wsse_refuse(res->reason, sizeof(res->reason),
		    KP_INVALID_SIGNATURE, "the signature does not cover the "
		    "wsu:Timestamp of the wsse:Security header");
	return KP_OK;
}

/* ------------------------------------------------------------------ */
/* The tree pruned to the part being canonicalised (see wsse_int.h)    */
/* ------------------------------------------------------------------ */

/* Relink every level exactly as it was. */
static void
prune_restore(struct wsse_prune *p)
{
	struct wsse_prune_level	*l;

	while (p->n > 0) {
		l = &p->level[--p->n];
		l->node->prev = l->prev;
		l->node->next = l->next;
		l->node->parent->children = l->first;
		l->node->parent->last = l->last;
	}
}

/* Make t and each of its element ancestors the only child of its parent. */
static void
prune_to(struct wsse_prune *p, xmlNodePtr t)
{
	struct wsse_prune_level	*l;
	xmlNodePtr		 a;
	int			 depth = 0;

	prune_restore(p);
	if (t == NULL || t->type != XML_ELEMENT_NODE || t->doc != p->doc)
		return;
	for (a = t; a->parent != NULL && a->parent->type == XML_ELEMENT_NODE;
	    a = a->parent)
		depth++;
	if (depth > WSSE_PRUNE_DEPTH)
		return;
	for (a = t; a->parent != NULL && a->parent->type == XML_ELEMENT_NODE;
	    a = a->parent) {
		l = &p->level[p->n++];
		l->node = a;
		l->prev = a->prev;
		l->next = a->next;
		l->first = a->parent->children;
		l->last = a->parent->last;
		a->prev = a->next = NULL;
		a->parent->children = a->parent->last = a;
	}
}

/* Before a reference's transforms run: prune to the element it names;
 * when that is not one element of this document, the whole tree. */
static int
prune_reference(xmlSecTransformCtxPtr t)
{
	struct wsse_prune	*p = t->userData;

	prune_restore(p);
	prune_to(p, node_by_uri(p->doc, (const char *)t->xptrExpr));
	return 0;
}

/* Before SignedInfo is canonicalised (for the signature value). */
static int
prune_signed_info(xmlSecTransformCtxPtr t)
{
	struct wsse_prune	*p = t->userData;

	prune_to(p, p->signed_info);
	return 0;
}

/* Have xmlsec prune the tree before each c14n pass; after
 * xmlSecDSigCtxInitialize(). wsse_prune_end() must follow. */
void
wsse_prune_begin(struct wsse_prune *p, xmlSecDSigCtxPtr d, xmlNodePtr signature)
{
	p->doc = signature->doc;
	p->signed_info = envelope_first_element(signature);
	p->n = 0;
	d->userData = p;
	d->referencePreExecuteCallback = prune_reference;
	d->transformCtx.userData = p;
	d->transformCtx.preExecCallback = prune_signed_info;
}

/* The whole tree again, whatever xmlsec did. */
void
wsse_prune_end(struct wsse_prune *p)
{
	prune_restore(p);
}

/*
 * gSOAP's wsse plugin (2.8.124: smdevp.c signs with EVP_SignFinal()) writes
 * an ECDSA SignatureValue as the DER ECDSA-Sig-Value that OpenSSL returns,
 * not as the octet string r || s that XML-DSig 1.1 (section 6.4.3) and
 * RFC 6931 prescribe and xmlsec reads. A value of another length than
 * r || s that is strict DER (decoding and encoding again gives the same
 * bytes) with r and s that fit the curve is written back as r || s before
 * xmlsec checks it: the same two numbers, the same signature. Anything else
 * is left for xmlsec to refuse. The replay check reads the value after this,
 * so both spellings of one signature are one message.
 */
static void
ecdsa_der_to_raw(xmlNodePtr signature, X509 *cert)
{
	EVP_PKEY		*pk = X509_get0_pubkey(cert);
	xmlNodePtr		 sv;
	const unsigned char	*q;
	const BIGNUM		*r, *s;
	unsigned char		*der, *again = NULL, *raw = NULL;
	char			*b64 = NULL;
	ECDSA_SIG		*sig = NULL;
	int			 len, half, count;

	if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC)
		return;
	half = (EVP_PKEY_get_bits(pk) + 7) / 8;
	sv = only_child(signature, DS_NS, "SignatureValue", &count);
	if (sv == NULL || count != 1 || (der = base64_of(sv, &len)) == NULL)
		return;
	if (len == 2 * half || der[0] != 0x30)
		goto done;
	q = der;
	if ((sig = d2i_ECDSA_SIG(NULL, &q, len)) == NULL || q != der + len ||
	    i2d_ECDSA_SIG(sig, &again) != len || memcmp(again, der, (size_t)len) != 0)
		goto done;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_num_bytes(r) > half || BN_num_bytes(s) > half)
		goto done;
	raw = xmalloc((size_t)half * 2);
	b64 = xmalloc((size_t)half * 4 + 8);
	if (BN_bn2binpad(r, raw, half) != half ||
	    BN_bn2binpad(s, raw + half, half) != half)
		goto done;
	EVP_EncodeBlock((unsigned char *)b64, raw, half * 2);
	xmlNodeSetContent(sv, BAD_CAST b64);
done:
	free(b64);
	free(raw);
	OPENSSL_free(again);
	ECDSA_SIG_free(sig);
	free(der);
}

/* Run xmlsec on ds:Signature with the certificate's public key. */
static enum kp_error
dsig_verify(struct wsse_ctx *ctx, struct envelope *env,
    const struct sec_parts *p, xmlSecKeyPtr key, struct wsse_result *res)
{
	xmlSecDSigCtxPtr d = &ctx->dsig;
	struct wsse_prune prune;
	enum kp_error	 e = KP_OK;
	int		 rc;

	wsse_xmlsec_error_reset();
	if (xmlSecDSigCtxInitialize(d, NULL) < 0)
		return wsse_refuse(res->reason, sizeof(res->reason), KP_INTERNAL,
		    "cannot initialise xmlsec: %s", wsse_xmlsec_error());
	if (dsig_restrict(d) != 0) {
		e = wsse_refuse(res->reason, sizeof(res->reason), KP_INTERNAL,
		    "cannot prepare xmlsec: %s", wsse_xmlsec_error());
		goto cleanup;
	}
	/* keep the canonical SignedInfo: the replay key */
	d->flags |= XMLSEC_DSIG_FLAGS_STORE_SIGNATURE;
	d->signKey = key;	/* the certificate cache's: detached below */
	wsse_prune_begin(&prune, d, p->signature);
	rc = xmlSecDSigCtxVerify(d, p->signature);
	wsse_prune_end(&prune);
	if (rc < 0) {
		e = wsse_refuse(res->reason, sizeof(res->reason),
		    KP_INVALID_SIGNATURE, "the signature cannot be checked: %s",
		    wsse_xmlsec_error());
		goto cleanup;
	}
	if (d->status != xmlSecDSigStatusSucceeded) {
		e = wsse_refuse(res->reason, sizeof(res->reason),
		    KP_INVALID_SIGNATURE, "the signature value or a digest does "
		    "not match: the message was changed or signed with "
		    "another key");
		goto cleanup;
	}
	e = check_covered(env->doc, d, env, p, res);
	if (e == KP_OK) {
		xmlSecBufferPtr si = xmlSecDSigCtxGetPreSignBuffer(d);
		if (si == NULL || xmlSecBufferGetSize(si) == 0 ||
		    EVP_Digest(xmlSecBufferGetData(si), xmlSecBufferGetSize(si),
		    res->signed_info, NULL, EVP_sha256(), NULL) != 1)
			e = wsse_refuse(res->reason, sizeof(res->reason),
			    KP_INTERNAL, "the signed SignedInfo is not at hand");
	}
cleanup:
	d->signKey = NULL;	/* Finalize would destroy it */
	xmlSecDSigCtxFinalize(d);
	return e;
}

/* ------------------------------------------------------------------ */
/* Timestamp                                                           */
/* ------------------------------------------------------------------ */

/* Parse an xsd:dateTime with a time zone into ms since the epoch. */
static int
parse_datetime(const char *s, int64_t *ms)
{
	struct tm	 tm;
	int		 n = 0, frac = 0, digits = 0, sign, oh, om;
	const char	*p;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
		return -1;
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				frac = frac * 10 + (*p - '0');
	while (digits > 0 && digits < 3)
		frac *= 10, digits++;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*ms = (int64_t)timegm(&tm) * 1000 + frac;
	if (strcmp(p, "Z") == 0)
		return 0;
	if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 &&
	    n == 5 && p[6] == '\0') {
		sign = *p == '+' ? 1 : -1;
		*ms -= sign * ((int64_t)oh * 3600 + om * 60) * 1000;
		return 0;
	}
	return -1;
}

/* The time in the child ns:name of ts; 0 when absent, -1 when malformed. */
static int
ts_child(xmlNodePtr ts, const char *name, int64_t *ms)
{
	xmlNodePtr	 n;
	xmlChar		*text;
	int		 r;
	int		 count;

	if ((n = only_child(ts, WSU_NS, name, &count)) == NULL)
		return 0;
	if (count > 1 || (text = xmlNodeGetContent(n)) == NULL)
		return -1;
	r = parse_datetime((const char *)text, ms) == 0 ? 1 : -1;
	xmlFree(text);
	return r;
}

/* Created within [now - max age - skew, now + skew]; Expires not past. */
static enum kp_error
check_timestamp(struct wsse_ctx *ctx, xmlNodePtr ts, struct wsse_result *res)
{
	int64_t	now = wsse_ctx_now(ctx), skew = ctx->opt.clock_skew_ms;
	int	rc, re;

	rc = ts_child(ts, "Created", &res->created_ms);
	re = ts_child(ts, "Expires", &res->expires_ms);
	if (rc <= 0 || re < 0)
		return wsse_refuse(res->reason, sizeof(res->reason), KP_EXPIRED,
		    "the wsu:Timestamp needs one wsu:Created and at most one "
		    "wsu:Expires, as xsd:dateTime with a time zone");
	if (res->created_ms > now + skew)
		return wsse_refuse(res->reason, sizeof(res->reason), KP_EXPIRED,
		    "wsu:Created is %lld s in the future (clock skew allowed: "
		    "%lld s)", (long long)(res->created_ms - now) / 1000,
		    (long long)skew / 1000);
	if (re > 0 && (res->expires_ms <= res->created_ms ||
	    res->expires_ms < now - skew))
		return wsse_refuse(res->reason, sizeof(res->reason), KP_EXPIRED,
		    "the message expired at its wsu:Expires");
	if (res->created_ms < now - ctx->opt.max_age_ms - skew)
		return wsse_refuse(res->reason, sizeof(res->reason), KP_EXPIRED,
		    "wsu:Created is %lld s old (maximum age %lld s)",
		    (long long)(now - res->created_ms) / 1000,
		    (long long)ctx->opt.max_age_ms / 1000);
	return KP_OK;
}

/* The last moment check_timestamp() would accept this message. */
static int64_t
window_end(const struct wsse_ctx *ctx, const struct wsse_result *res)
{
	int64_t	end = res->created_ms + ctx->opt.max_age_ms + ctx->opt.clock_skew_ms;

	if (res->expires_ms != 0 && res->expires_ms + ctx->opt.clock_skew_ms < end)
		end = res->expires_ms + ctx->opt.clock_skew_ms;
	return end;
}

/* Refuse a second arrival of the same signed message from the same signer. */
static enum kp_error
check_replay(struct wsse_ctx *ctx, struct wsse_result *res)
{
	enum replay_verdict v;

	if (ctx->opt.replay == NULL)
		return KP_OK;
	/* what was signed, not how the signature is spelt: line breaks in
	 * SignatureValue, an ECDSA value in DER or as (r, n - s) — the same
	 * signed SignedInfo is the same message */
	v = replay_remember(ctx->opt.replay, res->fingerprint, res->signed_info,
	    sizeof(res->signed_info), window_end(ctx, res), wsse_ctx_now(ctx));
	if (v == REPLAY_SEEN)
		return wsse_refuse(res->reason, sizeof(res->reason), KP_REPLAY,
		    "this signed message was already received");
	if (v == REPLAY_ERROR)
		return wsse_refuse(res->reason, sizeof(res->reason), KP_INTERNAL,
		    "the replay cache cannot take this message (full)");
	return KP_OK;
}

/* ------------------------------------------------------------------ */
/* wsse_verify                                                         */
/* ------------------------------------------------------------------ */

/* Is a certificate that came in a BinarySecurityToken registered? */
static enum kp_error
check_registered(struct wsse_ctx *ctx, X509 *cert, struct wsse_result *res)
{
	struct wsse_keyref	ref;
	X509			*unused = NULL;
	int			r;

	if (ctx->opt.lookup == NULL)
		return KP_OK;
	memset(&ref, 0, sizeof(ref));
	ref.kind = WSSE_KEYREF_TOKEN;
	ref.cert = cert;
	r = ctx->opt.lookup(ctx->opt.lookup_arg, &ref, &unused);
	X509_free(unused);
	if (r < 0)
		return wsse_refuse(res->reason, sizeof(res->reason), KP_INTERNAL,
		    "the registered certificates cannot be read");
	if (r == 0)
		return wsse_refuse(res->reason, sizeof(res->reason),
		    KP_UNKNOWN_SENDER, "the signature is valid but the "
		    "certificate is not registered");
	return KP_OK;
}

/* The steps after the structure: key, chain, signature, time, replay. */
static enum kp_error
verify_signed(struct wsse_ctx *ctx, struct envelope *env,
    const struct sec_parts *p, struct wsse_result *res)
{
	struct wsse_cert_entry	*ce = NULL;
	enum kp_error		 e;

	if ((e = resolve_key(ctx, env->doc, p, &ce, res)) != KP_OK ||
	    (e = check_chain(ctx, ce->cert, ce->fp, res)) != KP_OK)
		return e;
	ce = certcache_commit(ctx, ce);
	ecdsa_der_to_raw(p->signature, ce->cert);
	if ((e = dsig_verify(ctx, env, p, ce->key, res)) != KP_OK)
		return e;
	if (X509_up_ref(ce->cert) != 1)
		return wsse_refuse(res->reason, sizeof(res->reason), KP_INTERNAL,
		    "out of memory");
	res->cert = ce->cert;	/* verified: the caller may now see who signed */
	if ((e = check_timestamp(ctx, p->timestamp, res)) != KP_OK ||
	    (e = check_replay(ctx, res)) != KP_OK)
		return e;
	if (strcmp(res->keyref, "BinarySecurityToken") == 0)
		e = check_registered(ctx, res->cert, res);
	return e;
}

/* Verify the WS-Security header of env; res tells who signed or why not. */
enum kp_error
wsse_verify(struct wsse_ctx *ctx, struct envelope *env, struct wsse_result *res)
{
	struct sec_parts	p;
	enum kp_error		e;

	memset(res, 0, sizeof(*res));
	res->keyref = "";
	if ((e = find_parts(env, &p, res->reason, sizeof(res->reason))) != KP_OK ||
	    (e = register_ids(env->doc, env->root, res->reason,
	    sizeof(res->reason))) != KP_OK ||
	    (e = check_signed_info(p.signature, res->reason,
	    sizeof(res->reason))) != KP_OK)
		goto done;
	e = verify_signed(ctx, env, &p, res);
done:
	res->error = e;
	if (e == KP_OK)
		snprintf(res->reason, sizeof(res->reason), "%s", kp_error_text(e));
	return e;
}

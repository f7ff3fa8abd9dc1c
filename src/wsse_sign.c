/*
 * kruispunt - WS-Security signing of outgoing envelopes.
 *
 * wsse_sign() adds to soap:Header a wsse:Security (mustUnderstand) holding
 * the signer's certificate as a BinarySecurityToken, a wsu:Timestamp
 * (Created, Expires = Created + ttl) and a ds:Signature (exclusive c14n,
 * SHA-256, RSA-SHA256 or ECDSA-SHA256 after the key) whose two references
 * cover soap:Body and the Timestamp by wsu:Id, the key named by a direct
 * SecurityTokenReference to the token: what wsse_verify() and the common
 * stacks expect. The key and certificate are loaded once per context.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/valid.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <xmlsec/crypto.h>
#include <xmlsec/templates.h>
#include <xmlsec/transforms.h>

#include "soapmsg.h"
#include "wsse_int.h"
#include "xmalloc.h"

/* Base64 of the certificate's DER, for the BinarySecurityToken. */
static char *
cert_base64(X509 *cert)
{
	unsigned char	*der = NULL;
	char		*b64;
	int		 len;

	if ((len = i2d_X509(cert, &der)) <= 0)
		return NULL;
	b64 = xmalloc((size_t)(4 * ((len + 2) / 3) + 1));
	EVP_EncodeBlock((unsigned char *)b64, der, len);
	OPENSSL_free(der);
	return b64;
}

/* Read a PEM file with a reader; NULL when it cannot. */
static void *
pem_read(const char *path, int key)
{
	FILE	*fp;
	void	*obj;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	obj = key ? (void *)PEM_read_PrivateKey(fp, NULL, NULL, NULL) :
	    (void *)PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	return obj;
}

/* Load the signing key and certificate named by the options. */
int
wsse_sign_load(struct wsse_ctx *ctx, char *err, size_t errlen)
{
	EVP_PKEY	*pkey = NULL;
	int		 rc = -1;

	if ((pkey = pem_read(ctx->opt.key_file, 1)) == NULL) {
		wsse_refuse(err, errlen, KP_INTERNAL, "%s: cannot read a PEM "
		    "private key", ctx->opt.key_file);
		goto cleanup;
	}
	if ((ctx->sign_cert = pem_read(ctx->opt.cert_file, 0)) == NULL) {
		wsse_refuse(err, errlen, KP_INTERNAL, "%s: cannot read a PEM "
		    "certificate", ctx->opt.cert_file);
		goto cleanup;
	}
	if (X509_check_private_key(ctx->sign_cert, pkey) != 1) {
		wsse_refuse(err, errlen, KP_INTERNAL, "%s does not hold the "
		    "key of %s", ctx->opt.key_file, ctx->opt.cert_file);
		goto cleanup;
	}
	if (RAND_bytes((unsigned char *)&ctx->id_seed, sizeof(ctx->id_seed)) != 1) {
		wsse_refuse(err, errlen, KP_INTERNAL, "no random numbers for ids");
		goto cleanup;
	}
	ctx->sign_ec = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC;
	if (!ctx->sign_ec && EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		wsse_refuse(err, errlen, KP_INTERNAL, "%s: only RSA and EC keys "
		    "can sign", ctx->opt.key_file);
		goto cleanup;
	}
	if ((ctx->sign_bst = cert_base64(ctx->sign_cert)) == NULL ||
	    (ctx->sign_key = wsse_key_from_evp(pkey)) == NULL ||
	    (ctx->sign_md = EVP_MD_CTX_new()) == NULL ||
	    EVP_PKEY_up_ref(pkey) != 1) {
		wsse_refuse(err, errlen, KP_INTERNAL, "cannot prepare the "
		    "signing key");
		goto cleanup;
	}
	ctx->sign_pkey = pkey;		/* the reference taken above */
	rc = 0;
cleanup:
	EVP_PKEY_free(pkey);
	return rc;
}

/* Free the signing key and certificate. */
void
wsse_sign_unload(struct wsse_ctx *ctx)
{
	if (ctx->sign_key != NULL)
		xmlSecKeyDestroy(ctx->sign_key);
	ctx->sign_key = NULL;
	EVP_PKEY_free(ctx->sign_pkey);
	ctx->sign_pkey = NULL;
	EVP_MD_CTX_free(ctx->sign_md);
	ctx->sign_md = NULL;
	free(ctx->sign_bst);
	ctx->sign_bst = NULL;
	X509_free(ctx->sign_cert);
	ctx->sign_cert = NULL;
}

/* xsd:dateTime in UTC with milliseconds. */
static void
format_time(int64_t ms, char *buf, size_t len)
{
	time_t		t = (time_t)(ms / 1000);
	struct tm	tm;
	char		s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", s, (int)(ms % 1000));
}

/*
 * A fresh id with a prefix: prefix-<16 hex digits>. The digits are a
 * bijective mix (splitmix64) of a per-context random start and a counter, so
 * ids never repeat within a context and differ between contexts and runs;
 * a wsu:Id needs to be unique in its message, not secret, and this costs no
 * trip through the random generator per id.
 */
static void
new_id(struct wsse_ctx *ctx, const char *prefix, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t	z = ctx->id_seed + 0x9e3779b97f4a7c15ULL * ++ctx->id_count;
	char		digits[17];
	int		i;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	for (i = 15; i >= 0; i--, z >>= 4)
		digits[i] = hex[z & 0xf];
	digits[16] = '\0';
	snprintf(buf, len, "%s-%s", prefix, digits);
}

/* Give n a wsu:Id (keeping one it has) and register it; the id in buf. */
static int
set_id(struct wsse_ctx *ctx, xmlDocPtr doc, xmlNodePtr n, xmlNsPtr wsu,
    const char *prefix, char *buf, size_t len)
{
	xmlAttrPtr	 attr;
	xmlChar		*old;

	if ((attr = xmlHasNsProp(n, BAD_CAST "Id", BAD_CAST WSU_NS)) != NULL &&
	    (old = xmlNodeGetContent((xmlNodePtr)attr)) != NULL) {
		snprintf(buf, len, "#%s", (const char *)old);
		xmlFree(old);
	} else {
		buf[0] = '#';
		new_id(ctx, prefix, buf + 1, len - 1);
		attr = xmlNewNsProp(n, wsu, BAD_CAST "Id", BAD_CAST (buf + 1));
	}
	if (xmlGetID(doc, BAD_CAST (buf + 1)) == attr)
		return 0;
	return xmlAddID(NULL, doc, BAD_CAST (buf + 1), attr) != NULL ? 0 : -1;
}

/* The wsu namespace, declared on the Envelope when it is not yet. */
static xmlNsPtr
wsu_ns(struct envelope *env)
{
	xmlNsPtr	ns = xmlSearchNsByHref(env->doc, env->body, BAD_CAST WSU_NS);

	if (ns == NULL && xmlSearchNs(env->doc, env->root, BAD_CAST "wsu") == NULL)
		ns = xmlNewNs(env->root, BAD_CAST WSU_NS, BAD_CAST "wsu");
	return ns;
}

/* The header, created as the Envelope's first child when missing. */
static xmlNodePtr
ensure_header(struct envelope *env)
{
	xmlNodePtr	h;

	if (env->header != NULL)
		return env->header;
	h = xmlNewDocNode(env->doc, env->root->ns, BAD_CAST "Header", NULL);
	if (env->root->children != NULL)
		xmlAddPrevSibling(env->root->children, h);
	else
		xmlAddChild(env->root, h);
	env->header = h;
	return h;
}

/* wsse:Security with the token and the Timestamp; the ids in bst/ts. */
static xmlNodePtr
add_security(struct wsse_ctx *ctx, struct envelope *env, xmlNsPtr wsu,
    char *bst_id, char *ts_id, size_t idlen, xmlNodePtr *timestamp)
{
	xmlNodePtr	sec, bst, ts;
	xmlNsPtr	wsse;
	char		when[40];
	int64_t		now = wsse_ctx_now(ctx);

	sec = xmlNewChild(ensure_header(env), NULL, BAD_CAST "Security", NULL);
	wsse = xmlNewNs(sec, BAD_CAST WSSE_NS, BAD_CAST "wsse");
	xmlSetNs(sec, wsse);
	xmlSetNsProp(sec, env->root->ns, BAD_CAST "mustUnderstand",
	    BAD_CAST (env->soap_version == 12 ? "true" : "1"));
	bst = xmlNewTextChild(sec, wsse, BAD_CAST "BinarySecurityToken",
	    BAD_CAST ctx->sign_bst);
	xmlSetProp(bst, BAD_CAST "EncodingType", BAD_CAST WSSE_BASE64);
	xmlSetProp(bst, BAD_CAST "ValueType", BAD_CAST WSSE_X509V3);
	ts = xmlNewChild(sec, wsu, BAD_CAST "Timestamp", NULL);
	format_time(now, when, sizeof(when));
	xmlNewTextChild(ts, wsu, BAD_CAST "Created", BAD_CAST when);
	format_time(now + ctx->opt.ttl_ms, when, sizeof(when));
	xmlNewTextChild(ts, wsu, BAD_CAST "Expires", BAD_CAST when);
	if (set_id(ctx, env->doc, bst, wsu, "X509", bst_id, idlen) != 0 ||
	    set_id(ctx, env->doc, ts, wsu, "TS", ts_id, idlen) != 0)
		return NULL;
	*timestamp = ts;
	return sec;
}

/* The ds:Signature template over Body and Timestamp, with its STR. */
static xmlNodePtr
add_signature(struct wsse_ctx *ctx, xmlDocPtr doc, xmlNodePtr sec,
    const char *body_id, const char *ts_id, const char *bst_id)
{
	xmlNodePtr	sig, ref, ki, str, r;
	const char	*uris[2] = { body_id, ts_id };
	int		i;

	sig = xmlSecTmplSignatureCreateNsPref(doc, xmlSecTransformExclC14NId,
	    ctx->sign_ec ? xmlSecTransformEcdsaSha256Id : xmlSecTransformRsaSha256Id,
	    NULL, BAD_CAST "ds");
	if (sig == NULL)
		return NULL;
	xmlAddChild(sec, sig);
	for (i = 0; i < 2; i++) {
		ref = xmlSecTmplSignatureAddReference(sig, xmlSecTransformSha256Id,
		    NULL, BAD_CAST uris[i], NULL);
		if (ref == NULL || xmlSecTmplReferenceAddTransform(ref,
		    xmlSecTransformExclC14NId) == NULL)
			return NULL;
	}
	if ((ki = xmlSecTmplSignatureEnsureKeyInfo(sig, NULL)) == NULL)
		return NULL;
	str = xmlNewChild(ki, sec->ns, BAD_CAST "SecurityTokenReference", NULL);
	r = xmlNewChild(str, sec->ns, BAD_CAST "Reference", NULL);
	xmlSetProp(r, BAD_CAST "URI", BAD_CAST bst_id);
	xmlSetProp(r, BAD_CAST "ValueType", BAD_CAST WSSE_X509V3);
	return sig;
}

/* Compute the signature with the context's key. */
static enum kp_error
sign_template(struct wsse_ctx *ctx, xmlNodePtr sig, char *reason, size_t rlen)
{
	xmlSecDSigCtxPtr d = &ctx->dsig;
	struct wsse_prune prune;
	enum kp_error	 e = KP_OK;
	int		 rc;

	wsse_xmlsec_error_reset();
	if (xmlSecDSigCtxInitialize(d, NULL) < 0)
		return wsse_refuse(reason, rlen, KP_INTERNAL, "xmlsec: %s",
		    wsse_xmlsec_error());
	d->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
	/* "#id" by xmlGetID(), as in wsse.c: no XPath context per reference */
	d->flags |= XMLSEC_DSIG_FLAGS_USE_VISA3D_HACK;
	/* the hub's exclusive c14n (wsse_c14n.c) and what the template names */
	if (wsse_c14n_enable(d) != 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(d, xmlSecTransformSha256Id) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(d, wsse_sigalg(ctx->sign_ec ?
	    xmlSecTransformEcdsaSha256Id : xmlSecTransformRsaSha256Id)) < 0) {
		xmlSecDSigCtxFinalize(d);
		return wsse_refuse(reason, rlen, KP_INTERNAL, "xmlsec: %s",
		    wsse_xmlsec_error());
	}
	d->signKey = ctx->sign_key;
	wsse_prune_begin(&prune, d, sig);
	rc = xmlSecDSigCtxSign(d, sig);
	wsse_prune_end(&prune);
	if (rc < 0)
		e = wsse_refuse(reason, rlen, KP_INTERNAL, "cannot sign: %s",
		    wsse_xmlsec_error());
	d->signKey = NULL;	/* the context's, not the dsig's */
	xmlSecDSigCtxFinalize(d);
	return e;
}

static atomic_int	sign_by_xmlsec;		/* for tests and benches */
static atomic_ullong	count_own, count_xmlsec;

static int
set_base64(xmlNodePtr n, const unsigned char *data, size_t len)
{
	char	b64[4 * (512 + 2) / 3 + 4];

	if (n == NULL || len > 512)
		return -1;
	EVP_EncodeBlock((unsigned char *)b64, data, (int)len);
	xmlNodeSetContent(n, BAD_CAST b64);	/* base64: nothing to escape */
	return 0;
}

/*
 * The signature of the template computed here, without xmlsec's transform
 * chain (its node sets, buffers and transform objects cost as much as the
 * ECDSA signature itself): each reference's element by kruispunt's
 * exclusive c14n and SHA-256 into its DigestValue, then SignedInfo by the
 * same c14n, signed with EVP_DigestSign into SignatureValue. The bytes are
 * those xmlsec would digest and sign (check_wsse compares the two ways; an
 * RSA signature, being deterministic, comes out the same). 0, or -1 when
 * an element is left to libxml2's c14n (sign_template then does it all).
 */
static int
sign_own(struct wsse_ctx *ctx, xmlNodePtr sig, xmlNodePtr const *targets,
    int ntargets)
{
	xmlNodePtr	 si, ref, sv;
	unsigned char	 md[EVP_MAX_MD_SIZE], der[1024], raw[132];
	unsigned int	 mdlen;
	char		*c14n;
	size_t		 clen, len = sizeof(der);
	int		 i, r;

	if (atomic_load_explicit(&sign_by_xmlsec, memory_order_relaxed) ||
	    ctx->sign_pkey == NULL ||
	    (si = soapmsg_child(sig, DS_NS, "SignedInfo")) == NULL ||
	    (sv = envelope_next_element(si)) == NULL ||
	    !envelope_is(sv, DS_NS, "SignatureValue"))
		return -1;
	for (i = 0, ref = soapmsg_child(si, DS_NS, "Reference"); i < ntargets;
	    i++, ref = envelope_next_element(ref)) {
		if (ref == NULL || !envelope_is(ref, DS_NS, "Reference") ||
		    wsse_c14n_subtree(targets[i], &c14n, &clen) == -1)
			return -1;
		r = EVP_Digest(c14n, clen, md, &mdlen, EVP_sha256(), NULL);
		free(c14n);
		if (r != 1 || set_base64(soapmsg_child(ref, DS_NS,
		    "DigestValue"), md, mdlen) == -1)
			return -1;
	}
	if (wsse_c14n_subtree(si, &c14n, &clen) == -1)
		return -1;
	r = EVP_DigestSignInit_ex(ctx->sign_md, NULL, "SHA256", NULL, NULL,
	    ctx->sign_pkey, NULL) == 1 && EVP_DigestSign(ctx->sign_md, der,
	    &len, (const unsigned char *)c14n, clen) == 1;
	free(c14n);
	if (!r)
		return -1;
	if (ctx->sign_ec) {
		if ((r = wsse_ecdsa_raw(ctx->sign_pkey, der, len, raw,
		    sizeof(raw))) == -1)
			return -1;
		r = set_base64(sv, raw, (size_t)r);
	} else
		r = set_base64(sv, der, len);
	if (r == 0)
		atomic_fetch_add_explicit(&count_own, 1, memory_order_relaxed);
	return r;
}

void
wsse_sign_counts(uint64_t *own, uint64_t *xmlsec)
{
	*own = atomic_load(&count_own);
	*xmlsec = atomic_load(&count_xmlsec);
}

void
wsse_sign_xmlsec_only(int on)
{
	atomic_store(&sign_by_xmlsec, on != 0);
}

/* True when the header already holds a wsse:Security. */
static int
has_security(xmlNodePtr header)
{
	xmlNodePtr	n;

	for (n = envelope_first_element(header); n != NULL;
	    n = envelope_next_element(n))
		if (envelope_is(n, WSSE_NS, "Security"))
			return 1;
	return 0;
}

/* Sign an outgoing envelope in place. */
enum kp_error
wsse_sign(struct wsse_ctx *ctx, xmlDocPtr doc, char *reason, size_t rlen)
{
	struct envelope	*env = NULL;
	xmlNodePtr	 sec, sig, targets[2];
	xmlNsPtr	 wsu;
	char		 body_id[48], ts_id[48], bst_id[48];
	enum kp_error	 e;

	if (ctx->sign_key == NULL)
		return wsse_refuse(reason, rlen, KP_INTERNAL,
		    "this context has no signing key");
	if ((e = envelope_from_doc(doc, &env, reason, rlen)) != KP_OK)
		return e;
	if (has_security(env->header)) {
		e = wsse_refuse(reason, rlen, KP_INVALID_MESSAGE,
		    "the envelope already has a wsse:Security header");
		goto cleanup;
	}
	if ((wsu = wsu_ns(env)) == NULL ||
	    set_id(ctx, doc, env->body, wsu, "Body", body_id, sizeof(body_id)) != 0 ||
	    (sec = add_security(ctx, env, wsu, bst_id, ts_id, sizeof(ts_id),
	    &targets[1])) == NULL ||
	    (sig = add_signature(ctx, doc, sec, body_id, ts_id, bst_id)) == NULL) {
		e = wsse_refuse(reason, rlen, KP_INTERNAL, "cannot build the "
		    "wsse:Security header (wsu prefix taken, or duplicate id)");
		goto cleanup;
	}
	/* the references' order of add_signature */
	targets[0] = env->body;
	if (sign_own(ctx, sig, targets, 2) == -1 &&
	    (e = sign_template(ctx, sig, reason, rlen)) == KP_OK)
		atomic_fetch_add_explicit(&count_xmlsec, 1, memory_order_relaxed);
cleanup:
	envelope_free(env);
	return e;
}

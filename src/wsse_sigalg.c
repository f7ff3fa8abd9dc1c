/*
 * kruispunt - the signature methods the hub gives xmlsec: RSA-SHA256/384/512
 * (PKCS#1 v1.5) and ECDSA-SHA256/384, over OpenSSL's EVP_DigestSign and
 * EVP_DigestVerify.
 *
 * xmlsec's own transforms for these do the same with OpenSSL, but ask the
 * key about itself on every signature through EVP_PKEY_get_bn_param(), which
 * pads each number into a 2 KB buffer in constant time: the key's type
 * (n, e and d of an RSA key) before every check, the curve's order twice
 * per ECDSA signature: 8-14 % of a signature or a check. These transforms
 * know the key's kind and size from the EVP_PKEY itself (its type, and
 * EVP_PKEY_get_bits(), which OpenSSL keeps with the key).
 *
 * What they accept is what xmlsec's accept: the key must be of the
 * method's kind (xmlsec checks the key data klass, keyReq->keyId, before
 * the key is set; setKey checks the EVP_PKEY again); an ECDSA value is the
 * octet string r || s of XML-DSig 1.1, each half the curve's size (a DER
 * value from gSOAP's plugin is rewritten before, in wsse.c); anything
 * else fails the check. Key strength (RSA >= 2048 bits, P-256/P-384) is
 * enforced where certificates are taken in (wsse.c). They replace xmlsec's
 * in its registry (wsse_sigalg_register(), at initialisation, like the
 * c14n of wsse_c14n.c).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <xmlsec/keys.h>
#include <xmlsec/crypto.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/transforms.h>

#include "wsse_int.h"

struct sigalg_data {
	EVP_MD_CTX	*md_ctx;
	EVP_PKEY	*pkey;		/* referenced */
	int		 started;	/* DigestSign/VerifyInit done */
};

#define SIGALG_DATA(t) \
	((struct sigalg_data *)((xmlSecByte *)(t) + sizeof(xmlSecTransform)))

/* The method of a transform: digest and key kind, from its klass. */
struct sigalg {
	xmlSecTransformKlass	 klass;
	const char		*md;		/* "SHA256" ... */
	int			 ec;		/* 1: ECDSA, 0: RSA */
	xmlSecTransformId	 xmlsec_id;	/* the transform it replaces */
};

static const struct sigalg *
sigalg_of(xmlSecTransformPtr t)
{
	return (const struct sigalg *)(const void *)t->id;
}

static int
sigalg_initialize(xmlSecTransformPtr t)
{
	struct sigalg_data *d = SIGALG_DATA(t);

	memset(d, 0, sizeof(*d));
	return (d->md_ctx = EVP_MD_CTX_new()) == NULL ? -1 : 0;
}

static void
sigalg_finalize(xmlSecTransformPtr t)
{
	struct sigalg_data *d = SIGALG_DATA(t);

	EVP_MD_CTX_free(d->md_ctx);
	EVP_PKEY_free(d->pkey);
	memset(d, 0, sizeof(*d));
}

/* The key data klass of the method's keys; a key of any type will do (it
 * is the signer's public key or the hub's private one: asking the key
 * which it is costs three exports of its numbers). */
static int
sigalg_set_key_req(xmlSecTransformPtr t, xmlSecKeyReqPtr req)
{
	req->keyId = sigalg_of(t)->ec ? xmlSecOpenSSLKeyDataEcdsaId :
	    xmlSecOpenSSLKeyDataRsaId;
	req->keyType = xmlSecKeyDataTypeUnknown;
	req->keyUsage = t->operation == xmlSecTransformOperationSign ?
	    xmlSecKeyUsageSign : xmlSecKeyUsageVerify;
	return 0;
}

static int
sigalg_set_key(xmlSecTransformPtr t, xmlSecKeyPtr key)
{
	struct sigalg_data *d = SIGALG_DATA(t);
	xmlSecKeyDataPtr value = xmlSecKeyGetValue(key);
	EVP_PKEY	*pkey;

	if (value == NULL ||
	    (pkey = xmlSecOpenSSLEvpKeyDataGetEvp(value)) == NULL ||
	    EVP_PKEY_get_base_id(pkey) !=
	    (sigalg_of(t)->ec ? EVP_PKEY_EC : EVP_PKEY_RSA) ||
	    EVP_PKEY_up_ref(pkey) != 1)
		return -1;
	EVP_PKEY_free(d->pkey);
	d->pkey = pkey;
	return 0;
}

/* Bytes of each of r and s: the curve's size. */
static int
ec_half(EVP_PKEY *pkey)
{
	return (EVP_PKEY_get_bits(pkey) + 7) / 8;
}

/* A DER ECDSA-Sig-Value as r || s, each the curve's size (what XML
 * Signature's ECDSA methods carry); the length, or -1. */
int
wsse_ecdsa_raw(EVP_PKEY *pkey, const unsigned char *der, size_t len,
    unsigned char *raw, size_t rawlen)
{
	const unsigned char *p = der;
	ECDSA_SIG	*sig;
	const BIGNUM	*r, *s;
	int		 half = ec_half(pkey), ok;

	if (half <= 0 || 2 * (size_t)half > rawlen ||
	    (sig = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL)
		return -1;
	ECDSA_SIG_get0(sig, &r, &s);
	ok = BN_bn2binpad(r, raw, half) == half &&
	    BN_bn2binpad(s, raw + half, half) == half;
	ECDSA_SIG_free(sig);
	return ok ? 2 * half : -1;
}

/* Digest what came in; at the end of a signature, sign. */
static int
sigalg_execute(xmlSecTransformPtr t, int last, xmlSecTransformCtxPtr tctx)
{
	struct sigalg_data *d = SIGALG_DATA(t);
	const struct sigalg *a = sigalg_of(t);
	xmlSecSize	 n;
	int		 r;

	(void)tctx;
	if (t->status == xmlSecTransformStatusFinished)
		return xmlSecBufferGetSize(&t->inBuf) == 0 ? 0 : -1;
	if (d->pkey == NULL || (t->status != xmlSecTransformStatusNone &&
	    t->status != xmlSecTransformStatusWorking))
		return -1;
	if (!d->started) {
		if (t->operation == xmlSecTransformOperationSign)
			r = EVP_DigestSignInit_ex(d->md_ctx, NULL, a->md, NULL,
			    NULL, d->pkey, NULL);
		else
			r = EVP_DigestVerifyInit_ex(d->md_ctx, NULL, a->md,
			    NULL, NULL, d->pkey, NULL);
		if (r != 1)
			return -1;
		d->started = 1;
		t->status = xmlSecTransformStatusWorking;
	}
	if ((n = xmlSecBufferGetSize(&t->inBuf)) > 0) {
		if (EVP_DigestUpdate(d->md_ctx, xmlSecBufferGetData(&t->inBuf),
		    n) != 1 || xmlSecBufferRemoveHead(&t->inBuf, n) < 0)
			return -1;
	}
	if (!last)
		return 0;
	if (t->operation == xmlSecTransformOperationSign) {
		unsigned char	 der[1024], raw[132];
		size_t		 len = sizeof(der);

		if (EVP_DigestSignFinal(d->md_ctx, NULL, &len) != 1 ||
		    len > sizeof(der) ||
		    EVP_DigestSignFinal(d->md_ctx, der, &len) != 1)
			return -1;
		if (!a->ec) {
			if (xmlSecBufferAppend(&t->outBuf, der, (xmlSecSize)len) < 0)
				return -1;
		} else if ((r = wsse_ecdsa_raw(d->pkey, der, len, raw,
		    sizeof(raw))) == -1 ||
		    xmlSecBufferAppend(&t->outBuf, raw, (xmlSecSize)r) < 0)
			return -1;
	}
	t->status = xmlSecTransformStatusFinished;
	return 0;
}

/* The SignatureValue against what was digested: status Ok or Fail. */
static int
sigalg_verify(xmlSecTransformPtr t, const xmlSecByte *data, xmlSecSize size,
    xmlSecTransformCtxPtr tctx)
{
	struct sigalg_data *d = SIGALG_DATA(t);
	unsigned char	*der = NULL;
	ECDSA_SIG	*sig = NULL;
	BIGNUM		*rr = NULL, *ss = NULL;
	int		 half, len, ok = 0;

	(void)tctx;
	if (t->operation != xmlSecTransformOperationVerify ||
	    t->status != xmlSecTransformStatusFinished || !d->started)
		return -1;
	if (!sigalg_of(t)->ec)
		ok = EVP_DigestVerifyFinal(d->md_ctx, data, size) == 1;
	else if ((half = ec_half(d->pkey)) > 0 && size == (xmlSecSize)(2 * half) &&
	    (rr = BN_bin2bn(data, half, NULL)) != NULL &&
	    (ss = BN_bin2bn(data + half, half, NULL)) != NULL &&
	    (sig = ECDSA_SIG_new()) != NULL && ECDSA_SIG_set0(sig, rr, ss) == 1) {
		rr = ss = NULL;		/* the signature's now */
		if ((len = i2d_ECDSA_SIG(sig, &der)) > 0)
			ok = EVP_DigestVerifyFinal(d->md_ctx, der, (size_t)len) == 1;
	}
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	BN_free(rr);
	BN_free(ss);
	t->status = ok ? xmlSecTransformStatusOk : xmlSecTransformStatusFail;
	return 0;
}

#define SIGALG(name, href, md, ec) { {				\
	sizeof(xmlSecTransformKlass),					\
	sizeof(xmlSecTransform) + sizeof(struct sigalg_data),		\
	BAD_CAST name, BAD_CAST href,					\
	xmlSecTransformUsageSignatureMethod,				\
	sigalg_initialize, sigalg_finalize,				\
	NULL, NULL,			/* readNode, writeNode */	\
	sigalg_set_key_req, sigalg_set_key, sigalg_verify,		\
	xmlSecTransformDefaultGetDataType,				\
	xmlSecTransformDefaultPushBin, xmlSecTransformDefaultPopBin,	\
	NULL, NULL,			/* pushXml, popXml */		\
	sigalg_execute, NULL, NULL }, md, ec, NULL }

static struct sigalg sigalgs[] = {
	SIGALG("rsa-sha256", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
	    "SHA256", 0),
	SIGALG("rsa-sha384", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
	    "SHA384", 0),
	SIGALG("rsa-sha512", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
	    "SHA512", 0),
	SIGALG("ecdsa-sha256",
	    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", "SHA256", 1),
	SIGALG("ecdsa-sha384",
	    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", "SHA384", 1),
};

#define NSIGALGS	(sizeof(sigalgs) / sizeof(sigalgs[0]))

/* Put these transforms in xmlsec's registry in place of its own. Once, at
 * initialisation (after xmlSecCryptoInit()). */
int
wsse_sigalg_register(void)
{
	xmlSecPtrListPtr ids = xmlSecTransformIdsGet();
	xmlSecSize	 i, n = xmlSecPtrListGetSize(ids);
	size_t		 k, found = 0;

	/* the klasses' ids are functions of the crypto library: resolved now */
	sigalgs[0].xmlsec_id = xmlSecTransformRsaSha256Id;
	sigalgs[1].xmlsec_id = xmlSecTransformRsaSha384Id;
	sigalgs[2].xmlsec_id = xmlSecTransformRsaSha512Id;
	sigalgs[3].xmlsec_id = xmlSecTransformEcdsaSha256Id;
	sigalgs[4].xmlsec_id = xmlSecTransformEcdsaSha384Id;
	for (i = 0; i < n; i++)
		for (k = 0; k < NSIGALGS; k++)
			if (xmlSecPtrListGetItem(ids, i) ==
			    (xmlSecPtr)sigalgs[k].xmlsec_id) {
				if (xmlSecPtrListSet(ids,
				    (xmlSecPtr)&sigalgs[k].klass, i) < 0)
					return -1;
				found++;
			}
	return found == NSIGALGS ? 0 : -1;
}

/* The transform of one of xmlsec's ids, for a context's enabled list. */
xmlSecTransformId
wsse_sigalg(xmlSecTransformId xmlsec_id)
{
	size_t	k;

	for (k = 0; k < NSIGALGS; k++)
		if (sigalgs[k].xmlsec_id == xmlsec_id)
			return &sigalgs[k].klass;
	return xmlsec_id;
}

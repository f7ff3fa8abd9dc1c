/*
 * kruispunt tests - the wsse module: verify, sign, replay, and the attacks.
 *
 * The certificates come from tests/make-pki at test time. Messages are made
 * by wsse_sign() (the real signer) and changed afterwards, or from a
 * template signed here with plain xmlsec (so that weak algorithms, foreign
 * transforms and other key references can be signed validly and the
 * refusal is for that reason alone).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/valid.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmltree.h>

#include "common.h"
#include "envelope.h"
#include "replay.h"
#include "wsse.h"
#include "xmalloc.h"

#define SOAP11	ENVELOPE_NS_SOAP11
#define DSNS	"http://www.w3.org/2000/09/xmldsig#"
#define EXC	"http://www.w3.org/2001/10/xml-exc-c14n#"
#define RSA256	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define SHA256	"http://www.w3.org/2001/04/xmlenc#sha256"
#define EXC_TRANSFORM "<ds:Transform Algorithm='" EXC "'/>"

static char		*pki;
static struct envelope_limits limits;
static int64_t		 clock_offset;
static struct wsse_certset *registered;

/* The test clock: real time moved by clock_offset. */
static int64_t
test_clock(void)
{
	return wsse_now_ms() + clock_offset;
}

/* Path of a file made by make-pki. */
static char *
pki_path(const char *name)
{
	char	*p;

	xasprintf(&p, "%s/%s", pki, name);
	return p;
}

/* A verifying context: trust anchors, CRL, optional lookup and replay. */
static struct wsse_ctx *
verifier(wsse_lookup_fn lookup, void *arg, struct replay *r)
{
	struct wsse_options	 o;
	struct wsse_ctx		*ctx;
	char			 err[256], *ca = pki_path("ca.crt"),
				*crl = pki_path("crl.pem");

	wsse_options_default(&o);
	o.ca_file = ca;
	o.crl_file = crl;
	o.lookup = lookup;
	o.lookup_arg = arg;
	o.replay = r;
	ctx = wsse_ctx_new(&o, err, sizeof(err));
	if (ctx == NULL)
		fprintf(stderr, "verifier: %s\n", err);
	free(crl);
	free(ca);
	return ctx;
}

/* A signing context for the make-pki identity name. */
static struct wsse_ctx *
signer(const char *name)
{
	struct wsse_options	 o;
	struct wsse_ctx		*ctx;
	char			 err[256], *key, *crt;

	xasprintf(&key, "%s/%s.key", pki, name);
	xasprintf(&crt, "%s/%s.crt", pki, name);
	wsse_options_default(&o);
	o.key_file = key;
	o.cert_file = crt;
	o.clock = test_clock;
	ctx = wsse_ctx_new(&o, err, sizeof(err));
	if (ctx == NULL)
		fprintf(stderr, "signer: %s\n", err);
	free(crt);
	free(key);
	return ctx;
}

/* Serialise a document into a new string. */
static char *
dump(xmlDocPtr doc)
{
	xmlChar	*mem;
	char	*s;
	int	 len;

	xmlDocDumpMemory(doc, &mem, &len);
	s = xstrndup((const char *)mem, (size_t)len);
	xmlFree(mem);
	return s;
}

/* The sample request signed by name with wsse_sign(). */
static char *
signed_by(const char *name)
{
	static const char msg[] =
	    "<s:Envelope xmlns:s='" SOAP11 "'><s:Body><kp:ConsultRequest "
	    "xmlns:kp='urn:kruispunt:hub:1'><kp:MessageId>m-1</kp:MessageId>"
	    "<kp:Ssin>40010199714</kp:Ssin></kp:ConsultRequest></s:Body>"
	    "</s:Envelope>";
	struct envelope	*env = NULL;
	struct wsse_ctx	*ctx = signer(name);
	char		 reason[256], *out = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	CU_ASSERT_EQUAL_FATAL(envelope_parse(msg, strlen(msg), &limits, &env,
	    reason, sizeof(reason)), KP_OK);
	if (wsse_sign(ctx, env->doc, reason, sizeof(reason)) == KP_OK)
		out = dump(env->doc);
	else
		fprintf(stderr, "sign: %s\n", reason);
	envelope_free(env);
	wsse_ctx_free(ctx);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	return out;
}

/* Parse and verify msg with ctx; the code, res filled. */
static enum kp_error
verify_with(struct wsse_ctx *ctx, const char *msg, struct wsse_result *res)
{
	struct envelope	*env = NULL;
	enum kp_error	 e;

	e = envelope_parse(msg, strlen(msg), &limits, &env, res->reason,
	    sizeof(res->reason));
	if (e == KP_OK)
		e = wsse_verify(ctx, env, res);
	envelope_free(env);
	return e;
}

/* Verify msg with a plain verifier; expect code and a reason with what. */
static void
expect(const char *label, const char *msg, enum kp_error want,
    const char *what)
{
	struct wsse_ctx		*ctx = verifier(NULL, NULL, NULL);
	struct wsse_result	 res;
	enum kp_error		 e;

	memset(&res, 0, sizeof(res));
	e = verify_with(ctx, msg, &res);
	printf("\n    %s: %s: %s", label, kp_strerror(e), res.reason);
	CU_ASSERT_EQUAL(e, want);
	if (strstr(res.reason, what) == NULL) {
		fprintf(stderr, "\n  %s: reason '%s' lacks '%s'\n", label,
		    res.reason, what);
		CU_FAIL("reason");
	}
	wsse_result_clear(&res);
	wsse_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* Messages from a template, signed here with plain xmlsec             */
/* ------------------------------------------------------------------ */

struct tmpl {
	const char	*who;		/* make-pki name */
	const char	*sigalg;
	const char	*c14n;
	const char	*refs;		/* NULL: Body and Timestamp, SHA-256 */
	const char	*keyinfo;	/* NULL: STR to the token */
	int		 nosign;	/* leave DigestValue/SignatureValue dummy */
	int64_t		 created;	/* offset from now, ms */
	int64_t		 ttl;		/* Expires - Created; 0: 300 s */
};

/* Base64 DER of a make-pki certificate. */
static char *
cert_b64(const char *who, X509 **certp)
{
	char		*path, *b64;
	FILE		*fp;
	X509		*x;
	unsigned char	*der = NULL;
	int		 len;

	xasprintf(&path, "%s/%s.crt", pki, who);
	fp = fopen(path, "r");
	free(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	len = i2d_X509(x, &der);
	b64 = xmalloc((size_t)len * 2 + 4);
	EVP_EncodeBlock((unsigned char *)b64, der, len);
	OPENSSL_free(der);
	if (certp != NULL)
		*certp = x;
	else
		X509_free(x);
	return b64;
}

/* xsd:dateTime for now + off ms. */
static void
when(int64_t off, char *buf, size_t len)
{
	time_t		t = (time_t)((wsse_now_ms() + off) / 1000);
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Register every wsu:Id, as a sender's stack would. */
static void
add_ids(xmlDocPtr doc, xmlNodePtr n)
{
	xmlAttrPtr	 a;
	xmlChar		*v;

	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if ((a = xmlHasNsProp(n, BAD_CAST "Id", BAD_CAST WSU_NS)) != NULL) {
			v = xmlNodeGetContent((xmlNodePtr)a);
			if (xmlGetID(doc, v) == NULL)
				xmlAddID(NULL, doc, v, a);
			xmlFree(v);
		}
		add_ids(doc, n->children);
	}
}

/* Sign the Signature of doc with the key of who. */
static int
xmlsec_sign(xmlDocPtr doc, const char *who)
{
	xmlSecDSigCtxPtr d = xmlSecDSigCtxCreate(NULL);
	xmlNodePtr	 sig = xmlSecFindNode(xmlDocGetRootElement(doc),
			    BAD_CAST "Signature", BAD_CAST DSNS);
	char		*key;
	int		 rc;

	xasprintf(&key, "%s/%s.key", pki, who);
	d->signKey = xmlSecCryptoAppKeyLoad(key, xmlSecKeyDataFormatPem, NULL,
	    NULL, NULL);
	rc = d->signKey != NULL ? xmlSecDSigCtxSign(d, sig) : -1;
	xmlSecDSigCtxDestroy(d);
	free(key);
	return rc;
}

/* A message from the template t. */
static char *
from_template(const struct tmpl *t)
{
	struct envelope	*env = NULL;
	char		*bst = cert_b64(t->who, NULL), *xml, *out = NULL;
	char		 created[32], expires[32], keyinfo[512], reason[256];

	when(t->created, created, sizeof(created));
	when(t->created + (t->ttl ? t->ttl : 300000), expires, sizeof(expires));
	snprintf(keyinfo, sizeof(keyinfo), "<wsse:SecurityTokenReference>"
	    "<wsse:Reference URI='#tok' ValueType='" WSSE_X509V3 "'/>"
	    "</wsse:SecurityTokenReference>");
	xasprintf(&xml,
	    "<s:Envelope xmlns:s='" SOAP11 "' xmlns:wsu='" WSU_NS "' "
	    "xmlns:wsse='" WSSE_NS "' xmlns:ds='" DSNS "'><s:Header>"
	    "<wsse:Security s:mustUnderstand='1'>"
	    "<wsse:BinarySecurityToken EncodingType='" WSSE_BASE64 "' "
	    "ValueType='" WSSE_X509V3 "' wsu:Id='tok'>%s</wsse:BinarySecurityToken>"
	    "<wsu:Timestamp wsu:Id='ts'><wsu:Created>%s</wsu:Created>"
	    "<wsu:Expires>%s</wsu:Expires></wsu:Timestamp>"
	    "<ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod "
	    "Algorithm='%s'/><ds:SignatureMethod Algorithm='%s'/>%s"
	    "</ds:SignedInfo><ds:SignatureValue>%s</ds:SignatureValue>"
	    "<ds:KeyInfo>%s</ds:KeyInfo></ds:Signature></wsse:Security>"
	    "</s:Header><s:Body wsu:Id='body'><kp:ConsultRequest "
	    "xmlns:kp='urn:kruispunt:hub:1'><kp:MessageId>t-1</kp:MessageId>"
	    "</kp:ConsultRequest></s:Body></s:Envelope>",
	    bst, created, expires, t->c14n ? t->c14n : EXC,
	    t->sigalg ? t->sigalg : strncmp(t->who, "ec", 2) == 0 ?
	    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" : RSA256,
	    t->refs ? t->refs :
	    "<ds:Reference URI='#body'><ds:Transforms>" EXC_TRANSFORM
	    "</ds:Transforms><ds:DigestMethod Algorithm='" SHA256 "'/>"
	    "<ds:DigestValue/></ds:Reference>"
	    "<ds:Reference URI='#ts'><ds:Transforms>" EXC_TRANSFORM
	    "</ds:Transforms><ds:DigestMethod Algorithm='" SHA256 "'/>"
	    "<ds:DigestValue/></ds:Reference>",
	    t->nosign ? "AAAA" : "", t->keyinfo ? t->keyinfo : keyinfo);
	if (envelope_parse(xml, strlen(xml), &limits, &env, reason,
	    sizeof(reason)) != KP_OK)
		fprintf(stderr, "template: %s\n", reason);
	CU_ASSERT_PTR_NOT_NULL_FATAL(env);
	add_ids(env->doc, env->root);
	if (t->nosign || xmlsec_sign(env->doc, t->who) == 0)
		out = dump(env->doc);
	envelope_free(env);
	free(xml);
	free(bst);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	return out;
}

/* One reference with the given URI, transforms and digest. */
static char *
reference(const char *uri, const char *transforms, const char *digest)
{
	char	*s;

	xasprintf(&s, "<ds:Reference URI='%s'><ds:Transforms>%s</ds:Transforms>"
	    "<ds:DigestMethod Algorithm='%s'/><ds:DigestValue/></ds:Reference>",
	    uri, transforms, digest);
	return s;
}

/* ------------------------------------------------------------------ */
/* Accepted messages                                                   */
/* ------------------------------------------------------------------ */

/* The SHA-256 fingerprint of a make-pki certificate, hex. */
static void
fingerprint(const char *who, char hex[65])
{
	X509		*x;
	unsigned char	 md[32];
	unsigned int	 len;
	char		*b = cert_b64(who, &x);
	int		 i;

	X509_digest(x, EVP_sha256(), md, &len);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	X509_free(x);
	free(b);
}

static void
test_roundtrip(void)
{
	static const char *const who[] = { "rsa", "ec256", "ec384" };
	static const char *const keys[] = { "RSA-2048", "EC-P-256", "EC-P-384" };
	struct wsse_ctx		*ctx = verifier(NULL, NULL, NULL);
	struct wsse_result	 res;
	char			*msg, fp[65], cn[64];
	int			 i;

	for (i = 0; i < 3; i++) {
		msg = signed_by(who[i]);
		CU_ASSERT_EQUAL(verify_with(ctx, msg, &res), KP_OK);
		fingerprint(who[i], fp);
		CU_ASSERT_STRING_EQUAL(res.fingerprint, fp);
		snprintf(cn, sizeof(cn), "CN=institution-%s", who[i]);
		CU_ASSERT_PTR_NOT_NULL(strstr(res.subject, cn));
		CU_ASSERT_STRING_EQUAL(res.key, keys[i]);
		CU_ASSERT_STRING_EQUAL(res.keyref, "BinarySecurityToken");
		CU_ASSERT_PTR_NOT_NULL(res.cert);
		CU_ASSERT_EQUAL(res.ncovered, 2);
		CU_ASSERT(res.expires_ms - res.created_ms == 300000);
		wsse_result_clear(&res);
		/* the chain verdict now comes from the cache */
		CU_ASSERT_EQUAL(verify_with(ctx, msg, &res), KP_OK);
		wsse_result_clear(&res);
		free(msg);
	}
	wsse_ctx_free(ctx);
}

/* Body, Timestamp and SignedInfo are canonicalised by kruispunt's c14n
 * (wsse_c14n.c) when signing and checking, and the same message checks
 * with xmlsec's own way (libxml2's c14n) too. */
static void
test_own_c14n(void)
{
	struct wsse_ctx		*ctx = verifier(NULL, NULL, NULL);
	struct wsse_result	 res;
	uint64_t		 f0, l0, f1, l1;
	char			*msg;

	wsse_c14n_counts(&f0, &l0);
	msg = signed_by("ec256");
	wsse_c14n_counts(&f1, &l1);
	CU_ASSERT_EQUAL(f1 - f0, 3);
	CU_ASSERT_EQUAL(l1, l0);
	CU_ASSERT_EQUAL(verify_with(ctx, msg, &res), KP_OK);
	wsse_result_clear(&res);
	wsse_c14n_counts(&f0, &l0);
	CU_ASSERT_EQUAL(f0 - f1, 3);
	CU_ASSERT_EQUAL(l0, l1);
	wsse_c14n_libxml2_only(1);
	CU_ASSERT_EQUAL(verify_with(ctx, msg, &res), KP_OK);
	wsse_result_clear(&res);
	wsse_c14n_libxml2_only(0);
	wsse_c14n_counts(&f1, &l1);
	CU_ASSERT_EQUAL(f1, f0);
	CU_ASSERT(l1 - l0 >= 3);
	free(msg);
	wsse_ctx_free(ctx);
}

static void
test_template_signed_by_xmlsec(void)
{
	struct tmpl	 t = { "ec256", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
			    NULL, NULL, NULL, 0, 0, 0 };
	char		*msg = from_template(&t);

	expect("plain xmlsec, ECDSA-SHA256", msg, KP_OK, "accepted");
	free(msg);
	t.who = "rsa";
	t.sigalg = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512";
	msg = from_template(&t);
	expect("plain xmlsec, RSA-SHA512", msg, KP_OK, "accepted");
	free(msg);
}

/* The element named name (XML Signature namespace) number nth (from 0)
 * in document order below n, or NULL; *seen counts those passed. */
static xmlNodePtr
ds_nth(xmlNodePtr n, const char *name, int nth, int *seen)
{
	xmlNodePtr	f;

	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrEqual(n->name, BAD_CAST name) && n->ns != NULL &&
		    xmlStrEqual(n->ns->href, BAD_CAST DSNS) && (*seen)++ == nth)
			return n;
		if ((f = ds_nth(n->children, name, nth, seen)) != NULL)
			return f;
	}
	return NULL;
}

/* The text of that element without line breaks; malloc'ed ("" when there
 * is none). */
static char *
ds_text(xmlDocPtr doc, const char *name, int nth)
{
	int		 seen = 0;
	xmlNodePtr	 n = ds_nth(xmlDocGetRootElement(doc), name, nth, &seen);
	xmlChar		*v;
	char		*out, *p, *q;

	if (n == NULL)
		return xstrdup("");
	v = xmlNodeGetContent(n);
	out = xstrdup((const char *)v);
	xmlFree(v);
	for (p = q = out; *p != '\0'; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ')
			*q++ = *p;
	*q = '\0';
	return out;
}

/* Empty the DigestValues and the SignatureValue of doc. */
static void
clear_values(xmlNodePtr n)
{
	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrEqual(n->name, BAD_CAST "DigestValue") ||
		    xmlStrEqual(n->name, BAD_CAST "SignatureValue"))
			xmlNodeSetContent(n, NULL);
		else
			clear_values(n->children);
	}
}

/*
 * wsse_sign computes the signature itself (wsse_sign.c sign_own) rather
 * than through xmlsec's transforms: what it signs checks with xmlsec's own
 * c14n, and plain xmlsec, signing the same template again with the same
 * key, writes the same DigestValues and, RSA PKCS#1 v1.5 being
 * deterministic, the same SignatureValue ("plain": xmlsec's registry holds
 * kruispunt's c14n, so the comparison runs with wsse_c14n_libxml2_only on,
 * libxml2's c14n as xmlsec has it). With wsse_sign_xmlsec_only,
 * xmlsec signs, and it checks too; a Body that kruispunt's c14n leaves to
 * libxml2 (a processing instruction) is signed by xmlsec.
 */
static void
test_own_signer(void)
{
	static const char *who[] = { "rsa", "ec256", "ec384" };
	struct wsse_ctx		*ctx = verifier(NULL, NULL, NULL);
	struct wsse_result	 res;
	uint64_t		 o0, x0, o1, x1;
	char			*msg, *a, *b, reason[256];
	struct envelope		*env = NULL;
	size_t			 i;
	int			 k;

	for (i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
		wsse_sign_counts(&o0, &x0);
		msg = signed_by(who[i]);
		wsse_sign_counts(&o1, &x1);
		CU_ASSERT_EQUAL(o1 - o0, 1);
		CU_ASSERT_EQUAL(x1, x0);
		CU_ASSERT_EQUAL(verify_with(ctx, msg, &res), KP_OK);
		wsse_result_clear(&res);
		wsse_c14n_libxml2_only(1);
		CU_ASSERT_EQUAL(verify_with(ctx, msg, &res), KP_OK);
		wsse_result_clear(&res);
		/* plain xmlsec over the same template */
		CU_ASSERT_EQUAL_FATAL(envelope_parse(msg, strlen(msg), &limits,
		    &env, reason, sizeof(reason)), KP_OK);
		{
			xmlDocPtr	mine = xmlCopyDoc(env->doc, 1);

			add_ids(env->doc, xmlDocGetRootElement(env->doc));
			clear_values(xmlDocGetRootElement(env->doc));
			CU_ASSERT_EQUAL(xmlsec_sign(env->doc, who[i]), 0);
			for (k = 0; k < 2; k++) {
				a = ds_text(mine, "DigestValue", k);
				b = ds_text(env->doc, "DigestValue", k);
				CU_ASSERT_TRUE(strlen(a) == 44);
				CU_ASSERT_STRING_EQUAL(a, b);
				free(a);
				free(b);
			}
			a = ds_text(mine, "SignatureValue", 0);
			b = ds_text(env->doc, "SignatureValue", 0);
			if (strcmp(who[i], "rsa") == 0)
				CU_ASSERT_STRING_EQUAL(a, b);
			CU_ASSERT_EQUAL(strlen(a), strlen(b));
			free(a);
			free(b);
			xmlFreeDoc(mine);
		}
		envelope_free(env);
		env = NULL;
		wsse_c14n_libxml2_only(0);
		free(msg);

		wsse_sign_xmlsec_only(1);
		msg = signed_by(who[i]);
		wsse_sign_xmlsec_only(0);
		wsse_sign_counts(&o0, &x0);
		CU_ASSERT_EQUAL(o0, o1);
		CU_ASSERT_EQUAL(x0 - x1, 1);
		CU_ASSERT_EQUAL(verify_with(ctx, msg, &res), KP_OK);
		wsse_result_clear(&res);
		free(msg);
	}

	/* a processing instruction in the Body: kruispunt's c14n leaves it
	 * to libxml2, and xmlsec signs */
	{
		static const char pi_msg[] =
		    "<s:Envelope xmlns:s='" SOAP11 "'><s:Body><kp:ConsultRequest "
		    "xmlns:kp='urn:kruispunt:hub:1'><?note keep?><kp:MessageId>m-2"
		    "</kp:MessageId></kp:ConsultRequest></s:Body></s:Envelope>";
		struct wsse_ctx	*sctx = signer("ec256");

		CU_ASSERT_EQUAL_FATAL(envelope_parse(pi_msg, strlen(pi_msg),
		    &limits, &env, reason, sizeof(reason)), KP_OK);
		wsse_sign_counts(&o0, &x0);
		CU_ASSERT_EQUAL(wsse_sign(sctx, env->doc, reason,
		    sizeof(reason)), KP_OK);
		wsse_sign_counts(&o1, &x1);
		CU_ASSERT_EQUAL(o1, o0);
		CU_ASSERT_EQUAL(x1 - x0, 1);
		msg = dump(env->doc);
		envelope_free(env);
		CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(msg, "<?note keep?>"));
		CU_ASSERT_EQUAL(verify_with(ctx, msg, &res), KP_OK);
		wsse_result_clear(&res);
		wsse_c14n_libxml2_only(1);
		CU_ASSERT_EQUAL(verify_with(ctx, msg, &res), KP_OK);
		wsse_result_clear(&res);
		wsse_c14n_libxml2_only(0);
		free(msg);
		wsse_ctx_free(sctx);
	}
	wsse_ctx_free(ctx);
}

/* Key references resolved through the lookup. */
static void
check_keyref(const char *label, const char *keyinfo, const char *who,
    enum kp_error want)
{
	struct tmpl		 t = { who, NULL, NULL, NULL, keyinfo, 0, 0, 0 };
	struct wsse_ctx		*ctx = verifier(wsse_certset_lookup, registered, NULL);
	struct wsse_result	 res;
	char			*msg = from_template(&t);
	enum kp_error		 e;

	e = verify_with(ctx, msg, &res);
	printf("\n    %s: %s: %s", label, kp_strerror(e), res.reason);
	CU_ASSERT_EQUAL(e, want);
	wsse_result_clear(&res);
	wsse_ctx_free(ctx);
	free(msg);
}

static void
test_key_references(void)
{
	X509			*x;
	char			*b = cert_b64("ec256", &x), ski[64], tp[64],
				 issuer[256], ki[1024];
	const ASN1_OCTET_STRING	*id = X509_get0_subject_key_id(x);
	unsigned char		 md[20];
	unsigned int		 len;
	BIO			*bio = BIO_new(BIO_s_mem());
	BIGNUM			*bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char			*serial = BN_bn2dec(bn);
	int			 n;

	EVP_EncodeBlock((unsigned char *)ski, ASN1_STRING_get0_data(id),
	    ASN1_STRING_length(id));
	X509_digest(x, EVP_sha1(), md, &len);
	EVP_EncodeBlock((unsigned char *)tp, md, (int)len);
	X509_NAME_print_ex(bio, X509_get_issuer_name(x), 0, XN_FLAG_RFC2253);
	n = BIO_read(bio, issuer, sizeof(issuer) - 1);
	issuer[n] = '\0';

	snprintf(ki, sizeof(ki), "<wsse:SecurityTokenReference><wsse:KeyIdentifier "
	    "EncodingType='" WSSE_BASE64 "' ValueType='" WSSE_SKI "'>%s"
	    "</wsse:KeyIdentifier></wsse:SecurityTokenReference>", ski);
	check_keyref("SubjectKeyIdentifier", ki, "ec256", KP_OK);
	check_keyref("SubjectKeyIdentifier of another key", ki, "rsa",
	    KP_INVALID_SIGNATURE);
	snprintf(ki, sizeof(ki), "<wsse:SecurityTokenReference><wsse:KeyIdentifier "
	    "EncodingType='" WSSE_BASE64 "' ValueType='" WSSE_THUMBPRINT "'>%s"
	    "</wsse:KeyIdentifier></wsse:SecurityTokenReference>", tp);
	check_keyref("ThumbprintSHA1", ki, "ec256", KP_OK);
	snprintf(ki, sizeof(ki), "<wsse:SecurityTokenReference><ds:X509Data>"
	    "<ds:X509IssuerSerial><ds:X509IssuerName>%s</ds:X509IssuerName>"
	    "<ds:X509SerialNumber>%s</ds:X509SerialNumber></ds:X509IssuerSerial>"
	    "</ds:X509Data></wsse:SecurityTokenReference>", issuer, serial);
	check_keyref("X509IssuerSerial", ki, "ec256", KP_OK);
	snprintf(ki, sizeof(ki), "<wsse:SecurityTokenReference><wsse:KeyIdentifier "
	    "EncodingType='" WSSE_BASE64 "' ValueType='" WSSE_SKI "'>AAECAwQFBgcICQ=="
	    "</wsse:KeyIdentifier></wsse:SecurityTokenReference>");
	check_keyref("unknown SubjectKeyIdentifier", ki, "ec256", KP_UNKNOWN_SENDER);
	OPENSSL_free(serial);
	BN_free(bn);
	BIO_free(bio);
	X509_free(x);
	free(b);
}

static void
test_not_registered(void)
{
	struct wsse_ctx		*ctx = verifier(wsse_certset_lookup, registered, NULL);
	struct wsse_result	 res;
	char			*msg = signed_by("other"), fp[65];

	CU_ASSERT_EQUAL(verify_with(ctx, msg, &res), KP_UNKNOWN_SENDER);
	printf("\n    valid but not registered: %s: %s",
	    kp_strerror(res.error), res.reason);
	/* the verified certificate is reported so the caller can log it */
	fingerprint("other", fp);
	CU_ASSERT_PTR_NOT_NULL(res.cert);
	CU_ASSERT_STRING_EQUAL(res.fingerprint, fp);
	wsse_result_clear(&res);
	free(msg);
	msg = signed_by("rsa");
	CU_ASSERT_EQUAL(verify_with(ctx, msg, &res), KP_OK);
	wsse_result_clear(&res);
	free(msg);
	wsse_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* Attacks on a message signed by wsse_sign()                          */
/* ------------------------------------------------------------------ */

/* msg (signed by rsa) changed by fn; a new string. */
static char *
mutate(void (*fn)(struct envelope *))
{
	struct envelope	*env = NULL;
	char		*msg = signed_by("rsa"), *out, reason[256];

	CU_ASSERT_EQUAL_FATAL(envelope_parse(msg, strlen(msg), &limits, &env,
	    reason, sizeof(reason)), KP_OK);
	fn(env);
	out = dump(env->doc);
	envelope_free(env);
	free(msg);
	return out;
}

/* The wsse:Security element of env. */
static xmlNodePtr
security(struct envelope *env)
{
	return xmlSecFindChild(env->header, BAD_CAST "Security", BAD_CAST WSSE_NS);
}

/* A fake Body in place of the real one, which goes under parent. */
static void
move_body(struct envelope *env, xmlNodePtr parent)
{
	xmlNodePtr	fake = xmlNewDocNode(env->doc, env->body->ns,
			    BAD_CAST "Body", NULL);
	xmlNodePtr	req = xmlNewChild(fake, NULL, BAD_CAST "ConsultRequest",
			    BAD_CAST "forged");

	xmlSetNs(req, xmlNewNs(req, BAD_CAST "urn:kruispunt:hub:1", NULL));
	xmlAddNextSibling(env->body, fake);
	xmlUnlinkNode(env->body);
	xmlAddChild(parent, env->body);
}

static void
body_to_header(struct envelope *env)
{
	move_body(env, env->header);
}

static void
body_to_security(struct envelope *env)
{
	move_body(env, security(env));
}

/* The fake Body also carries the signed Body's id. */
static void
body_to_header_same_id(struct envelope *env)
{
	xmlChar	*id = xmlGetNsProp(env->body, BAD_CAST "Id", BAD_CAST WSU_NS);
	xmlNsPtr ns = xmlSearchNsByHref(env->doc, env->root, BAD_CAST WSU_NS);

	move_body(env, env->header);
	xmlNewNsProp(envelope_next_element(env->header), ns, BAD_CAST "Id", id);
	xmlFree(id);
}

/* Another element with the Body's id, before the Body. */
static void
duplicate_id(struct envelope *env)
{
	xmlChar	*id = xmlGetNsProp(env->body, BAD_CAST "Id", BAD_CAST WSU_NS);
	xmlNsPtr ns = xmlSearchNsByHref(env->doc, env->root, BAD_CAST WSU_NS);
	xmlNodePtr n = xmlNewChild(env->header, NULL, BAD_CAST "Extra", NULL);

	xmlNewNsProp(n, ns, BAD_CAST "Id", id);
	xmlFree(id);
}

/* An xml:id with the Body's id (libxml2 registers xml:id itself). */
static void
duplicate_xml_id(struct envelope *env)
{
	xmlChar	*id = xmlGetNsProp(env->body, BAD_CAST "Id", BAD_CAST WSU_NS);
	xmlNodePtr n = xmlNewChild(env->header, NULL, BAD_CAST "Extra", NULL);

	xmlSetProp(n, BAD_CAST "xml:id", id);
	xmlFree(id);
}

static void
second_security(struct envelope *env)
{
	xmlNodePtr	copy = xmlCopyNode(security(env), 1);

	/* drop the copy's ids so that only the header count is wrong */
	xmlUnsetNsProp(xmlSecFindChild(copy, BAD_CAST "BinarySecurityToken",
	    BAD_CAST WSSE_NS), xmlSearchNsByHref(env->doc, env->root,
	    BAD_CAST WSU_NS), BAD_CAST "Id");
	xmlUnsetNsProp(xmlSecFindChild(copy, BAD_CAST "Timestamp",
	    BAD_CAST WSU_NS), xmlSearchNsByHref(env->doc, env->root,
	    BAD_CAST WSU_NS), BAD_CAST "Id");
	xmlAddChild(env->header, copy);
}

static void
drop_timestamp(struct envelope *env)
{
	xmlNodePtr	ts = xmlSecFindChild(security(env), BAD_CAST "Timestamp",
			    BAD_CAST WSU_NS);

	xmlUnlinkNode(ts);
	xmlFreeNode(ts);
}

static void
change_payload(struct envelope *env)
{
	xmlNodeSetContent(envelope_first_element(env->payload),
	    BAD_CAST "m-2");
}

static void
test_wrapping(void)
{
	static const struct {
		const char	*label;
		void		(*fn)(struct envelope *);
		enum kp_error	 want;
		const char	*why;
	} cases[] = {
		{ "Body moved into a header, fake Body", body_to_header,
		  KP_INVALID_SIGNATURE, "does not cover the soap:Body" },
		{ "Body moved into Security, fake Body", body_to_security,
		  KP_INVALID_SIGNATURE, "does not cover the soap:Body" },
		{ "Body moved, fake Body with the same id", body_to_header_same_id,
		  KP_INVALID_MESSAGE, "more than once" },
		{ "duplicate wsu:Id", duplicate_id, KP_INVALID_MESSAGE,
		  "more than once" },
		{ "xml:id equal to the Body's wsu:Id", duplicate_xml_id,
		  KP_INVALID_MESSAGE, "more than once" },
		{ "second Security header", second_security, KP_INVALID_MESSAGE,
		  "exactly one is allowed" },
		{ "Timestamp missing", drop_timestamp, KP_EXPIRED,
		  "no wsu:Timestamp" },
		{ "payload changed", change_payload, KP_INVALID_SIGNATURE,
		  "does not match" },
	};
	size_t	i;
	char	*msg;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		msg = mutate(cases[i].fn);
		expect(cases[i].label, msg, cases[i].want, cases[i].why);
		free(msg);
	}
}

/* ------------------------------------------------------------------ */
/* Attacks built from templates                                        */
/* ------------------------------------------------------------------ */

/* Expect the template t refused with want and a reason with why. */
static void
expect_tmpl(const char *label, const struct tmpl *t, enum kp_error want,
    const char *why)
{
	char	*msg = from_template(t);

	expect(label, msg, want, why);
	free(msg);
}

static void
test_coverage(void)
{
	struct tmpl	 t = { "rsa", NULL, NULL, NULL, NULL, 0, 0, 0 };
	char		*r = reference("#body", EXC_TRANSFORM, SHA256);

	t.refs = r;
	expect_tmpl("Timestamp not signed", &t, KP_INVALID_SIGNATURE,
	    "does not cover the wsu:Timestamp");
	free(r);
	t.refs = r = reference("#ts", EXC_TRANSFORM, SHA256);
	expect_tmpl("Body not signed", &t, KP_INVALID_SIGNATURE,
	    "does not cover the soap:Body");
	free(r);
}

static void
test_uris_and_transforms(void)
{
	static const struct { const char *label, *uri, *transforms, *why; } c[] = {
		{ "http reference", "http://127.0.0.1:9/x", EXC_TRANSFORM,
		  "is not allowed" },
		{ "file reference", "file:///etc/passwd", EXC_TRANSFORM,
		  "is not allowed" },
		{ "whole-document reference", "", EXC_TRANSFORM, "is not allowed" },
		{ "XPointer reference", "#xpointer(/)", EXC_TRANSFORM,
		  "is not allowed" },
		{ "XSLT transform", "#body",
		  "<ds:Transform Algorithm='http://www.w3.org/TR/1999/REC-xslt-19991116'>"
		  "<xsl:stylesheet xmlns:xsl='http://www.w3.org/1999/XSL/Transform' "
		  "version='1.0'/></ds:Transform>", "exclusive c14n only" },
		{ "XPath transform", "#body",
		  "<ds:Transform Algorithm='http://www.w3.org/TR/1999/REC-xpath-19991116'>"
		  "<ds:XPath>1</ds:XPath></ds:Transform>", "exclusive c14n only" },
		{ "enveloped-signature transform", "#body",
		  "<ds:Transform Algorithm='http://www.w3.org/2000/09/xmldsig#enveloped-signature'/>",
		  "exclusive c14n only" },
		{ "inclusive c14n transform", "#body",
		  "<ds:Transform Algorithm='http://www.w3.org/TR/2001/REC-xml-c14n-20010315'/>",
		  "exclusive c14n only" },
	};
	struct tmpl	 t = { "rsa", NULL, NULL, NULL, NULL, 1, 0, 0 };
	char		*a, *b, *refs;
	size_t		 i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		a = reference(c[i].uri, c[i].transforms, SHA256);
		b = reference("#ts", EXC_TRANSFORM, SHA256);
		xasprintf(&refs, "%s%s", a, b);
		t.refs = refs;
		expect_tmpl(c[i].label, &t, KP_INVALID_SIGNATURE, c[i].why);
		free(refs);
		free(b);
		free(a);
	}
}

static void
test_algorithms(void)
{
	struct tmpl	 t = { "rsa", NULL, NULL, NULL, NULL, 0, 0, 0 };
	char		*a, *b, *refs;

	a = reference("#body", EXC_TRANSFORM, "http://www.w3.org/2000/09/xmldsig#sha1");
	b = reference("#ts", EXC_TRANSFORM, SHA256);
	xasprintf(&refs, "%s%s", a, b);
	t.refs = refs;
	expect_tmpl("SHA-1 digest (validly signed)", &t, KP_INVALID_SIGNATURE,
	    "xmldsig#sha1' is not allowed");
	free(refs);
	free(a);
	a = reference("#body", EXC_TRANSFORM, "http://www.w3.org/2001/04/xmldsig-more#md5");
	xasprintf(&refs, "%s%s", a, b);
	t.refs = refs;
	t.nosign = 1;
	expect_tmpl("MD5 digest", &t, KP_INVALID_SIGNATURE, "md5' is not allowed");
	free(refs);
	free(a);
	free(b);
	t.refs = NULL;
	t.nosign = 0;
	t.sigalg = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
	expect_tmpl("RSA-SHA1 signature (validly signed)", &t,
	    KP_INVALID_SIGNATURE, "rsa-sha1' is not allowed");
	t.nosign = 1;
	t.sigalg = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256";
	expect_tmpl("HMAC-SHA256 signature", &t, KP_INVALID_SIGNATURE,
	    "hmac-sha256' is not allowed");
	t.sigalg = "http://www.w3.org/2001/04/xmldsig-more#rsa-md5";
	expect_tmpl("RSA-MD5 signature", &t, KP_INVALID_SIGNATURE,
	    "rsa-md5' is not allowed");
	t.sigalg = NULL;
	t.nosign = 0;
	t.c14n = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
	expect_tmpl("inclusive c14n of SignedInfo", &t, KP_INVALID_SIGNATURE,
	    "exclusive c14n only");
}

/* msg parsed into *env, and the bytes of its ds:SignatureValue (at most
 * 600) in raw; its SignatureValue element. */
static xmlNodePtr
signature_value(const char *msg, struct envelope **env, unsigned char *raw,
    int *len)
{
	xmlNodePtr	 sv;
	xmlChar		*text;
	char		 reason[256], b64[900];
	int		 i, j;

	CU_ASSERT_EQUAL_FATAL(envelope_parse(msg, strlen(msg), &limits, env,
	    reason, sizeof(reason)), KP_OK);
	sv = xmlSecFindNode((*env)->header, BAD_CAST "SignatureValue",
	    BAD_CAST DSNS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sv);
	text = xmlNodeGetContent(sv);
	for (i = j = 0; text[i] != '\0' && j < (int)sizeof(b64) - 1; i++)
		if (text[i] > ' ')	/* base64 without the line breaks */
			b64[j++] = (char)text[i];
	b64[j] = '\0';
	xmlFree(text);
	*len = EVP_DecodeBlock(raw, (unsigned char *)b64, j);
	while (j > 0 && b64[--j] == '=')
		(*len)--;
	return sv;
}

/* msg with the base64 text of its SignatureValue changed by fn; new. */
static char *
with_signature_value(const char *msg, void (*fn)(unsigned char *, int *))
{
	struct envelope	*env = NULL;
	xmlNodePtr	 sv;
	unsigned char	 raw[600];
	char		 b64[900], *out;
	int		 len;

	sv = signature_value(msg, &env, raw, &len);
	fn(raw, &len);
	EVP_EncodeBlock((unsigned char *)b64, raw, len);
	xmlNodeSetContent(sv, BAD_CAST b64);
	out = dump(env->doc);
	envelope_free(env);
	return out;
}

static void
flip_last_bit(unsigned char *raw, int *len)
{
	raw[*len - 1] ^= 1;
}

static void
drop_last_byte(unsigned char *raw, int *len)
{
	(void)raw;
	(*len)--;
}

static void
add_zero_byte(unsigned char *raw, int *len)
{
	raw[(*len)++] = 0;
}

/* The signature methods (wsse_sigalg.c): every one accepted when right,
 * a changed or misshapen value and a key of the other kind refused. */
static void
test_signature_methods(void)
{
	static const struct { const char *who, *alg; } ok[] = {
		{ "rsa", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" },
		{ "rsa", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" },
		{ "rsa", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" },
		{ "ec256", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" },
		{ "ec256", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384" },
		{ "ec384", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384" },
	};
	struct tmpl	 t = { NULL, NULL, NULL, NULL, NULL, 0, 0, 0 };
	char		*msg, *bad;
	size_t		 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		t.who = ok[i].who;
		t.sigalg = ok[i].alg;
		msg = from_template(&t);
		expect(ok[i].alg, msg, KP_OK, "");
		bad = with_signature_value(msg, flip_last_bit);
		expect("one bit of the value changed", bad, KP_INVALID_SIGNATURE,
		    "does not match");
		free(bad);
		bad = with_signature_value(msg, drop_last_byte);
		expect("a byte short", bad, KP_INVALID_SIGNATURE, "");
		free(bad);
		bad = with_signature_value(msg, add_zero_byte);
		expect("a byte long", bad, KP_INVALID_SIGNATURE, "");
		free(bad);
		free(msg);
	}
	/* a key of the other kind than the method names */
	t.nosign = 1;
	t.who = "ec256";
	t.sigalg = RSA256;
	expect_tmpl("RSA-SHA256 named, an EC key", &t, KP_INVALID_SIGNATURE, "");
	t.who = "rsa";
	t.sigalg = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
	expect_tmpl("ECDSA-SHA256 named, an RSA key", &t, KP_INVALID_SIGNATURE, "");
}

static void
test_keys_and_certificates(void)
{
	struct tmpl	 t = { "rsa1024", NULL, NULL, NULL, NULL, 0, 0, 0 };

	expect_tmpl("RSA-1024 key", &t, KP_INVALID_SIGNATURE, "1024 bits");
	t.who = "rsa";
	t.keyinfo = "<ds:KeyValue><ds:RSAKeyValue><ds:Modulus>AQAB</ds:Modulus>"
	    "<ds:Exponent>AQAB</ds:Exponent></ds:RSAKeyValue></ds:KeyValue>";
	expect_tmpl("bare KeyValue", &t, KP_INVALID_SIGNATURE, "bare ds:KeyValue");
	t.keyinfo = "<ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate>"
	    "</ds:X509Data>";
	expect_tmpl("X509Data outside a SecurityTokenReference", &t,
	    KP_INVALID_SIGNATURE, "exactly one wsse:SecurityTokenReference");
	t.keyinfo = NULL;
	t.who = "untrusted";
	expect_tmpl("certificate from an untrusted CA", &t, KP_INVALID_SIGNATURE,
	    "not trusted: unable to get local issuer certificate");
	t.who = "rogue";
	expect_tmpl("self-signed rogue certificate", &t, KP_INVALID_SIGNATURE,
	    "not trusted: self-signed certificate");
	t.who = "expired";
	expect_tmpl("expired certificate", &t, KP_INVALID_SIGNATURE,
	    "not trusted: certificate has expired");
	t.who = "revoked";
	expect_tmpl("revoked certificate", &t, KP_INVALID_SIGNATURE,
	    "not trusted: certificate revoked");
}

static void
test_token_reference(void)
{
	struct tmpl	 t = { "rsa", NULL, NULL, NULL, NULL, 0, 0, 0 };

	t.keyinfo = "<wsse:SecurityTokenReference><wsse:Reference URI='#body' "
	    "ValueType='" WSSE_X509V3 "'/></wsse:SecurityTokenReference>";
	expect_tmpl("STR pointing at the Body", &t, KP_INVALID_SIGNATURE,
	    "does not name a BinarySecurityToken");
	t.keyinfo = "<wsse:SecurityTokenReference><wsse:Reference "
	    "URI='http://127.0.0.1:9/cert' ValueType='" WSSE_X509V3 "'/>"
	    "</wsse:SecurityTokenReference>";
	expect_tmpl("STR to an external token", &t, KP_INVALID_SIGNATURE,
	    "does not name a BinarySecurityToken");
	t.keyinfo = "<wsse:SecurityTokenReference><wsse:KeyIdentifier "
	    "ValueType='" WSSE_SKI "'>AAAA</wsse:KeyIdentifier>"
	    "</wsse:SecurityTokenReference>";
	expect_tmpl("key identifier without a lookup", &t, KP_INVALID_SIGNATURE,
	    "no registered certificates");
}

static void
test_timestamps(void)
{
	struct tmpl	 t = { "ec256", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
			    NULL, NULL, NULL, 0, 0, 0 };
	char		*msg;

	t.created = -3600 * 1000;
	expect_tmpl("Timestamp expired", &t, KP_EXPIRED, "expired at its wsu:Expires");
	t.created = -1000 * 1000;	/* Expires still ahead, but too old */
	t.ttl = 3600 * 1000;
	expect_tmpl("Created older than max age + skew", &t, KP_EXPIRED,
	    "maximum age");
	t.ttl = 0;
	t.created = 3600 * 1000;
	expect_tmpl("Timestamp in the future beyond the skew", &t, KP_EXPIRED,
	    "in the future");
	t.created = 200 * 1000;	/* within the 300 s skew */
	expect_tmpl("Timestamp in the future within the skew", &t, KP_OK,
	    "accepted");
	/* the real signer with a clock an hour behind */
	clock_offset = -3600 * 1000;
	msg = signed_by("rsa");
	clock_offset = 0;
	expect("wsse_sign an hour ago", msg, KP_EXPIRED, "expired");
	free(msg);
}

static void
test_replay(void)
{
	struct replay		*r = replay_memory_new(1000);
	struct wsse_ctx		*ctx = verifier(NULL, NULL, r);
	struct wsse_result	 res;
	char			*msg = signed_by("ec256"), *msg2 = signed_by("ec256");
	char			*sv, *p, *q;

	CU_ASSERT_EQUAL(verify_with(ctx, msg, &res), KP_OK);
	wsse_result_clear(&res);
	CU_ASSERT_EQUAL(verify_with(ctx, msg, &res), KP_REPLAY);
	printf("\n    replayed message: %s: %s", kp_strerror(res.error), res.reason);
	wsse_result_clear(&res);
	/* the same again, its SignatureValue broken into lines (as xmlsec
	 * writes it; kruispunt's signer writes one line) */
	CU_ASSERT_FATAL((sv = strstr(msg, "SignatureValue>")) != NULL);
	sv += strlen("SignatureValue>");
	CU_ASSERT_FATAL((q = strchr(sv, '<')) != NULL);
	CU_ASSERT_FATAL(q - sv > 40 && memchr(sv, '\n', (size_t)(q - sv)) == NULL);
	p = xmalloc(strlen(msg) + 3);
	memcpy(p, msg, (size_t)(sv - msg) + 40);
	memcpy(p + (sv - msg) + 40, "\r\n", 2);
	strcpy(p + (sv - msg) + 42, sv + 40);
	free(msg);
	msg = p;
	CU_ASSERT_EQUAL(verify_with(ctx, msg, &res), KP_REPLAY);
	wsse_result_clear(&res);
	/* another message of the same sender passes */
	CU_ASSERT_EQUAL(verify_with(ctx, msg2, &res), KP_OK);
	wsse_result_clear(&res);
	CU_ASSERT_EQUAL(replay_memory_count(r, wsse_now_ms()), 2);
	wsse_ctx_free(ctx);
	replay_free(r);
	free(msg2);
	free(msg);
}

/* ------------------------------------------------------------------ */
/* ECDSA SignatureValue in DER, as gSOAP's wsse plugin writes it        */
/* ------------------------------------------------------------------ */

enum der_form { DER_STRICT, DER_LONG_LENGTH, DER_PADDED_R, RAW_NEGATED_S };

/* msg (signed with ECDSA by wsse_sign()) with its SignatureValue r || s
 * written as a DER ECDSA-Sig-Value, or as one of two non-DER (BER)
 * spellings of it; a new string. */
static char *
ecdsa_as_der(const char *msg, enum der_form form)
{
	struct envelope	*env = NULL;
	xmlNodePtr	 sv;
	unsigned char	 raw[600], *der = NULL, ber[200];
	char		 b64[300], *out;
	ECDSA_SIG	*sig = ECDSA_SIG_new();
	int		 len, half, dlen, blen, rlen;

	sv = signature_value(msg, &env, raw, &len);
	half = len / 2;
	CU_ASSERT_FATAL(half == 32 || half == 48);
	ECDSA_SIG_set0(sig, BN_bin2bn(raw, half, NULL),
	    BN_bin2bn(raw + half, half, NULL));
	dlen = i2d_ECDSA_SIG(sig, &der);
	CU_ASSERT_FATAL(dlen > 8 && dlen < 127 && der[1] == dlen - 2);
	switch (form) {
	case DER_STRICT:
		memcpy(ber, der, (size_t)dlen);
		blen = dlen;
		break;
	case DER_LONG_LENGTH:	/* 30 81 LL ...: BER, not DER */
		ber[0] = 0x30;
		ber[1] = 0x81;
		ber[2] = (unsigned char)(dlen - 2);
		memcpy(ber + 3, der + 2, (size_t)dlen - 2);
		blen = dlen + 1;
		break;
	case RAW_NEGATED_S: {	/* r || (n - s): as valid, another value */
		EC_GROUP *g = EC_GROUP_new_by_curve_name(half == 32 ?
		    NID_X9_62_prime256v1 : NID_secp384r1);
		BIGNUM *ns = BN_new();
		CU_ASSERT_FATAL(g != NULL && ns != NULL);
		BN_sub(ns, EC_GROUP_get0_order(g), ECDSA_SIG_get0_s(sig));
		memcpy(ber, raw, (size_t)half);
		CU_ASSERT_FATAL(BN_bn2binpad(ns, ber + half, half) == half);
		CU_ASSERT_FATAL(memcmp(ber + half, raw + half, (size_t)half) != 0);
		blen = 2 * half;
		BN_free(ns);
		EC_GROUP_free(g);
		break;
	}
	case DER_PADDED_R:	/* r with a needless leading 00 */
		rlen = der[3];
		ber[0] = 0x30;
		ber[1] = (unsigned char)(dlen - 1);
		ber[2] = 0x02;
		ber[3] = (unsigned char)(rlen + 1);
		ber[4] = 0x00;
		memcpy(ber + 5, der + 4, (size_t)dlen - 4);
		blen = dlen + 1;
		break;
	}
	EVP_EncodeBlock((unsigned char *)b64, ber, blen);
	xmlNodeSetContent(sv, BAD_CAST b64);
	out = dump(env->doc);
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	envelope_free(env);
	return out;
}

static void
test_ecdsa_der(void)
{
	static const char *const who[] = { "ec256", "ec384" };
	struct replay		*r = replay_memory_new(1000);
	struct wsse_ctx		*ctx = verifier(NULL, NULL, r);
	struct wsse_result	 res;
	char			*msg, *der, *long_len, *padded, *neg;
	int			 i;

	for (i = 0; i < 2; i++) {
		msg = signed_by(who[i]);
		der = ecdsa_as_der(msg, DER_STRICT);
		long_len = ecdsa_as_der(msg, DER_LONG_LENGTH);
		padded = ecdsa_as_der(msg, DER_PADDED_R);
		CU_ASSERT_EQUAL(verify_with(ctx, long_len, &res), KP_INVALID_SIGNATURE);
		printf("\n    %s, BER length: %s", who[i], res.reason);
		wsse_result_clear(&res);
		CU_ASSERT_EQUAL(verify_with(ctx, padded, &res), KP_INVALID_SIGNATURE);
		printf("\n    %s, r padded: %s", who[i], res.reason);
		wsse_result_clear(&res);
		CU_ASSERT_EQUAL(verify_with(ctx, der, &res), KP_OK);
		printf("\n    %s, strict DER: %s", who[i], res.reason);
		wsse_result_clear(&res);
		/* the same signature spelt r || s: one message */
		CU_ASSERT_EQUAL(verify_with(ctx, msg, &res), KP_REPLAY);
		wsse_result_clear(&res);
		/* and (r, n - s), a valid signature of the same SignedInfo
		 * with another value: still the same message */
		neg = ecdsa_as_der(msg, RAW_NEGATED_S);
		CU_ASSERT_EQUAL(verify_with(ctx, neg, &res), KP_REPLAY);
		printf("\n    %s, (r, n - s) after (r, s): %s", who[i], res.reason);
		wsse_result_clear(&res);
		free(neg);
		free(padded);
		free(long_len);
		free(der);
		free(msg);
	}
	/* an RSA signer's message is untouched */
	msg = signed_by("rsa");
	CU_ASSERT_EQUAL(verify_with(ctx, msg, &res), KP_OK);
	wsse_result_clear(&res);
	wsse_ctx_free(ctx);
	replay_free(r);
	free(msg);
}

/* ------------------------------------------------------------------ */
/* The replay store                                                    */
/* ------------------------------------------------------------------ */

static void
test_replay_store(void)
{
	struct replay	*r = replay_memory_new(12);
	char		 key[16];
	int		 i, errors = 0;

	CU_ASSERT_EQUAL(replay_remember(r, "a", "k", 1, 2000, 1000), REPLAY_NEW);
	CU_ASSERT_EQUAL(replay_remember(r, "a", "k", 1, 2000, 1500), REPLAY_SEEN);
	/* another sender, same key: not the same message */
	CU_ASSERT_EQUAL(replay_remember(r, "b", "k", 1, 2000, 1500), REPLAY_NEW);
	/* expired: remembered again */
	CU_ASSERT_EQUAL(replay_remember(r, "a", "k", 1, 4000, 2000), REPLAY_NEW);
	CU_ASSERT_EQUAL(replay_remember(r, "a", "k", 1, 4000, 3999), REPLAY_SEEN);
	/* full of live entries: fail closed, but a replay is still a replay */
	for (i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "m%d", i);
		errors += replay_remember(r, "a", key, strlen(key), 9000, 3000) ==
		    REPLAY_ERROR;
	}
	CU_ASSERT(errors > 0);
	CU_ASSERT(replay_memory_count(r, 3000) <= 16);
	CU_ASSERT_EQUAL(replay_remember(r, "a", "m0", 2, 9000, 3000), REPLAY_SEEN);
	/* once they expire there is room again */
	CU_ASSERT_EQUAL(replay_remember(r, "a", "new", 3, 20000, 9500), REPLAY_NEW);
	replay_purge(r, 9500);
	CU_ASSERT_EQUAL(replay_memory_count(r, 9500), 1);
	replay_free(r);
}

static void
test_sign_twice_refused(void)
{
	struct envelope	*env = NULL;
	struct wsse_ctx	*ctx = signer("rsa");
	char		*msg = signed_by("rsa"), reason[256];

	CU_ASSERT_EQUAL_FATAL(envelope_parse(msg, strlen(msg), &limits, &env,
	    reason, sizeof(reason)), KP_OK);
	CU_ASSERT_EQUAL(wsse_sign(ctx, env->doc, reason, sizeof(reason)),
	    KP_INVALID_MESSAGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(reason, "already has"));
	envelope_free(env);
	wsse_ctx_free(ctx);
	free(msg);
}

static void
test_bad_key_files(void)
{
	struct wsse_options	 o;
	char			 err[256], *key = pki_path("rsa.key"),
				*crt = pki_path("ec256.crt");

	wsse_options_default(&o);
	o.key_file = key;
	o.cert_file = crt;
	CU_ASSERT_PTR_NULL(wsse_ctx_new(&o, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not hold the key"));
	o.ca_file = "/nonexistent/ca.pem";
	o.key_file = NULL;
	CU_ASSERT_PTR_NULL(wsse_ctx_new(&o, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot load the trust anchors"));
	free(crt);
	free(key);
}

/* Verify msg; the tree afterwards must serialise as before. */
static enum kp_error
verify_keeps_tree(struct wsse_ctx *ctx, const char *msg)
{
	struct envelope		*env = NULL;
	struct wsse_result	 res;
	char			*before, *after, reason[256];
	enum kp_error		 e;

	memset(&res, 0, sizeof(res));
	CU_ASSERT_EQUAL_FATAL(envelope_parse(msg, strlen(msg), &limits, &env,
	    reason, sizeof(reason)), KP_OK);
	before = dump(env->doc);
	e = wsse_verify(ctx, env, &res);
	after = dump(env->doc);
	CU_ASSERT_STRING_EQUAL(before, after);
	CU_ASSERT_PTR_EQUAL(env->body->parent, env->root);
	CU_ASSERT_PTR_EQUAL(env->root->last, env->body->next ?
	    env->root->last : env->body);
	wsse_result_clear(&res);
	envelope_free(env);
	free(after);
	free(before);
	return e;
}

/* While xmlsec canonicalises the header the Body is set aside: whatever
 * the order of the references and the outcome, it is back in place. */
static void
test_body_in_place(void)
{
	struct wsse_ctx	*ctx = verifier(NULL, NULL, NULL);
	struct tmpl	 t = { "rsa", NULL, NULL, NULL, NULL, 0, 0, 0 };
	char		*a = reference("#ts", EXC_TRANSFORM, SHA256),
			*b = reference("#body", EXC_TRANSFORM, SHA256), *refs,
			*msg;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	msg = signed_by("rsa");
	CU_ASSERT_EQUAL(verify_keeps_tree(ctx, msg), KP_OK);
	free(msg);
	msg = mutate(change_payload);
	CU_ASSERT_EQUAL(verify_keeps_tree(ctx, msg), KP_INVALID_SIGNATURE);
	free(msg);
	msg = mutate(body_to_header);
	CU_ASSERT_EQUAL(verify_keeps_tree(ctx, msg), KP_INVALID_SIGNATURE);
	free(msg);
	/* Timestamp first, then Body; and the Timestamp alone */
	xasprintf(&refs, "%s%s", a, b);
	t.refs = refs;
	msg = from_template(&t);
	CU_ASSERT_EQUAL(verify_keeps_tree(ctx, msg), KP_OK);
	free(msg);
	t.refs = a;
	msg = from_template(&t);
	CU_ASSERT_EQUAL(verify_keeps_tree(ctx, msg), KP_INVALID_SIGNATURE);
	free(msg);
	free(refs);
	free(b);
	free(a);
	wsse_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* The per-context caches                                              */
/* ------------------------------------------------------------------ */

/* A verifier with its own CRL file, cache size and chain-verdict time. */
static struct wsse_ctx *
cache_verifier(const char *crl, size_t certs, int64_t chain_ms)
{
	struct wsse_options	 o;
	struct wsse_ctx		*ctx;
	char			 err[256], *ca = pki_path("ca.crt");

	wsse_options_default(&o);
	o.ca_file = ca;
	o.crl_file = crl;
	o.cert_cache = certs;
	o.chain_cache_ms = chain_ms;
	o.clock = test_clock;
	o.lookup = wsse_certset_lookup;
	o.lookup_arg = registered;
	ctx = wsse_ctx_new(&o, err, sizeof(err));
	if (ctx == NULL)
		fprintf(stderr, "cache_verifier: %s\n", err);
	free(ca);
	return ctx;
}

/* Verify msg with ctx; the code; res cleared again. */
static enum kp_error
verify_code(struct wsse_ctx *ctx, const char *msg, char *fp, char *why,
    size_t whylen)
{
	struct wsse_result	 res;
	enum kp_error		 e;

	memset(&res, 0, sizeof(res));
	e = verify_with(ctx, msg, &res);
	if (fp != NULL)
		memcpy(fp, res.fingerprint, sizeof(res.fingerprint));
	if (why != NULL)
		snprintf(why, whylen, "%s", res.reason);
	wsse_result_clear(&res);
	return e;
}

static void
test_cert_cache_reuse(void)
{
	struct wsse_ctx		*ctx;
	struct wsse_stats	 st;
	struct wsse_options	 o;
	char			*crl = pki_path("crl.pem"), *rsa = signed_by("rsa"),
				*ec = signed_by("ec256"), *rogue, fp[65], want[65],
				 why[256];
	struct tmpl		 t = { "rogue", NULL, NULL, NULL, NULL, 0, 0, 0 };

	wsse_options_default(&o);
	CU_ASSERT_EQUAL(o.cert_cache, 0);	/* 0: the default size */
	ctx = cache_verifier(crl, 0, 300000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	wsse_ctx_stats(ctx, &st);
	CU_ASSERT_EQUAL(st.certs_capacity, 256);
	CU_ASSERT_EQUAL(st.certs_cached, 0);

	CU_ASSERT_EQUAL(verify_code(ctx, rsa, fp, NULL, 0), KP_OK);
	CU_ASSERT_EQUAL(verify_code(ctx, rsa, fp, NULL, 0), KP_OK);
	fingerprint("rsa", want);
	CU_ASSERT_STRING_EQUAL(fp, want);
	wsse_ctx_stats(ctx, &st);
	CU_ASSERT_EQUAL(st.cert_misses, 1);
	CU_ASSERT_EQUAL(st.cert_hits, 1);
	CU_ASSERT_EQUAL(st.chain_misses, 1);
	CU_ASSERT_EQUAL(st.chain_hits, 1);
	CU_ASSERT_EQUAL(st.certs_cached, 1);

	/* another certificate is another entry, never the cached one */
	CU_ASSERT_EQUAL(verify_code(ctx, ec, fp, NULL, 0), KP_OK);
	fingerprint("ec256", want);
	CU_ASSERT_STRING_EQUAL(fp, want);
	/* same subject as rsa.crt, self-signed: refused after rsa was cached */
	rogue = from_template(&t);
	CU_ASSERT_EQUAL(verify_code(ctx, rogue, fp, why, sizeof(why)),
	    KP_INVALID_SIGNATURE);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "self-signed"));
	fingerprint("rogue", want);
	CU_ASSERT_STRING_EQUAL(fp, want);
	/* refused again; a refused certificate takes no place in the cache */
	CU_ASSERT_EQUAL(verify_code(ctx, rogue, NULL, why, sizeof(why)),
	    KP_INVALID_SIGNATURE);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "self-signed"));
	wsse_ctx_stats(ctx, &st);
	CU_ASSERT_EQUAL(st.cert_misses, 4);
	CU_ASSERT_EQUAL(st.certs_cached, 2);
	CU_ASSERT_EQUAL(verify_code(ctx, rsa, NULL, NULL, 0), KP_OK);
	wsse_ctx_free(ctx);
	free(rogue);
	free(ec);
	free(rsa);
	free(crl);
}

static void
test_cert_cache_bounded(void)
{
	static const char *const who[] = { "rsa", "ec256", "ec384", "other",
	    "hub", "rsa", "ec256" };
	struct wsse_ctx		*ctx;
	struct wsse_stats	 st;
	char			*crl = pki_path("crl.pem"), *msg, fp[65], want[65];
	size_t			 i;

	ctx = cache_verifier(crl, 4, 300000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	for (i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
		msg = signed_by(who[i]);
		/* other and hub are not registered: valid, then refused */
		CU_ASSERT_NOT_EQUAL(verify_code(ctx, msg, fp, NULL, 0),
		    KP_INVALID_SIGNATURE);
		fingerprint(who[i], want);
		CU_ASSERT_STRING_EQUAL(fp, want);
		wsse_ctx_stats(ctx, &st);
		CU_ASSERT(st.certs_cached <= 4);
		free(msg);
	}
	wsse_ctx_stats(ctx, &st);
	CU_ASSERT_EQUAL(st.certs_capacity, 4);
	CU_ASSERT_EQUAL(st.certs_cached, 4);
	/* five certificates through four slots: rsa and ec256 were evicted */
	CU_ASSERT_EQUAL(st.cert_misses, 7);
	CU_ASSERT_EQUAL(st.cert_hits, 0);
	wsse_ctx_free(ctx);
	free(crl);
}

static void
test_cert_cache_lookup(void)
{
	X509			*x;
	char			*b = cert_b64("ec256", &x), ski[64], ki[1024],
				*crl = pki_path("crl.pem"), *msg;
	const ASN1_OCTET_STRING	*id = X509_get0_subject_key_id(x);
	struct tmpl		 t = { "ec256", NULL, NULL, NULL, NULL, 0, 0, 0 };
	struct wsse_ctx		*ctx = cache_verifier(crl, 0, 300000);
	struct wsse_stats	 st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	EVP_EncodeBlock((unsigned char *)ski, ASN1_STRING_get0_data(id),
	    ASN1_STRING_length(id));
	snprintf(ki, sizeof(ki), "<wsse:SecurityTokenReference><wsse:KeyIdentifier "
	    "EncodingType='" WSSE_BASE64 "' ValueType='" WSSE_SKI "'>%s"
	    "</wsse:KeyIdentifier></wsse:SecurityTokenReference>", ski);
	t.keyinfo = ki;
	msg = from_template(&t);
	CU_ASSERT_EQUAL(verify_code(ctx, msg, NULL, NULL, 0), KP_OK);
	CU_ASSERT_EQUAL(verify_code(ctx, msg, NULL, NULL, 0), KP_OK);
	wsse_ctx_stats(ctx, &st);
	CU_ASSERT_EQUAL(st.cert_misses, 1);
	CU_ASSERT_EQUAL(st.cert_hits, 1);
	wsse_ctx_free(ctx);
	free(msg);
	free(crl);
	X509_free(x);
	free(b);
}

/* Run a shell command in the test PKI directory; 0 when it worked. */
static int
in_pki(const char *cmd)
{
	char	*line;
	int	 rc;

	xasprintf(&line, "cd '%s' && { %s; } >/dev/null 2>&1", pki, cmd);
	rc = system(line);
	free(line);
	return rc;
}

static void
test_cert_cache_revocation(void)
{
	struct wsse_ctx		*ctx;
	struct wsse_stats	 st;
	char			*crl = pki_path("crl-reload.pem"), *msg, why[256],
				 err[256];

	/* a CRL that does not list rsa.crt (the make-pki one) */
	CU_ASSERT_EQUAL_FATAL(in_pki("cp crl.pem crl-reload.pem"), 0);
	ctx = cache_verifier(crl, 0, 3600 * 1000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	msg = signed_by("rsa");
	CU_ASSERT_EQUAL(verify_code(ctx, msg, NULL, NULL, 0), KP_OK);

	/* the CA revokes rsa.crt; the hub reloads its trust */
	CU_ASSERT_EQUAL_FATAL(in_pki("cp -r ca-db ca-db.saved && "
	    "openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key "
	    "-revoke rsa.crt && openssl ca -batch -config ca.cnf -cert ca.crt "
	    "-keyfile ca.key -gencrl -out crl-reload.pem"), 0);
	/* within the verdict's lifetime the old verdict still holds ... */
	CU_ASSERT_EQUAL(verify_code(ctx, msg, NULL, NULL, 0), KP_OK);
	/* ... and a reload forgets verdicts and parsed certificates */
	CU_ASSERT_EQUAL(wsse_ctx_reload_trust(ctx, err, sizeof(err)), 0);
	wsse_ctx_stats(ctx, &st);
	CU_ASSERT_EQUAL(st.certs_cached, 0);
	CU_ASSERT_EQUAL(verify_code(ctx, msg, NULL, why, sizeof(why)),
	    KP_INVALID_SIGNATURE);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "certificate revoked"));
	CU_ASSERT_EQUAL(verify_code(ctx, msg, NULL, why, sizeof(why)),
	    KP_INVALID_SIGNATURE);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "certificate revoked"));
	wsse_ctx_free(ctx);
	/* put the CA database back for the other tests */
	CU_ASSERT_EQUAL(in_pki("rm -rf ca-db && mv ca-db.saved ca-db"), 0);
	free(msg);
	free(crl);
}

static void
test_cert_cache_expiry(void)
{
	struct wsse_ctx		*ctx;
	struct wsse_stats	 st;
	X509			*x;
	char			*b = cert_b64("rsa", &x), *msg, why[256];
	const ASN1_TIME		*na = X509_get0_notAfter(x);
	struct tm		 tm;
	int64_t			 not_after;

	ASN1_TIME_to_tm(na, &tm);
	not_after = (int64_t)timegm(&tm) * 1000;
	/* no CRL, so that only the certificate's own validity matters; a
	 * verdict that would be cached for ten years */
	ctx = cache_verifier(NULL, 0, (int64_t)10 * 365 * 86400 * 1000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	clock_offset = not_after - 60 * 1000 - wsse_now_ms();
	msg = signed_by("rsa");
	CU_ASSERT_EQUAL(verify_code(ctx, msg, NULL, NULL, 0), KP_OK);
	free(msg);
	/* two minutes later the certificate has expired: no cached verdict */
	clock_offset = not_after + 60 * 1000 - wsse_now_ms();
	msg = signed_by("rsa");
	CU_ASSERT_EQUAL(verify_code(ctx, msg, NULL, why, sizeof(why)),
	    KP_INVALID_SIGNATURE);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "certificate has expired"));
	wsse_ctx_stats(ctx, &st);
	CU_ASSERT_EQUAL(st.chain_misses, 2);
	CU_ASSERT_EQUAL(st.cert_hits, 1);	/* the parse was reused */
	clock_offset = 0;
	wsse_ctx_free(ctx);
	free(msg);
	X509_free(x);
	free(b);
}

/* One worker: its own contexts, verifying and signing in a loop. */
struct worker {
	const char	*msgs[2];
	int		 failures;
};

static void *
worker_run(void *arg)
{
	static const char req[] =
	    "<s:Envelope xmlns:s='" SOAP11 "'><s:Body><kp:ConsultRequest "
	    "xmlns:kp='urn:kruispunt:hub:1'><kp:MessageId>w</kp:MessageId>"
	    "</kp:ConsultRequest></s:Body></s:Envelope>";
	struct worker	*w = arg;
	struct wsse_ctx	*v = verifier(wsse_certset_lookup, registered, NULL);
	struct wsse_ctx	*sg = signer("ec256");
	struct envelope	*env;
	char		 reason[256], *out;
	int		 i;

	if (v == NULL || sg == NULL) {
		w->failures++;
		goto done;
	}
	for (i = 0; i < 200; i++) {
		if (verify_code(v, w->msgs[i % 2], NULL, NULL, 0) != KP_OK)
			w->failures++;
		if (i % 10 != 0)
			continue;
		if (envelope_parse(req, strlen(req), &limits, &env, reason,
		    sizeof(reason)) != KP_OK ||
		    wsse_sign(sg, env->doc, reason, sizeof(reason)) != KP_OK) {
			w->failures++;
			continue;
		}
		out = dump(env->doc);
		envelope_free(env);
		if (verify_code(v, out, NULL, NULL, 0) != KP_OK)
			w->failures++;
		free(out);
	}
done:
	wsse_ctx_free(sg);
	wsse_ctx_free(v);
	return NULL;
}

/* Several workers at once, each with its own contexts (the hub's model). */
static void
test_threads(void)
{
	pthread_t	 t[4];
	struct worker	 w[4];
	char		*rsa = signed_by("rsa"), *ec = signed_by("ec256");
	int		 i;

	for (i = 0; i < 4; i++) {
		w[i].msgs[0] = i % 2 ? rsa : ec;
		w[i].msgs[1] = i % 2 ? ec : rsa;
		w[i].failures = 0;
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, worker_run,
		    &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(w[i].failures, 0);
	}
	free(ec);
	free(rsa);
}

static int
init(void)
{
	char	*cmd, err[256], *path;
	const char *top = getenv("top_srcdir");

	envelope_limits_default(&limits);
	if (wsse_global_init(err, sizeof(err)) != 0)
		return 1;
	xasprintf(&pki, "%s/pki", test_tmpdir());
	xasprintf(&cmd, "sh '%s/tests/make-pki' '%s'", top ? top : ".", pki);
	if (system(cmd) != 0) {
		free(cmd);
		return 1;
	}
	free(cmd);
	registered = wsse_certset_new();
	path = pki_path("rsa.crt");
	wsse_certset_add_file(registered, path, err, sizeof(err));
	free(path);
	path = pki_path("ec256.crt");
	wsse_certset_add_file(registered, path, err, sizeof(err));
	free(path);
	return 0;
}

static int
clean(void)
{
	wsse_certset_free(registered);
	free(pki);
	return 0;
}

int
main(void)
{
	CU_pSuite	s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("wsse", init, clean);
	CU_add_test(s, "sign and verify: RSA-2048, P-256, P-384", test_roundtrip);
	CU_add_test(s, "kruispunt's c14n, and libxml2's", test_own_c14n);
	CU_add_test(s, "templates signed by plain xmlsec", test_template_signed_by_xmlsec);
	CU_add_test(s, "kruispunt's signer, and xmlsec's", test_own_signer);
	CU_add_test(s, "SKI, thumbprint, issuer-serial references", test_key_references);
	CU_add_test(s, "valid but not registered", test_not_registered);
	CU_add_test(s, "signature wrapping, ids, Security headers", test_wrapping);
	CU_add_test(s, "Body or Timestamp not signed", test_coverage);
	CU_add_test(s, "reference URIs and transforms", test_uris_and_transforms);
	CU_add_test(s, "weak and foreign algorithms", test_algorithms);
	CU_add_test(s, "signature methods: right, changed, misshapen",
	    test_signature_methods);
	CU_add_test(s, "keys and certificates", test_keys_and_certificates);
	CU_add_test(s, "token references", test_token_reference);
	CU_add_test(s, "timestamps", test_timestamps);
	CU_add_test(s, "replayed message", test_replay);
	CU_add_test(s, "replay store", test_replay_store);
	CU_add_test(s, "ECDSA value in DER (gSOAP's wsse plugin)", test_ecdsa_der);
	CU_add_test(s, "an envelope is signed once", test_sign_twice_refused);
	CU_add_test(s, "key, certificate and trust files", test_bad_key_files);
	CU_add_test(s, "certificate cache: reuse, other certificates",
	    test_cert_cache_reuse);
	CU_add_test(s, "certificate cache: bounded", test_cert_cache_bounded);
	CU_add_test(s, "certificate cache: lookup references",
	    test_cert_cache_lookup);
	CU_add_test(s, "certificate cache: revocation on reload",
	    test_cert_cache_revocation);
	CU_add_test(s, "certificate cache: expiry", test_cert_cache_expiry);
	CU_add_test(s, "the Body is back in place after verify",
	    test_body_in_place);
	CU_add_test(s, "four workers at once", test_threads);
	return test_run();
}

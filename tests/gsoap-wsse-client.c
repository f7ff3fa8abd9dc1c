/*
 * kruispunt tests - a Consult client built on gSOAP's own WS-Security plugin
 * (plugin/wsseapi.c, smdevp.c, mecevp.c as shipped by the gsoap package), to
 * prove that the hub and another stack understand each other.
 *
 *   gsoap-wsse-client --key K --cert C --service S --ssin N --quality Q
 *       [--begin D] [--end D] [--message-id ID] [--ttl S] [--payload XML]
 *       [--soap12] [--sign-only IDS] [--ca CA [--crl CRL] [--hub-cert H]]
 *       (--out FILE | URL)
 *
 * The request is signed the way the plugin's documentation does it: the
 * certificate as a BinarySecurityToken (wsu:Id "X509Token"), a KeyInfo
 * SecurityTokenReference to it, a wsu:Timestamp (wsu:Id "Time") and
 * soap_wsse_sign_body() with exclusive c14n; RSA-SHA256 for an RSA key,
 * ECDSA-SHA256 for an EC key (which the plugin writes as DER, not as the
 * r || s of XML-DSig; see src/wsse.c). The plugin signs every wsu:Id
 * element by default (Body, Timestamp and the token); --sign-only
 * "Time Body" narrows that with soap_wsse_sign_only().
 *
 * --out FILE writes the signed envelope to FILE instead of sending it. With
 * --ca, the answer (or the fault) must carry a signature that the plugin
 * verifies (soap_wsse_verify_auto) with a certificate chain to CA, covering
 * the Body and the Timestamp; --hub-cert also pins the signer's certificate.
 *
 * Prints what came back, one "key value" line each. Exit status: 0 the
 * answer came and (with --ca) its signature was verified, 1 a SOAP fault
 * (the hub refused), 3 the answer's signature was refused, 4 transport or
 * other error, 2 usage.
 *
 * The stubs come from wsdl/kruispunt.wsdl with "#import wsse.h", generated
 * at build time with their own file prefix (interop.am).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "wsseapi.h"
#include "HubSoap11.nsmap"

#define WSU_NS	"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

enum { EXIT_OK = 0, EXIT_FAULT = 1, EXIT_USAGE = 2, EXIT_SIGNATURE = 3,
    EXIT_ERROR = 4 };

struct opts {
	const char	*key, *cert, *service, *ssin, *quality, *begin, *end;
	const char	*message_id, *sign_only, *ca, *crl, *hub_cert, *out;
	const char	*payload, *url;
	long		 ttl;
	int		 soap12;
};

static void
usage(void)
{
	fprintf(stderr, "usage: gsoap-wsse-client --key K --cert C --service S "
	    "--ssin N --quality Q\n"
	    "           [--begin YYYY-MM-DD] [--end YYYY-MM-DD] [--message-id ID] "
	    "[--ttl S]\n"
	    "           [--payload XML] [--soap12] [--sign-only IDS]\n"
	    "           [--ca CA [--crl CRL] [--hub-cert H]] (--out FILE | URL)\n");
	exit(EXIT_USAGE);
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct { const char *name; size_t off; } strs[] = {
		{ "--key", offsetof(struct opts, key) },
		{ "--cert", offsetof(struct opts, cert) },
		{ "--service", offsetof(struct opts, service) },
		{ "--ssin", offsetof(struct opts, ssin) },
		{ "--quality", offsetof(struct opts, quality) },
		{ "--begin", offsetof(struct opts, begin) },
		{ "--end", offsetof(struct opts, end) },
		{ "--message-id", offsetof(struct opts, message_id) },
		{ "--sign-only", offsetof(struct opts, sign_only) },
		{ "--ca", offsetof(struct opts, ca) },
		{ "--crl", offsetof(struct opts, crl) },
		{ "--hub-cert", offsetof(struct opts, hub_cert) },
		{ "--out", offsetof(struct opts, out) },
		{ "--payload", offsetof(struct opts, payload) },
	};
	int i;
	size_t k;

	memset(o, 0, sizeof(*o));
	o->ttl = 300;
	o->begin = "2026-01-01";
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--soap12") == 0) {
			o->soap12 = 1;
			continue;
		}
		if (strcmp(a, "--ttl") == 0 && i + 1 < argc) {
			char *end;

			o->ttl = strtol(argv[++i], &end, 10);
			if (*end != '\0' || o->ttl < 1 || o->ttl > 86400) {
				fprintf(stderr, "gsoap-wsse-client: --ttl: 1 to 86400 seconds\n");
				return -1;
			}
			continue;
		}
		for (k = 0; k < sizeof(strs) / sizeof(strs[0]); k++)
			if (strcmp(a, strs[k].name) == 0)
				break;
		if (k < sizeof(strs) / sizeof(strs[0])) {
			if (i + 1 >= argc) {
				fprintf(stderr, "gsoap-wsse-client: %s needs a value\n", a);
				return -1;
			}
			*(const char **)(void *)((char *)o + strs[k].off) = argv[++i];
			continue;
		}
		if (a[0] == '-') {
			fprintf(stderr, "gsoap-wsse-client: unknown option %s\n", a);
			return -1;
		}
		if (o->url != NULL) {
			fprintf(stderr, "gsoap-wsse-client: one URL only\n");
			return -1;
		}
		o->url = a;
	}
	if (o->key == NULL || o->cert == NULL || o->service == NULL ||
	    o->ssin == NULL || o->quality == NULL) {
		fprintf(stderr, "gsoap-wsse-client: --key, --cert, --service, "
		    "--ssin and --quality are required\n");
		return -1;
	}
	if ((o->out == NULL) == (o->url == NULL)) {
		fprintf(stderr, "gsoap-wsse-client: give either --out FILE or a URL\n");
		return -1;
	}
	if ((o->crl != NULL || o->hub_cert != NULL) && o->ca == NULL) {
		fprintf(stderr, "gsoap-wsse-client: --crl and --hub-cert need --ca\n");
		return -1;
	}
	return 0;
}

static EVP_PKEY *
read_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (f == NULL) {
		perror(path);
		return NULL;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		fprintf(stderr, "gsoap-wsse-client: %s: not a PEM private key\n", path);
	return k;
}

static X509 *
read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *c;

	if (f == NULL) {
		perror(path);
		return NULL;
	}
	c = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (c == NULL)
		fprintf(stderr, "gsoap-wsse-client: %s: not a PEM certificate\n", path);
	return c;
}

/*
 * --out: the message goes to a file. gSOAP sends through soap->fopen,
 * soap->fpost (the HTTP header) and soap->fsend; these three stand in for
 * the connection, so the file holds the envelope exactly as the plugin
 * signed it and would have sent it.
 */
static int out_fd = -1;

static SOAP_SOCKET
out_open(struct soap *soap, const char *endpoint, const char *host, int port)
{
	(void)endpoint; (void)host; (void)port;
	soap->status = SOAP_POST;
	return (SOAP_SOCKET)out_fd;
}

static int
out_post(struct soap *soap, const char *endpoint, const char *host, int port,
    const char *path, const char *action, ULONG64 count)
{
	(void)soap; (void)endpoint; (void)host; (void)port; (void)path;
	(void)action; (void)count;
	return SOAP_OK;
}

static int
out_send(struct soap *soap, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(out_fd, s, n);

		if (w < 0)
			return soap->error = SOAP_EOF;
		s += w;
		n -= (size_t)w;
	}
	return SOAP_OK;
}

static int
out_close(struct soap *soap)
{
	(void)soap;
	return SOAP_OK;
}

static void
print_subject(const char *label, X509 *cert)
{
	char buf[512];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof(buf));
	printf("%s %s\n", label, buf);
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) == 1) {
		printf("%s-sha256 ", label);
		for (i = 0; i < mdlen; i++)
			printf("%02x", md[i]);
		printf("\n");
	}
}

/*
 * After a call with soap_wsse_verify_auto(): the plugin has verified every
 * signed reference while parsing; check that the Body and the Timestamp were
 * among them, that the Timestamp is current, and who signed.
 */
static int
check_response_signature(struct soap *soap, const struct opts *o)
{
	X509 *signer, *pinned;
	int rc = EXIT_OK;

	if (soap_wsse_Signature(soap) == NULL) {
		printf("response-signature MISSING\n");
		return EXIT_SIGNATURE;
	}
	if (soap_wsse_verify_body(soap) != SOAP_OK) {
		printf("response-signature REFUSED (Body not signed)\n");
		return EXIT_SIGNATURE;
	}
	if (soap_wsse_verify_Timestamp(soap) != SOAP_OK) {
		printf("response-signature REFUSED (Timestamp missing or expired)\n");
		return EXIT_SIGNATURE;
	}
	if (soap_wsse_verify_element(soap, WSU_NS, "Timestamp") < 1) {
		printf("response-signature REFUSED (Timestamp not signed)\n");
		return EXIT_SIGNATURE;
	}
	/* the certificate the plugin verified the signature with */
	signer = soap_wsse_get_KeyInfo_SecurityTokenReferenceX509(soap);
	if (signer == NULL) {
		printf("response-signature REFUSED (no signer certificate)\n");
		return EXIT_SIGNATURE;
	}
	print_subject("response-signer", signer);
	if (o->hub_cert != NULL) {
		pinned = read_cert(o->hub_cert);
		if (pinned == NULL || X509_cmp(pinned, signer) != 0) {
			printf("response-signature REFUSED (not signed by --hub-cert)\n");
			rc = EXIT_SIGNATURE;
		}
		X509_free(pinned);
	}
	X509_free(signer);
	if (rc == EXIT_OK)
		printf("response-signature OK\n");
	return rc;
}

/* The kp:Error detail of a fault, or NULL. */
static struct _kp__Error *
kp_error(struct soap *soap)
{
	if (soap->fault == NULL)
		return NULL;
	if (soap->fault->detail != NULL)
		return soap->fault->detail->kp__Error;
	if (soap->fault->SOAP_ENV__Detail != NULL)
		return soap->fault->SOAP_ENV__Detail->kp__Error;
	return NULL;
}

/* The wsse: fault code when the fault is the plugin's (it refused the
 * security header of what came back), else NULL. The hub never sends one. */
static const char *
is_wsse_fault(struct soap *soap)
{
	const char **code = soap_faultcode(soap);
	const char *sub = soap_fault_subcode(soap);

	if (sub != NULL && strncmp(sub, "wsse:", 5) == 0)
		return sub;
	if (code != NULL && *code != NULL && strncmp(*code, "wsse:", 5) == 0)
		return *code;
	return NULL;
}

static void
print_fault(struct soap *soap)
{
	const char *code = soap_fault_subcode(soap);
	const char *str = soap_fault_string(soap);
	struct _kp__Error *e = kp_error(soap);

	if (code == NULL && soap_faultcode(soap) != NULL)
		code = *soap_faultcode(soap);
	printf("fault %s\n", code != NULL ? code : "?");
	if (str != NULL)
		printf("faultstring %s\n", str);
	if (e != NULL) {
		printf("code %s\n", soap_kp__ErrorCode2s(soap, e->Code));
		printf("ticket %s\n", e->Ticket != NULL ? e->Ticket : "");
	}
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct soap *soap;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	struct _kp__ConsultRequest req;
	struct _kp__ConsultResponse resp;
	struct kp__Period period;
	struct kp__Payload payload;
	static struct Namespace ns11[sizeof(namespaces) / sizeof(namespaces[0])];
	char idbuf[64], *payload_any[1];
	int alg, rc = EXIT_ERROR, i;

	if (parse_args(argc, argv, &o) != 0)
		usage();
	if ((key = read_key(o.key)) == NULL || (cert = read_cert(o.cert)) == NULL)
		goto done;
	switch (EVP_PKEY_base_id(key)) {
	case EVP_PKEY_RSA:
		alg = SOAP_SMD_SIGN_RSA_SHA256;
		break;
	case EVP_PKEY_EC:
		alg = SOAP_SMD_SIGN_ECDSA_SHA256;
		break;
	default:
		fprintf(stderr, "gsoap-wsse-client: %s: RSA or EC keys only\n", o.key);
		goto done;
	}

	soap = soap_new1(SOAP_XML_CANONICAL);
	if (soap == NULL || soap_register_plugin(soap, soap_wsse) != SOAP_OK) {
		fprintf(stderr, "gsoap-wsse-client: cannot set up gSOAP\n");
		goto done;
	}
	/* The generated table (HubSoap11.nsmap) names SOAP 1.2 first, since
	 * the WSDL has both bindings; SOAP 1.1 unless --soap12. */
	memcpy(ns11, namespaces, sizeof(ns11));
	if (!o.soap12)
		for (i = 0; i < 2; i++) {	/* SOAP-ENV and SOAP-ENC */
			const char *t = ns11[i].ns;

			ns11[i].ns = ns11[i].in;
			ns11[i].in = t;
		}
	soap_set_namespaces(soap, ns11);
	soap->connect_timeout = 10;
	soap->send_timeout = soap->recv_timeout = 30;

	/* the request */
	if (o.message_id == NULL) {
		snprintf(idbuf, sizeof(idbuf), "gsoap-%ld-%ld", (long)getpid(),
		    (long)time(NULL));
		o.message_id = idbuf;
	}
	soap_default__kp__ConsultRequest(soap, &req);
	soap_default_kp__Period(soap, &period);
	req.MessageId = (char *)o.message_id;
	req.Service = (char *)o.service;
	req.Ssin = (char *)o.ssin;
	req.Quality = (char *)o.quality;
	period.Begin = (char *)o.begin;
	period.End = (char *)o.end;
	req.Period = &period;
	if (o.payload != NULL) {
		soap_default_kp__Payload(soap, &payload);
		payload_any[0] = (char *)o.payload;
		payload.__size = 1;
		payload.__any = payload_any;
		req.Payload = &payload;
	}

	/* the plugin's way: token, reference to it, timestamp, sign */
	if (soap_wsse_add_Timestamp(soap, "Time", (time_t)o.ttl) ||
	    soap_wsse_add_BinarySecurityTokenX509(soap, "X509Token", cert) ||
	    soap_wsse_add_KeyInfo_SecurityTokenReferenceX509(soap, "#X509Token") ||
	    soap_wsse_sign_body(soap, alg, key, 0) ||
	    (o.sign_only != NULL && soap_wsse_sign_only(soap, o.sign_only))) {
		fprintf(stderr, "gsoap-wsse-client: signing set-up failed: ");
		soap_print_fault(soap, stderr);
		goto cleanup;
	}

	if (o.out != NULL) {
		out_fd = open(o.out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (out_fd < 0) {
			perror(o.out);
			goto cleanup;
		}
		soap->fopen = out_open;
		soap->fpost = out_post;
		soap->fsend = out_send;
		soap->fclose = out_close;
		soap->omode &= ~SOAP_IO;
		soap->omode |= SOAP_IO_BUFFER;
		if (soap_send___kpw__Consult(soap, "http://localhost/", NULL, &req) != SOAP_OK) {
			fprintf(stderr, "gsoap-wsse-client: ");
			soap_print_fault(soap, stderr);
			close(out_fd);
			goto cleanup;
		}
		if (close(out_fd) != 0) {
			perror(o.out);
			goto cleanup;
		}
		printf("written %s\n", o.out);
		rc = EXIT_OK;
		goto cleanup;
	}

	if (o.ca != NULL) {
		soap->cafile = o.ca;
		soap->crlfile = o.crl;
		if (soap_wsse_verify_auto(soap, SOAP_SMD_NONE, NULL, 0) != SOAP_OK) {
			soap_print_fault(soap, stderr);
			goto cleanup;
		}
	}
	if (soap_call___kpw__Consult(soap, o.url, NULL, &req, &resp) != SOAP_OK) {
		if (soap->error == SOAP_FAULT && kp_error(soap) != NULL) {
			/* the hub refused: its fault is signed too */
			print_fault(soap);
			rc = EXIT_FAULT;
			if (o.ca != NULL && check_response_signature(soap, &o) != EXIT_OK)
				rc = EXIT_SIGNATURE;
		} else if (soap->error == SOAP_FAULT && is_wsse_fault(soap)) {
			/* the plugin refused the answer's security header */
			printf("response-signature REFUSED (%s: %s)\n",
			    is_wsse_fault(soap), soap_fault_string(soap) ?
			    soap_fault_string(soap) : "");
			rc = EXIT_SIGNATURE;
		} else {
			fprintf(stderr, "gsoap-wsse-client: ");
			soap_print_fault(soap, stderr);
			rc = soap->error == SOAP_FAULT ? EXIT_FAULT : EXIT_ERROR;
		}
		goto cleanup;
	}
	printf("http %d\n", soap->status);
	printf("status %s\n", soap_kp__ConsultStatus2s(soap, resp.Status));
	printf("ticket %s\n", resp.Ticket != NULL ? resp.Ticket : "");
	for (i = 0; i < resp.__sizeAnswer; i++)
		printf("answer %s %s%s\n", resp.Answer[i].Source,
		    soap_kp__AnswerStatus2s(soap, resp.Answer[i].Status),
		    resp.Answer[i].Payload != NULL ? " payload" : "");
	rc = EXIT_OK;
	if (o.ca != NULL)
		rc = check_response_signature(soap, &o);

cleanup:
	soap_wsse_delete_Security(soap);
	soap_destroy(soap);
	soap_end(soap);
	soap_free(soap);
done:
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

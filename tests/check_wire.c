/*
 * kruispunt tests - wire contract v1: the XSDs and WSDLs, sample messages of
 * every operation validated against the schema (and broken ones refused),
 * and the gSOAP stubs generated from them producing schema-valid XML.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <CUnit/CUnit.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soapH.h"

#include "common.h"
#include "soapmsg.h"
#include "xmalloc.h"

#define SOAP11_NS	"http://schemas.xmlsoap.org/soap/envelope/"
#define SOAP12_NS	"http://www.w3.org/2003/05/soap-envelope"

static xmlSchemaPtr	schema;

static void
quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static int
init(void)
{
	char			*path = test_data_path("../../xsd/institution.xsd");
	xmlSchemaParserCtxtPtr	 pc;

	/* institution.xsd imports kruispunt.xsd: one schema for both. */
	pc = xmlSchemaNewParserCtxt(path);
	schema = xmlSchemaParse(pc);
	xmlSchemaFreeParserCtxt(pc);
	free(path);
	return schema == NULL;
}

static int
clean(void)
{
	xmlSchemaFree(schema);
	return 0;
}

static xmlNodePtr
first_element(xmlNodePtr n)
{
	for (; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

static int
is_soap(xmlNodePtr n, const char *name)
{
	return n != NULL && n->ns != NULL && xmlStrEqual(n->name, BAD_CAST name) &&
	    (xmlStrEqual(n->ns->href, BAD_CAST SOAP11_NS) ||
	    xmlStrEqual(n->ns->href, BAD_CAST SOAP12_NS));
}

/* The message element of a sample envelope: the Body's child, or a fault's
 * kp:Error detail. */
static xmlNodePtr
message_element(xmlDocPtr doc)
{
	xmlNodePtr env = xmlDocGetRootElement(doc), body, msg, detail;

	if (!is_soap(env, "Envelope"))
		return NULL;
	body = first_element(env->children);
	if (is_soap(body, "Header"))
		body = first_element(body->next);
	if (!is_soap(body, "Body"))
		return NULL;
	msg = first_element(body->children);
	if (!is_soap(msg, "Fault"))
		return msg;
	for (detail = first_element(msg->children); detail != NULL;
	    detail = first_element(detail->next)) {
		if (xmlStrEqual(detail->name, BAD_CAST "detail") ||
		    xmlStrEqual(detail->name, BAD_CAST "Detail"))
			return first_element(detail->children);
	}
	return NULL;
}

/* Validate one sample; 0 when valid. */
static int
validate_sample(const char *name)
{
	char			*rel, *path;
	xmlDocPtr		 doc;
	xmlNodePtr		 msg;
	xmlSchemaValidCtxtPtr	 vc;
	int			 rc;

	xasprintf(&rel, "messages/%s", name);
	path = test_data_path(rel);
	doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	free(rel);
	free(path);
	if (doc == NULL)
		return -1;
	if ((msg = message_element(doc)) == NULL) {
		xmlFreeDoc(doc);
		return -1;
	}
	vc = xmlSchemaNewValidCtxt(schema);
	xmlSchemaSetValidErrors(vc, quiet, quiet, NULL);
	rc = xmlSchemaValidateOneElement(vc, msg);
	xmlSchemaFreeValidCtxt(vc);
	xmlFreeDoc(doc);
	return rc;
}

static void
test_valid_samples(void)
{
	static const char *const good[] = {
		"consult-request.xml", "consult-request-soap12.xml",
		"consult-response.xml", "consult-response-only-once.xml",
		"manage-access-request.xml", "manage-access-response.xml",
		"publish-mutation-request.xml", "publish-mutation-response.xml",
		"fault.xml", "provide-data-request.xml",
		"provide-data-response.xml", "receive-mutation-request.xml",
		"receive-mutation-response.xml",
	};
	size_t	i;
	int	rc;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rc = validate_sample(good[i]);
		if (rc != 0)
			fprintf(stderr, "\n  %s: not valid (%d)\n", good[i], rc);
		CU_ASSERT_EQUAL(rc, 0);
	}
}

static void
test_broken_samples(void)
{
	static const char *const bad[] = {
		"bad/consult-no-ssin.xml", "bad/consult-ssin-letters.xml",
		"bad/consult-out-of-order.xml", "bad/consult-bad-date.xml",
		"bad/manage-access-bad-action.xml",
		"bad/provide-data-bad-status.xml", "bad/fault-unknown-code.xml",
		"bad/unknown-operation.xml",
	};
	size_t	i;
	int	rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = validate_sample(bad[i]);
		if (rc == 0)
			fprintf(stderr, "\n  %s: accepted\n", bad[i]);
		CU_ASSERT_NOT_EQUAL(rc, 0);
	}
}

/* Count nodes matching expr in file (relative to the source tree). */
static int
count_nodes(const char *file, const char *expr)
{
	char			*path = test_data_path(file);
	xmlDocPtr		 doc;
	xmlXPathContextPtr	 xp;
	xmlXPathObjectPtr	 r;
	int			 n = -1;

	doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
	free(path);
	if (doc == NULL)
		return -1;
	xp = xmlXPathNewContext(doc);
	xmlXPathRegisterNs(xp, BAD_CAST "xsd",
	    BAD_CAST "http://www.w3.org/2001/XMLSchema");
	xmlXPathRegisterNs(xp, BAD_CAST "wsdl",
	    BAD_CAST "http://schemas.xmlsoap.org/wsdl/");
	r = xmlXPathEvalExpression(BAD_CAST expr, xp);
	if (r != NULL && r->nodesetval != NULL)
		n = r->nodesetval->nodeNr;
	else if (r != NULL)
		n = 0;
	xmlXPathFreeObject(r);
	xmlXPathFreeContext(xp);
	xmlFreeDoc(doc);
	return n;
}

static void
test_everything_documented(void)
{
	static const char *const xsds[] = {
		"../../xsd/kruispunt.xsd", "../../xsd/institution.xsd"
	};
	static const char *const wsdls[] = {
		"../../wsdl/kruispunt.wsdl", "../../wsdl/institution.wsdl"
	};
	size_t	i;

	for (i = 0; i < 2; i++) {
		CU_ASSERT(count_nodes(xsds[i], "//xsd:element") > 3);
		CU_ASSERT_EQUAL(count_nodes(xsds[i],
		    "//xsd:element[not(xsd:annotation/xsd:documentation)]"), 0);
		CU_ASSERT_EQUAL(count_nodes(xsds[i],
		    "//xsd:simpleType[@name][not(xsd:annotation)]"
		    " | //xsd:complexType[@name][not(xsd:annotation)]"), 0);
		CU_ASSERT(count_nodes(wsdls[i], "//wsdl:portType/wsdl:operation") >= 2);
		CU_ASSERT_EQUAL(count_nodes(wsdls[i],
		    "//wsdl:portType/wsdl:operation[not(wsdl:documentation)]"), 0);
		/* a SOAP 1.1 and a SOAP 1.2 binding */
		CU_ASSERT_EQUAL(count_nodes(wsdls[i], "//wsdl:binding"), 2);
	}
	CU_ASSERT_EQUAL(count_nodes(wsdls[0], "//wsdl:portType/wsdl:operation"), 3);
}

/* Serialise a request with the generated stubs and validate the result. */
static void
test_stubs_write_valid_xml(void)
{
	struct soap			*soap = soap_new1(SOAP_XML_DEFAULTNS);
	struct _kp__ConsultRequest	 req;
	struct kp__Period		 period;
	struct kp__Payload		 payload;
	const char			*out = NULL;
	char				*any[1];
	xmlDocPtr			 doc;
	xmlSchemaValidCtxtPtr		 vc;
	int				 rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(soap);
	soap_default__kp__ConsultRequest(soap, &req);
	soap_default_kp__Period(soap, &period);
	soap_default_kp__Payload(soap, &payload);
	req.MessageId = "stub-1";
	req.Service = "UNEMPLOYMENT_STATUS";
	req.Ssin = "40010199714";
	req.Quality = "INSURED_PERSON";
	period.Begin = "2026-01-01";
	period.End = "2026-06-30";
	req.Period = &period;
	any[0] = "<q:Detail xmlns:q=\"urn:example:sector:1\">full</q:Detail>";
	payload.__size = 1;
	payload.__any = any;
	req.Payload = &payload;

	soap->os = &out;
	rc = soap_write__kp__ConsultRequest(soap, &req);
	soap->os = NULL;
	CU_ASSERT_EQUAL_FATAL(rc, SOAP_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "urn:example:sector:1"));

	doc = xmlReadMemory(out, (int)strlen(out), "stub.xml", NULL, XML_PARSE_NONET);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	vc = xmlSchemaNewValidCtxt(schema);
	rc = xmlSchemaValidateDoc(vc, doc);
	if (rc != 0)
		fprintf(stderr, "\n  stub output not valid:\n%s\n", out);
	CU_ASSERT_EQUAL(rc, 0);
	xmlSchemaFreeValidCtxt(vc);
	xmlFreeDoc(doc);
	soap_destroy(soap);
	soap_end(soap);
	soap_free(soap);
}

/* The faults the hub and the institutions send: SOAP 1.1's faultcode,
 * faultstring and detail in no namespace, SOAP 1.2's Code, Reason and
 * Detail in its own; read back, with the text escaped on the way. */
static void
test_fault_shape(void)
{
	static const char *const names11[] = { "faultcode", "faultstring", "detail" };
	static const char *const names12[] = { "Code", "Reason", "Detail" };
	const char *const	*names;
	xmlDocPtr		 doc;
	xmlNodePtr		 body, fault, c;
	char			 code[64], ticket[64], text[256];
	int			 v, i;

	for (v = 11; v <= 12; v += 1) {
		doc = soapmsg_fault(v, KP_NOT_AUTHORIZED, "a & <b>", "t-1");
		body = first_element(xmlDocGetRootElement(doc)->children);
		if (is_soap(body, "Header"))
			body = first_element(body->next);
		CU_ASSERT_FATAL(is_soap(body, "Body"));
		fault = first_element(body->children);
		CU_ASSERT_FATAL(is_soap(fault, "Fault"));
		names = v == 11 ? names11 : names12;
		for (i = 0, c = first_element(fault->children); c != NULL;
		    i++, c = first_element(c->next)) {
			CU_ASSERT_FATAL(i < 3);
			CU_ASSERT_STRING_EQUAL((const char *)c->name, names[i]);
			if (v == 11) {
				CU_ASSERT_PTR_NULL(c->ns);
			} else {
				CU_ASSERT(is_soap(c, names[i]));
			}
		}
		CU_ASSERT_EQUAL(i, 3);
		CU_ASSERT_EQUAL(soapmsg_read_fault(body, code, sizeof(code),
		    ticket, sizeof(ticket), text, sizeof(text)), 1);
		CU_ASSERT_STRING_EQUAL(code, "NOT_AUTHORIZED");
		CU_ASSERT_STRING_EQUAL(ticket, "t-1");
		CU_ASSERT_PTR_NOT_NULL(strstr(text, ": a & <b>"));
		xmlFreeDoc(doc);
	}
}

int
main(void)
{
	CU_pSuite	s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("wire contract v1", init, clean);
	CU_add_test(s, "a sample of every operation validates", test_valid_samples);
	CU_add_test(s, "broken samples are refused", test_broken_samples);
	CU_add_test(s, "every element, type and operation is documented",
	    test_everything_documented);
	CU_add_test(s, "generated stubs write schema-valid XML",
	    test_stubs_write_valid_xml);
	CU_add_test(s, "faults: SOAP 1.1 children unqualified", test_fault_shape);
	return test_run();
}

/*
 * kruispunt tests - the envelope module: hardened parse and structure.
 *
 * The hostile inputs print how long their refusal took (no timed
 * assertions: a loaded test machine must not fail the suite).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "envelope.h"
#include "xmalloc.h"

static struct envelope_limits limits;
static char	reason[256];

/* Parse s with the default limits; the refusal code. */
static enum kp_error
parse(const char *s, struct envelope **env)
{
	reason[0] = '\0';
	return envelope_parse(s, strlen(s), &limits, env, reason,
	    sizeof(reason));
}

/* Parse s, expect a refusal whose reason mentions what; print the time. */
static void
expect_refused(const char *label, const char *s, size_t len, const char *what)
{
	struct envelope	*env = NULL;
	struct timespec	 t0, t1;
	enum kp_error	 e;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	e = envelope_parse(s, len, &limits, &env, reason, sizeof(reason));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("\n    %s (%zu bytes): refused in %.3f ms: %s", label, len,
	    (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6,
	    reason);
	CU_ASSERT_EQUAL(e, KP_INVALID_MESSAGE);
	CU_ASSERT_PTR_NULL(env);
	if (strstr(reason, what) == NULL) {
		fprintf(stderr, "\n  reason '%s' lacks '%s'\n", reason, what);
		CU_FAIL("reason");
	}
	envelope_free(env);
}

static const char soap11[] =
    "<?xml version='1.0'?>\n<!-- a comment is fine -->\n"
    "<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'>\n"
    " <s:Header><h:A xmlns:h='urn:h'>x</h:A></s:Header>\n"
    " <s:Body>\n  <!-- before --><p:Req xmlns:p='urn:p'><![CDATA[<!x>]]></p:Req>"
    "<p:Second xmlns:p='urn:p'/>\n </s:Body>\n</s:Envelope>\n";

static void
test_soap11(void)
{
	struct envelope	*env = NULL;

	CU_ASSERT_EQUAL_FATAL(parse(soap11, &env), KP_OK);
	CU_ASSERT_EQUAL(env->soap_version, 11);
	CU_ASSERT_STRING_EQUAL(env->soap_ns, ENVELOPE_NS_SOAP11);
	CU_ASSERT_PTR_NOT_NULL(env->header);
	CU_ASSERT_STRING_EQUAL((const char *)env->body->name, "Body");
	CU_ASSERT_STRING_EQUAL((const char *)env->payload->name, "Req");
	CU_ASSERT_STRING_EQUAL((const char *)envelope_next_element(env->payload)->name,
	    "Second");
	envelope_free(env);
}

static void
test_soap12_sample(void)
{
	struct envelope	*env = NULL;
	char		*path = test_data_path("messages/consult-request-soap12.xml");
	char		 buf[8192];
	FILE		*fp = fopen(path, "r");
	size_t		 n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	CU_ASSERT_EQUAL_FATAL(parse(buf, &env), KP_OK);
	CU_ASSERT_EQUAL(env->soap_version, 12);
	CU_ASSERT_PTR_NULL(env->header);
	CU_ASSERT_STRING_EQUAL((const char *)env->payload->name, "ConsultRequest");
	envelope_free(env);
	free(path);
}

static void
test_structure(void)
{
	static const struct { const char *xml, *why; } bad[] = {
		{ "<a/>", "not a SOAP Envelope" },
		{ "<s:Envelope xmlns:s='urn:other'><s:Body/></s:Envelope>",
		  "unknown namespace" },
		{ "<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'/>",
		  "optional Header, then a Body" },
		{ "<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'>"
		  "<s:Body/><s:Header/></s:Envelope>", "follows the SOAP Body" },
		{ "<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'>"
		  "<s:Header/><s:Header/><s:Body/></s:Envelope>",
		  "optional Header, then a Body" },
		{ "<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'>"
		  "<s:Body/><x/></s:Envelope>", "follows the SOAP Body" },
		{ "<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'>"
		  "text<s:Body/></s:Envelope>", "holds text" },
		{ "<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'>"
		  "<s:Body xmlns:t='http://schemas.xmlsoap.org/soap/envelope/'/>"
		  "<t:Body xmlns:t='http://schemas.xmlsoap.org/soap/envelope/'/>"
		  "</s:Envelope>", "follows the SOAP Body" },
		{ "<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'>"
		  "<s:Body></s:Envelope>", "not well-formed" },
		/* namespace well-formedness: an unbound prefix, one expanded
		 * attribute name twice, an empty prefixed namespace */
		{ "<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'>"
		  "<s:Body><u:x/></s:Body></s:Envelope>", "namespace" },
		{ "<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/' "
		  "xmlns:a='urn:x' xmlns:b='urn:x'><s:Body a:i='1' b:i='2'/>"
		  "</s:Envelope>", "namespace" },
		{ "<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'>"
		  "<s:Body xmlns:e=''/></s:Envelope>", "namespace" },
	};
	struct envelope	*env = NULL;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(parse(bad[i].xml, &env), KP_INVALID_MESSAGE);
		CU_ASSERT_PTR_NULL(env);
		if (strstr(reason, bad[i].why) == NULL) {
			fprintf(stderr, "\n  case %zu: '%s' lacks '%s'\n", i,
			    reason, bad[i].why);
			CU_FAIL("reason");
		}
	}
}

static void
test_doctype_xxe(void)
{
	static const char xxe[] =
	    "<?xml version='1.0'?>\n<!DOCTYPE s:Envelope [\n"
	    "<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n"
	    "<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'>"
	    "<s:Body><a>&x;</a></s:Body></s:Envelope>";
	static const char ext[] =
	    "<!DOCTYPE s:Envelope SYSTEM 'http://127.0.0.1:9/evil.dtd'>"
	    "<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'>"
	    "<s:Body/></s:Envelope>";

	expect_refused("DOCTYPE with an external entity", xxe, strlen(xxe),
	    "DOCTYPE");
	expect_refused("external DTD", ext, strlen(ext), "DOCTYPE");
}

static void
test_doctype_sax_hook(void)
{
	struct envelope	*env = NULL;
	/* the pre-scan skips comments but not what follows them */
	static const char s[] = "<!--x--><!DOCTYPE a><a/>";

	CU_ASSERT_EQUAL(parse(s, &env), KP_INVALID_MESSAGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(reason, "DOCTYPE"));
}

static void
test_billion_laughs(void)
{
	char	*s, *p;
	int	 i;

	s = p = xmalloc(8192);
	p += sprintf(p, "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>");
	for (i = 1; i < 10; i++)
		p += sprintf(p, "<!ENTITY lol%d '&lol%s;&lol%s;&lol%s;&lol%s;"
		    "&lol%s;&lol%s;&lol%s;&lol%s;&lol%s;&lol%s;'>", i,
		    "", "", "", "", "", "", "", "", "", "");
	p += sprintf(p, "]><s:Envelope xmlns:s='http://schemas.xmlsoap.org/"
	    "soap/envelope/'><s:Body>&lol9;</s:Body></s:Envelope>");
	expect_refused("billion laughs", s, strlen(s), "DOCTYPE");
	free(s);
}

/* An envelope whose Body holds depth nested elements. */
static char *
deep(int depth, size_t *len)
{
	char	*s, *p;
	int	 i;

	s = p = xmalloc((size_t)depth * 8 + 256);
	p += sprintf(p, "<s:Envelope xmlns:s='http://schemas.xmlsoap.org/"
	    "soap/envelope/'><s:Body>");
	for (i = 0; i < depth; i++)
		p += sprintf(p, "<a>");
	for (i = 0; i < depth; i++)
		p += sprintf(p, "</a>");
	p += sprintf(p, "</s:Body></s:Envelope>");
	*len = (size_t)(p - s);
	return s;
}

static void
test_depth(void)
{
	struct envelope	*env = NULL;
	size_t		 len;
	char		*s;

	s = deep(10000, &len);
	expect_refused("10,000-deep nesting", s, len, "nested too deeply");
	free(s);
	/* the configured limit, below libxml2's own */
	limits.max_depth = 16;
	s = deep(20, &len);
	expect_refused("20-deep with max_depth 16", s, len, "nested too deeply");
	free(s);
	s = deep(10, &len);
	CU_ASSERT_EQUAL(envelope_parse(s, len, &limits, &env, reason,
	    sizeof(reason)), KP_OK);
	envelope_free(env);
	free(s);
	envelope_limits_default(&limits);
}

/* An envelope whose payload element has n attributes. */
static char *
attributes(int n, size_t *len)
{
	char	*s, *p;
	int	 i;

	s = p = xmalloc((size_t)n * 16 + 256);
	p += sprintf(p, "<s:Envelope xmlns:s='http://schemas.xmlsoap.org/"
	    "soap/envelope/'><s:Body><a");
	for (i = 0; i < n; i++)
		p += sprintf(p, " a%d=''", i);
	p += sprintf(p, "/></s:Body></s:Envelope>");
	*len = (size_t)(p - s);
	return s;
}

static void
test_attributes(void)
{
	struct envelope	*env = NULL;
	size_t		 len;
	char		*s;
	static const char quoted[] =
	    "<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'>"
	    "<s:Body><a b='x=y=z=1=2=3=4=5=6=7=8=9' c=\"=>=\"/></s:Body></s:Envelope>";

	s = attributes(100000, &len);
	expect_refused("100,000 attributes", s, len, "more than 64 attributes");
	free(s);
	s = attributes(64, &len);
	CU_ASSERT_EQUAL(envelope_parse(s, len, &limits, &env, reason,
	    sizeof(reason)), KP_OK);
	envelope_free(env);
	free(s);
	/* '=' and '>' inside quoted values are not attributes */
	limits.max_attributes = 8;
	CU_ASSERT_EQUAL(parse(quoted, &env), KP_OK);
	envelope_free(env);
	envelope_limits_default(&limits);
}

static void
test_oversize(void)
{
	size_t	 len = limits.max_size + 1;
	char	*s = xmalloc(len);

	memset(s, ' ', len);
	memcpy(s, "<a>", 3);
	expect_refused("oversize", s, len, "more than the limit");
	free(s);
}

static void
test_from_doc(void)
{
	struct envelope	*env = NULL, *env2 = NULL;

	CU_ASSERT_EQUAL_FATAL(parse(soap11, &env), KP_OK);
	CU_ASSERT_EQUAL(envelope_from_doc(env->doc, &env2, reason,
	    sizeof(reason)), KP_OK);
	CU_ASSERT_PTR_EQUAL(env2->body, env->body);
	envelope_free(env2);	/* borrowed: the doc stays */
	CU_ASSERT_PTR_NOT_NULL(xmlDocGetRootElement(env->doc));
	envelope_free(env);
}

static int
init(void)
{
	envelope_limits_default(&limits);
	return 0;
}

int
main(void)
{
	CU_pSuite	s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("envelope", init, NULL);
	CU_add_test(s, "SOAP 1.1 with header, comments, CDATA", test_soap11);
	CU_add_test(s, "SOAP 1.2 sample message", test_soap12_sample);
	CU_add_test(s, "structure refusals", test_structure);
	CU_add_test(s, "DOCTYPE with external entity, external DTD", test_doctype_xxe);
	CU_add_test(s, "DOCTYPE after a comment", test_doctype_sax_hook);
	CU_add_test(s, "billion laughs", test_billion_laughs);
	CU_add_test(s, "nesting depth", test_depth);
	CU_add_test(s, "attribute count", test_attributes);
	CU_add_test(s, "oversize", test_oversize);
	CU_add_test(s, "a tree built elsewhere", test_from_doc);
	return test_run();
}

/*
 * kruispunt tests - the errors module, against the wire contract's list.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <CUnit/CUnit.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "errors.h"

static void
test_round_trip(void)
{
	enum kp_error	e;
	int		i;

	for (i = 0; i < KP_ERROR_COUNT; i++) {
		CU_ASSERT_EQUAL(kp_error_parse(kp_strerror((enum kp_error)i), &e), 0);
		CU_ASSERT_EQUAL(e, i);
		CU_ASSERT_PTR_NOT_NULL(kp_error_text((enum kp_error)i));
	}
	CU_ASSERT_EQUAL(kp_error_parse("NO_SUCH_CODE", &e), -1);
	CU_ASSERT_EQUAL(kp_error_parse("invalid_message", &e), -1);
}

static void
test_fault_side(void)
{
	CU_ASSERT_TRUE(kp_error_is_sender_fault(KP_NOT_AUTHORIZED));
	CU_ASSERT_TRUE(kp_error_is_sender_fault(KP_INVALID_SIGNATURE));
	CU_ASSERT_TRUE(kp_error_is_sender_fault(KP_REPLAY));
	CU_ASSERT_FALSE(kp_error_is_sender_fault(KP_TARGET_UNAVAILABLE));
	CU_ASSERT_FALSE(kp_error_is_sender_fault(KP_INTERNAL));
}

/* The codes of the enum and of xsd/kruispunt.xsd's ErrorCode are the same. */
static void
test_matches_schema(void)
{
	char			*path = test_data_path("../../xsd/kruispunt.xsd");
	xmlDocPtr		 doc;
	xmlXPathContextPtr	 xp;
	xmlXPathObjectPtr	 r;
	enum kp_error		 e;
	int			 i, n;

	doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	xp = xmlXPathNewContext(doc);
	xmlXPathRegisterNs(xp, BAD_CAST "xsd",
	    BAD_CAST "http://www.w3.org/2001/XMLSchema");
	r = xmlXPathEvalExpression(BAD_CAST "//xsd:simpleType[@name='ErrorCode']"
	    "//xsd:enumeration/@value", xp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	n = r->nodesetval != NULL ? r->nodesetval->nodeNr : 0;
	/* every code but OK is in the schema, and nothing else */
	CU_ASSERT_EQUAL(n, KP_ERROR_COUNT - 1);
	for (i = 0; i < n; i++) {
		xmlChar *v = xmlNodeGetContent(r->nodesetval->nodeTab[i]);
		CU_ASSERT_EQUAL(kp_error_parse((const char *)v, &e), 0);
		CU_ASSERT_NOT_EQUAL(e, KP_OK);
		xmlFree(v);
	}
	xmlXPathFreeObject(r);
	xmlXPathFreeContext(xp);
	xmlFreeDoc(doc);
	free(path);
}

int
main(void)
{
	CU_pSuite	s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("errors", NULL, NULL);
	CU_add_test(s, "codes round-trip", test_round_trip);
	CU_add_test(s, "Client or Server fault", test_fault_side);
	CU_add_test(s, "the codes are those of xsd/kruispunt.xsd", test_matches_schema);
	return test_run();
}

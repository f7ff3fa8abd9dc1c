/*
 * kruispunt - the XML namespace table that gSOAP's runtime and the generated
 * serialisers use. The prefixes are those of wire contract v1 and of
 * wsdl/typemap.dat. SOAP-ENV lists SOAP 1.2 first and SOAP 1.1 as the
 * alternative, so either version is read; the reply follows the request.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "soapH.h"

SOAP_NMAC struct Namespace namespaces[] = {
	{ "SOAP-ENV", "http://schemas.xmlsoap.org/soap/envelope/",
	  "http://www.w3.org/*/soap-envelope", NULL },
	{ "SOAP-ENC", "http://schemas.xmlsoap.org/soap/encoding/",
	  "http://www.w3.org/*/soap-encoding", NULL },
	{ "xsi", "http://www.w3.org/2001/XMLSchema-instance",
	  "http://www.w3.org/*/XMLSchema-instance", NULL },
	{ "xsd", "http://www.w3.org/2001/XMLSchema",
	  "http://www.w3.org/*/XMLSchema", NULL },
	{ "kp", "urn:kruispunt:hub:1", NULL, NULL },
	{ "ki", "urn:kruispunt:institution:1", NULL, NULL },
	{ "kpw", "urn:kruispunt:hub:1:wsdl", NULL, NULL },
	{ "kiw", "urn:kruispunt:institution:1:wsdl", NULL, NULL },
	{ NULL, NULL, NULL, NULL }
};

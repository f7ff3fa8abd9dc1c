/*
 * kruispunt - hardened parse of SOAP 1.1 and 1.2 envelopes.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_ENVELOPE_H
#define KP_ENVELOPE_H

#include <stddef.h>

#include <libxml/tree.h>

#include "errors.h"

#define ENVELOPE_NS_SOAP11	"http://schemas.xmlsoap.org/soap/envelope/"
#define ENVELOPE_NS_SOAP12	"http://www.w3.org/2003/05/soap-envelope"

/* What a sender may make the parser do; from the [limits] section. */
struct envelope_limits {
	size_t	max_size;	/* bytes of the whole message */
	int	max_depth;	/* element nesting (libxml2 caps it at 256) */
	int	max_attributes;	/* attributes + namespace declarations per element */
};

/* A parsed, structurally checked envelope; the pointers are into doc. */
struct envelope {
	xmlDocPtr	 doc;
	xmlNodePtr	 root;		/* soap:Envelope */
	xmlNodePtr	 header;	/* soap:Header, or NULL */
	xmlNodePtr	 body;		/* soap:Body */
	xmlNodePtr	 payload;	/* the Body's first element, or NULL */
	int		 soap_version;	/* 11 or 12 */
	const char	*soap_ns;
	int		 doc_borrowed;	/* doc is not freed with the envelope */
};

void		 envelope_limits_default(struct envelope_limits *);
enum kp_error	 envelope_parse(const char *buf, size_t len,
		    const struct envelope_limits *, struct envelope **out,
		    char *reason, size_t reasonlen);
enum kp_error	 envelope_from_doc(xmlDocPtr, struct envelope **out,
		    char *reason, size_t reasonlen);
void		 envelope_free(struct envelope *);
xmlNodePtr	 envelope_first_element(xmlNodePtr);
xmlNodePtr	 envelope_next_element(xmlNodePtr);
int		 envelope_is(xmlNodePtr, const char *ns, const char *name);
enum kp_error	 envelope_refuse(char *reason, size_t len, enum kp_error,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif

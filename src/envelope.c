/*
 * kruispunt - hardened parse of SOAP 1.1 and 1.2 envelopes.
 *
 * A message is refused before libxml2 builds anything from it when it is
 * larger than the size limit, carries a DOCTYPE or any other markup
 * declaration, or has an element with more attributes than allowed: a linear
 * pre-scan of the bytes finds these, because libxml2 2.9 checks attributes
 * for duplicates in quadratic time and would spend seconds on a hostile
 * start tag before any callback could stop it. The parser then runs with
 * XML_PARSE_NONET and never with NOENT, DTDLOAD, DTDATTR or HUGE; SAX hooks
 * stop it on a DOCTYPE (the internalSubset callback), on nesting deeper than
 * the limit and on too many attributes. A document that is well-formed but
 * not namespace-well-formed (an unbound prefix, one expanded attribute
 * name twice, xmlns:p="") is refused too: libxml2 builds a tree for it,
 * which signatures and their canonical forms cannot be trusted over.
 * Finally the tree must be a SOAP Envelope holding at most a Header and
 * then a Body, nothing else.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "envelope.h"
#include "xmalloc.h"

/* What the SAX hooks found; lives in the parser context's _private. */
struct parse_state {
	const struct envelope_limits *limits;
	int	 depth;
	int	 refused;
	char	 why[160];
};

/* Format a refusal reason into the caller's buffer; returns e. */
enum kp_error
envelope_refuse(char *reason, size_t len, enum kp_error e, const char *fmt, ...)
{
	va_list	ap;

	if (reason != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(reason, len, fmt, ap);
		va_end(ap);
	}
	return e;
}

/* The limits used when the caller has no configuration: those of kruispunt.conf(5). */
void
envelope_limits_default(struct envelope_limits *l)
{
	l->max_size = 1024 * 1024;
	l->max_depth = 256;
	l->max_attributes = 64;
}

/* ------------------------------------------------------------------ */
/* Pre-scan of the raw bytes                                           */
/* ------------------------------------------------------------------ */

/* Position just after the first occurrence of end at or after p, or NULL. */
static const char *
skip_past(const char *p, const char *lim, const char *end)
{
	size_t	n = strlen(end);

	for (; p + n <= lim; p++)
		if (memcmp(p, end, n) == 0)
			return p + n;
	return NULL;
}

/* Scan one start tag from p (just after '<'); count its attributes. */
static const char *
scan_tag(const char *p, const char *lim, int *nattr)
{
	char	quote = 0;

	*nattr = 0;
	for (; p < lim; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '"' || *p == '\'')
			quote = *p;
		else if (*p == '=')
			(*nattr)++;
		else if (*p == '>')
			return p + 1;
	}
	return NULL;
}

/* Refuse markup declarations and over-long start tags in linear time. */
static enum kp_error
prescan(const char *buf, size_t len, int max_attributes, char *reason,
    size_t reasonlen)
{
	const char	*p = buf, *lim = buf + len;
	int		 nattr;

	while (p != NULL && (p = memchr(p, '<', lim - p)) != NULL) {
		p++;
		if (lim - p >= 3 && memcmp(p, "!--", 3) == 0)
			p = skip_past(p + 3, lim, "-->");
		else if (lim - p >= 8 && memcmp(p, "![CDATA[", 8) == 0)
			p = skip_past(p + 8, lim, "]]>");
		else if (p < lim && *p == '!')
			return envelope_refuse(reason, reasonlen, KP_INVALID_MESSAGE,
			    "a DOCTYPE or other markup declaration is not "
			    "allowed in a SOAP message");
		else if (p < lim && *p == '?')
			p = skip_past(p + 1, lim, "?>");
		else {
			p = scan_tag(p, lim, &nattr);
			if (nattr > max_attributes)
				return envelope_refuse(reason, reasonlen,
				    KP_INVALID_MESSAGE, "an element has more "
				    "than %d attributes", max_attributes);
		}
	}
	return KP_OK;
}

/* ------------------------------------------------------------------ */
/* SAX hooks                                                           */
/* ------------------------------------------------------------------ */

/* Stop the parser and remember why. */
static void
sax_stop(xmlParserCtxtPtr ctxt, const char *why)
{
	struct parse_state *st = ctxt->_private;

	if (!st->refused) {
		st->refused = 1;
		snprintf(st->why, sizeof(st->why), "%s", why);
	}
	xmlStopParser(ctxt);
}

/* A DOCTYPE: SOAP forbids it, and it is where entity bombs live. */
static void
sax_internal_subset(void *ctx, const xmlChar *name, const xmlChar *eid,
    const xmlChar *sid)
{
	(void)name;
	(void)eid;
	(void)sid;
	sax_stop(ctx, "a DOCTYPE is not allowed in a SOAP message");
}

/* Count depth and attributes, then let libxml2 build the element. */
static void
sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
    int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	xmlParserCtxtPtr	 ctxt = ctx;
	struct parse_state	*st = ctxt->_private;

	if (st->refused)
		return;
	if (++st->depth > st->limits->max_depth) {
		sax_stop(ctxt, "elements are nested too deeply");
		return;
	}
	if (nb_attributes + nb_namespaces > st->limits->max_attributes) {
		sax_stop(ctxt, "an element has too many attributes");
		return;
	}
	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces,
	    namespaces, nb_attributes, nb_defaulted, attributes);
}

/* Leave an element. */
static void
sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	xmlParserCtxtPtr	 ctxt = ctx;
	struct parse_state	*st = ctxt->_private;

	if (st->refused)
		return;
	st->depth--;
	xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

/* Parse the bytes into a tree with the hooks in place. */
static enum kp_error
parse_tree(const char *buf, size_t len, const struct envelope_limits *l,
    xmlDocPtr *docp, char *reason, size_t reasonlen)
{
	struct parse_state	 st;
	xmlParserCtxtPtr	 ctxt;
	xmlDocPtr		 doc = NULL;
	enum kp_error		 e = KP_OK;
	const xmlError		*xe;

	memset(&st, 0, sizeof(st));
	st.limits = l;
	if ((ctxt = xmlNewParserCtxt()) == NULL)
		return envelope_refuse(reason, reasonlen, KP_INTERNAL, "out of memory");
	ctxt->_private = &st;
	ctxt->sax->internalSubset = sax_internal_subset;
	ctxt->sax->startElementNs = sax_start;
	ctxt->sax->endElementNs = sax_end;
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	    XML_PARSE_COMPACT);
	if (st.refused)
		e = envelope_refuse(reason, reasonlen, KP_INVALID_MESSAGE, "%s", st.why);
	else if (doc == NULL || !ctxt->wellFormed) {
		xe = xmlCtxtGetLastError(ctxt);
		e = envelope_refuse(reason, reasonlen, KP_INVALID_MESSAGE,
		    "not well-formed XML: line %d: %s", xe ? xe->line : 0,
		    xe && xe->message ? xe->message : "parse error\n");
	} else if (!ctxt->nsWellFormed) {
		/* an unbound prefix, an attribute twice under two prefixes:
		 * libxml2 builds a tree anyway; signatures and c14n over it
		 * would be guesswork */
		xe = xmlCtxtGetLastError(ctxt);
		e = envelope_refuse(reason, reasonlen, KP_INVALID_MESSAGE,
		    "not namespace-well-formed XML: line %d: %s",
		    xe ? xe->line : 0, xe && xe->message ? xe->message :
		    "namespace error\n");
	} else if (doc->intSubset != NULL || doc->extSubset != NULL)
		e = envelope_refuse(reason, reasonlen, KP_INVALID_MESSAGE,
		    "a DOCTYPE is not allowed in a SOAP message");
	if (e != KP_OK) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	xmlFreeParserCtxt(ctxt);
	*docp = doc;
	return e;
}

/* ------------------------------------------------------------------ */
/* Structure                                                           */
/* ------------------------------------------------------------------ */

/* True when node is an element with that namespace and local name. */
int
envelope_is(xmlNodePtr n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    strcmp((const char *)n->name, name) == 0 &&
	    strcmp((const char *)n->ns->href, ns) == 0;
}

/* The first element among n and its following siblings. */
static xmlNodePtr
element_from(xmlNodePtr n)
{
	while (n != NULL && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

/* The first child element of parent, or NULL. */
xmlNodePtr
envelope_first_element(xmlNodePtr parent)
{
	return parent == NULL ? NULL : element_from(parent->children);
}

/* The next sibling element of n, or NULL. */
xmlNodePtr
envelope_next_element(xmlNodePtr n)
{
	return n == NULL ? NULL : element_from(n->next);
}

/* True when the Envelope's direct children are only elements, blanks and comments. */
static int
only_blank_text(xmlNodePtr parent)
{
	xmlNodePtr	n;

	for (n = parent->children; n != NULL; n = n->next) {
		if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE)
		    && !xmlIsBlankNode(n))
			return 0;
		if (n->type == XML_PI_NODE)
			return 0;
	}
	return 1;
}

/* Check Envelope, Header?, Body and fill env. */
static enum kp_error
check_structure(struct envelope *env, char *reason, size_t reasonlen)
{
	xmlNodePtr	root = xmlDocGetRootElement(env->doc), n;

	if (root == NULL || root->ns == NULL ||
	    strcmp((const char *)root->name, "Envelope") != 0)
		return envelope_refuse(reason, reasonlen, KP_INVALID_MESSAGE,
		    "the root element is not a SOAP Envelope");
	if (strcmp((const char *)root->ns->href, ENVELOPE_NS_SOAP11) == 0)
		env->soap_version = 11;
	else if (strcmp((const char *)root->ns->href, ENVELOPE_NS_SOAP12) == 0)
		env->soap_version = 12;
	else
		return envelope_refuse(reason, reasonlen, KP_INVALID_MESSAGE,
		    "the Envelope is in an unknown namespace");
	env->soap_ns = (const char *)root->ns->href;
	env->root = root;
	if (!only_blank_text(root))
		return envelope_refuse(reason, reasonlen, KP_INVALID_MESSAGE,
		    "the Envelope holds text or processing instructions");
	n = envelope_first_element(root);
	if (envelope_is(n, env->soap_ns, "Header")) {
		env->header = n;
		n = envelope_next_element(n);
	}
	if (!envelope_is(n, env->soap_ns, "Body"))
		return envelope_refuse(reason, reasonlen, KP_INVALID_MESSAGE,
		    "the Envelope must hold an optional Header, then a Body");
	env->body = n;
	if (envelope_next_element(n) != NULL)
		return envelope_refuse(reason, reasonlen, KP_INVALID_MESSAGE,
		    "an element follows the SOAP Body");
	env->payload = envelope_first_element(n);
	return KP_OK;
}

/* Parse and check buf; on success *out holds the envelope. */
enum kp_error
envelope_parse(const char *buf, size_t len, const struct envelope_limits *l,
    struct envelope **out, char *reason, size_t reasonlen)
{
	struct envelope	*env = NULL;
	xmlDocPtr	 doc = NULL;
	enum kp_error	 e;

	*out = NULL;
	if (len > l->max_size || len > INT_MAX)
		return envelope_refuse(reason, reasonlen, KP_INVALID_MESSAGE,
		    "the message is %zu bytes, more than the limit of %zu",
		    len, l->max_size);
	if ((e = prescan(buf, len, l->max_attributes, reason, reasonlen)) != KP_OK)
		goto cleanup;
	if ((e = parse_tree(buf, len, l, &doc, reason, reasonlen)) != KP_OK)
		goto cleanup;
	env = xcalloc(1, sizeof(*env));
	env->doc = doc;
	doc = NULL;
	if ((e = check_structure(env, reason, reasonlen)) != KP_OK)
		goto cleanup;
	*out = env;
	env = NULL;
cleanup:
	envelope_free(env);
	xmlFreeDoc(doc);
	return e;
}

/* Check a tree built elsewhere (a message to sign); doc stays the caller's. */
enum kp_error
envelope_from_doc(xmlDocPtr doc, struct envelope **out, char *reason,
    size_t reasonlen)
{
	struct envelope	*env;
	enum kp_error	 e;

	*out = NULL;
	env = xcalloc(1, sizeof(*env));
	env->doc = doc;
	if ((e = check_structure(env, reason, reasonlen)) != KP_OK) {
		free(env);
		return e;
	}
	env->doc_borrowed = 1;
	*out = env;
	return KP_OK;
}

/* Free an envelope and, unless borrowed, its document. */
void
envelope_free(struct envelope *env)
{
	if (env == NULL)
		return;
	if (!env->doc_borrowed)
		xmlFreeDoc(env->doc);
	free(env);
}

/*
 * kruispunt - serialising a libxml2 document into one buffer, fast.
 *
 * Every message the hub sends is a tree it built or copied, written out
 * once. libxml2's xmlDocDumpMemoryEnc() writes each name, quote and value
 * through its output-buffer layer (a strlen and an encoding check per
 * piece); for a 4 KB envelope that costs about as much as the ECDSA
 * signature on it. xmlout_doc() walks the tree once and copies the pieces
 * into a growing buffer, producing the same bytes as xmlDocDumpMemoryEnc(doc,
 * ..., "UTF-8") without formatting (tests/check_xmlout.c compares the two on
 * every message shape the hub handles): the XML declaration, elements with
 * their namespace declarations and attributes in tree order, empty elements
 * as <a/>, text with & < > and CR escaped, attribute values with & < > " TAB
 * LF CR escaped, comments, processing instructions and CDATA sections as
 * they are, a newline after each top-level node.
 *
 * Whatever it does not write exactly like libxml2 - a DTD, an entity
 * declaration, XInclude markers, a CDATA section holding "]]>", a namespace
 * name that would need escaping - makes it return -1 so that the caller
 * falls back to libxml2; no document the hub builds has any of them.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parserInternals.h>	/* xmlStringTextNoenc */

#include "xmalloc.h"
#include "xmlout.h"

struct out {
	char	*p;
	size_t	 len, cap;
};

/* Room for n more bytes. */
static inline void
reserve(struct out *o, size_t n)
{
	if (o->len + n <= o->cap)
		return;
	while (o->len + n > o->cap)
		o->cap *= 2;
	o->p = xreallocarray(o->p, o->cap, 1);
}

static inline void
put(struct out *o, const void *s, size_t n)
{
	reserve(o, n);
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

/* One byte, the most common piece (< > " =). */
static inline void
put1(struct out *o, char c)
{
	reserve(o, 1);
	o->p[o->len++] = c;
}

static inline void
puts_(struct out *o, const xmlChar *s)
{
	put(o, s, strlen((const char *)s));
}

/* What a byte becomes in text (1) and in an attribute value (2): nonzero
 * for the bytes that need escaping, and NUL, which ends the string. */
static const unsigned char special[256] = {
	['\0'] = 3, ['&'] = 3, ['<'] = 3, ['>'] = 3, ['\r'] = 3,
	['"'] = 2, ['\t'] = 2, ['\n'] = 2,
};

/*
 * s escaped: & < > and CR always, and for an attribute value also " TAB LF
 * (the characters libxml2 escapes, with its spelling of them). Runs of
 * characters that need nothing are found by table and copied in one piece.
 */
static void
escaped(struct out *o, const xmlChar *s, int attr)
{
	const unsigned char	 mask = attr ? 3 : 1;
	const xmlChar		*run;
	const char		*rep;

	for (;;) {
		for (run = s; !(special[*s] & mask); s++)
			;
		put(o, run, (size_t)(s - run));
		switch (*s) {
		case '\0':	return;
		case '&':	rep = "&amp;"; break;
		case '<':	rep = "&lt;"; break;
		case '>':	rep = "&gt;"; break;
		case '\r':	rep = "&#13;"; break;
		case '"':	rep = "&quot;"; break;
		case '\t':	rep = "&#9;"; break;
		default:	rep = "&#10;"; break;	/* '\n' */
		}
		puts_(o, (const xmlChar *)rep);
		s++;
	}
}

/* prefix:name, or name. */
static void
qname(struct out *o, const xmlNs *ns, const xmlChar *name)
{
	if (ns != NULL && ns->prefix != NULL) {
		puts_(o, ns->prefix);
		put1(o, ':');
	}
	puts_(o, name);
}

/* The namespace declarations of an element; -1 for one libxml2 would
 * quote differently. */
static int
ns_decls(struct out *o, const xmlNs *ns)
{
	for (; ns != NULL; ns = ns->next) {
		if (ns->type != XML_LOCAL_NAMESPACE || ns->href == NULL ||
		    (ns->prefix != NULL && xmlStrEqual(ns->prefix, BAD_CAST "xml")))
			continue;
		if (strpbrk((const char *)ns->href, "\"&<") != NULL)
			return -1;
		if (ns->prefix != NULL) {
			put(o, " xmlns:", 7);
			puts_(o, ns->prefix);
		} else
			put(o, " xmlns", 6);
		put(o, "=\"", 2);
		puts_(o, ns->href);
		put1(o, '"');
	}
	return 0;
}

/* The attributes of an element. */
static int
attributes(struct out *o, const xmlAttr *a)
{
	const xmlNode	*v;

	for (; a != NULL; a = a->next) {
		put1(o, ' ');
		qname(o, a->ns, a->name);
		put(o, "=\"", 2);
		for (v = a->children; v != NULL; v = v->next) {
			if (v->type == XML_TEXT_NODE && v->content != NULL)
				escaped(o, v->content, 1);
			else if (v->type == XML_ENTITY_REF_NODE) {
				put1(o, '&');
				puts_(o, v->name);
				put1(o, ';');
			} else if (v->type != XML_TEXT_NODE)
				return -1;
		}
		put1(o, '"');
	}
	return 0;
}

/* A node that is not an element (those are walked by subtree()). */
static int
leaf(struct out *o, const xmlNode *n)
{
	switch (n->type) {
	case XML_TEXT_NODE:
		if (n->content == NULL)
			return 0;
		if (n->name == xmlStringTextNoenc)
			puts_(o, n->content);
		else
			escaped(o, n->content, 0);
		return 0;
	case XML_CDATA_SECTION_NODE:
		if (n->content != NULL &&
		    strstr((const char *)n->content, "]]>") != NULL)
			return -1;
		put(o, "<![CDATA[", 9);
		if (n->content != NULL)
			puts_(o, n->content);
		put(o, "]]>", 3);
		return 0;
	case XML_COMMENT_NODE:
		put(o, "<!--", 4);
		if (n->content != NULL)
			puts_(o, n->content);
		put(o, "-->", 3);
		return 0;
	case XML_PI_NODE:
		put(o, "<?", 2);
		puts_(o, n->name);
		if (n->content != NULL) {
			put1(o, ' ');
			puts_(o, n->content);
		}
		put(o, "?>", 2);
		return 0;
	case XML_ENTITY_REF_NODE:
		put1(o, '&');
		puts_(o, n->name);
		put1(o, ';');
		return 0;
	default:
		return -1;
	}
}

/* A node and everything under it, without recursion. */
static int
subtree(struct out *o, const xmlNode *top)
{
	const xmlNode	*n = top;

	for (;;) {
		if (n->type == XML_ELEMENT_NODE) {
			put1(o, '<');
			qname(o, n->ns, n->name);
			if (ns_decls(o, n->nsDef) != 0 ||
			    attributes(o, n->properties) != 0)
				return -1;
			if (n->children != NULL) {
				put1(o, '>');
				n = n->children;
				continue;
			}
			put(o, "/>", 2);
		} else if (leaf(o, n) != 0)
			return -1;
		/* up until there is a next sibling, closing the elements */
		while (n != top && n->next == NULL) {
			n = n->parent;
			put(o, "</", 2);
			qname(o, n->ns, n->name);
			put1(o, '>');
		}
		if (n == top)
			return 0;
		n = n->next;
	}
}

int
xmlout_doc(xmlDocPtr doc, char **out, size_t *len)
{
	struct out	 o;
	const xmlNode	*n;

	o.cap = 8192;
	o.len = 0;
	o.p = xmalloc(o.cap);
	put(&o, "<?xml version=\"", 15);
	puts_(&o, doc->version != NULL ? doc->version : BAD_CAST "1.0");
	put(&o, "\" encoding=\"UTF-8\"", 18);
	if (doc->standalone == 0)
		put(&o, " standalone=\"no\"", 16);
	else if (doc->standalone == 1)
		put(&o, " standalone=\"yes\"", 17);
	put(&o, "?>\n", 3);
	for (n = doc->children; n != NULL; n = n->next) {
		if (subtree(&o, n) != 0) {
			free(o.p);
			return -1;
		}
		put1(&o, '\n');
	}
	reserve(&o, 1);
	o.p[o.len] = '\0';
	*out = o.p;
	*len = o.len;
	return 0;
}

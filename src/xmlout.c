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
 * xmlout_exc_c14n() writes one element's subtree as Exclusive XML
 * Canonicalization 1.0 without comments renders it, with or without an
 * InclusiveNamespaces prefix list: what every signature reference and SignedInfo of
 * the hub's messages is hashed over. libxml2's xmlC14NExecute() walks the
 * whole document and asks a callback whether each node, attribute and
 * namespace is in the node set, keeps its namespaces in lists it allocates
 * per element and writes piece by piece; it took 38 % of a signature check.
 * The rules followed (W3C Exc-C14N 1.0 and Canonical XML 1.0, as libxml2
 * applies them; tests/check_xmlout.c compares the bytes with
 * xmlC14NExecute() on the same trees):
 *   - a namespace is declared on an element that visibly utilises it (its
 *     own prefix, or an attribute's) unless the nearest output ancestor
 *     already has it in force with the same name; xmlns="" only when an
 *     element without a namespace sits under an output ancestor with a
 *     default namespace; xml: is never declared;
 *   - a prefix of the InclusiveNamespaces list ("#default" for the default
 *     namespace) is declared wherever it is in scope and its binding is not
 *     the parent's (Canonical XML's rule), utilised or not;
 *   - declarations sorted by prefix (the default first), attributes by
 *     namespace name (none first) then local name;
 *   - text: & < > CR escaped (CR as &#xD;); attribute values: & < " TAB LF
 *     CR (&#x9; &#xA; &#xD;); CDATA sections as text; comments dropped;
 *     empty elements as a start and an end tag.
 * It declines (-1, the caller uses libxml2) for a processing instruction
 * or entity reference in the subtree, anything but text in an attribute
 * value, a namespace name that is relative or needs escaping, or a tree
 * built by hand that binds one prefix twice on an element.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parserInternals.h>	/* xmlStringTextNoenc */
#include <libxml/uri.h>

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

/* Which bytes need escaping, by where they are: a bit per context below;
 * NUL, which ends the string, has them all. */
enum {
	ESC_TEXT = 1,		/* text, serialised and canonical alike */
	ESC_ATTR = 2,		/* an attribute value, serialised */
	ESC_C14N_ATTR = 4	/* an attribute value, canonical (not '>') */
};
static const unsigned char special[256] = {
	['\0'] = 7, ['&'] = 7, ['<'] = 7, ['>'] = 3, ['\r'] = 7,
	['"'] = 6, ['\t'] = 6, ['\n'] = 6,
};

/*
 * s escaped for the context mask: & < > and CR in text; & < > " TAB LF CR
 * in a serialised attribute value, with libxml2's decimal spelling of the
 * character references; & < " TAB LF CR in a canonical attribute value and
 * CR in canonical text with the hexadecimal spelling Canonical XML 1.0
 * prescribes (section 2.3). Runs of characters that need nothing are found
 * by table and copied in one piece.
 */
static void
escaped(struct out *o, const xmlChar *s, unsigned char mask, int hex)
{
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
		case '\r':	rep = hex ? "&#xD;" : "&#13;"; break;
		case '"':	rep = "&quot;"; break;
		case '\t':	rep = hex ? "&#x9;" : "&#9;"; break;
		default:	rep = hex ? "&#xA;" : "&#10;"; break;	/* '\n' */
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
				escaped(o, v->content, ESC_ATTR, 0);
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
			escaped(o, n->content, ESC_TEXT, 0);
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

/* ------------------------------------------------------------------ */
/* Exclusive XML Canonicalization 1.0 of one element's subtree          */
/* ------------------------------------------------------------------ */

/* A namespace in force for the output: declared by an output ancestor or
 * by the element being written, or visibly utilised there. */
struct nsent {
	const xmlChar	*prefix;	/* NULL: the default namespace */
	const xmlChar	*href;		/* "" for no namespace */
};

struct c14n {
	struct out	 o;
	struct nsent	*ns;		/* in force, innermost last */
	size_t		 nns, capns;
	size_t		*mark;		/* nns when each open element began */
	size_t		 capmark;
	struct nsent	*decl;		/* to be declared on this element */
	size_t		 ndecl, capdecl;
	const xmlAttr	**attr;		/* this element's, sorted */
	size_t		 capattr;
	const xmlChar	*const *incl;	/* InclusiveNamespaces prefixes */
};

static int
is_alpha(xmlChar c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A byte of a URI that can need no escaping and no parse to be known as
 * part of an absolute URI (RFC 3986 unreserved, '/' and ':'). */
static int
uri_plain(xmlChar c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("-._~/:", c) != NULL);
}

/*
 * 1 when a namespace name is one libxml2's c14n takes and writes as it is:
 * empty (only xmlns="" has that), or an absolute URI with nothing to
 * escape. libxml2 refuses a document with a relative namespace URI (its
 * test: xmlParseURI() finds a scheme) and quotes a name holding '"'
 * its own way; for those this writer declines.
 */
static int
ns_name_ok(const xmlChar *href)
{
	const xmlChar	*p = href;
	xmlURIPtr	 uri;
	int		 ok;

	if (*p == '\0')
		return 1;
	if (is_alpha(*p)) {
		for (p++; is_alpha(*p) || (*p >= '0' && *p <= '9') ||
		    *p == '+' || *p == '-' || *p == '.'; p++)
			;
		/* scheme ":" and, after "//", a host that starts plainly */
		if (*p == ':' && (p[1] != '/' || p[2] != '/' ||
		    (is_alpha(p[3]) || (p[3] >= '0' && p[3] <= '9')))) {
			const xmlChar *rest = ++p;
			int hier = rest[0] == '/' && rest[1] == '/';

			for (; uri_plain(*p) && !(hier && *p == ':'); p++)
				;
			if (*p == '\0')
				return 1;
		}
	}
	if (strpbrk((const char *)href, "\"'&<\t\n\r") != NULL)
		return 0;
	uri = xmlParseURI((const char *)href);
	ok = uri != NULL && uri->scheme != NULL && uri->scheme[0] != '\0';
	xmlFreeURI(uri);
	return ok;
}

/* Every namespace an element declares has a name c14n can write. */
static int
ns_defs_ok(const xmlNode *n)
{
	const xmlNs	*ns;

	for (ns = n->nsDef; ns != NULL; ns = ns->next)
		if (ns->href == NULL || (ns->prefix != NULL && ns->href[0] == '\0') ||
		    !ns_name_ok(ns->href))
			return 0;
	return 1;
}

static int
is_xml_ns(const xmlNs *ns)
{
	return ns->prefix != NULL && xmlStrEqual(ns->prefix, BAD_CAST "xml") &&
	    xmlStrEqual(ns->href, XML_XML_NAMESPACE);
}

/* (prefix, href) in force from the element being opened; declared there
 * when declare. */
static void
declare_push(struct c14n *c, const xmlChar *prefix, const xmlChar *href,
    int declare)
{
	if (declare) {
		if (c->ndecl == c->capdecl) {
			c->capdecl = c->capdecl ? 2 * c->capdecl : 8;
			c->decl = xreallocarray(c->decl, c->capdecl, sizeof(*c->decl));
		}
		c->decl[c->ndecl].prefix = prefix;
		c->decl[c->ndecl++].href = href;
	}
	if (c->nns == c->capns) {
		c->capns = c->capns ? 2 * c->capns : 16;
		c->ns = xreallocarray(c->ns, c->capns, sizeof(*c->ns));
	}
	c->ns[c->nns].prefix = prefix;
	c->ns[c->nns++].href = href;
}

/*
 * The element being opened visibly utilises (prefix, href): it is to be
 * declared unless an output ancestor put the same name in force (for the
 * default namespace, none in force counts as ""). Either way it is in force
 * for the subtree. first is where this element's entries begin; -1 when
 * the element binds one prefix to two names (only a tree built by hand can).
 */
static int
utilise(struct c14n *c, size_t first, const xmlChar *prefix,
    const xmlChar *href)
{
	const xmlChar	*now = NULL;
	size_t		 i;

	for (i = c->nns; i > 0; i--)
		if (xmlStrEqual(c->ns[i - 1].prefix, prefix)) {
			if (i - 1 >= first)
				return xmlStrEqual(c->ns[i - 1].href, href) ? 0 : -1;
			now = c->ns[i - 1].href;
			break;
		}
	if (now == NULL && prefix == NULL)
		now = BAD_CAST "";
	declare_push(c, prefix, href, now == NULL || !xmlStrEqual(now, href));
	return 0;
}

/*
 * A prefix of the InclusiveNamespaces list, bound to href where the element
 * being opened is: handled as Canonical XML handles namespaces (declared
 * unless the parent had the same binding), with libxml2's bookkeeping: the
 * parent's binding is looked for among the entries the parent and this
 * element pushed (from win), and an empty default namespace is compared
 * with the innermost default of all.
 */
static void
inclusive(struct c14n *c, size_t win, const xmlChar *prefix,
    const xmlChar *href)
{
	const xmlChar	*now = NULL;
	size_t		 i, from = prefix == NULL && *href == '\0' ? 0 : win;

	for (i = c->nns; i > from; i--)
		if (xmlStrEqual(c->ns[i - 1].prefix, prefix)) {
			now = c->ns[i - 1].href;
			break;
		}
	if (now == NULL && prefix == NULL && *href == '\0')
		now = href;
	declare_push(c, prefix, href, now == NULL || !xmlStrEqual(now, href));
}

/* Canonical attribute order: no namespace first, then by namespace name,
 * then by local name. 0 for two with the same expanded name, which
 * namespace well-formed XML cannot have (libxml2 orders those its own way). */
static int
attr_cmp(const xmlAttr *a, const xmlAttr *b)
{
	int	r;

	if (a->ns == NULL || b->ns == NULL) {
		if (a->ns != b->ns)
			return a->ns == NULL ? -1 : 1;
	} else if ((r = xmlStrcmp(a->ns->href, b->ns->href)) != 0)
		return r;
	return xmlStrcmp(a->name, b->name);
}

/* An attribute's value, canonical; -1 for anything but text in it. */
static int
attr_value(struct out *o, const xmlAttr *a)
{
	const xmlNode	*v;

	for (v = a->children; v != NULL; v = v->next) {
		if (v->type != XML_TEXT_NODE)
			return -1;
		if (v->content != NULL)
			escaped(o, v->content, ESC_C14N_ATTR, 1);
	}
	return 0;
}

/* The start tag of an element at depth (0: the apex); -1 to decline. */
static int
c14n_start(struct c14n *c, const xmlNode *n, size_t depth)
{
	const xmlAttr	*a, *t;
	size_t		 first = c->nns, na = 0, i, j;
	struct nsent	 d;
	int		 r = 1;

	if (depth == c->capmark) {
		c->capmark = c->capmark ? 2 * c->capmark : 16;
		c->mark = xreallocarray(c->mark, c->capmark, sizeof(*c->mark));
	}
	c->mark[depth] = first;
	c->ndecl = 0;
	if (!ns_defs_ok(n))
		return -1;
	for (i = 0; c->incl != NULL && c->incl[i] != NULL; i++) {
		const xmlChar	*p = c->incl[i];
		xmlNsPtr	 ns;

		if (*p == '\0' || xmlStrEqual(p, BAD_CAST "#default"))
			p = NULL;
		ns = xmlSearchNs(n->doc, (xmlNodePtr)n, p);
		if (ns != NULL && !is_xml_ns(ns) && ns->href != NULL)
			inclusive(c, depth > 0 ? c->mark[depth - 1] : 0, p,
			    ns->href);
	}
	if (n->ns == NULL) {
		if (utilise(c, first, NULL, BAD_CAST "") != 0)
			return -1;
	} else if (!is_xml_ns(n->ns) && (n->ns->href == NULL ||
	    utilise(c, first, n->ns->prefix, n->ns->href) != 0))
		return -1;
	for (a = n->properties; a != NULL; a = a->next) {
		if (a->ns != NULL && !is_xml_ns(a->ns) && (a->ns->prefix == NULL ||
		    a->ns->href == NULL ||
		    utilise(c, first, a->ns->prefix, a->ns->href) != 0))
			return -1;
		if (na == c->capattr) {
			c->capattr = c->capattr ? 2 * c->capattr : 16;
			c->attr = xreallocarray(c->attr, c->capattr,
			    sizeof(*c->attr));
		}
		/* insertion sort: an element has a handful */
		for (t = a, j = na++; j > 0 && (r = attr_cmp(t, c->attr[j - 1])) < 0;
		    j--)
			c->attr[j] = c->attr[j - 1];
		if (j > 0 && r == 0)
			return -1;
		c->attr[j] = t;
	}
	/* declarations by prefix, the default namespace first */
	for (i = 1; i < c->ndecl; i++) {
		d = c->decl[i];
		for (j = i; j > 0 && xmlStrcmp(d.prefix, c->decl[j - 1].prefix) < 0; j--)
			c->decl[j] = c->decl[j - 1];
		c->decl[j] = d;
	}
	put1(&c->o, '<');
	qname(&c->o, n->ns, n->name);
	for (i = 0; i < c->ndecl; i++) {
		if (c->decl[i].prefix != NULL) {
			put(&c->o, " xmlns:", 7);
			puts_(&c->o, c->decl[i].prefix);
			put(&c->o, "=\"", 2);
		} else
			put(&c->o, " xmlns=\"", 8);
		puts_(&c->o, c->decl[i].href);
		put1(&c->o, '"');
	}
	for (i = 0; i < na; i++) {
		put1(&c->o, ' ');
		qname(&c->o, c->attr[i]->ns, c->attr[i]->name);
		put(&c->o, "=\"", 2);
		if (attr_value(&c->o, c->attr[i]) != 0)
			return -1;
		put1(&c->o, '"');
	}
	put1(&c->o, '>');
	return 0;
}

static void
c14n_end(struct c14n *c, const xmlNode *n, size_t depth)
{
	put(&c->o, "</", 2);
	qname(&c->o, n->ns, n->name);
	put1(&c->o, '>');
	c->nns = c->mark[depth];
}

/* The walk of xmlout_exc_c14n(), without recursion. */
static int
c14n_subtree(struct c14n *c, const xmlNode *top)
{
	const xmlNode	*n = top, *a;
	size_t		 depth = 0;

	/* libxml2 refuses relative namespace names on the path down, too */
	for (a = top->parent; a != NULL && a->type == XML_ELEMENT_NODE;
	    a = a->parent)
		if (!ns_defs_ok(a))
			return -1;
	for (;;) {
		switch (n->type) {
		case XML_ELEMENT_NODE:
			if (c14n_start(c, n, depth) != 0)
				return -1;
			if (n->children != NULL) {
				n = n->children;
				depth++;
				continue;
			}
			c14n_end(c, n, depth);
			break;
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
			if (n->content != NULL)
				escaped(&c->o, n->content, ESC_TEXT, 1);
			break;
		case XML_COMMENT_NODE:		/* without comments */
			break;
		default:			/* PIs, entity references... */
			return -1;
		}
		while (n != top && n->next == NULL) {
			n = n->parent;
			c14n_end(c, n, --depth);
		}
		if (n == top)
			return 0;
		n = n->next;
	}
}

int
xmlout_exc_c14n(const xmlNode *top, const xmlChar *const *prefixes,
    char **out, size_t *len)
{
	struct c14n	c;
	int		r;

	memset(&c, 0, sizeof(c));
	c.incl = prefixes;
	if (top == NULL || top->type != XML_ELEMENT_NODE)
		return -1;
	c.o.cap = 8192;
	c.o.p = xmalloc(c.o.cap);
	r = c14n_subtree(&c, top);
	free(c.ns);
	free(c.mark);
	free(c.decl);
	free(c.attr);
	if (r != 0) {
		free(c.o.p);
		return -1;
	}
	*out = c.o.p;
	*len = c.o.len;
	return 0;
}
